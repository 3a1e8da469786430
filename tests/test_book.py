"""The built book: it builds with warnings as errors, and its pages render
offline in a real browser.

The build runs in FAST mode into _build/fast/_build/html
(scripts/build_book.sh). Headless Debian Chromium, driven by Playwright, then
opens every page over http://127.0.0.1 and checks that the maths is typeset,
diagrams and figures load, bertviz views and widgets draw where a page has them,
no script errors occur, and no request leaves the machine. Screenshots land in
_build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "_build" / "fast" / "_build" / "html"
SHOTS = REPO / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


LOG = REPO / "_build" / "book_build_fast.log"
RC = REPO / "_build" / "book_build_fast.rc"


@pytest.fixture(scope="module")
def built_book():
    """The FAST student edition: built by scripts/test.sh before pytest starts
    (COURSE_BOOK_PREBUILT=1), else here.
    """
    if os.environ.get("COURSE_BOOK_PREBUILT") == "1" and RC.exists():
        returncode, log = int(RC.read_text()), LOG.read_text()
    else:
        env = dict(os.environ, COURSE_FAST="1", BOOK_SKIP_SETUP="1")
        result = subprocess.run(
            ["bash", "scripts/build_book.sh"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        returncode, log = result.returncode, result.stdout + result.stderr
        (REPO / "_build").mkdir(exist_ok=True)
        LOG.write_text(log)
        RC.write_text(str(returncode))
    assert returncode == 0, (
        "the book build failed (warnings are errors):\n" + log[-6000:]
    )
    return HTML


def test_the_book_builds_without_warnings(built_book):
    log = LOG.read_text()
    # Sphinx's own warnings and errors (the kernels' "[IPKernelApp] WARNING |
    # ..." start-up notes are not)
    warnings = [
        line
        for line in log.splitlines()
        if re.search(r"\b(WARNING|ERROR):", line)
        and "[IPKernelApp]" not in line
    ]
    assert not warnings, "\n".join(warnings[:20])
    for page in [
        "index.html",
        "book/intro.html",
        "book/glossary.html",
        "book/references.html",
        "chapters/01_background/01_language_models.html",
        "chapters/02_core_concepts/01_tokens_and_embeddings.html",
    ]:
        assert (built_book / page).exists(), page
    assert (built_book / "_static" / "vendor" / "require.js").exists()
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_no_page_links_to_a_missing_file(built_book):
    missing = []
    for page in _content_pages(built_book):
        for target in re.findall(
            r'(?:href|src|data)="([^"#?]+)', page.read_text(encoding="utf-8")
        ):
            if "://" in target or target.startswith(
                ("mailto:", "javascript:", "data:")
            ):
                continue
            if not (page.parent / target).resolve().exists():
                missing.append(f"{page.relative_to(built_book)} -> {target}")
    assert not missing, "\n".join(missing[:30])


# what Trainer prints when its progress display is off (disable_tqdm=True):
# one raw dict per logging step
RAW_TRAINER_LOG = re.compile(r"\{'(?:loss|eval_loss|train_runtime)': ")


def test_no_page_shows_raw_trainer_log_lines(built_book):
    """Trainer's progress bar and metrics table, never its raw log dicts."""
    raw = [
        f"{page.relative_to(built_book)}: {match.group(0)}"
        for page in _content_pages(built_book)
        for match in RAW_TRAINER_LOG.finditer(_page_text(page))
    ]
    assert not raw, "\n".join(raw[:20])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(built_book):
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Chromium is not installed: scripts/setup.sh installs it (apt-get "
            "install chromium)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def _content_pages(root: Path) -> list[Path]:
    pages = [
        p
        for p in root.rglob("*.html")
        if not p.name.startswith(("genindex", "search"))
        and "_static" not in p.parts
        and "_sources" not in p.parts
        and 'http-equiv="refresh"' not in p.read_text(encoding="utf-8").lower()
    ]  # index.html only redirects
    return sorted(pages)


def _inspect(
    browser, url: str, allowed_prefix: str, shot: Path, html: str
) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside, errors = [], []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(
                (allowed_prefix, "data:", "blob:", "about:")
            )
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    report = {"outside": outside, "errors": errors}
    n_math = page.locator("div.math, span.math").count()
    if n_math:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && "
            "MathJax.startup.promise",
            timeout=20000,
        )
        page.evaluate("() => MathJax.startup.promise")
        report["math"] = (n_math, page.locator("mjx-container").count())
    report["diagrams"] = page.evaluate(
        "() => [...document.querySelectorAll("
        "'object[type=\"image/svg+xml\"]')].map(o => {\n"
        "               const d = o.contentDocument; "
        "return !!(d && d.querySelector('svg g')); })"
    )
    report["images"] = page.evaluate(
        "() => [...document.querySelectorAll("
        "'.cell_output img, article img')]"
        ".map(i => i.complete && i.naturalWidth > 0)"
    )
    # a bertviz view was rendered into this page
    if '"root_div_id": "bertviz-' in html:
        page.wait_for_selector("div[id^='bertviz-'] svg text", timeout=20000)
        report["bertviz"] = page.locator("div[id^='bertviz-'] svg text").count()
    if "application/vnd.jupyter.widget-view+json" in html:
        # attached, not visible: a finished tqdm bar with leave=False is
        # rendered and then hidden
        page.wait_for_selector(
            ".jupyter-widgets", state="attached", timeout=20000
        )
        report["widgets"] = page.locator(".jupyter-widgets").count()
    page.wait_for_timeout(300)
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)
    page.close()
    return report


