"""Three real `autoglm serve` replicas (mock backend) sharing one real PostgreSQL, and a client that
round-robins over them: users, keys, the traffic split, failed loads, HTTP tools, rate limits, and
a replica killed with SIGKILL in the middle of a load.

Needs AUTOGLM_TEST_DATABASE_URL (PostgreSQL); `.ci/run` starts one (scripts/test_postgres.sh).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from autoglm.v1 import model_pb2
from autoglm_client import AsyncAutoGLMClient, AutoGLMClient, errors, http_tool
from benchmarks.server_process import ServerProcess
from tests.unit.db_support import empty_postgres, postgres_url

ADMIN_KEY = "replica-test-admin-key-0123456789"
REPLICAS = 3
# How long the tests wait for replicas to converge (they poll the database every second).
CONVERGE_S = 30.0


@contextlib.contextmanager
def replicas(data_dir: Path, url: str, *flags: str) -> Iterator[list[ServerProcess]]:
    """Three replicas started at once (they race to create the schema, as a Deployment's pods do)."""
    servers = [
        ServerProcess(
            [
                "--backend", "mock", "--database-url", url, "--auth-enabled", "true",
                "--admin-key", ADMIN_KEY, "--metrics-port", "0", "--tool-router", "lexical",
                "--data-dir", str(data_dir / f"replica-{i}"), *flags,
            ],
            startup_timeout_s=180,
        )
        for i in range(REPLICAS)
    ]  # fmt: skip
    try:
        with ThreadPoolExecutor(REPLICAS) as pool:
            list(pool.map(lambda server: server.__enter__(), servers))
        yield servers
    finally:
        for server in servers:
            server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    url = postgres_url()
    empty_postgres(url)
    with replicas(tmp_path_factory.mktemp("replicas"), url) as servers:
        yield servers


def admin(server: ServerProcess) -> AutoGLMClient:
    return AutoGLMClient(server.target, api_key=ADMIN_KEY, timeout=30)


def wait_until(check: Callable[[], bool], what: str) -> float:
    """Seconds until check() held (polled); fails after CONVERGE_S."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > CONVERGE_S:
            pytest.fail(f"replicas did not converge: {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def weights(client: AutoGLMClient, name: str = "mock") -> dict[str, int]:
    return {v.version: v.traffic_weight for v in client.get_model(name).versions}


def test_a_user_created_on_one_replica_is_read_on_the_others(cluster: list[ServerProcess]) -> None:
    clients = [admin(s) for s in cluster]
    user = clients[0].create_user("Ada", age=36)
    assert [c.get_user(user.user_id) for c in clients[1:]] == [user, user]
    clients[2].update_user(user.user_id, age=37)
    assert clients[0].get_user(user.user_id).age == 37


def test_a_key_revoked_on_one_replica_is_refused_by_all_at_once(cluster: list[ServerProcess]) -> None:
    clients = [admin(s) for s in cluster]
    owner = clients[0].create_user("Grace", age=45)
    created = clients[1].create_api_key(owner.user_id)
    as_owner = [AutoGLMClient(s.target, api_key=created.secret, timeout=30) for s in cluster]
    assert [c.get_user(owner.user_id).name for c in as_owner] == ["Grace"] * REPLICAS
    clients[2].revoke_api_key(created.key.key_id)
    for client in as_owner:  # no replica caches the key: the very next call is refused
        with pytest.raises(errors.Unauthenticated):
            client.get_user(owner.user_id)


def test_a_split_set_on_one_replica_holds_on_all(cluster: list[ServerProcess]) -> None:
    clients = [admin(s) for s in cluster]
    clients[0].load_model("mock", "2.0.0", source="mock", backend="mock")

    def all_loaded() -> bool:
        return all(
            any(
                v.version == "2.0.0" and v.state == model_pb2.MODEL_STATE_READY
                for v in c.get_model("mock").versions
            )
            for c in clients
        )

    wait_until(all_loaded, "2.0.0 loaded everywhere")
    clients[1].set_traffic_split("mock", {"1.0.0": 30, "2.0.0": 70})
    took = wait_until(
        lambda: all(weights(c) == {"1.0.0": 30, "2.0.0": 70} for c in clients), "the split everywhere"
    )
    print(f"split converged on {REPLICAS} replicas in {took:.2f}s")
    served = {clients[i % REPLICAS].generate(f"hello {i}", max_new_tokens=2).model.version for i in range(30)}
    assert served == {"1.0.0", "2.0.0"}
    # The history is shared too: a rollback through a third replica restores the split before.
    clients[2].rollback_traffic_split("mock")
    wait_until(lambda: all(weights(c) == {"1.0.0": 100, "2.0.0": 0} for c in clients), "the rollback")


def _desired_state(sql: str, **params: object) -> None:
    engine = create_engine(postgres_url())
    with engine.begin() as connection:
        connection.execute(text(sql), params)
    engine.dispose()


def test_a_version_a_replica_cannot_load_is_reported_not_replaced(cluster: list[ServerProcess]) -> None:
    clients = [admin(s) for s in cluster]
    # What another replica's LoadModel could leave: a desired version these replicas cannot build.
    _desired_state(
        "INSERT INTO desired_model_versions (name, version, source, backend, metrics) "
        "VALUES ('mock', '9.0.0', 'nowhere', 'no-such-backend', '{}')"
    )

    def failed_everywhere() -> bool:
        states = [{v.version: v for v in c.get_model("mock").versions}.get("9.0.0") for c in clients]
        return all(s is not None and s.state == model_pb2.MODEL_STATE_FAILED for s in states)

    wait_until(failed_everywhere, "9.0.0 reported as failed")
    reported = {v.version: v for v in clients[0].get_model("mock").versions}["9.0.0"]
    assert "no-such-backend" in reported.status_message
    # The split gives it all traffic: calls are refused as retryable, never served by 1.0.0.
    _desired_state(
        "UPDATE model_splits SET weights = :weights, revision = revision + 1 WHERE name = 'mock'",
        weights=json.dumps({"1.0.0": 0, "2.0.0": 0, "9.0.0": 100}),
    )
    wait_until(lambda: all(weights(c).get("9.0.0") == 100 for c in clients), "the split to 9.0.0")
    for client in clients:
        with pytest.raises(errors.Unavailable, match=r"9\.0\.0"):
            client.generate("hello", max_new_tokens=2)
    _desired_state("DELETE FROM desired_model_versions WHERE version = '9.0.0'")
    _desired_state(
        "UPDATE model_splits SET weights = :weights, revision = revision + 1 WHERE name = 'mock'",
        weights=json.dumps({"1.0.0": 100, "2.0.0": 0}),
    )
    wait_until(lambda: all("9.0.0" not in weights(c) for c in clients), "9.0.0 forgotten")
    assert clients[1].generate("hello", max_new_tokens=2).model.version == "1.0.0"


def test_an_http_tool_registered_on_one_replica_is_known_to_all(cluster: list[ServerProcess]) -> None:
    clients = [admin(s) for s in cluster]
    weather = http_tool(
        "weather",
        "Weather of a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "https://weather.example/v1/{city}",
    )
    clients[0].register_tool(weather)

    def names(client: AutoGLMClient) -> set[str]:
        return {t.name for t in client.list_tools()}

    wait_until(lambda: all("weather" in names(c) for c in clients), "the tool everywhere")
    assert clients[2].get_tool("weather").http.url_template == "https://weather.example/v1/{city}"
    with pytest.raises(errors.AlreadyExists):  # the name is taken on every replica
        clients[1].register_tool(weather)
    clients[2].delete_tool("weather")
    wait_until(lambda: all("weather" not in names(c) for c in clients), "the tool gone everywhere")


async def test_a_replica_killed_mid_load_loses_no_acknowledged_write(cluster: list[ServerProcess]) -> None:
    """Runs last: it kills the third replica."""
    acknowledged: dict[int, str] = {}
    pending = list(range(60))
    async with AsyncAutoGLMClient([s.target for s in cluster], api_key=ADMIN_KEY, timeout=60) as client:

        async def worker() -> None:
            while pending:
                i = pending.pop(0)
                # The same request id on every retry (the gRPC retry policy resends the message).
                user = await client.create_user(f"kill-{i}", age=i % 100, request_id=f"kill-{i}")
                acknowledged[i] = user.user_id
                if len(acknowledged) == 20:
                    cluster[2].process.kill()  # type: ignore[union-attr]  # SIGKILL mid-load

        await asyncio.gather(*(worker() for _ in range(8)))
    assert cluster[2].process.wait(timeout=10) == -9  # type: ignore[union-attr]
    # Every call was acknowledged: those that met the dead replica were retried on the others.
    assert sorted(acknowledged) == list(range(60))
    survivor = admin(cluster[0])
    names = [u.name for u in survivor.iter_users() if u.name.startswith("kill-")]
    assert sorted(names) == sorted(f"kill-{i}" for i in range(60))  # each exactly once
    assert all(survivor.get_user(user_id).name == f"kill-{i}" for i, user_id in acknowledged.items())


@pytest.fixture(scope="module")
def limited_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    url = postgres_url()
    empty_postgres(url)
    with replicas(tmp_path_factory.mktemp("limited"), url, "--rate-limit-per-minute", "10") as servers:
        yield servers


def test_a_rate_limit_of_n_a_minute_admits_n_in_total_not_per_replica(
    limited_cluster: list[ServerProcess],
) -> None:
    boss = admin(limited_cluster[0])
    user = boss.create_user("Lin", age=30)
    secret = boss.create_api_key(user.user_id).secret
    as_user = [AutoGLMClient(s.target, api_key=secret, timeout=30) for s in limited_cluster]
    admitted = refused = 0
    started = time.monotonic()
    for i in range(30):  # 10 a replica: each would admit all of its own with per-process buckets
        try:
            as_user[i % REPLICAS].get_user(user.user_id)
            admitted += 1
        except errors.ResourceExhausted as error:
            assert error.retry_delay_s is not None and error.retry_delay_s > 0
            refused += 1
    # The bucket refills one call every 6 s: a slow machine may earn a few more while this runs.
    refilled = int((time.monotonic() - started) / 6)
    assert 10 <= admitted <= 10 + refilled and admitted + refused == 30
