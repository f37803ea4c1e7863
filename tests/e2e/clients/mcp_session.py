"""Drives k0rdent-mcp with the official MCP Python SDK (mcp 2.x) and prints what
it saw as one JSON object, for host/tests/mcp_stdio.rs and mcp_http.rs to assert on.

usage: mcp_session.py <server binary | http(s)://…/mcp URL> <mode: auto|legacy>
A binary is spawned over stdio, its configuration taken from the K0RDENT_MCP_*
environment; a URL is reached over streamable HTTP (a server already running).
"""

import asyncio
import json
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters


def result(res):
    text = "".join(getattr(c, "text", "") for c in res.content)
    return {"is_error": bool(res.is_error), "structured": res.structured_content, "text": text}


async def main(target, mode):
    if target.startswith(("http://", "https://")):
        server = target
    else:
        server = StdioServerParameters(command=target, args=["serve", "--log-format", "json"], env=dict(os.environ))
    out = {}
    async with Client(server, mode=mode) as client:
        out["protocol"] = str(client.protocol_version)
        tools = await client.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        out["annotations"] = {
            t.name: {
                "read_only": t.annotations.read_only_hint if t.annotations else None,
                "destructive": t.annotations.destructive_hint if t.annotations else None,
            }
            for t in tools.tools
        }
        out["catalog"] = result(await client.call_tool("k0rdent.catalog.serviceTemplates.list", {"app": "min"}))
        out["render"] = result(
            await client.call_tool(
                "k0rdent.mgmt.serviceTemplates.render",
                {"app": "minio", "template": "minio", "version": "14.1.2", "namespace": "tenant-a"},
            )
        )
        out["render_missing_version"] = result(
            await client.call_tool(
                "k0rdent.mgmt.serviceTemplates.render",
                {"app": "minio", "template": "minio", "version": "99"},
            )
        )
        out["render_unpublished"] = result(
            await client.call_tool(
                "k0rdent.mgmt.serviceTemplates.render",
                {"app": "minio", "template": "minio", "version": "17.0.21"},
            )
        )
        out["render_wrong_app"] = result(
            await client.call_tool(
                "k0rdent.mgmt.serviceTemplates.render",
                {"app": "mini0", "template": "minio", "version": "14.1.2"},
            )
        )
        try:
            malformed = await client.call_tool("k0rdent.mgmt.serviceTemplates.render", {"app": "minio"})
            out["malformed"] = {"raised": None, **result(malformed)}
        except Exception as e:  # a JSON-RPC error surfaces as an exception
            out["malformed"] = {"raised": f"{type(e).__name__}: {e}"}
        out["plugins"] = result(await client.call_tool("k0rdent.plugins.list", {}))
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
