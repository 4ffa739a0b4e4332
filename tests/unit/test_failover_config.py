"""Config validation: every problem reported with its key; secrets only from env/files, never shown."""

from __future__ import annotations

import logging

import pytest

from bedrock.errors import ConfigError
from failover.config import load_config, parse_config

BASE = """
regions:
  primary: {health_url: "http://127.0.1.1:8080/health", target_replicas: 3}
  secondary: {health_url: "http://127.0.2.1:8080/health"}
home_region: primary
traffic: {kind: haproxy, socket: /tmp/edge.sock}
"""


def test_minimal_config_has_the_documented_defaults(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(BASE)
    cfg = load_config(f)
    assert cfg.period_s == 1.0
    assert (cfg.detection.down_after, cfg.detection.up_after, cfg.detection.timeout_s) == (
        3,
        3,
        0.8,
    )
    assert cfg.policy.failback == "manual" and cfg.policy.scale_down_source is False
    assert cfg.lock.kind == "none" and cfg.scaler.kind == "none"
    assert cfg.region_names == ["primary", "secondary"]


def test_every_problem_is_reported_with_its_key(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(
        """
regions:
  primary: {health_url: "ftp://x", target_replicas: 0}
  secondary: {health_url: "http://127.0.2.1/health", colour: blue}
home_region: primary
detection: {down_after: 0}
traffic: {kind: carrier-pigeon}
"""
    )
    with pytest.raises(ConfigError) as err:
        load_config(f)
    text = str(err.value)
    assert str(f) in text
    for key in (
        "regions.primary.health_url",
        "regions.primary.target_replicas",
        "regions.secondary.colour",
        "detection.down_after",
        "traffic",
    ):
        assert key in text, (key, text)
    assert err.value.exit_code == 2


def test_cross_checks_name_the_key():
    data = {
        "regions": {
            "primary": {"health_url": "http://a/health"},
            "secondary": {"health_url": "http://b/health"},
        },
        "home_region": "mars",
        "traffic": {
            "kind": "k8s_ingress",
            "namespace": "n",
            "ingress": "i",
            "services": {"primary": "s"},
        },
    }
    with pytest.raises(ConfigError) as err:
        parse_config(data, "x.yaml")
    assert "home_region: 'mars' is not one of regions" in str(err.value)
    assert "traffic.services: must name exactly the regions" in str(err.value)


def test_a_literal_secret_in_the_file_is_refused():
    data = {
        "regions": {
            "primary": {"health_url": "http://a/health"},
            "secondary": {"health_url": "http://b/health"},
        },
        "home_region": "primary",
        "traffic": {"kind": "haproxy", "socket": "/tmp/s"},
        "notifiers": [
            {"kind": "slack", "webhook_url": "https://hooks.slack.com/services/T/B/SECRET"}
        ],
    }
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert "notifiers.0.slack.webhook_url" in str(err.value)


def test_secrets_come_from_env_or_file_and_never_show(tmp_path, monkeypatch, caplog):
    token_file = tmp_path / "cf-token"
    token_file.write_text("cf-secret-from-file\n")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/env-secret")
    cfg = parse_config(
        {
            "regions": {"primary": {"health_url": "http://a/health"}, "secondary": {"health_url": "http://b/health"}},
            "home_region": "primary",
            "traffic": {
                "kind": "cloudflare", "zone_id": "z", "record_name": "api.twinme.ai",
                "token": {"file": str(token_file)}, "contents": {"primary": "192.0.2.1", "secondary": "192.0.2.2"},
            },
            "notifiers": [{"kind": "slack", "webhook_url": {"env": "SLACK_WEBHOOK_URL"}}],
        }
    )  # fmt: skip
    token = cfg.traffic.token.resolve("traffic.token")
    url = cfg.notifiers[0].webhook_url.resolve("notifiers.0.webhook_url")
    assert token.get_secret_value() == "cf-secret-from-file"
    assert url.get_secret_value().endswith("env-secret")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("failover").info("config %s %s %r", token, url, url)
    assert "secret" not in caplog.text.replace("SecretStr", "")
    monkeypatch.delenv("SLACK_WEBHOOK_URL")
    with pytest.raises(
        ConfigError, match="notifiers.0.webhook_url.env: variable SLACK_WEBHOOK_URL is not set"
    ):
        cfg.notifiers[0].webhook_url.resolve("notifiers.0.webhook_url")


def test_yaml_syntax_error_names_the_line(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("regions:\n  primary: {health_url: [\n")
    with pytest.raises(ConfigError, match=r"line \d+: invalid YAML"):
        load_config(f)
