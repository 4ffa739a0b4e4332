"""The real `gameday autoscaler ...` and `gameday capacity` commands, run in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "manifests/k8s/base/hpa.yaml"

SCALER = """
class Counts:
    def __init__(self, replicas="3"):
        self.n = int(replicas)
    def scale(self, region, replicas):
        self.n = replicas
    def replicas(self, region):
        return self.n
    def ready_replicas(self, region):
        return self.n

def build(**opts):
    return Counts(**opts)
"""


def gameday(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_validate_ok_and_bad(tmp_path: Path) -> None:
    ok = gameday("autoscaler", "validate")
    assert ok.returncode == 0, ok.stderr
    assert "twinme-api-hpa OK" in ok.stdout and "window 300s, select Min" in ok.stdout
    bad = tmp_path / "hpa.yaml"
    bad.write_text(SEED.read_text().replace("value: 4", "value: -4"))
    r = gameday("autoscaler", "validate", "--hpa", str(bad))
    assert r.returncode == 2
    assert str(bad) in r.stderr and "spec.behavior.scaleUp.policies[1].value" in r.stderr


def test_simulate_prints_the_timeline() -> None:
    r = gameday(
        "autoscaler", "simulate", "--capacity", "400", "--startup", "10", "--saturation", "450"
    )
    assert r.returncode == 0, r.stderr
    assert "t=   180s    3 ->   7" in r.stdout
    assert "predicted scale time 85 s" in r.stdout
    r = gameday("autoscaler", "simulate", "--capacity", "400", "--startup", "10", "--hold", "30")
    assert r.returncode == 3 and "never within the spike" in r.stdout


def test_capacity_from_recorded_steps(tmp_path: Path) -> None:
    steps = {
        "steps": [
            {
                "replicas": 1,
                "offered_rps": r,
                "achieved_rps": r * 0.99,
                "p95_ms": p,
                "error_rate": 0.0,
            }
            for r, p in ((100, 8), (200, 15), (300, 40), (400, 180))
        ],
        "startup_s": [1.5, 2.5],
    }
    f = tmp_path / "steps.json"
    f.write_text(json.dumps(steps))
    out = tmp_path / "report"
    r = gameday("capacity", "--profile", "ci", "--steps", str(f), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "knee at 1 replica(s): 297 req/s, interval 297 - 400" in r.stdout
    assert "22 replicas for 5,000 req/s with 20% headroom (USL); linear 17" in r.stdout
    summary = json.loads((out / "capacity.json").read_text())
    assert summary["startup_s"] == 2.0 and summary["conclusive"]
    assert (out / "capacity-report.html").exists()
    f.write_text(json.dumps({"steps": [{"replicas": 1, "offered": 5}]}))
    r = gameday("capacity", "--steps", str(f), "--out", str(out))
    assert r.returncode == 2 and "steps.0.offered: unknown key" in r.stderr


def test_capacity_without_a_wired_target_is_a_setup_error(tmp_path: Path) -> None:
    r = gameday(
        "capacity", "--profile", "ci", "--target", "no_such_module:build", "--out", str(tmp_path)
    )
    assert r.returncode == 3 and "cannot import no_such_module" in r.stderr


def test_run_loop_with_a_scaler_factory_and_prometheus_down(tmp_path: Path) -> None:
    (tmp_path / "fakescaler.py").write_text(SCALER)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    events = tmp_path / "events.jsonl"
    args = [
        "autoscaler",
        "run",
        "--region",
        "primary",
        "--prometheus",
        "http://127.0.4.1:9",
        "--events",
        str(events),
        "--period",
        "0.2",
        "--watch-interval",
        "0.05",
        "--scaler",
        "fakescaler:build",
        "--scaler-opt",
        "replicas=3",
    ]
    r = gameday(*args, "--max-cycles", "3", env=env)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if "primary: no decision" in ln]
    assert len(lines) == 3  # one sentence per cycle, no decision without metrics
    # SIGTERM only sets a flag; the loop ends cleanly
    proc = subprocess.Popen(
        [sys.executable, "-m", "gameday", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:  # wait until the loop is running
            if "no decision" in proc.stdout.readline():
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_supervised_autoscaler_program_is_a_valid_command_line(tmp_path: Path) -> None:
    import shlex

    from autoscaler.cli import build_parser
    from stack.scaler import autoscaler_program

    prog = autoscaler_program(
        tmp_path, "http://127.0.9.1:9090", ["primary"], max_replicas=6, time_scale=0.1,
        period_s=1.5,
    )  # fmt: skip
    argv = shlex.split(prog.command)
    assert argv[1:3] == ["-m", "autoscaler"]  # its own entry point, not the gameday CLI
    args = build_parser().parse_args(argv[3:])
    assert args.func.__name__ == "cmd_run"
    assert args.region == ["primary"] and args.max_replicas == 6
    assert args.time_scale == 0.1 and args.period == 1.5
    assert args.events == str(tmp_path / "events" / "autoscaler.jsonl")
    assert args.scaler_opt == [f"state_dir={tmp_path}"]
    assert prog.role == "autoscaler" and prog.region == "global"
    assert Path(args.hpa).is_absolute() and Path(args.hpa).exists()


def test_capacity_runs_get_fresh_folders_and_a_usl_fit(tmp_path: Path) -> None:
    rows = []
    for replicas, knee in ((1, 300), (2, 580), (3, 850)):
        for frac, p95 in ((0.5, 10), (1.0, 40), (1.5, 400)):
            rate = knee * frac
            rows.append(
                {
                    "replicas": replicas,
                    "offered_rps": rate,
                    "achieved_rps": rate,
                    "p95_ms": p95,
                    "error_rate": 0.0,
                }
            )
    f = tmp_path / "steps.json"
    f.write_text(json.dumps({"steps": rows, "startup_s": [2.0]}))
    runs = tmp_path / "runs"
    for _ in range(2):
        r = gameday("capacity", "--steps", str(f), "--runs-dir", str(runs))
        assert r.returncode == 0, r.stderr
    folders = sorted(p for p in runs.iterdir() if p.name.startswith("capacity-"))
    assert len(folders) == 2
    usl = json.loads((folders[1] / "capacity.json").read_text())["usl"]
    assert [p[0] for p in usl["points"]] == [1.0, 2.0, 3.0]
    assert usl["fit"]["sigma"] > 0
    assert usl["replicas_for_target"] == 53  # sigma 0.029: 21 would do if it scaled linearly
    r = gameday("compare", str(folders[0]), str(folders[1]))
    assert r.returncode == 0, r.stderr
    assert "knee at 2 replica(s)" in r.stdout and "no regression" in r.stdout
    doc = json.loads((folders[1] / "capacity.json").read_text())
    doc["knees"]["2"]["rps"] = 400.0  # 580 (interval 580-870) -> 400 (300-400): wholly below
    doc["knees"]["2"]["interval_rps"] = [300.0, 400.0]
    (folders[1] / "capacity.json").write_text(json.dumps(doc))
    r = gameday("compare", str(folders[0]), str(folders[1]))
    assert r.returncode != 0 and "REGRESSION" in r.stdout and "knee at 2 replica(s)" in r.stdout
