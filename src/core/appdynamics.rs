//! AppDynamics rules: the controller's token endpoint and its two generations (form-urlencoded
//! only from 24.10; the vendor content type plus HTTP Basic before 4.5.9), static UI tokens,
//! `output=JSON` on REST calls, and the options of `AppDynamicsClient`.

use super::config::{AuthMethod, Config, Raw, RawOptions, Reader, Vendor};
use super::encoding::base64url_decode;
use super::error::{Code, Error};
use super::json::{self, Value};
use super::secret::Secret;
use super::text::cat;
use super::url;

/// What controllers 24.10 and later accept, and the default.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// What the API Clients page shows (with a form body); older controllers want it.
pub const VENDOR_CONTENT_TYPE: &str = "application/vnd.appd.cntrl+protobuf;v=1";
/// The token path on every controller.
pub const TOKEN_PATH: &str = "/controller/api/oauth/access_token";

/// Hint when the controller's token URL answers with something that is not a token endpoint.
pub const TOKEN_URL_HINT: &str = "is controllerUrl the controller's address (https://<account>.saas.appdynamics.com, or http://host:8090 on premises)?";
/// Hint when the controller refuses the credentials.
pub const CREDENTIALS_HINT: &str = "check clientName, accountName (customer1 on single-tenant on-premises controllers) and the API client's secret in Settings > Administration > API Clients";

/// Which content type to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentChoice {
    /// Form first, the vendor type when the controller refuses it.
    #[default]
    Auto,
    /// Form only.
    Form,
    /// Vendor type only.
    Vendor,
}

/// Whether to send HTTP Basic as well.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BasicChoice {
    /// Retry a refused request with Basic.
    #[default]
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// The configured fallbacks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mode {
    /// Content type choice.
    pub content: ContentChoice,
    /// Basic choice.
    pub basic: BasicChoice,
}

/// One way of sending the token request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    /// Send the vendor content type instead of form-urlencoded.
    pub vendor_type: bool,
    /// Send HTTP Basic as well.
    pub basic: bool,
}

impl Mode {
    /// The first way to try.
    pub fn first(self) -> Attempt {
        Attempt {
            vendor_type: self.content == ContentChoice::Vendor,
            basic: self.basic == BasicChoice::On,
        }
    }

    /// The next way to try after `current` was refused with `status`, if any: a content-type
    /// refusal (400, 406, 415) switches to the vendor type, then a credentials refusal (400, 401,
    /// 403) adds Basic. Other statuses are not about the request's form, so nothing else is tried.
    pub fn next(self, current: Attempt, status: u16) -> Option<Attempt> {
        if self.content == ContentChoice::Auto
            && !current.vendor_type
            && matches!(status, 400 | 406 | 415)
        {
            return Some(Attempt {
                vendor_type: true,
                ..current
            });
        }
        if self.basic == BasicChoice::Auto && !current.basic && matches!(status, 400 | 401 | 403) {
            return Some(Attempt {
                basic: true,
                ..current
            });
        }
        None
    }
}

/// Describes an attempt for error messages ("form-urlencoded", "vendor type + Basic").
pub fn describe(a: Attempt) -> &'static str {
    match (a.vendor_type, a.basic) {
        (false, false) => "form-urlencoded",
        (false, true) => "form-urlencoded + Basic",
        (true, false) => "vendor content type",
        (true, true) => "vendor content type + Basic",
    }
}

/// What to check for another refusal by the controller's token endpoint.
pub fn refusal_hint(status: u16, body: &str) -> Option<String> {
    if status == 415 || super::text::contains(&body.to_ascii_lowercase(), "content type") {
        Some("controllers 24.10 and later accept only form-urlencoded token requests, older ones the vendor type: set tokenContentType to \"auto\" (the default), \"form\" or \"vendor\"".into())
    } else {
        None
    }
}

/// Options of `AppDynamicsClient`.
pub const OPTIONS: [&str; 8] = [
    "controllerUrl",
    "clientName",
    "accountName",
    "clientId",
    "clientSecret",
    "accessToken",
    "tokenContentType",
    "basicAuth",
];

