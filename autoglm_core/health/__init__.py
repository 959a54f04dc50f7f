"""Keeping the engine healthy: request monitoring, stall and failure detection, self-healing."""
