//! Token responses: a success body becomes a [`Token`], anything else becomes an [`Error`] that
//! says what happened and what to check. Vendor wording lives in `dynatrace` and `appdynamics`.

use super::body::{Field, Parsed};
use super::config::Vendor;
use super::error::{Code, Error};
use super::secret::Secret;
use super::text::{contains, decimal, fields_quote, looks_like_html, snippet};
use super::{appdynamics, dynatrace, oauth};

/// Lifetime assumed when `expires_in` is missing or not a number: Dynatrace's and AppDynamics'
/// default (the field is only "recommended" by RFC 6749 §5.1).
pub const DEFAULT_LIFETIME_S: f64 = 300.0;
/// Longest lifetime believed: 30 days, the longest an AppDynamics UI token lives. A larger value
/// is a server bug or an attack on the cache, and is capped.
pub const MAX_LIFETIME_S: f64 = 30.0 * 24.0 * 3600.0;

/// An access token and what is known about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The bearer token.
    pub access_token: Secret,
    /// Always `"Bearer"` (other types are refused).
    pub token_type: &'static str,
    /// When it expires, in ms since the epoch.
    pub expires_at_ms: f64,
    /// Its lifetime in ms as the server stated it (after the rules above); 0 for a token that
    /// is used once and not cached.
    pub lifetime_ms: f64,
    /// The scopes granted, when the server said.
    pub scope: Option<String>,
    /// The resource (Dynatrace account URN), when the server said.
    pub resource: Option<String>,
    /// The refresh token, when the server gave a non-empty one.
    pub refresh_token: Option<Secret>,
    /// The OpenID Connect ID token, when the server gave a non-empty one.
    pub id_token: Option<Secret>,
}

