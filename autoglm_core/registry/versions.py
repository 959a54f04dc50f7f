"""What the registry knows about each loaded version besides its backend: id, state, metrics."""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field

from autoglm_core.errors import InvalidArgument

# semver.org 2.0.0's recommended expression (major.minor.patch[-pre][+build]).
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class VersionState(enum.Enum):
    """Lifecycle of one version (mirrors autoglm.v1.ModelState)."""

    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    DRAINING = "draining"


def check_semver(version: str, field_name: str = "version") -> str:
    """The version unchanged when it is a semantic version, else InvalidArgument."""
    if not _SEMVER.match(version):
        raise InvalidArgument.one(field_name, f"{version!r} is not a semantic version like 1.2.0")
    return version


def semver_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key: higher versions last; a pre-release sorts before its release."""
    match = _SEMVER.match(version)
    if match is None:
        return (-1, -1, -1, 0, version)
    major, minor, patch, pre, _build = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


@dataclass
class VersionMeta:
    """Bookkeeping for one loaded version."""

    # Unique per load: reloading the same version gives a new id (logs and traces can tell them apart).
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: VersionState = VersionState.READY
    # Evaluation metrics recorded at load (e.g. {"mmlu": 0.41}); shown by ListModels.
    metrics: dict[str, float] = field(default_factory=dict)
