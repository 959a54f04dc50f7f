"""The paged runner: KV cache in fixed-size blocks shared by all sequences, batched attention over
block tables, decode steps replayed as CUDA graphs on a GPU, prefix blocks reused across requests."""
