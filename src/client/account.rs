//! The Dynatrace Account Management API client (`https://api.dynatrace.com`): a client-credentials
//! token for one account (`resource=urn:dtaccount:<uuid>`), sent only to the account API's origin.

use wasm_bindgen::JsValue;

use super::{bad, check_options, client_methods, engine_settings, optional, required, url, words};
use super::{Engine, Options};
use crate::core::appdynamics::Mode;
use crate::core::config::{AuthMethod, Config, Vendor};
use crate::core::url::resolve_url;
use crate::core::{dynatrace, Code, Error, Secret};

/// The Account Management API's origin.
pub const ACCOUNT_API_URL: &str = "https://api.dynatrace.com";

const URN: &str = "urn:dtaccount:";

/// How a [`DynatraceAccountClient`] is set up.
#[derive(Clone, Debug)]
pub struct DynatraceAccountConfig {
    /// The account's UUID (the `urn:dtaccount:<uuid>` form is accepted).
    pub account_uuid: String,
    /// The OAuth client's id.
    pub client_id: String,
    /// The OAuth client's secret.
    pub client_secret: Secret,
    /// Account scopes, e.g. `account-idm-read`, sent space-separated.
    pub scope: Vec<String>,
    /// Default: `https://sso.dynatrace.com/sso/oauth2/token`.
    pub token_url: Option<String>,
    /// Default: `https://api.dynatrace.com`.
    pub account_api_url: Option<String>,
    /// Default `Post` (credentials in the body).
    pub auth_method: AuthMethod,
    /// The options every client has.
    pub options: Options,
}

impl Default for DynatraceAccountConfig {
    fn default() -> Self {
        DynatraceAccountConfig {
            account_uuid: String::new(),
            client_id: String::new(),
            client_secret: Secret::default(),
            scope: Vec::new(),
            token_url: None,
            account_api_url: None,
            auth_method: AuthMethod::Post,
            options: Options::default(),
        }
    }
}

/// A client of the Dynatrace Account Management API.
///
/// ```no_run
/// # async fn run() -> Result<(), apm_oauth::Error> {
/// use apm_oauth::{DynatraceAccountClient, DynatraceAccountConfig};
/// let account = DynatraceAccountClient::new(DynatraceAccountConfig {
///     account_uuid: "7ae8c8ba-3f4c-4d2a-9d0b-0123456789ab".into(),
///     client_id: "dt0s02.XXXXXXXX".into(),
///     client_secret: "dt0s02.XXXXXXXX.YYYY".into(),
///     scope: vec!["account-idm-read".into()],
///     ..Default::default()
/// })?;
/// // The answer as a JavaScript value, or read into types of your own:
/// let users = account.list_users().await?;
/// #[derive(serde::Deserialize)]
/// struct Users {
///     count: u32,
///     items: Vec<User>,
/// }
/// #[derive(serde::Deserialize)]
/// struct User {
///     email: String,
/// }
/// let typed: Users = account.list_users_as().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DynatraceAccountClient {
    pub(crate) engine: Engine,
}

const CLASS: &str = "DynatraceAccountClient";

impl DynatraceAccountClient {
    /// Checks the configuration; makes no request.
    pub fn new(config: DynatraceAccountConfig) -> Result<Self, Error> {
        Self::build(&config)
    }

    // By reference, so that each refusal drops only what was read so far, not the configuration.
    #[inline(never)]
    fn build(config: &DynatraceAccountConfig) -> Result<Self, Error> {
        let o = &config.options;
        check_options(CLASS, o)?;
        let given = required(CLASS, "accountUuid", &config.account_uuid)?;
        let uuid = given.strip_prefix(URN).unwrap_or(given);
        if uuid.is_empty() || !uuid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(bad(
                CLASS,
                "accountUuid",
                "must be the account's UUID (or urn:dtaccount:<uuid>)",
            ));
        }
        let client_id = required(CLASS, "clientId", &config.client_id)?;
        let secret = required(CLASS, "clientSecret", config.client_secret.expose())?;
        let api = url(
            "accountApiUrl",
            optional(&config.account_api_url).unwrap_or(ACCOUNT_API_URL),
            o,
        )?
        .origin;
        let token = url(
            "tokenUrl",
            optional(&config.token_url).unwrap_or(dynatrace::token_url_for(None)),
            o,
        )?;
        let mut params = Vec::new();
        if let Some(scope) = words(&config.scope) {
            params.push(("scope".to_string(), scope));
        }
        params.push(("resource".to_string(), [URN, uuid].concat()));
        let core = Config {
            vendor: Vendor::Dynatrace,
            client_id: client_id.to_string(),
            secret: Some(Secret::new(secret)),
            params,
            auth: config.auth_method,
            appd: Mode::default(),
        };
        let settings = engine_settings(
            CLASS,
            Self::api_url_of,
            Vendor::Dynatrace,
            core,
            &token,
            Some(api),
            o,
        );
        Ok(DynatraceAccountClient {
            engine: Engine::new(settings),
        })
    }

    /// The account's UUID, from the token request's `resource`.
    fn uuid(&self) -> &str {
        self.engine
            .settings()
            .core
            .params
            .iter()
            .find(|(k, _)| k == "resource")
            .and_then(|(_, v)| v.strip_prefix(URN))
            .unwrap_or_default()
    }

    /// A caller's path or URL on the account API.
    pub(crate) fn api_url_of(engine: &Engine, path_or_url: &str) -> Result<String, Error> {
        let api = engine.settings().api.as_ref().expect("an account API URL");
        resolve_url(api, path_or_url)
    }

    /// `/iam/v1/accounts/<uuid>/` + `rest`.
    pub fn account_path(&self, rest: &str) -> String {
        [
            "/iam/v1/accounts/",
            self.uuid(),
            "/",
            crate::core::text::skip_slashes(rest),
        ]
        .concat()
    }

    /// `GET /iam/v1/accounts/<uuid>/users`: the parsed JSON; an error status is an `http_error`,
    /// a body that does not come within `timeoutMs` a `timeout`.
    pub async fn list_users(&self) -> Result<JsValue, Error> {
        let path = self.account_path("users");
        let what = ["listing users failed: GET ", &path].concat();
        let body = super::listing(&self.engine, &path, &what, |status| match status {
            401 => "the account API refused the token: check the OAuth client and that the token was requested for this account",
            403 => "the OAuth client lacks the scope account-idm-read, or belongs to another account",
            404 => "check accountUuid and accountApiUrl",
            _ => "check accountApiUrl and try again later",
        })
        .await?;
        // The list is an object (`{ count, items }`); an array, a number or `null` is no answer of
        // this API.
        js_sys::JSON::parse(&body)
            .ok()
            .filter(|v| v.is_object() && !js_sys::Array::is_array(v))
            .ok_or_else(|| {
                Error::new(
                    Code::InvalidResponse,
                    "the account API's user list is not a JSON object",
                )
                .hint("check accountApiUrl")
            })
    }

    /// [`Self::list_users`] read into a type of the caller's with serde-wasm-bindgen, e.g.
    /// `struct Users { count: u32, items: Vec<User> }`. An answer of another shape is an
    /// `invalid_response` error that says what did not fit.
    pub async fn list_users_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let users = self.list_users().await?;
        super::typed(&self.engine, users, "the account API's user list")
    }
}

client_methods!(DynatraceAccountClient);
