"""The suite's summary: summary.json, summary.md, an HTML index, and one junit.xml for CI."""

from __future__ import annotations

import html
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

WORDS = {0: "PASS", 1: "FAIL", 2: "BAD INPUT", 3: "INCONCLUSIVE"}


def _merge_junit(rows: list[dict[str, Any]], out: Path) -> None:
    root = ET.Element("testsuites")
    for row in rows:
        path = Path(row["run_dir"]) / "junit.xml" if row.get("run_dir") else None
        if path and path.exists():
            parsed = ET.parse(path).getroot()
            suites = [parsed] if parsed.tag == "testsuite" else list(parsed)
            for suite in suites:
                suite.set("name", f"{row['name']}.{suite.get('name', 'slo')}")
                root.append(suite)
        else:
            suite = ET.SubElement(root, "testsuite", name=row["name"], tests="1", failures="0", errors="1")
            case = ET.SubElement(suite, "testcase", classname=row["name"], name="run")
            ET.SubElement(case, "error", message=row["summary"])
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)


def write_summary(folder: Path, name: str, rows: list[dict[str, Any]], elapsed_s: float, code: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(
        json.dumps({"schema": "gameday.suite/1", "suite": name, "elapsed_s": elapsed_s, "exit_code": code, "runs": rows}, indent=2)
    )
    lines = [
        f"# Suite {name}: {WORDS.get(code, code)}",
        "",
        f"{len(rows)} runs in {elapsed_s / 60:.1f} min.",
        "",
        "| run | load | verdict | summary | report |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        report = f"[report]({os.path.relpath(Path(r['run_dir']) / 'report.md', folder)})" if r.get("run_dir") else "-"
        lines.append(f"| {r['name']} | {r['scenario']} | {WORDS.get(r['code'], r['code'])} | {r['summary']} | {report} |")
    (folder / "summary.md").write_text("\n".join(lines) + "\n")
    colours = {0: "#1a7f37", 1: "#cf222e", 2: "#9a6700", 3: "#9a6700"}
    body = "".join(
        f"<tr><td>{html.escape(r['name'])}</td><td>{html.escape(r['scenario'])}</td>"
        f"<td style='color:{colours.get(r['code'], '#000')};font-weight:bold'>{WORDS.get(r['code'], r['code'])}</td>"
        f"<td>{html.escape(r['summary'])}</td><td>"
        + (
            f"<a href='{html.escape(os.path.relpath(Path(r['run_dir']) / 'report.html', folder))}'>report</a>"
            if r.get("run_dir")
            else "-"
        )
        + "</td></tr>"
        for r in rows
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>gameday suite "
        f"{html.escape(name)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>"
        f"</head><body><h1>Suite {html.escape(name)}: "
        f"<span style='color:{colours.get(code, '#000')}'>{WORDS.get(code, code)}</span></h1>"
        f"<p>{len(rows)} runs in {elapsed_s / 60:.1f} min.</p>"
        "<table><tr><th>run</th><th>load</th><th>verdict</th><th>summary</th><th>report</th></tr>"
        f"{body}</table></body></html>"
    )
    (folder / "summary.html").write_text(page)
    _merge_junit(rows, folder / "junit.xml")
    return folder / "summary.html"
