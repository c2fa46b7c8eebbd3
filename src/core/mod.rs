//! The pure core: plain values in, plain values out, no JavaScript and no IO.

pub mod appdynamics;
pub mod cache;
pub mod config;
pub mod dynatrace;
pub mod encoding;
pub mod error;
pub mod json;
pub mod oauth;
pub mod retry;
pub mod secret;
pub mod text;
pub mod token;
pub mod url;

pub use error::{Code, Error};
pub use secret::Secret;
