//! Which listen addresses may go with which auth mode, and which browser
//! origins /mcp answers. Checked at start-up, before plugins load, so a
//! server that would hand its identity (or its callers' tokens) to the
//! network never starts.

use std::net::SocketAddr;

use super::HttpArgs;
use crate::mcp::access::AuthMode;

/// The Host names /mcp accepts when --http-allowed-hosts is not given (rmcp's default too).
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    #[error(
        "--http {listen} listens on {addr}, which is not a loopback address, with --auth-mode DEV_ALLOW_ANY: \
         every client that can reach the port would act with this server's own cluster identity and \
         registry credentials (the Host allowlist is no access control: any client can send `Host: localhost`); \
         fix: listen on loopback (--http 127.0.0.1:{port}), or use --auth-mode OIDC_REQUIRED, or, only on a \
         network you fully trust, pass --insecure-allow-any-on-network"
    )]
    AllowAnyOnNetwork {
        listen: String,
        addr: SocketAddr,
        port: u16,
    },
    #[error(
        "--http {listen} serves plain HTTP on {addr}, which is not a loopback address, with --auth-mode \
         OIDC_REQUIRED: callers' bearer tokens would cross the network unencrypted; fix: give --tls-cert and \
         --tls-key, or pass --tls-terminated-upstream when a proxy or service mesh in front of this server \
         terminates TLS"
    )]
    PlaintextTokens { listen: String, addr: SocketAddr },
    #[error(
        "--http-allowed-origins entry {entry:?} is not an origin; fix: write scheme://host[:port] \
         (https://app.example.com, http://localhost:*), `null`, or `*` for any origin"
    )]
    BadOrigin { entry: String },
}

/// Refuses DEV_ALLOW_ANY on the network (unless asked for by name) and
/// OIDC_REQUIRED over plain HTTP on the network (unless TLS ends upstream).
pub fn check(
    args: &HttpArgs,
    listen: &str,
    addr: SocketAddr,
    mode: AuthMode,
) -> Result<(), ExposureError> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    match mode {
        AuthMode::DevAllowAny if !args.insecure_allow_any_on_network => {
            Err(ExposureError::AllowAnyOnNetwork {
                listen: listen.to_string(),
                addr,
                port: addr.port(),
            })
        }
        AuthMode::DevAllowAny => {
            tracing::warn!(
                "INSECURE: --insecure-allow-any-on-network: DEV_ALLOW_ANY on {addr}; every client that reaches \
                 this port acts with the server's own cluster identity and registry credentials"
            );
            Ok(())
        }
        AuthMode::OidcRequired if args.tls().is_none() && !args.tls_terminated_upstream => {
            Err(ExposureError::PlaintextTokens {
                listen: listen.to_string(),
                addr,
            })
        }
        AuthMode::OidcRequired => Ok(()),
    }
}

/// Which `Origin` headers /mcp accepts; requests without one always pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    Any,
    /// Exactly these (rmcp's syntax); empty refuses every present `Origin`.
    Only(Vec<String>),
}

/// --http-allowed-origins as given, else the http and https origins of the
/// allowed hosts (any port when the host entry names none), so a browser
/// client on localhost keeps working. With `--http-allowed-hosts *` there is
/// no host to derive from: browsers are refused until origins are named.
pub fn origins(
    allowed_hosts: &[String],
    allowed_origins: &[String],
) -> Result<Origins, ExposureError> {
    if allowed_origins.iter().any(|o| o.trim() == "*") {
        return Ok(Origins::Any);
    }
    if !allowed_origins.is_empty() {
        for entry in allowed_origins {
            if !is_origin(entry.trim()) {
                return Err(ExposureError::BadOrigin {
                    entry: entry.clone(),
                });
            }
        }
        return Ok(Origins::Only(
            allowed_origins
                .iter()
                .map(|o| o.trim().to_string())
                .collect(),
        ));
    }
    if allowed_hosts.iter().any(|h| h.trim() == "*") {
        return Ok(Origins::Only(Vec::new()));
    }
    let hosts: Vec<&str> = if allowed_hosts.is_empty() {
        LOOPBACK_HOSTS.to_vec()
    } else {
        allowed_hosts.iter().map(|h| h.trim()).collect()
    };
    Ok(Origins::Only(
        hosts
            .iter()
            .filter(|h| !h.is_empty())
            .flat_map(|host| {
                let authority = host_authority(host);
                ["http", "https"].map(|scheme| format!("{scheme}://{authority}"))
            })
            .collect(),
    ))
}

