//! The Dynatrace client: SSO client-credentials tokens, platform API calls and AppEngine app
//! functions on one environment.

use wasm_bindgen::JsValue;

use super::platform::{get, set};
use super::{
    check_options, client_methods, engine_settings, given, optional, origin_of, required,
    secret_for, url, url_or, words,
};
use super::{Engine, Options};
use crate::core::appdynamics::Mode;
use crate::core::config::{AuthMethod, Config, Vendor};
use crate::core::encoding::path_segment;
use crate::core::url::resolve_url;
use crate::core::{dynatrace, Code, Error, Secret};

/// How a [`DynatraceClient`] is set up.
#[derive(Clone, Debug)]
pub struct DynatraceConfig {
    /// e.g. `https://abc12345.apps.dynatrace.com`; needed for `fetch`, `platform_url` and
    /// `call_app_function`.
    pub environment_url: Option<String>,
    /// The OAuth client's id, e.g. `dt0s02.JDMK2DWV`.
    pub client_id: String,
    /// The OAuth client's secret (optional for a user's sign-in: a public client has none).
    pub client_secret: Secret,
    /// Scopes, sent space-separated.
    pub scope: Vec<String>,
    /// `urn:dtaccount:<uuid>` (a bare account UUID is accepted).
    pub resource: Option<String>,
    /// Default: the SSO host of the environment's stage (prod, sprint, dev), else prod.
    pub token_url: Option<String>,
    /// Default `Post` (credentials in the body); SSO does not document Basic.
    pub auth_method: AuthMethod,
    /// Signs a user in (authorization code + PKCE) instead of client credentials: the redirect
    /// URI registered for the OAuth client. The token URL then defaults to the stage's sign-in
    /// token host (`token.dynatrace.com`).
    pub redirect_uri: Option<String>,
    /// The authorize endpoint; default: the stage's (`sso.dynatrace.com/oauth2/authorize`).
    pub authorization_url: Option<String>,
    /// The user-info endpoint; default: the stage's (`sso.dynatrace.com/sso/oauth2/userinfo`).
    pub user_info_url: Option<String>,
    /// More authorize parameters (e.g. `prompt`).
    pub authorization_params: Vec<(String, String)>,
    /// `{ getItem, setItem, removeItem }` for the state and PKCE verifier across the redirect;
    /// default `sessionStorage` where there is one, else memory.
    pub state_storage: Option<JsValue>,
    /// A platform token (`dt0s16.…`), sent as it is instead of requesting tokens: no client id
    /// or secret then. Its expiry is unknown to the client (a 401 is returned, not retried).
    pub platform_token: Option<Secret>,
    /// The options every client has.
    pub options: Options,
}

impl Default for DynatraceConfig {
    fn default() -> Self {
        DynatraceConfig {
            environment_url: None,
            client_id: String::new(),
            client_secret: Secret::default(),
            scope: Vec::new(),
            resource: None,
            token_url: None,
            auth_method: AuthMethod::Post,
            redirect_uri: None,
            authorization_url: None,
            user_info_url: None,
            authorization_params: Vec::new(),
            state_storage: None,
            platform_token: None,
            options: Options::default(),
        }
    }
}

/// A Dynatrace client.
///
/// ```no_run
/// # async fn run() -> Result<(), apm_oauth::Error> {
/// use apm_oauth::{DynatraceClient, DynatraceConfig};
/// let dt = DynatraceClient::new(DynatraceConfig {
///     environment_url: Some("https://abc12345.apps.dynatrace.com".into()),
///     client_id: "dt0s02.XXXXXXXX".into(),
///     client_secret: "dt0s02.XXXXXXXX.YYYY".into(),
///     scope: vec!["app-engine:apps:run".into()],
///     ..Default::default()
/// })?;
/// let payload = wasm_bindgen::JsValue::from_str("hello");
/// let res = dt.call_app_function("my.company.app", "calculate", Some(&payload)).await?;
/// println!("{}", res.text().await.unwrap_or_default());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DynatraceClient {
    pub(crate) engine: Engine,
}

const CLASS: &str = "DynatraceClient";

impl DynatraceClient {
    /// Checks the configuration; makes no request.
    pub fn new(config: DynatraceConfig) -> Result<Self, Error> {
        Self::build(&config)
    }

