#!/usr/bin/env bash
# Regenerates the Go stubs in gen/ from ../../protos with Debian's protoc-gen-go and protoc-gen-go-grpc,
# driven by buf (managed mode sets go_package). The output names the plugin versions: use the pinned ones.
set -euo pipefail
cd "$(dirname "$0")"
. ./deps.sh
ensure_go_debian_packages
want="protoc-gen-go v1.28.1"
if [ "$(protoc-gen-go --version)" != "$want" ] && [ -z "${AUTOGLM_ALLOW_OTHER_PROTOC:-}" ]; then
  echo "gen.sh: expected '$want' (Debian bookworm), found '$(protoc-gen-go --version)';" \
    "the committed stubs would change. Set AUTOGLM_ALLOW_OTHER_PROTOC=1 to generate anyway." >&2
  exit 1
fi
buf=../../node_modules/.bin/buf
if [ ! -x "$buf" ]; then (cd ../.. && npm ci --silent --no-audit --no-fund); fi
rm -rf gen
"$buf" generate --template buf.gen.yaml
