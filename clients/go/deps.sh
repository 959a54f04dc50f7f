# Sourced by gen.sh and test.sh: Go and the Go gRPC/protobuf libraries and plugins from Debian
# bookworm (Go 1.19, grpc-go 1.33.3, protobuf-go 1.28.1). Idempotent; apt-get needs root (or sudo).
GO_DEBIAN_PACKAGES=(
  golang-go
  golang-google-grpc-dev
  golang-google-protobuf-dev
  golang-google-genproto-dev
  protoc-gen-go
  protoc-gen-go-grpc
  golang-github-golang-protobuf-1-5-dev # APIv2-backed github.com/golang/protobuf (replaces 1-3)
)

ensure_go_debian_packages() {
  local missing=() p
  for p in "${GO_DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  local log
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l \
      $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "apt-get install ${missing[*]} failed" >&2
    return 1
  fi
  rm -f "$log"
}
