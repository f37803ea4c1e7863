//! Host glue generated from `wit/`, and the rules for which contract versions
//! this host accepts.
//!
//! The host speaks the current contract (`wit/chart.wit`) and, so that plugins
//! built before it keep working, the frozen 0.3, 0.2 and 0.1 contracts
//! (`wit/v0.3/`, `wit/v0.2/`, `wit/v0.1/`); see [`super::legacy`] for the
//! translation between them.

use super::PluginError;

/// Package the host implements; a plugin must export one of its interfaces.
pub const PACKAGE: &str = "k0rdent:chart";
/// Version of `wit/` this host was generated from.
pub const CONTRACT_VERSION: &str = "0.4.0";
/// Older contract versions the host still loads, newest first.
pub const LEGACY_CONTRACT_VERSIONS: &[(&str, ContractVersion)] = &[
    ("0.3.0", ContractVersion::V0_3),
    ("0.2.0", ContractVersion::V0_2),
    ("0.1.0", ContractVersion::V0_1),
];

pub mod renderer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "renderer",
        // Running out of CPU budget while generating a key must end the call
        // as a CPU-limit trap, not as an answer the plugin could ignore.
        imports: { "k0rdent:chart/keys.generate-rsa-key": trappable },
    });
}

pub mod validator {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "validator",
        with: {
            "k0rdent:chart/types": super::renderer::k0rdent::chart::types,
        },
    });
}

/// Bindings for plugins built against `k0rdent:chart@0.3.x`, whose renderers
/// generate keys themselves. The shared `types` interface did not change, so
/// its Rust types are the current ones.
pub mod v0_3 {
    pub mod renderer {
        wasmtime::component::bindgen!({
            path: "../wit/v0.3",
            world: "renderer",
            with: {
                "k0rdent:chart/types": crate::plugin::contract::renderer::k0rdent::chart::types,
            },
        });
    }

    pub mod validator {
        wasmtime::component::bindgen!({
            path: "../wit/v0.3",
            world: "validator",
            with: {
                "k0rdent:chart/types": crate::plugin::contract::renderer::k0rdent::chart::types,
            },
        });
    }
}

/// Bindings for plugins built against `k0rdent:chart@0.2.x`. The shared
/// `types` interface did not change, so its Rust types are the current ones.
pub mod v0_2 {
    pub mod renderer {
        wasmtime::component::bindgen!({
            path: "../wit/v0.2",
            world: "renderer",
            with: {
                "k0rdent:chart/types": crate::plugin::contract::renderer::k0rdent::chart::types,
            },
        });
    }

    pub mod validator {
        wasmtime::component::bindgen!({
            path: "../wit/v0.2",
            world: "validator",
            with: {
                "k0rdent:chart/types": crate::plugin::contract::renderer::k0rdent::chart::types,
            },
        });
    }
}

/// Bindings for plugins built against `k0rdent:chart@0.1.x`. The shared
/// `types` interface did not change, so its Rust types are the current ones.
pub mod v0_1 {
    pub mod renderer {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "renderer",
            with: {
                "k0rdent:chart/types": crate::plugin::contract::renderer::k0rdent::chart::types,
            },
        });
    }

    pub mod validator {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "validator",
            with: {
                "k0rdent:chart/types": crate::plugin::contract::renderer::k0rdent::chart::types,
            },
        });
    }
}

pub use renderer::exports::k0rdent::chart::render::{
    Manifest, ReleaseInfo, RenderError, RenderInput, RenderOutput, Timestamp,
};
pub use renderer::k0rdent::chart::types::{Capabilities, ChartFile, PluginInfo};
pub use validator::exports::k0rdent::chart::validate::{
    ChartMetadata, InstallIntent, ValidateInput, Violation,
};

/// Which contract a loaded plugin was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractVersion {
    /// `k0rdent:chart@0.4.x`: renderers may ask the host for RSA keys
    /// (the `keys` import).
    Current,
    /// `k0rdent:chart@0.3.x`: validators also build kgst values from an
    /// install intent (`values-for-intent`); renderers make their own keys.
    V0_3,
    /// `k0rdent:chart@0.2.x`: renderers receive entropy and the time;
    /// validators cannot build values from an intent.
    V0_2,
    /// `k0rdent:chart@0.1.x`: renderers get neither entropy nor time.
    V0_1,
}

impl ContractVersion {
    /// Whether a validator of this contract exports `values-for-intent` (0.3 on).
    pub fn has_values_for_intent(self) -> bool {
        matches!(self, ContractVersion::Current | ContractVersion::V0_3)
    }

    /// The package version this contract was frozen at, for messages.
    pub fn package_version(self) -> &'static str {
        match self {
            ContractVersion::Current => CONTRACT_VERSION,
            ContractVersion::V0_3 => "0.3.0",
            ContractVersion::V0_2 => "0.2.0",
            ContractVersion::V0_1 => "0.1.0",
        }
    }
}

/// The two plugin kinds, named after their WIT worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    Renderer,
    Validator,
}

impl World {
    /// The interface a component of this world must export.
    pub fn interface(self) -> &'static str {
        match self {
            World::Renderer => "render",
            World::Validator => "validate",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            World::Renderer => "renderer",
            World::Validator => "validator",
        })
    }
}

