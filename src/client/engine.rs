//! The engine every client type runs on: the token cache, the one token request in flight, early
//! refresh, retries with backoff, per-attempt timeouts, the caller's `AbortSignal`, and the
//! authenticated fetch with its one retry after a 401.
//!
//! One engine per client, shared by clones of it (`Rc`): JavaScript is single-threaded, so the
//! state is a `RefCell` that is never borrowed across an `.await`.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers};

use super::platform::{self, aborted, get, set};
use crate::core::appdynamics::{self, Attempt};
use crate::core::config::{Config, Vendor};
use crate::core::error::{scrub_text, secret_forms};
use crate::core::token::{parse_response, Response, Token};
use crate::core::url::Origin;
use crate::core::{cache, oauth, retry, text, Code, Error, Secret};

/// Counters of one client, as `stats()` returns them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// HTTP requests sent to the token endpoint (fallbacks and retries included).
    pub token_requests: u32,
    /// Calls served from the cached token.
    pub cache_hits: u32,
    /// Token requests started because the cached token reached its refresh time.
    pub refreshes: u32,
    /// API calls retried once after a 401.
    pub unauthorized_retries: u32,
    /// Refresh token grants (a signed-in user's token renewed); 0 without sign-in.
    pub refresh_token_grants: u32,
}

/// Everything an engine is configured with, checked by the client type that builds it.
pub(crate) struct Settings {
    /// The JavaScript class name, for messages.
    pub class: &'static str,
    /// The client type's rule for a path or URL of `fetch` (its `api_url_of`).
    pub api_url: super::ApiUrl,
    pub vendor: Vendor,
    /// Credentials and form parameters of the token request.
    pub core: Config,
    pub token_url: String,
    pub token_origin: String,
    /// The origin `fetch` calls go to, when configured.
    pub api: Option<Origin>,
    pub api_origin: String,
    /// A static token (AppDynamics UI token) instead of token requests.
    pub static_token: Option<Secret>,
    pub fetch: Option<Function>,
    pub timeout_ms: f64,
    pub skew_ms: f64,
    pub max_retries: u32,
    /// Signing a user in instead of client credentials.
    pub sign_in: Option<super::signin::SignIn>,
    /// Where tokens are kept beyond this client: `{ get(), set(tokens | null) }`.
    pub token_store: Option<JsValue>,
}

/// A token in use: the cached one, or a static one (generation 0).
pub(crate) struct Cached {
    pub value: Secret,
    /// `Bearer <token>` as a JS string, ready for every call.
    pub header: JsValue,
    pub gen: u64,
    pub expires_at: f64,
    pub refresh_at: f64,
    /// When it was obtained (`expires_at` less its lifetime), in ms since the epoch.
    pub obtained_at: f64,
    pub scope: Option<String>,
    pub resource: Option<String>,
}

type Outcome = Rc<RefCell<Option<Result<u64, Error>>>>;
/// What a discovery obtained, once it is over.
pub(super) type Discovery = Rc<RefCell<Option<Result<Rc<super::signin::Endpoints>, Error>>>>;

/// The token request in flight, shared by every caller waiting for it.
struct Inflight {
    id: u64,
    abort: AbortController,
    waiters: u32,
    /// Settles (never rejects) when the request is over; `outcome` then holds its result.
    done: Promise,
    outcome: Outcome,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) cache: Option<Rc<Cached>>,
    generation: u64,
    inflight: Option<Inflight>,
    next_id: u64,
    /// The AppDynamics attempt that worked, tried first from then on.
    learned: Option<Attempt>,
    stats: Stats,
    /// The generation of a token that an API refused with a 401 although it had just replaced
    /// a token refused the same way: renewing it again would not help, so its 401s are not
    /// retried (a route that always answers 401 makes no token request per call).
    renewed_in_vain: u64,
    /// A signed-in user's refresh token and ID token.
    pub(super) refresh: Option<Secret>,
    pub(super) id_token: Option<Secret>,
    /// The endpoints read from the issuer's discovery document.
    pub(super) discovered: Option<Rc<super::signin::Endpoints>>,
    /// The discovery in flight, shared by every caller waiting for it.
    pub(super) discovering: Option<(Promise, Discovery)>,
    /// The last access token given up (invalidated, refused with a 401, or stale): never taken
    /// back from a token store that still holds it.
    pub(super) spent: Option<Secret>,
    /// How many times the user signed out: what a code exchange in flight obtains after a
    /// sign-out is dropped.
    pub(super) signouts: u32,
    /// The sign-in states this client has taken out of its state storage (each is single use).
    pub(super) states_taken: Vec<String>,
}

