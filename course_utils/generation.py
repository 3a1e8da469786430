"""Decoding helpers for chapter 6: diversity measures and an interactive generation playground.

The chapter calls ``model.generate`` with a ``GenerationConfig`` in the open; this module holds what
would otherwise be copied between notebooks: :func:`distinct_n` (the share of distinct n-grams in a set
of samples), :func:`settings_config` (a strategy name + knobs -> ``GenerationConfig``) and
:func:`generation_playground`, an ipywidgets form that shows a first result at once, so the built
(static) book still shows what it does.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

STRATEGIES = ("greedy", "sampling")


def distinct_n(samples: Iterable[Sequence], n: int = 2) -> float:
    """Distinct-n: number of distinct n-grams over the total number of n-grams, pooled over ``samples``.

    ``samples``: token sequences (lists of ids or strings). 1.0 means no n-gram is ever repeated; values
    near 0 mean the samples repeat themselves or each other. Returns 0.0 when there is no n-gram at all.
    """
    if n < 1:
        raise ValueError(f"n must be a positive integer, got {n}.")
    grams = [tuple(s[i:i + n]) for s in samples for i in range(len(s) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def settings_config(strategy: str = "sampling", temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                    repetition_penalty: float = 1.0, max_new_tokens: int = 40, tokenizer=None):
    """A ``GenerationConfig`` for one strategy: ``"greedy"`` (argmax each step) or ``"sampling"``.

    ``top_k=0`` and ``top_p=1.0`` switch those filters off. The repetition penalty applies to both.
    """
    from transformers import GenerationConfig

    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.")
    ids = {}
    if tokenizer is not None:
        ids = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    if strategy == "greedy":
        return GenerationConfig(do_sample=False, max_new_tokens=max_new_tokens,
                                repetition_penalty=repetition_penalty, **ids)
    return GenerationConfig(do_sample=True, temperature=temperature, top_k=top_k, top_p=top_p,
                            repetition_penalty=repetition_penalty, max_new_tokens=max_new_tokens, **ids)


def generate(model, tokenizer, prompt: str, config, seed: int = 0) -> str:
    """Continue ``prompt`` with ``model.generate(**inputs, generation_config=config)``; returns the new text."""
    import torch

    torch.manual_seed(seed)
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, generation_config=config)
    return tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def generation_playground(model, tokenizer, prompt: str = "The history of", seed: int = 0):
    """An ipywidgets form: prompt, strategy, temperature, top-k, top-p, repetition penalty, max_new_tokens.

    Press *Generate* to continue the prompt; the output of the default settings is shown from the start,
    so a static rendering (the built book) shows a real result.
    """
    import ipywidgets as w
    from IPython.display import display

    style = {"description_width": "150px"}
    text = w.Text(value=prompt, description="prompt", style=style, layout=w.Layout(width="600px"))
    strategy = w.Dropdown(options=STRATEGIES, value="sampling", description="strategy", style=style)
    temperature = w.FloatSlider(value=0.8, min=0.1, max=2.0, step=0.1, description="temperature", style=style)
    top_k = w.IntSlider(value=50, min=0, max=200, description="top-k (0 = off)", style=style)
    top_p = w.FloatSlider(value=0.95, min=0.05, max=1.0, step=0.05, description="top-p (1 = off)", style=style)
    penalty = w.FloatSlider(value=1.2, min=1.0, max=2.0, step=0.05, description="repetition penalty", style=style)
    max_new = w.IntSlider(value=40, min=5, max=120, description="max_new_tokens", style=style)
    button = w.Button(description="Generate", button_style="primary")
    out = w.Output(layout=w.Layout(border="1px solid #ccc", padding="4px", width="600px"))

    def run(_=None):
        config = settings_config(strategy.value, temperature.value, top_k.value, top_p.value, penalty.value,
                                 max_new.value, tokenizer=tokenizer)
        result = generate(model, tokenizer, text.value, config, seed=seed)
        out.clear_output()
        with out:
            print(text.value + result)

    button.on_click(run)
    box = w.VBox([text, strategy, temperature, top_k, top_p, penalty, max_new, button, out])
    run()
    display(box)
    return box
