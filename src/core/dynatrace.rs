//! Dynatrace rules: which SSO serves an environment, how to read SSO's error descriptions and
//! what to tell the user to check.

use super::text::contains;

/// The production SSO token endpoint, for every environment not on a lab stage.
pub const SSO_TOKEN_URL: &str = "https://sso.dynatrace.com/sso/oauth2/token";
/// The SSO token endpoint of sprint-stage environments.
pub const SSO_SPRINT_TOKEN_URL: &str = "https://sso-sprint.dynatracelabs.com/sso/oauth2/token";
/// The SSO token endpoint of dev-stage environments.
pub const SSO_DEV_TOKEN_URL: &str = "https://sso-dev.dynatracelabs.com/sso/oauth2/token";

/// The stage of an environment host (lower-case, as [`crate::core::url::parse_url`] gives it):
/// 1 sprint, 2 dev, 0 production (every other host, or none). A lab stage's platform hosts
/// (`{id}.sprint.apps.dynatracelabs.com`) and its classic ones (`{id}.sprint.dynatracelabs.com`)
/// belong to the same SSO.
fn stage(environment_host: Option<&str>) -> usize {
    let Some(h) = environment_host.and_then(|h| h.strip_suffix(".dynatracelabs.com")) else {
        return 0;
    };
    let h = h.strip_suffix(".apps").unwrap_or(h);
    if h.ends_with(".sprint") {
        1
    } else if h.ends_with(".dev") {
        2
    } else {
        0
    }
}

/// The SSO token URL for an environment host: its stage decides; an unknown host, or none, gets
/// production.
pub fn token_url_for(environment_host: Option<&str>) -> &'static str {
    [SSO_TOKEN_URL, SSO_SPRINT_TOKEN_URL, SSO_DEV_TOKEN_URL][stage(environment_host)]
}

/// Hint when the token URL answers with something that is not a token endpoint.
pub const TOKEN_URL_HINT: &str = "is tokenUrl the SSO token endpoint (https://sso.dynatrace.com/sso/oauth2/token)? Environment hosts such as *.live.dynatrace.com answer with a login page";
/// Hint when SSO refuses the credentials.
pub const CREDENTIALS_HINT: &str = "check clientId and clientSecret of the OAuth client (Account Management > Identity & access management > OAuth clients); the secret is shown only once, when the client is created";
/// Hint when SSO says scopes are missing.
pub const SCOPE_HINT: &str =
    "grant these scopes to the OAuth client in Account Management, or leave them out of scope";

/// The sign-in endpoints of a stage: the authorize, token and user-info URLs.
pub struct SignInUrls {
    /// Where the browser is sent to sign in.
    pub authorize: &'static str,
    /// Where codes and refresh tokens are exchanged.
    pub token: &'static str,
    /// Who the user is.
    pub user_info: &'static str,
}

/// The sign-in endpoints for an environment: its stage decides the hosts; unknown hosts get prod.
pub fn sign_in_urls_for(environment_host: Option<&str>) -> SignInUrls {
    match stage(environment_host) {
        1 => SignInUrls {
            authorize: "https://sso-sprint.dynatracelabs.com/oauth2/authorize",
            token: "https://hard.token.dynatracelabs.com/sso/oauth2/token",
            user_info: "https://sso-sprint.dynatracelabs.com/sso/oauth2/userinfo",
        },
        2 => SignInUrls {
            authorize: "https://sso-dev.dynatracelabs.com/oauth2/authorize",
            token: "https://dev.token.dynatracelabs.com/sso/oauth2/token",
            user_info: "https://sso-dev.dynatracelabs.com/sso/oauth2/userinfo",
        },
        _ => SignInUrls {
            authorize: "https://sso.dynatrace.com/oauth2/authorize",
            token: "https://token.dynatrace.com/sso/oauth2/token",
            user_info: "https://sso.dynatrace.com/sso/oauth2/userinfo",
        },
    }
}

/// True when an error description is SSO's "ClientId or clientSecret is not correct".
pub fn says_wrong_credentials(description: &str) -> bool {
    contains(
        &description.to_ascii_lowercase(),
        "clientsecret is not correct",
    )
}

/// The scope list of SSO's "OAuth client is missing following scopes [a, b]".
pub fn missing_scopes(description: &str) -> Option<&str> {
    let i = description.find("missing following scopes")?;
    let rest = description.get(i..)?;
    let open = super::text::find_byte(rest, b'[')?;
    let close = open + super::text::find_byte(rest.get(open..)?, b']')?;
    Some(super::text::trim(rest.get(open + 1..close)?))
}

/// What to check for another refusal by SSO.
pub fn refusal_hint(description: &str) -> Option<String> {
    let d = description.to_ascii_lowercase();
    if contains(&d, "resource") || contains(&d, "account") {
        Some("check resource: it must be the URN of the account the OAuth client belongs to (urn:dtaccount:<account-uuid>)".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sso_host_follows_the_environments_stage() {
        assert_eq!(
            token_url_for(Some("abc12345.apps.dynatrace.com")),
            "https://sso.dynatrace.com/sso/oauth2/token"
        );
        assert_eq!(
            token_url_for(Some("abc12345.sprint.apps.dynatracelabs.com")),
            "https://sso-sprint.dynatracelabs.com/sso/oauth2/token"
        );
        assert_eq!(
            token_url_for(Some("abc12345.dev.apps.dynatracelabs.com")),
            "https://sso-dev.dynatracelabs.com/sso/oauth2/token"
        );
        // A lab stage's classic hosts belong to its SSO too; a look-alike host does not.
        assert_eq!(
            token_url_for(Some("abc12345.sprint.dynatracelabs.com")),
            "https://sso-sprint.dynatracelabs.com/sso/oauth2/token"
        );
        assert_eq!(
            sign_in_urls_for(Some("abc12345.dev.dynatracelabs.com")).token,
            "https://dev.token.dynatracelabs.com/sso/oauth2/token"
        );
        assert_eq!(
            sign_in_urls_for(Some("abc12345.sprint.apps.dynatracelabs.com")).authorize,
            "https://sso-sprint.dynatracelabs.com/oauth2/authorize"
        );
        for host in [
            "abc12345.live.dynatrace.com",
            "sprint.example.com",
            "abc.sprint.dynatracelabs.com.example.com",
            "abc.dev.example.com",
            "proxy.example.dev",
            "abc.sprint.apps.example.com",
        ] {
            assert_eq!(token_url_for(Some(host)), SSO_TOKEN_URL, "{host}");
            assert_eq!(
                sign_in_urls_for(Some(host)).user_info,
                "https://sso.dynatrace.com/sso/oauth2/userinfo",
                "{host}"
            );
        }
        assert_eq!(
            token_url_for(None),
            "https://sso.dynatrace.com/sso/oauth2/token"
        );
    }

    #[test]
    fn sso_descriptions() {
        assert!(says_wrong_credentials(
            "Invalid OAuth2 request. | ClientId or clientSecret is not correct."
        ));
        assert_eq!(
            missing_scopes("OAuth client is missing following scopes [a:b, c:d]"),
            Some("a:b, c:d")
        );
        assert_eq!(missing_scopes("missing following scopes a]["), None);
    }
}
