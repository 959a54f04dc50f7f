"""Tracing (OpenTelemetry), metrics (Prometheus) and structured logs of the server."""
