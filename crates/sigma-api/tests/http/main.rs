//! HTTP tests: the real router on a real socket, on SQLite and PostgreSQL.

mod common;

mod audit;
mod auth;
mod errors;
mod openapi;
mod providers;
mod ratelimit;
mod roles;
mod service;
mod vps;
