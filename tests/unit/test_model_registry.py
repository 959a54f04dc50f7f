"""ModelRegistry: semantic versions, splits, rollback history, versions that take no traffic."""

from __future__ import annotations

import pytest

from autoglm_core.backends.mock import MockBackend
from autoglm_core.errors import FailedPrecondition, InvalidArgument, NotReady
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.registry.versions import VersionState, check_semver, semver_key


def _registry(*versions: str) -> ModelRegistry:
    registry = ModelRegistry()
    for version in versions:
        registry.add(MockBackend(name="m", version=version))
    return registry


@pytest.mark.parametrize("good", ["1.0.0", "0.1.2-rc.1", "10.20.30+build.5", "1.0.0-alpha-beta"])
def test_semantic_versions_are_accepted(good: str) -> None:
    assert check_semver(good) == good


@pytest.mark.parametrize("bad", ["1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", ""])
def test_other_versions_are_refused(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        check_semver(bad)
    with pytest.raises(InvalidArgument):
        _registry(bad)


def test_pre_releases_sort_before_their_release() -> None:
    assert sorted(["1.0.0", "1.0.0-rc.1", "0.9.9", "1.10.0"], key=semver_key) == [
        "0.9.9",
        "1.0.0-rc.1",
        "1.0.0",
        "1.10.0",
    ]


def test_rollback_restores_earlier_splits_in_order() -> None:
    registry = _registry("1.0.0", "1.1.0")
    registry.set_weights("m", {"1.0.0": 95, "1.1.0": 5})
    registry.set_weights("m", {"1.0.0": 80, "1.1.0": 20})
    registry.promote("m", "1.1.0")
    assert registry.rollback("m").weights == {"1.0.0": 80, "1.1.0": 20}
    assert registry.rollback("m").weights == {"1.0.0": 95, "1.1.0": 5}
    assert registry.rollback("m").weights == {"1.0.0": 100, "1.1.0": 0}
    with pytest.raises(FailedPrecondition):
        registry.rollback("m")


def test_taking_traffic_from_a_canary_gives_it_to_the_primary() -> None:
    registry = _registry("1.0.0", "1.1.0", "2.0.0-rc.1")
    registry.set_weights("m", {"1.0.0": 70, "1.1.0": 25, "2.0.0-rc.1": 5})
    assert registry.take_traffic_from("m", "2.0.0-rc.1").weights == {
        "1.0.0": 75,
        "1.1.0": 25,
        "2.0.0-rc.1": 0,
    }


def test_versions_not_ready_take_no_new_calls() -> None:
    registry = _registry("1.0.0", "1.1.0")
    registry.set_weights("m", {"1.0.0": 50, "1.1.0": 50}, sticky=False)
    registry.set_state("m", "1.1.0", VersionState.LOADING)
    assert {registry.resolve("m").info.version for _ in range(50)} == {"1.0.0"}
    with pytest.raises(NotReady):
        registry.resolve("m@1.1.0")
    registry.set_state("m", "1.0.0", VersionState.FAILED)
    with pytest.raises(NotReady):
        registry.resolve("m")
