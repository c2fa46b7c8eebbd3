//! The AppDynamics client: Controller API Client tokens (with the fallbacks older controllers
//! need) or a static UI token, and REST calls that answer JSON.

use serde::Serialize;
use wasm_bindgen::JsCast;

use super::platform::get;
use super::{bad, check_options, client_methods, engine_settings, optional, url};
use super::{Engine, Options};
use crate::core::appdynamics::{BasicChoice, ContentChoice, Mode, TOKEN_PATH};
use crate::core::config::{AuthMethod, Config, Vendor};
use crate::core::url::{ensure_query_param, resolve_url, ParsedUrl};
use crate::core::{Code, Error, Secret};

/// Which content type the token request is sent with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenContentType {
    /// Form-urlencoded first, the vendor type when the controller refuses it (the default).
    #[default]
    Auto,
    /// Form-urlencoded only (controllers 24.10 and later).
    Form,
    /// `application/vnd.appd.cntrl+protobuf;v=1` only (older controllers).
    Vendor,
}

/// Whether the token request also carries HTTP Basic (controllers before 4.5.9 want it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BasicAuth {
    /// Retry a refused token request with Basic (the default).
    #[default]
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// How an [`AppDynamicsClient`] is set up: an API client (`client_name` + `account_name`, or
/// `client_id` = `name@account`, with `client_secret`), or a temporary `access_token` from the
/// Controller UI.
#[derive(Clone, Debug, Default)]
pub struct AppDynamicsConfig {
    /// e.g. `https://acme.saas.appdynamics.com` or `http://controller:8090`.
    pub controller_url: String,
    /// The API client's name alone (`name@account` is refused here: it goes in `client_id`).
    pub client_name: Option<String>,
    /// The account (`customer1` on single-tenant on-premises controllers).
    pub account_name: Option<String>,
    /// `apiClientName@accountName`, instead of the two above.
    pub client_id: Option<String>,
    /// The API client's secret.
    pub client_secret: Option<Secret>,
    /// A temporary token generated in the Controller UI, used as is.
    pub access_token: Option<Secret>,
    /// The token request's content type.
    pub token_content_type: TokenContentType,
    /// HTTP Basic on the token request.
    pub basic_auth: BasicAuth,
    /// The options every client has.
    pub options: Options,
}

/// An application as `list_applications` returns it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Application {
    /// The application's id.
    pub id: f64,
    /// Its name.
    pub name: String,
    /// Its description ("" when it has none).
    pub description: String,
}

/// An AppDynamics client.
///
/// ```no_run
/// # async fn run() -> Result<(), apm_oauth::Error> {
/// use apm_oauth::{AppDynamicsClient, AppDynamicsConfig};
/// let appd = AppDynamicsClient::new(AppDynamicsConfig {
///     controller_url: "https://acme.saas.appdynamics.com".into(),
///     client_name: Some("my-api-client".into()),
///     account_name: Some("acme".into()),
///     client_secret: Some("secret".into()),
///     ..Default::default()
/// })?;
/// for app in appd.list_applications().await? {
///     println!("{} {}", app.id, app.name);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AppDynamicsClient {
    pub(crate) engine: Engine,
}

const CLASS: &str = "AppDynamicsClient";

impl AppDynamicsClient {
    /// Checks the configuration; makes no request.
    pub fn new(config: AppDynamicsConfig) -> Result<Self, Error> {
        Self::build(&config)
    }

