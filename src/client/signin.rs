//! Signing a user in: the authorization code grant with PKCE, refresh tokens, a token store that
//! keeps tokens beyond the client, and, in browsers, one refresh across the tabs of a console
//! (a Web Lock around every refresh, and the tokens shared over a `BroadcastChannel`, so that a
//! rotated refresh token is never used twice).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::engine::{Engine, Inner};
use super::platform::{self, get, set};
use crate::core::oauth::Grant;
use crate::core::signin::{
    authorize_url, base64url, code_exchange_error, login_required, redirect_outcome,
    refresh_refused, refresh_refused_error, same_issuer, user_info_error, Param, Redirect,
};
use crate::core::text::decimal;
use crate::core::token::Token;
use crate::core::url::config_url;
use crate::core::{Code, Error, Secret};

/// How a client signs a user in, as its options say.
#[derive(Clone, Debug)]
pub(crate) struct SignIn {
    pub redirect_uri: String,
    /// The authorize endpoint (`None` with an issuer: discovered).
    pub authorization_url: Option<String>,
    pub user_info_url: Option<String>,
    /// An issuer whose discovery document names the endpoints.
    pub issuer: Option<String>,
    /// `allowInsecureHttp`: the endpoints it names follow the rule of the configured URLs.
    pub allow_http: bool,
    /// `scope` of the authorize request, space-separated.
    pub scope: Option<String>,
    /// `resource` of the authorize request (Dynatrace: the environment URL).
    pub resource: Option<String>,
    /// More authorize parameters.
    pub params: Vec<Param>,
    /// `{ getItem, setItem, removeItem }` for the state and verifier across the redirect.
    pub state_storage: Option<JsValue>,
}

/// The sign-in endpoints in use.
#[derive(Debug)]
pub(crate) struct Endpoints {
    pub authorize: Option<String>,
    pub token_url: String,
    pub token_origin: String,
    pub user_info: Option<String>,
    /// Whether every redirect from the issuer carries `iss` (its discovery document's
    /// `authorization_response_iss_parameter_supported`, RFC 9207).
    pub iss_required: bool,
}

