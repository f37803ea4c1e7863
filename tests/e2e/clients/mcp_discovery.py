"""Discovers what k0rdent-mcp offers without calling a tool, with the official MCP Python SDK (mcp 2.x):
resources, resource templates, the install-app prompt and completions. Prints one JSON object for
host/tests/mcp_discovery.rs to assert on.

usage: mcp_discovery.py <server binary | http(s)://…/mcp URL> <mode: auto|legacy>
"""

import asyncio
import json
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceTemplateReference


async def attempt(call):
    try:
        return {"ok": await call}
    except MCPError as e:
        return {"error": {"code": e.code, "message": e.message}}


def dump(value):
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value.model_dump(mode="json", by_alias=True, exclude_none=True) if hasattr(value, "model_dump") else value


async def main(target, mode):
    if target.startswith(("http://", "https://")):
        server = target
    else:
        server = StdioServerParameters(command=target, args=["serve"], env=dict(os.environ))
    out = {}
    async with Client(server, mode=mode) as client:
        out["capabilities"] = dump(client.server_capabilities) if hasattr(client, "server_capabilities") else None
        out["resources"] = dump(await client.list_resources())
        out["templates"] = dump(await client.list_resource_templates())
        out["read_app"] = dump(await attempt(client.read_resource("k0rdent://catalog/minio")))
        out["read_missing_app"] = dump(await attempt(client.read_resource("k0rdent://catalog/nope")))
        out["read_bad_uri"] = dump(await attempt(client.read_resource("file:///etc/passwd")))
        out["read_filtered_ns"] = dump(
            await attempt(client.read_resource("k0rdent://servicetemplates/kube-system/minio-14-1-2"))
        )
        out["prompts"] = dump(await client.list_prompts())
        out["prompt"] = dump(await attempt(client.get_prompt("install-app", {"app": "minio", "version": "14.1.2"})))
        out["prompt_no_app"] = dump(await attempt(client.get_prompt("install-app", {})))
        out["prompt_unknown_app"] = dump(await attempt(client.get_prompt("install-app", {"app": "nope"})))
        prompt = PromptReference(type="ref/prompt", name="install-app")
        out["complete_app"] = dump(await attempt(client.complete(prompt, {"name": "app", "value": "mi"})))
        out["complete_version"] = dump(
            await attempt(client.complete(prompt, {"name": "version", "value": ""}, {"app": "minio"}))
        )
        out["complete_template_all"] = dump(await attempt(client.complete(prompt, {"name": "template", "value": ""})))
        resource = ResourceTemplateReference(type="ref/resource", uri="k0rdent://catalog/{app}")
        out["complete_resource_app"] = dump(await attempt(client.complete(resource, {"name": "app", "value": "V"})))
        unknown = PromptReference(type="ref/prompt", name="other")
        out["complete_unknown"] = dump(await attempt(client.complete(unknown, {"name": "x", "value": ""})))
        # Bounded input: a typed value or a context argument over 512 bytes is refused, not matched.
        out["complete_long_value"] = dump(await attempt(client.complete(prompt, {"name": "app", "value": "a" * 513})))
        out["complete_long_context"] = dump(
            await attempt(
                client.complete(prompt, {"name": "version", "value": ""}, context_arguments={"app": "v" * 513})
            )
        )
        out["complete_edge_value"] = dump(await attempt(client.complete(prompt, {"name": "app", "value": "a" * 512})))
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
