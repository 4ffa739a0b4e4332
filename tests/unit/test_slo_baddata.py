"""Bad data is bad input: NaN, infinities and non-numeric values in any run-folder file are
refused (InputError: exit 2, file and line), never turned into a figure; compare refuses too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock.errors import InputError
from slo.evaluation import evaluate
from tests.support.slo_synth import write_run


def _edit_line(path: Path, lineno: int, old: str, new: str) -> None:
    lines = path.read_text().splitlines()
    assert old in lines[lineno - 1], lines[lineno - 1]
    lines[lineno - 1] = lines[lineno - 1].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    write_run(tmp_path, duration_s=30, fault_at_s=10.0, rollback_at_s=20.0, acked_writes=200)
    return tmp_path


@pytest.mark.parametrize(
    ("file", "lineno", "old", "new", "said"),
    [
        ("probes.jsonl", 5, '"latency_s": 0.004', '"latency_s": NaN', "NaN is not a finite number"),
        ("probes.jsonl", 7, '"t_mono": ', '"t_mono": -Infinity, "x": ', "-Infinity"),
        ("probes.jsonl", 9, '"latency_s": 0.004', '"latency_s": 1e999', "1e999 is not a finite"),
        ("probes.jsonl", 11, '"t_wall": ', '"t_wall": "soon", "x": ', "'t_wall' has a wrong type"),
        ("ledger.jsonl", 3, '"t_send": ', '"t_send": Infinity, "x": ', "Infinity"),
        ("ledger.jsonl", 4, '"seq": 4', '"seq": "4"', "'seq' has a wrong type"),
        ("events.jsonl", 2, '"t_wall": ', '"t_wall": NaN, "x": ', "NaN"),
        ("requests/w1.jsonl", 2, '"ok": ', '"ok": -3, "x": ', "outcome -> count"),
        ("requests/w2.jsonl", 3, '"t": ', '"t": NaN, "x": ', "NaN"),
    ],
)
def test_a_bad_number_is_refused_naming_file_and_line(
    run: Path, file: str, lineno: int, old: str, new: str, said: str
) -> None:
    _edit_line(run / file, lineno, old, new)
    with pytest.raises(InputError) as err:
        evaluate(run)
    assert f"{run / file}:{lineno}" in str(err.value)
    assert said in str(err.value)
    assert err.value.exit_code == 2


def test_run_json_and_readback_are_checked(run: Path) -> None:
    doc = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(
        json.dumps(doc, indent=1).replace('"ended_wall": ', '"ended_wall": NaN, "x": ')
    )
    with pytest.raises(InputError, match=r"run\.json:\d+: NaN"):
        evaluate(run)
    doc["ended_wall"] = "late"
    (run / "run.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="'ended_wall' must be a number"):
        evaluate(run)
    doc["ended_wall"] = doc["started_wall"] + 30
    (run / "run.json").write_text(json.dumps(doc))
    back = json.loads((run / "readback.json").read_text())
    back["present_ranges"][0] = [1, True]
    (run / "readback.json").write_text(json.dumps(back))
    with pytest.raises(InputError, match=r"present_ranges\[0\]"):
        evaluate(run)


def _gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday", *args], capture_output=True, text=True, timeout=120
    )


def test_report_and_compare_exit_2_on_nan(
    run: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert _gameday("report", str(run), "--quiet").returncode in (0, 1, 3)
    base = tmp_path_factory.mktemp("base")
    write_run(base, duration_s=30, fault_at_s=10.0, rollback_at_s=20.0, acked_writes=200)
    assert _gameday("report", str(base), "--quiet").returncode in (0, 1, 3)
    text = (run / "results.json").read_text()
    (run / "results.json").write_text(text.replace('"value": ', '"value": NaN, "x": ', 1))
    proc = _gameday("compare", str(base), str(run))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{run / 'results.json'}:" in proc.stderr and "NaN" in proc.stderr
    assert "no regression" not in proc.stdout
    _edit_line(run / "probes.jsonl", 3, '"latency_s": 0.004', '"latency_s": NaN')
    proc = _gameday("report", str(run))
    assert proc.returncode == 2
    assert f"{run / 'probes.jsonl'}:3" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("file", ["probes.jsonl", "ledger.jsonl", "events.jsonl"])
@pytest.mark.parametrize(
    ("bad", "said"),
    [(b"\xff\xfe garbage\n", "not UTF-8 text"), (b"[" * 5000 + b"]" * 5000 + b"\n", "nested")],
)
def test_bytes_and_nesting_are_refused_naming_file_and_line(
    run: Path, file: str, bad: bytes, said: str
) -> None:
    path = run / file
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = bad  # the second line: not a torn last line
    path.write_bytes(b"".join(lines))
    with pytest.raises(InputError) as err:
        evaluate(run)
    assert f"{path}:2" in str(err.value) and said in str(err.value)
    assert err.value.exit_code == 2
