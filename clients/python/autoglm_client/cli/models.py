"""`autoglm models` and `autoglm health`: ModelService and grpc.health.v1."""

from __future__ import annotations

import argparse

from grpc_health.v1 import health_pb2

from autoglm.v1 import model_pb2
from autoglm_client.cli.common import InvalidInput, connect, parse_pairs
from autoglm_client.cli.output import print_table, show


def version_rows(models: list[model_pb2.Model]) -> list[tuple[model_pb2.Model, model_pb2.ModelVersion]]:
    return [(model, version) for model in models for version in model.versions]


def print_models(models: list[model_pb2.Model]) -> None:
    print_table(
        version_rows(models),
        [
            ("MODEL", lambda r: r[0].name),
            ("VERSION", lambda r: r[1].version),
            ("STATE", lambda r: model_pb2.ModelState.Name(r[1].state).removeprefix("MODEL_STATE_").lower()),
            ("TRAFFIC", lambda r: f"{r[1].traffic_weight}%"),
            ("BACKEND", lambda r: r[1].backend),
            ("DEVICE", lambda r: r[1].device),
            ("ALIASES", lambda r: ",".join(r[0].aliases)),
        ],
    )


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    models = commands.add_parser("models", parents=[common], help="list, load, unload models; traffic splits")
    models.set_defaults(run=_list)  # `autoglm models` alone lists them
    actions = models.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", parents=[common], help="list models and their versions").set_defaults(
        run=_list
    )

    get = actions.add_parser("get", parents=[common], help="show one model's versions")
    get.add_argument("name")
    get.set_defaults(run=lambda a: _one(a, connect(a).get_model(a.name)))

    load = actions.add_parser("load", parents=[common], help="load a version (it takes no traffic yet)")
    load.add_argument("name")
    load.add_argument("version")
    load.add_argument("--source", default="", help="model directory, .gguf file or alias")
    load.add_argument("--backend", default="", help="transformers or mock [default: the server's]")
    load.set_defaults(run=_load)

    unload = actions.add_parser("unload", parents=[common], help="unload a version once its calls finish")
    unload.add_argument("name")
    unload.add_argument("version")
    unload.add_argument("--drain-timeout", type=float, default=None, help="longest wait for calls, seconds")
    unload.set_defaults(run=_unload)

    split = actions.add_parser("split", parents=[common], help="share traffic, e.g. 1.0.0=95 1.1.0=5")
    split.add_argument("name")
    split.add_argument("weights", nargs="+", metavar="VERSION=PERCENT")
    split.add_argument("--sticky", action="store_true", help="a session stays on its version")
    split.set_defaults(run=_split)

    promote = actions.add_parser("promote", parents=[common], help="give a version all the traffic")
    promote.add_argument("name")
    promote.add_argument("version")
    promote.set_defaults(run=lambda a: _one(a, connect(a).promote_model_version(a.name, a.version)))

    rollback = actions.add_parser("rollback", parents=[common], help="restore the previous traffic split")
    rollback.add_argument("name")
    rollback.set_defaults(run=lambda a: _one(a, connect(a).rollback_traffic_split(a.name)))

    health = commands.add_parser("health", parents=[common], help="is the server live, or a service ready")
    health.add_argument("service", nargs="?", default="", help='a service name; "" = the process is live')
    health.set_defaults(run=_health)


def _list(args: argparse.Namespace) -> None:
    listed = connect(args).list_models()
    show(args.output, listed, lambda: print_models(list(listed.models)))


def _one(args: argparse.Namespace, model: model_pb2.Model) -> None:
    show(args.output, model, lambda: print_models([model]))


def _load(args: argparse.Namespace) -> None:
    client = connect(args)
    _one(args, client.load_model(args.name, args.version, source=args.source, backend=args.backend))


def _unload(args: argparse.Namespace) -> None:
    drained = connect(args).unload_model(args.name, args.version, drain_timeout_s=args.drain_timeout)
    text = f"unloaded {args.name}@{args.version} after {drained} running calls finished"
    show(args.output, {"drained_calls": drained}, lambda: print(text))


def _split(args: argparse.Namespace) -> None:
    weights: dict[str, int] = {}
    for version, percent in parse_pairs(args.weights, "weights").items():
        if not percent.isdigit():
            raise InvalidInput(f"weights: {version}={percent}: the share must be a whole percentage")
        weights[version] = int(percent)
    _one(args, connect(args).set_traffic_split(args.name, weights, sticky=args.sticky))


def _health(args: argparse.Namespace) -> int:
    status = connect(args).health(args.service)
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
    show(args.output, {"service": args.service, "status": name}, lambda: print(name))
    # Scripts: 0 when serving; UNAVAILABLE's code (14) otherwise, as the exit codes document.
    return 0 if status == health_pb2.HealthCheckResponse.SERVING else 14
