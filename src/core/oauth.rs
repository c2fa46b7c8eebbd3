//! What every OAuth 2.0 client-credentials client shares (RFC 6749 §4.4): the token request, the
//! generic server's options, and the wording for a generic server.

use super::appdynamics::{self, Attempt};
use super::config::{AuthMethod, Config, Vendor};
use super::encoding::{basic_client_auth, basic_raw, form_encode};
use super::secret::Secret;

/// Hint when a token URL answers like something else.
pub const TOKEN_URL_HINT: &str = "check tokenUrl: it must be the server's token endpoint";
/// Hint when a generic server refuses the credentials.
pub const CREDENTIALS_HINT: &str = "check clientId and clientSecret, and authMethod (client_secret_basic or client_secret_post) as the server registered the client";

/// A token request's headers and body (always a POST to the token URL).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// Header names and values, in order: `Content-Type`, `Accept`.
    pub headers: Vec<(&'static str, String)>,
    /// The `user:password` credentials to send as `Authorization: Basic` followed by the base64
    /// of their UTF-8 bytes, when the request authenticates that way.
    pub basic: Option<String>,
    /// The form body.
    pub body: String,
}

/// A grant other than client credentials: a user's sign-in.
#[derive(Clone, Copy, Debug)]
pub enum Grant<'a> {
    /// RFC 6749 §4.1.3: the code from the redirect, with the PKCE verifier (RFC 7636 §4.5).
    AuthorizationCode {
        /// The code.
        code: &'a str,
        /// The redirect URI the code was sent to.
        redirect_uri: &'a str,
        /// The PKCE code verifier.
        verifier: &'a str,
    },
    /// RFC 6749 §6: a new access token for a refresh token.
    RefreshToken(&'a str),
}

/// The token request of a user's grant. A public client (no secret) names itself in the body; a
/// confidential one authenticates as for client credentials.
pub fn grant_request(cfg: &Config, grant: Grant<'_>) -> HttpRequest {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    match grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            verifier,
        } => {
            pairs.push(("grant_type", "authorization_code"));
            pairs.push(("code", code));
            pairs.push(("redirect_uri", redirect_uri));
            pairs.push(("code_verifier", verifier));
        }
        Grant::RefreshToken(token) => {
            pairs.push(("grant_type", "refresh_token"));
            pairs.push(("refresh_token", token));
        }
    }
    let mut basic = None;
    match (cfg.secret.as_ref().map(Secret::expose), cfg.auth) {
        (Some(secret), AuthMethod::Basic) if !secret.is_empty() => {
            basic = Some(basic_client_auth(&cfg.client_id, secret))
        }
        (Some(secret), AuthMethod::Post) if !secret.is_empty() => {
            pairs.push(("client_id", &cfg.client_id));
            pairs.push(("client_secret", secret));
        }
        _ => pairs.push(("client_id", &cfg.client_id)),
    }
    form_request("application/x-www-form-urlencoded", &pairs, basic)
}

/// Builds the token request for an attempt. `attempt` only matters for AppDynamics, whose older
/// controllers want another content type and HTTP Basic.
pub fn token_request(cfg: &Config, attempt: Attempt) -> HttpRequest {
    let secret = cfg.secret.as_ref().map(Secret::expose).unwrap_or("");
    let mut pairs: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    let mut basic = None;
    let content_type = match cfg.vendor {
        Vendor::AppDynamics => {
            // The controller always wants the credentials in the body; before 4.5.9 it also wants
            // them as Basic, raw as `curl -u` sends them.
            pairs.push(("client_id", &cfg.client_id));
            pairs.push(("client_secret", secret));
            if attempt.basic {
                basic = Some(basic_raw(&cfg.client_id, secret));
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
                AuthMethod::Basic => basic = Some(basic_client_auth(&cfg.client_id, secret)),
            }
            "application/x-www-form-urlencoded"
        }
    };
    for (k, v) in &cfg.params {
        pairs.push((k, v));
    }
    form_request(content_type, &pairs, basic)
}

