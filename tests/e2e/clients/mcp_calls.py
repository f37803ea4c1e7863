"""Makes a list of tool calls to k0rdent-mcp over stdio with the official MCP
Python SDK (mcp 2.x) and prints what each returned as one JSON object keyed
like the calls, for host/tests/mcp_release_scope.rs.

usage: mcp_calls.py <server binary> < calls.json
calls.json: [{"key": "…", "tool": "…", "arguments": {…}}, …]

The server is configured from the K0RDENT_MCP_* environment. Arguments go to
the server exactly as given: unknown ones and huge values included. The client
offers MCP elicitation and its user confirms every destructive call, so what a
refusal says comes from the tool, not from the confirmation.
"""

import asyncio
import json
import os
import sys

from mcp import Client, types
from mcp.client.stdio import StdioServerParameters


async def call(client, tool, arguments):
    try:
        res = await client.call_tool(tool, arguments)
    except Exception as e:  # JSON-RPC errors surface as exceptions
        return {"raised": f"{type(e).__name__}: {e}"}
    text = "".join(getattr(c, "text", "") for c in res.content)
    return {"is_error": bool(res.is_error), "structured": res.structured_content, "text": text}


async def main(binary):
    calls = json.load(sys.stdin)
    server = StdioServerParameters(command=binary, args=["serve"], env=dict(os.environ))
    out = {}
    async def user_confirms(context, params):
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with Client(server, elicitation_callback=user_confirms) as client:
        for c in calls:
            out[c["key"]] = await call(client, c["tool"], c["arguments"])
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
