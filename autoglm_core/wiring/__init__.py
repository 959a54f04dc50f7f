"""How the engine is put together: settings and the dependency-injection container (server and AutoGLM)."""
