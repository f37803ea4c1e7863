//! User values as Helm builds them from the command line: `-f` files, then
//! `--set-json`, `--set`, `--set-string`, each layer merged over the last.

pub mod strvals;

use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, Args)]
pub struct ValueArgs {
    /// Values file (YAML), repeatable; later files win.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Set values (`a.b=c,list[0]=x`), repeatable; types are inferred as Helm does.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set string values, repeatable.
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set JSON values (`key={"a":1}`), repeatable.
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
}

/// Largest values file read.
const MAX_VALUES_FILE_BYTES: u64 = 4 * 1024 * 1024;

impl ValueArgs {
    /// The merged user values, in Helm's precedence order.
    pub fn merge(&self) -> Result<Map<String, Value>, String> {
        let mut values = Map::new();
        for file in &self.files {
            let meta = std::fs::metadata(file)
                .map_err(|e| format!("values file {}: {e}", file.display()))?;
            if meta.len() > MAX_VALUES_FILE_BYTES {
                return Err(format!(
                    "values file {} is larger than {MAX_VALUES_FILE_BYTES} bytes",
                    file.display()
                ));
            }
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("values file {}: {e}", file.display()))?;
            let layer = helm_yaml::parse_values(&text)
                .map_err(|e| format!("failed to parse {}: {e}", file.display()))?;
            merge_maps(&mut values, layer);
        }
        for arg in &self.set_json {
            strvals::parse_json_into(arg, &mut values)
                .map_err(|e| format!("failed parsing --set-json data: {e}"))?;
        }
        for arg in &self.set {
            strvals::parse_into(arg, &mut values, strvals::Typing::Inferred)
                .map_err(|e| format!("failed parsing --set data: {e}"))?;
        }
        for arg in &self.set_string {
            strvals::parse_into(arg, &mut values, strvals::Typing::Strings)
                .map_err(|e| format!("failed parsing --set-string data: {e}"))?;
        }
        Ok(values)
    }
}

/// Helm's merge of values files: maps merge recursively, anything else is replaced.
pub fn merge_maps(base: &mut Map<String, Value>, overlay: Map<String, Value>) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge_maps(existing, incoming)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
