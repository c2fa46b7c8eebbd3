//! Bindings to the few globals every runtime has (fetch, timers, Headers), reached through the
//! global object, never `window`, so one build serves Node 18+, Deno, browsers and workers.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn global_fetch(input: &str, init: &JsValue) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(cb: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);

    /// The platform's `Headers`.
    #[wasm_bindgen(js_name = Headers)]
    pub type Headers;

    #[wasm_bindgen(catch, constructor, js_class = "Headers")]
    pub fn new_headers(init: &JsValue) -> Result<Headers, JsValue>;

    #[wasm_bindgen(method, js_class = "Headers")]
    pub fn set(this: &Headers, name: &str, value: &str);

    #[wasm_bindgen(method, js_class = "Headers")]
    pub fn has(this: &Headers, name: &str) -> bool;
}

/// A timer that is cleared when dropped, so no timer outlives the call that set it.
pub struct Timer {
    id: JsValue,
    _cb: Closure<dyn FnMut()>,
}

impl Timer {
    /// The id `clearTimeout` takes.
    pub fn id(&self) -> JsValue {
        self.id.clone()
    }

    /// Calls `f` after `ms` unless dropped first.
    pub fn new(ms: f64, f: impl FnMut() + 'static) -> Timer {
        let cb = Closure::<dyn FnMut()>::new(f);
        let id = set_timeout(cb.as_ref().unchecked_ref(), ms);
        Timer { id, _cb: cb }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// A listener for a signal's `abort` event, removed when dropped.
pub struct AbortListener {
    cleanup: web_sys::AbortController,
    _cb: Closure<dyn FnMut()>,
}

impl AbortListener {
    /// Calls `f` when `signal` fires (at once, synchronously, inside the event dispatch), unless
    /// dropped first. `None` when `signal` is not an `AbortSignal`.
    pub fn new(signal: &JsValue, f: impl FnMut() + 'static) -> Option<AbortListener> {
        let cleanup = web_sys::AbortController::new().ok()?;
        let cb = Closure::<dyn FnMut()>::new(f);
        let opts = object();
        set(&opts, "once", &JsValue::TRUE);
        set(&opts, "signal", &cleanup.signal());
        call(
            signal,
            "addEventListener",
            &[&"abort".into(), cb.as_ref(), &opts],
        )
        .ok()?;
        Some(AbortListener { cleanup, _cb: cb })
    }
}

impl Drop for AbortListener {
    fn drop(&mut self) {
        self.cleanup.abort();
    }
}

/// Resolves after `ms`, or as soon as `signal` fires. The timer is cleared in the abort event
/// itself and the listener removed when this returns, so an aborted wait leaves nothing behind.
pub async fn sleep(ms: f64, signal: &JsValue) {
    if get(signal, "aborted").is_truthy() {
        return;
    }
    let mut resolve_fn = None;
    let p = Promise::new(&mut |resolve, _| resolve_fn = Some(resolve));
    let Some(resolve) = resolve_fn else { return };
    let id = set_timeout(&resolve, ms);
    let _listener = {
        let id = id.clone();
        AbortListener::new(signal, move || {
            clear_timeout(&id);
            let _ = resolve.call0(&JsValue::UNDEFINED);
        })
    };
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    clear_timeout(&id);
}

/// `obj[name]`, or undefined.
pub fn get(obj: &JsValue, name: &str) -> JsValue {
    // Reflect.get throws on a primitive (no options, no init): never let it. A JS exception
    // caught by a `catch` import leaks one externref table slot with wasm-bindgen 0.2.130 (the
    // import's return slot is not freed when it throws), and throwing is slow.
    if !(obj.is_object() || obj.is_function()) {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets `obj[name] = value`.
pub fn set(obj: &JsValue, name: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(name), value);
}

/// Calls `obj[name](...args)`.
pub fn call(obj: &JsValue, name: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(obj, name)
        .dyn_into()
        .map_err(|_| JsValue::from_str(name))?;
    match args {
        [] => f.call0(obj),
        [a] => f.call1(obj, a),
        [a, b] => f.call2(obj, a, b),
        _ => f.apply(obj, &args.iter().copied().collect()),
    }
}

/// A new plain object.
pub fn object() -> JsValue {
    Object::new().into()
}

/// True in a page (where CORS applies), false in Node, Deno and workers.
pub fn in_browser_page() -> bool {
    Reflect::has(&js_sys::global(), &JsValue::from_str("document")).unwrap_or(false)
}
