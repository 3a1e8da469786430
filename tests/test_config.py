import pytest

from course_utils import config


@pytest.mark.parametrize(
    "value,fast",
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("0", False),
        ("", False),
        ("no", False),
    ],
)
def test_fast_mode_follows_the_environment_variable(monkeypatch, value, fast):
    monkeypatch.setenv(config.FAST_ENV_VAR, value)
    assert config.is_fast() is fast
    assert config.pick("small", "big") == ("small" if fast else "big")
    assert config.mode_name() == ("FAST" if fast else "full")


def test_cache_dir_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    assert config.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").is_dir()


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