    // By reference, so that each refusal drops only what was read so far, not the configuration.
    #[inline(never)]
    fn build(config: &DynatraceConfig) -> Result<Self, Error> {
        let o = &config.options;
        check_options(CLASS, o)?;
        if let Some(t) = config
            .platform_token
            .as_ref()
            .and_then(|t| given(t.expose()))
        {
            return Self::with_platform_token(t, config, o);
        }
        let client_id = required(CLASS, "clientId", &config.client_id)?;
        let redirect_uri = optional(&config.redirect_uri);
        let secret = secret_for(CLASS, &config.client_secret, redirect_uri.is_some())?;
        let api = origin_of("environmentUrl", &config.environment_url, o)?;
        let host = api.as_ref().map(|a| a.host.as_str());
        let stage = dynatrace::sign_in_urls_for(host);
        let default_token_url = match &redirect_uri {
            Some(_) => stage.token,
            None => dynatrace::token_url_for(host),
        };
        let sign_in = match &redirect_uri {
            None => None,
            Some(r) => {
                super::redirect_url(CLASS, r, o)?;
                Some(super::signin::SignIn {
                    redirect_uri: r.to_string(),
                    authorization_url: url_or(
                        "authorizationUrl",
                        &config.authorization_url,
                        Some(stage.authorize),
                        o,
                    )?,
                    user_info_url: url_or(
                        "userInfoUrl",
                        &config.user_info_url,
                        Some(stage.user_info),
                        o,
                    )?,
                    issuer: None,
                    // Dynatrace's SSO signs users in with OpenID Connect: `openid` at least.
                    scope: words(&config.scope).or_else(|| Some("openid".into())),
                    // Dynatrace signs the user in to one environment.
                    resource: api.as_ref().map(|a| a.serialize()),
                    params: config.authorization_params.clone(),
                    state_storage: config.state_storage.clone(),
                    allow_http: o.allow_insecure_http,
                })
            }
        };
        let token_url = optional(&config.token_url);
        let token = url("tokenUrl", token_url.unwrap_or(default_token_url), o)?;
        let mut params = Vec::new();
        if let Some(scope) = words(&config.scope) {
            params.push(("scope".to_string(), scope));
        }
        if let Some(r) = optional(&config.resource) {
            // DT_ACCOUNT_ID holds the bare account UUID; SSO wants the URN.
            let urn = if crate::core::text::find_byte(r, b':').is_some() {
                r.to_string()
            } else {
                ["urn:dtaccount:", r].concat()
            };
            params.push(("resource".to_string(), urn));
        }
        let core = Config {
            vendor: Vendor::Dynatrace,
            client_id: client_id.to_string(),
            secret: secret.map(Secret::new),
            params,
            auth: config.auth_method,
            appd: Mode::default(),
        };
        let mut settings = engine_settings(
            CLASS,
            Self::api_url_of,
            Vendor::Dynatrace,
            core,
            &token,
            api,
            o,
        );
        settings.sign_in = sign_in;
        Ok(DynatraceClient {
            engine: Engine::new(settings),
        })
    }

    /// A client that sends a platform token as it is.
    fn with_platform_token(
        token: &str,
        config: &DynatraceConfig,
        o: &Options,
    ) -> Result<Self, Error> {
        super::header_token(CLASS, "platformToken", token)?;
        for &(name, given) in &[
            (
                "clientSecret",
                !crate::core::text::trim(config.client_secret.expose()).is_empty(),
            ),
            ("redirectUri", optional(&config.redirect_uri).is_some()),
        ] {
            if given {
                return Err(super::bad(
                    CLASS,
                    "platformToken",
                    &["and ", name, " are alternatives: give one or the other"].concat(),
                ));
            }
        }
        // Options of token requests would be silently ignored: say so instead.
        super::no_token_requests(
            CLASS,
            "has no use with platformToken (it is sent as it is; no token is requested): leave it out",
            o,
            &[
                ("scope", words(&config.scope).is_some()),
                ("resource", optional(&config.resource).is_some()),
                ("tokenUrl", optional(&config.token_url).is_some()),
                (
                    "authorizationUrl",
                    optional(&config.authorization_url).is_some(),
                ),
                ("userInfoUrl", optional(&config.user_info_url).is_some()),
                (
                    "authorizationParams",
                    !config.authorization_params.is_empty(),
                ),
                ("stateStorage", config.state_storage.is_some()),
                ("tokenStore", o.token_store.is_some()),
                ("authMethod", config.auth_method != AuthMethod::Post),
            ],
        )?;
        let api = origin_of("environmentUrl", &config.environment_url, o)?;
        let token_url = dynatrace::token_url_for(api.as_ref().map(|a| a.host.as_str()));
        let token_url = url("tokenUrl", token_url, o)?;
        let core = Config {
            vendor: Vendor::Dynatrace,
            client_id: given(&config.client_id).unwrap_or_default().to_string(),
            secret: None,
            params: Vec::new(),
            auth: AuthMethod::Post,
            appd: Mode::default(),
        };
        let mut settings = engine_settings(
            CLASS,
            Self::api_url_of,
            Vendor::Dynatrace,
            core,
            &token_url,
            api,
            o,
        );
        settings.static_token = Some(Secret::new(token));
        Ok(DynatraceClient {
            engine: Engine::new(settings),
        })
    }

