module github.com/open-autoglm/open-autoglm/clients/go

go 1.19

// The versions Debian bookworm ships, which ./test.sh builds against offline (GOPATH mode).
// Elsewhere: `go mod tidy` once to add google.golang.org/genproto and fill in go.sum.
require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
