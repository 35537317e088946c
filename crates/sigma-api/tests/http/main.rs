//! HTTP tests: the real router on a real socket, on SQLite and PostgreSQL.

mod common;
mod tools;

mod ansible;
mod audit;
mod auth;
mod errors;
mod openapi;
mod prometheus;
mod providers;
mod ratelimit;
mod roles;
mod service;
mod transfer;
mod ui;
mod vps;