pub(super) struct Inner {
    pub(super) s: Settings,
    pub(super) static_entry: Option<Rc<Cached>>,
    pub(super) st: RefCell<State>,
    /// Sign-in state across the redirect, and the tabs of this client (browsers).
    pub(super) states: super::signin::StateStore,
    pub(super) tabs: RefCell<Option<super::signin::Tabs>>,
}

/// One client's engine; clones share it.
#[derive(Clone)]
pub(crate) struct Engine(pub(super) Rc<Inner>);

/// `aborted` (the JavaScript layer adds the caller's signal's `reason` as its cause, as native
/// fetch rejects with it).
pub(super) fn aborted_error() -> Error {
    Error::new(Code::Aborted, "the call was aborted by its signal")
}

fn bearer(token: &str) -> JsValue {
    JsValue::from_str(&["Bearer ", token].concat())
}

impl Engine {
    pub(crate) fn new(s: Settings) -> Engine {
        let static_entry = s.static_token.as_ref().map(|t| {
            Rc::new(Cached {
                header: bearer(t.expose()),
                expires_at: platform::jwt_expiry(t.expose()),
                value: t.clone(),
                gen: 0,
                refresh_at: f64::INFINITY,
                obtained_at: 0.0,
                scope: None,
                resource: None,
            })
        });
        let states = super::signin::StateStore::new(s.sign_in.as_ref());
        let engine = Engine(Rc::new(Inner {
            s,
            static_entry,
            st: RefCell::new(State::default()),
            states,
            tabs: RefCell::new(None),
        }));
        if engine.0.s.sign_in.is_some() {
            super::signin::Tabs::join(&engine);
        }
        engine
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.0.s
    }

    pub(crate) fn stats(&self) -> Stats {
        self.0.st.borrow().stats
    }

    /// Forgets the cached token.
    pub(crate) fn invalidate(&self) {
        let mut st = self.0.st.borrow_mut();
        if let Some(c) = st.cache.take() {
            st.spent = Some(c.value.clone());
        }
    }

    /// Every form in which this client's secrets (the client secret, a static token, the current
    /// access token, the `extra` ones) may come back in a server's text.
    pub(super) fn secret_forms(&self, extra: &[&str]) -> Vec<String> {
        let s = &self.0.s;
        let st = self.0.st.borrow();
        let known = [
            s.core.secret.as_ref(),
            s.static_token.as_ref(),
            st.cache.as_ref().map(|c| &c.value),
            st.refresh.as_ref(),
            st.id_token.as_ref(),
        ];
        let mut out = Vec::new();
        for r in known
            .iter()
            .flatten()
            .map(|s| s.expose())
            .chain(extra.iter().copied())
        {
            if !r.is_empty() {
                out.append(&mut secret_forms(&s.core.client_id, r, &platform::base64));
            }
        }
        out
    }

    /// The time (ms since the epoch) at which the static token's `exp` passed, if it has.
    pub(super) fn static_expired(&self) -> Option<f64> {
        let at = self.0.static_entry.as_ref()?.expires_at;
        (at <= platform::now()).then_some(at)
    }

    /// `e` with every secret this client knows removed from its texts.
    pub(crate) fn scrubbed(&self, e: Error) -> Error {
        let forms = self.secret_forms(&[]);
        e.scrub(&forms)
    }

    /// The cached token while it is fresh, not counted.
    pub(super) fn peek_fresh(&self) -> Option<Rc<Cached>> {
        let c = self.0.st.borrow().cache.clone()?;
        (platform::now() < c.refresh_at).then_some(c)
    }

