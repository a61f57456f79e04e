//! The integration suite: one binary, one module per area.

mod builtins;
mod client;
mod hardening;
mod interfaces;
mod runtime;
mod todo;
mod validation;