/// Where the state and the PKCE verifier wait for the redirect back: the `stateStorage` option,
/// else `sessionStorage` where there is one (the page is left and loaded again), else a `Map` in
/// memory; with the names of its get, set and remove methods. None for a client that signs no
/// user in.
pub(crate) struct StateStore(Option<(JsValue, [&'static str; 3])>);

impl StateStore {
    pub(crate) fn new(sign_in: Option<&SignIn>) -> StateStore {
        const STORAGE: [&str; 3] = ["getItem", "setItem", "removeItem"];
        StateStore(sign_in.map(|si| {
            if let Some(s) = &si.state_storage {
                return (s.clone(), STORAGE);
            }
            // Reading `sessionStorage` throws where storage is blocked (sandboxed frames): no
            // object.
            let session = global("sessionStorage");
            if session.is_object() {
                (session, STORAGE)
            } else {
                (js_sys::Map::new().into(), ["get", "set", "delete"])
            }
        }))
    }
}

/// A token obtained under a lock: `Some(None)` once the lock is given, then the outcome of the
/// run under it.
type Locked = Rc<RefCell<Option<Option<Result<u64, Error>>>>>;

/// Tokens as a token store and other tabs hold them.
struct Stored {
    access: Secret,
    expires_at: f64,
    /// When the token was obtained (written by this client; a store filled by hand may lack it).
    obtained_at: Option<f64>,
    refresh: Option<Secret>,
    scope: Option<String>,
}

impl Stored {
    /// Whether the stored token is still fresh by this client's rule: the skew before expiry,
    /// never more than half the lifetime; with no lifetime known, the whole skew.
    fn fresh(&self, now: f64, skew: f64) -> bool {
        let lifetime = self
            .obtained_at
            .map_or(f64::INFINITY, |o| self.expires_at - o);
        now < crate::core::cache::refresh_at(self.expires_at, lifetime, skew)
    }
}

fn stored_from(v: &JsValue) -> Option<Stored> {
    let secret = |key| {
        get(v, key)
            .as_string()
            .filter(|s| !s.is_empty())
            .map(Secret::new)
    };
    // A token that no Authorization header can carry is no token (`Headers` would throw).
    let access = secret("accessToken").filter(|s| crate::core::token::header_safe(s.expose()))?;
    let expires_at = get(v, "expiresAt").as_f64().filter(|n| !n.is_nan())?;
    Some(Stored {
        access,
        expires_at,
        obtained_at: get(v, "obtainedAt").as_f64().filter(|n| n.is_finite()),
        refresh: secret("refreshToken"),
        scope: get(v, "scope").as_string(),
    })
}

/// The other tabs of this client (browsers: `BroadcastChannel` and `navigator.locks`).
pub(crate) struct Tabs {
    channel: JsValue,
    lock_name: JsValue,
    _on_message: Closure<dyn FnMut(JsValue)>,
    /// Whether another tab has spoken: only then is it worth asking them before a refresh.
    peers: Cell<bool>,
    /// Wakes a refresh that waits for another tab's tokens.
    arrived: RefCell<Option<Function>>,
}

impl Drop for Tabs {
    fn drop(&mut self) {
        let _ = invoke(&self.channel, "close", &[]);
    }
}

impl Tabs {
    /// Joins the other tabs of this client where the platform allows: pages only. Deno (and
    /// perhaps Node one day) has both APIs too, but there the clients of one process may act for
    /// different users, who must never share tokens.
    pub(crate) fn join(engine: &Engine) {
        let channel_class = global("BroadcastChannel");
        let locks = get(&global("navigator"), "locks");
        if !platform::in_page()
            || !channel_class.is_function()
            || !get(&locks, "request").is_function()
        {
            return;
        }
        let s = &engine.0.s;
        let Some(si) = &s.sign_in else {
            return;
        };
        // One channel per configuration: the server, the client, and what its tokens are for (the
        // environment, the scopes, the other parameters of its requests). Another configuration's
        // tokens are not this client's, nor is its sign-out.
        let mut name = [
            "apm-oauth:",
            si.issuer.as_deref().unwrap_or(&s.token_url),
            " ",
            &s.core.client_id,
            " ",
            si.resource.as_deref().unwrap_or(""),
            " ",
            si.scope.as_deref().unwrap_or(""),
        ]
        .concat();
        for (k, v) in si.params.iter().chain(&s.core.params) {
            name.push(' ');
            name.push_str(k);
            name.push('=');
            name.push_str(v);
        }
        let name = JsValue::from_str(&name);
        let Ok(channel) = Reflect::construct(
            channel_class.unchecked_ref::<Function>(),
            &Array::of1(&name),
        ) else {
            return;
        };
        let weak: Weak<Inner> = Rc::downgrade(&engine.0);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(inner) = weak.upgrade() {
                Engine(inner).on_message(&get(&event, "data"));
            }
        });
        set(channel.unchecked_ref(), "onmessage", on_message.as_ref());
        let tabs = Tabs {
            channel,
            lock_name: name,
            _on_message: on_message,
            peers: Cell::new(false),
            arrived: RefCell::new(None),
        };
        // A starting tab asks its peers for the current tokens.
        tabs.post(&message("hello"));
        *engine.0.tabs.borrow_mut() = Some(tabs);
    }

    fn post(&self, message: &JsValue) {
        let _ = invoke(&self.channel, "postMessage", &[message]);
    }
}

/// A message to the other tabs that carries nothing but its type.
fn message(kind: &str) -> JsValue {
    let o = Object::new();
    set(&o, "type", &JsValue::from_str(kind));
    o.into()
}

/// `count` random bytes from `crypto.getRandomValues`, as base64url (none without WebCrypto).
fn random(count: u32) -> Option<String> {
    let crypto = global("crypto");
    // `new Uint8Array(count)`: `count` zero bytes.
    let bytes = Uint8Array::new(&count.into());
    invoke(&crypto, "getRandomValues", &[&bytes]).ok()?;
    Some(base64url_of(&bytes))
}

/// Bytes as base64url without padding.
fn base64url_of(bytes: &Uint8Array) -> String {
    base64url(&platform::base64_bytes(&bytes.to_vec()))
}

fn no_crypto() -> Error {
    Error::new(
        Code::InvalidConfig,
        "signing in needs WebCrypto (globalThis.crypto), which this runtime lacks",
    )
    .hint("use Node 20 or later, Deno or a current browser")
}

/// The SHA-256 digest of a PKCE verifier, through WebCrypto: a future of its `ArrayBuffer`
/// (none without WebCrypto).
fn digest(verifier: &str) -> Option<JsFuture> {
    let subtle = get(&global("crypto"), "subtle");
    let data = Uint8Array::from(verifier.as_bytes());
    let promise = invoke(&subtle, "digest", &[&JsValue::from_str("SHA-256"), &data]).ok()?;
    Some(JsFuture::from(Promise::resolve(&promise)))
}

/// The origin of a URL sign-in calls (`what`, for a refusal's message).
fn origin_of(what: &str, url: &str, allow_http: bool) -> Result<String, Error> {
    Ok(config_url(what, url, allow_http)?.origin.serialize())
}

/// The state storage's failure (a method that throws or rejects) in `method`.
fn storage_failed(class: &str, method: &str, e: &JsValue) -> Error {
    Error::new(
        Code::InvalidConfig,
        [
            class,
            ".",
            method,
            ": the state storage failed: ",
            &platform::failure_detail(e).unwrap_or_default(),
        ]
        .concat(),
    )
    .hint("the state and PKCE verifier wait there for the redirect back: check stateStorage (or sessionStorage)")
}

/// `login_required`: the user signed out while a token was being obtained.
fn signed_out() -> Error {
    login_required("the user signed out while the token was being obtained")
}

fn needs(class: &str, method: &str, option: &str) -> Error {
    Error::new(
        Code::InvalidConfig,
        [class, ": ", method, " needs ", option].concat(),
    )
}

impl Engine {
    /// The sign-in endpoints: configured, or read once from the issuer's discovery document.
    pub(super) async fn endpoints(&self) -> Result<Rc<Endpoints>, Error> {
        let s = &self.0.s;
        let Some(si) = &s.sign_in else {
            return Err(needs(s.class, "signing in", "redirectUri"));
        };
        let Some(issuer) = &si.issuer else {
            return Ok(Rc::new(Endpoints {
                authorize: si.authorization_url.clone(),
                token_url: s.token_url.clone(),
                token_origin: s.token_origin.clone(),
                user_info: si.user_info_url.clone(),
                iss_required: false,
            }));
        };
        // One discovery at a time: every caller waits for the one in flight and gets its outcome.
        let (done, outcome) = {
            let mut st = self.0.st.borrow_mut();
            if let Some(e) = st.discovered.clone() {
                return Ok(e);
            }
            st.discovering
                .get_or_insert_with(|| {
                    let outcome: super::engine::Discovery = Rc::default();
                    let (me, slot, issuer) = (self.clone(), outcome.clone(), issuer.clone());
                    let done = platform::promise_of(Box::pin(async move {
                        let result = me.discover(&issuer).await;
                        let mut st = me.0.st.borrow_mut();
                        st.discovering = None;
                        if let Ok(e) = &result {
                            st.discovered = Some(e.clone());
                        }
                        *slot.borrow_mut() = Some(result);
                        Ok(JsValue::UNDEFINED)
                    }));
                    (done, outcome)
                })
                .clone()
        };
        let _ = JsFuture::from(done).await;
        let result = outcome.borrow().clone();
        result.expect("the discovery settled")
    }

    /// The endpoints of `issuer`'s discovery document, read now.
    async fn discover(&self, issuer: &str) -> Result<Rc<Endpoints>, Error> {
        let s = &self.0.s;
        let si = s.sign_in.as_ref().expect("signing in");
        let url = [
            crate::core::text::trim_end_byte(issuer, b'/'),
            "/.well-known/openid-configuration",
        ]
        .concat();
        let origin = origin_of("issuer", issuer, true)?;
        let failed = |why: &str| {
            Error::new(
                Code::InvalidConfig,
                [
                    s.class,
                    ": the issuer's discovery document could not be read (",
                    why,
                    ")",
                ]
                .concat(),
            )
            .hint("check issuer: <issuer>/.well-known/openid-configuration must answer the OpenID Provider metadata")
        };
        let init = Object::new();
        set(&init, "method", &JsValue::from_str("GET"));
        set(&init, "headers", &{
            let h = Object::new();
            set(&h, "Accept", &JsValue::from_str("application/json"));
            h.into()
        });
        let (response, body) = self
            .send(&url, &origin, init, None, true, None)
            .await
            .map_err(|e| failed(&e.message))?;
        if !(200..300).contains(&response.status()) {
            return Err(failed(
                &["HTTP ", &decimal(response.status().into())].concat(),
            ));
        }
        let doc = js_sys::JSON::parse(&body).map_err(|_| failed("not JSON"))?;
        // The document is the issuer's own (OpenID Connect Discovery 4.3), so that a document
        // copied from another server cannot send the code elsewhere; a final `/` aside.
        if !get(&doc, "issuer")
            .as_string()
            .is_some_and(|named| same_issuer(&named, issuer))
        {
            return Err(failed("it names another issuer"));
        }
        // The same rule as for the configured URLs: https, or http to loopback or when allowed.
        let allow = si.allow_http;
        let endpoint = |name: &str| -> Result<Option<String>, Error> {
            match get(&doc, name).as_string() {
                None => Ok(None),
                Some(u) => {
                    let p = config_url(name, &u, allow)?;
                    Ok(Some(p.href()))
                }
            }
        };
        let token_url = endpoint("token_endpoint")?.ok_or_else(|| failed("no token_endpoint"))?;
        let token_origin = origin_of("token_endpoint", &token_url, allow)?;
        Ok(Rc::new(Endpoints {
            authorize: si
                .authorization_url
                .clone()
                .or(endpoint("authorization_endpoint")?),
            token_url,
            token_origin,
            user_info: si.user_info_url.clone().or(endpoint("userinfo_endpoint")?),
            iss_required: get(&doc, "authorization_response_iss_parameter_supported")
                .as_bool()
                .unwrap_or(false),
        }))
    }

    /// A new token for the calls that wait for one: another tab's, the store's, or a grant's.
    /// Only the holder of a lock obtains it, and the others find its tokens when they get the
    /// lock: the tabs' lock in a page, else the token store's own `lock(fn)` where it has one
    /// (processes sharing a store).
    pub(super) async fn obtain(&self, signal: &AbortSignal) -> Result<u64, Error> {
        let s = &self.0.s;
        let tabs = self.0.tabs.borrow().as_ref().map(|t| t.lock_name.clone());
        let store = s
            .token_store
            .as_ref()
            .filter(|t| get(t, "lock").is_function());
        let out: Locked = Rc::default();
        if tabs.is_some() || store.is_some() {
            let shared = tabs.is_some();
            let (me, sig, slot) = (self.clone(), signal.clone(), out.clone());
            let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
                *slot.borrow_mut() = Some(None);
                platform::promise_of(Box::pin(async move {
                    let r = me.obtain_here(&sig, shared).await;
                    *slot.borrow_mut() = Some(Some(r));
                    Ok(JsValue::UNDEFINED)
                }))
                .into()
            });
            let held = match (tabs, store) {
                (Some(name), _) => {
                    let locks = get(&global("navigator"), "locks");
                    // The wait for the lock ends with the request (when its last caller has gone).
                    let options = Object::new();
                    set(&options, "signal", signal);
                    invoke(&locks, "request", &[&name, &options, &callback])
                }
                (_, store) => invoke(store.unwrap_or(&JsValue::UNDEFINED), "lock", &[&callback]),
            };
            if let Ok(held) = held {
                // The lock is waited for as long as a token request may take (its attempts, the
                // store's read and write); then the client goes on without it. Once it is given,
                // the run under it is waited for (it has its own time limits).
                let held = Promise::resolve(&held);
                let ms = s.timeout_ms * f64::from(s.max_retries + 3);
                let _ = JsFuture::from(platform::within(&held, ms)).await;
                if out.borrow().is_some() {
                    let _ = JsFuture::from(held).await;
                }
            }
            if signal.aborted() && !matches!(*out.borrow(), Some(Some(_))) {
                return Err(super::engine::aborted_error());
            }
        }
        let result = out.borrow_mut().take().flatten();
        match result {
            Some(r) => r,
            // No lock (none, it failed, or it was not given in time): without it.
            None => self.obtain_here(signal, false).await,
        }
    }

    /// Whether the user has signed out since `epoch` (a count of sign-outs): what a code
    /// exchange in flight obtains after a sign-out is dropped.
    fn signed_out_since(&self, epoch: u32) -> bool {
        self.0.st.borrow().signouts != epoch
    }

    async fn obtain_here(&self, signal: &AbortSignal, shared: bool) -> Result<u64, Error> {
        if let Some(c) = self.peek_fresh() {
            return Ok(c.gen);
        }
        if let Some((wait, timer)) = shared.then(|| self.ask_tabs()).flatten() {
            let _ = JsFuture::from(wait).await;
            drop(timer);
            if let Some(t) = self.0.tabs.borrow().as_ref() {
                t.arrived.borrow_mut().take();
            }
            if let Some(c) = self.peek_fresh() {
                return Ok(c.gen);
            }
        }
        // A refresh token refused once, with its error: the store may hold a newer one.
        let mut refused: Option<(Error, Secret)> = None;
        loop {
            if let Some(gen) = self.read_store(signal).await {
                return Ok(gen);
            }
            // A signed-in user's token comes from the refresh token; a refused refresh token signs
            // the user out (here, in the store and in the other tabs), unless the store holds
            // another one: a client sharing the store refreshed first, and its refresh token
            // replaced the one refused (rotation).
            let refresh = if self.0.s.sign_in.is_some() {
                let rt = self.0.st.borrow().refresh.clone();
                let Some(rt) = rt else {
                    return Err(login_required(
                        "no user is signed in: this client holds no token and no refresh token",
                    ));
                };
                if let Some((e, _)) = refused.take_if(|(_, r)| r.expose() == rt.expose()) {
                    self.forget();
                    let _ = self.publish().await;
                    return Err(refresh_refused_error(e));
                }
                self.count_refresh_grant();
                Some(rt)
            } else {
                None
            };
            let grant = refresh.as_ref().map(|rt| Grant::RefreshToken(rt.expose()));
            // `signal` is aborted by a sign-out (or when nobody waits any more, and the error is
            // nobody's): what the grant obtains after that is not kept.
            let mut result = self.fetch_token(signal, grant).await;
            if signal.aborted() {
                result = Err(signed_out());
            }
            // The new tokens, published; a refused refresh token is looked for in the store
            // again (above) before the user is signed out.
            let outcome = match (result, refresh) {
                (Ok(t), _) => Ok(self.install(t)),
                (Err(e), Some(rt)) if refresh_refused(&e) => {
                    refused = Some((e, rt));
                    continue;
                }
                (Err(e), _) => return Err(e),
            };
            let _ = self.publish().await;
            return outcome;
        }
    }

    /// Reads the token store, if there is one: its tokens, adopted under a new generation, when
    /// they are fresh and not ones this client has given up; else its refresh token, taken when it
    /// is not older than this client's own.
    async fn read_store(&self, signal: &AbortSignal) -> Option<u64> {
        let store = self.0.s.token_store.as_ref()?;
        let skew = self.0.s.skew_ms;
        // A store that fails is a store without tokens, and so is its answer after a
        // sign-out meanwhile (which aborts `signal`).
        let v = call_method(store, "get", &[], self.0.s.timeout_ms)
            .await
            .ok()
            .filter(|_| !signal.aborted());
        if let Some(stored) = v.as_ref().and_then(stored_from) {
            let now = platform::now();
            // The token this client has just found stale (or given up) is not taken back.
            let known = {
                let st = self.0.st.borrow();
                let same = |s: &Secret| s.expose() == stored.access.expose();
                st.cache.as_ref().is_some_and(|c| same(&c.value))
                    || st.spent.as_ref().is_some_and(same)
            };
            if !known && stored.fresh(now, skew) {
                return Some(self.adopt(stored));
            }
            // Its refresh token, unless this client's own is newer (its last write to the
            // store may have failed, and a used refresh token may be refused once rotated).
            let mut st = self.0.st.borrow_mut();
            let newer = st
                .cache
                .as_ref()
                .is_none_or(|c| stored.obtained_at.unwrap_or(0.0) >= c.obtained_at);
            if stored.refresh.is_some() && newer {
                st.refresh = stored.refresh;
            }
        }
        None
    }

    /// Asks the other tabs for their tokens (only when there are other tabs): the wait for an
    /// answer, which ends when tokens arrive or after 150 ms, whichever comes first, and its timer.
    fn ask_tabs(&self) -> Option<(Promise, platform::Timer)> {
        let tabs = self.0.tabs.borrow();
        let tabs = tabs.as_ref()?;
        if !tabs.peers.get() {
            return None;
        }
        let (p, resolve) = platform::deferred();
        let timer = platform::Timer::new(150.0, &resolve);
        *tabs.arrived.borrow_mut() = Some(resolve);
        tabs.post(&message("hello"));
        Some((p, timer))
    }

    /// Tokens from the store or another tab, cached under a new generation.
    fn adopt(&self, s: Stored) -> u64 {
        let now = platform::now();
        self.install(Token {
            access_token: s.access,
            token_type: "Bearer",
            expires_at_ms: s.expires_at,
            lifetime_ms: (s.expires_at - s.obtained_at.unwrap_or(now)).max(0.0),
            scope: s.scope,
            resource: None,
            refresh_token: s.refresh,
            id_token: None,
        })
    }

    /// The tokens this client holds, as the store and the other tabs take them (with `type`
    /// `kind` when it is not empty); `None` when it holds no access token.
    fn current_js(&self, kind: &str) -> Option<Object> {
        let st = self.0.st.borrow();
        let c = st.cache.as_ref()?;
        let o = Object::new();
        if !kind.is_empty() {
            set(&o, "type", &JsValue::from_str(kind));
        }
        set(&o, "accessToken", &JsValue::from_str(c.value.expose()));
        set(&o, "expiresAt", &JsValue::from_f64(c.expires_at));
        set(&o, "obtainedAt", &JsValue::from_f64(c.obtained_at));
        if let Some(r) = &st.refresh {
            set(&o, "refreshToken", &JsValue::from_str(r.expose()));
        }
        if let Some(sc) = &c.scope {
            set(&o, "scope", &JsValue::from_str(sc));
        }
        Some(o)
    }

    /// Hands the current tokens to the other tabs and to the store (none: the user is signed
    /// out); the store's answer.
    fn publish(&self) -> JsFuture {
        if let Some(tabs) = self.0.tabs.borrow().as_ref() {
            tabs.post(&match self.current_js("tokens") {
                Some(t) => t.into(),
                None => message("signout"),
            });
        }
        let Some(store) = &self.0.s.token_store else {
            return JsFuture::from(Promise::resolve(&JsValue::UNDEFINED));
        };
        let value = match self.current_js("") {
            Some(t) => t.into(),
            None => JsValue::NULL,
        };
        call_method(store, "set", &[&value], self.0.s.timeout_ms)
    }

    /// A message from another tab of this client.
    fn on_message(&self, data: &JsValue) {
        let kind = get(data, "type").as_string().unwrap_or_default();
        let tabs = self.0.tabs.borrow();
        let Some(tabs) = tabs.as_ref() else {
            return;
        };
        tabs.peers.set(true);
        match kind.as_str() {
            "hello" => {
                if let Some(cur) = self.current_js("tokens") {
                    tabs.post(&cur);
                }
            }
            "tokens" => {
                if let Some(s) = stored_from(data) {
                    // Never a token this tab has given up (a 401): the other tab may not know yet.
                    let take = {
                        let st = self.0.st.borrow();
                        let newer = st
                            .cache
                            .as_ref()
                            .is_none_or(|c| c.expires_at < s.expires_at);
                        let spent = st
                            .spent
                            .as_ref()
                            .is_some_and(|x| x.expose() == s.access.expose());
                        newer && !spent
                    };
                    if take {
                        self.adopt(s);
                    }
                }
                if let Some(wake) = tabs.arrived.borrow_mut().take() {
                    let _ = wake.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED);
                }
            }
            "signout" => self.forget(),
            _ => {}
        }
    }

    /// The authorize URL for a new sign-in: a fresh `state` and PKCE verifier, kept until the
    /// redirect comes back.
    pub(crate) async fn build_authorization_url(&self) -> Result<String, Error> {
        let s = &self.0.s;
        let si = s
            .sign_in
            .as_ref()
            .ok_or_else(|| needs(s.class, "buildAuthorizationUrl", "redirectUri"))?;
        let endpoints = self.endpoints().await?;
        let authorize = endpoints
            .authorize
            .as_ref()
            .ok_or_else(|| needs(s.class, "buildAuthorizationUrl", "authorizationUrl"))?;
        let (Some(state), Some(verifier)) = (random(16), random(32)) else {
            return Err(no_crypto());
        };
        // The PKCE S256 challenge.
        let hash = match digest(&verifier) {
            Some(f) => f.await.ok(),
            None => None,
        };
        let Some(hash) = hash else {
            return Err(no_crypto());
        };
        let challenge = base64url_of(&Uint8Array::new(&hash));
        // The verifier waits for the redirect in the state storage, under the state.
        // A store that cannot keep it fails the sign-in now, not at the redirect back.
        if let Some((store, [_, set, _])) = &self.0.states.0 {
            let (k, v) = (self.state_key(&state), JsValue::from_str(&verifier));
            if let Err(e) = call_method(store, set, &[&k, &v], s.timeout_ms).await {
                // The store's own text may quote what it was handed: never the verifier.
                return Err(storage_failed(s.class, "buildAuthorizationUrl", &e).scrub(&[verifier]));
            }
        }
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", &s.core.client_id),
            ("redirect_uri", &si.redirect_uri),
        ];
        if let Some(scope) = &si.scope {
            params.push(("scope", scope));
        }
        params.push(("state", &state));
        params.push(("code_challenge", &challenge));
        params.push(("code_challenge_method", "S256"));
        if let Some(r) = &si.resource {
            params.push(("resource", r));
        }
        for (k, v) in &si.params {
            if !params.iter().any(|(n, _)| n == k) {
                params.push((k, v));
            }
        }
        Ok(authorize_url(authorize, &params))
    }

    /// The state storage's key for `state`.
    fn state_key(&self, state: &str) -> JsValue {
        JsValue::from_str(&["apm-oauth:", &self.0.s.core.client_id, ":", state].concat())
    }

    /// Handles the redirect back: checks the state, exchanges the code with its verifier and
    /// caches the tokens. `None` for a URL that carries neither a code nor an error.
    pub(crate) async fn handle_redirect(
        &self,
        href: &str,
    ) -> Result<Option<Rc<super::engine::Cached>>, Error> {
        let s = &self.0.s;
        let si = s
            .sign_in
            .as_ref()
            .ok_or_else(|| needs(s.class, "handleRedirect", "redirectUri"))?;
        let epoch = self.0.st.borrow().signouts;
        let url = web_sys::Url::new(href).map_err(|_| {
            Error::new(
                Code::InvalidArgument,
                "handleRedirect takes the URL the user came back to (e.g. location.href)",
            )
        })?;
        // The code and the verifier kept for the state; the redirect's parameters are dropped
        // before the exchange.
        let (code, verifier) = {
            let q = url.search_params();
            let redirect = Redirect {
                code: q.get("code"),
                state: q.get("state"),
                error: q.get("error"),
                error_description: q.get("error_description"),
            };
            if redirect.code.is_none() && redirect.error.is_none() {
                // No redirect back (a page load): the store's tokens, so that `isSignedIn()`
                // knows of a user signed in before.
                if !self.is_signed_in() {
                    self.read_store(&platform::controller().signal()).await;
                }
                return Ok(None);
            }
            clean_address_bar();
            // A redirect whose `iss` is not the issuer (or has none, where the issuer's document
            // says it always sends one) is neither exchanged nor believed (RFC 9207: a mix-up of
            // servers); a final `/` aside.
            if let Some(want) = &si.issuer {
                let iss = q.get("iss");
                let missing = iss.is_none() && self.endpoints().await?.iss_required;
                if missing || iss.is_some_and(|i| !same_issuer(&i, want)) {
                    return Err(Error::new(
                        Code::AuthorizationError,
                        "the redirect's iss does not name this client's issuer (RFC 9207: it may come from another server)",
                    )
                    .hint("start the sign-in again with signIn(); check issuer"));
                }
            }
            // Taken out of the state storage (read, then removed), once: a second redirect with
            // the same state, even one handled while the first still waits for the storage,
            // finds none.
            let again = redirect.state.as_ref().is_some_and(|state| {
                let mut st = self.0.st.borrow_mut();
                let again = st.states_taken.contains(state);
                st.states_taken.push(state.clone());
                again
            });
            let verifier = match (&redirect.state, &self.0.states.0) {
                (Some(state), Some((store, [get, _, remove]))) if !again => {
                    let k = self.state_key(state);
                    let ms = self.0.s.timeout_ms;
                    let v = call_method(store, get, &[&k], ms).await;
                    let _ = call_method(store, remove, &[&k], ms).await;
                    // A read that fails is no foreign state: say what failed.
                    v.map_err(|e| storage_failed(s.class, "handleRedirect", &e))?
                        .as_string()
                }
                _ => None,
            };
            let expected = verifier.as_ref().and(redirect.state.as_deref());
            let Some(code) = redirect_outcome(&redirect, expected)? else {
                return Ok(None);
            };
            (code, verifier.unwrap_or_default())
        };
        let signal = platform::controller().signal();
        let grant = Grant::AuthorizationCode {
            code: &code,
            redirect_uri: &si.redirect_uri,
            verifier: &verifier,
        };
        let mut result = self.fetch_token(&signal, Some(grant)).await;
        if self.signed_out_since(epoch) {
            result = Err(signed_out());
        }
        // A transport's error may quote the request's body: the code and verifier are in it.
        self.install(
            result.map_err(|e| {
                code_exchange_error(e).scrub(&self.secret_forms(&[&code, &verifier]))
            })?,
        );
        let _ = self.publish().await;
        let cached = self.0.st.borrow().cache.clone();
        Ok(cached)
    }

    /// The signed-in user's claims from the user-info endpoint.
    pub(crate) async fn user_info(&self) -> Result<JsValue, Error> {
        let s = &self.0.s;
        let endpoints = self.endpoints().await?;
        let url = endpoints
            .user_info
            .as_ref()
            .ok_or_else(|| needs(s.class, "userInfo", "userInfoUrl"))?;
        let origin = origin_of("userInfoUrl", url, true)?;
        let init = Object::new();
        set(&init, "headers", &{
            let h = Object::new();
            set(&h, "Accept", &JsValue::from_str("application/json"));
            h.into()
        });
        // As every authenticated call: one retry with a new token after a 401.
        let (response, body) = self.read_within(url, &origin, init, "json").await?;
        let status = response.status();
        let ok = (200..300).contains(&status);
        let body = body.unwrap_or_default();
        // Claims: an object with at least one member (`{}` names no user).
        if ok
            && body.is_object()
            && !Array::is_array(&body)
            && Object::keys(body.unchecked_ref::<Object>()).length() > 0
        {
            return Ok(body);
        }
        // Read as any member, as the token path does: a fetch option's answer may have a
        // throwing getter.
        let headers: web_sys::Headers = get(&response, "headers").unchecked_into();
        let challenge = headers.get("www-authenticate").ok().flatten();
        let field = |name| get(&body, name).as_string();
        Err(user_info_error(
            status,
            &challenge.unwrap_or_default(),
            (field("error"), field("error_description")),
        ))
    }

    /// Whether this client holds a token or a refresh token now: one it obtained, or the static
    /// token it was given (`platformToken`), which signing out does not forget.
    pub(crate) fn is_signed_in(&self) -> bool {
        let st = self.0.st.borrow();
        st.cache.is_some() || st.refresh.is_some() || self.0.static_entry.is_some()
    }

    /// Forgets the user's tokens here, in the store and in the other tabs; the store's answer.
    pub(crate) fn sign_out(&self) -> JsFuture {
        self.0.st.borrow_mut().signouts += 1;
        self.abort_inflight();
        self.forget();
        self.publish()
    }
}

