//! Which tools this server serves and in what shape: `--read-only` drops
//! every tool that writes, and destructive tools take a `confirm` argument
//! ([`super::confirm`]). Driven by the tools' own annotations, so a tool
//! added later is covered by what it declares.

use rmcp::handler::server::router::tool::ToolRouter;
use std::sync::Arc;

use super::confirm;

/// Applies the policy to `router`; returns the names of the tools it hid.
pub fn shape<S>(router: &mut ToolRouter<S>, read_only: bool) -> Vec<String> {
    let mut hidden = Vec::new();
    let names: Vec<String> = router.map.keys().map(|n| n.to_string()).collect();
    for name in names {
        let Some(route) = router.map.get_mut(name.as_str()) else {
            continue;
        };
        let writes = route
            .attr
            .annotations
            .as_ref()
            .and_then(|a| a.read_only_hint)
            != Some(true);
        if read_only && writes {
            router.map.remove(name.as_str());
            hidden.push(name);
        } else if confirm::is_destructive(&route.attr) {
            route.attr.input_schema =
                Arc::new(confirm::with_confirm_argument(&route.attr.input_schema));
        }
    }
    hidden.sort();
    hidden
}

/// The error for a call to a tool `--read-only` hid.
pub fn read_only_refusal(tool: &str) -> String {
    format!(
        "tool {tool} is not served: this server runs with --read-only (K0RDENT_MCP_READ_ONLY), which serves \
         only the tools that write nothing; fix: ask the operator for a server without --read-only"
    )
}
