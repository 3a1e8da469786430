import pytest

from course_utils import config
from course_utils.errors import CourseError


@pytest.mark.parametrize(
    "value,fast",
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("0", False),
        ("", False),
        ("no", False),
        (" On ", True),
        ("OFF", False),
        ("false", False),
    ],
)
def test_fast_mode_follows_the_environment_variable(monkeypatch, value, fast):
    monkeypatch.setenv(config.FAST_ENV_VAR, value)
    assert config.is_fast() is fast
    assert config.pick("small", "big") == ("small" if fast else "big")
    assert config.mode_name() == ("FAST" if fast else "full")


@pytest.mark.parametrize("value", ["fast", "2", "enabled", "y", "-1"])
def test_an_unknown_fast_value_is_one_sentence(monkeypatch, value):
    monkeypatch.setenv(config.FAST_ENV_VAR, value)
    with pytest.raises(CourseError, match=f"COURSE_FAST='{value}'.*1, true"):
        config.is_fast()


def test_cache_dir_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    assert config.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").is_dir()


def test_cache_dir_expands_home_and_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE", "~/x")
    assert config.cache_dir() == tmp_path / "x"
    monkeypatch.setenv("MY_ROOT", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE", "$MY_ROOT/y")
    assert config.cache_dir() == tmp_path / "y" and (tmp_path / "y").is_dir()
    assert not (tmp_path / "~").exists()


def test_bench_results_table_filters_by_prefix(monkeypatch, tmp_path, capsys):
    import json

    from course_utils import bench_results

    path = tmp_path / "results.json"
    path.write_text(
        json.dumps(
            {
                "ch06/ppl": {"value": 1.0, "unit": "ppl"},
                "glove/x": {"value": 2.0, "unit": "r"},
            }
        )
    )
    monkeypatch.setattr(bench_results, "RESULTS", path)
    frame = bench_results.table("ch06/")
    assert frame["figure"].tolist() == ["ch06/ppl"] and frame[
        "value"
    ].tolist() == [1.0]
    assert (
        bench_results.table("ch99/").empty
        and "No benchmark figures" in capsys.readouterr().out
    )
