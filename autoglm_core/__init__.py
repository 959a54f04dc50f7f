"""The Open-AutoGLM engine as a library. Nothing in this package imports gRPC."""
