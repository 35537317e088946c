//! HTTP tests: the real router on a real socket, on SQLite and PostgreSQL.

mod common;

mod agents;
mod audit;
mod errors;
mod openapi;
mod providers;
mod service;
mod vps;
