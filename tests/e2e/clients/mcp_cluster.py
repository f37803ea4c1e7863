"""Drives k0rdent-mcp's cluster tools with the official MCP Python SDK (mcp 2.x)
and prints what it saw as one JSON object, for host/tests/mcp_cluster.rs.

usage: mcp_cluster.py dev <server binary>
       mcp_cluster.py oidc <http://…/mcp URL> <alice token> <nobody token>

`dev` spawns the binary over stdio (DEV_ALLOW_ANY, configuration from the
K0RDENT_MCP_* environment) as a client whose user confirms every destructive
call when the server asks (MCP elicitation); `oidc` talks streamable HTTP with
bearer tokens as a client without elicitation, which confirms with
`confirm: true`.
"""

import asyncio
import json
import os
import sys

import anyio
from mcp_types import PromptReference, ResourceTemplateReference
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

MINIO = {"app": "minio", "template": "minio", "version": "14.1.2"}


def result(res):
    text = "".join(getattr(c, "text", "") for c in res.content)
    return {"is_error": bool(res.is_error), "structured": res.structured_content, "text": text}


async def call(client, tool, args, **kw):
    try:
        return result(await client.call_tool(tool, args, **kw))
    except Exception as e:  # JSON-RPC errors surface as exceptions
        return {"raised": f"{type(e).__name__}: {e}"}


async def dev(binary):
    server = StdioServerParameters(command=binary, args=["serve", "--log-format", "json"], env=dict(os.environ))
    out = {"asked": []}
    answer = {"action": "accept"}

    async def user_confirms(context, params):
        out["asked"].append(params.message)
        if answer["action"] != "accept":
            return types.ElicitResult(action=answer["action"])
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with Client(server, elicitation_callback=user_confirms) as client:
        out["namespaces"] = await call(client, "k0rdent.mgmt.namespaces.list", {})
        progress = []

        async def on_progress(value, total, message):
            progress.append({"progress": value, "message": message})

        out["install"] = await call(
            client,
            "k0rdent.mgmt.serviceTemplates.install_from_catalog",
            {**MINIO, "namespace": "kcm-system"},
            progress_callback=on_progress,
        )
        out["progress"] = progress
        # The installed ServiceTemplate as a resource, and completions from the cluster.
        read = await client.read_resource("k0rdent://servicetemplates/kcm-system/minio-14-1-2")
        out["template_resource"] = json.loads(read.contents[0].text)
        completed = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="k0rdent://servicetemplates/{namespace}/{name}"),
            {"name": "name", "value": "min"},
            {"namespace": "kcm-system"},
        )
        out["template_names"] = completed.completion.values
        completed = await client.complete(
            PromptReference(type="ref/prompt", name="install-app"), {"name": "namespace", "value": "te"}
        )
        out["namespace_completions"] = completed.completion.values
        out["install_again"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", {**MINIO, "namespace": "kcm-system"}
        )
        out["install_all"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", {**MINIO, "all_namespaces": True}
        )
        out["dry_run"] = await call(
            client,
            "k0rdent.mgmt.serviceTemplates.install_from_catalog",
            {**MINIO, "namespace": "team-a", "dry_run": True},
        )
        out["outside_filter"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", {**MINIO, "namespace": "other"}
        )
        out["render"] = await call(client, "k0rdent.mgmt.serviceTemplates.render", {**MINIO, "namespace": "team-b"})
        out["templates"] = await call(client, "k0rdent.mgmt.serviceTemplates.list", {"all_namespaces": True})
        out["history"] = await call(client, "k0rdent.mgmt.releases.history", {"release": "minio", "namespace": "team-a"})
        # The user says no: nothing may change on the cluster.
        answer["action"] = "decline"
        out["uninstall_declined"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.uninstall", {"template": "minio", "namespace": "team-a"}
        )
        out["templates_after_decline"] = await call(client, "k0rdent.mgmt.serviceTemplates.list", {"all_namespaces": True})
        out["history_after_decline"] = await call(
            client, "k0rdent.mgmt.releases.history", {"release": "minio", "namespace": "team-a"}
        )
        answer["action"] = "accept"
        out["uninstall"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.uninstall", {"template": "minio", "all_namespaces": True}
        )
        out["templates_after"] = await call(client, "k0rdent.mgmt.serviceTemplates.list", {"all_namespaces": True})

        # Cancel an install whose verify Job never finishes: the SDK sends
        # notifications/cancelled when the caller gives up.
        hang_progress = []

        async def on_hang_progress(value, total, message):
            hang_progress.append(message)

        with anyio.move_on_after(4) as scope:
            await client.call_tool(
                "k0rdent.mgmt.serviceTemplates.install_from_catalog",
                {"app": "hang", "template": "hang", "version": "1.0.0", "namespace": "kcm-system"},
                progress_callback=on_hang_progress,
            )
        out["cancel"] = {"cancelled": scope.cancelled_caught, "progress": hang_progress}
        # The server finishes consistently after the cancel; wait for the record to settle.
        history = None
        for _ in range(100):
            history = await call(client, "k0rdent.mgmt.releases.history", {"release": "hang", "namespace": "kcm-system"})
            revisions = (history.get("structured") or {}).get("revisions") or []
            if revisions and not revisions[-1]["status"].startswith("pending"):
                break
            await anyio.sleep(0.2)
        out["cancel"]["history"] = history
        out["cancel"]["templates"] = await call(client, "k0rdent.mgmt.serviceTemplates.list", {"namespace": "kcm-system"})
    print(json.dumps(out))


async def oidc(url, alice, nobody):
    def as_caller(token):
        return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})))

    out = {}
    async with as_caller(nobody) as client:
        out["nobody_install"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", {**MINIO, "namespace": "team-a"}
        )
    async with as_caller(alice) as client:
        out["alice_no_namespace"] = await call(client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", MINIO)
        out["alice_install"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", {**MINIO, "namespace": "team-a"}
        )
        out["alice_other_team"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", {**MINIO, "namespace": "team-b"}
        )
        out["alice_outside_filter"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.install_from_catalog", {**MINIO, "namespace": "other"}
        )
        out["alice_history"] = await call(client, "k0rdent.mgmt.releases.history", {"release": "minio", "namespace": "team-a"})
        out["alice_uninstall"] = await call(
            client, "k0rdent.mgmt.serviceTemplates.uninstall", {"template": "minio", "namespace": "team-a", "confirm": True}
        )
    print(json.dumps(out))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "dev":
        asyncio.run(dev(sys.argv[2]))
    else:
        asyncio.run(oidc(sys.argv[2], sys.argv[3], sys.argv[4]))
