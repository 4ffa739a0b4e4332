"""Designed HTML report pages through Jinja2 (autoescaped), reusable by any report.

`render(name, **context)` renders a page template; every page extends `base.html` (title,
an "answer" block shown first, then "evidence"). Templates live here as strings so they ship
with the package without package-data configuration; add a page by adding a template that
`{% extends "base.html" %}`.
"""

from __future__ import annotations

from typing import Any

import jinja2

BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
 main{max-width:1000px;margin:0 auto;padding:24px}
 h1{font-size:24px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px}
 .sub{color:#5b6475;margin:0 0 16px}
 .answer{background:#fff;border-left:6px solid #2f6fde;padding:16px 20px;border-radius:6px}
 .answer.bad{border-left-color:#c8372d} .big{font-size:28px;font-weight:600}
 .warn{background:#fff4e0;border:1px solid #f0b45a;padding:8px 12px;border-radius:4px;margin:6px 0}
 table{border-collapse:collapse;background:#fff;width:100%}
 th,td{border-bottom:1px solid #e2e5ea;padding:6px 10px;text-align:left}
 th{background:#eef1f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
 img{max-width:100%;background:#fff;border-radius:6px}
</style></head>
<body><main>
<h1>{{ title }}</h1>{% if subtitle %}<p class="sub">{{ subtitle }}</p>{% endif %}
<section id="answer">{% block answer %}{% endblock %}</section>
<section id="evidence">{% block evidence %}{% endblock %}</section>
</main></body></html>
"""

TEMPLATES: dict[str, str] = {"base.html": BASE}

_ENV: jinja2.Environment | None = None


def register(name: str, source: str) -> None:
    """Add a page template (reports call this at import time)."""
    global _ENV
    TEMPLATES[name] = source
    _ENV = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.DictLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _ENV


def render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context)
