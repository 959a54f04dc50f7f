#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a cluster (CI runs it after
# `make install`):
#   1. docker-compose.yml   resolved by Debian's docker-compose (`config`; it cannot run containers),
#      with the example secrets of deploy/compose.env.example
#   2. every Kustomize overlay (deploy/k8s/overlays/*) and GitOps directory (deploy/gitops/*),
#      rendered with `kubectl kustomize`: core kinds against the Kubernetes API schema (strict),
#      Argo CD and Istio kinds against their CRD schemas (npm packages, package.json), Tekton by a
#      structural cross-check (deploy/validate_manifests.py; deploy/schemas/README.md says why)
#   3. deploy/envoy/envoy.yaml against Envoy's v3 API (the protobuf messages of xds-protos, kept in
#      a directory of its own: it ships copies of google.rpc and opentelemetry.proto that would
#      overwrite the project's)
#   4. cross-checks with the server's ports, health service, metric names and settings, and proof
#      that an overlay with a wrong field fails step 2 (pytest)
# `make test` then starts `autoglm serve` with each deployment's exact environment and config file
# (tests/integration/test_deploy_smoke.py).
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
  check "docker-compose.yml (docker-compose config)" \
    docker-compose --env-file deploy/compose.env.example -f docker-compose.yml config -q
else
  echo "FAIL  docker-compose.yml: docker-compose is not installed (apt-get install docker-compose)"
  failed=$((failed + 1))
fi

check "kubernetes-validate installed (dev extras)" "$PY" -c "import kubernetes_validate"
check "kubectl kustomize available" kubectl kustomize deploy/k8s/base
check "CRD schema packages installed (npm ci)" test -d node_modules/@kubernetes-models/istio
echo "rendering and validating the overlays and GitOps directories:"
if "$PY" deploy/validate_manifests.py --k8s-version "$K8S_VERSION" \
  deploy/k8s/overlays/dev deploy/k8s/overlays/prod deploy/k8s/overlays/edge \
  deploy/gitops/argocd deploy/gitops/tekton; then
  echo "ok    overlays and GitOps manifests (Kubernetes $K8S_VERSION schema, CRD schemas, Tekton references)"
else
  echo "FAIL  overlays and GitOps manifests"
  failed=$((failed + 1))
fi
if [ ! -d "$XDS_DIR/envoy" ]; then
  check "$XDS_PROTOS fetched into $XDS_DIR" "$PY" -m pip install --quiet --no-deps --target "$XDS_DIR" "$XDS_PROTOS"
fi
check "deploy/envoy/envoy.yaml (Envoy v3 API schema)" \
  env PYTHONPATH="$XDS_DIR" "$PY" deploy/check_envoy.py deploy/envoy/envoy.yaml
check "collector, Prometheus, Dockerfile, Envoy and overlays agree with the server; wrong fields fail (pytest)" \
  "$PY" -m pytest -q -p no:cacheprovider tests/unit/test_deploy_configs.py tests/unit/test_deploy_validation.py

if [ "$failed" -eq 0 ]; then
  echo "deploy/validate.sh: all deployment files are valid"
else
  echo "deploy/validate.sh: $failed check(s) failed"
  exit 1
fi
