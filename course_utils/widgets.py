"""Small ipywidgets explorers for the notebooks.

Each explorer shows its first result at once (in an ``HTML`` or ``Output``
widget whose value is saved with the notebook's widget state), so the built HTML
book shows a sensible static result even though no kernel runs behind it.
``tokenizer_explorer`` is chapter 5's; ``generation_playground`` is chapter 6's.
``show_bertviz`` displays a bertviz view (chapter 3) with its JavaScript inline,
so that it draws without network access.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path

from .errors import require

DEFAULT_TEXT = (
    "Tokenizers split unbelievably rare words, émojis 🤗 and 中文 differently."
)


def _tokens_and_ids(tokenizer, text: str) -> tuple[list[str], list[int]]:
    """The pieces and ids of ``text`` (no special tokens) for a transformers or
    a raw ``tokenizers`` tokenizer."""
    if hasattr(tokenizer, "encode_batch"):  # tokenizers.Tokenizer
        enc = tokenizer.encode(text, add_special_tokens=False)
        return list(enc.tokens), list(enc.ids)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer.convert_ids_to_tokens(ids), list(ids)


def tokenization_table_html(
    tokenizers: Mapping[str, object], text: str, max_tokens: int = 60
) -> str:
    """An HTML table: one row per tokenizer with its token count, its pieces (as
    coloured chips) and ids."""
    rows = []
    for name, tok in tokenizers.items():
        tokens, ids = _tokens_and_ids(tok, text)
        chips = "".join(
            "<span "
            f'style="background:{"#dbeafe" if i % 2 == 0 else "#fde68a"};'
            "padding:1px 3px;margin:1px;"
            f'border-radius:3px;font-family:monospace;display:inline-block">{html.escape(t)}</span>'
            for i, t in enumerate(tokens[:max_tokens])
        )
        more = (
            f" … (+{len(tokens) - max_tokens})"
            if len(tokens) > max_tokens
            else ""
        )
        id_text = html.escape(" ".join(map(str, ids[:max_tokens]))) + more
        rows.append(
            "<tr><td "
            f"style='text-align:left;vertical-align:top'><b>{html.escape(name)}</b></td>"
            f"<td style='vertical-align:top'>{len(tokens)}</td>"
            f"<td style='text-align:left'>{chips}{more}<br><small "
            f"style='color:#555'>ids: {id_text}</small></td></tr>"
        )
    return (
        "<table "
        "style='border-collapse:collapse'><tr><th>tokenizer</th><th>tokens</th>"
        "<th style='text-align:left'>pieces and ids</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def tokenizer_explorer(
    tokenizers: Mapping[str, object], text: str = DEFAULT_TEXT
):
    """A text box and, below it, every tokenizer's pieces, ids and token count
    side by side.

    ``tokenizers`` maps a display name to a ``transformers`` tokenizer or a
    ``tokenizers.Tokenizer``. Typing in the box re-tokenizes (when a kernel
    runs); the table for ``text`` is part of the saved widget state, so it also
    shows in the static HTML book. Returns the ``ipywidgets.VBox`` (display it,
    or leave it last in a cell).
    """
    import ipywidgets as widgets

    if not isinstance(tokenizers, Mapping) or not tokenizers:
        from .errors import CourseError

        raise CourseError(
            "tokenizer_explorer needs a dict {name: tokenizer} with at least "
            "one tokenizer."
        )
    box = widgets.Text(
        value=text,
        description="Text:",
        continuous_update=False,
        layout=widgets.Layout(width="95%"),
    )
    table = widgets.HTML(value=tokenization_table_html(tokenizers, text))

    def update(change):
        table.value = tokenization_table_html(tokenizers, change["new"])

    box.observe(update, names="value")

    class _Explorer(widgets.VBox):
        def _repr_mimebundle_(self, **kwargs):
            data = super()._repr_mimebundle_(**kwargs)
            if isinstance(
                data, dict
            ):  # a static fallback for viewers that cannot show widgets
                data["text/html"] = (
                    f"<p><code>{html.escape(box.value)}</code></p>"
                    + table.value
                )
            return data

    return _Explorer([box, table])


def generation_playground(
    model, tokenizer, prompt: str = "The history of", seed: int = 0
):
    """An ipywidgets form: prompt, strategy, temperature, top-k, top-p,
    repetition penalty, max_new_tokens.

    Press *Generate* to continue the prompt (with chapter 6's
    ``settings_config`` and ``generate``); the output of the default settings is
    shown from the start, so a static rendering (the built book) shows a real
    result.
    """
    import ipywidgets as w
    from IPython.display import display

    from .generation import STRATEGIES, generate, settings_config

    style = {"description_width": "150px"}

    def slider(cls, value, low, high, label, **step):
        return cls(
            value=value,
            min=low,
            max=high,
            description=label,
            style=style,
            **step,
        )

    wide = w.Layout(width="600px")
    text = w.Text(value=prompt, description="prompt", style=style, layout=wide)
    strategy = w.Dropdown(
        options=STRATEGIES,
        value="sampling",
        description="strategy",
        style=style,
    )
    temperature = slider(w.FloatSlider, 0.8, 0.1, 2.0, "temperature", step=0.1)
    top_k = slider(w.IntSlider, 50, 0, 200, "top-k (0 = off)")
    top_p = slider(w.FloatSlider, 0.95, 0.05, 1.0, "top-p (1 = off)", step=0.05)
    penalty = slider(
        w.FloatSlider, 1.2, 1.0, 2.0, "repetition penalty", step=0.05
    )
    max_new = slider(w.IntSlider, 40, 5, 120, "max_new_tokens")
    button = w.Button(description="Generate", button_style="primary")
    out = w.Output(
        layout=w.Layout(border="1px solid #ccc", padding="4px", width="600px")
    )

    def run(_=None):
        config = settings_config(
            strategy.value,
            temperature.value,
            top_k.value,
            top_p.value,
            penalty.value,
            max_new.value,
            tokenizer=tokenizer,
        )
        result = generate(model, tokenizer, text.value, config, seed=seed)
        out.clear_output()
        with out:
            print(text.value + result)

    button.on_click(run)
    controls = [text, strategy, temperature, top_k, top_p, penalty, max_new]
    box = w.VBox([*controls, button, out])
    run()
    display(box)
    return box


# The scripts a bertviz view fetches from CDNs (require.js, d3, jQuery), shipped
# in course_data/: copies from node_modules, pinned by package-lock.json, with
# their licence headers (all licences in javascript-licences.txt).
BERTVIZ_SCRIPTS = {
    "require": "require-2.3.6.js",
    "jquery": "jquery-2.2.4.min.js",
    "d3": "d3-5.7.0.min.js",
}
_CDN_SCRIPT_TAG = re.compile(
    r"<script\s+src=[\"']https?://[^\"']*[\"']>\s*</script>"
)
_CDN_PATHS = re.compile(r"require\.config\(\{\s*paths:\s*\{[^}]*\}\s*\}\);")


def _bertviz_library_script() -> str:
    """One inline <script>: require.js, jQuery (which names itself "jquery"
    to require.js) and d3 (whose anonymous AMD define would clash with
    require.js inline, so it is made a global and registered as "d3").
    """
    folder = Path(__file__).resolve().parent / "course_data"
    code = {
        name: (folder / file).read_text(encoding="utf-8")
        for name, file in BERTVIZ_SCRIPTS.items()
    }
    source = "\n".join(
        [
            code["require"],
            code["jquery"],
            "(function (define) {",
            code["d3"],
            "}).call(window);",
            'define("d3", [], function () { return window.d3; });',
        ]
    )
    # "</script" inside the code would end the tag early
    return (
        "<script>\n" + source.replace("</script", "<\\/script") + "\n</script>"
    )


def bertviz_offline_html(view) -> str:
    """The HTML of a bertviz view with require.js, d3 and jQuery inline
    instead of loaded from CDNs.

    ``view`` is what ``head_view(...)`` or ``model_view(...)`` return with
    ``html_action="return"`` (an ``IPython.display.HTML``) or its ``.data``.
    """
    text = getattr(view, "data", view)
    require(
        isinstance(text, str) and "requirejs(" in text,
        "show_bertviz needs the HTML of a bertviz view: pass "
        "head_view(..., html_action='return') (or model_view), not "
        f"{type(view).__name__}.",
    )
    text = _CDN_SCRIPT_TAG.sub("", text)
    text, count = _CDN_PATHS.subn("", text)
    require(
        count == 1,
        "This bertviz version loads its scripts differently from 1.4: "
        "show it with bertviz's own display, which needs the network.",
    )
    return _bertviz_library_script() + text


def show_bertviz(view) -> None:
    """Display a bertviz view that draws without network access: its
    scripts are inline (see ``bertviz_offline_html``), not fetched from CDNs.
    """
    from IPython.display import HTML, display

    display(HTML(bertviz_offline_html(view)))
