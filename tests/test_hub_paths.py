"""The code a Colab user runs with the Hub, executed here without it; no API
that is gone.

Offline CI takes the packaged-model branch of every ``if cu.hub_reachable():``.
The Hub branch would rot unseen (chapter 8 once called
``pipeline("summarization")``, a task transformers 5 removed), so these tests
run it against a local Hugging Face cache (tests/hub_cache.py) with
``COURSE_HUB=cache``: the same ``from_pretrained(hub_id, revision=...)`` calls,
answered from disk. And every pipeline task a page names must exist in the
installed transformers, and no page may teach a keyword that transformers has
deprecated.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import hub_cache

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [*REPO.glob("chapters/*/*.ipynb"), *REPO.glob("exercises/*.ipynb")]
)
HUB_NOTEBOOKS = sorted(
    p
    for p in REPO.glob("chapters/*/*.ipynb")
    if "cu.hub_reachable()" in p.read_text(encoding="utf-8")
)
# keyword -> what replaced it (transformers 5)
DEPRECATED = {
    "torch_dtype=": "dtype=",
    "evaluation_strategy=": "eval_strategy=",
    "use_auth_token=": "token=",
    "no_cuda=": "use_cpu=",
    "Trainer(tokenizer=": "processing_class=",
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    return hub_cache.build(tmp_path_factory.mktemp("hub"))


def _paragraphs():
    """(page, text, is_code) for code cells and for the paragraphs of Markdown
    cells."""
    for page in PAGES:
        for cell in nbformat.read(page, as_version=4).cells:
            if cell.cell_type == "code":
                yield page, cell.source, True
            elif cell.cell_type == "markdown":
                for paragraph in cell.source.split("\n\n"):
                    yield page, paragraph, False


def test_every_pipeline_task_a_page_names_exists():
    from transformers.pipelines import get_supported_tasks

    supported = set(get_supported_tasks())
    missing = []
    for page, text, is_code in _paragraphs():
        for task in re.findall(r'pipeline\(\s*(?:task=)?"([^"]+)"', text):
            # prose may say that a task was removed; nothing may call it
            if task not in supported and (is_code or "removed" not in text):
                missing.append(f"{page.relative_to(REPO)}: pipeline({task!r})")
    assert not missing, (
        "tasks that this transformers does not have: " + "; ".join(missing)
    )


def test_no_page_teaches_a_deprecated_keyword():
    found = [
        f"{page.relative_to(REPO)}: {old} (use {new})"
        for page, text, _ in _paragraphs()
        for old, new in DEPRECATED.items()
        if old in text.replace(" ", "")
    ]
    assert not found, "; ".join(found)


def test_hub_branches_of_the_package_load_the_pinned_checkpoints(hub):
    probe = """
import torch
import course_utils as cu
from course_utils import tokenization
from transformers import AutoModel, AutoTokenizer

assert cu.hub_reachable()
folder = cu.resolve_checkpoint("all-MiniLM-L6-v2")
revision = cu.hub_revision("sentence-transformers/all-MiniLM-L6-v2")
assert folder.endswith(revision), folder
tokenizer = AutoTokenizer.from_pretrained(folder)
batch = tokenizer(["the hub branch"], return_tensors="pt")
packaged = str(cu.asset_path("all-MiniLM-L6-v2"))
with torch.no_grad():
    a = AutoModel.from_pretrained(folder)(**batch).last_hidden_state
    b = AutoModel.from_pretrained(packaged)(**batch).last_hidden_state
assert torch.equal(a, b)  # the same weights, the same kernels
hub_tok = tokenization.gpt2_tokenizer(use_hub=True)
text = "Tokenizers split text, don't they?"
offline = tokenization.gpt2_tokenizer(use_hub=False)
assert hub_tok(text)["input_ids"] == offline(text)["input_ids"]
print("hub branches ok")
"""
    env = {**os.environ, **hub_cache.hub_env(hub)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0 and "hub branches ok" in done.stdout, (
        done.stderr[-3000:]
    )


@pytest.mark.parametrize("path", HUB_NOTEBOOKS, ids=lambda p: p.stem)
def test_hub_cells_of_a_chapter_run(hub, path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {**hub_cache.hub_env(hub), "COURSE_FAST": "1", "OMP_NUM_THREADS": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(
                key, value
            )
    printed = "\n".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    assert "Hub: local cache" in printed
    assert "Hub offline" not in printed, "a cell took its offline branch"
