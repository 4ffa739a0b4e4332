"""The Kubernetes API server fake's pure parts: label selectors and patches (no server; the
fake served over HTTP is tested in tests/integration/test_failover_fake_kube.py)."""

from __future__ import annotations

import pytest

from tests.support.fakes.kube_patch import label_selector_matches


def test_label_selector_grammar():
    labels = {"app": "api", "region": "primary"}
    assert label_selector_matches("app=api,region==primary", labels)
    assert label_selector_matches("app,!canary,region!=secondary", labels)
    assert not label_selector_matches("region in (secondary, witness)", labels)
    assert label_selector_matches("tier notin (db)", labels)


def test_patch_helpers_follow_the_rfcs():
    from tests.support.fakes.kube_patch import json_patch, merge_patch

    doc = {"a": {"b": 1, "c": [1, 2]}, "d": 4}
    assert merge_patch(doc, {"a": {"b": None, "c": [3]}, "e": 5}) == {
        "a": {"c": [3]},
        "d": 4,
        "e": 5,
    }
    ops = [{"op": "add", "path": "/a/c/-", "value": 3}, {"op": "remove", "path": "/d"}]
    assert json_patch(doc, ops) == {"a": {"b": 1, "c": [1, 2, 3]}}
    with pytest.raises(ValueError):
        json_patch(doc, [{"op": "test", "path": "/d", "value": 5}])
    assert doc == {"a": {"b": 1, "c": [1, 2]}, "d": 4}  # inputs untouched
