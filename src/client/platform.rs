//! What the client needs of the JavaScript platform, bound to globals that Node 18+, Deno,
//! browsers and workers all have (`fetch`, `setTimeout`, `btoa`, `AbortSignal`), never to
//! `window`: timers and abort listeners that clean up when dropped, bounded body reads, and the
//! few conversions the platform does better than the wasm could.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, ReadableStreamDefaultReader};

use crate::core::body::{Field, Parsed, TokenBody};
use crate::core::url::{retry_after, RetryAfter};
use crate::core::{Code, Error};

/// Most of a token or error body that is read: a hostile endpoint cannot make us buffer more.
pub(crate) const BODY_LIMIT: usize = 65536;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(input: &str, init: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    /// A promise seen through its `then` with JavaScript functions.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_both(this: &Thenable, f: &Function, g: &Function) -> JsValue;
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &Thenable, f: &Function) -> JsValue;
    /// JavaScript's `Number` of a string.
    #[wasm_bindgen(js_name = Number)]
    fn to_number(s: &str) -> f64;
    #[wasm_bindgen(js_name = btoa)]
    fn btoa(latin1: &str) -> String;
    #[wasm_bindgen(js_name = atob, catch)]
    fn atob(base64: &str) -> Result<String, JsValue>;
    /// A body seen through `getReader()`, which throws for a body that was read already.
    type Body;
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn reader(this: &Body) -> Result<ReadableStreamDefaultReader, JsValue>;
    /// A body or its reader, seen through `cancel()`.
    type Cancelable;
    #[wasm_bindgen(method)]
    fn cancel(this: &Cancelable) -> Thenable;
    /// `Object.assign`, which runs the source's getters: one may throw.
    #[wasm_bindgen(js_namespace = Object, js_name = assign, catch)]
    fn assign(target: &Object, source: &JsValue) -> Result<JsValue, JsValue>;

    /// The platform's UTF-8 decoder.
    type TextDecoder;
    #[wasm_bindgen(constructor)]
    fn new(label: &str, options: &Object) -> TextDecoder;
    #[wasm_bindgen(method)]
    fn decode(this: &TextDecoder, bytes: &[u8]) -> String;

    /// `Headers` seen through its `set` with a value that is already a JS string (the cached
    /// `Authorization` value is never copied out of JavaScript and back).
    pub(crate) type HeadersSet;
    #[wasm_bindgen(method, js_name = set)]
    pub(crate) fn set(this: &HeadersSet, name: &JsValue, value: &JsValue);
}

// The header every authenticated call sets, as a JavaScript string made once by the glue: a `&str`
// crosses into JavaScript as UTF-8 to decode, on every call. (rustfmt would drop the initializer,
// which is wasm-bindgen's syntax, not Rust's.)
#[rustfmt::skip]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, static_string)]
    pub(crate) static AUTHORIZATION: js_sys::JsString = "Authorization";
    #[wasm_bindgen(thread_local_v2, js_name = clearTimeout)]
    static CLEAR_TIMEOUT: Function;
    /// A handler that swallows a rejection nobody needs (a cancelled body's): `Function.prototype`,
    /// the platform's function that does nothing.
    #[wasm_bindgen(thread_local_v2, js_namespace = Function, js_name = prototype)]
    static IGNORE: Function;
    /// `AbortSignal.any`, which this runtime may lack (Node before 20.3).
    #[wasm_bindgen(thread_local_v2, js_namespace = AbortSignal, js_name = any)]
    static ANY: JsValue;
    /// `AbortController.prototype.abort`.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["AbortController", "prototype"], js_name = abort)]
    static ABORT: Function;
    /// The page's `document`, where there is one (a refused CORS request looks like a network
    /// error there).
    #[wasm_bindgen(thread_local_v2, js_namespace = globalThis, js_name = document)]
    static DOCUMENT: JsValue;
}

/// Milliseconds since the epoch.
pub(crate) fn now() -> f64 {
    js_sys::Date::now()
}

/// The base64 form of `s`'s UTF-8 bytes, through the platform's `btoa` (which takes one char per
/// byte).
pub(crate) fn base64(s: &str) -> String {
    base64_bytes(s.as_bytes())
}

/// The base64 form of `bytes`, through the platform's `btoa`.
pub(crate) fn base64_bytes(bytes: &[u8]) -> String {
    btoa(&bytes.iter().map(|&b| char::from(b)).collect::<String>())
}

