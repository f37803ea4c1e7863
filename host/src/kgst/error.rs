//! Everything that can stop a catalog app before a cluster is touched, one
//! variant per input at fault. The MCP layer turns it into a tool error once.

use crate::catalog::{CatalogError, LookupError};
use crate::chart::ChartError;
use crate::oci::OciError;
use crate::plugin::PluginError;
use crate::plugin::contract::Violation;
use crate::render::{RenderFailure, format_violations};

#[derive(Debug, thiserror::Error)]
pub enum KgstError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),

    /// The app, chart or version is not in the catalog.
    #[error(transparent)]
    Lookup(#[from] LookupError),

    /// The pre-flight: the app's chart is not in its registry (or its
    /// reference is malformed).
    #[error(transparent)]
    AppChart(OciError),

    #[error(transparent)]
    KgstPull(OciError),

    #[error(transparent)]
    KgstArchive(#[from] ChartError),

    #[error(transparent)]
    Plugin(#[from] PluginError),

    /// The validator says the intent cannot be expressed with this kgst.
    #[error(
        "validator {validator} cannot install {chart} with kgst {kgst_version}:\n{}",
        format_violations(violations)
    )]
    Refused {
        validator: String,
        chart: String,
        kgst_version: String,
        violations: Vec<Violation>,
    },

    /// The validator answered, but not with a JSON object.
    #[error(
        "validator {validator} answered values-for-intent with {problem}; it must return the kgst \
         values as a JSON object; fix: use a validator that follows wit/chart.wit, or report this \
         to its author"
    )]
    MalformedValues { validator: String, problem: String },

    #[error(transparent)]
    Render(Box<RenderFailure>),
}

impl From<RenderFailure> for KgstError {
    fn from(failure: RenderFailure) -> Self {
        KgstError::Render(Box::new(failure))
    }
}
