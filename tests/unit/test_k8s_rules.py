"""The PrometheusRule's alerts against known inputs, through `promtool test rules`.

Synthetic counters with known ratios and latencies go in; the test states
which alerts fire, with which labels and rendered annotations, and which stay
silent on either side of each threshold (the seed's 5 s, 5 %, 80/85/90 %, the
1 % error alert, the 14.4x and 6x burn rates of the 99.95 % SLO).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.k8s.overlays import OVERLAYS_DIR
from gameday.k8s.render import render

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed"
)

API = 'http_requests_total{job="twinme-api",status="%s"}'
BUCKET = 'http_request_duration_seconds_bucket{job="twinme-api",le="%s"}'


def _requests(ok_per_min: int, errors_per_min: int) -> list[dict[str, str]]:
    return [
        {"series": API % "200", "values": f"0+{ok_per_min}x400"},
        {"series": API % "500", "values": f"0+{errors_per_min}x400"},
    ]


def _alert(name: str, at: str, *alerts: dict[str, Any]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": name, "exp_alerts": list(alerts)}


def _fires(labels: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    return {
        "exp_labels": labels,
        "exp_annotations": {"summary": summary, "description": description},
    }


FAST = {"severity": "critical", "slo": "availability"}
SLOW = {"severity": "warning", "slo": "availability"}
FAST_SUMMARY = "Error budget burning at 14.4x (1 h and 5 m windows)"
SLOW_SUMMARY = "Error budget burning at 6x (6 h and 30 m windows)"

TESTS: list[dict[str, Any]] = [
    {
        # 1 error per 101 requests = 0.9901 %: above both burn thresholds
        # (0.72 % and 0.3 %), under the 1 % and 5 % alerts.
        "name": "burn rate just under 1 %",
        "interval": "1m",
        "input_series": _requests(100, 1),
        "alert_rule_test": [
            _alert(
                "ErrorBudgetBurnFast",
                "70m",
                _fires(
                    FAST,
                    FAST_SUMMARY,
                    "5xx ratio 0.9901% over 1 h; at this rate the 30-day budget of the 99.95 % SLO is gone in about 2 days.",
                ),
            ),
            _alert(
                "ErrorBudgetBurnSlow",
                "70m",
                _fires(SLOW, SLOW_SUMMARY, "5xx ratio 0.9901% over 6 h."),
            ),
            _alert("ErrorRateAbove1Percent", "70m"),
            _alert("HighErrorRate", "70m"),
        ],
    },
    {
        # 1 error per 5,001 requests = 0.02 %: within the 0.05 % budget, nothing fires.
        "name": "healthy",
        "interval": "1m",
        "input_series": _requests(5000, 1),
        "alert_rule_test": [
            _alert(name, "70m")
            for name in (
                "ErrorBudgetBurnFast",
                "ErrorBudgetBurnSlow",
                "ErrorRateAbove1Percent",
                "HighErrorRate",
            )
        ],
    },
    {
        "name": "error rate 3.8 %: the 1 % alert, not the 5 % one",
        "interval": "1m",
        "input_series": _requests(100, 4),
        "alert_rule_test": [
            _alert(
                "ErrorRateAbove1Percent",
                "20m",
                _fires(
                    {"severity": "warning"},
                    "5xx ratio above 1 % (seed's error-rate alert threshold)",
                    "5xx ratio is 3.846%.",
                ),
            ),
            _alert("HighErrorRate", "20m"),
        ],
    },
    {
        "name": "error rate 5.7 %",
        "interval": "1m",
        "input_series": _requests(100, 6),
        "alert_rule_test": [
            _alert(
                "HighErrorRate",
                "20m",
                _fires({"severity": "critical"}, "5xx ratio above 5 %", "5xx ratio is 5.66%."),
            ),
            # `for: 2m` holds it back at first
            _alert("HighErrorRate", "2m"),
        ],
    },
    {
        # Every request between 5 s and 10 s: p99 interpolates to 9.95 s, p95 to 9.75 s.
        "name": "slow requests",
        "interval": "1m",
        "input_series": [
            {"series": BUCKET % "0.1", "values": "0+0x60"},
            {"series": BUCKET % "5", "values": "0+0x60"},
            {"series": BUCKET % "10", "values": "0+100x60"},
            {"series": BUCKET % "+Inf", "values": "0+100x60"},
        ],
        "alert_rule_test": [
            _alert(
                "HighLatency",
                "20m",
                _fires(
                    {"severity": "warning"},
                    "Requests take longer than 5 s (p99 over 5 m)",
                    "p99 latency is 9.95s.",
                ),
            ),
            _alert(
                "LatencySLOBreached",
                "20m",
                _fires(
                    {"severity": "warning", "slo": "latency"},
                    "p95 latency above the 100 ms target",
                    "p95 latency is 9.75s.",
                ),
            ),
        ],
    },
    {
        # Every request under 50 ms: p95 47.5 ms, under the 100 ms target.
        "name": "fast requests",
        "interval": "1m",
        "input_series": [
            {"series": BUCKET % "0.05", "values": "0+100x60"},
            {"series": BUCKET % "0.1", "values": "0+100x60"},
            {"series": BUCKET % "+Inf", "values": "0+100x60"},
        ],
        "alert_rule_test": [_alert("LatencySLOBreached", "20m"), _alert("HighLatency", "20m")],
        "promql_expr_test": [
            {
                "expr": "twinme:http_request_duration_seconds:p95_5m",
                "eval_time": "20m",
                "exp_samples": [
                    {"labels": "twinme:http_request_duration_seconds:p95_5m", "value": 0.0475}
                ],
            },
        ],
    },
    {
        # n1 idle 10 % of the time (90 % busy), n2 idle 50 %; memory 90 % / 50 %;
        # disk 95 % on ext4, a full tmpfs ignored.
        "name": "node resources",
        "interval": "1m",
        "input_series": [
            {
                "series": 'node_cpu_seconds_total{instance="n1",cpu="0",mode="idle"}',
                "values": "0+6x60",
            },
            {
                "series": 'node_cpu_seconds_total{instance="n2",cpu="0",mode="idle"}',
                "values": "0+30x60",
            },
            {"series": 'node_memory_MemAvailable_bytes{instance="n1"}', "values": "10x60"},
            {"series": 'node_memory_MemTotal_bytes{instance="n1"}', "values": "100x60"},
            {"series": 'node_memory_MemAvailable_bytes{instance="n2"}', "values": "50x60"},
            {"series": 'node_memory_MemTotal_bytes{instance="n2"}', "values": "100x60"},
            {
                "series": 'node_filesystem_avail_bytes{instance="n1",fstype="ext4",mountpoint="/data"}',
                "values": "5x60",
            },
            {
                "series": 'node_filesystem_size_bytes{instance="n1",fstype="ext4",mountpoint="/data"}',
                "values": "100x60",
            },
            {
                "series": 'node_filesystem_avail_bytes{instance="n1",fstype="tmpfs",mountpoint="/run"}',
                "values": "0x60",
            },
            {
                "series": 'node_filesystem_size_bytes{instance="n1",fstype="tmpfs",mountpoint="/run"}',
                "values": "100x60",
            },
            {"series": 'up{job="failover-controller",instance="a"}', "values": "1x60"},
        ],
        "alert_rule_test": [
            _alert(
                "HighCPUUsage",
                "30m",
                _fires(
                    {"severity": "warning", "instance": "n1"},
                    "Node CPU above 80 %",
                    "n1 CPU is 90 %.",
                ),
            ),
            _alert(
                "HighMemoryUsage",
                "30m",
                _fires(
                    {"severity": "critical", "instance": "n1"},
                    "Node memory above 85 %",
                    "n1 memory is 90 %.",
                ),
            ),
            _alert(
                "HighDiskUsage",
                "30m",
                _fires(
                    {
                        "severity": "critical",
                        "instance": "n1",
                        "fstype": "ext4",
                        "mountpoint": "/data",
                    },
                    "Filesystem above 90 %",
                    "n1 /data is 95 % full.",
                ),
            ),
            _alert("FailoverControllerDown", "30m"),
        ],
    },
    {
        "name": "no failover controller up",
        "interval": "1m",
        "input_series": [
            {"series": 'up{job="failover-controller",instance="a"}', "values": "0x10"}
        ],
        "alert_rule_test": [
            _alert(
                "FailoverControllerDown",
                "5m",
                _fires(
                    {"severity": "critical"},
                    "No failover controller is being scraped",
                    "Automatic failover is off until a controller is back.",
                ),
            ),
        ],
    },
]


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rule = next(o for o in render(OVERLAYS_DIR / "primary") if o["kind"] == "PrometheusRule")
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_rules_are_valid_promql(rules_file: Path) -> None:
    done = _promtool("check", "rules", rules_file.name, cwd=rules_file.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 16 rules found" in done.stdout


def test_alerts_fire_exactly_on_known_inputs(rules_file: Path) -> None:
    spec = {"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": TESTS}
    (rules_file.parent / "tests.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = _promtool("test", "rules", "tests.yaml", cwd=rules_file.parent)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_expectation_fails(rules_file: Path) -> None:
    """The harness can fail: expecting the 5 % alert at 3.8 % errors is reported."""
    wrong = [
        dict(
            TESTS[2],
            alert_rule_test=[
                _alert("HighErrorRate", "20m", _fires({"severity": "critical"}, "x", "y"))
            ],
        )
    ]
    spec = {"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": wrong}
    (rules_file.parent / "wrong.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = _promtool("test", "rules", "wrong.yaml", cwd=rules_file.parent)
    assert done.returncode != 0
    assert "alertname: HighErrorRate" in done.stdout + done.stderr
