"""A bundled local experiment run with plain `chaos run`, outside gameday and the source tree.

Issue 16: on an idle stack the error-rate probe read NaN (0 answers / 0 answers) and failed
the hypothesis, and the stack was looked up relative to the working directory. Here
`chaos run /abs/path/experiments/kill-api-pod.yaml` runs from an empty directory with no
load; the stack is found through $GAMEDAY_STATE_DIR alone. The fault must have happened
(a replica's pid in the journal) and the error rate must be a number, not "no data".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stack.control import Stack

REPO = Path(__file__).resolve().parents[2]
CHAOS = Path(sys.executable).with_name("chaos")


def test_kill_api_pod_with_plain_chaos_run_from_another_directory(
    healthy_stack: Stack, tmp_path: Path
) -> None:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    journal = tmp_path / "journal.json"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_") and k != "PYTHONPATH"
    }
    env.update(GAMEDAY_STATE_DIR=str(healthy_stack.handles["state_dir"]), GAMEDAY_FAULT_S="1")
    proc = subprocess.run(
        [
            str(CHAOS), "--no-version-check", "--log-file", str(tmp_path / "chaos.log"),
            "run", "--journal-path", str(journal), "--rollback-strategy", "always",
            str(REPO / "experiments" / "kill-api-pod.yaml"),
        ],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads(journal.read_text())
    assert record["status"] == "completed", record["status"]
    assert record["deviated"] is False
    before = {p["activity"]["name"]: p for p in record["steady_states"]["before"]["probes"]}
    error_rate = before["edge-errors-under-1pct"]
    assert error_rate["status"] == "succeeded", error_rate.get("exception")
    assert isinstance(error_rate["output"], float) and 0.0 <= error_rate["output"] < 0.01
    kill = next(a for a in record["run"] if a["activity"]["name"] == "kill-api-replica")
    assert kill["status"] == "succeeded"
    assert kill["output"]["result"]["pids"], kill["output"]  # a process was really killed
    assert [r["status"] for r in record["rollbacks"]] == ["succeeded"]