/// A promise of a future: the one copy of wasm-bindgen-futures' promise machinery in the wasm,
/// for every caller (each boxes its future).
pub(crate) fn promise_of(
    f: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>>,
) -> Promise {
    wasm_bindgen_futures::future_to_promise(f)
}

/// A property of a JS value, `undefined` when it has none or is not an object.
pub(crate) fn get(target: &JsValue, key: &str) -> JsValue {
    if target.is_object() || target.is_function() {
        Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// The members of a `RequestInit` that the client does not set itself (it sets `headers`,
/// `signal` and `redirect`).
const INIT_MEMBERS: [&str; 11] = [
    "body",
    "cache",
    "credentials",
    "duplex",
    "integrity",
    "keepalive",
    "method",
    "mode",
    "priority",
    "referrer",
    "referrerPolicy",
];

/// A new object with the own properties of `init` (none when it is not an object), or an
/// `invalid_argument` error with what a getter of `init` threw. An `init` that is no plain object
/// (another `constructor` than `{}`'s: a `Request`, an instance of a class) may hold members on
/// its prototype, where the platform's fetch reads them too: those are copied by name (a getter
/// there that throws counts as an absent member).
pub(crate) fn copy_of(init: &JsValue) -> Result<Object, Error> {
    let out = Object::new();
    if init.is_object() {
        assign(&out, init).map_err(|e| unreadable("init", &e))?;
        if get(init, "constructor") != get(&out, "constructor") {
            for name in INIT_MEMBERS {
                if get(&out, name).is_undefined() {
                    set(&out, name, &get(init, name));
                }
            }
        }
    }
    Ok(out)
}

/// `invalid_argument`: `what` (of the caller's) could not be read, with what its getter threw.
fn unreadable(what: &str, e: &JsValue) -> Error {
    Error::new(
        Code::InvalidArgument,
        [
            what,
            " could not be read: ",
            &failure_detail(e).unwrap_or_default(),
        ]
        .concat(),
    )
}

/// Sets a property of a fresh object (cannot fail on one).
pub(crate) fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

pub(crate) fn in_page() -> bool {
    DOCUMENT.with(JsValue::is_object)
}

/// The signal a fetch gets: the attempt's own, combined with the caller's when there is one.
pub(crate) fn combined(own: &AbortSignal, caller: Option<&AbortSignal>) -> AbortSignal {
    match caller {
        Some(c) if ANY.with(JsValue::is_function) => AbortSignal::any(&Array::of2(c, own)),
        _ => own.clone(),
    }
}

/// Cancels a body (or its reader) that will not be read on, ignoring the cancel's rejection.
fn cancel(stream: &JsValue) {
    let p = stream.unchecked_ref::<Cancelable>().cancel();
    IGNORE.with(|f| p.catch_with(f));
}

/// Calls the user's `fetch` or the global one: the promise of its response. A synchronous throw
/// becomes the error.
pub(crate) fn fetch(
    custom: Option<&Function>,
    url: &str,
    init: &Object,
) -> Result<Promise, JsValue> {
    match custom {
        Some(f) => {
            let args = Array::of2(&JsValue::from_str(url), init);
            Ok(Promise::resolve(&f.apply(&JsValue::UNDEFINED, &args)?))
        }
        None => global_fetch(url, init),
    }
}

/// A `setTimeout` of a JavaScript function (no closure of the wasm), cleared when dropped.
pub(crate) struct Timer(JsValue);

impl Timer {
    pub(crate) fn new(ms: f64, f: &Function) -> Timer {
        Timer(set_timeout(f, ms))
    }

    /// A function that clears the timer: a bound `clearTimeout` (no closure of the wasm).
    pub(crate) fn clearer(&self) -> Function {
        clearer_of(&self.0)
    }
}

/// `clearTimeout` bound to the timer `id`.
fn clearer_of(id: &JsValue) -> Function {
    CLEAR_TIMEOUT
        .with(|f| f.bind1(&JsValue::NULL, id))
        .unchecked_into()
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.0);
    }
}

/// An attempt's timeout: after `ms`, `ctl` is aborted, unless the timer is cleared first (when
/// this is dropped, or by [`clearer`]).
///
/// [`clearer`]: Deadline::clearer
pub(crate) struct Deadline(Timer);

