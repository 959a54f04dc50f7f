"""The `autoglm` command line: chat, generation and every management task, over autoglm_client."""

from autoglm_client.cli.main import main

__all__ = ["main"]