def test_pages_render_offline_in_chromium(built_book, server, browser):
    problems = []
    checked = 0
    for path in _content_pages(built_book):
        rel = path.relative_to(built_book).as_posix()
        try:
            report = _inspect(
                browser,
                f"{server}/{rel}",
                server,
                SHOTS / rel.replace("/", "__").replace(".html", ".png"),
                path.read_text(encoding="utf-8"),
            )
        except Exception as exc:  # a timeout on one page: name the page
            problems.append(
                f"{rel}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            )
            continue
        checked += 1
        if report["outside"]:
            problems.append(
                f"{rel}: requests leave the machine: {report['outside'][:3]}"
            )
        if report["errors"]:
            problems.append(f"{rel}: script errors: {report['errors'][:3]}")
        if "math" in report and report["math"][1] < report["math"][0]:
            problems.append(
                f"{rel}: only {report['math'][1]} of {report['math'][0]} "
                "formulas typeset"
            )
        if not all(report["diagrams"]):
            problems.append(f"{rel}: a diagram did not load")
        if not all(report["images"]):
            problems.append(
                f"{rel}: {report['images'].count(False)} image(s) did not load"
            )
    assert checked >= 8
    assert not problems, "\n".join(problems)


def test_chapter_pages_show_maths_figures_and_diagrams(
    built_book, server, browser
):
    ch1_page = built_book / "chapters/01_background/01_language_models.html"
    ch1 = _inspect(
        browser,
        f"{server}/chapters/01_background/01_language_models.html",
        server,
        SHOTS / "ch01_check.png",
        ch1_page.read_text(encoding="utf-8"),
    )
    assert ch1["math"][1] >= 5, "chapter 1 should typeset its formulas"
    assert len(ch1["images"]) >= 2 and all(ch1["images"]), (
        "chapter 1 should show its plots"
    )
    ch2_page = (
        built_book
        / "chapters/02_core_concepts/02_pretraining_and_transfer.html"
    )
    ch2 = _inspect(
        browser,
        f"{server}/chapters/02_core_concepts/02_pretraining_and_transfer.html",
        server,
        SHOTS / "ch02_check.png",
        ch2_page.read_text(encoding="utf-8"),
    )
    ch3_page = (
        built_book / "chapters/03_transformer/03_visualising_attention.html"
    )
    ch3 = _inspect(
        browser,
        f"{server}/chapters/03_transformer/03_visualising_attention.html",
        server,
        SHOTS / "ch03_check.png",
        ch3_page.read_text(encoding="utf-8"),
    )
    assert ch3.get("bertviz", 0) > 0, "chapter 3 should draw the bertviz views"
    assert ch3.get("widgets", 0) > 0, (
        "chapter 3 should draw the attention explorer widget"
    )
    assert ch2["diagrams"] and all(ch2["diagrams"]), (
        "chapter 2 should show the pipeline diagram"
    )


def test_pages_also_render_from_file_urls(built_book, browser):
    page = built_book / "chapters" / "01_background" / "01_language_models.html"
    report = _inspect(
        browser,
        page.as_uri(),
        "file://",
        SHOTS / "file_url_ch01.png",
        page.read_text(encoding="utf-8"),
    )
    assert not report["outside"], report["outside"][:3]
    assert report["math"][1] >= report["math"][0] > 0


# ------------------------------------------------------------------------------
# The two editions: the student book carries no solution, the instructor book
# carries every one
# ------------------------------------------------------------------------------

INSTRUCTOR_HTML = REPO / "_build" / "instructor-fast" / "_build" / "html"


def _page_text(page: Path) -> str:
    """The visible text of an HTML page: tags removed (highlighted code is split
    into spans), entities decoded.
    """
    import html

    return html.unescape(
        re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
    )


def _solution_lines() -> dict[str, list[str]]:
    """For each exercise notebook, the distinctive lines of its solutions: code
    its student notebook does not contain (a fix-the-bugs exercise hands out
    most of its answer's lines, broken ones among them)."""
    import ast
    import json

    lines = {}
    for module in sorted((REPO / "exercises" / "solutions").glob("ch*.py")):
        student = "\n".join(
            "".join(c["source"])
            for c in json.loads(
                (REPO / "exercises" / f"{module.stem}.ipynb").read_text(
                    encoding="utf-8"
                )
            )["cells"]
        )
        source = module.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(source))
        picked = []
        for fn in (
            n
            for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.ClassDef))
        ):
            statements = (
                fn.body[1:]
                if isinstance(fn.body[0], ast.Expr)
                and isinstance(getattr(fn.body[0], "value", None), ast.Constant)
                else fn.body
            )  # without the docstring
            if not statements:
                continue
            body = [
                source[i - 1].strip()
                for i in range(statements[0].lineno, fn.end_lineno + 1)
            ]
            body = [
                b.split("  #")[0].strip()
                for b in body
                if len(b) > 20 and not b.startswith("#")
            ]
            body = [b for b in body if b not in student]
            if body:
                picked.append(max(body, key=len))
        lines[module.stem] = picked
    return lines


