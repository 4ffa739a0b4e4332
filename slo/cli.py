"""Command line for slo: `gameday report`, `gameday compare`, `gameday slo validate|rules|defaults`.

Every handler returns an exit code (0 held, 1 failed / regression, 2 bad input,
3 inconclusive); errors are raised as bedrock.errors and turned into codes by
gameday.cli.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from bedrock import options
from bedrock.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_SLO_FAILED, InputError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "report", help="measure a run folder, judge its SLOs and (re)write its reports"
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument(
        "--spec",
        type=Path,
        help="SLO spec YAML (default: RUN_DIR/slo.yaml, else the seed's targets)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the verdict line")
    p.set_defaults(func=_report)

    p = subparsers.add_parser("compare", help="compare two runs' figures and flag regressions")
    p.add_argument("base", type=Path, metavar="BASE_RUN")
    p.add_argument("new", type=Path, metavar="NEW_RUN")
    p.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="e.g. p95=25%%, failover=3s, availability=0.1%%, error_budget=0.5%% (repeatable)",
    )
    p.add_argument("--out", type=options.output_file, help="also write the table (markdown) here")
    p.set_defaults(func=_compare)

    slo = subparsers.add_parser("slo", help="SLO spec tools")
    sub = slo.add_subparsers(dest="slo_command", metavar="SLO_COMMAND")
    slo.set_defaults(func=lambda args: _usage(slo))
    v = sub.add_parser("validate", help="validate an SLO spec YAML (exit 2 naming every bad key)")
    v.add_argument("file", type=Path, metavar="FILE")
    v.set_defaults(func=_validate)
    r = sub.add_parser("rules", help="generate Prometheus burn-rate alert rules from the spec")
    r.add_argument("--spec", type=Path, help="SLO spec YAML (default: the seed's targets)")
    r.add_argument(
        "--out",
        type=options.output_file,
        help="output file (default: stdout; its folder must exist)",
    )
    r.add_argument(
        "--kind",
        choices=("rules", "prometheusrule"),
        default="rules",
        help="a Prometheus rule file, or a prometheus-operator PrometheusRule object",
    )
    r.add_argument("--job", type=options.label_value, help="restrict to this Prometheus job label")
    r.set_defaults(func=_rules)
    d = sub.add_parser("defaults", help="print the default SLO spec as YAML")
    d.set_defaults(func=_defaults)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_BAD_INPUT


def _spec(path: Path | None):  # type: ignore[no-untyped-def]
    from slo.spec import load_spec

    return load_spec(path) if path is not None else None


def _report(args: argparse.Namespace) -> int:
    from slo.evaluation import evaluate
    from slo.rendering import render
    from slo.trials_render import is_group, rejudge_group

    if is_group(args.run_dir):  # a trials group: re-judge every trial, rewrite the group
        doc = rejudge_group(args.run_dir, _spec(args.spec))
        if not args.quiet:
            for t in doc["trials"]:
                print(f"{t['verdict'].upper():>14}  trial {t['trial']}  {t['summary']}")
        v = doc["verdict"]
        print(f"verdict: {v['status']} (exit {v['exit_code']}): {v['summary']}")
        return int(v["exit_code"])
    results = evaluate(args.run_dir, _spec(args.spec))
    paths = render(args.run_dir, results)
    if not args.quiet:
        for s in results.slos:
            print(f"{s.status.upper():>14}  {s.id:<24} {s.message}")
        if results.measurements.error_budget is not None:
            print(results.measurements.error_budget.sentence)
        print("reports: " + ", ".join(str(p) for p in paths))
    v = results.verdict
    print(f"verdict: {v.status} (exit {v.exit_code}): {v.summary}")
    return v.exit_code


def _load_results(run_dir: Path):  # type: ignore[no-untyped-def]
    from bedrock.runfolder import reports
    from slo.evaluation import evaluate
    from slo.results import Results

    doc = reports.read_results_or_none(run_dir)
    if doc is None:
        return evaluate(run_dir)
    path = reports.results_path(run_dir)
    if doc.get("schema") == reports.TRIALS_SCHEMA:
        raise InputError(
            f"{path}: a trials group (gameday.trials/1): compare its trial folders, "
            "or read the distributions in its report.md"
        )  # NaN/Infinity refused with file and line: never "no regression"
    try:
        return Results.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"{path}: key '{key}': {first['msg']} (re-run `gameday report {run_dir}`)"
        ) from None


def _compare(args: argparse.Namespace) -> int:
    from slo.capacity_compare import compare_capacity, is_capacity_run, load_capacity
    from slo.compare import compare, parse_tolerance, table

    tolerances = dict(parse_tolerance(t) for t in args.tolerance)
    if is_capacity_run(args.base) and is_capacity_run(args.new):
        rows = compare_capacity(load_capacity(args.base), load_capacity(args.new))
        text = table(rows, args.base.name + " (base)", args.new.name + " (new)")
    else:
        base, new = _load_results(args.base), _load_results(args.new)
        rows = compare(base, new, tolerances)
        text = table(rows, base.run.name + " (base)", new.run.name + " (new)")
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    regressions = [r.figure for r in rows if r.regression]
    print(
        f"regressions: {', '.join(regressions)}"
        if regressions
        else "no regression beyond tolerances"
    )
    return EXIT_SLO_FAILED if regressions else EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from slo.spec import load_spec

    spec = load_spec(args.file)
    judged = [
        k
        for k in (
            "failover",
            "rto",
            "rpo",
            "durability",
            "scale_time",
            "throughput",
            "availability",
            "error_rate",
        )
        if getattr(spec, k) is not None
    ]
    print(f"{args.file}: ok ({len(judged)} SLOs + latency in {len(spec.latency)} phase(s))")
    return EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    from slo.burnrate import rules_yaml
    from slo.spec import SloSpec

    text = rules_yaml(_spec(args.spec) or SloSpec(), kind=args.kind, job=args.job)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _defaults(args: argparse.Namespace) -> int:
    from slo.spec import SloSpec, spec_to_yaml

    sys.stdout.write(spec_to_yaml(SloSpec()))
    return EXIT_OK
