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
    fn clear_timeout(id: &JsValue);

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

/// Resolves after `ms`, or as soon as `signal` fires. The timer is cleared and the listener
/// removed either way, so an aborted wait leaves nothing behind that keeps a process alive.
pub async fn sleep(ms: f64, signal: &JsValue) {
    let mut timer = JsValue::UNDEFINED;
    let cleanup = web_sys::AbortController::new().ok();
    let p = Promise::new(&mut |resolve, _| {
        timer = set_timeout(&resolve, ms);
        if let Some(c) = &cleanup {
            let opts = object();
            set(&opts, "once", &JsValue::TRUE);
            set(&opts, "signal", &c.signal());
            let _ = call(
                signal,
                "addEventListener",
                &[&"abort".into(), &resolve, &opts],
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    clear_timeout(&timer);
    if let Some(c) = cleanup {
        c.abort();
    }
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
