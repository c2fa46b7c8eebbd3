//! Dynatrace rules: the SSO token URL for each stage, platform and app-function URLs, the options
//! of `DynatraceClient`, and how to read Dynatrace's error descriptions.

use super::appdynamics::Mode;
use super::config::{AuthMethod, Config, RawOptions, Reader, Vendor};
use super::encoding::path_segment;
use super::error::{Code, Error};
use super::secret::Secret;
use super::text::cat;
use super::url::{self, Origin};

/// Production SSO.
pub const SSO_PROD: &str = "https://sso.dynatrace.com/sso/oauth2/token";
/// Sprint-stage SSO (hosts `{id}.sprint.apps.dynatracelabs.com`). The older
/// `sso.dynatracelabs.com` is stale.
pub const SSO_SPRINT: &str = "https://sso-sprint.dynatracelabs.com/sso/oauth2/token";
/// Dev-stage SSO (hosts `{id}.dev.apps.dynatracelabs.com`).
pub const SSO_DEV: &str = "https://sso-dev.dynatracelabs.com/sso/oauth2/token";

/// Hint when the token URL answers with something that is not a token endpoint.
pub const TOKEN_URL_HINT: &str = "is tokenUrl the SSO token endpoint (https://sso.dynatrace.com/sso/oauth2/token)? Environment hosts such as *.live.dynatrace.com answer with a login page";
/// Hint when SSO refuses the credentials.
pub const CREDENTIALS_HINT: &str = "check clientId and clientSecret of the OAuth client (Account Management > Identity & access management > OAuth clients); the secret is shown only once, when the client is created";
/// Hint when SSO says scopes are missing.
pub const SCOPE_HINT: &str =
    "grant these scopes to the OAuth client in Account Management, or leave them out of scope";

/// The SSO token URL for an environment: its stage decides the host; unknown hosts get production.
pub fn default_token_url(environment: Option<&Origin>) -> &'static str {
    match environment.map(|o| o.host.as_str()) {
        Some(h) if h.ends_with(".sprint.apps.dynatracelabs.com") => SSO_SPRINT,
        Some(h) if h.ends_with(".dev.apps.dynatracelabs.com") => SSO_DEV,
        _ => SSO_PROD,
    }
}

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
    let rest = &description[i..];
    let open = rest.find('[')?;
    let close = open + rest[open..].find(']')?;
    Some(rest[open + 1..close].trim())
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

/// Options of `DynatraceClient`.
pub const OPTIONS: [&str; 7] = [
    "clientId",
    "clientSecret",
    "environmentUrl",
    "scope",
    "resource",
    "tokenUrl",
    "authMethod",
];

/// Checks `DynatraceClient` options.
pub fn config(opts: &RawOptions) -> Result<Config, Error> {
    let r = Reader::new("DynatraceClient", opts, &OPTIONS)?;
    let common = r.common()?;
    let client_id = r.required("clientId")?;
    let secret = Secret::new(r.required("clientSecret")?);
    let environment = match r.string("environmentUrl")? {
        Some(u) => {
            Some(url::parse_config_url("environmentUrl", &u, common.allow_insecure_http)?.origin)
        }
        None => None,
    };
    let token_url = match r.string("tokenUrl")? {
        Some(u) => u,
        None => default_token_url(environment.as_ref()).to_string(),
    };
    let token_url = url::parse_config_url("tokenUrl", &token_url, common.allow_insecure_http)?;
    // SSO takes credentials in the body; Basic is not documented for it, so it is opt-in.
    let auth = match r.string("authMethod")?.as_deref() {
        None | Some("client_secret_post") => AuthMethod::Post,
        Some("client_secret_basic") => AuthMethod::Basic,
        Some(_) => {
            return Err(r.bad(
                "authMethod",
                "must be \"client_secret_post\" or \"client_secret_basic\"",
            ))
        }
    };
    let mut params = Vec::new();
    if let Some(s) = r.words("scope")? {
        params.push(("scope".to_string(), s));
    }
    if let Some(res) = r.string("resource")? {
        // DT_ACCOUNT_ID holds the bare account UUID; SSO wants the URN.
        let urn = if res.contains(':') {
            res
        } else {
            cat(&["urn:dtaccount:", &res])
        };
        params.push(("resource".to_string(), urn));
    }
    Ok(Config {
        vendor: Vendor::Dynatrace,
        token_url: url::resolve(&token_url.origin, &token_url.rest)?,
        client_id,
        secret: Some(secret),
        static_token: None,
        params,
        auth,
        appd: Mode::default(),
        api_origin: environment,
        common,
    })
}

/// The environment origin, or the error that says it is needed.
pub fn environment<'c>(cfg: &'c Config, method: &str) -> Result<&'c Origin, Error> {
    cfg.api_origin.as_ref().ok_or_else(|| {
        Error::new(
            Code::InvalidConfig,
            cat(&["DynatraceClient: ", method, " needs environmentUrl"]),
        )
        .hint("set environmentUrl, e.g. https://abc12345.apps.dynatrace.com")
    })
}

