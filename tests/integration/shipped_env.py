"""The environment and config file each shipped deployment gives `autoglm serve`, read from the
files themselves (Dockerfile ENV, docker-compose.yml with deploy/compose.env.example, the rendered
Kustomize overlays' ConfigMap and Deployment env), then mapped onto this machine: container ports to
free loopback ports, volumes to temporary directories, other services' host names to loopback.
Nothing else is changed, so a setting that stops the server in a container stops it here."""

from __future__ import annotations

import os
import re
import secrets
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.integration.ops_support import free_port
from tests.unit.deploy_support import ROOT, find, overlay

TEST_DATABASE_URL_ENV = "AUTOGLM_TEST_DATABASE_URL"
COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?::?[?-][^}]*)?\}")
K8S_VARIABLE = re.compile(r"\$\((\w+)\)")


@dataclass
class Shipped:
    """What one deployment starts the server with, before and after mapping to this machine."""

    env: dict[str, str]
    admin_key: str
    config_text: str | None = None  # the mounted config.yaml, if any
    config_mount: str = ""  # where the container sees it
    notes: list[str] = field(default_factory=list)


def dockerfile_env() -> dict[str, str]:
    """The image's ENV instructions (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for word in shlex.split(line[4:]):
                key, _, value = word.partition("=")
                env[key] = value
    return env


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def compose(service: str) -> Shipped:
    """The image's ENV overlaid by a compose service's environment, interpolated from the example .env."""
    variables = _env_file(ROOT / "deploy" / "compose.env.example")
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    env = dockerfile_env()
    for key, value in services[service]["environment"].items():
        env[key] = COMPOSE_VARIABLE.sub(lambda m: variables[m.group(1)], str(value))
    return Shipped(env=env, admin_key=env["AUTOGLM_ADMIN_KEY"])


def docker_run() -> Shipped:
    """`docker run -e AUTOGLM_ADMIN_KEY=...` as the Dockerfile's header shows it."""
    env = dockerfile_env()
    env["AUTOGLM_ADMIN_KEY"] = secrets.token_hex(32)
    return Shipped(env=env, admin_key=env["AUTOGLM_ADMIN_KEY"])


def _value(entry: dict[str, Any], secret_data: dict[str, str], env: dict[str, str]) -> str:
    if "value" in entry:
        return K8S_VARIABLE.sub(lambda m: env.get(m.group(1), m.group(0)), str(entry["value"]))
    source = entry["valueFrom"]
    if "secretKeyRef" in source:
        return secret_data[source["secretKeyRef"]["key"]]
    field_path = source["fieldRef"]["fieldPath"]
    return {"metadata.name": "autoglm-smoke-0", "status.hostIP": "127.0.0.1"}[field_path]


def kubernetes(overlay_name: str, deployment: str) -> Shipped:
    """The image's ENV overlaid by a rendered Deployment's container env; its ConfigMap's config.yaml."""
    docs = overlay(overlay_name)
    pod = find(docs, "Deployment", deployment)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    admin_key = secrets.token_hex(32)
    # The Secret autoglm-secrets as the README tells to create it; its database is the cluster's.
    secret_data = {
        "admin-key": admin_key,
        "postgres-password": "smoke",
        "database-url": "postgresql+psycopg://autoglm:smoke@autoglm-postgres:5432/autoglm",
    }
    env = dockerfile_env()
    for entry in container.get("env", []):
        env[entry["name"]] = _value(entry, secret_data, env)
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_text, config_mount = None, ""
    for mount in container.get("volumeMounts", []):
        config_map = volumes[mount["name"]].get("configMap")
        if config_map:
            config_text = find(docs, "ConfigMap", config_map["name"])["data"]["config.yaml"]
            config_mount = mount["mountPath"]
    return Shipped(env=env, admin_key=admin_key, config_text=config_text, config_mount=config_mount)


def on_this_machine(shipped: Shipped, workdir: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The process environment for `autoglm serve` here, and the ports it was mapped to."""
    env = dict(shipped.env)
    if shipped.config_text is not None:
        config_dir = workdir / "config"
        config_dir.mkdir()
        (config_dir / "config.yaml").write_text(shipped.config_text)
        env["AUTOGLM_CONFIG"] = env["AUTOGLM_CONFIG"].replace(shipped.config_mount, str(config_dir), 1)
    ports = {"grpc": free_port(), "http": free_port(), "metrics": free_port()}
    env["AUTOGLM_PORT"] = str(ports["grpc"])
    env["AUTOGLM_HTTP_PORT"] = str(ports["http"])
    env["AUTOGLM_METRICS_PORT"] = str(ports["metrics"])
    # The volume; the model baked into the image is the one `autoglm pull` put in this machine's cache.
    env["AUTOGLM_DATA_DIR"] = str(workdir / "data")
    env.pop("AUTOGLM_CACHE_DIR", None)
    if "AUTOGLM_DATABASE_URL" in env:
        # The deployment's PostgreSQL is a service name there; here, the test database when CI gives
        # one, else SQLite in the data directory.
        test_url = os.environ.get(TEST_DATABASE_URL_ENV, "")
        if test_url:
            env["AUTOGLM_DATABASE_URL"] = test_url
        else:
            env.pop("AUTOGLM_DATABASE_URL")
            shipped.notes.append(f"no {TEST_DATABASE_URL_ENV}: SQLite instead of the deployment's PostgreSQL")
    if "OTEL_EXPORTER_OTLP_ENDPOINT" in env:
        # No collector listens here: spans are dropped after the exporter's retries.
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    outside = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGLM_", "OTEL_"))}
    return {**outside, **env}, ports
