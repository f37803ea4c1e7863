//! Syntax rules for the strings kgst puts into Kubernetes objects and into the
//! verify Job's shell script. Each check returns why a string is unfit, so the
//! caller can name the value path and give a hint.

/// Kubernetes' limit for a DNS-1123 label (names of namespaces, label values,
/// and objects such as Jobs whose name becomes a label).
pub const LABEL_MAX: usize = 63;
const SUBDOMAIN_MAX: usize = 253;

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > LABEL_MAX {
        return Err(format!(
            "it is {} characters long, more than {LABEL_MAX}",
            s.len()
        ));
    }
    label_charset(s)
}

fn label_charset(s: &str) -> Result<(), String> {
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "it contains {}; only lower-case letters, digits and '-' are allowed",
            describe_char(c)
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Dot-separated DNS-1123 labels, at most 253 characters (most object names).
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > SUBDOMAIN_MAX {
        return Err(format!(
            "it is {} characters long, more than {SUBDOMAIN_MAX}",
            s.len()
        ));
    }
    for part in s.split('.') {
        if part.is_empty() {
            return Err("it has an empty part between dots".into());
        }
        label_charset(part)?;
    }
    Ok(())
}

/// A chart version as Helm accepts it (Masterminds/semver `NewVersion`):
/// optional `v`, one to three numeric parts without leading zeros, then an
/// optional `-prerelease` and `+build`. Nothing else: no spaces, quotes,
/// colons or newlines, which would also break the rendered YAML.
pub fn chart_version(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')))
    {
        return Err(format!("it contains {}", describe_char(c)));
    }
    let body = s.strip_prefix('v').unwrap_or(s);
    let (body, build) = match body.split_once('+') {
        Some((b, meta)) => (b, Some(meta)),
        None => (body, None),
    };
    let (core, pre) = match body.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (body, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || parts.iter().any(|p| !numeric_identifier(p)) {
        return Err("it is not MAJOR[.MINOR[.PATCH]] with plain numbers".into());
    }
    if let Some(pre) = pre {
        let ok = pre.split('.').all(|id| {
            !id.is_empty()
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && (!id.chars().all(|c| c.is_ascii_digit()) || numeric_identifier(id))
        });
        if !ok {
            return Err(format!("its pre-release part {pre:?} is not valid SemVer"));
        }
    }
    if let Some(build) = build
        && !build
            .split('.')
            .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(format!("its build part {build:?} is not valid SemVer"));
    }
    Ok(())
}

/// `0` or digits without a leading zero.
fn numeric_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// Characters allowed in a repository URL. It is printed unquoted into YAML and
/// inside double quotes into the verify Job's shell script, so whitespace,
/// quotes, `$`, backquotes, backslashes and braces are refused.
fn url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!&()*+,;=%".contains(c)
}

/// A Helm repository URL as Flux's HelmRepository accepts it
/// (`^(http|https|oci)://.*$`), restricted to characters that are inert in
/// both YAML and the verify Job's shell script.
pub fn repo_url(s: &str) -> Result<(), String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err("it does not start with http://, https:// or oci://".into());
    };
    if !matches!(scheme, "http" | "https" | "oci") {
        return Err(format!("its scheme {scheme:?} is not http, https or oci"));
    }
    if let Some(c) = s.chars().find(|c| !url_char(*c)) {
        return Err(format!("it contains {}", describe_char(c)));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Err("it has no host".into());
    }
    Ok(())
}

/// A container image reference (`[registry[:port]/]path[:tag][@digest]`), as the
/// verify Job's `image:` field needs it. It is printed inside double quotes, so
/// nothing outside the reference grammar may pass.
pub fn image_reference(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-/:@".contains(*c)))
    {
        return Err(format!("it contains {}", describe_char(c)));
    }
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return Err(format!("its digest {d:?} is not <algorithm>:<hex>"));
        }
    }
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return Err(format!("its tag {tag:?} is not valid"));
        }
    }
    let mut components: Vec<&str> = name.split('/').collect();
    // A first component with '.' or ':' (or `localhost`) names a registry host.
    if components.len() > 1 && (components[0].contains(['.', ':']) || components[0] == "localhost")
    {
        let host = components.remove(0);
        let (hostname, port) = host.split_once(':').unwrap_or((host, ""));
        let host_ok = !hostname.is_empty()
            && hostname
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && port.chars().all(|c| c.is_ascii_digit());
        if !host_ok {
            return Err(format!("its registry {host:?} is not a host[:port]"));
        }
    }
    for component in components {
        let ok = !component.is_empty()
            && component
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && component.starts_with(|c: char| c.is_ascii_alphanumeric())
            && component.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "its path part {component:?} must be lower-case letters, digits and separators"
            ));
        }
    }
    Ok(())
}

