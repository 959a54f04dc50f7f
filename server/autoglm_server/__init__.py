"""The gRPC protocol layer of Open-AutoGLM: servicers, wiring and the `autoglm` command."""
