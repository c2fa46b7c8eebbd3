//! A client for any OAuth 2.0 server's client-credentials grant (RFC 6749 §4.4).

use super::{
    bad, check_options, client_methods, engine_settings, given, optional, required, secret_for,
    url, url_or, words,
};
use super::{Engine, Options};
use crate::core::appdynamics::Mode;
use crate::core::config::{AuthMethod, Config, Vendor};
use crate::core::{Error, Secret};

/// How an [`OAuthClient`] is set up.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    /// The server's token endpoint (optional with an `issuer`).
    pub token_url: String,
    /// The client's id.
    pub client_id: String,
    /// The client's secret (optional for a user's sign-in: a public client has none).
    pub client_secret: Secret,
    /// Scopes, sent space-separated.
    pub scope: Vec<String>,
    /// RFC 8707 resource indicators, one `resource` parameter each.
    pub resource: Vec<String>,
    /// `audience` parameters, one each.
    pub audience: Vec<String>,
    /// Default `Basic` (RFC 6749 §2.3.1 encoding).
    pub auth_method: AuthMethod,
    /// The origin `fetch` calls go to (one with a path or a query is refused).
    pub base_url: Option<String>,
    /// More form parameters for the token request.
    pub extra_params: Vec<(String, String)>,
    /// Signs a user in (authorization code + PKCE) instead of client credentials: the redirect
    /// URI registered for the client.
    pub redirect_uri: Option<String>,
    /// The authorize endpoint (or from the issuer's discovery document).
    pub authorization_url: Option<String>,
    /// The user-info endpoint (or from the issuer's discovery document).
    pub user_info_url: Option<String>,
    /// An OpenID issuer: the endpoints are read from `<issuer>/.well-known/openid-configuration`
    /// on first use, a document that names this issuer (a final `/` aside). A redirect whose
    /// `iss` (RFC 9207) names another server is refused, as is one without `iss` when the
    /// document says the issuer always sends it.
    pub issuer: Option<String>,
    /// More authorize parameters (e.g. `prompt`).
    pub authorization_params: Vec<(String, String)>,
    /// `{ getItem, setItem, removeItem }` for the state and PKCE verifier across the redirect;
    /// default `sessionStorage` where there is one, else memory.
    pub state_storage: Option<wasm_bindgen::JsValue>,
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
            redirect_uri: None,
            authorization_url: None,
            user_info_url: None,
            issuer: None,
            authorization_params: Vec::new(),
            state_storage: None,
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
        Self::build(&config)
    }

    // By reference, so that each refusal drops only what was read so far, not the configuration.
    #[inline(never)]
    fn build(config: &OAuthConfig) -> Result<Self, Error> {
        let o = &config.options;
        check_options(CLASS, o)?;
        let redirect_uri = optional(&config.redirect_uri);
        let issuer = match &redirect_uri {
            Some(_) => url_or("issuer", &config.issuer, None, o)?,
            None => None,
        };
        let token_url = given(&config.token_url);
        let token = match (&token_url, &issuer) {
            (Some(t), _) => url("tokenUrl", t, o)?,
            // The issuer names it; the engine reads it on first use.
            (None, Some(i)) => url("issuer", i, o)?,
            (None, None) => return Err(bad(CLASS, "tokenUrl", "is required")),
        };
        let client_id = required(CLASS, "clientId", &config.client_id)?;
        let secret = secret_for(CLASS, &config.client_secret, redirect_uri.is_some())?;
        let sign_in = match &redirect_uri {
            None => None,
            Some(r) => {
                super::redirect_url(CLASS, r, o)?;
                Some(super::signin::SignIn {
                    redirect_uri: r.to_string(),
                    authorization_url: url_or(
                        "authorizationUrl",
                        &config.authorization_url,
                        None,
                        o,
                    )?,
                    user_info_url: url_or("userInfoUrl", &config.user_info_url, None, o)?,
                    issuer: issuer.clone(),
                    scope: words(&config.scope),
                    resource: None,
                    params: config.authorization_params.clone(),
                    state_storage: config.state_storage.clone(),
                    allow_http: o.allow_insecure_http,
                })
            }
        };
        if sign_in
            .as_ref()
            .is_some_and(|s| s.issuer.is_none() && s.authorization_url.is_none())
        {
            return Err(bad(
                CLASS,
                "authorizationUrl",
                "is required to sign a user in (or issuer, whose discovery document names it)",
            ));
        }
        // An origin: a path (`/api/v1/`) would be left out of every call without a word.
        let api = match optional(&config.base_url) {
            Some(b) => {
                let p = url("baseUrl", b, o)?;
                if p.rest != "/" {
                    return Err(bad(
                        CLASS,
                        "baseUrl",
                        "is the API's origin (scheme, host and port): give fetch() the whole path instead of putting part of it here",
                    ));
                }
                Some(p.origin)
            }
            None => None,
        };
        let mut params = Vec::new();
        if let Some(scope) = words(&config.scope) {
            params.push(("scope".to_string(), scope));
        }
        for &(name, list) in &[
            ("resource", &config.resource),
            ("audience", &config.audience),
        ] {
            for v in list.iter().filter_map(|v| given(v)) {
                params.push((name.to_string(), v.to_string()));
            }
        }
        for (k, v) in &config.extra_params {
            if matches!(k.as_str(), "grant_type" | "client_id" | "client_secret") {
                return Err(bad(
                    CLASS,
                    "extraParams",
                    "must not set grant_type, client_id or client_secret",
                ));
            }
            params.push((k.clone(), v.clone()));
        }
        let core = Config {
            vendor: Vendor::Generic,
            client_id: client_id.to_string(),
            secret: secret.map(Secret::new),
            params,
            auth: config.auth_method,
            appd: Mode::default(),
        };
        let mut settings = engine_settings(
            CLASS,
            Self::api_url_of,
            Vendor::Generic,
            core,
            &token,
            api,
            o,
        );
        settings.sign_in = sign_in;
        Ok(OAuthClient {
            engine: Engine::new(settings),
        })
    }

    /// A caller's path or URL on `baseUrl`, or why not.
    pub(crate) fn api_url_of(engine: &Engine, path_or_url: &str) -> Result<String, Error> {
        super::api_url(engine, path_or_url)
    }
}

client_methods!(OAuthClient);
super::signin_methods!(OAuthClient);
