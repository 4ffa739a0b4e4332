"""The capacity report drawn in headless chromium: the answer at the top, no raw markdown.

The report comes from known step figures (tests/support/capacity_synth.py): no stack needed,
a few seconds of CI. The live `gameday capacity --profile ci` run is in test_autoscaler.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.capacity_synth import write_capacity_run

pytestmark = pytest.mark.integration

MARKDOWN = ("## ", "| ---", "|---", "![", "**", "# Capacity report")


def test_capacity_page_puts_the_answer_first_and_renders_no_markdown(
    browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    out = write_capacity_run(tmp_path / "capacity", knee_per_replica=400, sigma=0.02)
    browser.get((out / "capacity-report.html").as_uri())
    body = browser.find_element(By.TAG_NAME, "body").text
    for raw in MARKDOWN:
        assert raw not in body, f"raw markdown {raw!r} on the page"
    answer = browser.find_element(By.ID, "answer")
    evidence = browser.find_element(By.ID, "evidence")
    assert answer.rect["y"] < evidence.rect["y"]
    # the first thing under the title: the no-headroom alert, then the replicas answer
    first = answer.find_elements(By.CSS_SELECTOR, "div")[0]
    assert first.get_attribute("class") == "alert"
    assert first.text.startswith("No headroom: at 5,000 req/s the HPA asks for 50 replicas")
    replicas = browser.find_element(By.ID, "replicas")
    assert replicas.text.endswith("replicas for 5,000 req/s")
    assert replicas.rect["y"] + replicas.rect["height"] < 1600  # in the first screenful
    assert "predicted scale time" in answer.text and "maxReplicas" in answer.text
    # the evidence: a knee row per replica count, the fit, plots that decoded, the machine
    rows = browser.find_elements(By.CSS_SELECTOR, "#knees tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows[1:]] == ["1", "2", "3"]
    assert "sigma (contention)" in evidence.text
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) >= 3
    for img in images:
        assert browser.execute_script("return arguments[0].naturalWidth", img) > 100
    assert "the run took 150 s" in browser.find_element(By.ID, "machine").text
    browser.save_screenshot(str(tmp_path / "capacity.png"))
