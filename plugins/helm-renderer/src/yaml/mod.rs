//! YAML with Helm's semantics: a YAML 1.1 reader ([`parse_document`]) and a
//! go-yaml v2 compatible writer ([`to_yaml`]).

mod emit;
mod load;
mod resolve;

pub use emit::{key_less, to_yaml, to_yaml_pretty};
pub use load::parse_document;
