//! `semver` and `semverCompare` with Masterminds/semver v3 rules: lenient
//! versions (`v1.2`), `,`/space = AND, `||` = OR, operators `= != > >= < <= ~ ^`,
//! `x`/`*` wildcards, hyphen ranges, and "a constraint without a prerelease
//! never matches a prerelease version" (hence Helm's `>=1.19-0` idiom).

use std::cmp::Ordering;

use super::{FuncDef, Param::*, fixed, s};
use crate::value::{Map, Value};

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "semver" => fixed(&[Str], |a| {
            let v = Version::parse(s(a, 0)).ok_or("invalid semantic version")?;
            let mut m = Map::new();
            m.insert("Major".into(), Value::Int(v.major as i64));
            m.insert("Minor".into(), Value::Int(v.minor as i64));
            m.insert("Patch".into(), Value::Int(v.patch as i64));
            m.insert("Prerelease".into(), Value::string(v.pre.clone()));
            m.insert("Metadata".into(), Value::string(v.meta.clone()));
            m.insert("Original".into(), Value::str(s(a, 0)));
            Ok(Value::map(m))
        }),
        "semverCompare" => fixed(&[Str, Str], |a| {
            let constraint = parse_constraints(s(a, 0))
                .ok_or_else(|| format!("improper constraint: {}", s(a, 0)))?;
            let v = Version::parse(s(a, 1)).ok_or("invalid semantic version")?;
            Ok(Value::Bool(
                constraint
                    .iter()
                    .any(|group| group.iter().all(|c| c.check(&v))),
            ))
        }),
        _ => return None,
    })
}

#[derive(Clone, Debug, Default)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    meta: String,
}

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let t = text.strip_prefix('v').unwrap_or(text);
        let (t, meta) = t.split_once('+').map_or((t, ""), |(a, b)| (a, b));
        let (core, pre) = t.split_once('-').map_or((t, ""), |(a, b)| (a, b));
        let nums: Vec<&str> = core.split('.').collect();
        if nums.is_empty()
            || nums.len() > 3
            || nums
                .iter()
                .any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let n = |i: usize| nums.get(i).map_or(Some(0), |x| x.parse().ok());
        Some(Version {
            major: n(0)?,
            minor: n(1)?,
            patch: n(2)?,
            pre: pre.to_string(),
            meta: meta.to_string(),
        })
    }

    fn cmp(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

#[derive(Debug)]
struct Constraint {
    op: String,
    con: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_constraint(text: &str) -> Option<Constraint> {
    let text = text.trim();
    let op_len = text
        .find(|c: char| c.is_ascii_alphanumeric() || c == '*')
        .unwrap_or(text.len());
    let op = text[..op_len].trim().to_string();
    let ver = text[op_len..].trim();
    let ver = ver.strip_prefix('v').unwrap_or(ver);
    let (core, rest) = match ver.find(['-', '+']) {
        Some(i) => (&ver[..i], &ver[i..]),
        None => (ver, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let (mut minor_dirty, mut patch_dirty) = (false, false);
    let mut nums = [0u64; 3];
    for i in 0..3 {
        match parts.get(i) {
            None => {
                if i == 1 {
                    minor_dirty = true;
                }
                patch_dirty = true;
            }
            Some(p) if is_x(p) => {
                if i <= 1 {
                    minor_dirty = true;
                }
                patch_dirty = true;
                if i == 0 {
                    nums = [0, 0, 0];
                    break;
                }
            }
            Some(p) => nums[i] = p.parse().ok()?,
        }
        if i == 0 && parts.first().is_some_and(|p| is_x(p)) {
            break;
        }
    }
    let con = Version::parse(&format!("{}.{}.{}{}", nums[0], nums[1], nums[2], rest))?;
    let op = match op.as_str() {
        "" | "=" => "=".to_string(),
        "=>" => ">=".to_string(),
        "=<" => "<=".to_string(),
        "~>" => "~".to_string(),
        o @ (">" | ">=" | "<" | "<=" | "!=" | "~" | "^") => o.to_string(),
        _ => return None,
    };
    Some(Constraint {
        op,
        con,
        minor_dirty,
        patch_dirty,
        dirty: minor_dirty || patch_dirty,
    })
}

fn parse_constraints(text: &str) -> Option<Vec<Vec<Constraint>>> {
    let mut groups = Vec::new();
    for group in text.split("||") {
        let mut cs = Vec::new();
        // Hyphen ranges: "1.2 - 1.4.5" => ">= 1.2, <= 1.4.5".
        let normalized = group.replace(" - ", " HYPHEN ");
        let tokens: Vec<String> = normalized
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        let mut i = 0;
        while i < tokens.len() {
            let mut tok = tokens[i].clone();
            // An operator separated from its version by spaces: "> 1.2".
            if tok.chars().all(|c| "<>=!~^".contains(c)) && i + 1 < tokens.len() {
                i += 1;
                tok.push_str(&tokens[i]);
            }
            if tokens.get(i + 1).map(String::as_str) == Some("HYPHEN") && i + 2 < tokens.len() {
                cs.push(parse_constraint(&format!(">={tok}"))?);
                cs.push(parse_constraint(&format!("<={}", tokens[i + 2]))?);
                i += 3;
                continue;
            }
            cs.push(parse_constraint(&tok)?);
            i += 1;
        }
        if cs.is_empty() {
            return None;
        }
        groups.push(cs);
    }
    Some(groups)
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        // Prereleases only match constraints that mention one.
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        match self.op.as_str() {
            "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.cmp(c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    v.major != c.major
                        || (!self.minor_dirty && v.minor != c.minor)
                        || (!self.patch_dirty && v.patch != c.patch)
                } else {
                    v.cmp(c) != Ordering::Equal
                }
            }
            ">" => {
                if !self.dirty {
                    v.cmp(c) == Ordering::Greater
                } else if v.major != c.major {
                    v.major > c.major
                } else if self.minor_dirty {
                    false
                } else {
                    v.minor > c.minor
                }
            }
            ">=" => v.cmp(c) != Ordering::Less,
            "<" => v.cmp(c) == Ordering::Less,
            "<=" => {
                if !self.dirty {
                    v.cmp(c) != Ordering::Greater
                } else if v.major != c.major {
                    v.major < c.major
                } else {
                    self.minor_dirty || v.minor <= c.minor
                }
            }
            "~" => self.tilde(v),
            "^" => {
                if v.cmp(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    v.major == c.major
                } else if c.minor > 0 || self.patch_dirty {
                    v.major == 0 && v.minor == c.minor
                } else {
                    v.major == 0 && v.minor == 0 && v.patch == c.patch
                }
            }
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        v.major == c.major && (self.minor_dirty || v.minor == c.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &str, v: &str) -> bool {
        let g = parse_constraints(c).unwrap();
        let v = Version::parse(v).unwrap();
        g.iter().any(|grp| grp.iter().all(|x| x.check(&v)))
    }

    #[test]
    fn masterminds_rules() {
        assert!(check(">=1.19-0", "v1.33.0"));
        assert!(check(">=1.19-0", "v1.20.0-gke.1"));
        assert!(!check(">=1.19", "v1.20.0-gke.1"));
        assert!(check("~1.2.3", "1.2.9"));
        assert!(!check("~1.2.3", "1.3.0"));
        assert!(check("^1.2", "1.9.0"));
        assert!(check("1.2.x", "1.2.7"));
        assert!(check(">1.0, <2.0 || 3.x", "3.1.0"));
        assert!(check("1.0 - 2.0", "1.5.0"));
        assert!(!check("<1.16-0", "1.33.0"));
    }
}
