//! The exported classes. The three share their methods through one macro; each vendor adds its
//! own in a second `impl` block.

use super::engine::Engine;
use super::js::{get, object, set};
use super::transport::BODY_LIMIT;
use crate::core::text::{cat, snippet, u64_str};
use crate::core::{appdynamics, dynatrace, oauth, Code, Error};
use js_sys::{Array, Object, Promise};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

fn reject(engine: &Engine, e: Error) -> Promise {
    Promise::reject(&engine.js_error(e))
}

macro_rules! client_class {
    ($name:ident, $js:literal, $config:path, $origin_key:literal) => {
        /// See the package's TypeScript types and README.
        #[wasm_bindgen(js_name = $js)]
        pub struct $name {
            engine: Rc<Engine>,
        }

        #[wasm_bindgen(js_class = $js)]
        impl $name {
            /// Checks the options; throws `ApmOAuthError` (`invalid_config`, `insecure_url`).
            #[wasm_bindgen(constructor)]
            pub fn new(options: JsValue) -> Result<$name, JsValue> {
                Engine::build($js, &options, $config).map(|engine| $name { engine })
            }

            /// The current token, fetched when needed. `options.signal` stops waiting for it.
            #[wasm_bindgen(js_name = getToken)]
            pub fn get_token(&self, options: JsValue) -> Promise {
                let engine = self.engine.clone();
                future_to_promise(async move {
                    let signal = super::engine::signal_of(&options);
                    let (token, generation) = engine.token(signal.as_ref()).await?;
                    Ok(engine.token_object(&token, generation))
                })
            }

            /// An authenticated call to the configured origin.
            pub fn fetch(&self, path_or_url: JsValue, init: JsValue) -> Promise {
                match self.engine.api_url(&path_or_url) {
                    Ok(url) => future_to_promise(self.engine.clone().fetch(url, init)),
                    Err(e) => reject(&self.engine, e),
                }
            }

            /// Forgets the cached token.
            pub fn invalidate(&self) {
                self.engine.invalidate();
            }

            /// Counters of token requests, cache hits, early refreshes and 401 retries.
            pub fn stats(&self) -> JsValue {
                let s = self.engine.stats();
                let o = object();
                set(&o, "tokenRequests", &s.token_requests.into());
                set(&o, "cacheHits", &s.cache_hits.into());
                set(&o, "refreshes", &s.refreshes.into());
                set(&o, "unauthorizedRetries", &s.unauthorized_retries.into());
                o
            }

            /// What the client is, without any credential.
            #[wasm_bindgen(js_name = toJSON)]
            pub fn to_json(&self) -> JsValue {
                let cfg = &self.engine.cfg;
                let o = object();
                set(&o, "client", &$js.into());
                if !cfg.client_id.is_empty() {
                    set(&o, "clientId", &JsValue::from_str(&cfg.client_id));
                }
                if !cfg.token_url.is_empty() && cfg.static_token.is_none() {
                    set(&o, "tokenUrl", &JsValue::from_str(&cfg.token_url));
                }
                if let Some(origin) = &cfg.api_origin {
                    set(&o, $origin_key, &JsValue::from_str(&origin.serialize()));
                }
                o
            }

            /// `ClassName(clientId)`, without any credential.
            #[wasm_bindgen(js_name = toString)]
            pub fn to_string_js(&self) -> String {
                cat(&[$js, "(", &self.engine.cfg.client_id, ")"])
            }
        }
    };
}

client_class!(
    DynatraceClient,
    "DynatraceClient",
    dynatrace::config,
    "environmentUrl"
);
client_class!(
    AppDynamicsClient,
    "AppDynamicsClient",
    appdynamics::config,
    "controllerUrl"
);
client_class!(OAuthClient, "OAuthClient", oauth::config, "baseUrl");

