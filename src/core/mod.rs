//! The pure core: plain values in, plain values out, no JavaScript and no IO.

// `Error` carries the server's OAuth fields inline. Errors are built at most once per failed
// call, so their size costs nothing measurable, while boxing them would cost wasm bytes.
#![allow(clippy::result_large_err)]

pub mod appdynamics;
pub mod body;
pub mod cache;
pub mod config;
pub mod dynatrace;
pub mod encoding;
pub mod error;
pub mod oauth;
pub mod retry;
pub mod secret;
pub mod signin;
pub mod text;
pub mod token;
pub mod url;

pub use error::{Code, Error};
pub use secret::Secret;