/// Checks `AppDynamicsClient` options.
pub fn config(opts: &RawOptions) -> Result<Config, Error> {
    let r = Reader::new("AppDynamicsClient", opts, &OPTIONS)?;
    let common = r.common()?;
    let controller = url::parse_config_url(
        "controllerUrl",
        &r.required("controllerUrl")?,
        common.allow_insecure_http,
    )?
    .origin;
    let static_token = r.string("accessToken")?.map(Secret::new);
    let secret = r.string("clientSecret")?.map(Secret::new);
    let name = r.string("clientName")?;
    let account = r.string("accountName")?;
    let client_id = match (r.string("clientId")?, name, account) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(r.bad(
                "clientId",
                "and clientName/accountName are alternatives: give one or the other",
            ))
        }
        (Some(id), None, None) => {
            let ok = id
                .split_once('@')
                .is_some_and(|(n, a)| !n.is_empty() && !a.is_empty());
            if !ok {
                return Err(r.bad("clientId", "must be apiClientName@accountName"));
            }
            id
        }
        (None, Some(n), Some(a)) => cat(&[&n, "@", &a]),
        (None, Some(_), None) => {
            return Err(r.bad(
                "accountName",
                "is required with clientName (customer1 on single-tenant on-premises controllers)",
            ))
        }
        (None, None, Some(_)) => return Err(r.bad("clientName", "is required with accountName")),
        (None, None, None) => String::new(),
    };
    match (&static_token, &secret) {
        (Some(_), Some(_)) => {
            return Err(r.bad(
                "accessToken",
                "and clientSecret are alternatives: give one or the other",
            ))
        }
        (None, None) => {
            return Err(r.bad(
                "clientSecret",
                "is required (or accessToken, a temporary token from the Controller UI)",
            ))
        }
        (None, Some(_)) if client_id.is_empty() => {
            return Err(r.bad(
                "clientName",
                "and accountName (or clientId) are required with clientSecret",
            ))
        }
        _ => {}
    }
    let content = match r.string("tokenContentType")?.as_deref() {
        None | Some("auto") => ContentChoice::Auto,
        Some("form") => ContentChoice::Form,
        Some("vendor") => ContentChoice::Vendor,
        Some(_) => {
            return Err(r.bad(
                "tokenContentType",
                "must be \"auto\", \"form\" or \"vendor\"",
            ))
        }
    };
    let basic = match r.raw("basicAuth") {
        Raw::Missing => BasicChoice::Auto,
        Raw::Bool(true) => BasicChoice::On,
        Raw::Bool(false) => BasicChoice::Off,
        Raw::Str(s) if s == "auto" => BasicChoice::Auto,
        _ => return Err(r.bad("basicAuth", "must be true, false or \"auto\"")),
    };
    Ok(Config {
        vendor: Vendor::AppDynamics,
        token_url: cat(&[&controller.serialize(), TOKEN_PATH]),
        client_id,
        secret,
        static_token,
        params: Vec::new(),
        auth: AuthMethod::Post,
        appd: Mode { content, basic },
        api_origin: Some(controller),
        common,
    })
}

/// REST calls under `/controller/rest/` answer XML unless asked for JSON.
pub fn api_url(resolved: &str, origin: &url::Origin) -> String {
    let path = &resolved[origin.serialize().len()..];
    if path.starts_with("/controller/rest/") || path == "/controller/rest" {
        url::ensure_query_param(resolved, "output", "JSON")
    } else {
        resolved.to_string()
    }
}

/// The `exp` claim (ms since the epoch) of a JWT, when the token is one. UI tokens are JWTs
/// living 1 to 30 days; knowing their expiry lets `getToken` report it.
pub fn jwt_expiry_ms(token: &str) -> Option<f64> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64url_decode(payload)?;
    let v = json::parse(core::str::from_utf8(&bytes).ok()?)?;
    match v.get("exp") {
        Some(Value::Num(n)) if n.is_finite() && *n > 0.0 => Some(n * 1000.0),
        _ => None,
    }
}

/// One application of `GET /controller/rest/applications?output=JSON`.
#[derive(Clone, Debug, PartialEq)]
pub struct Application {
    /// Numeric id.
    pub id: f64,
    /// Name.
    pub name: String,
    /// Description (empty when none).
    pub description: String,
}