/// `https://{env}/platform/<apiPath>`; a leading `/` or `platform/` in `api_path` is not doubled.
pub fn platform_url(env: &Origin, api_path: &str) -> Result<String, Error> {
    let p = api_path.trim_start_matches('/');
    let p = p.strip_prefix("platform/").unwrap_or(p);
    if p.is_empty() {
        return Err(
            Error::new(Code::InvalidArgument, "platformUrl: the API path is empty")
                .hint("pass a path such as management/v1/environment"),
        );
    }
    url::resolve(env, &cat(&["/platform/", p]))
}

/// `https://{env}/platform/app-engine/app-functions/v1/apps/<appId>/api/<functionName>`, with
/// both names encoded as single path segments.
pub fn app_function_url(env: &Origin, app_id: &str, function_name: &str) -> Result<String, Error> {
    for (what, v) in [("app id", app_id), ("function name", function_name)] {
        if v.trim().is_empty() || v == "." || v == ".." {
            return Err(Error::new(
                Code::InvalidArgument,
                cat(&["callAppFunction: the ", what, " is empty or not a name"]),
            ));
        }
    }
    url::resolve(
        env,
        &cat(&[
            "/platform/app-engine/app-functions/v1/apps/",
            &path_segment(app_id.trim()),
            "/api/",
            &path_segment(function_name.trim()),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::appdynamics::Attempt;
    use crate::core::config::Raw;
    use crate::core::oauth::token_request;

    fn opts(v: &[(&str, &str)]) -> RawOptions {
        RawOptions(
            v.iter()
                .map(|(k, s)| (k.to_string(), Raw::Str(s.to_string())))
                .collect(),
        )
    }

    #[test]
    fn token_url_per_stage() {
        let o = |u: &str| url::parse(u).unwrap().origin;
        assert_eq!(
            default_token_url(Some(&o("https://abc12345.apps.dynatrace.com"))),
            SSO_PROD
        );
        assert_eq!(
            default_token_url(Some(&o("https://abc12345.sprint.apps.dynatracelabs.com"))),
            SSO_SPRINT
        );
        assert_eq!(
            default_token_url(Some(&o("https://abc12345.dev.apps.dynatracelabs.com"))),
            SSO_DEV
        );
        assert_eq!(default_token_url(None), SSO_PROD);
    }

    #[test]
    fn token_request_exact_bytes() {
        let cfg = config(&opts(&[
            ("clientId", "dt0s02.JDMK2DWV"),
            ("clientSecret", "dt0s02.JDMK2DWV.SECRET+/="),
            ("environmentUrl", "https://abc12345.apps.dynatrace.com"),
            ("scope", "app-engine:apps:run storage:logs:read"),
            ("resource", "0000-1111"),
        ]))
        .unwrap();
        let req = token_request(&cfg, Attempt::default());
        assert_eq!(req.url, SSO_PROD);
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
        assert!(!format!("{cfg:?}").contains("SECRET"));
    }

    #[test]
    fn platform_and_app_function_urls() {
        let env = url::parse("https://abc12345.apps.dynatrace.com/")
            .unwrap()
            .origin;
        assert_eq!(
            platform_url(&env, "management/v1/environment").unwrap(),
            "https://abc12345.apps.dynatrace.com/platform/management/v1/environment"
        );
        assert_eq!(
            platform_url(&env, "/platform/storage/query/v1/query:execute").unwrap(),
            "https://abc12345.apps.dynatrace.com/platform/storage/query/v1/query:execute"
        );
        assert_eq!(app_function_url(&env, "my.company.app", "calculate").unwrap(), "https://abc12345.apps.dynatrace.com/platform/app-engine/app-functions/v1/apps/my.company.app/api/calculate");
        assert_eq!(app_function_url(&env, "../../x", "f?g").unwrap(), "https://abc12345.apps.dynatrace.com/platform/app-engine/app-functions/v1/apps/..%2F..%2Fx/api/f%3Fg");
        assert_eq!(
            app_function_url(&env, "..", "f").unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            platform_url(&env, "/").unwrap_err().code,
            Code::InvalidArgument
        );
    }

    #[test]
    fn option_errors() {
        assert_eq!(
            config(&opts(&[("clientId", "a")])).unwrap_err().message,
            "DynatraceClient: clientSecret is required"
        );
        assert_eq!(
            config(&opts(&[
                ("clientId", "a"),
                ("clientSecret", "b"),
                ("environmentUrl", "http://abc.apps.dynatrace.com")
            ]))
            .unwrap_err()
            .code,
            Code::InsecureUrl
        );
        assert_eq!(
            config(&opts(&[
                ("clientId", "a"),
                ("clientSecret", "b"),
                ("tokenUrl", "sso.dynatrace.com")
            ]))
            .unwrap_err()
            .code,
            Code::InvalidConfig
        );
        let cfg = config(&opts(&[
            ("clientId", "a"),
            ("clientSecret", "b"),
            ("environmentUrl", "https://x.dev.apps.dynatracelabs.com"),
        ]))
        .unwrap();
        assert_eq!(cfg.token_url, SSO_DEV);
        assert_eq!(
            environment(
                &config(&opts(&[("clientId", "a"), ("clientSecret", "b")])).unwrap(),
                "fetch"
            )
            .unwrap_err()
            .message,
            "DynatraceClient: fetch needs environmentUrl"
        );
    }
}