impl Deadline {
    pub(crate) fn new(ms: f64, ctl: &AbortController) -> Deadline {
        // `ctl.abort` bound to `ctl`, with the default reason (undefined): no closure of the
        // wasm. (`bind1`, as `clearTimeout` is bound: one import for both.)
        let abort: Function = ABORT
            .with(|f| f.bind1(ctl, &JsValue::UNDEFINED))
            .unchecked_into();
        Deadline(Timer::new(ms, &abort))
    }

    /// A function that clears the timer (when the caller's signal fires).
    pub(crate) fn clearer(&self) -> Function {
        self.0.clearer()
    }
}

/// An `abort` listener on a signal (a JavaScript function: no closure of the wasm), removed when
/// dropped.
pub(crate) struct AbortListener {
    signal: AbortSignal,
    callback: Function,
}

impl AbortListener {
    pub(crate) fn new(signal: &AbortSignal, callback: Function) -> AbortListener {
        let _ = signal.add_event_listener_with_callback("abort", &callback);
        AbortListener {
            signal: signal.clone(),
            callback,
        }
    }
}

impl Drop for AbortListener {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", &self.callback);
    }
}

/// A promise and the function that resolves it.
pub(crate) fn deferred() -> (Promise, Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _| resolve = Some(res));
    // (The executor runs at once: `resolve` is always set.)
    (
        promise,
        resolve.unwrap_or_else(|| IGNORE.with(Function::clone)),
    )
}

/// A new `AbortController` (every supported runtime has them).
pub(crate) fn controller() -> AbortController {
    AbortController::new().unwrap_or_else(|_| panic!("AbortController"))
}

/// Whether `signal` has fired.
pub(crate) fn aborted(signal: Option<&AbortSignal>) -> bool {
    signal.is_some_and(AbortSignal::aborted)
}

/// Waits `ms`, or less when `signal` fires: [`wait_unless_aborted`] on a timer's promise, not a
/// future of its own.
pub(crate) fn sleep(ms: f64, signal: &AbortSignal) -> impl std::future::Future<Output = bool> + '_ {
    let (promise, resolve) = deferred();
    let timer = Timer::new(ms, &resolve);
    wait_unless_aborted(promise, Some(signal), Some(timer))
}

/// Waits for `promise` unless `signal` fires first: `false` when it did. `timer` (the one that
/// settles `promise`, if any) goes inside the abort event itself, so an aborted wait leaves
/// nothing pending.
pub(crate) async fn wait_unless_aborted(
    promise: Promise,
    signal: Option<&AbortSignal>,
    timer: Option<Timer>,
) -> bool {
    if aborted(signal) {
        return false;
    }
    let (stop, resolve) = deferred();
    // On abort the timer is cleared first, then the wait ends.
    let _listeners = signal.map(|signal| {
        let clear = timer
            .as_ref()
            .map(|t| AbortListener::new(signal, t.clearer()));
        (clear, AbortListener::new(signal, resolve))
    });
    let _ = JsFuture::from(Promise::race(&Array::of2(&promise, &stop))).await;
    // The signal was not aborted when the wait began: it fired during the wait.
    !aborted(signal)
}

/// `value`, as a promise that settles within `ms` (with `undefined` if `value` is a promise that
/// has not settled by then). For the stores' answers: one that never comes cannot hold a call
/// past `timeoutMs` (a late write goes on by itself). The timer goes when the answer comes, so
/// that it keeps no process waiting.
pub(crate) fn within(value: &JsValue, ms: f64) -> Promise {
    let promise = Promise::resolve(value);
    let (late, resolve) = deferred();
    let timer = set_timeout(&resolve, ms);
    // A bound `clearTimeout`: no closure of the wasm.
    let clear = clearer_of(&timer);
    promise
        .unchecked_ref::<Thenable>()
        .then_both(&clear, &clear);
    Promise::race(&Array::of2(&promise, &late))
}

/// `promise`, rejected when `signal` fires first: for the fetch option, which may not honour the
/// signal (the platform's fetch rejects by itself), so that a timeout or an abort still ends the
/// call.
pub(crate) fn unless_aborted(promise: Promise, signal: &AbortSignal) -> Promise {
    let fired = Promise::new(&mut |_, reject| {
        let _ = signal.add_event_listener_with_callback("abort", &reject);
    });
    Promise::race(&Array::of2(&promise, &fired))
}

