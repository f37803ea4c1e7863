//! Optional token checks in OIDC_REQUIRED mode: before any cluster call, a
//! bearer token must be a JWT signed by a key of the issuer's JWKS, with the
//! configured issuer and audience, inside its validity window. The API
//! server still authenticates the token itself; this stops bad tokens at the
//! door and gives the caller a precise reason.
//!
//! The key set is fetched by one request at a time (concurrent tokens with
//! an unknown key id cause one fetch, not one each), and the last good set
//! stays in use while the issuer cannot be reached.

use std::time::{Duration, Instant};

use clap::Args;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use tokio::sync::{Mutex, RwLock};

use super::access::AuthnError;

/// How long a fetched key set is used before it is fetched again; an
/// unknown key id triggers an earlier refetch, at most this often.
const JWKS_TTL: Duration = Duration::from_secs(300);
const JWKS_MIN_REFETCH: Duration = Duration::from_secs(10);
const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Args)]
pub struct OidcArgs {
    /// OIDC_REQUIRED: accept only JWTs from this issuer (`iss`), checked before any cluster call.
    #[arg(
        long = "oidc-issuer",
        env = "K0RDENT_MCP_OIDC_ISSUER",
        value_name = "URL"
    )]
    pub issuer: Option<String>,
    /// With --oidc-issuer: the audience (`aud`) tokens must carry. Without it, tokens that carry any
    /// audience are refused (they were issued for some other service).
    #[arg(
        long = "oidc-audience",
        env = "K0RDENT_MCP_OIDC_AUDIENCE",
        value_name = "AUDIENCE"
    )]
    pub audience: Option<String>,
    /// With --oidc-issuer: the issuer's key set (JWKS). Default: `jwks_uri` from the issuer's
    /// /.well-known/openid-configuration. https, or http only on a loopback address.
    #[arg(
        long = "oidc-jwks-url",
        env = "K0RDENT_MCP_OIDC_JWKS_URL",
        value_name = "URL"
    )]
    pub jwks_url: Option<String>,
}

pub struct JwtCheck {
    issuer: String,
    audience: Option<String>,
    jwks_url: Option<String>,
    http: reqwest::Client,
    keys: RwLock<KeyCache>,
    /// Held while fetching: the single flight.
    fetching: Mutex<()>,
}

/// The last good key set and the last fetch attempt.
#[derive(Default)]
struct KeyCache {
    set: Option<(Instant, JwkSet)>,
    attempt: Option<(Instant, Option<String>)>,
}

/// What to do for a token whose key id is `kid`.
#[derive(Debug)]
enum Lookup {
    Use(JwkSet),
    Fail(String),
    Fetch,
}

impl KeyCache {
    /// Fetch when the set is stale or lacks `kid`, but not again within
    /// JWKS_MIN_REFETCH of the last attempt, failed or not: an issuer that is
    /// down, or a token with a made-up key id, must not cause a fetch per call.
    fn lookup(&self, kid: Option<&str>, now: Instant) -> Lookup {
        let recent_attempt = self
            .attempt
            .as_ref()
            .filter(|(at, _)| now.duration_since(*at) < JWKS_MIN_REFETCH);
        match (&self.set, recent_attempt) {
            (Some((fetched, set)), recent) => {
                let fresh = now.duration_since(*fetched) < JWKS_TTL;
                let knows = kid.is_none_or(|k| set.find(k).is_some());
                if (fresh && knows) || recent.is_some() {
                    Lookup::Use(set.clone())
                } else {
                    Lookup::Fetch
                }
            }
            (None, Some((_, Some(error)))) => Lookup::Fail(error.clone()),
            (None, _) => Lookup::Fetch,
        }
    }
}

fn check_url(what: &str, url: &str) -> anyhow::Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("{what} {url:?} is not a URL: {e}"))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => anyhow::bail!("{what} {url:?} must be https (http only on a loopback address)"),
    }
}

impl JwtCheck {
    pub fn from_args(args: &OidcArgs) -> anyhow::Result<Option<Self>> {
        let Some(issuer) = args.issuer.as_ref().filter(|i| !i.is_empty()) else {
            if args.audience.is_some() || args.jwks_url.is_some() {
                tracing::warn!(
                    "--oidc-audience/--oidc-jwks-url are set but --oidc-issuer is not: tokens are not \
                     checked here (the API server still authenticates every call); set --oidc-issuer to check them"
                );
            }
            return Ok(None);
        };
        if args.audience.is_none() {
            tracing::warn!(
                "--oidc-issuer without --oidc-audience: tokens that carry an audience (aud) are refused; \
                 set --oidc-audience to the audience your identity provider issues for k0rdent-mcp"
            );
        }
        if let Some(url) = &args.jwks_url {
            check_url("--oidc-jwks-url", url)?;
        } else {
            check_url("--oidc-issuer", issuer)?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Some(JwtCheck {
            issuer: issuer.clone(),
            audience: args.audience.clone(),
            jwks_url: args.jwks_url.clone(),
            http,
            keys: RwLock::new(KeyCache::default()),
            fetching: Mutex::new(()),
        }))
    }

