//! `.Files` (Helm's `engine/files.go`) and the methods/fields of the other
//! struct-like objects templates can reach (`.Capabilities.KubeVersion`,
//! `.Capabilities.APIVersions`).

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::funcs::{FuncDef, Param, fixed};
use crate::value::{Map, Object, Value};

/// Non-template chart files by path relative to the chart root.
#[derive(Debug, Default, Clone)]
pub struct Files(BTreeMap<String, Vec<u8>>);

impl Files {
    pub fn new(files: BTreeMap<String, Vec<u8>>) -> Files {
        Files(files)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Vec<u8>> {
        self.0.get(name)
    }

    fn glob(&self, pattern: &str) -> Files {
        Files(
            self.0
                .iter()
                .filter(|(name, _)| glob_match(pattern.as_bytes(), name.as_bytes()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// `AsConfig`/`AsSecrets`: base names to contents, as YAML.
    fn as_yaml_map(&self, encode: impl Fn(&[u8]) -> String) -> String {
        // Helm's files map is never nil, so an empty selection renders `{}`.
        let m: Map = self
            .0
            .iter()
            .map(|(k, v)| (crate::funcs::paths::base(k), Value::string(encode(v))))
            .collect();
        crate::yaml::to_yaml(&Value::map(m))
            .trim_end_matches('\n')
            .to_string()
    }
}

/// gobwas/glob with `/` as separator: `*` and `?` stay within a path
/// segment, `**` crosses segments, `[...]`/`[!...]` classes, `{a,b}` choices.
pub fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => {
            (0..=s.len()).any(|i| glob_match(&p[2..], &s[i..]))
        }
        Some(b'*') => {
            let mut i = 0;
            loop {
                if glob_match(&p[1..], &s[i..]) {
                    return true;
                }
                if i >= s.len() || s[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        Some(b'?') => !s.is_empty() && s[0] != b'/' && glob_match(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(end) = p.iter().position(|c| *c == b']') else {
                return false;
            };
            if s.is_empty() {
                return false;
            }
            let class = &p[1..end];
            let (neg, class) = match class.first() {
                Some(b'!') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= (class[i]..=class[i + 2]).contains(&s[0]);
                    i += 3;
                } else {
                    hit |= class[i] == s[0];
                    i += 1;
                }
            }
            hit != neg && glob_match(&p[end + 1..], &s[1..])
        }
        Some(b'{') => {
            let Some(end) = p.iter().position(|c| *c == b'}') else {
                return false;
            };
            p[1..end].split(|c| *c == b',').any(|alt| {
                let mut joined = alt.to_vec();
                joined.extend_from_slice(&p[end + 1..]);
                glob_match(&joined, s)
            })
        }
        Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && glob_match(&p[2..], &s[1..]),
        Some(c) => s.first() == Some(c) && glob_match(&p[1..], &s[1..]),
    }
}

fn receiver_files(a: &[Value]) -> Option<&Files> {
    match a.first() {
        Some(Value::Object(o)) => match &**o {
            Object::Files(f) => Some(f),
            _ => None,
        },
        _ => None,
    }
}

/// Method `name` of object `o`. The executor passes the receiver as the
/// first argument, followed by the declared parameters.
pub fn object_method(o: &Object, name: &str) -> Option<FuncDef> {
    Some(match (o, name) {
        (Object::Files(_), "Get") => fixed(&[Param::Str], |a| {
            let data = receiver_files(a)
                .and_then(|f| f.get(crate::funcs::arg(a, 1).as_str().unwrap_or("")))
                .cloned()
                .unwrap_or_default();
            Ok(Value::string(String::from_utf8_lossy(&data).into_owned()))
        }),
        (Object::Files(_), "GetBytes") => fixed(&[Param::Str], |a| {
            let data = receiver_files(a)
                .and_then(|f| f.get(crate::funcs::arg(a, 1).as_str().unwrap_or("")))
                .cloned()
                .unwrap_or_default();
            Ok(Value::list(
                data.into_iter().map(|b| Value::Int(i64::from(b))).collect(),
            ))
        }),
        (Object::Files(_), "Glob") => fixed(&[Param::Str], |a| {
            let files = receiver_files(a)
                .map(|f| f.glob(crate::funcs::arg(a, 1).as_str().unwrap_or("")))
                .unwrap_or_default();
            Ok(Value::Object(Rc::new(Object::Files(files))))
        }),
        (Object::Files(_), "Lines") => fixed(&[Param::Str], |a| {
            let Some(data) = receiver_files(a)
                .and_then(|f| f.get(crate::funcs::arg(a, 1).as_str().unwrap_or("")))
            else {
                return Ok(Value::list(Vec::new()));
            };
            let text = String::from_utf8_lossy(data);
            let text = text.strip_suffix('\n').unwrap_or(&text);
            Ok(Value::list(text.split('\n').map(Value::str).collect()))
        }),
        (Object::Files(_), "AsConfig") => fixed(&[], |a| {
            Ok(Value::string(
                receiver_files(a)
                    .map(|f| f.as_yaml_map(|d| String::from_utf8_lossy(d).into_owned()))
                    .unwrap_or_default(),
            ))
        }),
        (Object::Files(_), "AsSecrets") => fixed(&[], |a| {
            Ok(Value::string(
                receiver_files(a)
                    .map(|f| f.as_yaml_map(crate::funcs::encoding::base64_encode))
                    .unwrap_or_default(),
            ))
        }),
        (Object::KubeVersion { .. }, "String") => {
            fixed(&[], |a| Ok(Value::string(a[0].to_go_string())))
        }
        (Object::KubeVersion { .. }, "GitVersion") => fixed(&[], |a| {
            Ok(a[0].to_plain().map_get("Version").unwrap_or_default())
        }),
        (Object::VersionSet(_), "Has") => fixed(&[Param::Str], |a| {
            let want = crate::funcs::arg(a, 1);
            let has = match a.first() {
                Some(Value::Object(o)) => {
                    matches!(&**o, Object::VersionSet(v) if v.iter().any(|x| Some(x.as_str()) == want.as_str()))
                }
                _ => false,
            };
            Ok(Value::Bool(has))
        }),
        _ => return None,
    })
}

/// Struct fields of object `o`.
pub fn object_field(o: &Object, name: &str) -> Option<Value> {
    match (o, name) {
        (Object::KubeVersion { version, .. }, "Version") => Some(Value::str(version)),
        (Object::KubeVersion { major, .. }, "Major") => Some(Value::str(major)),
        (Object::KubeVersion { minor, .. }, "Minor") => Some(Value::str(minor)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn gobwas_glob_rules() {
        assert!(glob_match(b"files/*.conf", b"files/a.conf"));
        assert!(!glob_match(b"files/*.conf", b"files/sub/a.conf"));
        assert!(glob_match(b"files/**", b"files/sub/a.conf"));
        assert!(glob_match(b"**.yaml", b"a/b/c.yaml"));
        assert!(glob_match(b"file?.[ab]", b"file1.a"));
        assert!(glob_match(b"{a,b}/*", b"b/x"));
    }
}
