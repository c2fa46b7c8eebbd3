//! The npm package's classes: thin `#[wasm_bindgen]` wrappers over the Rust API. They convert
//! (the options object into the typed configuration, results into plain objects, errors into
//! `ApmOAuthError`) and nothing else.

// `Error` carries the server's OAuth fields inline; it is built at most once per failed call.
#![allow(clippy::result_large_err)]

mod options;

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::client::platform::{get, set, signal_of};
use crate::client::{
    AppDynamicsClient, AppDynamicsConfig, BasicAuth, DynatraceAccountClient,
    DynatraceAccountConfig, DynatraceClient, DynatraceConfig, OAuthClient, OAuthConfig,
    TokenContentType, TokenInfo,
};
use crate::core::config::AuthMethod;
use crate::core::error::secret_forms;
use crate::core::{Code, Error, Secret};
use options::{begin, ClassOptions, Opt, Reader, Val, REQUIRED};

thread_local! {
    static ERROR_CLASS: RefCell<Option<Function>> = const { RefCell::new(None) };
    /// The error objects of failures that several callers share, while any copy of one lives.
    static SHARED: RefCell<Vec<(std::sync::Weak<()>, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// Hands the wasm the `ApmOAuthError` class of the JavaScript layer, which every entry calls once
/// at load: the class is defined once, in JavaScript, and constructed here.
#[wasm_bindgen(js_name = setErrorClass)]
pub fn set_error_class(class: Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

/// An `ApmOAuthError` from an error; the callers of one failed token request get one object.
/// An `aborted` one has the `reason` of the caller's signal as its `cause`, as native fetch
/// rejects with it: the signal of `holder`, the call's init or `getToken`'s options (`undefined`
/// for a call without one).
fn to_js(e: &Error, holder: &JsValue) -> JsValue {
    let Some(id) = &e.shared else {
        let reason = (e.code == Code::Aborted).then(|| get(&get(holder, "signal"), "reason"));
        return new_error(e, reason.as_ref());
    };
    SHARED.with(|s| {
        let mut s = s.borrow_mut();
        // The entries of failures no copy of which lives are dropped on the way (order aside).
        let mut i = 0;
        let mut found = None;
        while let Some((w, v)) = s.get(i) {
            if w.strong_count() == 0 {
                s.swap_remove(i);
                continue;
            }
            if std::ptr::eq(w.as_ptr(), std::sync::Arc::as_ptr(id)) {
                found = Some(v.clone());
            }
            i += 1;
        }
        if let Some(v) = found {
            return v;
        }
        let v = new_error(e, None);
        s.push((std::sync::Arc::downgrade(id), v.clone()));
        v
    })
}

fn new_error(e: &Error, cause: Option<&JsValue>) -> JsValue {
    let f = Object::new();
    set(&f, "code", &JsValue::from_str(e.code.as_str()));
    // The message ends with the hint, joined as everywhere (`full_message`).
    set(&f, "message", &JsValue::from_str(&e.full_message()));
    let text = [
        ("hint", &e.hint),
        ("error", &e.error),
        ("errorDescription", &e.error_description),
        ("issueId", &e.issue_id),
    ];
    for &(k, v) in &text {
        if let Some(v) = v {
            set(&f, k, &JsValue::from_str(v));
        }
    }
    if let Some(s) = e.status {
        set(&f, "status", &JsValue::from(s));
    }
    if let Some(s) = e.retry_after {
        set(&f, "retryAfter", &JsValue::from_f64(s));
    }
    if let Some(c) = cause.filter(|c| !c.is_undefined()) {
        set(&f, "cause", c);
    }
    let class = ERROR_CLASS.with(|c| c.borrow().clone());
    class
        .and_then(|c| Reflect::construct(&c, &Array::of1(&f)).ok())
        .unwrap_or_else(|| js_sys::Error::new(&e.full_message()).into())
}

/// A constructor's error, scrubbed of the secrets in the options it was given (trimmed, as the
/// client would have sent them): the values `begin` read (`read`), else, when it refused the
/// options before reading them, those read now. So a getter runs once per construction either way.
fn config_error(e: Error, read: &Option<ClassOptions>, options: &JsValue) -> JsValue {
    let mut forms = Vec::new();
    for (i, key) in ["clientSecret", "accessToken", "platformToken"]
        .iter()
        .enumerate()
    {
        let value = match read {
            Some(o) => o
                .get([Opt::ClientSecret, Opt::AccessToken, Opt::PlatformToken][i])
                .as_string(),
            None => get(options, key).as_string(),
        };
        if let Some(raw) = value {
            let raw = crate::core::text::trim(&raw);
            if !raw.is_empty() {
                forms.append(&mut secret_forms("", raw, &crate::client::platform::base64));
            }
        }
    }
    to_js(&e.scrub(&forms), &JsValue::UNDEFINED)
}

/// A promise of `f`'s value, rejected with an `ApmOAuthError` on failure.
fn promise<F>(f: F) -> Promise
where
    F: std::future::Future<Output = Result<JsValue, Error>> + 'static,
{
    boxed_promise(Box::pin(f), JsValue::UNDEFINED)
}

/// [`promise`] of a call whose caller's signal is in `holder` (an init, `getToken`'s options):
/// its `aborted` error has the signal's `reason` as its cause.
fn signalled<F>(holder: JsValue, f: F) -> Promise
where
    F: std::future::Future<Output = Result<JsValue, Error>> + 'static,
{
    boxed_promise(Box::pin(f), holder)
}

/// [`promise`] over any future, with one copy of the promise machinery for all of them.
fn boxed_promise(
    f: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, Error>>>>,
    holder: JsValue,
) -> Promise {
    crate::client::platform::promise_of(Box::pin(
        async move { f.await.map_err(|e| to_js(&e, &holder)) },
    ))
}

/// A token as JavaScript sees it: `{ accessToken, tokenType, expiresAt, scope?, resource? }`.
fn token_js(t: TokenInfo) -> JsValue {
    let out = Object::new();
    set(&out, "accessToken", &JsValue::from_str(&t.access_token));
    set(&out, "tokenType", &JsValue::from_str(t.token_type));
    set(&out, "expiresAt", &JsValue::from_f64(t.expires_at));
    for &(k, v) in &[("scope", &t.scope), ("resource", &t.resource)] {
        if let Some(v) = v {
            set(&out, k, &JsValue::from_str(v));
        }
    }
    out.into()
}

/// `fetch`'s first argument: a path or URL string, or a URL object.
fn path_of(path_or_url: &JsValue) -> Result<String, Error> {
    href_of(path_or_url).ok_or_else(|| {
        Error::new(
            Code::InvalidArgument,
            "fetch takes a path or URL string (and the request options as its second argument)",
        )
    })
}

/// A string, or the `href` of a URL or `Location` object.
fn href_of(v: &JsValue) -> Option<String> {
    v.as_string()
        .or_else(|| v.is_object().then(|| get(v, "href").as_string()).flatten())
}

fn auth_method(r: &Reader, default: AuthMethod, expected: &str) -> AuthMethod {
    match r.string(Opt::AuthMethod).as_deref() {
        None => default,
        Some("client_secret_post") => AuthMethod::Post,
        Some("client_secret_basic") => AuthMethod::Basic,
        Some(_) => {
            r.bad(Opt::AuthMethod, expected);
            default
        }
    }
}

/// Every class's `getToken`.
fn get_token(engine: crate::client::Engine, options: JsValue) -> Promise {
    signalled(options.clone(), async move {
        let signal = signal_of(&options)?;
        Ok(token_js(
            crate::client::token_info(&engine, signal.as_ref()).await?,
        ))
    })
}

/// Every class's `fetch` (one function for the four classes: the rule for a path or URL is in
/// the engine's settings).
fn fetch(engine: crate::client::Engine, path_or_url: JsValue, init: JsValue) -> Promise {
    signalled(init.clone(), async move {
        let path = path_of(&path_or_url)?;
        Ok(crate::client::fetch_with(&engine, &path, &init)
            .await?
            .into())
    })
}

/// Every class's `stats()`: the counters as a plain object.
fn stats(engine: &crate::client::Engine) -> JsValue {
    let s = engine.stats();
    let out = Object::new();
    for &(k, v) in &[
        ("tokenRequests", s.token_requests),
        ("cacheHits", s.cache_hits),
        ("refreshes", s.refreshes),
        ("unauthorizedRetries", s.unauthorized_retries),
        ("refreshTokenGrants", s.refresh_token_grants),
    ] {
        set(&out, k, &JsValue::from(v));
    }
    out.into()
}

/// Every class's `toJSON`: the class, the client id, the token URL and the API origin (under the
/// name of the option that sets it), never a credential. One function for the four classes (the
/// class in the engine's settings: the name each class gives its engine).
fn describe(engine: &crate::client::Engine) -> JsValue {
    let s = engine.settings();
    let origin_key = match s.class {
        "DynatraceClient" => "environmentUrl",
        "AppDynamicsClient" => "controllerUrl",
        "OAuthClient" => "baseUrl",
        _ => "accountApiUrl",
    };
    let out = Object::new();
    set(&out, "client", &JsValue::from_str(s.class));
    if !s.core.client_id.is_empty() {
        set(&out, "clientId", &JsValue::from_str(&s.core.client_id));
    }
    if s.static_token.is_none() {
        set(&out, "tokenUrl", &JsValue::from_str(&s.token_url));
    }
    if !s.api_origin.is_empty() {
        set(&out, origin_key, &JsValue::from_str(&s.api_origin));
    }
    out.into()
}

/// Every class's `toString()`: `Class(clientId)`, as a JS string made here (a `String` result
/// costs the glue a copy and a free).
fn to_string(engine: &crate::client::Engine) -> JsValue {
    let s = engine.settings();
    JsValue::from_str(&[s.class, "(", &s.core.client_id, ")"].concat())
}

macro_rules! js_class {
    ($js:ident, $name:literal) => {
        #[wasm_bindgen(js_class = $name)]
        impl $js {
            /// The current token, fetched (once, for all concurrent callers) when needed.
            #[wasm_bindgen(js_name = getToken)]
            pub fn get_token(&self, options: JsValue) -> Promise {
                get_token(self.inner.engine.clone(), options)
            }

            /// An authenticated call to the configured origin.
            pub fn fetch(&self, path_or_url: JsValue, init: JsValue) -> Promise {
                fetch(self.inner.engine.clone(), path_or_url, init)
            }

            /// Forgets the cached token.
            pub fn invalidate(&self) {
                self.inner.invalidate();
            }

            /// Counters of token requests, cache hits, early refreshes and 401 retries.
            pub fn stats(&self) -> JsValue {
                stats(&self.inner.engine)
            }

            /// What the client is, without any credential.
            #[wasm_bindgen(js_name = toJSON)]
            pub fn to_json(&self) -> JsValue {
                describe(&self.inner.engine)
            }

            /// `Class(clientId)`.
            #[wasm_bindgen(js_name = toString)]
            pub fn to_string_js(&self) -> JsValue {
                to_string(&self.inner.engine)
            }
        }
    };
}

/// Every sign-in class's `buildAuthorizationUrl`, and with `assign` its `signIn`.
fn authorization_url(engine: crate::client::Engine, assign: bool) -> Promise {
    promise(async move {
        let url = engine
            .build_authorization_url()
            .await
            .map_err(|x| engine.scrubbed(x))?;
        if assign {
            crate::client::assign_location(&url);
        }
        Ok(JsValue::from_str(&url))
    })
}

/// Every sign-in class's `handleRedirect`.
fn handle_redirect(engine: crate::client::Engine, href: JsValue) -> Promise {
    promise(async move {
        let href = href_of(&href)
            .or_else(|| href_of(&get(&js_sys::global(), "location")))
            .ok_or_else(|| {
                Error::new(
                    Code::InvalidArgument,
                    "handleRedirect takes the URL the user came back to (e.g. location.href)",
                )
            })?;
        let t = engine
            .handle_redirect(&href)
            .await
            .map_err(|x| engine.scrubbed(x))?;
        Ok(match t {
            Some(t) => token_js(crate::client::info_of(&t)),
            None => JsValue::NULL,
        })
    })
}

/// Every sign-in class's `userInfo`.
fn user_info(engine: crate::client::Engine) -> Promise {
    promise(async move { engine.user_info().await.map_err(|x| engine.scrubbed(x)) })
}

/// Every sign-in class's `signOut`.
fn sign_out(engine: crate::client::Engine) -> Promise {
    promise(async move {
        let _ = engine.sign_out().await;
        Ok(JsValue::UNDEFINED)
    })
}

macro_rules! js_signin {
    ($js:ident, $name:literal) => {
        #[wasm_bindgen(js_class = $name)]
        impl $js {
            /// The authorize URL for a new sign-in (fresh state and PKCE challenge).
            #[wasm_bindgen(js_name = buildAuthorizationUrl)]
            pub fn build_authorization_url(&self) -> Promise {
                authorization_url(self.inner.engine.clone(), false)
            }

            /// Sends the page to the authorize URL (browsers); resolves to the URL.
            #[wasm_bindgen(js_name = signIn)]
            pub fn sign_in(&self) -> Promise {
                authorization_url(self.inner.engine.clone(), true)
            }

            /// On the callback: the token after the code exchange, or null for a URL that is no
            /// redirect back.
            #[wasm_bindgen(js_name = handleRedirect)]
            pub fn handle_redirect(&self, href: JsValue) -> Promise {
                handle_redirect(self.inner.engine.clone(), href)
            }

            /// The signed-in user's claims from the user-info endpoint.
            #[wasm_bindgen(js_name = userInfo)]
            pub fn user_info(&self) -> Promise {
                user_info(self.inner.engine.clone())
            }

            /// Whether this client holds a token or a refresh token now.
            #[wasm_bindgen(js_name = isSignedIn)]
            pub fn is_signed_in(&self) -> bool {
                self.inner.is_signed_in()
            }

            /// Forgets the tokens here, in the token store and in the other tabs.
            #[wasm_bindgen(js_name = signOut)]
            pub fn sign_out(&self) -> Promise {
                sign_out(self.inner.engine.clone())
            }
        }
    };
}

/// A class's option names: its own, in the order the documentation lists them, then those every
/// class takes.
macro_rules! known {
    ($($name:literal),* $(,)?) => {
        [
            $($name,)*
            "fetch",
            "tokenStore",
            "timeoutMs",
            "refreshSkewSeconds",
            "allowInsecureHttp",
            "maxRetries",
        ]
    };
}

/// The Dynatrace client of the npm package.
#[wasm_bindgen(js_name = DynatraceClient)]
pub struct JsDynatraceClient {
    inner: DynatraceClient,
}

const DYNATRACE_KNOWN: &[&str] = &known![
    "platformToken",
    "redirectUri",
    "authorizationUrl",
    "userInfoUrl",
    "authorizationParams",
    "stateStorage",
    "clientId",
    "clientSecret",
    "environmentUrl",
    "scope",
    "resource",
    "tokenUrl",
    "authMethod",
];

#[wasm_bindgen(js_class = DynatraceClient)]
impl JsDynatraceClient {
    /// Checks the options; makes no request.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsDynatraceClient, JsValue> {
        let mut read = None;
        let mut make = || {
            let r = begin("DynatraceClient", DYNATRACE_KNOWN, &options, &mut read)?;
            let common = r.common();
            let redirect_uri = r.string(Opt::RedirectUri);
            let platform_token = r.string(Opt::PlatformToken);
            // A platform token needs no client; a user's sign-in may have no secret (a public
            // client).
            let client_id = r.text(Opt::ClientId, platform_token.is_none());
            let client_secret = r.text(
                Opt::ClientSecret,
                redirect_uri.is_none() && platform_token.is_none(),
            );
            let config = DynatraceConfig {
                platform_token: platform_token.map(Secret::new),
                client_id,
                client_secret: Secret::new(client_secret),
                redirect_uri,
                authorization_url: r.string(Opt::AuthorizationUrl),
                user_info_url: r.string(Opt::UserInfoUrl),
                authorization_params: r.map(Opt::AuthorizationParams),
                state_storage: r.state_storage(),
                environment_url: r.string(Opt::EnvironmentUrl),
                token_url: r.string(Opt::TokenUrl),
                auth_method: auth_method(
                    &r,
                    AuthMethod::Post,
                    "must be \"client_secret_post\" or \"client_secret_basic\"",
                ),
                scope: r.list(Opt::Scope),
                resource: r.string(Opt::Resource),
                options: common,
            };
            r.done()?;
            DynatraceClient::new(config)
        };
        make()
            .map(|inner| JsDynatraceClient { inner })
            .map_err(|e| config_error(e, &read, &options))
    }

    /// `<environmentUrl>/platform/<apiPath>`.
    #[wasm_bindgen(js_name = platformUrl)]
    pub fn platform_url(&self, api_path: JsValue) -> Result<JsValue, JsValue> {
        // A path that is no string reads as none: the missing environment, else the empty path.
        self.inner
            .platform_url(&api_path.as_string().unwrap_or_default())
            .map(|url| JsValue::from_str(&url))
            .map_err(|e| to_js(&self.inner.engine.scrubbed(e), &JsValue::UNDEFINED))
    }

    /// Calls an AppEngine app function: POST with a JSON body when `payload` is given, else GET.
    #[wasm_bindgen(js_name = callAppFunction)]
    pub fn call_app_function(
        &self,
        app_id: JsValue,
        function_name: JsValue,
        payload: JsValue,
        init: JsValue,
    ) -> Promise {
        let c = self.inner.clone();
        signalled(init.clone(), async move {
            let (Some(app), Some(function)) = (app_id.as_string(), function_name.as_string())
            else {
                // The missing environment is the first thing to fix.
                c.platform_url("x")?;
                return Err(Error::new(
                    Code::InvalidArgument,
                    "callAppFunction takes an app id and a function name as strings",
                ));
            };
            let response = c
                .call_app_function_js(&app, &function, &payload, &init)
                .await?;
            Ok(response.into())
        })
    }
}

js_class!(JsDynatraceClient, "DynatraceClient");

/// The AppDynamics client of the npm package.
#[wasm_bindgen(js_name = AppDynamicsClient)]
pub struct JsAppDynamicsClient {
    inner: AppDynamicsClient,
}

const APPDYNAMICS_KNOWN: &[&str] = &known![
    "controllerUrl",
    "clientName",
    "accountName",
    "clientId",
    "clientSecret",
    "accessToken",
    "tokenContentType",
    "basicAuth",
];

#[wasm_bindgen(js_class = AppDynamicsClient)]
impl JsAppDynamicsClient {
    /// Checks the options; makes no request.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsAppDynamicsClient, JsValue> {
        let mut read = None;
        let mut make = || {
            let r = begin("AppDynamicsClient", APPDYNAMICS_KNOWN, &options, &mut read)?;
            let common = r.common();
            let controller_url = r.text(Opt::ControllerUrl, REQUIRED);
            let access_token = r.string(Opt::AccessToken);
            let client_secret = r.string(Opt::ClientSecret);
            let client_name = r.string(Opt::ClientName);
            let account_name = r.string(Opt::AccountName);
            let client_id = r.string(Opt::ClientId);
            let token_content_type = match r.string(Opt::TokenContentType).as_deref() {
                None | Some("auto") => TokenContentType::Auto,
                Some("form") => TokenContentType::Form,
                Some("vendor") => TokenContentType::Vendor,
                Some(_) => {
                    r.bad(
                        Opt::TokenContentType,
                        "must be \"auto\", \"form\" or \"vendor\"",
                    );
                    TokenContentType::Auto
                }
            };
            let basic_auth = match Val::of(r.value(Opt::BasicAuth)) {
                Val::Missing => BasicAuth::Auto,
                Val::Str(s) if s == "auto" => BasicAuth::Auto,
                Val::Bool(true) => BasicAuth::On,
                Val::Bool(false) => BasicAuth::Off,
                _ => {
                    r.bad(Opt::BasicAuth, "must be true, false or \"auto\"");
                    BasicAuth::Auto
                }
            };
            let config = AppDynamicsConfig {
                controller_url,
                client_name,
                account_name,
                client_id,
                client_secret: client_secret.map(Secret::new),
                access_token: access_token.map(Secret::new),
                token_content_type,
                basic_auth,
                options: common,
            };
            r.done()?;
            AppDynamicsClient::new(config)
        };
        make()
            .map(|inner| JsAppDynamicsClient { inner })
            .map_err(|e| config_error(e, &read, &options))
    }

    /// `GET /controller/rest/applications?output=JSON` as `{ id, name, description }` objects.
    #[wasm_bindgen(js_name = listApplications)]
    pub fn list_applications(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            let out = Array::new();
            for a in c.list_applications().await? {
                let app = Object::new();
                set(&app, "id", &JsValue::from_f64(a.id));
                set(&app, "name", &JsValue::from_str(&a.name));
                set(&app, "description", &JsValue::from_str(&a.description));
                out.push(&app);
            }
            Ok(out.into())
        })
    }
}