/// A `major.minor.patch` version as written in a WIT package name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WitVersion {
    major: u64,
    minor: u64,
    patch: u64,
}

impl WitVersion {
    fn parse(text: &str) -> Option<Self> {
        // Pre-release and build tags are not part of this contract's versioning.
        let mut parts = text.split('.');
        let v = WitVersion {
            major: parts.next()?.parse().ok()?,
            minor: parts.next()?.parse().ok()?,
            patch: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(v)
    }

    /// Semver compatibility as the component model applies it: same major for
    /// 1.x and later, same minor for 0.x.
    fn compatible_with(self, other: WitVersion) -> bool {
        if self.major != other.major {
            return false;
        }
        self.major != 0 || self.minor == other.minor
    }
}

fn supported_versions() -> impl Iterator<Item = (WitVersion, ContractVersion)> {
    let current = std::iter::once((CONTRACT_VERSION, ContractVersion::Current));
    let legacy = LEGACY_CONTRACT_VERSIONS.iter().copied();
    current.chain(legacy).map(|(text, which)| {
        (
            WitVersion::parse(text).expect("contract versions are valid"),
            which,
        )
    })
}

/// `k0rdent:chart@0.4.0 (and, for older plugins, …)`, for messages.
fn supported_text() -> String {
    let legacy: Vec<String> = LEGACY_CONTRACT_VERSIONS
        .iter()
        .map(|(v, _)| format!("{PACKAGE}@{v}"))
        .collect();
    if legacy.is_empty() {
        format!("{PACKAGE}@{CONTRACT_VERSION}")
    } else {
        format!(
            "{PACKAGE}@{CONTRACT_VERSION} (and, for older plugins, {})",
            legacy.join(", ")
        )
    }
}

/// Checks that `export_names` contain this world's interface at a version the
/// host supports, and returns the full export name found and which contract
/// it belongs to.
pub fn check_exports<'a>(
    plugin: &str,
    world: World,
    export_names: impl IntoIterator<Item = &'a str>,
) -> Result<(String, ContractVersion), PluginError> {
    let wanted_prefix = format!("{PACKAGE}/{}@", world.interface());
    let mut seen = Vec::new();
    for name in export_names {
        if let Some(version) = name.strip_prefix(&wanted_prefix) {
            let found = WitVersion::parse(version).and_then(|v| {
                supported_versions()
                    .find_map(|(supported, which)| v.compatible_with(supported).then_some(which))
            });
            return match found {
                Some(which) => Ok((name.to_string(), which)),
                None => Err(PluginError::UnsupportedContract {
                    plugin: plugin.to_string(),
                    found: format!("{PACKAGE}@{version}"),
                    supported: supported_text(),
                }),
            };
        }
        seen.push(name.to_string());
    }
    Err(PluginError::WrongWorld {
        plugin: plugin.to_string(),
        world,
        expected: format!("{PACKAGE}/{}@{CONTRACT_VERSION}", world.interface()),
        found: seen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_patch_versions_of_the_same_minor() {
        let (found, which) =
            check_exports("p", World::Renderer, ["k0rdent:chart/render@0.4.7"]).unwrap();
        assert_eq!(found, "k0rdent:chart/render@0.4.7");
        assert_eq!(which, ContractVersion::Current);
    }

    #[test]
    fn still_accepts_the_three_previous_minors() {
        let (_, which) =
            check_exports("p", World::Renderer, ["k0rdent:chart/render@0.3.0"]).unwrap();
        assert_eq!(which, ContractVersion::V0_3);
        let (_, which) =
            check_exports("p", World::Validator, ["k0rdent:chart/validate@0.2.1"]).unwrap();
        assert_eq!(which, ContractVersion::V0_2);
        let (found, which) =
            check_exports("p", World::Validator, ["k0rdent:chart/validate@0.1.3"]).unwrap();
        assert_eq!(found, "k0rdent:chart/validate@0.1.3");
        assert_eq!(which, ContractVersion::V0_1);
    }

    #[test]
    fn refuses_other_minor_of_a_zero_major() {
        let err = check_exports("p", World::Renderer, ["k0rdent:chart/render@0.5.0"]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("k0rdent:chart@0.5.0"), "{text}");
        assert!(text.contains("k0rdent:chart@0.4.0"), "{text}");
        assert!(text.contains("k0rdent:chart@0.3.0"), "{text}");
        assert!(text.contains("k0rdent:chart@0.2.0"), "{text}");
        assert!(text.contains("k0rdent:chart@0.1.0"), "{text}");
    }

    #[test]
    fn names_the_world_when_the_interface_is_missing() {
        let err = check_exports("p", World::Validator, ["k0rdent:chart/render@0.4.0"]).unwrap_err();
        assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
        assert!(err.to_string().contains("k0rdent:chart/validate@0.4.0"));
    }

    #[test]
    fn major_versions_must_match_from_one_on() {
        let one = WitVersion::parse("1.2.0").unwrap();
        assert!(one.compatible_with(WitVersion::parse("1.0.3").unwrap()));
        assert!(!one.compatible_with(WitVersion::parse("2.0.0").unwrap()));
        assert!(WitVersion::parse("1.2").is_none());
        assert!(WitVersion::parse("1.2.3.4").is_none());
    }
}
