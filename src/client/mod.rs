//! The Rust API: one client type per vendor over one shared engine, talking through the
//! JavaScript fetch API (the global `fetch`, or the one given in [`Options::fetch`]).
//!
//! Every client caches its token and shares one token request among all the calls that need it,
//! refreshes it before it expires, retries token requests on network errors, 429 and 502/503/504,
//! and retries an API call once with a new token after a 401. Clients are cheap to clone; clones
//! share the token cache.

// `Error` carries the server's OAuth fields inline; it is built at most once per failed call.
#![allow(clippy::result_large_err)]

mod account;
mod appdynamics;
mod dynatrace;
mod engine;
mod oauth;
pub(crate) mod platform;
mod signin;

pub use account::{DynatraceAccountClient, DynatraceAccountConfig, ACCOUNT_API_URL};
pub use appdynamics::{
    AppDynamicsClient, AppDynamicsConfig, Application, BasicAuth, TokenContentType,
};
pub use dynatrace::{DynatraceClient, DynatraceConfig};
pub use engine::Stats;
pub use oauth::{OAuthClient, OAuthConfig};

pub(crate) use engine::{Engine, Settings};

use crate::core::text::decimal;
use crate::core::url::{config_url, Origin, ParsedUrl};
use crate::core::{Code, Error, Secret};

/// Options every client accepts.
#[derive(Clone, Debug)]
pub struct Options {
    /// A fetch function to use instead of the global one (a proxy, tests, a same-origin
    /// forwarder), called as `fetch(url, init)`.
    pub fetch: Option<js_sys::Function>,
    /// Longest wait for one HTTP attempt, token or API, in ms (default 30000).
    pub timeout_ms: f64,
    /// Refresh this long before expiry, never more than half the token's lifetime (default 30).
    pub refresh_skew_seconds: f64,
    /// Retries of a token request after a network error, 429 or 502/503/504 (default 2, at
    /// most 10).
    pub max_retries: u32,
    /// Allow `http://` to hosts that are not loopback (default false).
    pub allow_insecure_http: bool,
    /// Where tokens are kept beyond the client (another page load, another process, a serverless
    /// function's next run): a JavaScript object `{ get(), set(tokens | null) }`, either of which
    /// may return a Promise; `tokens` is `{ accessToken, expiresAt, refreshToken?, scope? }`. Read
    /// when the client holds no fresh token, written after every grant and sign-out.
    pub token_store: Option<wasm_bindgen::JsValue>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fetch: None,
            timeout_ms: 30_000.0,
            refresh_skew_seconds: 30.0,
            max_retries: 2,
            allow_insecure_http: false,
            token_store: None,
        }
    }
}

/// A token as [`DynatraceClient::token`] and the others return it.
#[derive(Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// The bearer token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Expiry in ms since the epoch; infinity for a static token whose expiry is unknown.
    pub expires_at: f64,
    /// Scopes granted, when the server said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The resource (Dynatrace account URN), when the server said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl std::fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenInfo")
            .field("access_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("resource", &self.resource)
            .finish()
    }
}

/// What every client checks of the shared options: `class: name must be …`.
pub(crate) fn check_options(class: &str, o: &Options) -> Result<(), Error> {
    let range = |name: &str, v: f64, min: u32, max: u32| {
        if v >= f64::from(min) && v <= f64::from(max) {
            Ok(())
        } else {
            Err(bad(
                class,
                name,
                &[
                    "must be a number from ",
                    &decimal(min.into()),
                    " to ",
                    &decimal(max.into()),
                ]
                .concat(),
            ))
        }
    };
    range("timeoutMs", o.timeout_ms, 1, 2_147_483_647)?;
    range("refreshSkewSeconds", o.refresh_skew_seconds, 0, 86_400)?;
    range("maxRetries", f64::from(o.max_retries), 0, 10)
}

/// Refuses, for a client that sends its static token as it is, the options of token requests:
/// the shared ones set to anything but their default, and the class's own `others` that are
/// given, with `what` (they would be silently ignored).
pub(crate) fn no_token_requests(
    class: &str,
    what: &str,
    o: &Options,
    others: &[(&str, bool)],
) -> Result<(), Error> {
    let d = Options::default();
    for &(name, given) in others.iter().chain(&[
        (
            "refreshSkewSeconds",
            o.refresh_skew_seconds != d.refresh_skew_seconds,
        ),
        ("maxRetries", o.max_retries != d.max_retries),
    ]) {
        if given {
            return Err(bad(class, name, what));
        }
    }
    Ok(())
}

/// `class: name what`, an `invalid_config` error.
pub(crate) fn bad(class: &str, name: &str, what: &str) -> Error {
    Error::new(Code::InvalidConfig, [class, ": ", name, " ", what].concat())
}

