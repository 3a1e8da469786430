"""Notebooks outside the book: plain copies for Colab, bertviz offline.

Colab and a downloaded notebook show MyST markup as raw text, so
scripts/colab.py writes a plain copy of every chapter and exercise notebook
under colab/, and the book's Colab button opens it. These tests fail while a
copy is stale or still holds a MyST role or directive, and check the converter
on small fixtures. bertviz's views fetch their JavaScript from CDNs;
course_utils.widgets.show_bertviz puts the packaged copies inline, and a test
draws a view in headless Chromium with every request refused.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(
        name, REPO / "scripts" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


colab = _load("colab")


@pytest.fixture(scope="module")
def course():
    return colab.build_course(render_diagrams=False)


def _convert(course, markdown, notebook="chapters/03_transformer/01_attention"):
    conversion = colab.NotebookConversion(course, notebook + ".ipynb")
    text, attachments = conversion.markdown(markdown)
    return text, attachments, conversion


def _copies() -> list[Path]:
    return sorted((REPO / "colab").glob("**/*.ipynb"))


# --------------------------------------------------------------------------
# the committed copies
# --------------------------------------------------------------------------


def test_every_chapter_and_exercise_has_a_fresh_copy(capsys):
    sources = colab.sources()
    assert any("exercises/" in p.as_posix() for p in sources)
    assert any("chapters/" in p.as_posix() for p in sources)
    assert colab.main(["--check"]) == 0, capsys.readouterr().out
    expected = {
        REPO / "colab" / p.relative_to(REPO).as_posix() for p in sources
    }
    assert set(_copies()) == expected


def test_no_copy_holds_myst_markup():
    leftovers = {}
    for path in _copies():
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                found = colab.myst_leftovers("".join(cell["source"]))
                if found:
                    leftovers[path.relative_to(REPO).as_posix()] = found
    assert not leftovers, f"MyST left in the Colab copies: {leftovers}"


def test_no_copy_links_a_relative_path():
    """Colab opens a notebook alone: a relative link or image leads nowhere."""
    relative = {}
    for path in _copies():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for target in re.findall(
                r"\]\(([^)\s]+)\)", "".join(cell["source"])
            ):
                if not re.match(r"^(https?:|attachment:|mailto:|#)", target):
                    relative.setdefault(path.name, []).append(target)
    assert not relative, relative


def test_the_copies_keep_the_code_and_drop_the_outputs():
    for source in colab.sources():
        copy = REPO / "colab" / source.relative_to(REPO)
        original = json.loads(source.read_text(encoding="utf-8"))["cells"]
        cells = json.loads(copy.read_text(encoding="utf-8"))["cells"]
        code = [c["source"] for c in original if c["cell_type"] == "code"]
        assert [c["source"] for c in cells if c["cell_type"] == "code"] == code
        assert all(
            not c.get("outputs") for c in cells if c["cell_type"] == "code"
        )


def test_the_colab_button_opens_the_copies_at_the_release():
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    settings = colab.course_settings()
    assert config["repository"]["path_to_book"] == "colab"
    assert config["repository"]["branch"] == settings["ref"]
    assert "colab" in config["exclude_patterns"]
    # the button's path is path_to_book + the page name + .ipynb
    toc = (REPO / "_toc.yml").read_text()
    pages = [
        page.removesuffix(".ipynb")
        for page in re.findall(r"file:\s*(\S+)", toc)
        if (REPO / f"{page.removesuffix('.ipynb')}.ipynb").exists()
    ]
    assert len(pages) == len(colab.sources())
    for page in pages:
        assert (REPO / "colab" / f"{page}.ipynb").exists(), page


def test_diagrams_are_images_inside_the_notebook():
    with_diagram = 0
    for path in _copies():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for name in re.findall(
                r"\(attachment:([^)]+)\)", "".join(cell.get("source", []))
            ):
                png = cell["attachments"][name]["image/png"]
                assert png.startswith("iVBORw0KGg")  # base64 of a PNG header
                with_diagram += 1
    assert with_diagram >= 9  # every mermaid diagram of the chapters


# --------------------------------------------------------------------------
# the detector
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "as shown by {cite:p}`vaswani2017`.",
        "see {ref}`ex-ch03-explore`",
        "```{note}\nA note.\n```",
        "````{exercise} Title\n:label: x\n\nDo it.\n````",
        ":::{warning}\nCareful.\n:::",
        "* a list item\n\n    ```{note}\n    Nested.\n    ```",
        "(sec-attention)=\n## Attention",
        "$$\nx = 1\n$$ (eq-one)",
        "{math}`x^2` inline",
    ],
)
def test_the_detector_finds_each_kind_of_myst(markdown):
    assert colab.myst_leftovers(markdown)


def test_the_detector_leaves_plain_markdown_and_code_alone():
    plain = (
        "Text with `code`, a [link](https://example.org), $x_{t}$ and\n"
        "```python\nprint(f'{name}`')\n```\n"
        "| a | b |\n|---|---|\n"
    )
    assert colab.myst_leftovers(plain) == []


# --------------------------------------------------------------------------
# the converter on small fixtures
# --------------------------------------------------------------------------


def test_citations_become_author_year_with_a_reference_list(course):
    text, _, conversion = _convert(
        course,
        "Attention {cite:p}`vaswani2017`; {cite:t}`kneser1995` smoothed; "
        "two at once {cite:p}`vaswani2017,shannon1948`.",
    )
    assert text == (
        "Attention (Vaswani et al., 2017); Kneser and Ney (1995) smoothed; "
        "two at once (Vaswani et al., 2017; Shannon, 1948)."
    )
    references = conversion.references_cell()
    assert references.startswith("## References")
    # sorted by first author, each cited work once
    lines = references.splitlines()[2:]
    assert [line.split(" (")[0] for line in lines] == [
        "- Reinhard Kneser and Hermann Ney",
        "- Claude E. Shannon",
        "- Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, "
        "Llion Jones, Aidan N. Gomez, Łukasz Kaiser and Illia Polosukhin",
    ]


def test_a_missing_citation_key_is_an_error(course):
    with pytest.raises(colab.ConversionError, match="nosuchkey2099"):
        _convert(course, "{cite:p}`nosuchkey2099`")


def test_an_exercise_becomes_a_section_and_its_solution_is_dropped(course):
    markdown = (
        "## Exercises\n\n"
        "````{exercise} Count the heads\n:label: ex-fixture\n\n"
        "How many heads?\n\n```python\nprint(12)\n```\n````\n\n"
        "```{solution} ex-fixture\n:class: dropdown\n\nTwelve.\n```\n\n"
        "```{exercise}\nAn untitled one.\n```"
    )
    text, _, _ = _convert(course, markdown)
    assert text == (
        "## Exercises\n\n### Exercise 1 (Count the heads)\n\n"
        "How many heads?\n\n```python\nprint(12)\n```\n\n"
        "### Exercise 2\n\nAn untitled one."
    )
    assert "Twelve" not in text


def test_a_reference_to_an_exercise_elsewhere_links_its_colab_copy(course):
    text, _, _ = _convert(course, "Try {ref}`ex-ch03-explore`.")
    assert text.startswith("Try *Explore: find the heads* of [")
    assert (
        "/blob/v0.1.0/colab/chapters/03_transformer/"
        "03_visualising_attention.ipynb)" in text
    )


def test_a_mermaid_block_becomes_an_attached_png(course, monkeypatch, tmp_path):
    def fake_render(source, image):
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b"\x89PNG\r\n\x1a\n" + source.encode())

    monkeypatch.setattr(colab, "DIAGRAMS", tmp_path)
    monkeypatch.setattr(colab, "render_mermaid", fake_render)
    course.render_diagrams = True
    try:
        text, attachments, _ = _convert(
            course, "Before.\n\n```{mermaid}\nflowchart LR\n  A --> B\n```"
        )
    finally:
        course.render_diagrams = False
    (name,) = attachments
    assert text == f"Before.\n\n![diagram](attachment:{name})"
    assert attachments[name]["image/png"].startswith("iVBORw0KGg")
    # without the browser (--check) a diagram with no image is an error
    with pytest.raises(colab.ConversionError, match="no image"):
        _convert(course, "```{mermaid}\nflowchart LR\n  C --> D\n```")


def test_a_literalinclude_becomes_the_included_code(course):
    text, _, _ = _convert(
        course,
        "```{literalinclude} ../../scripts/colab.py\n:lines: 1-2\n```",
    )
    first_two = (REPO / "scripts" / "colab.py").read_text().splitlines()[:2]
    assert text == "\n".join(["```python", *first_two, "```"])
    from_root, _, _ = _convert(
        course,
        "```{literalinclude} /pyproject.toml\n"
        ":start-after: [tool.setuptools.packages.find]\n"
        ":end-before: include =\n:language: toml\n```",
    )
    toml = (REPO / "pyproject.toml").read_text()
    between = toml.split("[tool.setuptools.packages.find]\n", 1)[1]
    between = between.split("include =", 1)[0].rstrip("\n")
    assert between.startswith("#") and "\n" not in between.strip()
    assert from_root == f"```toml\n{between}\n```"


def test_admonitions_targets_labels_and_links_become_plain(course):
    markdown = (
        "(sec-fixture)=\n## A section\n\n"
        "```{note}\nKeep **this**.\n```\n\n"
        "$$\nE = mc^2\n$$ (eq-fixture)\n\n"
        "See {doc}`02_transformer_layers` and "
        "[the notation](../../book/notation.md)."
    )
    text, _, _ = _convert(course, markdown)
    assert colab.myst_leftovers(text) == []
    assert "> **Note**\n>\n> Keep **this**." in text
    assert "$$\nE = mc^2\n$$" in text
    assert (
        "[the notation](https://github.com/hf-llm-course/llm-theory-practice"
        "/blob/v0.1.0/book/notation.md)" in text
    )
    assert "colab/chapters/03_transformer/02_transformer_layers.ipynb)" in text


def test_markup_without_a_plain_form_stops_the_converter(course):
    with pytest.raises(colab.ConversionError, match="glue"):
        _convert(course, "{glue:}`accuracy`")
    with pytest.raises(colab.ConversionError, match="figure"):
        _convert(course, "```{figure} x.png\n```")


# --------------------------------------------------------------------------
# bertviz without a network
# --------------------------------------------------------------------------

CDN = re.compile(r"cdnjs\.cloudflare\.com|cdn\.jsdelivr\.net|unpkg\.com")


def _external_scripts(html: str) -> list[str]:
    """Script addresses a page would fetch: <script src=...> and require.js
    ``paths`` entries."""
    tags = re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", html)
    paths = re.findall(r"paths\s*:\s*\{[^}]*?[\"'](https?://[^\"']+)", html)
    return tags + paths + CDN.findall(html)


@pytest.fixture(scope="module")
def bertviz_views():
    torch = pytest.importorskip("torch")
    from bertviz import head_view, model_view

    generator = torch.Generator().manual_seed(0)
    tokens = ["[CLS]", "the", "cat", "sat", "[SEP]"]
    # L = 2 layers of [1, h = 2, T = 5, T]
    attention = [
        torch.rand(1, 2, 5, 5, generator=generator).softmax(-1)
        for _ in range(2)
    ]
    return tokens, {
        "head": head_view(attention, tokens, html_action="return"),
        "model": model_view(attention, tokens, html_action="return"),
    }


def test_the_bertviz_html_fetches_no_script(bertviz_views):
    from course_utils import widgets

    _, views = bertviz_views
    for view in views.values():
        # bertviz's own HTML does: the check can fail
        assert _external_scripts(view.data)
        assert _external_scripts(widgets.bertviz_offline_html(view)) == []


def test_the_packaged_scripts_are_the_pinned_npm_files():
    lock = json.loads((REPO / "package-lock.json").read_text())["packages"]
    data = REPO / "course_utils" / "course_data"
    from course_utils import widgets

    sources = {
        "require": "requirejs/require.js",
        "jquery": "jquery/dist/jquery.min.js",
        "d3": "d3/dist/d3.min.js",
    }
    for name, file in widgets.BERTVIZ_SCRIPTS.items():
        package = sources[name].split("/")[0]
        assert lock[f"node_modules/{package}"]["version"] in file
        shipped = (data / file).read_bytes()
        # each keeps its licence header
        assert re.search(rb"licen[cs]e|Copyright", shipped[:300], re.I)
        npm = REPO / "node_modules" / sources[name]
        if npm.exists():
            assert npm.read_bytes() == shipped, f"{file} differs from npm"
    assert (data / "javascript-licences.txt").exists()


def test_show_bertviz_refuses_what_is_not_a_view():
    from bad_input import clear_error
    from course_utils import widgets

    clear_error(lambda: widgets.show_bertviz(None))
    clear_error(lambda: widgets.show_bertviz("<p>not a view</p>"))


def test_a_bertviz_view_draws_with_every_request_refused(bertviz_views):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from course_utils import widgets

    tokens, views = bertviz_views
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu"],
        )
        try:
            for name, view in views.items():
                page = browser.new_page()
                requests = []

                def refuse(route, requests=requests):
                    requests.append(route.request.url)
                    route.abort()

                page.route("**/*", refuse)
                page.set_content(widgets.bertviz_offline_html(view))
                page.wait_for_selector(
                    "div[id^='bertviz-'] svg text", timeout=15000
                )
                drawn = page.locator("div[id^='bertviz-'] svg text")
                texts = drawn.all_text_contents()
                assert requests == [], name
                if name == "head":  # the tokens, left and right
                    assert texts.count("cat") == 2 and len(texts) == 10
                page.close()
        finally:
            browser.close()


# --------------------------------------------------------------------------
# the built book: its Colab button and download give the plain copies
# --------------------------------------------------------------------------


def test_the_built_book_links_and_serves_the_plain_copies():
    html = REPO / "_build" / "fast" / "_build" / "html"
    page = html / "chapters/03_transformer/03_visualising_attention.html"
    if os.environ.get("COURSE_BOOK_PREBUILT") != "1" or not page.exists():
        pytest.skip("needs the FAST book that scripts/test.sh builds first")
    ref = colab.course_settings()["ref"]
    links = re.findall(
        r'href="(https://colab\.research\.google\.com/[^"]+)"',
        page.read_text(encoding="utf-8"),
    )
    assert links and all(
        link.endswith(
            f"/blob/{ref}/colab/chapters/03_transformer/"
            "03_visualising_attention.ipynb"
        )
        for link in links
    ), links
    for source in colab.sources():
        relative = source.relative_to(REPO)
        download = html / "_sources" / relative
        if download.exists():
            copy = REPO / "colab" / relative
            assert download.read_bytes() == copy.read_bytes(), relative