@pytest.fixture(scope="module")
def instructor_book(built_book):
    env = dict(
        os.environ,
        COURSE_FAST="1",
        BOOK_SKIP_SETUP="1",
        BOOK_EDITION="instructor",
    )
    result = subprocess.run(
        ["bash", "scripts/build_book.sh"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    log = result.stdout + result.stderr
    (REPO / "_build" / "book_build_instructor_fast.log").write_text(log)
    assert result.returncode == 0, (
        "the instructor edition failed to build (warnings are errors):\n"
        + log[-6000:]
    )
    return INSTRUCTOR_HTML


def test_student_edition_contains_no_solution(built_book):
    """The student's exercise pages hold the TODO stubs, never the answers (the
    chapters may teach the same code).
    """
    for name, lines in _solution_lines().items():
        text = _page_text(built_book / "exercises" / f"{name}.html")
        leaks = [line for line in lines if line in text]
        assert not leaks, (
            f"exercises/{name}: solution code in the student edition: {leaks}"
        )
        assert "raise NotImplementedError" in text, (
            f"exercises/{name}: the student page has no TODO stub"
        )
    assert not list(built_book.rglob("solutions/*")), (
        "the student edition publishes the solutions folder"
    )


def test_instructor_edition_contains_every_solution_and_its_check(
    instructor_book,
):
    for name, lines in _solution_lines().items():
        text = _page_text(instructor_book / "exercises" / f"{name}.html")
        missing = [line for line in lines if line not in text]
        assert not missing, (
            f"{name}: solution lines missing from the instructor page: "
            f"{missing}"
        )
        assert "all checks passed" in text, (
            f"{name}: the checkers' verdicts are not on the instructor page"
        )
        assert "raise NotImplementedError" not in text, (
            f"{name}: an exercise is still unanswered"
        )
    # the banner
    assert "Instructor edition" in (
        instructor_book / "book" / "intro.html"
    ).read_text(encoding="utf-8")