    async fn fetch_json(&self, url: &str) -> Result<serde_json::Value, String> {
        let fail = |e: String| format!("cannot read {url}: {e}");
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        let bytes = response.bytes().await.map_err(|e| fail(e.to_string()))?;
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(fail(format!("larger than {MAX_JWKS_BYTES} bytes")));
        }
        serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))
    }

    async fn fetch_keys(&self) -> Result<JwkSet, String> {
        let url = match &self.jwks_url {
            Some(url) => url.clone(),
            None => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let doc = self.fetch_json(&discovery).await?;
                let uri = doc["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| format!("{discovery} has no jwks_uri"))?
                    .to_string();
                check_url("jwks_uri", &uri).map_err(|e| e.to_string())?;
                uri
            }
        };
        serde_json::from_value(self.fetch_json(&url).await?)
            .map_err(|e| format!("{url} is not a JWK set: {e}"))
    }

    /// The key set, refetched when stale or when `kid` is unknown.
    async fn keys_for(&self, kid: Option<&str>) -> Result<JwkSet, String> {
        match self.keys.read().await.lookup(kid, Instant::now()) {
            Lookup::Use(set) => return Ok(set),
            Lookup::Fail(error) => return Err(error),
            Lookup::Fetch => {}
        }
        let _single_flight = self.fetching.lock().await;
        // Whoever held the lock may have just fetched what this call needs.
        match self.keys.read().await.lookup(kid, Instant::now()) {
            Lookup::Use(set) => return Ok(set),
            Lookup::Fail(error) => return Err(error),
            Lookup::Fetch => {}
        }
        let fetched = self.fetch_keys().await;
        let mut cache = self.keys.write().await;
        let now = Instant::now();
        match fetched {
            Ok(set) => {
                cache.set = Some((now, set.clone()));
                cache.attempt = Some((now, None));
                Ok(set)
            }
            Err(error) => {
                cache.attempt = Some((now, Some(error.clone())));
                match &cache.set {
                    Some((_, last_good)) => {
                        tracing::warn!(%error, "cannot refresh the issuer's key set; using the last good one");
                        Ok(last_good.clone())
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// Ok when the token passes every check; else why not.
    pub async fn verify(&self, token: &str) -> Result<(), AuthnError> {
        let rejected = AuthnError::Rejected;
        let header = decode_header(token)
            .map_err(|e| rejected(format!("the bearer token is not a JWT ({e})")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(rejected(format!(
                "the token is signed with {:?}; only asymmetric algorithms are accepted",
                header.alg
            )));
        }
        let keys = self
            .keys_for(header.kid.as_deref())
            .await
            .map_err(|e| AuthnError::Unavailable(format!("cannot check the token: {e}")))?;
        let jwk = match header.kid.as_deref() {
            Some(kid) => keys.find(kid),
            None => keys.keys.first(),
        }
        .ok_or_else(|| {
            rejected("the token's signing key (kid) is not in the issuer's key set".to_string())
        })?;
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| rejected(format!("unusable key in the JWKS: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.validate_nbf = true;
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        validation.leeway = 30;
        let claims = decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| rejected(format!("the token was rejected: {e}")))?
            .claims;
        if self.audience.is_none() && has_audience(&claims["aud"]) {
            return Err(rejected(
                "the token names an audience (aud), but this server has no --oidc-audience, so it \
                 cannot tell a token meant for it from one meant for another service; fix: the \
                 operator sets --oidc-audience to the audience issued for k0rdent-mcp"
                    .to_string(),
            ));
        }
        Ok(())
    }
}

fn has_audience(aud: &serde_json::Value) -> bool {
    match aud {
        serde_json::Value::Null => false,
        serde_json::Value::Array(list) => !list.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(kid: &str) -> JwkSet {
        serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
        ]}))
        .unwrap()
    }

    #[test]
    fn unknown_key_ids_refetch_at_most_every_few_seconds() {
        let start = Instant::now();
        let mut cache = KeyCache::default();
        assert!(matches!(cache.lookup(Some("a"), start), Lookup::Fetch));
        cache.set = Some((start, set("a")));
        cache.attempt = Some((start, None));
        assert!(matches!(cache.lookup(Some("a"), start), Lookup::Use(_)));
        // An unknown kid right after a fetch: no second fetch.
        assert!(matches!(cache.lookup(Some("b"), start), Lookup::Use(_)));
        let later = start + JWKS_MIN_REFETCH;
        assert!(matches!(cache.lookup(Some("b"), later), Lookup::Fetch));
        assert!(matches!(cache.lookup(Some("a"), later), Lookup::Use(_)));
        assert!(matches!(
            cache.lookup(Some("a"), start + JWKS_TTL),
            Lookup::Fetch
        ));
    }

    #[test]
    fn the_last_good_set_outlives_an_issuer_outage() {
        let start = Instant::now();
        let stale = start + JWKS_TTL + JWKS_MIN_REFETCH;
        let mut cache = KeyCache {
            set: Some((start, set("a"))),
            attempt: Some((stale, Some("connection refused".into()))),
        };
        // Stale, but the fetch just failed: keep using the last good set.
        assert!(matches!(cache.lookup(Some("a"), stale), Lookup::Use(_)));
        assert!(matches!(
            cache.lookup(Some("a"), stale + JWKS_MIN_REFETCH),
            Lookup::Fetch
        ));
        // Never fetched successfully: the failure is the answer until the next attempt.
        cache.set = None;
        assert!(
            matches!(cache.lookup(Some("a"), stale), Lookup::Fail(e) if e == "connection refused")
        );
        assert!(has_audience(&serde_json::json!("x")));
        assert!(has_audience(&serde_json::json!(["x"])));
        assert!(!has_audience(&serde_json::json!([])));
        assert!(!has_audience(&serde_json::Value::Null));
    }
}
