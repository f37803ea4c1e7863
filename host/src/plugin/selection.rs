//! The loaded plugin set and the choice of plugin for a chart.
//!
//! Each plugin declares the charts it handles (`info().charts`). A pattern
//! that names the chart beats `*`; among equals, the plugin loaded last wins,
//! so a plugin from `--plugin-dir` overrides the embedded default for the
//! charts it declares. That is how a new kgst ships without a host rebuild.
//!
//! Several versions side by side: a plugin loaded later under the name of an
//! earlier one takes over new work from it (the rule above, unchanged), but
//! the earlier one stays loaded, *superseded*: it is never chosen for new
//! work, yet [`PluginSet::by_digest`] still finds it, so a rollback can
//! re-render a revision with exactly the components that rendered it (see
//! `release/rendered_by.rs`). Loading the same bytes twice keeps one copy.
//!
//! A chart no validator handles is rendered without values validation, with a
//! warning, except the charts in [`VALIDATION_REQUIRED`]: for those it is an
//! error, so a kgst version the loaded validators do not know is never
//! deployed on unchecked values.

use std::sync::Arc;

use semver::{Version, VersionReq};

use super::manifest::PluginSource;
use super::{Plugin, PluginError, PluginHost, World};

/// Charts that are never rendered without a validator: kgst's values decide
/// which chart and repository the cluster pulls and runs.
pub const VALIDATION_REQUIRED: &[&str] = &["kgst"];

/// Longest piece of chart metadata quoted in an error or log line.
const QUOTE_LIMIT: usize = 200;

/// Chart names and versions come from the chart itself: cap what is echoed.
fn capped(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// One entry of `plugin-info.charts`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartPattern {
    Any,
    Chart { name: String, versions: VersionReq },
}

impl ChartPattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(ChartPattern::Any);
        }
        let (name, requirement) = text.split_once(' ').ok_or_else(|| {
            format!("chart pattern {text:?} must be `*` or `<chart> <semver requirement>`, for example `kgst >=2.0.0, <3.0.0`")
        })?;
        let versions = VersionReq::parse(requirement.trim())
            .map_err(|e| format!("chart pattern {text:?}: bad version requirement: {e}"))?;
        Ok(ChartPattern::Chart {
            name: name.to_string(),
            versions,
        })
    }

    /// `None` when the pattern does not apply; otherwise its specificity.
    fn rank(&self, chart: &str, version: Option<&Version>) -> Option<u8> {
        match self {
            ChartPattern::Any => Some(0),
            ChartPattern::Chart { name, versions } => {
                (name == chart && version.is_some_and(|v| versions.matches(v))).then_some(1)
            }
        }
    }
}

#[derive(Clone)]
struct Entry {
    plugin: Arc<Plugin>,
    patterns: Vec<ChartPattern>,
    /// A later plugin of the same name took over new work; kept for
    /// [`PluginSet::by_digest`].
    superseded: bool,
}

/// Every loaded plugin, in load order. Cloning shares the plugins.
#[derive(Default, Clone)]
pub struct PluginSet {
    entries: Vec<Entry>,
    /// Lets even [`VALIDATION_REQUIRED`] charts render without a validator.
    insecure_unvalidated: bool,
}

impl PluginSet {
    /// Loads `sources` in order. A later plugin with the same name takes new
    /// work over from the earlier one (a directory plugin replacing an
    /// embedded default), which stays loaded, superseded.
    ///
    /// Each component loads on a thread of its own (verify its digest, read and check its
    /// precompiled entry or compile it, link, describe): they are independent, and a one-shot
    /// process waits for all of them. The first failure in source order is the one returned.
    pub fn load(host: &PluginHost, sources: &[PluginSource]) -> Result<Self, PluginError> {
        let loaded: Vec<Result<Plugin, PluginError>> = std::thread::scope(|scope| {
            let loading: Vec<_> = sources
                .iter()
                .map(|source| {
                    scope.spawn(move || {
                        let _phase =
                            crate::timings::phase(|| format!("plugins: load {}", source.origin));
                        host.load(source)
                    })
                })
                .collect();
            loading
                .into_iter()
                .map(|thread| {
                    thread.join().unwrap_or_else(|_| {
                        Err(PluginError::Runtime("loading a plugin panicked".into()))
                    })
                })
                .collect()
        });
        let mut set = PluginSet::default();
        for plugin in loaded {
            set.insert(plugin?)?;
        }
        Ok(set)
    }

    pub fn insert(&mut self, plugin: Plugin) -> Result<(), PluginError> {
        let patterns = plugin
            .info()
            .charts
            .iter()
            .map(|p| ChartPattern::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| PluginError::Contract {
                plugin: plugin.manifest().name.clone(),
                message,
            })?;
        let (name, sha256) = (&plugin.manifest().name, &plugin.manifest().sha256);
        // The same bytes twice: one copy, at the later position.
        self.entries
            .retain(|e| &e.plugin.manifest().sha256 != sha256);
        for earlier in &mut self.entries {
            if &earlier.plugin.manifest().name == name {
                earlier.superseded = true;
            }
        }
        self.entries.push(Entry {
            plugin: Arc::new(plugin),
            patterns,
            superseded: false,
        });
        Ok(())
    }

