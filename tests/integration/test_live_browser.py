"""The live view during a real `gameday run kill-api-pod --profile ci`, then its report.html,
both in headless chromium (screenshots in the test's tmp folder). The same run is the
kill-api-pod run test: a complete run folder, the replica killed and restarted, PASS, the
stack at home afterwards."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from stack.control import Stack

from ..conftest import REPO
from .conftest import wait_until
from .test_runs import assert_complete, assert_stack_home, events

pytestmark = pytest.mark.integration


def _collect(proc: subprocess.Popen[str], lines: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)


def _url(lines: list[str]) -> str | None:
    for line in list(lines):
        m = re.match(r"live view: (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return m.group(1)
    return None


def _state(url: str) -> dict:
    return httpx.get(f"{url}state", timeout=2).json()


def test_live_view_follows_a_real_run_and_its_report_renders(
    healthy_stack: Stack, browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    runs = tmp_path / "runs"
    before = healthy_stack.pid("api-primary-0")
    argv = [sys.executable, "-m", "gameday", "run", "kill-api-pod", "--load", "constant"]
    argv += ["--profile", "ci", "--state-dir", str(healthy_stack.root), "--runs-dir", str(runs)]
    argv += ["--live-linger", "120"]
    proc = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=_collect, args=(proc, lines), daemon=True)
    reader.start()
    try:
        url = str(wait_until(lambda: _url(lines), 60, "live URL printed"))
        assert httpx.get(url, timeout=2).status_code == 200
        browser.get(url)
        status = browser.find_element(By.ID, "status")
        wait_until(lambda: status.get_attribute("data-status") == "running", 120, "run shown")
        wait_until(lambda: len(_state(url).get("timeline", [])) >= 2, 60, "two ticks")
        first = browser.find_element(By.ID, "left").text
        wait_until(lambda: browser.find_element(By.ID, "left").text != first, 30, "time moves")
        wait_until(lambda: browser.find_element(By.ID, "rps").text != "-", 60, "req/s shown")
        assert browser.find_element(By.ID, "leader").text not in ("", "-")
        browser.save_screenshot(str(tmp_path / "live-running.png"))
        wait_until(
            lambda: any(e["kind"] == "fault.injected" for e in _state(url).get("events", [])),
            120,
            "fault shown as it happens",
        )
        verdict = browser.find_element(By.ID, "verdict")
        wait_until(verdict.is_displayed, 400, "final verdict shown")
        state = _state(url)
        assert state["status"] == "finished"
        assert verdict.text.startswith(state["verdict"]["word"])
        assert state["writes_acked"] > 0 and state["writes_lost"] is not None
        browser.save_screenshot(str(tmp_path / "live-finished.png"))
        wait_until(lambda: any(line.startswith("report:") for line in lines), 60, "report line")
    finally:
        proc.terminate()  # it lingers serving the verdict; the run is over
        proc.wait(30)
    run_dir = next(p for p in runs.iterdir() if p.is_dir())
    results = assert_complete(run_dir)
    [fault] = events(run_dir, "fault.injected")
    assert before in fault["detail"]["result"]["pids"]
    wait_until(
        lambda: healthy_stack.pid("api-primary-0") not in (0, before), 30, "replica restarted"
    )
    verdict_line = next(line for line in lines if line.startswith("verdict:"))
    assert verdict_line.startswith("verdict: PASS"), f"{''.join(lines)[-2000:]}\n{results['verdict']}"
    assert_stack_home(healthy_stack)
    page = (run_dir / "report.html").read_text()
    assert "<pre" not in page and "Details" not in page
    browser.get((run_dir / "report.html").as_uri())
    head = browser.find_element(By.ID, "verdict").text
    assert head.startswith(results["verdict"]["status"].upper())
    plots = browser.find_elements(By.CSS_SELECTOR, "img.plot")
    assert plots, "no plot in the report"
    for img in plots:
        assert browser.execute_script("return arguments[0].naturalWidth", img) > 0
    assert browser.find_element(By.ID, "timeline").rect["height"] > 0
    assert browser.find_element(By.ID, "slos").text
    browser.save_screenshot(str(tmp_path / "report.png"))
