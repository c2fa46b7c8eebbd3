//! Dynatrace rules the core applies to SSO's answers: how to read its error descriptions and what
//! to tell the user to check. (The SSO host per stage, the options and the platform and
//! app-function URLs are the JavaScript layer's: `pkg/src/client.js`.)

#[allow(unused_imports)]
use crate::core::prelude::*;

/// Hint when the token URL answers with something that is not a token endpoint.
pub const TOKEN_URL_HINT: &str = "is tokenUrl the SSO token endpoint (https://sso.dynatrace.com/sso/oauth2/token)? Environment hosts such as *.live.dynatrace.com answer with a login page";
/// Hint when SSO refuses the credentials.
pub const CREDENTIALS_HINT: &str = "check clientId and clientSecret of the OAuth client (Account Management > Identity & access management > OAuth clients); the secret is shown only once, when the client is created";
/// Hint when SSO says scopes are missing.
pub const SCOPE_HINT: &str =
    "grant these scopes to the OAuth client in Account Management, or leave them out of scope";

/// True when an error description is SSO's "ClientId or clientSecret is not correct".
pub fn says_wrong_credentials(description: &str) -> bool {
    super::text::contains(
        &description.to_ascii_lowercase(),
        "clientsecret is not correct",
    )
}

/// The scope list of SSO's "OAuth client is missing following scopes [a, b]".
pub fn missing_scopes(description: &str) -> Option<&str> {
    let i = super::text::find(description, "missing following scopes")?;
    let rest = description.get(i..)?;
    let open = super::text::find(rest, "[")?;
    let close = open + super::text::find(rest.get(open..)?, "]")?;
    Some(rest.get(open + 1..close)?.trim())
}

/// What to check for another refusal by SSO.
pub fn refusal_hint(description: &str) -> Option<String> {
    let d = description.to_ascii_lowercase();
    if super::text::contains(&d, "resource") || super::text::contains(&d, "account") {
        Some("check resource: it must be the URN of the account the OAuth client belongs to (urn:dtaccount:<account-uuid>)".into())
    } else {
        None
    }
}