/// `method` of `target` (a store, a response) called with `args`, as a future of its answer
/// (an error when it is no function, throws or rejects), waited for at most `ms` (then
/// `undefined`): a store that never answers cannot hold a call past `timeoutMs`.
pub(super) fn call_method(target: &JsValue, method: &str, args: &[&JsValue], ms: f64) -> JsFuture {
    let value = invoke(target, method, args).unwrap_or_else(|e| Promise::reject(&e).into());
    JsFuture::from(platform::within(&value, ms))
}

/// A property of the global object.
pub(super) fn global(name: &str) -> JsValue {
    get(&js_sys::global(), name)
}

/// `method` of `target` called with `args`; an error when it is no function or throws.
pub(super) fn invoke(
    target: &JsValue,
    method: &str,
    args: &[&JsValue],
) -> Result<JsValue, JsValue> {
    let f = get(target, method).dyn_into::<Function>()?;
    let array = Array::new();
    for a in args {
        array.push(a);
    }
    f.apply(target, &array)
}

/// Removes the redirect's parameters from the address bar, where there is one, so that a reload
/// or a bookmark never replays a used code.
fn clean_address_bar() {
    let history = global("history");
    let Some(href) = get(&global("location"), "href").as_string() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    let q = url.search_params();
    for name in &[
        "code",
        "state",
        "session_state",
        "error",
        "error_description",
        "iss",
    ] {
        q.delete(name);
    }
    let state = get(&history, "state");
    let _ = invoke(
        &history,
        "replaceState",
        &[&state, &JsValue::from_str(""), &get(&url, "href")],
    );
}
