//! The integration suite: one binary, one module per area.

mod client;
mod todo;
