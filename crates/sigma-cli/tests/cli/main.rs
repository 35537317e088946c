//! The real `sigma` binary against a real server, on SQLite and PostgreSQL.

mod common;
mod errors;
mod integrations;
mod local;
mod providers;
mod transfer;
mod vps;