js_class!(JsAppDynamicsClient, "AppDynamicsClient");

/// The client of any OAuth 2.0 server, of the npm package.
#[wasm_bindgen(js_name = OAuthClient)]
pub struct JsOAuthClient {
    inner: OAuthClient,
}

const OAUTH_KNOWN: &[&str] = &known![
    "redirectUri",
    "authorizationUrl",
    "userInfoUrl",
    "authorizationParams",
    "stateStorage",
    "issuer",
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

#[wasm_bindgen(js_class = OAuthClient)]
impl JsOAuthClient {
    /// Checks the options; makes no request.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsOAuthClient, JsValue> {
        let mut read = None;
        let mut make = || {
            let r = begin("OAuthClient", OAUTH_KNOWN, &options, &mut read)?;
            let common = r.common();
            let redirect_uri = r.string(Opt::RedirectUri);
            let issuer = r.string(Opt::Issuer);
            let token_url = r.text(Opt::TokenUrl, redirect_uri.is_none() || issuer.is_none());
            if !token_url.is_empty() {
                // The token URL is checked before the rest, as the documentation lists the options.
                if let Err(e) =
                    crate::core::url::config_url("tokenUrl", &token_url, common.allow_insecure_http)
                {
                    r.refuse(e);
                }
            }
            let client_id = r.text(Opt::ClientId, REQUIRED);
            let client_secret = r.text(Opt::ClientSecret, redirect_uri.is_none());
            let config = OAuthConfig {
                token_url,
                client_id,
                client_secret: Secret::new(client_secret),
                redirect_uri,
                issuer,
                authorization_url: r.string(Opt::AuthorizationUrl),
                user_info_url: r.string(Opt::UserInfoUrl),
                authorization_params: r.map(Opt::AuthorizationParams),
                state_storage: r.state_storage(),
                auth_method: auth_method(
                    &r,
                    AuthMethod::Basic,
                    "must be \"client_secret_basic\" or \"client_secret_post\"",
                ),
                base_url: r.string(Opt::BaseUrl),
                scope: r.list(Opt::Scope),
                resource: r.list(Opt::Resource),
                audience: r.list(Opt::Audience),
                extra_params: r.map(Opt::ExtraParams),
                options: common,
            };
            r.done()?;
            OAuthClient::new(config)
        };
        make()
            .map(|inner| JsOAuthClient { inner })
            .map_err(|e| config_error(e, &read, &options))
    }
}

