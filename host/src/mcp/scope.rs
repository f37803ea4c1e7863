//! Per-call checks the cluster tools share: which releases a call may act on (kgst ones only, named
//! validly) and the engine options that enforce it; the namespaces a call acts in are resolved by
//! `access::namespaces`, progress goes through `progress.rs`.

use std::sync::Arc;

use super::context::Context;
use crate::engine::{EngineOptions, KgstOnly};

use crate::quote::quote;
use crate::release::validate_release_name;

/// A release name from a tool argument, checked before it reaches a label
/// selector, a Secret name or any cluster call.
pub fn check_release_name(argument: &str, name: &str) -> Result<(), String> {
    validate_release_name(name).map_err(|_| {
        format!(
            "{argument} {} is not a valid release name: use 1–53 lower-case letters, digits, '-' \
             and '.', starting and ending with a letter or digit; fix: pass the template name as \
             k0rdent.catalog.serviceTemplates.list shows it, e.g. minio",
            quote(name)
        )
    })
}

/// The tools act only on kgst releases whose objects stay in the release
/// namespace or in namespaces the filter allows.
pub fn kgst_only(context: &Context) -> KgstOnly {
    let filter = context.access.filter.clone();
    KgstOnly {
        other_namespaces: Arc::new(move |ns| filter.allows(ns)),
    }
}

/// The server's engine options, restricted to what the tools may manage.
pub fn engine_options(context: &Context) -> EngineOptions {
    EngineOptions {
        kgst_only: Some(kgst_only(context)),
        ..context.engine.clone()
    }
}
