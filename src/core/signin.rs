//! Signing a user in: the authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636) and the
//! refresh token grant (RFC 6749 §6). The authorize URL, the grants' form bodies and what a
//! redirect back means; the random values and the SHA-256 come from the platform (WebCrypto).

use super::encoding::form_encode;
use super::error::{Code, Error};
use super::text::snippet;

/// One form parameter.
pub type Param = (String, String);

/// The authorize URL: `endpoint` with `params` appended to its query (a query the endpoint already
/// has is kept, RFC 6749 §3.1; a fragment is dropped, as the endpoint must not have one).
pub fn authorize_url(endpoint: &str, params: &[(&str, &str)]) -> String {
    let base = super::text::cut_at(endpoint, b'#').0;
    let query = form_encode(params);
    let sep = match super::text::find_byte(base, b'?') {
        None => "?",
        Some(i) if i + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    [base, sep, &query].concat()
}

/// base64url without padding (RFC 7636 §4.1) from standard padded base64.
pub fn base64url(standard: &str) -> String {
    let mut out = String::new();
    for c in standard.chars() {
        out.push(match c {
            '+' => '-',
            '/' => '_',
            '=' => continue,
            c => c,
        });
    }
    out
}

/// The parameters of a redirect back from the authorize endpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Redirect {
    /// `code`, on success.
    pub code: Option<String>,
    /// `state`, echoed.
    pub state: Option<String>,
    /// `error`, on failure.
    pub error: Option<String>,
    /// `error_description`, on failure.
    pub error_description: Option<String>,
}

/// What a redirect means for a client that issued `expected_state` (`None` when it has no sign-in
/// pending): the code to exchange, `None` for a URL that is no redirect back at all (neither
/// `code` nor `error`), or the error.
pub fn redirect_outcome(
    r: &Redirect,
    expected_state: Option<&str>,
) -> Result<Option<String>, Error> {
    if r.code.is_none() && r.error.is_none() {
        return Ok(None);
    }
    let state_ok = match (expected_state, r.state.as_deref()) {
        (Some(want), Some(got)) => want == got,
        _ => false,
    };
    // An error with a state this client did not issue is no answer to its sign-in: a crafted
    // link must not pass for the server's refusal. (An error without any state is taken: some
    // servers leave it out.)
    if let Some(error) = r.error.as_ref().filter(|_| state_ok || r.state.is_none()) {
        let mut message = [
            "the sign-in was refused by the authorization server (",
            &snippet(error, 40),
            ")",
        ]
        .concat();
        if let Some(d) = &r.error_description {
            message.push_str(": ");
            message.push_str(&snippet(d, 200));
        }
        let mut e = Error::new(Code::AuthorizationError, message).hint(match error.as_str() {
            "access_denied" => "the user declined, or is not allowed to use this client: sign in again with another user or ask for access",
            "invalid_scope" => "ask only for scopes the OAuth client has been granted",
            _ => "check clientId, redirectUri (it must match the registered one exactly) and scope",
        });
        e.error = Some(error.clone());
        e.error_description = r.error_description.clone();
        return Err(e);
    }
    if !state_ok {
        return Err(Error::new(
            Code::AuthorizationError,
            "the redirect carries a state this client did not issue (or it was used already)",
        )
        .hint("start the sign-in again with signIn(); never reuse a callback URL"));
    }
    match &r.code {
        Some(c) if !c.is_empty() => Ok(Some(c.clone())),
        _ => Err(Error::new(
            Code::AuthorizationError,
            "the redirect carries no authorization code",
        )
        .hint("start the sign-in again with signIn()")),
    }
}

/// Whether `named` (a discovery document's `issuer`, a redirect's `iss`) is the configured
/// `issuer`: the same text, a final `/` aside.
pub fn same_issuer(named: &str, issuer: &str) -> bool {
    super::text::trim_end_byte(named, b'/') == super::text::trim_end_byte(issuer, b'/')
}

/// The error for a code exchange the token endpoint refused: `e` as the token endpoint's error,
/// reworded as a failed sign-in (an expired or used code is the common case).
pub fn code_exchange_error(e: Error) -> Error {
    // A refused client (its id or secret) is a configuration error, kept as it is: signing in
    // again would not help.
    if !matches!(e.code, Code::InvalidScope | Code::TokenError) {
        return e;
    }
    reworded(
        e,
        Code::AuthorizationError,
        "the authorization code was refused: ",
        "the code expired or was used already: sign in again with signIn()",
    )
}