    fn environment<'a>(
        engine: &'a Engine,
        method: &str,
    ) -> Result<&'a crate::core::url::Origin, Error> {
        engine.settings().api.as_ref().ok_or_else(|| {
            Error::new(
                Code::InvalidConfig,
                ["DynatraceClient: ", method, " needs environmentUrl"].concat(),
            )
            .hint("set environmentUrl, e.g. https://abc12345.apps.dynatrace.com")
        })
    }

    /// A caller's path or URL on `environmentUrl`, or why not.
    pub(crate) fn api_url_of(engine: &Engine, path_or_url: &str) -> Result<String, Error> {
        resolve_url(Self::environment(engine, "fetch")?, path_or_url)
    }

    /// `<environmentUrl>/platform/<api_path>`.
    pub fn platform_url(&self, api_path: &str) -> Result<String, Error> {
        let env = Self::environment(&self.engine, "platformUrl")?;
        let p = crate::core::text::skip_slashes(api_path);
        let p = p.strip_prefix("platform/").unwrap_or(p);
        if p.is_empty() {
            return Err(
                Error::new(Code::InvalidArgument, "platformUrl: the API path is empty")
                    .hint("pass a path such as management/v1/environment"),
            );
        }
        resolve_url(env, &["/platform/", p].concat())
    }

    /// Calls an AppEngine app function: POST with `payload` as JSON when given, else GET.
    pub async fn call_app_function(
        &self,
        app_id: &str,
        function_name: &str,
        payload: Option<&JsValue>,
    ) -> Result<gloo_net::http::Response, Error> {
        let payload = payload.cloned().unwrap_or(JsValue::UNDEFINED);
        let response = self
            .call_app_function_js(app_id, function_name, &payload, &JsValue::UNDEFINED)
            .await?;
        Ok(response.into())
    }

    /// [`Self::call_app_function`] with any JavaScript `RequestInit`, returning the fetch
    /// `Response` itself. An `undefined` payload means a GET.
    pub async fn call_app_function_js(
        &self,
        app_id: &str,
        function_name: &str,
        payload: &JsValue,
        init: &JsValue,
    ) -> Result<web_sys::Response, Error> {
        let engine = &self.engine;
        let result = match self.app_function_request(app_id, function_name, payload, init) {
            Ok((url, out)) => engine.fetch(&url, &out).await,
            Err(e) => Err(e),
        };
        result.map_err(|e| engine.scrubbed(e))
    }

    fn app_function_request(
        &self,
        app_id: &str,
        function_name: &str,
        payload: &JsValue,
        init: &JsValue,
    ) -> Result<(String, JsValue), Error> {
        let env = Self::environment(&self.engine, "callAppFunction")?;
        let app = name_segment("app id", app_id)?;
        let function = name_segment("function name", function_name)?;
        let url = resolve_url(
            env,
            &[
                "/platform/app-engine/app-functions/v1/apps/",
                &app,
                "/api/",
                &function,
            ]
            .concat(),
        )?;
        let out = super::platform::copy_of(init)?;
        if !payload.is_undefined() {
            let body = js_sys::JSON::stringify(payload)
                .ok()
                .filter(|s| s.is_string())
                .ok_or_else(|| {
                    Error::new(
                        Code::InvalidArgument,
                        "callAppFunction: the payload cannot be serialised as JSON",
                    )
                })?;
            if get(&out, "method").is_undefined() {
                set(&out, "method", &JsValue::from_str("POST"));
            }
            let headers = super::engine::headers_of(&out)?;
            if !headers.has("content-type").unwrap_or(false) {
                // (The `set` of the token's header: one import; these constants never throw.)
                wasm_bindgen::JsCast::unchecked_ref::<super::platform::HeadersSet>(&headers).set(
                    &JsValue::from_str("Content-Type"),
                    &JsValue::from_str("application/json"),
                );
            }
            set(&out, "headers", &headers);
            set(&out, "body", &body);
        }
        Ok((url, out.into()))
    }
}

/// An app id or function name as one path segment, or why it is not a name.
fn name_segment(what: &str, v: &str) -> Result<String, Error> {
    let t = crate::core::text::trim(v);
    if t.is_empty() || v == "." || v == ".." {
        return Err(Error::new(
            Code::InvalidArgument,
            ["callAppFunction: the ", what, " is empty or not a name"].concat(),
        ));
    }
    Ok(path_segment(t))
}

client_methods!(DynatraceClient);
super::signin_methods!(DynatraceClient);