    /// The cached token while it is fresh (counted as a cache hit).
    fn fresh(&self) -> Option<Rc<Cached>> {
        let c = self.peek_fresh()?;
        self.0.st.borrow_mut().stats.cache_hits += 1;
        Some(c)
    }

    /// The token to use: the static one, the cached one while fresh, else the one in flight, else
    /// a new one. `signal` stops this caller's wait; the request itself is aborted only when its
    /// last waiter has gone.
    pub(crate) async fn token(&self, signal: Option<&AbortSignal>) -> Result<Rc<Cached>, Error> {
        if let Some(s) = &self.0.static_entry {
            return Ok(s.clone());
        }
        for _ in 0..3 {
            if aborted(signal) {
                return Err(aborted_error());
            }
            if let Some(c) = self.fresh() {
                return Ok(c);
            }
            let (id, done, outcome) = self.join();
            if !platform::wait_unless_aborted(done, signal, None).await {
                self.leave(id);
                return Err(aborted_error());
            }
            let gen = match &*outcome.borrow() {
                Some(Err(e)) => return self.unexpired(e),
                Some(Ok(gen)) => *gen,
                None => continue,
            };
            let cache = self.0.st.borrow().cache.clone();
            if let Some(c) = cache.filter(|c| c.gen == gen) {
                return Ok(c);
            }
        }
        Err(Error::new(
            Code::TokenError,
            "the token was invalidated again and again while it was being fetched",
        ))
    }

    /// After a refresh that failed for a passing reason (the token endpoint down, busy, slow or
    /// out of reach), the cached token while it has not expired: refreshing early is there to
    /// ride such a failure out. Else the failure.
    fn unexpired(&self, e: &Error) -> Result<Rc<Cached>, Error> {
        let passing = matches!(
            e.code,
            Code::ServerError | Code::RateLimited | Code::Network | Code::Timeout
        );
        let c = self.0.st.borrow().cache.clone();
        match c.filter(|c| passing && platform::now() < c.expires_at) {
            Some(c) => Ok(c),
            None => Err(e.clone()),
        }
    }

    /// Joins the request in flight, starting one when there is none.
    fn join(&self) -> (u64, Promise, Outcome) {
        let mut st = self.0.st.borrow_mut();
        if st.inflight.is_none() {
            if st.cache.is_some() {
                st.stats.refreshes += 1;
            }
            st.next_id += 1;
            let id = st.next_id;
            let abort = platform::controller();
            let outcome: Outcome = Rc::default();
            let (me, signal, out) = (self.clone(), abort.signal(), outcome.clone());
            // The request runs on its own: it outlives any one caller, and it never rejects, so a
            // request nobody waits for any more cannot become an unhandled rejection.
            let done = platform::promise_of(Box::pin(async move {
                // One token request with its retries and fallbacks (or the tokens of the store or
                // of another tab); a new token is cached under a new generation.
                let result = me.obtain(&signal).await.map_err(|e| me.shared_error(e));
                *out.borrow_mut() = Some(result);
                let mut st = me.0.st.borrow_mut();
                if st.inflight.as_ref().is_some_and(|f| f.id == id) {
                    st.inflight = None;
                }
                Ok(JsValue::UNDEFINED)
            }));
            st.inflight = Some(Inflight {
                id,
                abort,
                waiters: 0,
                done,
                outcome,
            });
        }
        let f = st.inflight.as_mut().expect("in flight");
        f.waiters += 1;
        (f.id, f.done.clone(), f.outcome.clone())
    }

    /// Aborts the request in flight, if any, and detaches it.
    pub(super) fn abort_inflight(&self) {
        let f = self.0.st.borrow_mut().inflight.take();
        if let Some(f) = f {
            f.abort.abort();
        }
    }

