#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a cluster (CI runs it after
# `make install`):
#   1. docker-compose.yml   resolved by Debian's docker-compose (`config`; it cannot run containers)
#   2. deploy/k8s/*.yaml    against the Kubernetes API schema (kubernetes-validate, strict)
#   3. deploy/envoy/envoy.yaml against Envoy's v3 API (the protobuf messages of xds-protos, kept in
#      a directory of its own: it ships copies of google.rpc and opentelemetry.proto that would
#      overwrite the project's)
#   4. Envoy, collector, Prometheus, Dockerfile, k8s: cross-checks with the server's ports, health
#      service, metric names and settings (pytest)
# Prints one line per check and a verdict; exits 1 if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=${K8S_VERSION:-1.30.0}
XDS_PROTOS=xds-protos==1.85.0
XDS_DIR=${XDS_PROTOS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openautoglm/xds-protos-1.85.0}
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
failed=0

check() {
  local name=$1
  shift
  if "$@" >"$LOG" 2>&1; then
    echo "ok    $name"
  else
    echo "FAIL  $name"
    sed 's/^/      /' "$LOG"
    failed=$((failed + 1))
  fi
}

# Debian's docker-compose validates compose files; install it where we may (CI runs as root).
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing docker-compose (Debian) to validate docker-compose.yml"
  apt-get install -y -qq docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq docker-compose >/dev/null 2>&1; }
fi
if command -v docker-compose >/dev/null 2>&1; then
  check "docker-compose.yml (docker-compose config)" docker-compose -f docker-compose.yml config -q
else
  echo "FAIL  docker-compose.yml: docker-compose is not installed (apt-get install docker-compose)"
  failed=$((failed + 1))
fi

check "kubernetes-validate installed (dev extras)" "$PY" -c "import kubernetes_validate"
check "deploy/k8s manifests (Kubernetes $K8S_VERSION API schema, strict)" \
  "$PY" -m kubernetes_validate --strict --quiet -k "$K8S_VERSION" \
  deploy/k8s/configmap.yaml deploy/k8s/deployment.yaml deploy/k8s/service.yaml \
  deploy/k8s/hpa.yaml deploy/k8s/pdb.yaml
if [ ! -d "$XDS_DIR/envoy" ]; then
  check "$XDS_PROTOS fetched into $XDS_DIR" "$PY" -m pip install --quiet --no-deps --target "$XDS_DIR" "$XDS_PROTOS"
fi
check "deploy/envoy/envoy.yaml (Envoy v3 API schema)" \
  env PYTHONPATH="$XDS_DIR" "$PY" deploy/check_envoy.py deploy/envoy/envoy.yaml
check "collector, Prometheus, Dockerfile, Envoy and k8s agree with the server (pytest)" \
  "$PY" -m pytest -q -p no:cacheprovider tests/unit/test_deploy_configs.py

if [ "$failed" -eq 0 ]; then
  echo "deploy/validate.sh: all deployment files are valid"
else
  echo "deploy/validate.sh: $failed check(s) failed"
  exit 1
fi
