"""Run by `make test-client-alone` in the client's own virtual environment: is it the client alone?"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import autoglm.v1
import autoglm_client

# The server, the engine and torch are not installed here.
present = [
    name
    for name in ("torch", "transformers", "autoglm_core", "autoglm_server")
    if importlib.util.find_spec(name)
]
if present:
    sys.exit(f"the client's environment holds {', '.join(present)}")
# The installed distribution is what is tested, not the source tree.
for module in (autoglm_client, autoglm.v1):
    if "site-packages" not in Path(module.__file__ or "").parts:
        sys.exit(f"{module.__name__} comes from {module.__file__}, not from the installed distribution")
print("client alone: torch, transformers, autoglm_core and autoglm_server are absent")