    /// A waiter of request `id` was aborted: the last one aborts the request and detaches it.
    fn leave(&self, id: u64) {
        let mut st = self.0.st.borrow_mut();
        let last = match st.inflight.as_mut() {
            Some(f) if f.id == id => {
                f.waiters -= 1;
                f.waiters == 0
            }
            _ => false,
        };
        if last {
            if let Some(f) = st.inflight.take() {
                f.abort.abort();
            }
        }
    }

    /// A token request's failure, scrubbed and marked as shared by every caller waiting for it.
    fn shared_error(&self, e: Error) -> Error {
        let mut e = self.scrubbed(e);
        e.shared = Some(std::sync::Arc::new(()));
        e
    }

    /// Caches a token under a new generation, with the refresh and ID tokens that came with it
    /// (a refresh answer without a refresh token keeps the old one).
    pub(super) fn install(&self, t: Token) -> u64 {
        let skew = self.0.s.skew_ms;
        let mut st = self.0.st.borrow_mut();
        st.generation += 1;
        let gen = st.generation;
        st.cache = Some(Rc::new(Cached {
            header: bearer(t.access_token.expose()),
            refresh_at: cache::refresh_at(t.expires_at_ms, t.lifetime_ms, skew).floor(),
            obtained_at: t.expires_at_ms - t.lifetime_ms,
            expires_at: t.expires_at_ms,
            value: t.access_token,
            gen,
            scope: t.scope,
            resource: t.resource,
        }));
        if t.refresh_token.is_some() {
            st.refresh = t.refresh_token;
        }
        if t.id_token.is_some() {
            st.id_token = t.id_token;
        }
        gen
    }

    /// Forgets every token of this client: the access token, the refresh and ID tokens.
    pub(super) fn forget(&self) {
        let mut st = self.0.st.borrow_mut();
        st.cache = None;
        st.refresh = None;
        st.id_token = None;
    }

    pub(super) fn count_refresh_grant(&self) {
        self.0.st.borrow_mut().stats.refresh_token_grants += 1;
    }

