//! The one IO and binding layer: exported classes, the fetch transport, timers, and errors as
//! JavaScript `ApmOAuthError`s. Everything it decides, it asks the core.

mod clients;
mod engine;
mod error;
mod js;
mod options;
mod transport;