    /// The loaded component whose bytes hash to `sha256` (lower-case hex, with
    /// or without `sha256:`), superseded or not.
    pub fn by_digest(&self, sha256: &str) -> Option<Arc<Plugin>> {
        let wanted = sha256.strip_prefix("sha256:").unwrap_or(sha256);
        self.entries
            .iter()
            .find(|e| e.plugin.manifest().sha256 == wanted)
            .map(|e| e.plugin.clone())
    }

    /// Every loaded plugin in load order, with whether a later plugin of the
    /// same name superseded it (then it serves no new work).
    pub fn all(&self) -> impl Iterator<Item = (&Arc<Plugin>, bool)> {
        self.entries.iter().map(|e| (&e.plugin, e.superseded))
    }

    /// Renders charts of [`VALIDATION_REQUIRED`] without a validator too (with
    /// the same warning as any other chart). Only for measuring a renderer on
    /// its own against helm; no command-line flag or server setting reaches it.
    pub fn insecure_allow_unvalidated_charts(&mut self) {
        self.insecure_unvalidated = true;
    }

    /// The plugins that serve new work (superseded ones left out).
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.entries
            .iter()
            .filter(|e| !e.superseded)
            .map(|e| &e.plugin)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The plugin of `world` for chart `name` at `version`.
    pub fn select(
        &self,
        world: World,
        chart: &str,
        version: &str,
    ) -> Result<Arc<Plugin>, PluginError> {
        let parsed = Version::parse(version).ok();
        let best = self
            .entries
            .iter()
            .filter(|e| e.plugin.world() == world && !e.superseded)
            .filter_map(|e| {
                let rank = e
                    .patterns
                    .iter()
                    .filter_map(|p| p.rank(chart, parsed.as_ref()))
                    .max()?;
                Some((rank, e))
            })
            // max_by_key keeps the last of equal ranks: later loads win.
            .max_by_key(|(rank, _)| *rank);
        match best {
            Some((_, entry)) => Ok(entry.plugin.clone()),
            None => Err(PluginError::NoPluginFor {
                world,
                chart: capped(chart),
                version: capped(version),
                loaded: self.describe(world),
            }),
        }
    }

    /// The validator for a chart, or `None` (logged) when none handles it and
    /// the chart may go unvalidated; see [`VALIDATION_REQUIRED`].
    pub fn validator_for(
        &self,
        chart: &str,
        version: &str,
    ) -> Result<Option<Arc<Plugin>>, PluginError> {
        match self.select(World::Validator, chart, version) {
            Ok(plugin) => Ok(Some(plugin)),
            Err(PluginError::NoPluginFor {
                chart: quoted_chart,
                version,
                loaded,
                ..
            }) => {
                if VALIDATION_REQUIRED.contains(&chart) && !self.insecure_unvalidated {
                    return Err(PluginError::ValidatorRequired {
                        chart: quoted_chart,
                        version,
                        loaded,
                    });
                }
                tracing::warn!(
                    chart = %quoted_chart,
                    %version,
                    "no validator plugin handles this chart; rendering it without values validation"
                );
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    fn describe(&self, world: World) -> String {
        let list: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.plugin.world() == world && !e.superseded)
            .map(|e| {
                format!(
                    "{} ({})",
                    e.plugin.manifest().name,
                    e.plugin.info().charts.join("; ")
                )
            })
            .collect();
        if list.is_empty() {
            "none".into()
        } else {
            list.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wildcards_and_requirements() {
        assert_eq!(ChartPattern::parse("*").unwrap(), ChartPattern::Any);
        let p = ChartPattern::parse("kgst >=2.0.0, <3.0.0").unwrap();
        let v2 = Version::parse("2.0.2").unwrap();
        let v1 = Version::parse("1.2.0").unwrap();
        assert_eq!(p.rank("kgst", Some(&v2)), Some(1));
        assert_eq!(p.rank("kgst", Some(&v1)), None);
        assert_eq!(p.rank("other", Some(&v2)), None);
        assert_eq!(p.rank("kgst", None), None);
    }

    #[test]
    fn long_chart_metadata_is_capped() {
        let long = "9".repeat(5000);
        let quoted = capped(&long);
        assert_eq!(quoted.chars().count(), QUOTE_LIMIT + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(capped("2.0.2"), "2.0.2");
    }

    #[test]
    fn bad_patterns_say_what_is_expected() {
        let err = ChartPattern::parse("kgst").unwrap_err();
        assert!(err.contains("<chart> <semver requirement>"), "{err}");
        let err = ChartPattern::parse("kgst >=banana").unwrap_err();
        assert!(err.contains("bad version requirement"), "{err}");
    }
}
