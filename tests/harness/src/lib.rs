//! The real parts end-to-end tests run against, started on loopback on free
//! ports and stopped by PID, plus builders for test charts (good and hostile).
//!
//! A part whose program is missing is a skip outside CI and a failure under
//! `CI=true`: a tier never silently disappears from CI.

pub mod bench;
pub mod charts;
pub mod cluster;
pub mod controllers;
pub mod http;
pub mod kill_proxy;
pub mod process;
pub mod registry;
pub mod tls;

pub use process::{free_port, require_program};
