import pytest

from course_utils import config


@pytest.mark.parametrize("value,fast", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)])
def test_fast_mode_follows_the_environment_variable(monkeypatch, value, fast):
    monkeypatch.setenv(config.FAST_ENV_VAR, value)
    assert config.is_fast() is fast
    assert config.pick("small", "big") == ("small" if fast else "big")
    assert config.mode_name() == ("FAST" if fast else "full")


def test_cache_dir_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    assert config.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").is_dir()