#[wasm_bindgen(js_class = "DynatraceClient")]
impl DynatraceClient {
    /// `<environmentUrl>/platform/<apiPath>`.
    #[wasm_bindgen(js_name = platformUrl)]
    pub fn platform_url(&self, api_path: &str) -> Result<String, JsValue> {
        let env = dynatrace::environment(&self.engine.cfg, "platformUrl")
            .map_err(|e| self.engine.js_error(e))?;
        dynatrace::platform_url(env, api_path).map_err(|e| self.engine.js_error(e))
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
        let engine = &self.engine;
        let url = dynatrace::environment(&engine.cfg, "callAppFunction").and_then(|env| {
            match (app_id.as_string(), function_name.as_string()) {
                (Some(a), Some(f)) => dynatrace::app_function_url(env, &a, &f),
                _ => Err(Error::new(
                    Code::InvalidArgument,
                    "callAppFunction takes an app id and a function name as strings",
                )),
            }
        });
        let url = match url {
            Ok(u) => u,
            Err(e) => return reject(engine, e),
        };
        let out: JsValue = if init.is_object() {
            Object::assign(&Object::new(), init.unchecked_ref()).into()
        } else {
            object()
        };
        if !payload.is_undefined() {
            let body = match js_sys::JSON::stringify(&payload)
                .ok()
                .and_then(|s| s.as_string())
            {
                Some(b) => b,
                None => {
                    return reject(
                        engine,
                        Error::new(
                            Code::InvalidArgument,
                            "callAppFunction: the payload cannot be serialised as JSON",
                        ),
                    )
                }
            };
            if get(&out, "method").is_undefined() {
                set(&out, "method", &"POST".into());
            }
            let headers = match super::js::Headers::new_headers(&get(&out, "headers")) {
                Ok(h) => h,
                Err(_) => {
                    return reject(
                        engine,
                        Error::new(
                            Code::InvalidArgument,
                            "init.headers is not a valid set of headers",
                        ),
                    )
                }
            };
            if !headers.has("content-type") {
                headers.set("Content-Type", "application/json");
            }
            set(&out, "headers", &headers);
            set(&out, "body", &JsValue::from_str(&body));
        }
        future_to_promise(engine.clone().fetch(url, out))
    }
}

#[wasm_bindgen(js_class = "AppDynamicsClient")]
impl AppDynamicsClient {
    /// `GET /controller/rest/applications?output=JSON` as `{ id, name, description }` objects.
    #[wasm_bindgen(js_name = listApplications)]
    pub fn list_applications(&self) -> Promise {
        let engine = self.engine.clone();
        let url = match engine.api_url(&JsValue::from_str(
            "/controller/rest/applications?output=JSON",
        )) {
            Ok(u) => u,
            Err(e) => return reject(&engine, e),
        };
        future_to_promise(async move {
            let response = engine.clone().fetch(url, JsValue::UNDEFINED).await?;
            let status = get(&response, "status").as_f64().unwrap_or(0.0) as u16;
            let text = match super::js::call(&response, "text", &[])
                .and_then(|p| p.dyn_into::<Promise>())
            {
                Ok(p) => JsFuture::from(p)
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            if !(200..300).contains(&status) {
                let mut msg = cat(&[
                    "listing applications failed: GET /controller/rest/applications answered HTTP ",
                    &u64_str(u64::from(status)),
                ]);
                let s = snippet(&text[..text.len().min(BODY_LIMIT)], 120);
                if !s.is_empty() {
                    msg.push_str(": ");
                    msg.push_str(&s);
                }
                let hint = match status {
                    401 => "the controller refused the token: check that the API client still exists and its token has not been revoked",
                    403 => "the API client's roles do not allow viewing applications: add a role with that permission",
                    _ => "check controllerUrl and the controller's health",
                };
                return Err(
                    engine.js_error(Error::new(Code::HttpError, msg).status(status).hint(hint))
                );
            }
            let apps = appdynamics::parse_applications(&text).map_err(|e| engine.js_error(e))?;
            let out = Array::new();
            for a in apps {
                let o = object();
                set(&o, "id", &JsValue::from(a.id));
                set(&o, "name", &JsValue::from_str(&a.name));
                set(&o, "description", &JsValue::from_str(&a.description));
                out.push(&o);
            }
            Ok(out.into())
        })
    }
}
