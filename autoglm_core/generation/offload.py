"""CPU-bound request work (chat templates, tokenizing) runs here, never on the event loop.

A template render plus tokenizing of a long prompt takes long enough to stall every other call and
the health checks if it ran on the loop. A small shared pool keeps that work off it; the caller's
context (the current trace span) goes with each job, so spans opened inside still nest.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Two threads: one long tokenize does not hold up every other request's preparation.
_POOL = ThreadPoolExecutor(2, thread_name_prefix="autoglm-prepare")
# Work on at most this many characters of text runs on the loop: rendering and tokenizing it is about
# as cheap as the two thread hand-offs of sending it to the pool (benchmarks: loadgen.py overhead).
SMALL_WORK_CHARS = 512


async def offload(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """fn(*args, **kwargs) on the preparation pool, in the caller's context."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(_POOL, functools.partial(context.run, fn, *args, **kwargs))


async def offload_unless_small(chars: int, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """fn(*args, **kwargs) here when it works on at most SMALL_WORK_CHARS characters of text, else
    on the preparation pool."""
    if chars <= SMALL_WORK_CHARS:
        return fn(*args, **kwargs)
    return await offload(fn, *args, **kwargs)
