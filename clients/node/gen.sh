#!/usr/bin/env bash
# Regenerates the TypeScript stubs in src/gen from ../../protos (and the vendored google/rpc protos in
# proto/) with buf and the local protoc-gen-es plugin pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/protoc-gen-es ]; then npm ci --silent --no-audit --no-fund; fi
buf=../../node_modules/.bin/buf
if [ ! -x "$buf" ]; then (cd ../.. && npm ci --silent --no-audit --no-fund); fi
rm -rf src/gen
PATH="$(pwd)/node_modules/.bin:$PATH" "$buf" generate --template buf.gen.yaml