/// What the transport read of a token endpoint's answer.
#[derive(Clone, Copy, Debug)]
pub struct Response<'a> {
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` header, or empty.
    pub content_type: &'a str,
    /// The body text, as far as it was read.
    pub body: &'a str,
    /// What the body text parsed to.
    pub json: &'a Parsed,
    /// `Retry-After` already converted to seconds from now.
    pub retry_after: Option<f64>,
    /// How a numeric string reads as a number: [`rust_number`] natively, the platform's `Number`
    /// in the wasm (a float parser costs the wasm more than the rest of the token rules).
    pub number: fn(&str) -> Option<f64>,
}

/// A numeric string as Rust reads it.
pub fn rust_number(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// Whether a token can be sent as `Authorization: Bearer <token>`: no control character (a line
/// break), no space and nothing beyond ASCII. The platform's `Headers` throws on some of these
/// and its HTTP layer refuses the others.
pub fn header_safe(token: &str) -> bool {
    !token
        .chars()
        .any(|c| c.is_control() || c == ' ' || !c.is_ascii())
}

/// Reads `expires_in`: a number or a numeric string (some servers quote it). Missing, `null` or
/// not a number → [`DEFAULT_LIFETIME_S`]; 0 or negative → 0 (the token is used by the calls
/// waiting for it and not cached); more than [`MAX_LIFETIME_S`] → capped.
pub fn lifetime_seconds(v: &Field, number: fn(&str) -> Option<f64>) -> f64 {
    let n = match v {
        Field::Num(n) => *n,
        Field::Str(s) => number(super::text::trim(s))
            .filter(|n| n.is_finite())
            .unwrap_or(DEFAULT_LIFETIME_S),
        _ => DEFAULT_LIFETIME_S,
    };
    clamp_lifetime(n)
}

fn clamp_lifetime(n: f64) -> f64 {
    if n <= 0.0 {
        0.0
    } else {
        n.min(MAX_LIFETIME_S).floor()
    }
}

/// Turns a token endpoint's answer into a token or an error.
pub fn parse_response(vendor: Vendor, r: &Response<'_>, now_ms: f64) -> Result<Token, Error> {
    if !(200..300).contains(&r.status) {
        return Err(error_response(vendor, r));
    }
    if is_html(r) {
        return Err(html_error(vendor, Code::InvalidResponse, r));
    }
    let invalid = |what: &str| {
        Error::new(
            Code::InvalidResponse,
            [
                "the token endpoint answered HTTP ",
                &decimal(r.status.into()),
                " but ",
                what,
            ]
            .concat(),
        )
        .status(r.status)
    };
    if super::text::trim(r.body).is_empty() {
        return Err(invalid("with an empty body").hint(vendor_url_hint(vendor)));
    }
    let v = match r.json {
        Parsed::Object(v) => v,
        Parsed::NotObject => return Err(invalid("its body is JSON that is not an object")),
        Parsed::NotJson => {
            return Err(
                invalid("its body is not JSON (cut short, or not a token endpoint)")
                    .hint(vendor_url_hint(vendor)),
            )
        }
    };
    let access_token = match v.access_token.as_str() {
        Some(t) if !t.is_empty() => t,
        _ => {
            // A server that puts its refusal in a success (RFC 6749 §5.2 fields): say what it said.
            let mut e = invalid("without an access_token");
            if let Some(f) = error_fields(r.json).filter(|f| f.error.is_some()) {
                e.message.push_str(&fields_quote(
                    f.error.as_deref().unwrap_or_default(),
                    f.description.as_deref(),
                ));
                e.error = f.error;
                e.error_description = f.description;
            }
            return Err(e);
        }
    };
    if !header_safe(access_token) {
        return Err(invalid(
            "its access_token has characters an Authorization header cannot carry",
        ));
    }
    match &v.token_type {
        Field::Missing | Field::Null => {}
        Field::Str(t) if t.eq_ignore_ascii_case("bearer") => {}
        Field::Str(t) => {
            return Err(invalid(
                &[
                    "with token_type \"",
                    &snippet(t, 20),
                    "\": only Bearer tokens are supported",
                ]
                .concat(),
            ));
        }
        _ => return Err(invalid("with a token_type that is not a string")),
    }
    let lifetime_s = lifetime_seconds(&v.expires_in, r.number);
    let secret = |f: &Field| f.as_str().filter(|s| !s.is_empty()).map(Secret::from);
    Ok(Token {
        access_token: Secret::new(access_token),
        token_type: "Bearer",
        expires_at_ms: now_ms + lifetime_s * 1000.0,
        lifetime_ms: lifetime_s * 1000.0,
        scope: v.scope.as_str().map(str::to_string),
        resource: v.resource.as_str().map(str::to_string),
        refresh_token: secret(&v.refresh_token),
        id_token: secret(&v.id_token),
    })
}

fn is_html(r: &Response<'_>) -> bool {
    looks_like_html(r.body) || contains(&r.content_type.to_ascii_lowercase(), "text/html")
}

fn vendor_url_hint(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Dynatrace => dynatrace::TOKEN_URL_HINT,
        Vendor::AppDynamics => appdynamics::TOKEN_URL_HINT,
        Vendor::Generic => oauth::TOKEN_URL_HINT,
    }
}

fn html_error(vendor: Vendor, code: Code, r: &Response<'_>) -> Error {
    let mut msg = [
        "the token URL answered with HTML (HTTP ",
        &decimal(r.status.into()),
    ]
    .concat();
    let title = snippet(r.body, 60);
    if !title.is_empty() {
        msg.push_str(", \"");
        msg.push_str(&title);
        msg.push('"');
    }
    msg.push(')');
    Error::new(code, msg)
        .status(r.status)
        .hint(vendor_url_hint(vendor))
}

/// The fields of an error body, whatever mix of OAuth (RFC 6749 §5.2) and vendor fields it has.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorFields {
    /// OAuth `error`.
    pub error: Option<String>,
    /// OAuth `error_description`, or a vendor's `message` when that is all there is.
    pub description: Option<String>,
    /// Dynatrace `issueId`.
    pub issue_id: Option<String>,
}

/// Reads an error body: `{"error","error_description"}`, Dynatrace's mixed shape with
/// `errorCode`/`message`/`issueId`, or the platform shape `{"error":{"code","message"}}`.
pub fn error_fields(parsed: &Parsed) -> Option<ErrorFields> {
    let Parsed::Object(v) = parsed else {
        return None;
    };
    let mut f = ErrorFields {
        issue_id: v.issue_id.as_str().map(str::to_string),
        ..Default::default()
    };
    match &v.error {
        Field::Str(e) => f.error = Some(e.clone()),
        Field::Obj { message } => f.description = message.clone(),
        _ => {}
    }
    if let Some(d) = v.error_description.as_str() {
        f.description = Some(d.to_string());
    }
    if f.description.is_none() && f.error.is_some() {
        f.description = v.message.as_str().map(str::to_string);
    }
    Some(f)
}

/// The error for a non-2xx answer of a token endpoint.
pub fn error_response(vendor: Vendor, r: &Response<'_>) -> Error {
    let status = r.status;
    let fields = error_fields(r.json);
    let has_fields = fields.is_some();
    let f = fields.unwrap_or_default();
    let desc = f.description.as_deref().unwrap_or("");

    let code = if status == 429 {
        Code::RateLimited
    } else if status >= 500 {
        Code::ServerError
    } else {
        match f.error.as_deref() {
            Some("invalid_client" | "unauthorized_client") => Code::InvalidClient,
            Some("invalid_scope") => Code::InvalidScope,
            _ if dynatrace::says_wrong_credentials(desc) => Code::InvalidClient,
            _ if dynatrace::missing_scopes(desc).is_some() => Code::InvalidScope,
            _ if status == 401 => Code::InvalidClient,
            _ => Code::TokenError,
        }
    };

    // A login page answering a 401 comes from the right host: the credentials are what to check.
    let html = !has_fields && code != Code::InvalidClient && is_html(r);

    // "(HTTP 400 invalid_request, issueId X)" or "(HTTP 415: Invalid Content Type)"
    let mut detail = ["(HTTP ", &decimal(status.into())].concat();
    if let Some(e) = &f.error {
        detail.push(' ');
        detail.push_str(&snippet(e, 40));
    }
    if let Some(id) = &f.issue_id {
        detail.push_str(", issueId ");
        detail.push_str(&snippet(id, 40));
    }
    detail.push(')');

    let mut e = if html {
        html_error(vendor, code, r)
    } else {
        // ": <the server's description>", where the message quotes it.
        let said = f
            .description
            .as_deref()
            .map(|d| [": ", &snippet(d, 200)].concat());
        let (message, hint): (String, Option<String>) = match code {
            // RFC 6749 §5.2: the client was authenticated, but may not use this grant.
            Code::InvalidClient if f.error.as_deref() == Some("unauthorized_client") => (
                [
                    "the token request was refused: the client may not use this grant ",
                    &detail,
                ]
                .concat(),
                Some("allow the grant for the client on the server: client credentials, or authorization code and refresh token to sign users in".into()),
            ),
            Code::InvalidClient => (
                [
                    "the token request was refused: the client id or secret is wrong ",
                    &detail,
                ]
                .concat(),
                Some(credentials_hint(vendor).into()),
            ),
            Code::InvalidScope => match dynatrace::missing_scopes(desc) {
                Some(list) => (
                    [
                        "the OAuth client is missing the scopes [",
                        &snippet(list, 300),
                        "] ",
                        &detail,
                    ]
                    .concat(),
                    Some(dynatrace::SCOPE_HINT.into()),
                ),
                None => (
                    [
                        "the token request was refused: a requested scope is not allowed ",
                        &detail,
                    ]
                    .concat(),
                    Some("ask only for scopes the client has been granted".into()),
                ),
            },
            Code::RateLimited => {
                let mut m = String::from("the token endpoint is rate limiting (HTTP 429)");
                if let Some(s) = r.retry_after {
                    m.push_str(&[", retry after ", &decimal(s.ceil() as u64), " s"].concat());
                }
                (m, Some("share one client between calls so its cached token is reused; wait before trying again".into()))
            }
            Code::ServerError => (
                [
                    "the token endpoint failed ",
                    &detail,
                    &said.unwrap_or_default(),
                ]
                .concat(),
                Some("the service may be down or overloaded; try again later".into()),
            ),
            _ => {
                let mut m = ["the token request was refused ", &detail].concat();
                if let Some(s) = &said {
                    m.push_str(s);
                } else if !has_fields && !super::text::trim(r.body).is_empty() {
                    m.push_str(": ");
                    m.push_str(&snippet(r.body, 120));
                }
                let hint = match status {
                    404 | 405 => Some(vendor_url_hint(vendor).to_string()),
                    // Token requests never follow redirects (the credentials would go along);
                    // a browser reports a refused redirect as status 0.
                    0 | 300..=399 => Some(
                        "the token URL redirects: give the final token endpoint URL".to_string(),
                    ),
                    _ => match vendor {
                        Vendor::AppDynamics => appdynamics::refusal_hint(status, r.body),
                        Vendor::Dynatrace => dynatrace::refusal_hint(desc),
                        Vendor::Generic => None,
                    },
                };
                (m, hint)
            }
        };
        let mut e = Error::new(code, message).status(status);
        e.hint = hint;
        e
    };
    e.error = f.error;
    e.error_description = f.description;
    e.issue_id = f.issue_id;
    e.retry_after = r.retry_after;
    e
}

fn credentials_hint(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Dynatrace => dynatrace::CREDENTIALS_HINT,
        Vendor::AppDynamics => appdynamics::CREDENTIALS_HINT,
        Vendor::Generic => oauth::CREDENTIALS_HINT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::body::testing::parsed;

    fn json(body: &str) -> &'static Parsed {
        Box::leak(Box::new(parsed(body)))
    }

    fn ok(body: &str) -> Response<'_> {
        Response {
            status: 200,
            content_type: "application/json",
            body,
            json: json(body),
            retry_after: None,
            number: rust_number,
        }
    }

    #[test]
    fn dynatrace_success() {
        let t = parse_response(Vendor::Dynatrace, &ok(r#"{"scope":"app-engine:apps:run","token_type":"Bearer","expires_in":300,"access_token":"eyJ.a.b","resource":"urn:dtaccount:x"}"#), 1000.0).unwrap();
        assert_eq!(t.access_token.expose(), "eyJ.a.b");
        assert_eq!(t.expires_at_ms, 301_000.0);
        assert_eq!(t.scope.as_deref(), Some("app-engine:apps:run"));
        assert_eq!(t.resource.as_deref(), Some("urn:dtaccount:x"));
    }

    #[test]
    fn refresh_and_id_tokens_are_kept_as_secrets() {
        let t = parse_response(
            Vendor::Generic,
            &ok(r#"{"access_token":"a","refresh_token":"r.t","id_token":"i.d.t"}"#),
            0.0,
        )
        .unwrap();
        assert_eq!(t.refresh_token, Some(Secret::from("r.t")));
        assert_eq!(t.id_token.as_ref().map(Secret::expose), Some("i.d.t"));
        assert!(!format!("{t:?}").contains("r.t"));
        let t = parse_response(
            Vendor::Generic,
            &ok(r#"{"access_token":"a","refresh_token":"","id_token":7}"#),
            0.0,
        )
        .unwrap();
        assert_eq!((t.refresh_token, t.id_token), (None, None));
    }

    #[test]
    fn lenient_fields() {
        let t = parse_response(
            Vendor::AppDynamics,
            &ok(r#"{"access_token":"j.w.t","expires_in":"120"}"#),
            0.0,
        )
        .unwrap();
        assert_eq!((t.token_type, t.lifetime_ms), ("Bearer", 120_000.0));
        let t = parse_response(
            Vendor::Generic,
            &ok(r#"{"access_token":"a","token_type":"bEaReR"}"#),
            0.0,
        )
        .unwrap();
        assert_eq!(t.lifetime_ms, 300_000.0);
    }

    #[test]
    fn expires_in_in_every_odd_form() {
        let cases: [(&str, f64); 10] = [
            ("300", 300.0),
            ("\"300\"", 300.0),
            ("\" 45 \"", 45.0),
            ("0", 0.0),
            ("-5", 0.0),
            ("1e12", MAX_LIFETIME_S),
            ("\"abc\"", DEFAULT_LIFETIME_S),
            ("null", DEFAULT_LIFETIME_S),
            ("true", DEFAULT_LIFETIME_S),
            ("12.9", 12.0),
        ];
        for (raw, want) in cases {
            let body = format!(r#"{{"access_token":"a","expires_in":{raw}}}"#);
            assert_eq!(
                parse_response(Vendor::Generic, &ok(&body), 0.0)
                    .unwrap()
                    .lifetime_ms,
                want * 1000.0,
                "{raw}"
            );
        }
    }

    #[test]
    fn bad_successes_are_invalid_response() {
        for body in [
            "",
            "{\"access_token\":\"a\",",
            "[]",
            "{}",
            r#"{"access_token":""}"#,
            r#"{"access_token":"a","token_type":"mac"}"#,
            r#"{"access_token":"a b"}"#,
        ] {
            let e = parse_response(Vendor::Dynatrace, &ok(body), 0.0).unwrap_err();
            assert_eq!(e.code, Code::InvalidResponse, "{body}");
            assert_eq!(e.status, Some(200));
        }
        // A refusal put into a success: what the server said is kept.
        let e = parse_response(
            Vendor::Generic,
            &ok(r#"{"error":"invalid_request","error_description":"grant_type is missing"}"#),
            0.0,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "the token endpoint answered HTTP 200 but without an access_token (invalid_request: grant_type is missing)"
        );
        assert_eq!(
            (e.error.as_deref(), e.error_description.as_deref()),
            (Some("invalid_request"), Some("grant_type is missing"))
        );
        let e = parse_response(
            Vendor::Dynatrace,
            &ok("<!DOCTYPE html><title>Login</title>"),
            0.0,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "the token URL answered with HTML (HTTP 200, \"Login\")"
        );
        assert_eq!(e.hint.as_deref(), Some(dynatrace::TOKEN_URL_HINT));
    }

    #[test]
    fn a_login_page_answering_401_is_about_the_credentials() {
        let body = "<html><title>AppDynamics - Sign in</title></html>";
        let r = Response {
            status: 401,
            content_type: "text/html",
            json: json(body),
            ..ok(body)
        };
        let e = error_response(Vendor::AppDynamics, &r);
        assert_eq!(e.code, Code::InvalidClient);
        assert!(e.message.starts_with(
            "the token request was refused: the client id or secret is wrong (HTTP 401)"
        ));
        assert_ne!(e.hint.as_deref(), Some(appdynamics::TOKEN_URL_HINT));
    }

    #[test]
    fn mac_token_type_does_not_quote_the_token() {
        let e = parse_response(
            Vendor::Generic,
            &ok(r#"{"access_token":"SECRET-TOKEN-VALUE","token_type":"mac"}"#),
            0.0,
        )
        .unwrap_err();
        assert_eq!(e.message, "the token endpoint answered HTTP 200 but with token_type \"mac\": only Bearer tokens are supported");
    }

    #[test]
    fn dynatrace_wrong_secret() {
        let body = r#"{"errorCode":400,"message":"Bad Request","issueId":"Q7P5EUSO5T6AXQYY","error":"invalid_request","error_description":"Invalid OAuth2 request. UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED | ClientId or clientSecret is not correct."}"#;
        let e = error_response(
            Vendor::Dynatrace,
            &Response {
                status: 400,
                content_type: "application/json",
                body,
                json: json(body),
                retry_after: None,
                number: rust_number,
            },
        );
        assert_eq!(e.code, Code::InvalidClient);
        assert_eq!(e.message, "the token request was refused: the client id or secret is wrong (HTTP 400 invalid_request, issueId Q7P5EUSO5T6AXQYY)");
        assert_eq!(e.status, Some(400));
        assert_eq!(e.error.as_deref(), Some("invalid_request"));
        assert_eq!(e.issue_id.as_deref(), Some("Q7P5EUSO5T6AXQYY"));
        assert!(e
            .error_description
            .unwrap()
            .ends_with("ClientId or clientSecret is not correct."));
    }

    #[test]
    fn dynatrace_missing_scopes() {
        let body = r#"{"errorCode":400,"issueId":"ABC","error":"invalid_request","error_description":"Invalid OAuth2 request. UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED | OAuth client is missing following scopes [settings:objects:read, storage:logs:read]"}"#;
        let e = error_response(
            Vendor::Dynatrace,
            &Response {
                status: 400,
                content_type: "application/json",
                body,
                json: json(body),
                retry_after: None,
                number: rust_number,
            },
        );
        assert_eq!(e.code, Code::InvalidScope);
        assert_eq!(e.message, "the OAuth client is missing the scopes [settings:objects:read, storage:logs:read] (HTTP 400 invalid_request, issueId ABC)");
    }

    #[test]
    fn statuses_map_to_codes() {
        let r = |status, body| Response {
            status,
            content_type: "text/plain",
            body,
            json: json(body),
            retry_after: Some(7.0),
            number: rust_number,
        };
        assert_eq!(
            error_response(Vendor::Generic, &r(429, "")).code,
            Code::RateLimited
        );
        assert_eq!(
            error_response(Vendor::Generic, &r(429, "")).message,
            "the token endpoint is rate limiting (HTTP 429), retry after 7 s"
        );
        assert_eq!(
            error_response(Vendor::Generic, &r(503, "down")).code,
            Code::ServerError
        );
        let body = r#"{"error":"server_error","error_description":"database unavailable"}"#;
        assert_eq!(
            error_response(Vendor::Generic, &r(500, body)).message,
            "the token endpoint failed (HTTP 500 server_error): database unavailable"
        );
        assert_eq!(
            error_response(Vendor::AppDynamics, &r(401, "")).code,
            Code::InvalidClient
        );
        assert_eq!(
            error_response(Vendor::Generic, &r(400, r#"{"error":"invalid_scope"}"#)).code,
            Code::InvalidScope
        );
        assert_eq!(
            error_response(Vendor::Generic, &r(401, r#"{"error":"invalid_client"}"#)).code,
            Code::InvalidClient
        );
        // A client that may not use the grant: its id and secret are right (RFC 6749 §5.2).
        let e = error_response(
            Vendor::Generic,
            &r(400, r#"{"error":"unauthorized_client"}"#),
        );
        assert_eq!(e.code, Code::InvalidClient);
        assert_eq!(
            e.message,
            "the token request was refused: the client may not use this grant (HTTP 400 unauthorized_client)"
        );
        assert!(e
            .hint
            .unwrap()
            .starts_with("allow the grant for the client"));
        let e = error_response(Vendor::AppDynamics, &r(415, "Invalid Content Type"));
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                Code::TokenError,
                "the token request was refused (HTTP 415): Invalid Content Type"
            )
        );
        assert!(e.hint.unwrap().contains("tokenContentType"));
        let e = error_response(
            Vendor::Dynatrace,
            &r(400, "<html><head><title>Dynatrace</title></head></html>"),
        );
        assert_eq!(e.code, Code::TokenError);
        assert_eq!(
            e.message,
            "the token URL answered with HTML (HTTP 400, \"Dynatrace\")"
        );
    }

    #[test]
    fn platform_error_shape() {
        let f = error_fields(json(r#"{"error":{"code":403,"message":"Forbidden"}}"#)).unwrap();
        assert_eq!(
            f,
            ErrorFields {
                error: None,
                description: Some("Forbidden".into()),
                issue_id: None
            }
        );
    }

    #[test]
    fn redirects_are_refused() {
        let r = Response {
            status: 302,
            content_type: "",
            body: "",
            json: &Parsed::NotJson,
            retry_after: None,
            number: rust_number,
        };
        let e = error_response(Vendor::Generic, &r);
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::TokenError, "the token request was refused (HTTP 302)")
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("the token URL redirects: give the final token endpoint URL")
        );
    }
}
