"""Model runners: what computes a planned step (see runtime/runner.py)."""