/// The body of the platform's own `Response`, the one kind whose body is read as a web stream
/// and cancelled. A fetch option's other answers may have any members (node-fetch's body is a
/// Node stream; a test's stand-in may throw from its getters).
fn own_body(response: &web_sys::Response) -> Option<JsValue> {
    if !response.is_instance_of::<web_sys::Response>() {
        return None;
    }
    // (A body that is `null` is none.)
    let body = get(response, "body");
    body.is_object().then_some(body)
}

/// Reads at most [`BODY_LIMIT`] bytes of a body as text, then cancels the rest.
pub(crate) async fn read_bounded(response: &web_sys::Response) -> Result<String, JsValue> {
    // Any other answer of a fetch option is read with its `text()`, whose failures are caught.
    let Some(stream) = own_body(response) else {
        let text = super::signin::invoke(response, "text", &[])?;
        let text = JsFuture::from(text.unchecked_into::<Promise>()).await?;
        return Ok(cut(&text.as_string().unwrap_or_default()));
    };
    let reader = stream.unchecked_ref::<Body>().reader()?;
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if get(&chunk, "done").is_truthy() {
            break;
        }
        // A `Response` made of a stream of the caller's may carry chunks of anything (no
        // connection to free: the stream is dropped).
        let value = get(&chunk, "value");
        if !get(&value, "subarray").is_function() {
            return Err(JsValue::from_str("the body's chunks are not bytes"));
        }
        let value: Uint8Array = value.unchecked_into();
        // (`subarray` stops at the chunk's end.)
        let room = (BODY_LIMIT - bytes.len()) as u32;
        bytes.append(&mut value.subarray(0, room).to_vec());
        if bytes.len() >= BODY_LIMIT {
            cancel(&reader);
            break;
        }
    }
    // A UTF-8 decoder that keeps a byte order mark, as the text it decodes has it. Malformed
    // sequences become U+FFFD, as `String::from_utf8_lossy` would make them.
    let options = Object::new();
    set(&options, "ignoreBOM", &JsValue::TRUE);
    Ok(TextDecoder::new("utf-8", &options).decode(&bytes))
}

/// A text cut to its first [`BODY_LIMIT`] characters.
pub(crate) fn cut(text: &str) -> String {
    crate::core::text::prefix(text, BODY_LIMIT).to_string()
}

/// Discards a body that will not be read, so that its connection can be reused.
pub(crate) fn discard(response: &web_sys::Response) {
    if let Some(body) = own_body(response) {
        cancel(&body);
    }
}

/// A member of a parsed body as the core reads it (`undefined` is a missing member).
fn field(v: &JsValue) -> Field {
    if v.is_undefined() {
        Field::Missing
    } else if let Some(s) = v.as_string() {
        Field::Str(s)
    } else if let Some(n) = v.as_f64() {
        Field::Num(n)
    } else if let Some(b) = v.as_bool() {
        Field::Bool(b)
    } else if Array::is_array(v) {
        Field::List
    } else if v.is_object() {
        Field::Obj {
            message: get(v, "message").as_string(),
        }
    } else {
        Field::Null
    }
}

/// A body's text read as JSON through the platform's `JSON.parse`, into the core's token body.
pub(crate) fn parse_json(text: &str) -> Parsed {
    let Ok(value) = js_sys::JSON::parse(text) else {
        return Parsed::NotJson;
    };
    if !value.is_object() || Array::is_array(&value) {
        return Parsed::NotObject;
    }
    // The members the rules use, each classified by `field`: a name looked up on the parsed
    // object, as a serde reader of it would (docs/size.md: serde-wasm-bindgen's reader was
    // 13.9 KB of the browser build for these lookups).
    let member = |name| field(&get(&value, name));
    Parsed::Object(TokenBody {
        access_token: member("access_token"),
        token_type: member("token_type"),
        expires_in: member("expires_in"),
        scope: member("scope"),
        resource: member("resource"),
        refresh_token: member("refresh_token"),
        id_token: member("id_token"),
        error: member("error"),
        error_description: member("error_description"),
        message: member("message"),
        issue_id: member("issueId"),
    })
}

/// A numeric string as JavaScript's `Number` reads it (no float parser in the wasm); an empty
/// string is no number.
pub(crate) fn number(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let n = to_number(s);
    (!n.is_nan()).then_some(n)
}

