//! The real `sigma` binary against a real server, on SQLite and PostgreSQL.

mod agents;
mod common;
mod errors;
mod integrations;
mod local;
mod people;
mod providers;
mod transfer;
mod vps;
