"""Native code for the CPU runners: C kernels for block-quantized linear layers and decode attention,
their build helper, and the linear-layer choice (linear_kernels.py)."""
