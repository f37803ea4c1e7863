//! Talking to a Kubernetes API server the way `helm` v4 does for a release:
//! a client from a kubeconfig or the pod's service account (with an optional
//! per-call bearer token), objects addressed by apiVersion+kind through
//! discovery, server-side apply under field manager `helm` (without force
//! unless asked; dry runs for plans),
//! Helm's ownership metadata, deletes that wait until the object is gone, and
//! Job waits that report why a Job failed. Every wait runs on one loop
//! (`wait.rs`) that honours the deadline and the caller's cancellation.

mod client;
mod connect;
pub mod discovery_disk;
mod error;
mod http_stack;
mod jobs;
mod objects;
mod ownership;
mod wait;

pub use client::{Cluster, DiscoveryCache};
pub use connect::{ClusterSource, Endpoint, USER_AGENT, connect, connect_to};
pub use error::ClusterError;
pub use jobs::{JobOutcome, wait_for_job};
pub use objects::{ApplyMode, FIELD_MANAGER, ObjectKey};
pub use ownership::{
    HELM_MANAGED_BY, KEEP, MANAGED_BY_LABEL, RELEASE_NAME_ANNOTATION, RELEASE_NAMESPACE_ANNOTATION,
    RESOURCE_POLICY_ANNOTATION, add_ownership, check_ownership, has_keep_policy,
};
pub use wait::{WaitEnd, WaitLimits, await_condition};
