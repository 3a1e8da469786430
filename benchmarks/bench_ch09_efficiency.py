"""Chapter 9's speed ratios, measured by running notebook 02_faster_inference in
full mode (chapters/09_scaling).

``run(mode)`` executes the notebook top to bottom in a fresh kernel
(``notebook_values``) and reads its own figures: the generation speed-up from
the KV cache (256 new tokens, GPT-2 of 4 layers x 256), the speed-up of
``scaled_dot_product_attention`` over the written-out attention at the longest
sequence (2,048 tokens in full mode), and the throughput ratio of length-sorted
dynamic padding over padding every tweet to 128 tokens (MiniLM, 1,024 tweets).
The notebook asserts the outputs equal; this module records how much faster they
are.
"""

from __future__ import annotations

from pathlib import Path

import notebook_values  # benchmarks/, on sys.path when benchmarks/run.py runs

NOTEBOOK = (
    Path(__file__).resolve().parent.parent
    / "chapters/09_scaling/02_faster_inference.ipynb"
)
FIGURES = """{
 "kv": float(kv_speedup),
 "kv_flops": flops["without cache"] / flops["with cache"],
 "new_tokens": new_tokens,
 "sdpa": float(sdpa_speedup),
 "T": int(attention.index[-1]),
 "padding": float(padding_speedup),
 "dynamic": results["max_length"]["seconds"] / results["dynamic"]["seconds"],
 "texts": len(texts),
 "threads": __import__("torch").get_num_threads(),
}"""


def _entry(value, unit, baseline, seconds, setting):
    return {
        "value": round(float(value), 2),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": 1.0,
        "seconds": round(seconds, 1),
        "setting": setting,
    }


def run(mode: str) -> dict:
    seconds, fig = notebook_values.execute(NOTEBOOK, mode, FIGURES)
    where = (
        f"notebook 02_faster_inference in {mode} mode, {fig['threads']} threads"
    )
    return {
        "ch09/kv_cache_generation_speedup": _entry(
            fig["kv"],
            "x (time without cache / with cache)",
            "no cache",
            seconds,
            f"{where}: GPT-2 4 layers x 256, {fig['new_tokens']} new tokens, "
            f"greedy; FLOP ratio {fig['kv_flops']:.1f}",
        ),
        "ch09/sdpa_attention_speedup": _entry(
            fig["sdpa"],
            "x (time naive / SDPA)",
            "written-out attention",
            seconds,
            f"{where}: causal attention, 1 x 4 heads x {fig['T']} tokens x 64",
        ),
        "ch09/dynamic_padding_throughput_ratio": _entry(
            fig["padding"],
            "x (texts/s sorted dynamic / max_length)",
            "padding to 128 tokens",
            seconds,
            f"{where}: MiniLM, {fig['texts']} tweets, batches of 32; unsorted "
            f"dynamic padding {fig['dynamic']:.2f}x",
        ),
    }