/// The error for a refresh token the token endpoint refused (see [`refresh_refused`]): the user
/// must sign in again.
pub fn refresh_refused_error(e: Error) -> Error {
    reworded(
        e,
        Code::LoginRequired,
        "the refresh token was refused, so the user must sign in again: ",
        LOGIN_HINT,
    )
}

/// The token endpoint's error `e` under a new code, its message after `prefix` and a new hint;
/// the server's fields (status, `error`, `error_description`, `issueId`) kept.
fn reworded(mut e: Error, code: Code, prefix: &str, hint: &str) -> Error {
    e.code = code;
    e.message = [prefix, &e.message].concat();
    e.hint = Some(hint.to_string());
    e.retry_after = None;
    e.shared = None;
    e
}

/// Whether a refresh grant's error means the refresh token is no good any more (the user must sign
/// in again), rather than a passing failure worth reporting as is: a token endpoint refuses a grant
/// with 400 or 401 (RFC 6749, 5.2), some with 403; a 404, 408 or 409 says nothing of the token.
pub fn refresh_refused(e: &Error) -> bool {
    matches!(
        e.code,
        Code::InvalidClient | Code::InvalidScope | Code::TokenError
    ) && matches!(e.status, Some(400 | 401 | 403))
}

/// The error for a user-info answer without the user's claims (OpenID Connect Core §5.3.3):
/// its status, and the `error` and `error_description` of its `WWW-Authenticate` header's
/// `Bearer` challenge (RFC 6750 §3), else of its JSON body (`body`).
#[inline(never)]
pub fn user_info_error(
    status: u16,
    challenge: &str,
    body: (Option<String>, Option<String>),
) -> Error {
    let ok = (200..300).contains(&status);
    let (error, description) = match bearer_error(challenge) {
        (None, _) => body,
        fields => fields,
    };
    let mut message = [
        "the user-info endpoint answered HTTP ",
        &super::text::decimal(status.into()),
        " without the user's claims",
    ]
    .concat();
    if let Some(e) = &error {
        message.push_str(&super::text::fields_quote(e, description.as_deref()));
    }
    let hint = match error.as_deref() {
        _ if ok => "check userInfoUrl",
        Some("insufficient_scope") => {
            "include openid (and profile or email for those claims) in scope, and sign in again"
        }
        Some("invalid_token") => "the token was refused even after a refresh: sign in again",
        _ if status == 401 || status == 403 => {
            "the token was refused: include the openid scope, and sign in again"
        }
        _ => "check userInfoUrl",
    };
    let mut e = Error::new(
        if ok {
            Code::InvalidResponse
        } else {
            Code::HttpError
        },
        message,
    )
    .status(status)
    .hint(hint);
    e.error = error;
    e.error_description = description;
    e
}

/// The `error` and `error_description` parameters of the `Bearer` challenge in a
/// `WWW-Authenticate` value (RFC 6750 §3; RFC 9110 §11.6.1: challenges and their parameters
/// separated by commas, names in any case, values a token or a quoted string).
pub fn bearer_error(header: &str) -> (Option<String>, Option<String>) {
    use super::text::{position_by, skip_by};
    let mut out = (None, None);
    let mut bearer = false;
    // (ASCII rules, by bytes: a byte of a longer character matches none of them.)
    let blank = |c: u8| c == b' ' || c == b'\t';
    let mut rest = header;
    loop {
        rest = skip_by(rest, |c| matches!(c, b' ' | b'\t' | b','));
        let end =
            position_by(rest, |c| matches!(c, b' ' | b'\t' | b',' | b'=')).unwrap_or(rest.len());
        let Some((name, after)) = rest.split_at_checked(end).filter(|_| end > 0) else {
            return out;
        };
        let after = skip_by(after, blank);
        let Some(value) = after.strip_prefix('=') else {
            // A challenge's scheme: the parameters that follow are its own.
            bearer = name.eq_ignore_ascii_case("bearer");
            rest = after;
            continue;
        };
        let value = skip_by(value, blank);
        let mut text = String::new();
        rest = match value.strip_prefix('"') {
            Some(quoted) => {
                let mut chars = quoted.chars();
                loop {
                    match chars.next() {
                        None | Some('"') => break,
                        Some('\\') => {
                            if let Some(c) = chars.next() {
                                text.push(c);
                            }
                        }
                        Some(c) => text.push(c),
                    }
                }
                chars.as_str()
            }
            None => {
                let end =
                    position_by(value, |c| matches!(c, b' ' | b'\t' | b',')).unwrap_or(value.len());
                let (token, after) = value.split_at_checked(end).unwrap_or_default();
                text.push_str(token);
                after
            }
        };
        if !bearer {
            continue;
        }
        if name.eq_ignore_ascii_case("error") {
            out.0 = Some(text);
        } else if name.eq_ignore_ascii_case("error_description") {
            out.1 = Some(text);
        }
    }
}

