//! A Kubernetes API server emulator for tests, with no knowledge of any particular operator.
//!
//! This build provides the CRD machinery the emulator's admission path is built on:
//! [`schema`] validates objects against a CRD's structural OpenAPI v3 schema (types, required
//! fields, enums, patterns, bounds, unknown fields), evaluates its CEL
//! `x-kubernetes-validations`, applies defaults and prunes unknown fields, all reported with
//! Kubernetes field paths; [`crds`] loads CRD manifests from files and directories.

pub mod admission;
pub mod clock;
pub mod control;
pub mod crds;
pub mod discovery;
mod emulator;
pub mod errors;
mod gc;
pub mod managed;
pub mod patch;
pub mod registry;
pub mod request;
mod routes;
pub mod schema;
pub mod selectors;
pub mod server;
pub mod store;
pub mod table;
pub mod views;
mod watch;
pub mod writes;

pub use control::{Fault, LoggedRequest};
pub use emulator::{Emulator, EmulatorConfig};
pub use request::{ApiRequest, ApiResponse};
pub mod front;
mod protobuf;
