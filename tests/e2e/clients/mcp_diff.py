"""Drives k0rdent.mgmt.releases.diff, install_from_catalog's dry_run plan and
force_conflicts with the official MCP Python SDK over stdio, changing objects
behind the release's back with real kubectl between calls; prints what it saw
as one JSON object, for host/tests/mcp_diff.rs.

usage: mcp_diff.py <server binary>   (KUBECTL and KUBECONFIG_FILE in the environment)
"""

import asyncio
import json
import os
import subprocess
import sys

from mcp import Client, types
from mcp.client.stdio import StdioServerParameters

MINIO = {"app": "minio", "template": "minio", "version": "14.1.2"}
INSTALL = "k0rdent.mgmt.serviceTemplates.install_from_catalog"
DIFF = "k0rdent.mgmt.releases.diff"


def kubectl(*args):
    subprocess.run([os.environ["KUBECTL"], f"--kubeconfig={os.environ['KUBECONFIG_FILE']}", *args], check=True)


def result(res):
    text = "".join(getattr(c, "text", "") for c in res.content)
    return {"is_error": bool(res.is_error), "structured": res.structured_content, "text": text}


async def call(client, tool, args):
    try:
        return result(await client.call_tool(tool, args))
    except Exception as e:  # JSON-RPC errors surface as exceptions
        return {"raised": f"{type(e).__name__}: {e}"}


async def main(binary):
    server = StdioServerParameters(command=binary, args=["serve", "--log-format", "json"], env=dict(os.environ))

    async def user_confirms(context, params):
        return types.ElicitResult(action="accept", content={"confirm": True})

    out = {}
    release = {"release": "minio", "namespace": "kcm-system"}
    async with Client(server, elicitation_callback=user_confirms) as client:
        out["install"] = await call(client, INSTALL, {**MINIO, "namespace": "kcm-system"})
        out["clean"] = await call(client, DIFF, release)
        out["dry_run"] = await call(client, INSTALL, {**MINIO, "namespace": "team-a", "dry_run": True})

        kubectl("patch", "servicetemplate.k0rdent.mirantis.com", "minio-14-1-2", "-n", "kcm-system",
                "--type=merge", "-p", '{"spec":{"helm":{"chartSpec":{"interval":"1m"}}}}')
        out["changed"] = await call(client, DIFF, release)
        out["ignored"] = await call(client, DIFF, {**release, "ignore": ["/spec/helm/chartSpec/interval"]})
        out["bad_pointer"] = await call(client, DIFF, {**release, "ignore": ["spec/helm"]})
        out["plan"] = await call(client, DIFF, {**release, "app": "minio", "version": "14.1.2"})
        out["reinstall"] = await call(client, INSTALL, {**MINIO, "namespace": "kcm-system"})
        out["still_changed"] = await call(client, DIFF, release)
        out["forced"] = await call(client, INSTALL, {**MINIO, "namespace": "kcm-system", "force_conflicts": True})
        out["repaired"] = await call(client, DIFF, release)

        kubectl("delete", "servicetemplate.k0rdent.mirantis.com", "minio-14-1-2", "-n", "kcm-system")
        out["missing"] = await call(client, DIFF, release)
        out["missing_ignored"] = await call(client, DIFF, {**release, "ignore": ["ServiceTemplate/minio-14-1-2:"]})
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