const LOGIN_HINT: &str = "call signIn() to sign the user in (again)";

/// `login_required`: no usable token, with why.
pub fn login_required(why: &str) -> Error {
    Error::new(Code::LoginRequired, why.to_string()).hint(LOGIN_HINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_keeps_the_endpoint_query() {
        let params = [
            ("response_type", "code"),
            ("scope", "openid storage:logs:read"),
        ];
        assert_eq!(
            authorize_url("https://sso.example/oauth2/authorize", &params),
            "https://sso.example/oauth2/authorize?response_type=code&scope=openid+storage%3Alogs%3Aread"
        );
        assert_eq!(
            authorize_url("https://sso.example/a?tenant=x#frag", &params[..1]),
            "https://sso.example/a?tenant=x&response_type=code"
        );
        assert_eq!(
            authorize_url("https://sso.example/a?", &params[..1]),
            "https://sso.example/a?response_type=code"
        );
    }

    #[test]
    fn the_same_issuer_a_final_slash_aside() {
        assert!(same_issuer("https://idp.example/", "https://idp.example"));
        assert!(same_issuer(
            "https://idp.example/r",
            "https://idp.example/r/"
        ));
        assert!(!same_issuer("https://idp.example/r", "https://idp.example"));
        assert!(!same_issuer("https://evil.example", "https://idp.example"));
        assert!(!same_issuer("", "https://idp.example"));
    }

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url("a+b/c=="), "a-b_c");
    }

    #[test]
    fn redirects() {
        let r = |code: Option<&str>, state: Option<&str>, error: Option<&str>| Redirect {
            code: code.map(str::to_string),
            state: state.map(str::to_string),
            error: error.map(str::to_string),
            error_description: error.map(|_| "nope".to_string()),
        };
        assert_eq!(redirect_outcome(&r(None, None, None), Some("s")), Ok(None));
        assert_eq!(
            redirect_outcome(&r(Some("c"), Some("s"), None), Some("s")),
            Ok(Some("c".to_string()))
        );
        let e = redirect_outcome(&r(Some("c"), Some("t"), None), Some("s")).unwrap_err();
        assert_eq!(e.code, Code::AuthorizationError);
        assert!(e.message.contains("state this client did not issue"));
        let e = redirect_outcome(&r(Some("c"), Some("s"), None), None).unwrap_err();
        assert_eq!(e.code, Code::AuthorizationError);
        let e =
            redirect_outcome(&r(None, Some("s"), Some("access_denied")), Some("s")).unwrap_err();
        assert_eq!(
            (e.code, e.error.as_deref(), e.error_description.as_deref()),
            (
                Code::AuthorizationError,
                Some("access_denied"),
                Some("nope")
            )
        );
        assert_eq!(
            e.message,
            "the sign-in was refused by the authorization server (access_denied): nope"
        );
        // Without a state too; with a state this client did not issue, the state is the error.
        let e = redirect_outcome(&r(None, None, Some("access_denied")), Some("s")).unwrap_err();
        assert_eq!(e.error.as_deref(), Some("access_denied"));
        for expected in [Some("s"), None] {
            let e =
                redirect_outcome(&r(None, Some("t"), Some("access_denied")), expected).unwrap_err();
            assert!(e.message.contains("state this client did not issue"));
            assert_eq!(e.error, None);
        }
    }

    #[test]
    fn refusals() {
        let mut e = Error::new(Code::TokenError, "refused").status(400);
        e.error = Some("invalid_grant".into());
        assert!(refresh_refused(&e));
        let x = code_exchange_error(e.clone());
        assert_eq!(
            (x.code, x.status, x.error.as_deref()),
            (Code::AuthorizationError, Some(400), Some("invalid_grant"))
        );
        let x = refresh_refused_error(e.clone());
        assert_eq!(
            (x.code, x.status, x.error.as_deref(), x.message.as_str()),
            (
                Code::LoginRequired,
                Some(400),
                Some("invalid_grant"),
                "the refresh token was refused, so the user must sign in again: refused"
            )
        );
        assert!(!refresh_refused(
            &Error::new(Code::ServerError, "down").status(503)
        ));
        assert!(!refresh_refused(&Error::new(Code::Network, "down")));
        for status in [404, 405, 408, 409] {
            assert!(!refresh_refused(
                &Error::new(Code::TokenError, "no answer about the token").status(status)
            ));
        }
        assert_eq!(login_required("not signed in").code, Code::LoginRequired);
    }

    #[test]
    fn bearer_challenges_give_their_error() {
        let none = (None, None);
        assert_eq!(bearer_error(""), none);
        assert_eq!(bearer_error("Bearer"), none);
        assert_eq!(bearer_error(r#"Bearer realm="example""#), none);
        assert_eq!(
            bearer_error(r#"Bearer error="invalid_token""#),
            (Some("invalid_token".into()), None)
        );
        assert_eq!(
            bearer_error(
                r#"Bearer realm="a, b", ERROR = invalid_token ,error_description="The token \"x\" expired""#
            ),
            (
                Some("invalid_token".into()),
                Some(r#"The token "x" expired"#.into())
            )
        );
        // Another scheme's parameters are not the Bearer challenge's.
        assert_eq!(
            bearer_error(
                r#"DPoP error="use_dpop_nonce", Negotiate abc==, Bearer, error="insufficient_scope", Basic error="x""#
            ),
            (Some("insufficient_scope".into()), None)
        );
        assert_eq!(
            bearer_error(r#"Basic realm="x", error="invalid_token""#),
            none
        );
        // Cut short or malformed: what was read so far, never a panic.
        assert_eq!(
            bearer_error(r#"Bearer error="invalid_tok"#),
            (Some("invalid_tok".into()), None)
        );
        assert_eq!(bearer_error("Bearer =x, error=y"), none);
        assert_eq!(
            bearer_error("Bearer error=\u{e9}t\u{e9}"),
            (Some("\u{e9}t\u{e9}".into()), None)
        );
    }

    #[test]
    fn user_info_errors_say_what_the_endpoint_said() {
        let e = user_info_error(
            401,
            r#"Bearer error="invalid_token", error_description="The access token expired""#,
            (Some("ignored".into()), None),
        );
        assert_eq!(e.code, Code::HttpError);
        assert_eq!(e.status, Some(401));
        assert_eq!(e.error.as_deref(), Some("invalid_token"));
        assert_eq!(
            e.error_description.as_deref(),
            Some("The access token expired")
        );
        assert_eq!(
            e.message,
            "the user-info endpoint answered HTTP 401 without the user's claims (invalid_token: The access token expired)"
        );
        assert!(e.hint.unwrap().contains("sign in again"));
        let e = user_info_error(403, r#"Bearer error="insufficient_scope""#, (None, None));
        assert_eq!(e.error.as_deref(), Some("insufficient_scope"));
        assert!(e.hint.unwrap().starts_with("include openid"));
        // Without a challenge, the JSON body's fields.
        let e = user_info_error(401, "", (Some("invalid_token".into()), Some("gone".into())));
        assert_eq!(e.error.as_deref(), Some("invalid_token"));
        assert_eq!(e.error_description.as_deref(), Some("gone"));
        let e = user_info_error(401, "Basic realm=x", (None, None));
        assert_eq!(e.error, None);
        assert_eq!(
            e.message,
            "the user-info endpoint answered HTTP 401 without the user's claims"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("the token was refused: include the openid scope, and sign in again")
        );
        let e = user_info_error(200, "", (None, None));
        assert_eq!(e.code, Code::InvalidResponse);
        assert_eq!(e.hint.as_deref(), Some("check userInfoUrl"));
        assert_eq!(
            user_info_error(500, "", (None, None)).hint.as_deref(),
            Some("check userInfoUrl")
        );
    }
}
