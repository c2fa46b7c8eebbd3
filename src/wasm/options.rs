//! The JavaScript options object as the core's [`RawOptions`], plus the `fetch` function.

use super::js::get;
use crate::core::config::{Raw, RawOptions};
use crate::core::text::cat;
use crate::core::{Code, Error};
use js_sys::{Array, Function, Object};
use wasm_bindgen::{JsCast, JsValue};

fn raw(v: &JsValue) -> Raw {
    if v.is_undefined() || v.is_null() {
        return Raw::Missing;
    }
    if let Some(s) = v.as_string() {
        return Raw::Str(s);
    }
    if let Some(n) = v.as_f64() {
        return Raw::Num(n);
    }
    if let Some(b) = v.as_bool() {
        return Raw::Bool(b);
    }
    if v.is_function() {
        return Raw::Function;
    }
    if Array::is_array(v) {
        let items: Vec<Option<String>> = Array::from(v).iter().map(|x| x.as_string()).collect();
        return match items.into_iter().collect::<Option<Vec<String>>>() {
            Some(list) => Raw::List(list),
            None => Raw::Other("an array with items that are not strings"),
        };
    }
    if v.is_object() {
        let obj: &Object = v.unchecked_ref();
        let mut map = Vec::new();
        for key in Object::keys(obj).iter() {
            let k = key.as_string().unwrap_or_default();
            match get(v, &k).as_string() {
                Some(s) => map.push((k, s)),
                None => return Raw::Other("an object with values that are not strings"),
            }
        }
        return Raw::Map(map);
    }
    Raw::Other("a value of another type")
}

/// Reads the options object of `class`.
pub fn read(class: &str, options: &JsValue) -> Result<(RawOptions, Option<Function>), Error> {
    if !options.is_object() || Array::is_array(options) {
        return Err(Error::new(
            Code::InvalidConfig,
            cat(&[
                class,
                " needs an options object, e.g. new ",
                class,
                "({ clientId, clientSecret, ... })",
            ]),
        ));
    }
    let mut out = Vec::new();
    for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
        let k = key.as_string().unwrap_or_default();
        out.push((k.clone(), raw(&get(options, &k))));
    }
    let fetch = get(options, "fetch").dyn_into::<Function>().ok();
    Ok((RawOptions(out), fetch))
}