    // By reference, so that each refusal drops only what was read so far, not the configuration.
    #[inline(never)]
    fn build(config: &AppDynamicsConfig) -> Result<Self, Error> {
        let o = &config.options;
        check_options(CLASS, o)?;
        let controller = crate::core::text::trim(&config.controller_url);
        if controller.is_empty() {
            return Err(bad(CLASS, "controllerUrl", "is required"));
        }
        let api: ParsedUrl = url("controllerUrl", controller, o)?;
        let static_token = config
            .access_token
            .as_ref()
            .map(|t| crate::core::text::trim(t.expose()))
            .filter(|t| !t.is_empty());
        if let Some(t) = static_token {
            super::header_token(CLASS, "accessToken", t)?;
        }
        let secret = config
            .client_secret
            .as_ref()
            .map(|t| crate::core::text::trim(t.expose()))
            .filter(|t| !t.is_empty());
        let name = optional(&config.client_name);
        let account = optional(&config.account_name);
        let client_id = match (optional(&config.client_id), name, account) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(bad(
                    CLASS,
                    "clientId",
                    "and clientName/accountName are alternatives: give one or the other",
                ))
            }
            (Some(id), None, None) => match crate::core::text::find_byte(id, b'@') {
                Some(at) if at >= 1 && at + 1 < id.len() => id.to_string(),
                _ => return Err(bad(CLASS, "clientId", "must be apiClientName@accountName")),
            },
            // The account twice (`name@account@account`) would be refused as a wrong secret.
            (None, Some(n), Some(_)) if crate::core::text::find_byte(n, b'@').is_some() => {
                return Err(bad(
                    CLASS,
                    "clientName",
                    "is the API client's name alone: give name@account as clientId instead",
                ))
            }
            (None, Some(n), Some(a)) => [n, "@", a].concat(),
            (None, Some(_), None) => return Err(bad(
                CLASS,
                "accountName",
                "is required with clientName (customer1 on single-tenant on-premises controllers)",
            )),
            (None, None, Some(_)) => {
                return Err(bad(CLASS, "clientName", "is required with accountName"))
            }
            (None, None, None) => String::new(),
        };
        match (static_token, secret) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    CLASS,
                    "accessToken",
                    "and clientSecret are alternatives: give one or the other",
                ))
            }
            (None, None) => {
                return Err(bad(
                    CLASS,
                    "clientSecret",
                    "is required (or accessToken, a temporary token from the Controller UI)",
                ))
            }
            (None, Some(_)) if client_id.is_empty() => {
                return Err(bad(
                    CLASS,
                    "clientName",
                    "and accountName (or clientId) are required with clientSecret",
                ))
            }
            _ => {}
        }
        if static_token.is_some() {
            super::no_token_requests(
                CLASS,
                "has no use with accessToken (it is sent as it is; no token is requested): leave it out",
                o,
                &[
                    (
                        "tokenContentType",
                        config.token_content_type != TokenContentType::Auto,
                    ),
                    ("basicAuth", config.basic_auth != BasicAuth::Auto),
                ],
            )?;
        }
        let mode = Mode {
            content: match config.token_content_type {
                TokenContentType::Auto => ContentChoice::Auto,
                TokenContentType::Form => ContentChoice::Form,
                TokenContentType::Vendor => ContentChoice::Vendor,
            },
            basic: match config.basic_auth {
                BasicAuth::Auto => BasicChoice::Auto,
                BasicAuth::On => BasicChoice::On,
                BasicAuth::Off => BasicChoice::Off,
            },
        };
        let core = Config {
            vendor: Vendor::AppDynamics,
            client_id,
            secret: secret.map(Secret::new),
            params: Vec::new(),
            auth: AuthMethod::Post,
            appd: mode,
        };
        let token = ParsedUrl {
            origin: api.origin.clone(),
            rest: TOKEN_PATH.to_string(),
        };
        let mut settings = engine_settings(
            CLASS,
            Self::api_url_of,
            Vendor::AppDynamics,
            core,
            &token,
            Some(api.origin),
            o,
        );
        settings.static_token = static_token.map(Secret::new);
        Ok(AppDynamicsClient {
            engine: Engine::new(settings),
        })
    }

    /// A caller's path or URL on the controller; REST calls answer XML unless asked for JSON.
    pub(crate) fn api_url_of(engine: &Engine, path_or_url: &str) -> Result<String, Error> {
        let s = engine.settings();
        let api = s.api.as_ref().expect("a controller URL");
        let url = resolve_url(api, path_or_url)?;
        let path = url.get(s.api_origin.len()..).unwrap_or_default();
        Ok(
            if path.starts_with("/controller/rest/") || path == "/controller/rest" {
                ensure_query_param(&url, "output", "JSON")
            } else {
                url
            },
        )
    }

    /// `GET /controller/rest/applications?output=JSON`: an error status is an `http_error`, a
    /// body that does not come within `timeoutMs` a `timeout`. A 401 with a temporary token
    /// (`access_token`) whose JWT `exp` has passed says when it expired.
    pub async fn list_applications(&self) -> Result<Vec<Application>, Error> {
        let body = super::listing(
            &self.engine,
            "/controller/rest/applications?output=JSON",
            "listing applications failed: GET /controller/rest/applications",
            |status| match status {
                401 => "the controller refused the token: check that the API client still exists and its token has not been revoked",
                403 => "the API client's roles do not allow viewing applications: add a role with that permission",
                _ => "check controllerUrl and the controller's health",
            },
        )
        .await?;
        applications(&body).ok_or_else(|| {
            Error::new(
                Code::InvalidResponse,
                "the controller's application list is not the JSON array expected",
            )
            .hint("is controllerUrl the controller's address?")
        })
    }
}

/// The applications of a listing's text: a JSON array of `{ id, name, description? }`.
fn applications(body: &str) -> Option<Vec<Application>> {
    let list: js_sys::Array = js_sys::JSON::parse(body).ok()?.dyn_into().ok()?;
    let mut out = Vec::new();
    for v in list.iter() {
        if !v.is_object() {
            return None;
        }
        out.push(Application {
            id: get(&v, "id").as_f64()?,
            name: get(&v, "name").as_string()?,
            description: get(&v, "description").as_string().unwrap_or_default(),
        });
    }
    Some(out)
}

client_methods!(AppDynamicsClient);
