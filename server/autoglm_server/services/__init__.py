"""One module per gRPC service; each RPC method calls one engine method."""
