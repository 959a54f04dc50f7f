"""UserStore on a real SQLite file: CRUD, validation, paging, API keys, bootstrap, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from autoglm_core.errors import InvalidArgument, NotFound
from autoglm_core.storage.database import Database
from autoglm_core.users.store import ApiKeyRow, UserStore, hash_secret
from tests.unit.db_support import DATABASES, fresh_database


@pytest.fixture(params=DATABASES)
async def users(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[UserStore]:
    database = fresh_database(tmp_path, request.param)
    yield UserStore(database)
    database.close()


async def test_create_get_update_delete(users: UserStore) -> None:
    created = await users.create("  Ada ", 36)
    assert created.name == "Ada" and created.age == 36 and not created.admin
    assert created.user_id.startswith("u_") and created.create_time > 0
    assert await users.get(created.user_id) == created
    updated = await users.update(created.user_id, age=37)
    assert (updated.name, updated.age) == ("Ada", 37)
    renamed = await users.update(created.user_id, name="Ada L.")
    assert (renamed.name, renamed.age) == ("Ada L.", 37)
    await users.delete(created.user_id)
    with pytest.raises(NotFound):
        await users.get(created.user_id)
    with pytest.raises(NotFound):
        await users.delete(created.user_id)


async def test_validation_reports_every_bad_field(users: UserStore) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await users.create(" ", 151)
    assert {v.field for v in caught.value.violations} == {"name", "age"}
    with pytest.raises(InvalidArgument) as caught:
        await users.create("x" * 201, 1)
    assert [v.field for v in caught.value.violations] == ["name"]
    with pytest.raises(InvalidArgument):
        await users.get("")
    user = await users.create("Bob", 150)
    with pytest.raises(InvalidArgument):
        await users.update(user.user_id, name="")


async def test_pagination_walks_every_user_once(users: UserStore) -> None:
    made = [(await users.create(f"user {i}", i)).user_id for i in range(7)]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page, token = await users.list_page(3, token)
        seen.extend(u.user_id for u in page)
        pages += 1
        if not token:
            break
    assert seen == made and pages == 3
    with pytest.raises(InvalidArgument) as caught:
        await users.list_page(0, "not-a-token")
    assert caught.value.violations[0].field == "page.page_token"
    with pytest.raises(InvalidArgument):
        await users.list_page(1001)
    everyone, token = await users.list_page()
    assert len(everyone) == 7 and token == ""


async def test_api_keys_authenticate_until_revoked(users: UserStore) -> None:
    user = await users.create("Carol", 30)
    key, secret = await users.create_key(user.user_id, "laptop")
    assert secret.startswith("agk_") and len(secret) > 40
    assert (await users.authenticate(secret)) == user
    assert await users.authenticate(secret + "x") is None
    assert await users.authenticate("") is None
    (listed,) = await users.list_keys(user.user_id)
    assert listed == key and listed.label == "laptop" and not listed.revoked
    await users.revoke_key(key.key_id)
    await users.revoke_key(key.key_id)  # idempotent
    assert await users.authenticate(secret) is None
    assert (await users.list_keys(user.user_id))[0].revoked
    with pytest.raises(NotFound):
        await users.revoke_key("k_missing")
    with pytest.raises(NotFound):
        await users.create_key("u_missing")


async def test_only_the_hash_of_a_secret_is_stored(users: UserStore) -> None:
    user = await users.create("Dan", 1)
    _, secret = await users.create_key(user.user_id)
    database: Database = users._db
    rows = await database.read(lambda s: [tuple(r) for r in s.execute(select(ApiKeyRow.__table__)).all()])
    values = [str(v) for row in rows for v in row]
    assert not any(secret in v for v in values)
    assert hash_secret(secret) in values


async def test_deleting_a_user_deletes_its_keys(users: UserStore) -> None:
    user = await users.create("Eve", 20)
    _, secret = await users.create_key(user.user_id)
    await users.delete(user.user_id)
    assert await users.authenticate(secret) is None


async def test_admin_bootstrap_is_idempotent(users: UserStore) -> None:
    await users.ensure_admin_key("boot-secret")
    await users.ensure_admin_key("boot-secret")
    admin = await users.authenticate("boot-secret")
    assert admin is not None and admin.admin
    everyone, _ = await users.list_page()
    assert [u.user_id for u in everyone] == [admin.user_id]


async def test_concurrent_writers_do_not_lose_or_corrupt_rows(users: UserStore) -> None:
    created = await asyncio.gather(*(users.create(f"c{i}", i) for i in range(40)))
    keys = await asyncio.gather(*(users.create_key(u.user_id) for u in created))
    everyone, _ = await users.list_page(1000)
    assert sorted(u.user_id for u in everyone) == sorted(u.user_id for u in created)
    owners = await asyncio.gather(*(users.authenticate(secret) for _, secret in keys))
    assert [o.user_id if o else None for o in owners] == [u.user_id for u in created]


async def test_a_retried_create_with_its_request_id_creates_once(users: UserStore) -> None:
    first, again = await asyncio.gather(
        users.create("Ada", 36, request_id="req-1"), users.create("Ada", 36, request_id="req-1")
    )
    assert first == again
    page, _ = await users.list_page()
    assert [u.user_id for u in page] == [first.user_id]
    # Without an id (or with another) every call creates.
    assert (await users.create("Ada", 36)).user_id != first.user_id
    assert (await users.create("Ada", 36, request_id="req-2")).user_id != first.user_id


async def test_a_retried_key_creation_returns_the_same_secret(users: UserStore) -> None:
    owner = await users.create("Ada", 36)
    key, secret = await users.create_key(owner.user_id, "ci", request_id="key-1")
    assert await users.create_key(owner.user_id, "ci", request_id="key-1") == (key, secret)
    assert [k.key_id for k in await users.list_keys(owner.user_id)] == [key.key_id]
    assert await users.authenticate(secret) == owner


async def test_a_request_id_reused_for_other_arguments_is_refused(users: UserStore) -> None:
    await users.create("Ada", 36, request_id="req-1")
    with pytest.raises(InvalidArgument) as refused:
        await users.create("Grace", 45, request_id="req-1")
    assert refused.value.violations[0].field == "request_id"
    with pytest.raises(InvalidArgument):
        await users.create("Ada", 36, request_id="x" * 129)
