//! Optional token checks in OIDC_REQUIRED mode: before any cluster call, a
//! bearer token must be a JWT signed by a key of the issuer's JWKS, with the
//! configured issuer and audience, and not expired. The API server still
//! authenticates the token itself; this stops bad tokens at the door and
//! gives the caller a precise reason.

use std::time::{Duration, Instant};

use clap::Args;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use tokio::sync::RwLock;

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
    /// With --oidc-issuer: the audience (`aud`) tokens must carry.
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
    keys: RwLock<Option<(Instant, JwkSet)>>,
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
            keys: RwLock::new(None),
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
        {
            let cached = self.keys.read().await;
            if let Some((at, set)) = cached.as_ref() {
                let knows = kid.is_none_or(|k| set.find(k).is_some());
                let fresh = at.elapsed() < JWKS_TTL;
                if fresh && (knows || at.elapsed() < JWKS_MIN_REFETCH) {
                    return Ok(set.clone());
                }
            }
        }
        let set = self.fetch_keys().await?;
        *self.keys.write().await = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    /// Ok when the token passes every check; else why not.
    pub async fn verify(&self, token: &str) -> Result<(), String> {
        let header =
            decode_header(token).map_err(|e| format!("the bearer token is not a JWT ({e})"))?;
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
            return Err(format!(
                "the token is signed with {:?}; only asymmetric algorithms are accepted",
                header.alg
            ));
        }
        let keys = self
            .keys_for(header.kid.as_deref())
            .await
            .map_err(|e| format!("cannot check the token: {e}"))?;
        let jwk = match header.kid.as_deref() {
            Some(kid) => keys.find(kid),
            None => keys.keys.first(),
        }
        .ok_or("the token's signing key (kid) is not in the issuer's key set")?;
        let key =
            DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable key in the JWKS: {e}"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        validation.leeway = 30;
        decode::<serde_json::Value>(token, &key, &validation)
            .map(|_| ())
            .map_err(|e| format!("the token was rejected: {e}"))
    }
}
