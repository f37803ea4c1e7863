//! Helm charts as the host handles them: read safely from an archive or a
//! folder into the flat file list the renderer plugin takes, with the
//! Chart.yaml facts the host needs to pick plugins.

mod archive;
mod load;
mod metadata;
mod tar_stream;

pub use archive::{ArchiveLimits, read_chart_archive};
pub use load::{Chart, ChartError, load_chart_dir, load_chart_path};
pub use metadata::ChartMetadata;