/// A required text option, trimmed.
pub(crate) fn required<'a>(class: &str, name: &str, v: &'a str) -> Result<&'a str, Error> {
    given(v).ok_or_else(|| bad(class, name, "is required"))
}

/// An optional text option, trimmed; empty counts as missing.
pub(crate) fn optional(v: &Option<String>) -> Option<&str> {
    v.as_deref().and_then(given)
}

/// A static token option (`platformToken`, `accessToken`), refused when it cannot be sent as
/// `Authorization: Bearer <token>` (a line break pasted into it: the platform's `Headers` would
/// throw with the token in its message). The value is never quoted.
pub(crate) fn header_token(class: &str, name: &str, token: &str) -> Result<(), Error> {
    if crate::core::token::header_safe(token) {
        Ok(())
    } else if token
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        Err(bad(class, name, "is the token alone, without \"Bearer \""))
    } else {
        Err(bad(
            class,
            name,
            "has characters an Authorization header cannot carry (a line break, a space or a letter beyond ASCII)",
        ))
    }
}

/// A text option, trimmed, or `None` when it is empty.
pub(crate) fn given(v: &str) -> Option<&str> {
    Some(crate::core::text::trim(v)).filter(|t| !t.is_empty())
}

/// Scope words: each item split on whitespace, joined by single spaces (OAuth scope syntax).
pub(crate) fn words(list: &[String]) -> Option<String> {
    let mut out = String::new();
    for item in list {
        for word in item.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The client secret: required for client credentials, optional when the client signs a user in
/// (a public client has none).
pub(crate) fn secret_for<'a>(
    class: &str,
    secret: &'a Secret,
    signs_in: bool,
) -> Result<Option<&'a str>, Error> {
    if signs_in {
        Ok(given(secret.expose()))
    } else {
        required(class, "clientSecret", secret.expose()).map(Some)
    }
}

/// An optional configured URL, checked, as it is used (`default` when not given).
pub(crate) fn url_or(
    what: &str,
    v: &Option<String>,
    default: Option<&str>,
    o: &Options,
) -> Result<Option<String>, Error> {
    match optional(v).or(default) {
        Some(u) => Ok(Some(url(what, u, o)?.href())),
        None => Ok(None),
    }
}

/// The origin of an optional configured URL, checked.
pub(crate) fn origin_of(
    what: &str,
    v: &Option<String>,
    o: &Options,
) -> Result<Option<Origin>, Error> {
    match optional(v) {
        Some(u) => Ok(Some(url(what, u, o)?.origin)),
        None => Ok(None),
    }
}

/// A configured URL, checked.
pub(crate) fn url(what: &str, input: &str, o: &Options) -> Result<ParsedUrl, Error> {
    config_url(what, input, o.allow_insecure_http)
}

/// `redirectUri`: a URL as [`url`] checks it, without a fragment (RFC 6749 §3.1.2: the server
/// adds the code to its query, and a fragment never reaches a server).
pub(crate) fn redirect_url(class: &str, input: &str, o: &Options) -> Result<(), Error> {
    url("redirectUri", input, o)?;
    if !crate::core::text::all_bytes(input, |b| b != b'#') {
        return Err(bad(
            class,
            "redirectUri",
            "must have no fragment (#…) (RFC 6749 §3.1.2)",
        ));
    }
    Ok(())
}

/// The parts of [`Settings`] that come from [`Options`].
pub(crate) fn engine_settings(
    class: &'static str,
    api_url: ApiUrl,
    vendor: crate::core::config::Vendor,
    core: crate::core::config::Config,
    token: &ParsedUrl,
    api: Option<Origin>,
    o: &Options,
) -> Settings {
    Settings {
        class,
        api_url,
        vendor,
        core,
        token_url: token.href(),
        token_origin: token.origin.serialize(),
        api_origin: api.as_ref().map(Origin::serialize).unwrap_or_default(),
        api,
        static_token: None,
        fetch: o.fetch.clone(),
        timeout_ms: o.timeout_ms,
        skew_ms: o.refresh_skew_seconds * 1000.0,
        max_retries: o.max_retries,
        sign_in: None,
        token_store: o.token_store.clone(),
    }
}

