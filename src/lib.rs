//! apm-oauth: OAuth 2.0 tokens and authenticated calls for Dynatrace and Cisco AppDynamics, for
//! Rust front ends compiled to WebAssembly and, through the npm package, for Node, Deno and
//! browsers.
//!
//! Three layers, one direction:
//! - [`core`] is pure Rust with no JavaScript types and no IO: the token request of each vendor,
//!   what a token endpoint's answer means (with the vendors' wording), the cache's refresh rule,
//!   retry decisions, the URL rules and secret scrubbing. `cargo test` tests it natively.
//! - [`client`] is the Rust API over the JavaScript fetch API: one client type per vendor
//!   ([`DynatraceClient`], [`AppDynamicsClient`], [`OAuthClient`]) over one engine that owns the
//!   token cache, the single request in flight, early refresh, retries, timeouts, the caller's
//!   `AbortSignal` and the authenticated fetch with its one retry after a 401.
//! - `js` (the `js` cargo feature, enabled only by the npm build) exports the JavaScript classes
//!   of the npm package as thin `#[wasm_bindgen]` wrappers over the Rust API.
//!
//! ```no_run
//! # async fn run() -> Result<(), apm_oauth::Error> {
//! use apm_oauth::{DynatraceClient, DynatraceConfig};
//!
//! let dt = DynatraceClient::new(DynatraceConfig {
//!     environment_url: Some("https://abc12345.apps.dynatrace.com".into()),
//!     client_id: "dt0s02.XXXXXXXX".into(),
//!     client_secret: "dt0s02.XXXXXXXX.YYYY".into(),
//!     scope: vec!["storage:logs:read".into()],
//!     ..Default::default()
//! })?;
//! let response = dt.fetch("/platform/management/v1/environment", None).await?;
//! assert_eq!(response.status(), 200);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod client;
pub mod core;

#[cfg(feature = "js")]
mod js;

pub use client::{
    AppDynamicsClient, AppDynamicsConfig, Application, BasicAuth, DynatraceAccountClient,
    DynatraceAccountConfig, DynatraceClient, DynatraceConfig, OAuthClient, OAuthConfig, Options,
    Stats, TokenContentType, TokenInfo, ACCOUNT_API_URL,
};
pub use core::config::AuthMethod;
pub use core::{Code, Error, Secret};

// The npm build's allocator: a free list (wasm32 without threads is single-threaded), ~3 KB
// smaller gzipped than the default dlmalloc.
#[cfg(all(feature = "js", target_arch = "wasm32"))]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// The Rust examples of README.md, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
