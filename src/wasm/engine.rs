//! What every client does: get a token (one request in flight at a time, shared by every caller),
//! and make authenticated calls with it (one retry after a 401). Decisions come from the core.

use super::error::to_js;
use super::js::{self, get, object, set, sleep};
use super::options;
use super::transport::{check_signal, discard_body, Reply, Transport};
use crate::core::appdynamics::{self, Attempt};
use crate::core::cache::{Lookup, TokenCache};
use crate::core::config::{Config, RawOptions, Vendor};
use crate::core::text::cat;
use crate::core::token::{self, Token};
use crate::core::{oauth, retry, url, Code, Error};
use js_sys::{Array, Date, Math, Object, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::AbortController;

/// Counters a caller can read with `stats()`.
#[derive(Clone, Copy, Default)]
pub struct Stats {
    /// HTTP requests sent to the token endpoint (fallbacks and retries included).
    pub token_requests: u32,
    /// Calls served from the cached token.
    pub cache_hits: u32,
    /// Token fetches started because the cached token reached its refresh time.
    pub refreshes: u32,
    /// API calls retried after a 401.
    pub unauthorized_retries: u32,
}

/// The token request in flight: every caller that needs a token awaits its promise. It is
/// aborted when every caller waiting for it has been aborted by its own signal.
struct Inflight {
    id: u64,
    promise: Promise,
    waiters: usize,
    abort: AbortController,
}

#[derive(Default)]
struct State {
    cache: TokenCache,
    inflight: Option<Inflight>,
    next_id: u64,
    learned: Option<Attempt>,
    stats: Stats,
}

/// One client's configuration, transport and state.
pub struct Engine {
    /// The checked configuration.
    pub cfg: Config,
    /// The class name, for messages.
    pub class: &'static str,
    transport: Transport,
    token_origin: String,
    api_origin: String,
    state: RefCell<State>,
}

impl Engine {
    /// Builds an engine from the JavaScript options of `class`.
    pub fn build(
        class: &'static str,
        options: &JsValue,
        config: fn(&RawOptions) -> Result<Config, Error>,
    ) -> Result<Rc<Engine>, JsValue> {
        let (raw, fetch_fn) = options::read(class, options).map_err(|e| to_js(&e))?;
        let cfg = config(&raw).map_err(|e| {
            // Options may hold the secret; no message may.
            let secrets: Vec<String> = raw
                .0
                .iter()
                .filter(|(k, _)| k == "clientSecret" || k == "accessToken")
                .filter_map(|(_, v)| match v {
                    crate::core::config::Raw::Str(s) => Some(s.trim().to_string()),
                    _ => None,
                })
                .collect();
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            to_js(&e.scrub(&refs))
        })?;
        let api_origin = cfg
            .api_origin
            .as_ref()
            .map(|o| o.serialize())
            .unwrap_or_default();
        let token_origin = url::parse(&cfg.token_url)
            .map(|p| p.origin.serialize())
            .unwrap_or_default();
        let mut secret_forms = Vec::new();
        for s in [&cfg.secret, &cfg.static_token].into_iter().flatten() {
            secret_forms.extend(crate::core::error::secret_forms(&cfg.client_id, s.expose()));
        }
        let transport = Transport {
            fetch_fn,
            timeout_ms: cfg.common.timeout_ms,
            secret_forms,
        };
        Ok(Rc::new(Engine {
            cfg,
            class,
            transport,
            token_origin,
            api_origin,
            state: RefCell::default(),
        }))
    }

    /// A core error as a JavaScript error, with every secret this client knows removed.
    pub fn js_error(&self, e: Error) -> JsValue {
        let mut secrets = self.transport.secret_refs();
        let st = self.state.borrow();
        if let Some((t, _)) = current(&st.cache) {
            secrets.push(t.access_token.expose());
        }
        to_js(&e.scrub(&secrets))
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.state.borrow().stats
    }

    /// Forgets the cached token; the next call gets a new one.
    pub fn invalidate(&self) {
        self.state.borrow_mut().cache.clear();
    }

    /// A token and its generation: the cached one while fresh, else the one in flight, else a new
    /// request. Every caller that finds no fresh token awaits the same request.
    pub async fn token(
        self: &Rc<Self>,
        signal: Option<&JsValue>,
    ) -> Result<(String, u64), JsValue> {
        if let Some(t) = &self.cfg.static_token {
            return Ok((t.expose().to_string(), 0));
        }
        for _ in 0..3 {
            check_signal(signal).map_err(|e| self.js_error(e))?;
            let (id, promise) = {
                let mut guard = self.state.borrow_mut();
                let st = &mut *guard;
                let stale = match st.cache.lookup(Date::now()) {
                    Lookup::Fresh(t, g) => {
                        st.stats.cache_hits += 1;
                        return Ok((t.access_token.expose().to_string(), g));
                    }
                    Lookup::Stale => true,
                    Lookup::Empty => false,
                };
                if st.inflight.is_none() {
                    if stale {
                        st.stats.refreshes += 1;
                    }
                    st.next_id += 1;
                    let id = st.next_id;
                    let abort = AbortController::new()?;
                    let this = self.clone();
                    let signal: JsValue = abort.signal().into();
                    // Never rejects: it resolves to the generation, or to the error, so that a
                    // request nobody waits for any more cannot become an unhandled rejection.
                    let promise =
                        future_to_promise(async move { Ok(this.request_token(id, signal).await) });
                    st.inflight = Some(Inflight {
                        id,
                        promise,
                        waiters: 0,
                        abort,
                    });
                }
                let Some(inflight) = st.inflight.as_mut() else {
                    continue;
                };
                inflight.waiters += 1;
                (inflight.id, inflight.promise.clone())
            };
            let v = match signal {
                None => JsFuture::from(promise).await.unwrap_or_else(|e| e),
                Some(s) => match race_abort(&promise, s).await {
                    Some(v) => v,
                    None => {
                        self.leave(id);
                        return Err(self.js_error(Error::new(
                            Code::Aborted,
                            "the call was aborted by its signal",
                        )));
                    }
                },
            };
            let Some(g) = v.as_f64() else {
                return Err(v);
            };
            if let Some(t) = self.state.borrow().cache.get(g as u64) {
                return Ok((t.access_token.expose().to_string(), g as u64));
            }
        }
        Err(self.js_error(Error::new(
            Code::TokenError,
            "the token was invalidated again and again while it was being fetched",
        )))
    }

    /// `getToken()`'s result.
    pub fn token_object(&self, token: &str, generation: u64) -> JsValue {
        let o = object();
        set(&o, "accessToken", &JsValue::from_str(token));
        set(&o, "tokenType", &JsValue::from_str("Bearer"));
        let st = self.state.borrow();
        match st.cache.get(generation) {
            Some(t) if generation != 0 => {
                set(&o, "expiresAt", &JsValue::from(t.expires_at_ms));
                if let Some(s) = &t.scope {
                    set(&o, "scope", &JsValue::from_str(s));
                }
                if let Some(r) = &t.resource {
                    set(&o, "resource", &JsValue::from_str(r));
                }
            }
            _ => {
                // A static token: its JWT `exp` when it has one, else unknown (Infinity).
                set(
                    &o,
                    "expiresAt",
                    &JsValue::from(appdynamics::jwt_expiry_ms(token).unwrap_or(f64::INFINITY)),
                );
            }
        }
        o
    }

    /// A waiter of request `id` was aborted: when it was the last one, abort the request and
    /// detach it, so that the next caller starts a new one instead of joining an aborted one.
    fn leave(&self, id: u64) {
        let mut st = self.state.borrow_mut();
        if let Some(inflight) = st.inflight.as_mut().filter(|i| i.id == id) {
            inflight.waiters -= 1;
            if inflight.waiters == 0 {
                inflight.abort.abort();
                st.inflight = None;
            }
        }
    }

    async fn request_token(self: Rc<Self>, id: u64, signal: JsValue) -> JsValue {
        let result = self.fetch_token(&signal).await;
        let mut st = self.state.borrow_mut();
        if st.inflight.as_ref().is_some_and(|i| i.id == id) {
            st.inflight = None;
        }
        match result {
            Ok(token) => JsValue::from(st.cache.store(token, self.cfg.common.skew_ms) as f64),
            Err(e) => {
                drop(st);
                self.js_error(e)
            }
        }
    }

    async fn fetch_token(&self, signal: &JsValue) -> Result<Token, Error> {
        let cfg = &self.cfg;
        let mut attempt = self
            .state
            .borrow()
            .learned
            .unwrap_or_else(|| cfg.appd.first());
        let mut tried: Vec<Attempt> = Vec::new();
        let mut retries = 0u32;
        loop {
            let req = oauth::token_request(cfg, attempt);
            let init = object();
            set(&init, "method", &"POST".into());
            let headers = object();
            for (k, v) in &req.headers {
                set(&headers, k, &JsValue::from_str(v));
            }
            set(&init, "headers", &headers);
            set(&init, "body", &JsValue::from_str(&req.body));
            // A token request never follows a redirect: it would carry the credentials elsewhere.
            set(&init, "redirect", &"manual".into());
            set(&init, "cache", &"no-store".into());
            self.state.borrow_mut().stats.token_requests += 1;
            let reply = match self
                .transport
                .send(
                    &req.url,
                    &self.token_origin,
                    &init,
                    Some(signal),
                    true,
                    None,
                )
                .await
            {
                Ok(r) => r,
                Err(e) if e.code == Code::Network => {
                    match retry::delay_ms(retries, cfg.common.max_retries, None, Math::random()) {
                        Some(d) => {
                            sleep(d, signal).await;
                            retries += 1;
                            continue;
                        }
                        None => return Err(with_attempts(e, &tried)),
                    }
                }
                Err(e) => return Err(e),
            };
            let now = Date::now();
            let retry_after_ms = retry::parse_retry_after(&reply.header("retry-after"), now);
            let content_type = reply.header("content-type");
            let resp = token::Response {
                status: reply.status,
                content_type: &content_type,
                body: &reply.body,
                retry_after: retry_after_ms.map(|ms| ms / 1000.0),
            };
            // Any body that ends up in an error is server text that may echo what it was sent:
            // the error is built from a scrubbed copy, before the core quotes or cuts any of it.
            let parsed = token::parse_response(cfg.vendor, &resp, now).map_err(|e| {
                let scrubbed =
                    crate::core::error::scrub_text(&reply.body, &self.transport.secret_refs(), 4);
                let resp = token::Response {
                    body: &scrubbed,
                    ..resp
                };
                token::parse_response(cfg.vendor, &resp, now)
                    .err()
                    .unwrap_or(e)
            });
            match parsed {
                Ok(t) => {
                    if cfg.vendor == Vendor::AppDynamics {
                        self.state.borrow_mut().learned = Some(attempt);
                    }
                    return Ok(t);
                }
                Err(e) => {
                    tried.push(attempt);
                    if cfg.vendor == Vendor::AppDynamics {
                        if let Some(next) = cfg.appd.next(attempt, reply.status) {
                            attempt = next;
                            continue;
                        }
                    }
                    if retry::retryable_status(reply.status) {
                        if let Some(d) = retry::delay_ms(
                            retries,
                            cfg.common.max_retries,
                            retry_after_ms,
                            Math::random(),
                        ) {
                            sleep(d, signal).await;
                            retries += 1;
                            continue;
                        }
                    }
                    return Err(with_attempts(e, &tried));
                }
            }
        }
    }

    /// An authenticated call: the token in `Authorization`, no redirect followed, and one retry
    /// with a new token after a 401 when the body can be sent again.
    pub async fn fetch(self: Rc<Self>, url: String, init: JsValue) -> Result<JsValue, JsValue> {
        let signal = signal_of(&init);
        let resendable = body_resendable(&get(&init, "body"));
        // Checked before any IO: a bad argument must not cost a token request.
        let headers = js::Headers::new_headers(&get(&init, "headers")).map_err(|_| {
            self.js_error(Error::new(
                Code::InvalidArgument,
                "init.headers is not a valid set of headers",
            ))
        })?;
        let (token, generation) = self.token(signal.as_ref()).await?;
        let first = self
            .send_api(&url, &init, &headers, &token, signal.as_ref())
            .await?;
        if first.status != 401 || self.cfg.static_token.is_some() || !resendable {
            return Ok(first.response);
        }
        {
            let mut st = self.state.borrow_mut();
            st.cache.invalidate(generation);
            st.stats.unauthorized_retries += 1;
        }
        discard_body(&first.response).await;
        let (token, _) = self.token(signal.as_ref()).await?;
        Ok(self
            .send_api(&url, &init, &headers, &token, signal.as_ref())
            .await?
            .response)
    }

    async fn send_api(
        &self,
        url: &str,
        init: &JsValue,
        headers: &js::Headers,
        token: &str,
        signal: Option<&JsValue>,
    ) -> Result<Reply, JsValue> {
        let out: JsValue = if init.is_object() {
            Object::assign(&Object::new(), init.unchecked_ref()).into()
        } else {
            object()
        };
        // `headers` is the client's own copy of the caller's (made in `fetch`); fetch copies it
        // again when called, so setting the token of this attempt on it is safe.
        headers.set("Authorization", &cat(&["Bearer ", token]));
        set(&out, "headers", headers);
        // Never follow a redirect with the token: the 3xx is returned to the caller.
        set(&out, "redirect", &"manual".into());
        self.transport
            .send(url, &self.api_origin, &out, signal, false, Some(token))
            .await
            .map_err(|e| self.js_error(e))
    }

    /// Resolves a caller's path or URL against the API origin (and applies vendor URL rules).
    pub fn api_url(&self, path_or_url: &JsValue) -> Result<String, Error> {
        let input = path_or_url.as_string().or_else(|| {
            if path_or_url.is_instance_of::<js_sys::Object>() {
                get(path_or_url, "href").as_string()
            } else {
                None
            }
        });
        let Some(input) = input else {
            return Err(Error::new(
                Code::InvalidArgument,
                "fetch takes a path or URL string (and the request options as its second argument)",
            ));
        };
        let origin = match (&self.cfg.api_origin, self.cfg.vendor) {
            (Some(o), _) => o,
            (None, Vendor::Dynatrace) => {
                return Err(Error::new(
                    Code::InvalidConfig,
                    "DynatraceClient: fetch needs environmentUrl",
                )
                .hint("set environmentUrl, e.g. https://abc12345.apps.dynatrace.com"))
            }
            (None, _) => {
                return Err(Error::new(
                    Code::InvalidConfig,
                    cat(&[self.class, ": fetch needs baseUrl"]),
                )
                .hint("set baseUrl to the API's origin"))
            }
        };
        let resolved = url::resolve(origin, &input)?;
        Ok(match self.cfg.vendor {
            Vendor::AppDynamics => appdynamics::api_url(&resolved, origin),
            _ => resolved,
        })
    }
}

fn current(cache: &TokenCache) -> Option<(&Token, u64)> {
    let g = cache.generation();
    cache.get(g).map(|t| (t, g))
}

/// Adds the ways that were tried to an AppDynamics error, when more than one was.
fn with_attempts(mut e: Error, tried: &[Attempt]) -> Error {
    if tried.len() > 1 {
        e.message.push_str("; tried ");
        for (i, a) in tried.iter().enumerate() {
            if i > 0 {
                e.message.push_str(", then ");
            }
            e.message.push_str(appdynamics::describe(*a));
        }
    }
    e
}

/// Whether a request body can be sent a second time: strings, buffers, blobs, form data and
/// URLSearchParams can; a stream is consumed by the first attempt.
fn body_resendable(body: &JsValue) -> bool {
    if body.is_undefined() || body.is_null() || body.is_string() {
        return true;
    }
    let is_stream = get(body, "getReader").is_function();
    let is_async_iterable =
        js_sys::Reflect::has(body, &js_sys::Symbol::async_iterator().into()).unwrap_or(false);
    !(is_stream || is_async_iterable)
}

/// The `signal` of an options or init object, when there is one.
pub fn signal_of(options: &JsValue) -> Option<JsValue> {
    Some(get(options, "signal")).filter(|s| s.is_object())
}

/// Awaits `promise` unless `signal` fires first (`None` then). The abort listener is removed when
/// this returns, whichever came first, so no listener outlives the call.
async fn race_abort(promise: &Promise, signal: &JsValue) -> Option<JsValue> {
    if get(signal, "aborted").is_truthy() {
        return None;
    }
    let mut resolve_fn = None;
    let aborted = Promise::new(&mut |resolve, _| resolve_fn = Some(resolve));
    let resolve = resolve_fn?;
    let _listener = js::AbortListener::new(signal, move || {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    });
    let v = JsFuture::from(Promise::race(&Array::of2(promise, &aborted)))
        .await
        .unwrap_or_else(|e| e);
    // The token promise resolves to a generation (a number) or an Error; the abort listener
    // resolves the other promise to undefined.
    if v.as_f64().is_some() || v.is_instance_of::<js_sys::Error>() {
        Some(v)
    } else {
        None
    }
}