/// The current token of `engine`, as every client type's `token_with_signal` returns it (one
/// function for all of them).
pub(crate) async fn token_info(
    engine: &Engine,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<TokenInfo, Error> {
    let t = engine.token(signal).await.map_err(|e| engine.scrubbed(e))?;
    Ok(info_of(&t))
}

/// A JSON answer read into the caller's type with serde-wasm-bindgen (the Rust API's `*_as`
/// methods). An answer of another shape is an `invalid_response` error that quotes what did not
/// fit, scrubbed like every other error of the client.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    engine: &Engine,
    value: wasm_bindgen::JsValue,
    what: &str,
) -> Result<T, Error> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        // serde-wasm-bindgen's error is a JavaScript `Error`: its text is "Error: <message>".
        let text = e.to_string();
        let why = text.strip_prefix("Error: ").unwrap_or(&text);
        engine.scrubbed(
            Error::new(
                Code::InvalidResponse,
                format!(
                    "{what} does not fit the type asked for: {}",
                    crate::core::text::snippet(why, 160)
                ),
            )
            .hint(
                "make the type's fields match the answer (Option for members that may be missing)",
            ),
        )
    })
}

/// What callers see of a token.
pub(crate) fn info_of(t: &engine::Cached) -> TokenInfo {
    TokenInfo {
        access_token: t.value.expose().to_string(),
        token_type: "Bearer",
        expires_at: t.expires_at,
        scope: t.scope.clone(),
        resource: t.resource.clone(),
    }
}

/// A client type's rule for a path or URL on its API origin: the URL, or why not.
pub(crate) type ApiUrl = fn(&Engine, &str) -> Result<String, Error>;

/// Every client type's `fetch_js`, with its `api_url` from the settings (one function for all of
/// them).
pub(crate) async fn fetch_with(
    engine: &Engine,
    path_or_url: &str,
    init: &wasm_bindgen::JsValue,
) -> Result<web_sys::Response, Error> {
    let result = match (engine.settings().api_url)(engine, path_or_url) {
        Ok(url) => engine.fetch(&url, init).await,
        Err(e) => Err(e),
    };
    result.map_err(|e| engine.scrubbed(e))
}

/// The methods every client type has, over its engine.
macro_rules! client_methods {
    ($t:ty) => {
        /// The class, the client id and the API origin, never a credential (as `toString` in
        /// JavaScript).
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let s = self.engine.settings();
                f.debug_struct(s.class)
                    .field("client_id", &s.core.client_id)
                    .field("api_origin", &s.api_origin)
                    .finish()
            }
        }

        impl $t {
            /// The current token: the cached one while fresh, else fetched once for every
            /// concurrent caller.
            pub async fn token(&self) -> Result<$crate::client::TokenInfo, $crate::Error> {
                self.token_with_signal(None).await
            }

            /// [`Self::token`], giving up when `signal` fires (the token request itself goes on
            /// while other callers wait for it).
            pub async fn token_with_signal(
                &self,
                signal: Option<&web_sys::AbortSignal>,
            ) -> Result<$crate::client::TokenInfo, $crate::Error> {
                $crate::client::token_info(&self.engine, signal).await
            }

            /// An authenticated call. A path is resolved against the configured origin; an
            /// absolute URL to another origin is refused. Redirects are not followed (the 3xx is
            /// returned); after a 401 the token is renewed and the call retried once when its
            /// body can be sent again. Any other status is returned as fetch returns it.
            pub async fn fetch(
                &self,
                path_or_url: &str,
                init: Option<&web_sys::RequestInit>,
            ) -> Result<gloo_net::http::Response, $crate::Error> {
                let init: &wasm_bindgen::JsValue = match init {
                    Some(i) => i.as_ref(),
                    None => &wasm_bindgen::JsValue::UNDEFINED,
                };
                let response = self.fetch_js(path_or_url, init).await?;
                Ok(gloo_net::http::Response::from(response))
            }

            /// [`Self::fetch`] with any JavaScript `RequestInit` object, returning the fetch
            /// `Response` itself.
            pub async fn fetch_js(
                &self,
                path_or_url: &str,
                init: &wasm_bindgen::JsValue,
            ) -> Result<web_sys::Response, $crate::Error> {
                $crate::client::fetch_with(&self.engine, path_or_url, init).await
            }

            /// Forgets the cached token: the next call gets a new one.
            pub fn invalidate(&self) {
                self.engine.invalidate();
            }

            /// Counters of token requests, cache hits, early refreshes and 401 retries.
            pub fn stats(&self) -> $crate::client::Stats {
                self.engine.stats()
            }
        }
    };
}
pub(crate) use client_methods;