/// A token request of form `pairs` sent as `content_type`, asking for JSON.
fn form_request(content_type: &str, pairs: &[(&str, &str)], basic: Option<String>) -> HttpRequest {
    HttpRequest {
        headers: vec![
            ("Content-Type", content_type.to_string()),
            ("Accept", "application/json".to_string()),
        ],
        basic,
        body: form_encode(pairs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_grants_exact_bytes() {
        let mut c = Config {
            vendor: Vendor::Dynatrace,
            client_id: "dt0s12.ABC".into(),
            secret: None,
            params: vec![("scope".into(), "x".into())],
            auth: AuthMethod::Post,
            appd: crate::core::appdynamics::Mode::default(),
        };
        let code = Grant::AuthorizationCode {
            code: "c/1",
            redirect_uri: "http://localhost:3232/auth/login",
            verifier: "v-._~",
        };
        let r = grant_request(&c, code);
        assert_eq!(r.body, "grant_type=authorization_code&code=c%2F1&redirect_uri=http%3A%2F%2Flocalhost%3A3232%2Fauth%2Flogin&code_verifier=v-._%7E&client_id=dt0s12.ABC");
        assert_eq!(r.basic, None);
        let r = grant_request(&c, Grant::RefreshToken("r+1"));
        assert_eq!(
            r.body,
            "grant_type=refresh_token&refresh_token=r%2B1&client_id=dt0s12.ABC"
        );
        c.secret = Some(Secret::new("s"));
        c.auth = AuthMethod::Basic;
        let r = grant_request(&c, Grant::RefreshToken("r"));
        assert_eq!(r.body, "grant_type=refresh_token&refresh_token=r");
        assert_eq!(r.basic.as_deref(), Some("dt0s12.ABC:s"));
    }
    use crate::core::appdynamics::Mode;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn cfg(
        vendor: Vendor,
        id: &str,
        secret: &str,
        auth: AuthMethod,
        params: &[(&str, &str)],
    ) -> Config {
        Config {
            vendor,
            client_id: id.into(),
            secret: Some(Secret::new(secret)),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            auth,
            appd: Mode::default(),
        }
    }

    #[test]
    fn dynatrace_request_exact_bytes() {
        let c = cfg(
            Vendor::Dynatrace,
            "dt0s02.JDMK2DWV",
            "dt0s02.JDMK2DWV.SECRET+/=",
            AuthMethod::Post,
            &[
                ("scope", "app-engine:apps:run storage:logs:read"),
                ("resource", "urn:dtaccount:0000-1111"),
            ],
        );
        let req = token_request(&c, Attempt::default());
        assert_eq!(
            req.headers,
            vec![
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded".to_string()
                ),
                ("Accept", "application/json".to_string())
            ]
        );
        assert_eq!(
            req.body,
            "grant_type=client_credentials&client_id=dt0s02.JDMK2DWV&client_secret=dt0s02.JDMK2DWV.SECRET%2B%2F%3D&scope=app-engine%3Aapps%3Arun+storage%3Alogs%3Aread&resource=urn%3Adtaccount%3A0000-1111"
        );
        assert_eq!(req.basic, None);
        assert!(!format!("{c:?}").contains("SECRET"));
    }

    #[test]
    fn generic_basic_request_exact_bytes() {
        let c = cfg(
            Vendor::Generic,
            "my client",
            "p:a%s+s w/ö",
            AuthMethod::Basic,
            &[
                ("scope", "read write"),
                ("resource", "https://api.example/"),
                ("resource", "urn:x"),
                ("foo", "b&r"),
            ],
        );
        let req = token_request(&c, Attempt::default());
        assert_eq!(
            req.headers,
            vec![
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded".to_string()
                ),
                ("Accept", "application/json".to_string()),
            ]
        );
        let basic = req.basic.expect("Basic credentials");
        assert_eq!(basic, "my+client:p%3Aa%25s%2Bs+w%2F%C3%B6");
        assert_eq!(
            STANDARD.encode(basic),
            "bXkrY2xpZW50OnAlM0FhJTI1cyUyQnMrdyUyRiVDMyVCNg=="
        );
        assert_eq!(req.body, "grant_type=client_credentials&scope=read+write&resource=https%3A%2F%2Fapi.example%2F&resource=urn%3Ax&foo=b%26r");
    }

    #[test]
    fn generic_post_request() {
        let c = cfg(
            Vendor::Generic,
            "c",
            "s",
            AuthMethod::Post,
            &[("audience", "aud")],
        );
        let req = token_request(&c, Attempt::default());
        assert_eq!(req.headers.len(), 2);
        assert_eq!(req.basic, None);
        assert_eq!(
            req.body,
            "grant_type=client_credentials&client_id=c&client_secret=s&audience=aud"
        );
    }
}
