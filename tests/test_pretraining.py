"""course_utils.pretraining, the tiny-gpt / tiny-bert recipes (FAST builds) and
course_utils.generation."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import course_models, generation, ngram, pretraining
from course_utils.errors import CourseError


@pytest.fixture(scope="module")
def small_tokenizer():
    split = pretraining.load_split(fast=True)
    return pretraining.train_tokenizer(split["train"]["text"], 512), split


def test_split_is_chapter_1s():
    import inspect

    from course_utils import data

    defaults = inspect.signature(ngram.load_lm_corpus).parameters
    assert pretraining.SPLIT == {
        "test_size": defaults["test_size"].default,
        "seed": defaults["seed"].default,
    }
    articles = data.load_wikipedia()
    split = pretraining.load_split(fast=False, articles=articles)
    chapter1 = articles.train_test_split(
        test_size=0.1, seed=0
    )  # what load_lm_corpus() does
    assert list(split["train"]["title"]) == list(chapter1["train"]["title"])
    assert list(split["validation"]["title"]) == list(chapter1["test"]["title"])


def test_tokenizer_is_lossless_and_has_the_special_tokens(small_tokenizer):
    tok, split = small_tokenizer
    text = split["validation"][0]["text"][:300] + " Ünïcödé 漢字 ✓"
    assert tok.decode(tok(text)["input_ids"]) == text
    assert tok.eos_token == tok.bos_token == pretraining.EOS
    assert (
        tok.mask_token == pretraining.MASK and tok.pad_token == pretraining.PAD
    )
    assert tok("is <mask>.")["input_ids"][-2] == tok.mask_token_id


def test_tokenizer_rejects_a_tiny_vocabulary():
    with pytest.raises(CourseError, match="too small"):
        pretraining.train_tokenizer(["some text"], 100)


def test_group_texts():
    ex = {
        "input_ids": [[1, 2, 3, 4, 5], [6, 7, 8, 9]],
        "attention_mask": [[1] * 5, [1] * 4],
    }
    out = pretraining.group_texts(ex, 4)
    assert out["input_ids"] == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert (
        out["labels"] == out["input_ids"]
        and out["labels"][0] is not out["input_ids"][0]
    )
    assert out["attention_mask"] == [[1] * 4] * 2
    assert pretraining.group_texts(ex, 20)["input_ids"] == []


def test_ngram_and_gpt_score_the_same_tokens(small_tokenizer):
    tok, split = small_tokenizer
    ids = pretraining.article_token_ids(split["validation"]["text"], tok)
    ids = [a[:150] for a in ids]
    lm = pretraining.fit_token_ngram(
        2, pretraining.article_token_ids(split["train"]["text"], tok), len(tok)
    )
    n_nll = pretraining.ngram_token_nll(lm, ids)
    torch.manual_seed(0)
    model = __import__("transformers").GPT2LMHeadModel(
        pretraining.gpt_config(
            tok, n_layer=1, n_embd=32, n_head=2, n_inner=64, n_positions=64
        )
    )
    g_sliding = pretraining.gpt_token_nll(
        model, ids, tok.eos_token_id, window=64, stride=16
    )
    g_blocks = pretraining.gpt_token_nll(
        model, ids, tok.eos_token_id, window=64, stride=64
    )
    n_pred = sum(len(a) + 1 for a in ids)
    assert len(n_nll) == len(g_sliding) == len(g_blocks) == n_pred
    assert np.isfinite(n_nll).all() and np.isfinite(g_sliding).all()
    # a window longer than every article scores each article in one pass: the
    # same as any stride
    g_whole = pretraining.gpt_token_nll(
        model, [a[:40] for a in ids], tok.eos_token_id, window=64, stride=16
    )
    g_whole2 = pretraining.gpt_token_nll(
        model, [a[:40] for a in ids], tok.eos_token_id, window=64, stride=64
    )
    np.testing.assert_allclose(
        g_whole, g_whole2, rtol=2e-5, atol=2e-5
    )  # one GPT layer (CONTRIBUTING.md)
    # the sliding window's scores equal a direct forward pass over the first
    # window
    seq = torch.tensor([[tok.eos_token_id] + ids[0][:63]])
    with torch.no_grad():
        direct = -torch.log_softmax(model(seq).logits[0, :-1], -1).gather(
            -1, seq[0, 1:, None]
        )[:, 0]
    # one GPT layer, run in a padded batch of 16 against a batch of 1
    # (CONTRIBUTING.md)
    np.testing.assert_allclose(
        g_sliding[:63], direct.double().numpy(), rtol=2e-5, atol=2e-5
    )
    with pytest.raises(CourseError, match="stride"):
        pretraining.gpt_token_nll(
            model, ids, tok.eos_token_id, window=64, stride=100
        )


def test_settings_per_mode():
    assert (
        pretraining.gpt_train_settings(True)["max_steps"]
        < pretraining.gpt_train_settings(False)["max_steps"]
    )
    assert (
        pretraining.bert_train_settings(True)["max_steps"]
        < pretraining.bert_train_settings(False)["max_steps"]
    )


def test_tiny_gpt_recipe_fast_build(tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    monkeypatch.setenv("COURSE_FAST", "1")
    folder = course_models.ensure("tiny-gpt")
    assert folder.parent.parent == tmp_path and course_models.is_built(
        "tiny-gpt", fast=True
    )
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    x = tok("The history of the city", return_tensors="pt")
    with torch.no_grad():
        loss = model(**x, labels=x["input_ids"]).loss
    assert math.isfinite(loss.item()) and loss.item() < math.log(
        len(tok)
    )  # trained: better than uniform
    generator = pipeline("text-generation", model=model, tokenizer=tok)
    out = generator("The history of", max_new_tokens=5, do_sample=False)[0][
        "generated_text"
    ]
    assert out.startswith("The history of") and len(out) > len("The history of")
    # save / load round trip: identical logits
    model.save_pretrained(tmp_path / "copy")
    again = AutoModelForCausalLM.from_pretrained(tmp_path / "copy").eval()
    with torch.no_grad():
        torch.testing.assert_close(
            again(**x).logits, model(**x).logits, rtol=0, atol=0
        )


def test_tiny_bert_recipe_fast_build(tmp_path, monkeypatch):
    from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    monkeypatch.setenv("COURSE_FAST", "1")
    folder = course_models.ensure("tiny-bert")
    model = AutoModelForMaskedLM.from_pretrained(folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    preds = pipeline("fill-mask", model=model, tokenizer=tok)(
        "The river flows into the <mask>.", top_k=3
    )
    assert len(preds) == 3 and all(0 <= p["score"] <= 1 for p in preds)
    assert preds[0]["score"] >= preds[-1]["score"]
    model.save_pretrained(tmp_path / "copy")
    again = AutoModelForMaskedLM.from_pretrained(tmp_path / "copy").eval()
    x = tok("A short test sentence.", return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(
            again(**x).logits, model(**x).logits, rtol=0, atol=0
        )


def test_fast_training_loss_falls(tmp_path):
    from transformers import get_cosine_schedule_with_warmup

    run = pretraining.train_tiny_gpt(tmp_path, fast=True)
    history = run["trainer"].state.log_history
    losses = [h["loss"] for h in history if "loss" in h]
    assert losses[-1] < losses[0]
    assert run["tokens_per_second"] > 0
    # the loss transformers' table knows: no warning, and the Trainer divides
    # by the T - 1 predicted tokens of a block, not by T
    assert run["model"].loss_type == "ForCausalLM"
    # the logged learning rates follow the warm-up + cosine schedule
    settings = pretraining.gpt_train_settings(True)
    total = settings["max_steps"]
    optimizer = torch.optim.SGD(
        [torch.zeros(1, requires_grad=True)], lr=settings["learning_rate"]
    )
    schedule = get_cosine_schedule_with_warmup(
        optimizer, run["trainer"].args.get_warmup_steps(total), total
    )
    expected = []
    for _ in range(total + 1):
        expected.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    logged = [(h["step"], h["learning_rate"]) for h in history if "loss" in h]
    assert logged
    for step, lr in logged:  # logged at step s: the s-th update's rate
        assert math.isclose(lr, expected[step - 1], rel_tol=1e-6), step


CHAPTER_6 = sorted(
    (Path(__file__).parent.parent / "chapters").glob("06_pretraining/*.ipynb")
)


@pytest.mark.parametrize("notebook", CHAPTER_6, ids=lambda p: p.name)
def test_chapter_6_leaves_no_temp_folder_and_keeps_progress(notebook):
    """No bare mkdtemp (a folder left behind) and no disable_tqdm (raw log
    dicts instead of the Trainer's progress display), on the pages and in the
    modules they export."""
    import json

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = "".join("".join(c["source"]) for c in cells)
    assert "mkdtemp" not in code and "disable_tqdm" not in code
    for module in (pretraining, generation):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert "mkdtemp" not in source and "disable_tqdm" not in source


def test_distinct_n():
    assert generation.distinct_n([[1, 2, 3, 4]], 2) == 1.0
    assert generation.distinct_n([[1, 1, 1, 1]], 1) == 0.25
    assert generation.distinct_n([[1]], 2) == 0.0
    with pytest.raises(CourseError, match="positive integer"):
        generation.distinct_n([[1, 2]], 0)


def test_settings_config():
    greedy = generation.settings_config("greedy", max_new_tokens=7)
    assert greedy.do_sample is False and greedy.max_new_tokens == 7
    sampling = generation.settings_config(
        "sampling", temperature=0.7, top_k=10, top_p=0.9
    )
    assert (
        sampling.do_sample
        and sampling.temperature == 0.7
        and sampling.top_k == 10
        and sampling.top_p == 0.9
    )
    with pytest.raises(CourseError, match="Unknown strategy"):
        generation.settings_config("beam")
