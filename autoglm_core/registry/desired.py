"""The registry's desired state in the shared database: which versions every replica should load,
and each model's traffic split with its history (what rollback restores).

Each split carries a revision, bumped by every change. A change is a compare-and-set on it: two
admins changing one model's split through two replicas at once cannot silently overwrite each
other; the later one re-reads and applies its change on top.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field

from sqlalchemy import Boolean, Integer, String, Text, delete, exc, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.errors import NotReady
from autoglm_core.registry.manager import BackendSpec
from autoglm_core.storage.database import Base, Database


class DesiredVersionRow(Base):
    __tablename__ = "desired_model_versions"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[str] = mapped_column(String(100), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(50))
    metrics: Mapped[str] = mapped_column(Text)


class ModelSplitRow(Base):
    __tablename__ = "model_splits"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    weights: Mapped[str] = mapped_column(Text)
    sticky: Mapped[bool] = mapped_column(Boolean)
    history: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class DesiredVersion:
    spec: BackendSpec
    metrics: dict[str, float]


@dataclass(frozen=True)
class Split:
    weights: dict[str, int]
    sticky: bool
    history: list[dict[str, int]]
    revision: int


@dataclass(frozen=True)
class Snapshot:
    versions: dict[tuple[str, str], DesiredVersion] = field(default_factory=dict)
    splits: dict[str, Split] = field(default_factory=dict)


class SplitConflict(NotReady):
    """The split changed since it was read (another replica wrote it); retryable."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the traffic split of {name!r} was changed by another replica meanwhile; retry")


def _split(row: ModelSplitRow) -> Split:
    return Split(json.loads(row.weights), row.sticky, json.loads(row.history), row.revision)


def _version(row: DesiredVersionRow) -> DesiredVersion:
    spec = BackendSpec(source=row.source, name=row.name, version=row.version, backend=row.backend)
    return DesiredVersion(spec, json.loads(row.metrics))


class DesiredState:
    """Reads and writes the desired state; every method is one short transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def snapshot(self) -> Snapshot:
        def work(session: Session) -> Snapshot:
            versions = {(r.name, r.version): _version(r) for r in session.scalars(select(DesiredVersionRow))}
            splits = {r.name: _split(r) for r in session.scalars(select(ModelSplitRow))}
            return Snapshot(versions, splits)

        return await self._db.read(work)

    async def split(self, name: str) -> Split | None:
        def work(session: Session) -> Split | None:
            row = session.get(ModelSplitRow, name)
            return _split(row) if row is not None else None

        return await self._db.read(work)

    async def put_split(
        self, name: str, weights: dict[str, int], sticky: bool, history: list[dict[str, int]], revision: int
    ) -> int:
        """Writes the split read at `revision` (0: none yet); returns the new revision, or raises
        SplitConflict when another replica changed it in between."""

        def work(session: Session) -> int:
            values = {"weights": json.dumps(weights), "sticky": sticky, "history": json.dumps(history)}
            if revision == 0:
                session.add(ModelSplitRow(name=name, revision=1, **values))
                session.flush()
                return 1
            statement = (
                update(ModelSplitRow)
                .where(ModelSplitRow.name == name, ModelSplitRow.revision == revision)
                .values(revision=revision + 1, **values)
            )
            if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
                raise SplitConflict(name)
            return revision + 1

        try:
            return await self._db.write(work)
        except exc.IntegrityError:  # another replica created the first split of this model
            raise SplitConflict(name) from None

    async def add_version(self, spec: BackendSpec, metrics: dict[str, float]) -> None:
        """Every replica should load this version (no-op when it is desired already)."""

        def work(session: Session) -> None:
            if session.get(DesiredVersionRow, (spec.name, spec.version)) is None:
                session.add(
                    DesiredVersionRow(
                        name=spec.name,
                        version=spec.version,
                        source=spec.source,
                        backend=spec.backend,
                        metrics=json.dumps(metrics),
                    )
                )

        with contextlib.suppress(exc.IntegrityError):  # another replica added it at the same moment
            await self._db.write(work)

    async def remove_version(self, name: str, version: str) -> None:
        def work(session: Session) -> None:
            session.execute(
                delete(DesiredVersionRow).where(
                    DesiredVersionRow.name == name, DesiredVersionRow.version == version
                )
            )

        await self._db.write(work)
