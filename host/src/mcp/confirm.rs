//! The user's confirmation before a destructive tool runs. An AI model
//! calls the tools, so "the model decided to uninstall" must not be enough:
//! when the client can ask its user (MCP elicitation), the server asks, and
//! the model cannot answer in the user's place. A client that cannot ask
//! must say `confirm: true` explicitly, unless the operator requires
//! elicitation (`--confirm-destructive require`).

use std::collections::BTreeMap;

use rmcp::RoleServer;
use rmcp::model::{
    ClientCapabilities, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationSchema, InputRequest, InputRequiredResult, InputResponses, JsonObject, Tool,
};
use rmcp::service::RequestContext;
use serde_json::{Value, json};

use crate::quote::quote;

/// The argument a client without elicitation sets to confirm; added to
/// every destructive tool's input schema.
pub const CONFIRM_ARGUMENT: &str = "confirm";
/// The key of our elicitation among a 2026-07-28 call's input requests.
const INPUT_KEY: &str = "confirm";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfirmMode {
    /// Ask through elicitation; a client without it cannot run destructive tools.
    Require,
    /// Ask through elicitation when the client offers it; otherwise the call must carry `confirm: true`.
    WhenSupported,
    /// Never ask (the caller, not the user, decides).
    Never,
}

/// What the gate decided.
#[derive(Debug)]
pub enum Verdict {
    Proceed,
    /// Not run; the text says why and what to do.
    Refuse(String),
    /// 2026-07-28: answer with this and wait for the client's retry.
    Ask(InputRequiredResult),
}

/// A tool is destructive unless its annotations say otherwise (MCP's
/// default for a tool that is not read-only).
pub fn is_destructive(tool: &Tool) -> bool {
    let annotations = tool.annotations.as_ref();
    let read_only = annotations.and_then(|a| a.read_only_hint).unwrap_or(false);
    !read_only && annotations.and_then(|a| a.destructive_hint).unwrap_or(true)
}

/// The input schema with the `confirm` argument, for destructive tools.
pub fn with_confirm_argument(schema: &JsonObject) -> JsonObject {
    let mut schema = schema.clone();
    let properties = schema.entry("properties").or_insert_with(|| json!({}));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert(
            CONFIRM_ARGUMENT.to_string(),
            json!({
                "type": "boolean",
                "description": "Set to true to confirm this destructive call when the client cannot ask its \
                                user (no MCP elicitation). When the client supports elicitation the server asks \
                                the user instead and this argument is ignored.",
            }),
        );
    }
    schema
}

/// Decides whether `tool` may run. Takes `confirm` out of `arguments`, so
/// the tool itself never sees it.
pub async fn gate(
    mode: ConfirmMode,
    tool: &Tool,
    arguments: &mut Option<JsonObject>,
    input_responses: Option<&InputResponses>,
    context: &RequestContext<RoleServer>,
) -> Verdict {
    let confirmed = match arguments.as_mut().and_then(|a| a.remove(CONFIRM_ARGUMENT)) {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(other) => {
            return Verdict::Refuse(format!(
                "argument confirm must be true or false, got {}; fix: pass \"confirm\": true",
                quote(&other.to_string())
            ));
        }
    };
    if mode == ConfirmMode::Never {
        return Verdict::Proceed;
    }
    let question = question(tool, arguments.as_ref());
    let modern = context
        .protocol_version()
        .is_some_and(|version| !version.has_initialize());
    // A handshake-era server-to-client request needs a live session; over
    // stateless HTTP rmcp hands us default (empty) capabilities, so such a
    // client is never asked a question it could not answer.
    let capabilities = if modern {
        context.meta.client_capabilities()
    } else {
        context
            .peer
            .peer_info()
            .map(|info| info.capabilities.clone())
    };
    if capabilities.as_ref().is_some_and(asks_forms) {
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: question.clone(),
            requested_schema: schema(&tool.name),
        };
        if modern {
            return match input_responses.and_then(|r| r.get(INPUT_KEY)) {
                Some(answer) => match serde_json::from_value::<ElicitResult>(answer.clone()) {
                    Ok(answer) => judge(&answer, &tool.name),
                    Err(e) => Verdict::Refuse(format!(
                        "the answer to the confirmation is not an elicitation result ({}); nothing was changed",
                        quote(&e.to_string())
                    )),
                },
                None => Verdict::Ask(InputRequiredResult::from_input_requests(BTreeMap::from([
                    (
                        INPUT_KEY.to_string(),
                        InputRequest::Elicitation(ElicitRequest::new(params)),
                    ),
                ]))),
            };
        }
        return tokio::select! {
            answer = context.peer.create_elicitation(params) => match answer {
                Ok(answer) => judge(&answer, &tool.name),
                Err(e) => Verdict::Refuse(format!(
                    "{} was not run: asking the user to confirm failed ({}); nothing was changed",
                    tool.name,
                    quote(&e.to_string())
                )),
            },
            _ = context.ct.cancelled() => Verdict::Refuse(format!(
                "{} was not run: the call was cancelled while waiting for the user to confirm; nothing was changed",
                tool.name
            )),
        };
    }
    match mode {
        ConfirmMode::Require => Verdict::Refuse(format!(
            "{} needs the user's confirmation, and this server asks for it through MCP elicitation only \
             (--confirm-destructive require, K0RDENT_MCP_CONFIRM_DESTRUCTIVE); this client did not declare \
             the elicitation capability, so nothing was changed; fix: use a client that supports elicitation",
            tool.name
        )),
        _ if confirmed => Verdict::Proceed,
        _ => Verdict::Refuse(format!(
            "{} is destructive and needs confirmation: {question} This client cannot ask its user (it did \
             not declare MCP elicitation), so nothing was changed; fix: after the user agrees, call again \
             with \"confirm\": true",
            tool.name
        )),
    }
}

