//! A client for any OAuth 2.0 server's client-credentials grant (RFC 6749 §4.4).

use super::{bad, check_options, client_methods, engine_settings, optional, required, url, words};
use super::{Engine, Options};
use crate::core::appdynamics::Mode;
use crate::core::config::{AuthMethod, Config, Vendor};
use crate::core::{Error, Secret};

/// How an [`OAuthClient`] is set up.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    /// The server's token endpoint.
    pub token_url: String,
    /// The client's id.
    pub client_id: String,
    /// The client's secret.
    pub client_secret: Secret,
    /// Scopes, sent space-separated.
    pub scope: Vec<String>,
    /// RFC 8707 resource indicators, one `resource` parameter each.
    pub resource: Vec<String>,
    /// `audience` parameters, one each.
    pub audience: Vec<String>,
    /// Default `Basic` (RFC 6749 §2.3.1 encoding).
    pub auth_method: AuthMethod,
    /// The origin `fetch` calls go to.
    pub base_url: Option<String>,
    /// More form parameters for the token request.
    pub extra_params: Vec<(String, String)>,
    /// The options every client has.
    pub options: Options,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            token_url: String::new(),
            client_id: String::new(),
            client_secret: Secret::default(),
            scope: Vec::new(),
            resource: Vec::new(),
            audience: Vec::new(),
            auth_method: AuthMethod::Basic,
            base_url: None,
            extra_params: Vec::new(),
            options: Options::default(),
        }
    }
}

/// A client of any OAuth 2.0 server.
///
/// ```no_run
/// # async fn run() -> Result<(), apm_oauth::Error> {
/// use apm_oauth::{OAuthClient, OAuthConfig};
/// let client = OAuthClient::new(OAuthConfig {
///     token_url: "https://idp.example.com/oauth2/token".into(),
///     client_id: "my-client".into(),
///     client_secret: "secret".into(),
///     base_url: Some("https://api.example.com".into()),
///     ..Default::default()
/// })?;
/// let token = client.token().await?;
/// println!("expires at {}", token.expires_at);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct OAuthClient {
    pub(crate) engine: Engine,
}

const CLASS: &str = "OAuthClient";

impl OAuthClient {
    /// Checks the configuration; makes no request.
    pub fn new(config: OAuthConfig) -> Result<Self, Error> {
        let o = config.options;
        check_options(CLASS, &o)?;
        let token = url(
            "tokenUrl",
            &required(CLASS, "tokenUrl", &config.token_url)?,
            &o,
        )?;
        let client_id = required(CLASS, "clientId", &config.client_id)?;
        let secret = required(CLASS, "clientSecret", config.client_secret.expose())?;
        let api = match optional(&config.base_url) {
            Some(b) => Some(url("baseUrl", &b, &o)?.origin),
            None => None,
        };
        let mut params = Vec::new();
        if let Some(scope) = words(&config.scope) {
            params.push(("scope".to_string(), scope));
        }
        for (name, list) in [
            ("resource", &config.resource),
            ("audience", &config.audience),
        ] {
            for v in list.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
                params.push((name.to_string(), v.to_string()));
            }
        }
        for (k, v) in config.extra_params {
            if matches!(k.as_str(), "grant_type" | "client_id" | "client_secret") {
                return Err(bad(
                    CLASS,
                    "extraParams",
                    "must not set grant_type, client_id or client_secret",
                ));
            }
            params.push((k, v));
        }
        let core = Config {
            vendor: Vendor::Generic,
            client_id,
            secret: Some(Secret::new(secret)),
            params,
            auth: config.auth_method,
            appd: Mode::default(),
        };
        let settings = engine_settings(CLASS, Vendor::Generic, core, &token, api, o);
        Ok(OAuthClient {
            engine: Engine::new(settings),
        })
    }

    pub(crate) fn api_url(&self, path_or_url: &str) -> Result<String, Error> {
        super::api_url(&self.engine, path_or_url)
    }
}

client_methods!(OAuthClient);
