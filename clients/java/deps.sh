# Sourced by gen.sh and test.sh: Debian packages for protoc, the grpc-java plugin and the runtime jars.
# Idempotent: apt-get runs only when a package is missing (it needs root, or sudo).
JAVA_DEBIAN_PACKAGES=(
  protobuf-compiler                    # protoc 3.21.12 (bookworm)
  protobuf-compiler-grpc-java-plugin   # grpc_java_plugin 1.41.3
  libprotobuf-java                     # protobuf-java 3.21.12
  libgrpc-java                         # grpc-api/core/netty/protobuf/stub 1.41.3
  libgoogle-common-protos-java         # com.google.rpc.* (BadRequest, RetryInfo, Status)
  libguava-java
  libnetty-java
  libperfmark-java
  libgoogle-gson-java
  liberror-prone-java
  libjsr305-java
  libgeronimo-annotation-1.3-spec-java # javax.annotation.Generated for the grpc stubs
  libopencensus-java
  junit4
)

ensure_java_debian_packages() {
  local missing=() p
  command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
  for p in "${JAVA_DEBIAN_PACKAGES[@]}"; do
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

# Runtime + test classpath, from the Debian jars.
java_classpath() {
  local jars=(
    protobuf grpc-api grpc-context grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub
    proto-google-common-protos guava netty-buffer netty-codec netty-codec-http
    netty-codec-http2 netty-codec-socks netty-common netty-handler netty-handler-proxy
    netty-resolver netty-transport perfmark-api gson error_prone_annotations jsr305
    geronimo-annotation-1.3-spec opencensus-api opencensus-contrib-grpc-metrics junit4 hamcrest-core
  )
  local cp="" j
  for j in "${jars[@]}"; do
    if [ -f "/usr/share/java/$j.jar" ]; then cp="$cp:/usr/share/java/$j.jar"; fi
  done
  echo "${cp#:}"
}