/// The sign-in methods of the clients that can sign a user in.
macro_rules! signin_methods {
    ($t:ty) => {
        impl $t {
            /// The authorize URL for a new sign-in, with a fresh `state` and PKCE (S256)
            /// challenge; the state and verifier wait in the state storage for the redirect.
            pub async fn build_authorization_url(&self) -> Result<String, $crate::Error> {
                let e = &self.engine;
                e.build_authorization_url().await.map_err(|x| e.scrubbed(x))
            }

            /// [`Self::build_authorization_url`], and in a browser `location.assign` to it.
            pub async fn sign_in(&self) -> Result<String, $crate::Error> {
                let url = self.build_authorization_url().await?;
                $crate::client::assign_location(&url);
                Ok(url)
            }

            /// On the redirect back: checks the state, exchanges the code with its verifier and
            /// keeps the tokens. `None` when `href` carries neither a code nor an error.
            pub async fn handle_redirect(
                &self,
                href: &str,
            ) -> Result<Option<$crate::client::TokenInfo>, $crate::Error> {
                let e = &self.engine;
                let t = e.handle_redirect(href).await.map_err(|x| e.scrubbed(x))?;
                Ok(t.map(|t| $crate::client::info_of(&t)))
            }

            /// The signed-in user's claims (`sub`, `email`, `name`, …) from the user-info
            /// endpoint, as a JavaScript object: a 401 gets one refresh and one retry, as every
            /// authenticated call; an error status is an `http_error` (with the `error` and
            /// `error_description` of the endpoint's `WWW-Authenticate: Bearer` challenge, else
            /// of its JSON body), a success without an object of claims an `invalid_response`.
            pub async fn user_info(&self) -> Result<wasm_bindgen::JsValue, $crate::Error> {
                let e = &self.engine;
                e.user_info().await.map_err(|x| e.scrubbed(x))
            }

            /// [`Self::user_info`] read into a type of the caller's with serde-wasm-bindgen,
            /// e.g. a struct of the claims the app uses. An answer of another shape is an
            /// `invalid_response` error that says what did not fit.
            pub async fn user_info_as<T: serde::de::DeserializeOwned>(
                &self,
            ) -> Result<T, $crate::Error> {
                let info = self.user_info().await?;
                $crate::client::typed(&self.engine, info, "the user-info answer")
            }

            /// Whether this client holds a token or a refresh token now: one it obtained, or
            /// the static token it was given, which signing out does not forget.
            pub fn is_signed_in(&self) -> bool {
                self.engine.is_signed_in()
            }

            /// Forgets the tokens here, in the token store and in the other tabs (no single
            /// logout at the authorization server).
            pub async fn sign_out(&self) {
                let _ = self.engine.sign_out().await;
            }
        }
    };
}
pub(crate) use signin_methods;

/// Sends the page to `url` where there is a page.
pub(crate) fn assign_location(url: &str) {
    let location = signin::global("location");
    let _ = signin::invoke(
        &location,
        "assign",
        &[&wasm_bindgen::JsValue::from_str(url)],
    );
}

/// The text of a listing's answer (`GET path`, by the `api_url` of the settings), or an
/// `http_error` for an error status: "`what` answered HTTP `status`: <a short quote of the
/// body>", with `hint(status)`; a `timeout` when the body does not come within `timeoutMs`.
pub(crate) async fn listing(
    engine: &Engine,
    path: &str,
    what: &str,
    hint: fn(u16) -> &'static str,
) -> Result<String, Error> {
    let s = engine.settings();
    let read = match (s.api_url)(engine, path) {
        Ok(url) => {
            engine
                .read_within(&url, &s.api_origin, js_sys::Object::new(), "text")
                .await
        }
        Err(e) => Err(e),
    };
    let (response, body) = read.map_err(|e| engine.scrubbed(e))?;
    let status = response.status();
    let body = body.ok().and_then(|v| v.as_string()).unwrap_or_default();
    if (200..=299).contains(&status) {
        return Ok(body);
    }
    let quote = crate::core::text::snippet(&platform::cut(&body), 120);
    let mut message = [what, " answered HTTP ", &decimal(status.into())].concat();
    if !quote.is_empty() {
        message.push_str(": ");
        message.push_str(&quote);
    }
    let mut e = Error::new(Code::HttpError, message)
        .status(status)
        .hint(hint(status));
    // A temporary token from the Controller UI is a JWT: when its `exp` has passed, say so. (The
    // one static token with an `exp` a listing can carry: Dynatrace's platform tokens have none.
    // Here rather than in `list_applications`, where a `map_err` of its own measured +141 bytes.)
    if let Some(at) = engine.static_expired().filter(|_| status == 401) {
        e.hint = Some(
            [
                "accessToken expired at ",
                &String::from(js_sys::Date::new(&at.into()).to_iso_string()),
                ": generate a new temporary token in the Controller UI",
            ]
            .concat(),
        );
    }
    Err(engine.scrubbed(e))
}

/// A caller's path or URL on the API origin, or why not.
pub(crate) fn api_url(engine: &Engine, path_or_url: &str) -> Result<String, Error> {
    let s = engine.settings();
    match &s.api {
        Some(api) => crate::core::url::resolve_url(api, path_or_url),
        None => Err(Error::new(
            Code::InvalidConfig,
            [s.class, ": fetch needs baseUrl"].concat(),
        )
        .hint("set baseUrl to the API's origin")),
    }
}
