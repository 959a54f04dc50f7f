"""Open-AutoGLM in-process: the same engine the gRPC server runs, without a server.

from openautoglm import AutoGLM
model = AutoGLM(model_path="openautoglm-base-v1", enable_thinking=True)
print(model.generate("What is the capital of France?"))
"""

from autoglm_core.generation.types import GenerationResult
from openautoglm.autoglm import AutoGLM

__all__ = ["AutoGLM", "GenerationResult"]
