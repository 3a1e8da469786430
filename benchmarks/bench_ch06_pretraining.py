"""The tiny GPT and tiny BERT of chapter 6, trained in full mode
(chapters/06_pretraining).

``run(mode)`` trains the tiny GPT with the chapter's settings but more steps
(``GPT_STEPS``; each figure records the training time, 613 s on the 2-core
course machine in the shipped results), scores the held-out articles with a
sliding window and compares the token perplexity with modified Kneser-Ney
n-gram models (n = 2, 3, 4) fitted on the same BPE tokens of the same training
articles; it records the training speed in tokens per second. The held-out loss
is also recorded at every fifth of the run (what more steps buy). It then
trains the tiny BERT with the chapter's settings and records its masked-token
accuracy on the held-out blocks (seeded masking) next to the always-the-most-
frequent-token baseline. FAST mode runs the same code on the FAST data for a
few steps.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from course_utils import config, pretraining

GPT_STEPS = {
    "full": 3000,
    "fast": 30,
}  # 3000 x 8 x 128 tokens: 613 s at about 5k tokens/s on 2 cores


def _gpt(mode: str) -> dict:
    fast = mode != "full"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        run = pretraining.train_tiny_gpt(
            Path(work), fast=fast, max_steps=GPT_STEPS[mode], evaluate=True
        )
    model, tok, split = run["model"], run["tokenizer"], run["split"]
    block = pretraining.BLOCK_SIZE[pretraining.mode(fast)]
    heldout = pretraining.article_token_ids(split["validation"]["text"], tok)
    train_ids = pretraining.article_token_ids(split["train"]["text"], tok)
    gpt_ppl = pretraining.perplexity(
        pretraining.gpt_token_nll(
            model, heldout, tok.eos_token_id, window=block, stride=block // 2
        )
    )
    ngram_ppl = {
        n: pretraining.perplexity(
            pretraining.ngram_token_nll(
                pretraining.fit_token_ngram(n, train_ids, len(tok)), heldout
            )
        )
        for n in (2, 3, 4)
    }
    best_n = min(ngram_ppl, key=ngram_ppl.get)
    seconds = time.perf_counter() - start
    n_params = sum(p.numel() for p in model.parameters())
    batch = pretraining.gpt_train_settings(fast)["per_device_train_batch_size"]
    setting = (
        f"{mode}: {n_params:,} params, V={len(tok)}, block {block}, "
        f"{GPT_STEPS[mode]} steps x "
        f"{batch} blocks, "
        f"training {run['seconds']:.0f} s on {torch.get_num_threads()} "
        "threads, 5 held-out evaluations included"
    )
    # the Trainer's evaluations every fifth of the run: mean loss over the
    # held-out blocks of group_texts (which run
    # across article ends), not the per-article count of the final figure, so
    # the two differ a little; the learning
    # rate is still decaying at the earlier points
    curve = {
        f"ch06/tiny_gpt/heldout_block_perplexity_after_{log['step']}_steps": {
            "value": round(math.exp(log["eval_loss"]), 2),
            "unit": "perplexity (BPE tokens, disjoint blocks of the "
            "held-out articles)",
            "baseline": f"best n-gram: {best_n}-gram modified Kneser-Ney on "
            "the same tokens",
            "baseline_value": round(ngram_ppl[best_n], 2),
            "seconds": round(run["seconds"] * log["step"] / GPT_STEPS[mode], 1),
            "setting": setting,
        }
        for log in run["trainer"].state.log_history
        if "eval_loss" in log
    }
    return {
        **curve,
        "ch06/tiny_gpt/heldout_token_perplexity": {
            "value": round(gpt_ppl, 2),
            "unit": "perplexity (BPE tokens, sliding window)",
            "baseline": f"best n-gram: {best_n}-gram modified Kneser-Ney on "
            "the same tokens",
            "baseline_value": round(ngram_ppl[best_n], 2),
            "seconds": round(seconds, 1),
            "setting": setting,
            "beats_baseline": bool(gpt_ppl < ngram_ppl[best_n]),
        },
        "ch06/tiny_gpt/training_tokens_per_second": {
            "value": round(run["tokens_per_second"], 1),
            "unit": "tokens/s",
            "baseline": "",
            "baseline_value": None,
            "seconds": round(run["seconds"], 1),
            "setting": setting,
        },
    }


def _bert(mode: str) -> dict:
    from transformers import DataCollatorForLanguageModeling

    fast = mode != "full"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        run = pretraining.train_tiny_bert(Path(work), fast=fast)
    model, tok, blocks = run["model"], run["tokenizer"], run["blocks"]
    collator = DataCollatorForLanguageModeling(
        tok, mlm=True, mlm_probability=pretraining.MLM_PROBABILITY
    )
    # the chapter's masking (seed 1) and top-1 predictions at every position
    pred, val = pretraining.masked_predictions(
        model, collator, blocks["validation"]["input_ids"], seed=1
    )
    chosen = val["labels"] != -100
    acc = float((pred[chosen] == val["labels"][chosen]).float().mean())
    counts = Counter(
        t
        for ids in blocks["train"]["input_ids"]
        for t in ids
        if t not in tok.all_special_ids
    )
    top = max(counts, key=counts.get)
    majority = float((val["labels"][chosen] == top).float().mean())
    steps = pretraining.bert_train_settings(fast)["max_steps"]
    return {
        "ch06/tiny_bert/masked_token_accuracy": {
            "value": round(acc, 4),
            "unit": "accuracy (top-1 at masked positions, held-out blocks)",
            "baseline": "always the most frequent training token "
            f"{tok.convert_ids_to_tokens(top)!r}",
            "baseline_value": round(majority, 4),
            "seconds": round(time.perf_counter() - start, 1),
            "setting": f"{mode}: {steps} steps, "
            f"training {run['seconds']:.0f} s, "
            f"{int(chosen.sum())} masked positions",
        }
    }


def run(mode: str) -> dict:
    torch.set_num_threads(2)
    return {**_gpt(mode), **_bert(mode)}


if __name__ == "__main__":
    import json

    print(json.dumps(run("fast" if config.is_fast() else "full"), indent=2))
