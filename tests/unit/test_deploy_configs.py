"""The deployment files, checked offline against the server and each other: ports, health service
names, metric names, settings, the canary's weights, GitOps wiring. The schemas themselves are
checked by test_deploy_validation.py (and deploy/validate.sh)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from autoglm_server.operations import BACKEND_SERVICES
from autoglm_server.server_settings import ServerSettings
from tests.unit.deploy_support import DEPLOY, OVERLAYS, ROOT, all_of, find, overlay, render

READINESS_SERVICE = BACKEND_SERVICES[0]
GRPC_PORT = ServerSettings.model_fields["port"].default
METRICS_PORT = ServerSettings.model_fields["metrics_port"].default
HTTP_PORT = 8000  # the OpenAI-compatible API in every shipped deployment
HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"


def _settings(docs: list[dict[str, Any]]) -> ServerSettings:
    (config,) = [
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("autoglm-config")
    ]
    return ServerSettings(**yaml.safe_load(config["data"]["config.yaml"]))  # unknown keys or bad values raise


def _servers(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        d
        for d in all_of(docs, "Deployment")
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == "server"
    ]


def _env(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_overlay_serves_grpc_and_the_openai_api_with_auth_on(name: str) -> None:
    docs = overlay(name)
    settings = _settings(docs)
    assert settings.auth_enabled and settings.host == "0.0.0.0"
    assert (settings.port, settings.http_port, settings.metrics_port) == (GRPC_PORT, HTTP_PORT, METRICS_PORT)
    for deployment in _servers(docs):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"grpc": GRPC_PORT, "http": HTTP_PORT, "metrics": METRICS_PORT}
        admin_key = _env(deployment)["AUTOGLM_ADMIN_KEY"]["valueFrom"]["secretKeyRef"]
        assert admin_key == {"name": "autoglm-secrets", "key": "admin-key"}
    service = find(docs, "Service", "autoglm")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]}["http"] == HTTP_PORT


@pytest.mark.parametrize("name", OVERLAYS)
def test_probes_are_native_grpc_on_the_servers_health_service(name: str) -> None:
    for deployment in _servers(overlay(name)):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["grpc"] == {"port": GRPC_PORT}
        assert container["startupProbe"]["grpc"] == {"port": GRPC_PORT}
        assert container["readinessProbe"]["grpc"] == {"port": GRPC_PORT, "service": READINESS_SERVICE}


@pytest.mark.parametrize("name", OVERLAYS)
def test_services_select_the_servers_pods_and_the_configmap_is_mounted(name: str) -> None:
    docs = overlay(name)
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in _servers(docs)]
    config_maps = {d["metadata"]["name"] for d in all_of(docs, "ConfigMap")}
    for service in all_of(docs, "Service"):
        selector = service["spec"]["selector"].items()
        if service["metadata"]["name"].startswith("autoglm-postgres"):
            continue
        assert any(selector <= labels.items() for labels in pods), service["metadata"]["name"]
    for deployment in _servers(docs):
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        assert volumes["config"]["configMap"]["name"] in config_maps


def test_prod_scales_2_to_20_at_70_percent_cpu_and_on_the_queue_depth_the_server_exports() -> None:
    from autoglm_core.health.monitor import GenerationMonitor
    from autoglm_core.registry.models import ModelRegistry
    from autoglm_server.observability.metrics import Metrics

    hpa = find(overlay("prod"), "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 20)
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    assert kinds["Resource"]["resource"]["target"]["averageUtilization"] == 70
    assert hpa["spec"]["scaleTargetRef"]["name"] == "autoglm-v1"
    metrics = Metrics()
    metrics.watch(GenerationMonitor(), ModelRegistry())
    assert kinds["Pods"]["pods"]["metric"]["name"] in {m.name for m in metrics.registry.collect()}


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_cluster_overlays_share_postgresql_from_the_secret(name: str) -> None:
    docs = overlay(name)
    postgres = find(docs, "StatefulSet", "autoglm-postgres")
    assert int(postgres["metadata"]["annotations"][SYNC_WAVE]) < 0  # the database before the servers
    for deployment in _servers(docs):
        url = _env(deployment)["AUTOGLM_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert url == {"name": "autoglm-secrets", "key": "database-url"}
        assert int(deployment["metadata"]["annotations"][SYNC_WAVE]) == 0


def test_prod_runs_one_deployment_per_version_weighted_80_20_by_istio_and_envoy() -> None:
    docs = overlay("prod")
    versions = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]["version"] for d in _servers(docs)
    }
    assert versions == {"autoglm-v1": "v1", "autoglm-v2": "v2"}
    subsets = {s["name"]: s["labels"] for s in find(docs, "DestinationRule")["spec"]["subsets"]}
    assert subsets == {"v1": {"version": "v1"}, "v2": {"version": "v2"}}
    (route,) = find(docs, "VirtualService")["spec"]["http"]
    istio = {r["destination"]["subset"]: r["weight"] for r in route["route"]}
    assert istio == {"v1": 80, "v2": 20}
    assert int(find(docs, "VirtualService")["metadata"]["annotations"][SYNC_WAVE]) > 0

    # Envoy, for a cluster without a mesh: the same weights over each version's headless Service.
    config = yaml.safe_load((DEPLOY / "envoy" / "envoy.yaml").read_text())["static_resources"]
    clusters = {c["name"]: c for c in config["clusters"]}
    (listener,) = config["listeners"]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    (envoy_route,) = manager["route_config"]["virtual_hosts"][0]["routes"]
    weighted = {w["name"]: w["weight"] for w in envoy_route["route"]["weighted_clusters"]["clusters"]}
    assert weighted == {"autoglm_stable": 80, "autoglm_canary": 20}
    assert envoy_route["route"]["timeout"] == "0s"  # streams are never cut by a route timeout
    headless = {
        d["metadata"]["name"]: d for d in all_of(docs, "Service") if d["spec"].get("clusterIP") == "None"
    }
    for cluster_name, version in (("autoglm_stable", "v1"), ("autoglm_canary", "v2")):
        cluster = clusters[cluster_name]
        options = cluster["typed_extension_protocol_options"][HTTP_OPTIONS]
        assert "http2_protocol_options" in options["explicit_http_config"], cluster_name
        assert cluster["health_checks"][0]["grpc_health_check"]["service_name"] == READINESS_SERVICE
        (lb,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        address = lb["endpoint"]["address"]["socket_address"]
        service, namespace = address["address"].split(".")[:2]
        assert namespace == find(docs, "Deployment", "autoglm-v1")["metadata"]["namespace"]
        assert headless[service]["spec"]["selector"]["version"] == version
        assert address["port_value"] == GRPC_PORT


def test_edge_runs_one_offline_replica_on_edge_nodes_with_sqlite_on_a_volume() -> None:
    docs = overlay("edge")
    (deployment,) = _servers(docs)
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    assert "node-role.kubernetes.io/edge" in pod["nodeSelector"]
    assert any(t["key"] == "node-role.kubernetes.io/edge" for t in pod["tolerations"])
    env = _env(deployment)
    assert env["HF_HUB_OFFLINE"]["value"] == "1"
    assert "AUTOGLM_DATABASE_URL" not in env  # SQLite in data_dir
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
    assert find(docs, "PersistentVolumeClaim", claim)
    (container,) = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert Path(mounts["data"]) == _settings(docs).data_dir
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1200  # a slow CPU may load for long
    assert not all_of(docs, "HorizontalPodAutoscaler") and not all_of(docs, "StatefulSet")


def test_argocd_syncs_the_prod_overlay_with_prune_and_self_heal_inside_its_project() -> None:
    docs = render(DEPLOY / "gitops" / "argocd")
    app = find(docs, "Application")
    project = find(docs, "AppProject")
    assert app["spec"]["project"] == project["metadata"]["name"]
    source = app["spec"]["source"]
    assert (ROOT / source["path"] / "kustomization.yaml").is_file()
    assert source["path"] == "deploy/k8s/overlays/prod"
    assert source["repoURL"] in project["spec"]["sourceRepos"]
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    destination = app["spec"]["destination"]
    assert destination in project["spec"]["destinations"]
    prod = overlay("prod")
    assert {d["metadata"]["namespace"] for d in prod} == {destination["namespace"]}
    allowed = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    assert {(d["apiVersion"].rpartition("/")[0], d["kind"]) for d in prod} <= allowed


def test_tekton_tests_then_builds_then_bumps_the_prod_overlays_image_tag() -> None:
    docs = render(DEPLOY / "gitops" / "tekton")
    pipeline = find(docs, "Pipeline")
    order = {t["name"]: t.get("runAfter", []) for t in pipeline["spec"]["tasks"]}
    assert order == {"clone": [], "test": ["clone"], "build-push": ["test"], "bump-tag": ["build-push"]}
    bump = find(docs, "Task", "autoglm-bump-tag")
    (set_image, _) = bump["spec"]["steps"]
    overlay_dir = set_image["workingDir"].removeprefix("$(workspaces.source.path)/")
    assert (ROOT / overlay_dir / "kustomization.yaml").is_file()
    images = yaml.safe_load((ROOT / overlay_dir / "kustomization.yaml").read_text())["images"]
    assert "openautoglm=" in set_image["script"] and [i["name"] for i in images] == ["openautoglm"]


def test_collector_pipelines_use_defined_components() -> None:
    config = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    for pipeline in config["service"]["pipelines"].values():
        for part in ("receivers", "processors", "exporters"):
            assert set(pipeline.get(part, [])) <= set(config.get(part, {})), part
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")


def test_compose_runs_two_replicas_on_postgresql_with_auth_and_the_http_api() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert {"autoglm-a", "autoglm-b", "postgres", "otel-collector", "jaeger", "prometheus"} <= set(services)
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = [t for job in prometheus["scrape_configs"] for s in job["static_configs"] for t in s["targets"]]
    host_ports = set()
    for name in ("autoglm-a", "autoglm-b"):
        server = services[name]
        env = server["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
        assert env["AUTOGLM_AUTH_ENABLED"] == "true" and "${AUTOGLM_ADMIN_KEY" in env["AUTOGLM_ADMIN_KEY"]
        assert (
            env["AUTOGLM_DATABASE_URL"].startswith("postgresql+psycopg://")
            and "@postgres:5432/" in env["AUTOGLM_DATABASE_URL"]
        )
        assert server["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert READINESS_SERVICE in server["healthcheck"]["test"]
        mapped = {int(p.split(":")[1]): int(p.split(":")[0]) for p in server["ports"]}
        assert set(mapped) == {GRPC_PORT, int(env["AUTOGLM_HTTP_PORT"]), METRICS_PORT}
        host_ports |= set(mapped.values())
        assert f"{name}:{METRICS_PORT}" in targets
    assert len(host_ports) == 6  # the two replicas never claim the same host port
    # Replica b runs what replica a runs (the smoke test starts a only): same settings, other ports.
    env_a, env_b = (dict(services[name]["environment"]) for name in ("autoglm-a", "autoglm-b"))
    assert env_a.pop("OTEL_RESOURCE_ATTRIBUTES") != env_b.pop("OTEL_RESOURCE_ATTRIBUTES")
    assert env_a == env_b
    assert {k: v for k, v in services["autoglm-a"].items() if k not in ("environment", "ports")} == {
        k: v for k, v in services["autoglm-b"].items() if k not in ("environment", "ports")
    }


def test_dockerfile_builds_the_cpu_image_with_the_model_auth_and_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert "ARG TORCH_VERSION=2.13.0" in text
    assert "autoglm pull openautoglm-base-v1" in text
    assert '".[postgres]"' in text
    assert re.search(r"^\s+AUTOGLM_AUTH_ENABLED=true\b", text, re.M)
    assert re.search(rf"^\s+AUTOGLM_HTTP_PORT={HTTP_PORT}\b", text, re.M)
    assert re.search(rf"^EXPOSE .*\b{HTTP_PORT}\b", text, re.M)
    assert re.search(rf"^HEALTHCHECK .*\n?.*autoglm-healthcheck.*{READINESS_SERVICE}", text, re.M)
    assert "COPY deploy/healthcheck.py" in text
