"""`gameday k8s`: render and validate the bundled manifests offline; dry-run faults.

gameday k8s render OVERLAY          rendered objects as YAML
gameday k8s validate [OVERLAY...]   schemas (strict), custom resource schemas, lint
gameday k8s plan TARGET FAULT...    which resources the faults would hit (no API call)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bedrock import options
from bedrock.errors import ConfigError
from gameday.k8s import overlays
from gameday.k8s.render import to_yaml
from gameday.targets.k8s_plan import K8S_FAULTS
from gameday.targets.k8s_settings import load_settings
from gameday.targets.kubernetes import KubernetesTarget, parse_fault


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "k8s", help="render and validate the bundled Kubernetes manifests"
    )
    sub = parser.add_subparsers(dest="k8s_command", metavar="K8S_COMMAND", required=True)

    p_render = sub.add_parser("render", help="print an overlay's rendered objects as YAML")
    p_render.add_argument(
        "overlay", help=f"one of {', '.join(overlays.list_overlays())} or a folder"
    )
    p_render.add_argument(
        "-o", "--output", type=options.output_file, help="write to this file instead of stdout"
    )
    _renderer_option(p_render)
    p_render.set_defaults(func=cmd_render)

    p_validate = sub.add_parser(
        "validate",
        help="render overlays and check them: Kubernetes schemas (strict), "
        "custom resource schemas, lint rules",
    )
    p_validate.add_argument("overlays", nargs="*", help="overlays to check (default: all)")
    _renderer_option(p_validate)
    p_validate.set_defaults(func=cmd_validate)
    register_target(sub)


def _renderer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--renderer",
        choices=["python", "kubectl"],
        default="python",
        help="the project's kustomize renderer (default) or `kubectl kustomize`",
    )


def cmd_render(args: argparse.Namespace) -> int:
    folder = overlays.resolve_overlay(args.overlay)
    text = to_yaml(overlays.render_overlay(folder, args.renderer))
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    names = args.overlays or overlays.list_overlays()
    problems: list[str] = []
    for name in names:
        folder = overlays.resolve_overlay(name)
        objects, found = overlays.check_overlay(folder, args.renderer)
        status = "ok" if not found else f"{len(found)} problem(s)"
        print(f"{name}: {len(objects)} objects, {status}")
        problems.extend(f"{name}: {p}" for p in found)
    if problems:
        raise ConfigError("manifests/k8s", problems)
    return 0


def register_target(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p_plan = sub.add_parser(
        "plan",
        help="dry run: list the resources the given faults would hit on the Kubernetes "
        "target (after the kube context allowlist check; no API call)",
    )
    p_plan.add_argument("config", type=Path, help="the Kubernetes target file (YAML)")
    p_plan.add_argument(
        "faults",
        nargs="+",
        metavar="KIND:REGION[:COUNT]",
        help=f"faults: {', '.join(t.kind for t in K8S_FAULTS)}",
    )
    p_plan.set_defaults(func=cmd_plan)


def cmd_plan(args: argparse.Namespace) -> int:
    faults = [parse_fault(f) for f in args.faults]
    target = KubernetesTarget(load_settings(args.config))
    for fault in faults:
        target.chaos_secrets(fault.region)  # InputError on an unknown region
    for line in target.plan(faults):
        print(line)
    return 0