/// `host` or `host:port` as the authority of an origin: IPv6 literals in
/// brackets, and `:*` (any port) when no port is named.
fn host_authority(host: &str) -> String {
    let bracketed = if host.matches(':').count() > 1 && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    match http::uri::Authority::try_from(bracketed.as_str()) {
        Ok(a) if a.port_u16().is_some() => bracketed,
        _ => format!("{bracketed}:*"),
    }
}

fn is_origin(entry: &str) -> bool {
    if entry.eq_ignore_ascii_case("null") {
        return true;
    }
    let base = entry.strip_suffix(":*").unwrap_or(entry);
    http::Uri::try_from(base).is_ok_and(|uri| {
        uri.scheme_str().is_some()
            && uri.authority().is_some()
            && uri
                .path_and_query()
                .is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        http: HttpArgs,
    }

    fn args(flags: &[&str]) -> HttpArgs {
        let mut argv = vec!["k0rdent-mcp"];
        argv.extend_from_slice(flags);
        Cli::try_parse_from(argv).unwrap().http
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn dev_allow_any_stays_on_loopback_unless_asked_by_name() {
        let plain = args(&[]);
        assert_eq!(
            check(
                &plain,
                "8080",
                addr("127.0.0.1:8080"),
                AuthMode::DevAllowAny
            ),
            Ok(())
        );
        assert_eq!(
            check(&plain, "[::1]:1", addr("[::1]:1"), AuthMode::DevAllowAny),
            Ok(())
        );
        let e = check(
            &plain,
            "0.0.0.0:8080",
            addr("0.0.0.0:8080"),
            AuthMode::DevAllowAny,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("--http 0.0.0.0:8080 listens on 0.0.0.0:8080"),
            "{text}"
        );
        assert!(text.contains("--insecure-allow-any-on-network"), "{text}");
        assert!(text.contains("127.0.0.1:8080"), "{text}");
        let insecure = args(&["--insecure-allow-any-on-network"]);
        assert_eq!(
            check(
                &insecure,
                "0.0.0.0:1",
                addr("0.0.0.0:1"),
                AuthMode::DevAllowAny
            ),
            Ok(())
        );
        let off = args(&["--insecure-allow-any-on-network=false"]);
        assert!(check(&off, "[::]:1", addr("[::]:1"), AuthMode::DevAllowAny).is_err());
    }

    #[test]
    fn oidc_on_the_network_needs_tls_here_or_upstream() {
        let plain = args(&[]);
        let e = check(
            &plain,
            "0.0.0.0:1",
            addr("0.0.0.0:1"),
            AuthMode::OidcRequired,
        )
        .unwrap_err();
        assert!(e.to_string().contains("--tls-terminated-upstream"), "{e}");
        assert_eq!(
            check(&plain, "1", addr("127.0.0.1:1"), AuthMode::OidcRequired),
            Ok(())
        );
        let upstream = args(&["--tls-terminated-upstream", "true"]);
        assert_eq!(
            check(
                &upstream,
                "0.0.0.0:1",
                addr("0.0.0.0:1"),
                AuthMode::OidcRequired
            ),
            Ok(())
        );
        let tls = args(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
        assert_eq!(
            check(&tls, "0.0.0.0:1", addr("0.0.0.0:1"), AuthMode::OidcRequired),
            Ok(())
        );
    }

    #[test]
    fn origins_default_to_those_of_the_allowed_hosts() {
        assert_eq!(
            origins(&[], &[]).unwrap(),
            Origins::Only(
                [
                    "http://localhost:*",
                    "https://localhost:*",
                    "http://127.0.0.1:*",
                    "https://127.0.0.1:*",
                    "http://[::1]:*",
                    "https://[::1]:*",
                ]
                .map(String::from)
                .to_vec()
            )
        );
        let hosts = ["mcp.example".to_string(), "mcp.example:8443".to_string()];
        assert_eq!(
            origins(&hosts, &[]).unwrap(),
            Origins::Only(
                [
                    "http://mcp.example:*",
                    "https://mcp.example:*",
                    "http://mcp.example:8443",
                    "https://mcp.example:8443",
                ]
                .map(String::from)
                .to_vec()
            )
        );
        assert_eq!(origins(&["*".into()], &[]).unwrap(), Origins::Only(vec![]));
        assert_eq!(origins(&[], &["*".into()]).unwrap(), Origins::Any);
        let given = ["https://ui.example".to_string(), "null".to_string()];
        assert_eq!(origins(&[], &given).unwrap(), Origins::Only(given.to_vec()));
        let e = origins(&[], &["ui.example".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"ui.example\"") && e.contains("scheme://host"),
            "{e}"
        );
    }
}
