//! The integration suite: one binary, one module per area.

mod client;
mod hardening;
mod runtime;
mod todo;
mod validation;
