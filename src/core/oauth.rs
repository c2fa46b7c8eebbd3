//! What every OAuth 2.0 client-credentials client shares (RFC 6749 §4.4): the token request, the
//! generic server's options, and the wording for a generic server.

use super::appdynamics::{self, Attempt, Mode};
use super::config::{AuthMethod, Config, RawOptions, Reader, Vendor};
use super::encoding::{basic_client_auth, basic_raw, form_encode};
use super::error::Error;
use super::secret::Secret;
use super::url;

/// Hint when a token URL answers like something else.
pub const TOKEN_URL_HINT: &str = "check tokenUrl: it must be the server's token endpoint";
/// Hint when a generic server refuses the credentials.
pub const CREDENTIALS_HINT: &str = "check clientId and clientSecret, and authMethod (client_secret_basic or client_secret_post) as the server registered the client";

/// A request to send: method is always POST for token requests.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// The URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The form body.
    pub body: String,
}

/// Builds the token request for an attempt. `attempt` only matters for AppDynamics, whose older
/// controllers want another content type and HTTP Basic.
pub fn token_request(cfg: &Config, attempt: Attempt) -> HttpRequest {
    let secret = cfg.secret.as_ref().map(Secret::expose).unwrap_or("");
    let mut pairs: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    let content_type = match cfg.vendor {
        Vendor::AppDynamics => {
            // The controller always wants the credentials in the body; before 4.5.9 it also wants
            // them as Basic, raw as `curl -u` sends them.
            pairs.push(("client_id", &cfg.client_id));
            pairs.push(("client_secret", secret));
            if attempt.basic {
                headers.push(("Authorization", basic_raw(&cfg.client_id, secret)));
            }
            if attempt.vendor_type {
                appdynamics::VENDOR_CONTENT_TYPE
            } else {
                appdynamics::FORM_CONTENT_TYPE
            }
        }
        _ => {
            match cfg.auth {
                AuthMethod::Post => {
                    pairs.push(("client_id", &cfg.client_id));
                    pairs.push(("client_secret", secret));
                }
                AuthMethod::Basic => {
                    headers.push(("Authorization", basic_client_auth(&cfg.client_id, secret)))
                }
            }
            "application/x-www-form-urlencoded"
        }
    };
    for (k, v) in &cfg.params {
        pairs.push((k, v));
    }
    headers.insert(0, ("Content-Type", content_type.to_string()));
    headers.insert(1, ("Accept", "application/json".to_string()));
    HttpRequest {
        url: cfg.token_url.clone(),
        headers,
        body: form_encode(&pairs),
    }
}

/// Options of `OAuthClient`.
pub const OPTIONS: [&str; 9] = [
    "tokenUrl",
    "clientId",
    "clientSecret",
    "scope",
    "resource",
    "audience",
    "authMethod",
    "baseUrl",
    "extraParams",
];

/// Checks `OAuthClient` options.
pub fn config(opts: &RawOptions) -> Result<Config, Error> {
    let r = Reader::new("OAuthClient", opts, &OPTIONS)?;
    let common = r.common()?;
    let token_url = url::parse_config_url(
        "tokenUrl",
        &r.required("tokenUrl")?,
        common.allow_insecure_http,
    )?;
    let client_id = r.required("clientId")?;
    let secret = Secret::new(r.required("clientSecret")?);
    let auth = match r.string("authMethod")?.as_deref() {
        None | Some("client_secret_basic") => AuthMethod::Basic,
        Some("client_secret_post") => AuthMethod::Post,
        Some(_) => {
            return Err(r.bad(
                "authMethod",
                "must be \"client_secret_basic\" or \"client_secret_post\"",
            ))
        }
    };
    let api_origin = match r.string("baseUrl")? {
        Some(u) => Some(url::parse_config_url("baseUrl", &u, common.allow_insecure_http)?.origin),
        None => None,
    };
    let mut params = Vec::new();
    if let Some(s) = r.words("scope")? {
        params.push(("scope".to_string(), s));
    }
    // RFC 8707: one `resource` parameter per resource.
    for res in r.list("resource")? {
        params.push(("resource".to_string(), res));
    }
    for a in r.list("audience")? {
        params.push(("audience".to_string(), a));
    }
    for (k, v) in r.map("extraParams")? {
        if matches!(k.as_str(), "grant_type" | "client_id" | "client_secret") {
            return Err(r.bad(
                "extraParams",
                "must not set grant_type, client_id or client_secret",
            ));
        }
        params.push((k, v));
    }
    Ok(Config {
        vendor: Vendor::Generic,
        token_url: url::resolve(&token_url.origin, &token_url.rest)?,
        client_id,
        secret: Some(secret),
        static_token: None,
        params,
        auth,
        appd: Mode::default(),
        api_origin,
        common,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Raw;

    fn opts(v: &[(&str, Raw)]) -> RawOptions {
        RawOptions(v.iter().map(|(k, r)| (k.to_string(), r.clone())).collect())
    }
    fn s(v: &str) -> Raw {
        Raw::Str(v.into())
    }

    #[test]
    fn generic_basic_request_exact_bytes() {
        let cfg = config(&opts(&[
            ("tokenUrl", s("https://idp.example/oauth/token")),
            ("clientId", s("my client")),
            ("clientSecret", s("p:a%s+s w/ö")),
            ("scope", Raw::List(vec!["read".into(), "write".into()])),
            (
                "resource",
                Raw::List(vec!["https://api.example/".into(), "urn:x".into()]),
            ),
            ("extraParams", Raw::Map(vec![("foo".into(), "b&r".into())])),
        ]))
        .unwrap();
        let req = token_request(&cfg, Attempt::default());
        assert_eq!(req.url, "https://idp.example/oauth/token");
        assert_eq!(
            req.headers,
            vec![
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded".to_string()
                ),
                ("Accept", "application/json".to_string()),
                (
                    "Authorization",
                    "Basic bXkrY2xpZW50OnAlM0FhJTI1cyUyQnMrdyUyRiVDMyVCNg==".to_string()
                ),
            ]
        );
        assert_eq!(req.body, "grant_type=client_credentials&scope=read+write&resource=https%3A%2F%2Fapi.example%2F&resource=urn%3Ax&foo=b%26r");
    }

    #[test]
    fn generic_post_request() {
        let cfg = config(&opts(&[
            ("tokenUrl", s("http://127.0.0.1:9/t")),
            ("clientId", s("c")),
            ("clientSecret", s("s")),
            ("authMethod", s("client_secret_post")),
            ("audience", s("aud")),
        ]))
        .unwrap();
        let req = token_request(&cfg, Attempt::default());
        assert_eq!(req.headers.len(), 2);
        assert_eq!(
            req.body,
            "grant_type=client_credentials&client_id=c&client_secret=s&audience=aud"
        );
    }

    #[test]
    fn generic_option_errors() {
        let e = config(&opts(&[
            ("tokenUrl", s("http://idp.example/t")),
            ("clientId", s("c")),
            ("clientSecret", s("s")),
        ]))
        .unwrap_err();
        assert_eq!(e.code, crate::core::Code::InsecureUrl);
        let e = config(&opts(&[
            ("tokenUrl", s("https://idp.example/t")),
            ("clientId", s("c")),
            ("clientSecret", s("s")),
            ("authMethod", s("private_key_jwt")),
        ]))
        .unwrap_err();
        assert_eq!(
            e.message,
            "OAuthClient: authMethod must be \"client_secret_basic\" or \"client_secret_post\""
        );
    }
}
