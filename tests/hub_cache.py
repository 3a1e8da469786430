"""A Hugging Face cache that answers, offline, every Hub request the course
makes.

On Colab the notebooks download checkpoints from the Hub (``cu.hub_reachable()``
is True). CI has no Hub, so without this those branches would never run and
could rot unseen (one did: a pipeline task that transformers 5 removed). This
module writes a Hub cache with a checkpoint at each pinned revision of
``course_utils.assets.HUB_REVISIONS``; with ``COURSE_HUB=cache``,
``HF_HUB_OFFLINE=1`` and ``HF_HUB_CACHE`` pointing here, the Hub branches
execute for real.

The MiniLM entry holds the real weights (the packaged copy). GPT-2 and
distilbart are stand-ins: the real GPT-2 tokenizer (built from the packaged BPE
ranks) with tiny random weights, so their code paths run but their outputs are
noise. Each says so in a README.
"""

from __future__ import annotations

import shutil
from pathlib import Path

STAND_IN = (
    "A stand-in written by tests/hub_cache.py for offline CI: the "
    "architecture and "
    "tokenizer of {repo} with tiny random weights. Its outputs are noise.\n"
)


def _snapshot(root: Path, repo_id: str, revision: str) -> Path:
    repo = root / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    folder = repo / "snapshots" / revision
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _gpt2_tokenizer():
    from course_utils import tokenization

    tokenizer = tokenization.gpt2_tokenizer(use_hub=False)
    tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _tiny_gpt2(folder: Path) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    tokenizer = _gpt2_tokenizer()
    eos = tokenizer.eos_token_id
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=256,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _tiny_bart(folder: Path) -> None:
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = _gpt2_tokenizer()
    eos = tokenizer.eos_token_id
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=1024,
        pad_token_id=eos,
        bos_token_id=eos,
        eos_token_id=eos,
        decoder_start_token_id=eos,
        forced_bos_token_id=None,
        forced_eos_token_id=None,
    )
    BartForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def build(root: Path) -> Path:
    """Write the cache into ``root`` (an empty folder) and return it."""
    from course_utils import asset_path
    from course_utils.assets import HUB_REVISIONS

    writers = {
        "sentence-transformers/all-MiniLM-L6-v2": lambda folder: (
            shutil.copytree(
                asset_path("all-MiniLM-L6-v2"), folder, dirs_exist_ok=True
            )
        ),
        "openai-community/gpt2": _tiny_gpt2,
        "sshleifer/distilbart-cnn-12-6": _tiny_bart,
    }
    assert set(writers) == set(HUB_REVISIONS), (
        "a pinned Hub checkpoint has no stand-in here"
    )
    for repo_id, revision in HUB_REVISIONS.items():
        folder = _snapshot(root, repo_id, revision)
        writers[repo_id](folder)
        if repo_id != "sentence-transformers/all-MiniLM-L6-v2":
            (folder / "README.md").write_text(STAND_IN.format(repo=repo_id))
    return root


def hub_env(root: Path) -> dict[str, str]:
    """Environment variables under which the course takes its Hub branches, from
    ``root``."""
    return {
        "COURSE_HUB": "cache",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(root),
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
