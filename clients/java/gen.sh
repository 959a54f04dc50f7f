#!/usr/bin/env bash
# Regenerates the Java stubs in src/main/java/org/openautoglm/v1 from ../../protos.
# protoc's Java generator + grpc_java_plugin, both from Debian bookworm, driven by `buf generate`
# (managed mode sets java_package/java_multiple_files without touching the .proto files).
# The output depends on those versions: run with the pinned ones so the result is reproducible.
set -euo pipefail
cd "$(dirname "$0")"
. ./deps.sh
ensure_java_debian_packages

want_protoc="libprotoc 3.21.12"
if [ "$(protoc --version)" != "$want_protoc" ] && [ -z "${AUTOGLM_ALLOW_OTHER_PROTOC:-}" ]; then
  echo "gen.sh: expected '$want_protoc' (Debian bookworm), found '$(protoc --version)';" \
    "the committed stubs would change. Set AUTOGLM_ALLOW_OTHER_PROTOC=1 to generate anyway." >&2
  exit 1
fi

plugin=$(dpkg-query -W -f='${Version}' protobuf-compiler-grpc-java-plugin 2>/dev/null || echo unknown)
if [[ "$plugin" != 1.41.3* ]] && [ -z "${AUTOGLM_ALLOW_OTHER_PROTOC:-}" ]; then
  echo "gen.sh: expected grpc_java_plugin 1.41.3 (Debian bookworm), found '$plugin'." >&2
  exit 1
fi

buf=../../node_modules/.bin/buf
if [ ! -x "$buf" ]; then (cd ../.. && npm ci --silent); fi

rm -rf src/main/java/org/openautoglm/v1
"$buf" generate --template buf.gen.yaml
