"""HTTP tools registered through one replica are known to all: their specs live in the shared
database and every replica polls it, as the model registry's desired state does (registry/sync.py).
Python tools are the server's own code, the same on every replica, and stay out of it.
"""

from __future__ import annotations

import asyncio
import json
import logging

from sqlalchemy import String, Text, delete, exc, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.errors import AlreadyExists, EngineError, FailedPrecondition, InvalidArgument, NotFound
from autoglm_core.storage.database import Base, Database
from autoglm_core.storage.polling import poll
from autoglm_core.tools.registry import HttpSpec, ToolRegistry, ToolSpec

log = logging.getLogger(__name__)


class HttpToolRow(Base):
    __tablename__ = "http_tools"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[str] = mapped_column(Text)


def _encode(spec: ToolSpec) -> str:
    assert spec.http is not None
    return json.dumps(
        {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters,
            "method": spec.http.method,
            "url_template": spec.http.url_template,
            "secret_headers": dict(spec.http.secret_headers),
            "timeout_s": spec.http.timeout_s,
        }
    )


def _decode(text: str) -> ToolSpec:
    fields = json.loads(text)
    http = HttpSpec(fields["method"], fields["url_template"], fields["secret_headers"], fields["timeout_s"])
    return ToolSpec(fields["name"], fields["description"], fields["parameters"], "http", http=http)


class SharedTools:
    """Registers and deletes HTTP tools through the database; keeps this replica's registry on it."""

    def __init__(self, database: Database, registry: ToolRegistry, interval_s: float) -> None:
        self._db = database
        self.registry = registry
        self.interval_s = interval_s
        self._loop: asyncio.Task[None] | None = None

    async def register(self, spec: ToolSpec) -> ToolSpec:
        violations = self.registry.http_violations(spec)
        if violations:
            raise InvalidArgument(violations)
        if spec.name in {s.name for s in self.registry.specs() if s.kind == "python"}:
            raise AlreadyExists(f"a tool named {spec.name!r} exists; delete it first")

        def work(session: Session) -> None:
            session.add(HttpToolRow(name=spec.name, spec=_encode(spec)))

        try:
            await self._db.write(work)
        except exc.IntegrityError:
            raise AlreadyExists(f"a tool named {spec.name!r} exists; delete it first") from None
        await self.converge()
        return self.registry.get(spec.name)

    async def delete(self, name: str) -> None:
        def work(session: Session) -> int:
            return session.execute(delete(HttpToolRow).where(HttpToolRow.name == name)).rowcount  # type: ignore[attr-defined,no-any-return]

        local = next((s for s in self.registry.specs() if s.name == name), None)
        if local is not None and local.kind == "python":
            raise FailedPrecondition(f"tool {name!r} is a Python tool of the server; it cannot be deleted")
        if not await self._db.write(work):
            raise NotFound("tool", name)
        await self.converge()

    async def start(self) -> None:
        await self.converge()
        self._loop = asyncio.create_task(
            poll(self.converge, self.interval_s, "tool"), name="autoglm-tool-sync"
        )

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)

    async def converge(self) -> None:
        """Adds, replaces and removes this replica's HTTP tools to match the database."""
        rows = await self._db.read(lambda s: {r.name: r.spec for r in s.scalars(select(HttpToolRow))})
        shared = {name: _decode(text) for name, text in rows.items()}
        here = {s.name: s for s in self.registry.specs() if s.kind == "http"}
        for name in sorted(set(here) - set(shared)):
            self.registry.delete(name)
        for name, spec in sorted(shared.items()):
            if here.get(name) == spec:
                continue
            if name in here:
                self.registry.delete(name)
            try:
                self.registry.register_http(spec)
            except EngineError as error:  # e.g. a secret this replica was not given
                log.error("cannot register shared tool %s here: %s", name, error)
