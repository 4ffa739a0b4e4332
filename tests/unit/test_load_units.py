"""Small pure pieces of loadtests: host allowlist, bounds, settings from env, ledger outcomes."""

from __future__ import annotations

import json

import pytest

from bedrock.errors import ConfigError, InputError
from bedrock.runfolder.ledger import last_seq
from bedrock.runfolder.readback import ranges_of
from loadtests.ledger import ledger_line, ledger_outcome
from loadtests.probes import check_args, probe_kind
from loadtests.runner import build_settings
from loadtests.safety import check_bounds, check_host
from loadtests.settings import LoadSettings, from_env


@pytest.mark.parametrize(
    "url",
    ["http://127.0.9.1:8080", "http://127.0.6.3:1/", "http://localhost:80", "http://[::1]:8080"],
)
def test_loopback_hosts_are_allowed(url: str) -> None:
    check_host(url)


@pytest.mark.parametrize("url", ["http://10.0.0.1:8080", "https://api.twinme.ai", "http://8.8.8.8"])
def test_other_hosts_need_allow_host(url: str) -> None:
    with pytest.raises(InputError, match="--allow-host"):
        check_host(url)
    host = url.split("//")[1].split(":")[0].split("/")[0]
    assert check_host(url, [host]) == host


def test_bad_url_is_input_error() -> None:
    with pytest.raises(InputError, match="http"):
        check_host("127.0.0.1:8080")


def test_bounds() -> None:
    check_bounds(3600, 5000, 1000)
    with pytest.raises(InputError, match="duration"):
        check_bounds(5 * 3600)
    with pytest.raises(InputError, match="rate"):
        check_bounds(10, 1e6)
    with pytest.raises(InputError, match="users"):
        check_bounds(10, None, 10_000)


def test_settings_round_trip_through_env() -> None:
    s = LoadSettings(
        scenario="spike", profile="nightly", run_dir="/r", open_rate_rps=250.0, open_lanes=2
    )
    assert from_env(s.to_env()) == s


def test_settings_report_every_bad_variable() -> None:
    with pytest.raises(ConfigError) as err:
        from_env(
            {"GAMEDAY_SCENARIO": "soak", "GAMEDAY_OPEN_RATE": "fast", "GAMEDAY_OPEN_LANES": "0"}
        )
    text = str(err.value)
    assert "GAMEDAY_SCENARIO='soak'" in text
    assert "GAMEDAY_OPEN_RATE='fast'" in text
    assert "GAMEDAY_OPEN_LANES" in text
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (201, "acknowledged"),
        (200, "acknowledged"),
        (409, "failed"),
        (500, "failed"),
        (503, "failed"),
        (502, "indeterminate"),
        (504, "indeterminate"),
        (0, "indeterminate"),
        (None, "indeterminate"),
    ],
)
def test_ledger_outcomes(status, outcome) -> None:
    assert ledger_outcome(status) == outcome


def test_ledger_line_has_ack_time_only_when_acknowledged() -> None:
    ok = ledger_line("c", 3, 10.0, 10.01, 201)
    assert ok == {
        "seq": 3,
        "client": "c",
        "t_send": 10.0,
        "t_ack": 10.01,
        "outcome": "acknowledged",
        "status": 201,
    }
    assert ledger_line("c", 4, 10.0, 11.0, 503)["t_ack"] is None
    assert ledger_line("c", 5, 10.0, None, None)["status"] is None


def test_probe_mix_and_argument_bounds() -> None:
    kinds = [probe_kind(k) for k in range(20)]
    assert kinds.count("read") == 10 and kinds.count("write") == 8 and kinds.count("health") == 2
    check_args(20, 60, 1)
    with pytest.raises(InputError, match="--rate"):
        check_args(5, 60, 1)
    with pytest.raises(InputError, match="--duration"):
        check_args(20, 0, 1)


def test_readback_ranges() -> None:
    assert ranges_of([]) == []
    assert ranges_of([5, 1, 2, 3, 3, 7, 8]) == [[1, 3], [5, 5], [7, 8]]


def test_runner_refuses_unbounded_or_oversized_runs(tmp_path) -> None:
    with pytest.raises(InputError, match="user_pacing_s"):
        build_settings("spike", "ci", tmp_path, user_pacing_s=0.0)
    build_settings("spike", "ci", tmp_path, user_pacing_s=0.0, mix="static")
    with pytest.raises(InputError, match="rate"):
        build_settings("spike", "ci", tmp_path, open_rate_rps=1e6)
    with pytest.raises(InputError, match="duration"):
        build_settings("endurance", "full", tmp_path, time_scale=10)


def test_last_seq_continues_a_clients_ledger(tmp_path) -> None:
    path = tmp_path / "ledger.jsonl"
    assert last_seq(tmp_path, "c") == 0
    lines = [ledger_line("c", n, 1.0, 1.1, 201) for n in range(1, 5000)]
    lines.append(ledger_line("other", 9999, 1.0, 1.1, 201))
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"seq": 12')  # cut last line
    assert last_seq(tmp_path, "c") == 4999
    assert last_seq(tmp_path, "other") == 9999
