//! The integration suite: one binary, one module per area.

mod access;
mod auth;
mod builtins;
mod client;
mod data_api;
mod durability;
mod hardening;
mod interfaces;
mod openapi;
mod realtime;
mod runtime;
mod todo;
mod validation;
