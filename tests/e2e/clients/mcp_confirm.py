"""Calls k0rdent-mcp's tools with the official MCP Python SDK (mcp 2.x) as a
user who answers every confirmation question the same way, and prints what
each call returned and each question the server asked, as one JSON object,
for host/tests/mcp_protocol.rs.

usage: mcp_confirm.py <server binary | http(s)://…/mcp URL> <mode: auto|legacy|2026-07-28> <answer> < calls.json
answer: accept (ticks confirm), untick (accepts without ticking), decline, cancel,
        or none (the client declares no elicitation capability at all)
calls.json: [{"key": "…", "tool": "…", "arguments": {…}}, …]
"""

import asyncio
import json
import os
import sys

from mcp import Client, types
from mcp.client.stdio import StdioServerParameters


async def main(target, mode, answer):
    calls = json.load(sys.stdin)
    if target.startswith(("http://", "https://")):
        server = target
    else:
        server = StdioServerParameters(command=target, args=["serve"], env=dict(os.environ))
    asked = []

    async def elicit(context, params):
        asked.append({"message": params.message, "schema": params.requested_schema})
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        if answer == "untick":
            return types.ElicitResult(action="accept", content={"confirm": False})
        return types.ElicitResult(action=answer)

    callback = None if answer == "none" else elicit
    out = {}
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        out["protocol"] = str(client.protocol_version)
        for c in calls:
            before = len(asked)
            try:
                res = await client.call_tool(c["tool"], c["arguments"])
                text = "".join(getattr(b, "text", "") for b in res.content)
                out[c["key"]] = {"is_error": bool(res.is_error), "structured": res.structured_content, "text": text}
            except Exception as e:  # JSON-RPC errors surface as exceptions
                out[c["key"]] = {"raised": f"{type(e).__name__}: {e}"}
            out[c["key"]]["asked"] = asked[before:]
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
