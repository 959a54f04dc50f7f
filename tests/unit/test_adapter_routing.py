"""The registry's adapter routing: `name@version:adapter` references, the request's adapter field,
`version:adapter` traffic targets, and NOT_FOUND (never the base model) for an adapter a version lacks."""

from __future__ import annotations

import pytest

from autoglm_core.backends.mock import MockBackend
from autoglm_core.errors import InvalidArgument, NotFound
from autoglm_core.registry.models import ModelRegistry


class _Adapters:
    """The part of an AdapterStore the registry asks: is this adapter registered?"""

    def __init__(self, *names: str) -> None:
        self.names = set(names)

    def record(self, name: str) -> str:
        if name not in self.names:
            raise NotFound("adapter", name)
        return name


def _registry(adapters: tuple[str, ...] = ("a",)) -> tuple[ModelRegistry, MockBackend, MockBackend]:
    registry = ModelRegistry()
    v1, v2 = MockBackend(name="m", version="1.0.0"), MockBackend(name="m", version="1.1.0")
    v1.adapters = _Adapters(*adapters)  # type: ignore[attr-defined]
    registry.add(v1, aliases=("alias",))
    registry.add(v2)
    return registry, v1, v2


def test_references_and_field_name_the_adapter() -> None:
    registry, v1, _ = _registry()
    assert registry.resolve_target("m") == (v1, "")
    assert registry.resolve_target("m:a") == (v1, "a")
    assert registry.resolve_target("alias@1.0.0:a") == (v1, "a")
    assert registry.resolve_target("m", adapter="a") == (v1, "a")
    assert registry.resolve_target("m:a", adapter="a") == (v1, "a")
    with pytest.raises(InvalidArgument):
        registry.resolve_target("m:a", adapter="b")


def test_an_adapter_the_version_lacks_is_not_found() -> None:
    registry, _, _ = _registry()
    with pytest.raises(NotFound) as missing:
        registry.resolve_target("m", adapter="b")
    assert missing.value.kind == "adapter"
    # A version whose backend serves no adapters: NOT_FOUND too, never its base model.
    with pytest.raises(NotFound) as unsupported:
        registry.resolve_target("m@1.1.0:a")
    assert unsupported.value.name == "m@1.1.0:a"


def test_traffic_split_routes_to_version_plus_adapter() -> None:
    registry, v1, _ = _registry()
    registry.set_weights("m", {"1.0.0:a": 100})
    assert [registry.resolve_target("m", routing_key=f"user{i}") for i in range(5)] == [(v1, "a")] * 5
    # The request's own adapter wins over the split's.
    v1.adapters.names.add("b")  # type: ignore[attr-defined]
    assert registry.resolve_target("m", adapter="b") == (v1, "b")
    registry.set_weights("m", {"1.0.0": 95, "1.0.0:a": 5})
    picked = {registry.resolve_target("m", routing_key=f"user{i}")[1] for i in range(400)}
    assert picked == {"", "a"}
    with pytest.raises(NotFound):
        registry.set_weights("m", {"1.0.0": 95, "1.0.0:zzz": 5})
    with pytest.raises(InvalidArgument):
        registry.set_weights("m", {"1.0.0": 95, "9.9.9:a": 5})
    # Rollback restores a split with an adapter target.
    registry.set_weights("m", {"1.1.0": 100})
    registry.rollback("m")
    assert registry.entry("m").weights["1.0.0:a"] == 5
