"""The registry's shared desired state: two "replicas" (two managers) converge through one database
(a SQLite file here; the same tables on PostgreSQL in tests/integration/test_replicas.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from autoglm_core.backends.base import Backend
from autoglm_core.backends.mock import MockBackend
from autoglm_core.errors import InvalidArgument, NotReady
from autoglm_core.health.monitor import GenerationMonitor
from autoglm_core.registry.control import ModelControl
from autoglm_core.registry.desired import DesiredState
from autoglm_core.registry.manager import BackendSpec, ModelManager
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.registry.sync import LOADING, RegistrySync
from autoglm_core.storage.database import Database
from tests.unit.db_support import DATABASES, fresh_database

BOOT = BackendSpec(source="mock", name="m", version="1.0.0", backend="mock")


def _mock_factory(spec: BackendSpec) -> Backend:
    if spec.backend != "mock":
        raise InvalidArgument.one("backend", f"unknown backend {spec.backend!r}")
    return MockBackend(name=spec.name, version=spec.version)


async def _replica(database: Database) -> ModelControl:
    manager = ModelManager(ModelRegistry(), GenerationMonitor(), _mock_factory, drain_timeout_s=1)
    boot = _mock_factory(BOOT)
    await boot.load()
    manager.add(boot, BOOT)
    sync = RegistrySync(manager, DesiredState(database), interval_s=3600)  # rounds run by hand here
    await sync.start(BOOT)
    return ModelControl(manager, sync)


@pytest.fixture(params=DATABASES)
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    db = fresh_database(tmp_path, request.param)
    yield db
    db.close()


@pytest.fixture
async def pair(database: Database) -> AsyncIterator[tuple[ModelControl, ModelControl]]:
    a, b = await _replica(database), await _replica(database)
    yield a, b
    for replica in (a, b):
        assert replica.sync is not None
        await replica.sync.stop()
        await replica.manager.close_all()


async def _converge(replica: ModelControl, done: Callable[[], bool]) -> None:
    """Sync rounds until done() (loads and unloads run in the background)."""
    assert replica.sync is not None
    for _ in range(200):
        await replica.sync.converge()
        if done():
            return
        await asyncio.sleep(0.01)
    pytest.fail("did not converge")


async def test_a_version_loaded_and_a_split_set_on_one_replica_reach_the_other(
    pair: tuple[ModelControl, ModelControl],
) -> None:
    a, b = pair
    await a.load(BackendSpec(source="mock", name="m", version="2.0.0", backend="mock"), {"score": 0.5})
    await _converge(b, lambda: "2.0.0" in b.registry.entry("m").versions)
    await a.set_split("m", {"1.0.0": 40, "2.0.0": 60}, sticky=True)
    await _converge(b, lambda: b.registry.entry("m").weights == {"1.0.0": 40, "2.0.0": 60})
    # The history is shared: the other replica rolls back to the split before.
    await b.rollback("m")
    await _converge(a, lambda: a.registry.entry("m").weights == {"1.0.0": 100, "2.0.0": 0})
    # Unloading through one replica unloads it everywhere.
    await b.unload("m", "2.0.0", timeout_s=1)
    await _converge(a, lambda: "2.0.0" not in a.registry.entry("m").versions)


async def test_a_version_a_replica_cannot_load_is_reported_and_never_replaced(
    pair: tuple[ModelControl, ModelControl],
) -> None:
    a = pair[0]
    assert a.sync is not None
    # Desired (say, by a replica with another backend), but not buildable here.
    await a.sync.desired.add_version(
        BackendSpec(source="x", name="m", version="3.0.0", backend="gpu-only"), {}
    )
    await _converge(a, lambda: a.registry.entry("m").unavailable.get("3.0.0", LOADING) != LOADING)
    assert "gpu-only" in a.registry.entry("m").unavailable["3.0.0"]
    split = await a.sync.desired.split("m")
    assert split is not None
    await a.sync.desired.put_split("m", {"1.0.0": 50, "3.0.0": 50}, False, [], split.revision)
    await _converge(a, lambda: a.registry.entry("m").weights.get("3.0.0") == 50)
    served, refused = set(), 0
    for key in range(40):
        try:
            served.add(a.registry.resolve("m", routing_key=str(key)).info.version)
        except NotReady as error:
            assert "3.0.0" in str(error)
            refused += 1
    assert served == {"1.0.0"} and refused > 0  # its share refused, not moved to 1.0.0


async def test_a_replica_started_later_has_the_desired_versions_before_it_serves(
    pair: tuple[ModelControl, ModelControl], database: Database
) -> None:
    a = pair[0]
    await a.load(BackendSpec(source="mock", name="m", version="2.0.0", backend="mock"), {})
    await a.set_split("m", {"1.0.0": 10, "2.0.0": 90}, sticky=False)
    late = await _replica(database)
    try:
        entry = late.registry.entry("m")
        assert set(entry.versions) == {"1.0.0", "2.0.0"} and not entry.unavailable
        assert entry.weights == {"1.0.0": 10, "2.0.0": 90}
    finally:
        assert late.sync is not None
        await late.sync.stop()
        await late.manager.close_all()
