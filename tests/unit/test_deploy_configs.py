"""The deployment files, checked offline: Kubernetes schemas, Envoy's own protobuf schema, and that
the files agree with the server (ports, health service names, metric names, settings)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from autoglm_server.operations import BACKEND_SERVICES
from autoglm_server.server_settings import ServerSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.30.0"  # the oldest release these manifests target (gRPC probes GA 1.27, preStop sleep 1.30)
K8S_FILES = ["configmap.yaml", "deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"]
READINESS_SERVICE = BACKEND_SERVICES[0]
GRPC_PORT = ServerSettings.model_fields["port"].default
METRICS_PORT = ServerSettings.model_fields["metrics_port"].default
HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _k8s(kind: str) -> dict[str, Any]:
    for name in K8S_FILES:
        for doc in _docs(DEPLOY / "k8s" / name):
            if doc["kind"] == kind:
                return doc
    raise AssertionError(f"no {kind} in deploy/k8s")


@pytest.mark.parametrize("name", K8S_FILES)
def test_kubernetes_manifests_match_the_api_schema(name: str) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for doc in _docs(DEPLOY / "k8s" / name):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_probes_are_native_grpc_on_the_servers_health_service() -> None:
    (container,) = _k8s("Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["grpc"] == {"port": GRPC_PORT}
    assert container["startupProbe"]["grpc"] == {"port": GRPC_PORT}
    assert container["readinessProbe"]["grpc"] == {"port": GRPC_PORT, "service": READINESS_SERVICE}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": GRPC_PORT, "metrics": METRICS_PORT}


def test_services_select_the_deployments_pods() -> None:
    pod_labels = _k8s("Deployment")["spec"]["template"]["metadata"]["labels"]
    for doc in _docs(DEPLOY / "k8s" / "service.yaml"):
        assert doc["spec"]["selector"].items() <= pod_labels.items(), doc["metadata"]["name"]


def test_hpa_scales_on_cpu_and_on_the_queue_depth_the_server_exports() -> None:
    from autoglm_core.health.monitor import GenerationMonitor
    from autoglm_core.registry.models import ModelRegistry
    from autoglm_server.observability.metrics import Metrics

    hpa = _k8s("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    metric = kinds["Pods"]["pods"]["metric"]["name"]
    metrics = Metrics()
    metrics.watch(GenerationMonitor(), ModelRegistry())
    exported = {m.name for m in metrics.registry.collect()}
    assert metric in exported


def test_configmap_holds_valid_server_settings() -> None:
    text = _k8s("ConfigMap")["data"]["config.yaml"]
    ServerSettings(**yaml.safe_load(text))  # unknown keys or bad values raise


def test_envoy_splits_grpc_calls_between_healthy_http2_clusters() -> None:
    # The schema itself is checked by deploy/check_envoy.py (deploy/validate.sh).
    config = yaml.safe_load((DEPLOY / "envoy" / "envoy.yaml").read_text())["static_resources"]
    clusters = {c["name"]: c for c in config["clusters"]}
    (listener,) = config["listeners"]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    (route,) = manager["route_config"]["virtual_hosts"][0]["routes"]
    weighted = route["route"]["weighted_clusters"]["clusters"]
    assert {w["name"] for w in weighted} <= set(clusters)
    assert sum(w["weight"] for w in weighted) == 100
    assert route["route"]["timeout"] == "0s"  # streams are never cut by a route timeout
    for cluster in clusters.values():
        options = cluster["typed_extension_protocol_options"][HTTP_OPTIONS]
        assert "http2_protocol_options" in options["explicit_http_config"], cluster["name"]
        assert cluster["health_checks"][0]["grpc_health_check"]["service_name"] == READINESS_SERVICE
        (lb,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        assert lb["endpoint"]["address"]["socket_address"]["port_value"] == GRPC_PORT


def test_collector_pipelines_use_defined_components() -> None:
    config = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    for pipeline in config["service"]["pipelines"].values():
        for part in ("receivers", "processors", "exporters"):
            assert set(pipeline.get(part, [])) <= set(config.get(part, {})), part
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")


def test_compose_wires_server_collector_and_prometheus_together() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"autoglm", "otel-collector", "jaeger", "prometheus"} <= set(services)
    server = services["autoglm"]
    assert server["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert READINESS_SERVICE in server["healthcheck"]["test"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = [t for job in prometheus["scrape_configs"] for s in job["static_configs"] for t in s["targets"]]
    assert f"autoglm:{METRICS_PORT}" in targets


def test_dockerfile_builds_the_cpu_image_with_the_model_and_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert "ARG TORCH_VERSION=2.13.0" in text
    assert "autoglm pull openautoglm-base-v1" in text
    assert re.search(rf"^HEALTHCHECK .*\n?.*autoglm-healthcheck.*{READINESS_SERVICE}", text, re.M)
    assert "COPY deploy/healthcheck.py" in text
