"""Load driver: N concurrent install_from_catalog calls over streamable HTTP
with the official MCP Python SDK, one namespace each (load-0 … load-N-1).
Prints {"latencies_ms": [...], "errors": [...]} as one JSON line.

usage: mcp_load.py <http://…/mcp URL> <N>
"""

import asyncio
import json
import sys
import time

from mcp import Client


async def one(url, i, out):
    started = time.monotonic()
    try:
        async with Client(url) as client:
            res = await client.call_tool(
                "k0rdent.mgmt.serviceTemplates.install_from_catalog",
                {"app": "minio", "template": "minio", "version": "14.1.2", "namespace": f"load-{i}"},
            )
            if res.is_error:
                out["errors"].append("".join(getattr(c, "text", "") for c in res.content))
            elif res.structured_content["status"] != "created":
                out["errors"].append(f"load-{i}: {res.structured_content['status']}")
    except Exception as e:
        out["errors"].append(f"load-{i}: {type(e).__name__}: {e}")
    out["latencies_ms"].append((time.monotonic() - started) * 1000)


async def main(url, n):
    out = {"latencies_ms": [], "errors": []}
    started = time.monotonic()
    await asyncio.gather(*(one(url, i, out) for i in range(n)))
    out["total_ms"] = (time.monotonic() - started) * 1000
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