/// Reads the applications list.
pub fn parse_applications(body: &str) -> Result<Vec<Application>, Error> {
    let bad = || {
        Error::new(
            Code::InvalidResponse,
            "the controller's application list is not the JSON array expected",
        )
        .hint("is controllerUrl the controller's address?")
    };
    let Some(Value::Arr(items)) = json::parse(body) else {
        return Err(bad());
    };
    items
        .iter()
        .map(|it| match (it.get("id"), it.get_str("name")) {
            (Some(Value::Num(id)), Some(name)) => Ok(Application {
                id: *id,
                name: name.to_string(),
                description: it.get_str("description").unwrap_or("").to_string(),
            }),
            _ => Err(bad()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::oauth::token_request;

    fn opts(v: &[(&str, Raw)]) -> RawOptions {
        RawOptions(v.iter().map(|(k, r)| (k.to_string(), r.clone())).collect())
    }
    fn s(v: &str) -> Raw {
        Raw::Str(v.into())
    }

    fn cfg() -> Config {
        config(&opts(&[
            ("controllerUrl", s("https://acme.saas.appdynamics.com/")),
            ("clientName", s("TestApiClient")),
            ("accountName", s("customer1")),
            ("clientSecret", s("face10d5-573e-4a75-8396-afa006fd8f19")),
        ]))
        .unwrap()
    }

    #[test]
    fn modern_request_exact_bytes() {
        let c = cfg();
        let req = token_request(&c, c.appd.first());
        assert_eq!(
            req.url,
            "https://acme.saas.appdynamics.com/controller/api/oauth/access_token"
        );
        assert_eq!(
            req.headers,
            vec![
                ("Content-Type", FORM_CONTENT_TYPE.to_string()),
                ("Accept", "application/json".to_string())
            ]
        );
        assert_eq!(req.body, "grant_type=client_credentials&client_id=TestApiClient%40customer1&client_secret=face10d5-573e-4a75-8396-afa006fd8f19");
    }

    #[test]
    fn legacy_request_exact_bytes() {
        let c = cfg();
        let req = token_request(
            &c,
            Attempt {
                vendor_type: true,
                basic: true,
            },
        );
        assert_eq!(
            req.headers,
            vec![
                ("Content-Type", VENDOR_CONTENT_TYPE.to_string()),
                ("Accept", "application/json".to_string()),
                ("Authorization", "Basic VGVzdEFwaUNsaWVudEBjdXN0b21lcjE6ZmFjZTEwZDUtNTczZS00YTc1LTgzOTYtYWZhMDA2ZmQ4ZjE5".to_string()),
            ]
        );
    }

    #[test]
    fn fallback_ladder() {
        let auto = Mode::default();
        let a0 = auto.first();
        assert_eq!(
            a0,
            Attempt {
                vendor_type: false,
                basic: false
            }
        );
        let a1 = auto.next(a0, 415).unwrap();
        assert_eq!(
            a1,
            Attempt {
                vendor_type: true,
                basic: false
            }
        );
        let a2 = auto.next(a1, 401).unwrap();
        assert_eq!(
            a2,
            Attempt {
                vendor_type: true,
                basic: true
            }
        );
        assert_eq!(auto.next(a2, 401), None);
        // A wrong secret on a modern controller: one retry with Basic, then stop.
        assert_eq!(
            auto.next(a0, 401),
            Some(Attempt {
                vendor_type: false,
                basic: true
            })
        );
        assert_eq!(auto.next(a0, 500), None);
        assert_eq!(auto.next(a0, 429), None);
        let strict = Mode {
            content: ContentChoice::Form,
            basic: BasicChoice::Off,
        };
        assert_eq!(strict.next(strict.first(), 415), None);
        assert_eq!(
            Mode {
                content: ContentChoice::Vendor,
                basic: BasicChoice::On
            }
            .first(),
            Attempt {
                vendor_type: true,
                basic: true
            }
        );
    }

    #[test]
    fn client_id_forms_and_errors() {
        let c = config(&opts(&[
            ("controllerUrl", s("http://localhost:8090")),
            ("clientId", s("n@a")),
            ("clientSecret", s("x")),
        ]))
        .unwrap();
        assert_eq!(c.client_id, "n@a");
        let c = config(&opts(&[
            ("controllerUrl", s("https://c.example")),
            ("accessToken", s("eyJ.x.y")),
        ]))
        .unwrap();
        assert!(c.static_token.is_some());
        for (o, want) in [
            (opts(&[("controllerUrl", s("https://c.example")), ("clientId", s("noaccount")), ("clientSecret", s("x"))]), "AppDynamicsClient: clientId must be apiClientName@accountName"),
            (opts(&[("controllerUrl", s("https://c.example")), ("clientName", s("n")), ("clientSecret", s("x"))]), "AppDynamicsClient: accountName is required with clientName (customer1 on single-tenant on-premises controllers)"),
            (opts(&[("controllerUrl", s("https://c.example")), ("clientName", s("n")), ("accountName", s("a"))]), "AppDynamicsClient: clientSecret is required (or accessToken, a temporary token from the Controller UI)"),
            (opts(&[("controllerUrl", s("https://c.example")), ("accessToken", s("t")), ("tokenContentType", s("json"))]), "AppDynamicsClient: tokenContentType must be \"auto\", \"form\" or \"vendor\""),
        ] {
            assert_eq!(config(&o).unwrap_err().message, want);
        }
    }

    #[test]
    fn output_json_only_on_rest() {
        let o = url::parse("https://c.example").unwrap().origin;
        assert_eq!(
            api_url("https://c.example/controller/rest/applications", &o),
            "https://c.example/controller/rest/applications?output=JSON"
        );
        assert_eq!(
            api_url(
                "https://c.example/controller/rest/applications?output=XML",
                &o
            ),
            "https://c.example/controller/rest/applications?output=XML"
        );
        assert_eq!(
            api_url("https://c.example/controller/api/accounts/myaccount", &o),
            "https://c.example/controller/api/accounts/myaccount"
        );
    }

    #[test]
    fn jwt_expiry_and_applications() {
        // {"alg":"none"}.{"exp":1700000000}
        assert_eq!(
            jwt_expiry_ms("eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.sig"),
            Some(1.7e12)
        );
        assert_eq!(jwt_expiry_ms("opaque-token"), None);
        let apps =
            parse_applications(r#"[{"description":"","id":5,"name":"ECommerce_E2E"}]"#).unwrap();
        assert_eq!(
            apps,
            vec![Application {
                id: 5.0,
                name: "ECommerce_E2E".into(),
                description: String::new()
            }]
        );
        assert_eq!(
            parse_applications("<applications/>").unwrap_err().code,
            Code::InvalidResponse
        );
    }
}
