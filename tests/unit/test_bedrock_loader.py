"""The one hardened loader: every kind of hostile file is a ConfigError naming file and line or key.

Pure: no server, no subprocess. One test per category of issue 14.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from bedrock.errors import EXIT_BAD_INPUT, ConfigError, InputError
from bedrock.loader import (
    MAX_BYTES,
    MAX_DEPTH,
    load_data,
    load_documents,
    parse_json,
    parse_yaml,
)
from bedrock.models import STRICT, load_model
from bedrock.names import inside, state_dir_problem

LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def problems(text: str, *, json: bool = False) -> list[str]:
    with pytest.raises(ConfigError) as info:
        (parse_json if json else parse_yaml)(text, "f.yaml")
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert info.value.source == "f.yaml"
    return info.value.problems


def file_problems(path: Path | str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_data(path)
    assert info.value.source == str(path)
    return info.value.problems


# -- bytes and the file system ----------------------------------------------------


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_bytes(b"name: ok\nregion: caf\xe9\n")
    assert file_problems(f) == ["line 2: not UTF-8 text (byte 0xe9 at 20)"]


def test_control_characters_are_refused() -> None:
    [problem] = problems("a: \x00\n")
    assert "invalid YAML" in problem and "#x0000" in problem


def test_os_errors_are_named(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert "cannot read" in file_problems(loop)[0]
    assert "cannot read" in file_problems(tmp_path / "missing.yaml")[0]
    assert "cannot read" in file_problems(tmp_path / ("x" * 300 + ".yaml"))[0]
    assert "is a directory" in file_problems(tmp_path)[0]
    assert "not a regular file" in file_problems("/dev/zero")[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied_is_named(tmp_path: Path) -> None:
    f = tmp_path / "secret.yaml"
    f.write_text("a: 1\n")
    f.chmod(0)
    assert "Permission denied" in file_problems(f)[0]


def test_size_is_bounded(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_bytes(b"#" * (MAX_BYTES + 1))
    assert file_problems(f) == [f"(file): larger than {MAX_BYTES} bytes"]


# -- structure ------------------------------------------------------------------------


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    for text in ("[" * 5000 + "]" * 5000, "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)):
        [problem] = problems(text)
        assert "nest" in problem
    [problem] = problems("[" * 100_000 + "]" * 100_000, json=True)
    assert "nest" in problem


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.monotonic()
    [problem] = problems(LAUGHS)
    assert "alias bomb" in problem
    assert time.monotonic() - started < 5  # generous: it is refused before expanding


def test_a_flat_list_of_a_million_values_is_refused() -> None:
    [problem] = problems("[" + "1," * 500_000 + "1]")
    assert "more than" in problem


def test_self_referencing_alias_is_refused() -> None:
    assert problems("a: &a [*a]\n") == ["line 1: an alias refers to itself"]


def test_merge_keys_still_work() -> None:
    doc = parse_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n", "f.yaml")
    assert doc.data["d"] == {"x": 3, "y": 2}


def test_duplicate_keys_are_an_error_with_their_line() -> None:
    assert problems("a: 1\nb:\n  c: 1\n  c: 2\n") == ["line 4: duplicate key 'c'"]
    assert problems('{"a": 1, "a": 2}', json=True) == ["duplicate key 'a'"]


def test_unhashable_keys_and_python_tags_are_refused() -> None:
    assert "plain value" in problems("? [1]\n: 2\n")[0]
    assert "constructor" in problems("a: !!python/object/apply:os.system ['true']\n")[0]


# -- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["x: .nan", "x: -.inf", "x: 1.0e+400"])
def test_non_finite_yaml_floats_are_refused(text: str) -> None:
    assert "not a finite number" in problems(text)[0]


@pytest.mark.parametrize("text", ['{"x": NaN}', '{"x": -Infinity}', "[1e400]"])
def test_non_finite_json_numbers_are_refused(text: str) -> None:
    assert "not a finite number" in problems(text, json=True)[0]


def test_integers_of_thousands_of_digits_are_refused() -> None:
    assert problems("n: " + "9" * 5000) == ["a number has too many digits"]
    assert "invalid JSON" in problems("9" * 5000, json=True)[0]


class _Window(BaseModel):
    model_config = STRICT
    window_s: float = Field(gt=0, le=3600)
    ratio: float = Field(ge=0, le=1)


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "-1", "0", "4000"])
def test_models_refuse_non_finite_and_out_of_range_strings(tmp_path: Path, value: str) -> None:
    # YAML leaves 1e400 and "nan" as text; pydantic would turn them into floats
    f = tmp_path / "w.yaml"
    f.write_text(f"window_s: {value}\nratio: 0.5\n")
    with pytest.raises(ConfigError) as info:
        load_model(f, _Window)
    assert info.value.problems[0].startswith("line 1: window_s:")


def test_wrong_shapes_name_the_key(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("- window_s: 1\n")
    with pytest.raises(ConfigError, match=r"\(top level\): expected a mapping, got a list"):
        load_model(f, _Window)
    f.write_text("window_s: [1]\nratio: {a: 1}\nextra: 1\n")
    with pytest.raises(ConfigError) as info:
        load_model(f, _Window)
    assert [p.split(":")[0:2] for p in info.value.problems] == [
        ["line 1", " window_s"],
        ["line 2", " ratio"],
        ["line 3", " extra"],
    ]


def test_multi_document_files_keep_every_document(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("a: 1\n---\n---\nb: 2\n")
    assert [d.data for d in load_documents(f)] == [{"a": 1}, {"b": 2}]


# -- paths and names ------------------------------------------------------------------


def test_inside_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    assert inside(tmp_path / "logs", "api-0.log") == (tmp_path / "logs" / "api-0.log").resolve()
    for escape in ("../x", "../../etc/passwd", "/etc/passwd"):
        with pytest.raises(InputError, match="outside"):
            inside(tmp_path / "logs", escape)
    (tmp_path / "logs" / "link.log").symlink_to("/etc/hostname")
    with pytest.raises(InputError, match="outside"):
        inside(tmp_path / "logs", "link.log")


@pytest.mark.parametrize(
    "value", ["/", ".", "..", "", "~", "/root", "/home/someone", "/etc", "/tmp"]
)
def test_dangerous_state_dirs_are_refused(value: str, tmp_path: Path) -> None:
    assert state_dir_problem(value, cwd=tmp_path / "a" / "b") is not None


def test_ordinary_state_dirs_are_accepted(tmp_path: Path) -> None:
    assert state_dir_problem(".state", cwd=tmp_path) is None
    assert state_dir_problem(str(tmp_path / "state"), cwd=Path("/")) is None
