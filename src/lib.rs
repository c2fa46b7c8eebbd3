//! apm-oauth: OAuth2 client-credentials tokens and authenticated calls for Dynatrace and
//! Cisco AppDynamics, compiled to WebAssembly for Node, Deno and browsers.
//!
//! The crate is split in two:
//! - [`core`] is pure Rust with no JavaScript types: token request building per vendor, token and
//!   error response parsing with the vendors' wording, the cache's refresh rule (the clock is a
//!   parameter), retry decisions and secret scrubbing. It is tested natively with `cargo test`.
//! - `wasm` (only on `wasm32`) exports these as synchronous functions over plain values. The IO
//!   (fetch, timers, abort), the options object, URLs and JSON are the JavaScript layer's
//!   (`pkg/src/client.js`), where the platform does that work for free.
#![deny(missing_docs)]
// The wasm build has no std: the standard library's panic and allocation-failure paths format
// their messages (~2 KB of wasm), which a wasm that traps on panic never shows.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod core;

#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(target_arch = "wasm32")]
mod arena;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: arena::Arena = arena::Arena::new();

/// A panic in the wasm traps: the call throws a `RuntimeError` in JavaScript.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}