fn asks_forms(capabilities: &ClientCapabilities) -> bool {
    // A bare `elicitation: {}` means forms, by the 2025-06-18 rules.
    capabilities
        .elicitation
        .as_ref()
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

fn question(tool: &Tool, arguments: Option<&JsonObject>) -> String {
    let title = tool
        .annotations
        .as_ref()
        .and_then(|a| a.title.as_deref())
        .unwrap_or(&tool.name);
    let arguments = arguments.map(|a| Value::Object(a.clone()).to_string());
    format!(
        "{title} ({}) with {}?",
        tool.name,
        quote(arguments.as_deref().unwrap_or("no arguments"))
    )
}

fn schema(tool: &str) -> ElicitationSchema {
    let schema = json!({
        "type": "object",
        "properties": {CONFIRM_ARGUMENT: {
            "type": "boolean",
            "title": "Confirm",
            "description": format!("Run {tool}: it changes or removes objects in the cluster"),
            "default": false,
        }},
        "required": [CONFIRM_ARGUMENT],
    });
    let Value::Object(schema) = schema else {
        unreachable!("a JSON object literal")
    };
    ElicitationSchema::from_json_schema(schema)
        .expect("a one-boolean form is a valid elicitation schema")
}

fn judge(answer: &ElicitResult, tool: &str) -> Verdict {
    match answer.action {
        ElicitationAction::Accept
            if answer
                .content
                .as_ref()
                .and_then(|c| c.get(CONFIRM_ARGUMENT))
                == Some(&Value::Bool(true)) =>
        {
            Verdict::Proceed
        }
        ElicitationAction::Accept => Verdict::Refuse(format!(
            "{tool} was not run: the user answered without ticking confirm; nothing was changed"
        )),
        ElicitationAction::Decline => Verdict::Refuse(format!(
            "{tool} was not run: the user declined; nothing was changed"
        )),
        ElicitationAction::Cancel => Verdict::Refuse(format!(
            "{tool} was not run: the user cancelled the confirmation; nothing was changed"
        )),
        // An action a later revision adds is no confirmation.
        _ => Verdict::Refuse(format!(
            "{tool} was not run: the user's answer was not a confirmation; nothing was changed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ToolAnnotations;

    fn tool(read_only: Option<bool>, destructive: Option<bool>) -> Tool {
        let mut annotations = ToolAnnotations::default();
        annotations.read_only_hint = read_only;
        annotations.destructive_hint = destructive;
        Tool::new("t", "d", JsonObject::new()).annotate(annotations)
    }

    #[test]
    fn destructive_follows_the_annotations_and_mcp_defaults() {
        assert!(is_destructive(&tool(Some(false), Some(true))));
        assert!(is_destructive(&tool(None, None)), "MCP's default");
        assert!(!is_destructive(&tool(Some(false), Some(false))));
        assert!(!is_destructive(&tool(Some(true), None)));
    }

    #[test]
    fn only_a_ticked_acceptance_confirms() {
        let accept = |content: Value| {
            let mut r = ElicitResult::new(ElicitationAction::Accept);
            r.content = Some(content);
            r
        };
        assert!(matches!(
            judge(&accept(json!({"confirm": true})), "t"),
            Verdict::Proceed
        ));
        for answer in [
            accept(json!({"confirm": false})),
            accept(json!({"confirm": "true"})),
            ElicitResult::new(ElicitationAction::Accept),
            ElicitResult::new(ElicitationAction::Decline),
            ElicitResult::new(ElicitationAction::Cancel),
        ] {
            let Verdict::Refuse(text) = judge(&answer, "t") else {
                panic!("{answer:?}")
            };
            assert!(text.contains("nothing was changed"), "{text}");
        }
    }

    #[test]
    fn the_schema_gains_confirm() {
        let input = with_confirm_argument(&JsonObject::new());
        assert_eq!(input["properties"]["confirm"]["type"], "boolean");
        let form = serde_json::to_value(schema("t")).unwrap();
        assert_eq!(form["required"], json!(["confirm"]));
    }
}
