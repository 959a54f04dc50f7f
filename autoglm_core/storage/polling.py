"""Keeps a replica converged on the shared database: `converge` again every interval, for ever."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def poll(converge: Callable[[], Awaitable[None]], interval_s: float, what: str) -> None:
    """Runs as a task until cancelled; a failed round is logged and tried again next interval."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await converge()
        except Exception:  # the database may be down for a while: keep serving, try again
            log.warning("%s sync failed; retrying", what, exc_info=True)