    /// The token endpoint's answer to one grant: client credentials (`grant` `None`, with the
    /// AppDynamics fallbacks and the retries), or a user's grant (never retried: a code is
    /// single-use, and a refresh token may rotate with the first answer).
    pub(super) async fn fetch_token(
        &self,
        signal: &AbortSignal,
        grant: Option<oauth::Grant<'_>>,
    ) -> Result<Token, Error> {
        let s = &self.0.s;
        // The configured token endpoint, or the issuer's (discovered once).
        let discovered = if s.sign_in.as_ref().is_some_and(|si| si.issuer.is_some()) {
            Some(self.endpoints().await?)
        } else {
            None
        };
        let (token_url, token_origin) = match &discovered {
            Some(e) => (&e.token_url, &e.token_origin),
            None => (&s.token_url, &s.token_origin),
        };
        let max_retries = if grant.is_some() { 0 } else { s.max_retries };
        let appd = s.vendor == Vendor::AppDynamics;
        let first = if appd {
            s.core.appd.first()
        } else {
            Attempt::default()
        };
        let mut learned = self.0.st.borrow().learned;
        let mut attempt = learned.unwrap_or(first);
        // The different attempts refused so far ("; tried A, then B" ends the message when there
        // were several).
        let (mut refused, mut tried) = (0, String::new());
        let mut retries = 0;
        loop {
            let req = match grant {
                Some(g) => oauth::grant_request(&s.core, g),
                None => oauth::token_request(&s.core, attempt),
            };
            let headers = Object::new();
            for (k, v) in &req.headers {
                set(&headers, k, &JsValue::from_str(v));
            }
            if let Some(credentials) = &req.basic {
                let value = ["Basic ", &platform::base64(credentials)].concat();
                set(&headers, "Authorization", &JsValue::from_str(&value));
            }
            let init = Object::new();
            set(&init, "method", &JsValue::from_str("POST"));
            set(&init, "headers", &headers);
            set(&init, "body", &JsValue::from_str(&req.body));
            // A token request never follows a redirect: it would carry the credentials elsewhere.
            set(&init, "redirect", &JsValue::from_str("manual"));
            set(&init, "cache", &JsValue::from_str("no-store"));
            self.0.st.borrow_mut().stats.token_requests += 1;
            let reply = self
                .send(token_url, token_origin, init, Some(signal), true, None)
                .await;
            // A refusal the AppDynamics fallbacks may answer, or a failure that may be retried.
            let (mut e, status, after) = match reply {
                Err(e) => (e, None, None),
                Ok((response, body)) => {
                    let status = response.status();
                    let now = platform::now();
                    // Read as any member: a fetch option's answer may have a throwing getter.
                    let headers: Headers = get(&response, "headers").unchecked_into();
                    let after =
                        platform::retry_after_ms(headers.get("retry-after").ok().flatten(), now);
                    let content_type = headers
                        .get("content-type")
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                    let parsed = platform::parse_json(&body);
                    let mut answer = Response {
                        status,
                        content_type: &content_type,
                        body: &body,
                        json: &parsed,
                        retry_after: after.map(|ms| ms / 1000.0),
                        number: platform::number,
                    };
                    if let Ok(t) = parse_response(s.vendor, &answer, now) {
                        if appd {
                            self.0.st.borrow_mut().learned = Some(attempt);
                        }
                        return Ok(t);
                    }
                    // Server text may echo what it was sent: the error is built from a scrubbed
                    // copy, before anything quotes or cuts it.
                    let forms = match grant {
                        Some(oauth::Grant::AuthorizationCode { code, verifier, .. }) => {
                            self.secret_forms(&[code, verifier])
                        }
                        _ => self.secret_forms(&[]),
                    };
                    let clean = scrub_text(&body, &forms, 4);
                    let clean_json = platform::parse_json(&clean);
                    answer.body = &clean;
                    answer.json = &clean_json;
                    let e = parse_response(s.vendor, &answer, now)
                        .err()
                        .unwrap_or_else(|| Error::new(Code::InvalidResponse, ""))
                        .scrub(&forms);
                    // A retry of the same attempt is no other attempt.
                    let d = appdynamics::describe(attempt);
                    if !tried.ends_with(d) {
                        refused += 1;
                        tried.push_str(if refused == 1 { "; tried " } else { ", then " });
                        tried.push_str(d);
                    }
                    // The next way of asking, unless the answer names the client as refused.
                    let named = e.code == Code::InvalidClient && e.error.is_some();
                    // The way that worked before, refused now for its form or credentials (a
                    // controller upgraded in place): the ladder starts again from its first rung.
                    let next = match learned.take() {
                        Some(_) if attempt != first && matches!(status, 400..=403 | 406 | 415) => {
                            Some(first)
                        }
                        _ => s.core.appd.next(attempt, status),
                    };
                    if let Some(next) = next.filter(|_| appd && !named) {
                        attempt = next;
                        continue;
                    }
                    (e, Some(status), after)
                }
            };
            // Network errors (no answer) and 429/502/503/504 are retried; nothing else is.
            let retryable = match status {
                None => e.code == Code::Network,
                Some(s) => retry::retryable_status(s),
            };
            let delay = if retryable {
                retry::delay_ms(retries, max_retries, after, js_sys::Math::random())
            } else {
                None
            };
            match delay {
                Some(ms) => {
                    platform::sleep(ms, signal).await;
                    retries += 1;
                }
                None => {
                    if refused > 1 {
                        e.message.push_str(&tried);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// One HTTP attempt. With `read_body` the timeout covers the body too, which is read (up to
    /// the limit) and returned; without, it ends with the response headers and the caller owns
    /// the body.
    pub(super) async fn send(
        &self,
        url: &str,
        origin: &str,
        init: Object,
        caller: Option<&AbortSignal>,
        read_body: bool,
        token: Option<&str>,
    ) -> Result<(web_sys::Response, String), Error> {
        if aborted(caller) {
            return Err(aborted_error());
        }
        let s = &self.0.s;
        let ctl = platform::controller();
        let own = ctl.signal();
        let deadline = platform::Deadline::new(s.timeout_ms, &ctl);
        // When the caller's signal fires, the attempt's timer goes at once.
        let _listener =
            caller.map(|signal| platform::AbortListener::new(signal, deadline.clearer()));
        let signal = platform::combined(&own, caller);
        init.unchecked_ref::<web_sys::RequestInit>()
            .set_signal(Some(&signal));
        let result = 'call: {
            let promise = match platform::fetch(s.fetch.as_ref(), url, &init) {
                Ok(p) if s.fetch.is_some() => platform::unless_aborted(p, &signal),
                Ok(p) => p,
                Err(cause) => break 'call Err(cause),
            };
            let response: web_sys::Response = match JsFuture::from(promise).await {
                // The fetch option's answer is checked (the platform's is always a Response):
                // reading a member of `null` would throw out of the wasm, past every promise; a
                // body to read needs `text()` at least.
                Ok(r)
                    if s.fetch.is_some()
                        && (get(&r, "status").as_f64().is_none()
                            || read_body && !get(&r, "text").is_function()) =>
                {
                    return Err(Error::new(
                        Code::InvalidConfig,
                        [s.class, ": the fetch option did not answer with a Response"].concat(),
                    )
                    .hint("make it return a fetch Response (or a promise of one)"));
                }
                Ok(r) => r.unchecked_into(),
                Err(cause) => break 'call Err(cause),
            };
            if read_body {
                platform::read_bounded(&response)
                    .await
                    .map(|body| (response, body))
            } else {
                Ok((response, String::new()))
            }
        };
        drop(deadline);
        result.map_err(|cause| {
            // The caller's abort clears the timeout (even one that has fired): it is the cause.
            if aborted(caller) {
                return aborted_error();
            }
            // Only the attempt's timeout aborts its own controller.
            if own.aborted() {
                return timeout_error(origin, s.timeout_ms);
            }
            // The platform refuses a malformed init (a method that is no HTTP token, a body with
            // GET, a stream body without `duplex`) with the TypeError of a network failure.
            let detail = platform::failure_detail(&cause);
            if let Some(why) = platform::refusal(url, &init, detail.as_deref()) {
                return Error::new(
                    Code::InvalidArgument,
                    ["init is not a valid request: ", &why].concat(),
                );
            }
            // Deno refuses a host its `--allow-net` leaves out: nothing was sent, and no retry
            // will help.
            if get(&cause, "name").as_string().as_deref() == Some("NotCapable") {
                return Error::new(
                    Code::InvalidConfig,
                    ["Deno may not reach ", origin, ": --allow-net leaves it out"].concat(),
                )
                .hint("run Deno with --allow-net naming this host (or without a list)");
            }
            let mut message = ["could not reach ", origin].concat();
            if let Some(detail) = detail {
                let forms = self.secret_forms(token.as_slice());
                message.push_str(": ");
                let detail = scrub_text(text::trim_end_byte(&detail, b'.'), &forms, 4);
                message.push_str(&text::snippet(&detail, 120));
            }
            Error::new(Code::Network, message).hint(if platform::in_page() {
                "in a browser this is also how a CORS refusal looks: the server must allow this page's origin, or route calls through a same-origin proxy with the fetch option"
            } else {
                "check the URL, DNS, proxy and firewall"
            })
        })
    }

    /// An authenticated call to `url` (already checked to be on the API origin): the token in
    /// `Authorization`, no redirect followed, and one retry with a new token after a 401 when the
    /// body can be sent again. `init` is the caller's `RequestInit` (or `undefined`).
    pub(crate) fn fetch<'a>(
        &'a self,
        url: &'a str,
        init: &'a JsValue,
    ) -> impl Future<Output = Result<web_sys::Response, Error>> + 'a {
        self.fetch_at(url, &self.0.s.api_origin, init)
    }

    /// [`fetch`](Engine::fetch) to a URL on `origin` (the API's, or the user-info endpoint's).
    pub(super) async fn fetch_at(
        &self,
        url: &str,
        origin: &str,
        init: &JsValue,
    ) -> Result<web_sys::Response, Error> {
        let signal = platform::signal_of(init)?;
        let signal = signal.as_ref();
        let again = platform::resendable(&get(init, "body"));
        let headers = headers_of(init)?;
        let init = platform::copy_of(init)?;
        let mut retried = false;
        loop {
            // The cached token without a detour through the token path: the common case.
            let fresh = if aborted(signal) { None } else { self.fresh() };
            let t = match fresh {
                Some(t) => t,
                None => self.token(signal).await?,
            };
            let (response, _) = self
                .send_api(url, origin, &init, &headers, &t, signal)
                .await?;
            let refused = response.status() == 401;
            if retried && refused {
                self.0.st.borrow_mut().renewed_in_vain = t.gen;
            }
            if retried
                || !refused
                || t.gen == 0
                || !again
                || t.gen == self.0.st.borrow().renewed_in_vain
            {
                return Ok(response);
            }
            // The refused token is given up, unless another one replaced it meanwhile.
            let current = self.0.st.borrow().cache.as_ref().map(|c| c.gen);
            if current == Some(t.gen) {
                self.invalidate();
            }
            self.0.st.borrow_mut().stats.unauthorized_retries += 1;
            platform::discard(&response);
            retried = true;
        }
    }

    /// An authenticated call to `url` on `origin` (as [`fetch`](Engine::fetch)) and its body read
    /// by `method` (`text` or `json`), both within `timeoutMs`: a body that stalls is aborted, a
    /// `timeout`. The response, and its body or why it could not be read.
    pub(super) async fn read_within(
        &self,
        url: &str,
        origin: &str,
        init: Object,
        method: &str,
    ) -> Result<(web_sys::Response, Result<JsValue, JsValue>), Error> {
        let ctl = platform::controller();
        platform::set(&init, "signal", &ctl.signal());
        let response = self.fetch_at(url, origin, &init).await?;
        let ms = self.0.s.timeout_ms;
        let body = super::signin::call_method(&response, method, &[], ms).await;
        // `within` gives `undefined` when the time is up.
        if body.as_ref().is_ok_and(JsValue::is_undefined) {
            ctl.abort();
            return Err(timeout_error(origin, ms));
        }
        Ok((response, body))
    }

    /// One attempt of an authenticated call: `init` (the caller's, copied) with the token in
    /// `headers`; the response's body is left to the caller.
    pub(super) fn send_api<'a>(
        &'a self,
        url: &'a str,
        origin: &'a str,
        init: &Object,
        headers: &Headers,
        token: &'a Cached,
        signal: Option<&'a AbortSignal>,
    ) -> impl Future<Output = Result<(web_sys::Response, String), Error>> + 'a {
        let out = init.clone();
        platform::AUTHORIZATION.with(|name| {
            headers
                .unchecked_ref::<platform::HeadersSet>()
                .set(name, &token.header)
        });
        // web-sys's setters: the property names are in the glue, not decoded per call.
        let request = out.unchecked_ref::<web_sys::RequestInit>();
        request.set_headers_headers(headers);
        // Never follow a redirect with the token: the 3xx is returned to the caller.
        request.set_redirect(web_sys::RequestRedirect::Manual);
        self.send(url, origin, out, signal, false, Some(token.value.expose()))
    }
}

/// `timeout`: `origin` did not answer (or finish its answer) within `ms`.
pub(super) fn timeout_error(origin: &str, ms: f64) -> Error {
    Error::new(
        Code::Timeout,
        [
            "no answer from ",
            origin,
            " within ",
            &text::decimal(ms as u64),
            " ms",
        ]
        .concat(),
    )
    .hint("raise timeoutMs, or check that the host is reachable")
}

/// A copy of the caller's headers as `Headers`, or the error when they are not headers.
pub(crate) fn headers_of(init: &JsValue) -> Result<Headers, Error> {
    // (`new Headers(undefined)` is `new Headers()`.)
    Headers::new_with_str_sequence_sequence(&get(init, "headers")).map_err(|_| {
        Error::new(
            Code::InvalidArgument,
            "init.headers is not a valid set of headers",
        )
    })
}
