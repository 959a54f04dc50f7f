"""Generated protobuf and gRPC stubs of the autoglm.v1 contracts (see protos/)."""