/// `Retry-After` (delay-seconds or an IMF-fixdate) in ms from `now`; a date in whole seconds,
/// rounded up, as the header's other form counts them.
pub(crate) fn retry_after_ms(value: Option<String>, now: f64) -> Option<f64> {
    let v = value?;
    match retry_after(&v) {
        RetryAfter::Seconds(s) => Some(s * 1000.0),
        RetryAfter::HttpDate => {
            let at = js_sys::Date::parse(crate::core::text::trim(&v));
            (!at.is_nan()).then(|| ((at - now).max(0.0) / 1000.0).ceil() * 1000.0)
        }
        RetryAfter::Invalid => None,
    }
}

/// The `exp` of a JWT in ms since the epoch (AppDynamics UI tokens are JWTs), or infinity.
pub(crate) fn jwt_expiry(token: &str) -> f64 {
    let exp = crate::core::text::cut_at(token, b'.').1.and_then(|rest| {
        let part = crate::core::text::cut_at(rest, b'.').0;
        // (A byte beyond ASCII is no base64 character as a char either: `atob` refuses both.)
        let mut b64: String = part
            .bytes()
            .map(|b| match b {
                b'-' => '+',
                b'_' => '/',
                b => char::from(b),
            })
            .collect();
        while b64.len() % 4 != 0 {
            b64.push('=');
        }
        let json = atob(&b64).ok()?;
        let claims = js_sys::JSON::parse(&json).ok()?;
        get(&claims, "exp").as_f64()
    });
    match exp {
        Some(e) if e > 0.0 && e.is_finite() => e * 1000.0,
        _ => f64::INFINITY,
    }
}

/// The `signal` of an options or init object, when there is one; anything but an `AbortSignal`
/// is refused, as the platform's fetch refuses it.
pub(crate) fn signal_of(o: &JsValue) -> Result<Option<AbortSignal>, crate::core::Error> {
    // A getter that throws is no absent signal.
    let s = if o.is_object() {
        Reflect::get(o, &JsValue::from_str("signal")).map_err(|e| unreadable("the signal", &e))?
    } else {
        JsValue::UNDEFINED
    };
    if s.is_null_or_undefined() {
        return Ok(None);
    }
    s.dyn_into().map(Some).map_err(|_| {
        crate::core::Error::new(
            crate::core::Code::InvalidArgument,
            "the signal is not an AbortSignal",
        )
    })
}

/// Whether a request body can be sent again (a stream is consumed by the first attempt).
pub(crate) fn resendable(body: &JsValue) -> bool {
    if body.is_null_or_undefined() || body.is_string() {
        return true;
    }
    let object = Object::from(body.clone());
    !(get(&object, "getReader").is_function()
        || Reflect::has(&object, &js_sys::Symbol::async_iterator()).unwrap_or(false))
}

/// Why the platform refuses `init` as a request to `url` (its fetch failed with `detail`), found
/// by making a `Request` of it and looking at its header values; `None` when it is a valid
/// request. An init with a stream body is not made a `Request` (the failed attempt may have
/// consumed it): only a missing `duplex`, which the platform's words name, is found for it.
pub(crate) fn refusal(url: &str, init: &Object, detail: Option<&str>) -> Option<String> {
    if !resendable(&get(init, "body")) {
        return detail
            .is_some_and(|d| crate::core::text::contains(d, "duplex"))
            .then(|| "a stream body needs duplex: \"half\"".to_string());
    }
    let request = match web_sys::Request::new_with_str_and_init(url, init.unchecked_ref()) {
        Ok(r) => r,
        Err(e) => return Some(failure_detail(&e).unwrap_or_default()),
    };
    // `Headers` takes a control character in a value, which the HTTP layers of Node and Deno
    // refuse while sending. The value is not quoted: it may be a credential.
    for entry in Array::from(&get(&request, "headers")).iter() {
        let pair: Array = entry.unchecked_into();
        let bad = |c: char| c < ' ' && c != '\t' || c == '\x7f';
        if pair
            .get_unchecked(1)
            .as_string()
            .is_some_and(|v| v.contains(bad))
        {
            let name = pair.get_unchecked(0).as_string().unwrap_or_default();
            return Some(["header ", &name, " has a control character in its value"].concat());
        }
    }
    None
}

/// The message of a fetch failure: its cause's message, its own, or itself when it is a string.
pub(crate) fn failure_detail(cause: &JsValue) -> Option<String> {
    get(&get(cause, "cause"), "message")
        .as_string()
        .or_else(|| get(cause, "message").as_string())
        .or_else(|| cause.as_string())
}