js_class!(JsOAuthClient, "OAuthClient");
js_signin!(JsOAuthClient, "OAuthClient");
js_signin!(JsDynatraceClient, "DynatraceClient");

/// The Dynatrace Account Management API client of the npm package.
#[wasm_bindgen(js_name = DynatraceAccountClient)]
pub struct JsDynatraceAccountClient {
    inner: DynatraceAccountClient,
}

const ACCOUNT_KNOWN: &[&str] = &known![
    "accountUuid",
    "clientId",
    "clientSecret",
    "scope",
    "tokenUrl",
    "accountApiUrl",
    "authMethod",
];

#[wasm_bindgen(js_class = DynatraceAccountClient)]
impl JsDynatraceAccountClient {
    /// Checks the options; makes no request.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsDynatraceAccountClient, JsValue> {
        let mut read = None;
        let mut make = || {
            let r = begin("DynatraceAccountClient", ACCOUNT_KNOWN, &options, &mut read)?;
            let common = r.common();
            let config = DynatraceAccountConfig {
                account_uuid: r.text(Opt::AccountUuid, REQUIRED),
                client_id: r.text(Opt::ClientId, REQUIRED),
                client_secret: Secret::new(r.text(Opt::ClientSecret, REQUIRED)),
                scope: r.list(Opt::Scope),
                token_url: r.string(Opt::TokenUrl),
                account_api_url: r.string(Opt::AccountApiUrl),
                auth_method: auth_method(
                    &r,
                    AuthMethod::Post,
                    "must be \"client_secret_post\" or \"client_secret_basic\"",
                ),
                options: common,
            };
            r.done()?;
            DynatraceAccountClient::new(config)
        };
        make()
            .map(|inner| JsDynatraceAccountClient { inner })
            .map_err(|e| config_error(e, &read, &options))
    }

    /// `GET /iam/v1/accounts/<uuid>/users`: the parsed JSON.
    #[wasm_bindgen(js_name = listUsers)]
    pub fn list_users(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.list_users().await })
    }

    /// `/iam/v1/accounts/<uuid>/` + `rest`.
    #[wasm_bindgen(js_name = accountPath)]
    pub fn account_path(&self, rest: JsValue) -> JsValue {
        JsValue::from_str(
            &self
                .inner
                .account_path(&rest.as_string().unwrap_or_default()),
        )
    }
}

js_class!(JsDynatraceAccountClient, "DynatraceAccountClient");