/// A Kubernetes duration as Flux's CRDs accept it: `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`.
pub fn flux_duration(s: &str) -> Result<(), String> {
    let mut rest = s;
    if rest.is_empty() {
        return Err("it is empty".into());
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err("it is not a duration such as 10m, 1h30m or 60s".into());
        }
        rest = &rest[digits..];
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.len() - frac.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if n == 0 {
                return Err("it is not a duration such as 10m, 1h30m or 60s".into());
            }
            rest = &frac[n..];
        }
        rest = if let Some(r) = rest.strip_prefix("ms") {
            r
        } else if let Some(r) = rest.strip_prefix(['s', 'm', 'h']) {
            r
        } else {
            return Err("it is not a duration such as 10m, 1h30m or 60s".into());
        };
    }
    Ok(())
}

/// Names a character so that invisible ones (newline, tab, space) show up.
pub fn describe_char(c: char) -> String {
    match c {
        '\n' => "a newline".into(),
        '\r' => "a carriage return".into(),
        '\t' => "a tab".into(),
        ' ' => "a space".into(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(dns1123_label("minio").is_ok());
        assert!(dns1123_label("a1-b2").is_ok());
        assert!(dns1123_label(&"a".repeat(63)).is_ok());
        assert!(
            dns1123_label(&"a".repeat(64))
                .unwrap_err()
                .contains("64 characters")
        );
        assert!(dns1123_label("MinIO").unwrap_err().contains("'M'"));
        assert!(dns1123_label("bitnami/minio").unwrap_err().contains("'/'"));
        assert!(dns1123_label(" minio ").unwrap_err().contains("a space"));
        assert!(dns1123_label("-a").is_err());
        assert!(dns1123_label("a-").is_err());
        assert!(dns1123_label("").is_err());
        assert!(dns1123_label("a.b").is_err());
    }

    #[test]
    fn subdomains() {
        assert!(dns1123_subdomain("k0rdent-catalog").is_ok());
        assert!(dns1123_subdomain("a.b-c.d").is_ok());
        assert!(dns1123_subdomain("a..b").is_err());
        assert!(
            dns1123_subdomain("a\nkind: Secret")
                .unwrap_err()
                .contains("newline")
        );
        assert!(dns1123_subdomain(&"a".repeat(254)).is_err());
    }

    #[test]
    fn chart_versions_follow_helm_semver() {
        for ok in [
            "14.1.2",
            "14",
            "1.2",
            "v1.2.3",
            "0.1.0",
            "1.0.0-rc.1",
            "1.0.0-alpha-1",
            "1.0.0+build.5",
            "v0.0.59-chart",
        ] {
            assert!(chart_version(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "1.2.3.4", "01.2.3", "1.02", "1.2.3-", "1.2.3-01", "1.2.3+", "1 .2", "1.2:3",
            "\"1.2\"", "1.2\n", "latest", "1..2",
        ] {
            assert!(chart_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn repo_urls() {
        for ok in [
            "oci://ghcr.io/k0rdent/catalog/charts",
            "https://charts.bitnami.com/bitnami",
            "http://127.0.0.1:5000/x?y=1",
        ] {
            assert!(repo_url(ok).is_ok(), "{ok}");
        }
        assert!(repo_url("ftp://x").unwrap_err().contains("scheme"));
        assert!(
            repo_url("ghcr.io/x")
                .unwrap_err()
                .contains("does not start")
        );
        assert!(repo_url("oci://").unwrap_err().contains("no host"));
        assert!(repo_url("https://x/$(reboot)").unwrap_err().contains("'$'"));
        assert!(repo_url("https://x/\"; rm").unwrap_err().contains("'\"'"));
        assert!(repo_url("https://x\n---").unwrap_err().contains("newline"));
    }

    #[test]
    fn image_references() {
        for ok in [
            "alpine/helm:3.14.0",
            "alpine",
            "registry.example.com:5000/team/helm:v3",
            "localhost/helm",
            "ghcr.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Alpine/helm",
            "alpine/helm:",
            "alpine/helm:-x",
            "a\"b",
            "alpine helm",
            "a/b@sha256:zz",
            "a//b",
            "bad host:1/x",
        ] {
            assert!(image_reference(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations() {
        for ok in ["10m", "1h30m", "60s", "500ms", "1.5h"] {
            assert!(flux_duration(ok).is_ok(), "{ok}");
        }
        for bad in ["", "10", "m", "1d", "1.h", "10 m"] {
            assert!(flux_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invisible_characters_are_named() {
        assert_eq!(describe_char('\u{7}'), "the control character U+0007");
        assert_eq!(describe_char('\t'), "a tab");
    }
}
