//! apm-oauth: OAuth2 client-credentials tokens and authenticated calls for Dynatrace and
//! Cisco AppDynamics, compiled to WebAssembly for Node, Deno and browsers.
//!
//! The crate is split in two:
//! - [`core`] is pure Rust with no JavaScript types: option checking, token request building per
//!   vendor, token and error response parsing, the token cache's decisions (the clock is a
//!   parameter), retry decisions and URL rules. It is tested natively with `cargo test`.
//! - `wasm` (only on `wasm32`) is the one IO and binding layer: the exported classes, the fetch
//!   transport, timers and the conversion of core errors into JavaScript `ApmOAuthError`s.
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
mod wasm;

// talc instead of std's dlmalloc: ~2 KB gzipped less wasm. Single-threaded wasm only.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };
