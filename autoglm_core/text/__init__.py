"""Text handling shared by every backend: streaming detokenization and stop strings."""
