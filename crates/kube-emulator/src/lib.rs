//! A Kubernetes API server emulator for tests, with no knowledge of any particular operator.
//!
//! This build provides the CRD machinery the emulator's admission path is built on:
//! [`schema`] validates objects against a CRD's structural OpenAPI v3 schema (types, required
//! fields, enums, patterns, bounds, unknown fields), evaluates its CEL
//! `x-kubernetes-validations`, applies defaults and prunes unknown fields, all reported with
//! Kubernetes field paths; [`crds`] loads CRD manifests from files and directories.

pub mod crds;
pub mod schema;
