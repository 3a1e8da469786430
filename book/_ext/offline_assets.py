"""Serve the JavaScript that notebook outputs need from the book itself, never
from a CDN.

bertviz's views and the ipywidgets embed manager ask for require.js, d3, jquery
and @jupyter-widgets/html-manager from cdnjs / jsdelivr. A reader offline (or
behind a firewall) would see blank boxes. This extension:

1. copies pinned copies of those files from ``node_modules`` (installed from
   ``package-lock.json``) into ``<html>/_static/vendor/`` when the build
   finishes (not into the source ``_static``: Jupyter Book would add every
   ``.js`` there to every page), with a small MathJax 2 shim for widget labels;
2. rewrites the CDN URLs in every built page to page-relative links to those
   copies, so the pages work over http and from ``file://``.

If a CDN URL survives the rewrite, the build fails with a warning naming the
page.

3. makes the page's download button (``_sources/<page>.ipynb``) give the
   notebook's plain copy from ``colab/`` (scripts/colab.py) where there is one:
   a downloaded notebook then reads well in any Jupyter, without MyST.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

# npm source (under node_modules) -> target under _static/vendor
VENDOR_FILES = {
    "requirejs/require.js": "require.js",
    "d3/dist/d3.min.js": "d3.min.js",
    "jquery/dist/jquery.min.js": "jquery.min.js",
    "@jupyter-widgets/html-manager/dist": "html-manager",
}

# CDN URL -> vendored file (require.js "paths" entries have no .js suffix, so
# neither do their targets)
CDN_REWRITES = {
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js": "require.js",  # noqa: E501 (a URL)
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js": "require.js",  # noqa: E501 (a URL)
    "https://cdnjs.cloudflare.com/ajax/libs/d3/5.7.0/d3.min": "d3.min",  # noqa: E501 (a URL)
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/2.0.0/jquery.min": "jquery.min",  # noqa: E501 (a URL)
    "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.6/dist/embed-amd.js": "html-manager/embed-amd.js",  # noqa: E501 (a URL)
}
# a CDN URL that the page would fetch: a src/href/data attribute, or a
# require.js "paths" entry
# (sphinx-thebe's THEBE_JS_URL constant is only fetched if a reader starts a
# live kernel, which needs the network anyway)
LEFTOVER_CDN = re.compile(
    r"""(?:\b(?:src|href|data)=["']|:\s*["'])(https?://(?:cdnjs\.cloudflare\.com|cdn\.jsdelivr\.net|unpkg\.com)/[^"']+)"""
)


# widgets call MathJax 2's MathJax.Hub.Queue; the shim gives MathJax 3 one (see
# the file)
MATHJAX2_SHIM = "mathjax2-shim.js"


def _node_modules(app) -> Path:
    return Path(
        app.config.offline_assets_node_modules
        or Path(app.srcdir) / "node_modules"
    )


def _copy_vendor(app, vendor_dir: Path) -> None:
    modules = _node_modules(app)
    for source, target in VENDOR_FILES.items():
        src = modules / source
        if not src.exists():
            raise FileNotFoundError(
                f"{src} is missing: run `npm ci` in the repository root "
                "(scripts/setup.sh does it) before building the book."
            )
        dst = vendor_dir / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(
                src,
                dst,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("*.map"),
            )
        else:
            shutil.copy2(src, dst)
    shutil.copy2(
        Path(__file__).with_name(MATHJAX2_SHIM), vendor_dir / MATHJAX2_SHIM
    )


def _rewrite_page(page: Path, vendor_dir: Path) -> tuple[int, list[str]]:
    text = page.read_text(encoding="utf-8")
    prefix = os.path.relpath(vendor_dir, page.parent).replace(os.sep, "/")
    count = 0
    for url, target in CDN_REWRITES.items():
        if url in text:
            count += text.count(url)
            text = text.replace(url, f"{prefix}/{target}")
    # integrity hashes belong to the CDN copies; the local copies are pinned by
    # package-lock.json
    text = (
        re.sub(r'\s+integrity="sha[0-9]+-[^"]*"', "", text) if count else text
    )
    if count:
        page.write_text(text, encoding="utf-8")
    return count, sorted(set(m.group(1) for m in LEFTOVER_CDN.finditer(text)))


def _plain_downloads(app) -> int:
    """Replace each downloadable source notebook by its plain copy."""
    copies = Path(app.srcdir) / "colab"
    sources = Path(app.outdir) / "_sources"
    replaced = 0
    for copy in copies.glob("**/*.ipynb"):
        target = sources / copy.relative_to(copies)
        if target.exists():
            shutil.copy2(copy, target)
            replaced += 1
    return replaced


def _on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    vendor_dir = outdir / "_static" / "vendor"
    _copy_vendor(app, vendor_dir)
    logger.info(
        f"offline_assets: {_plain_downloads(app)} downloadable notebook(s) "
        "replaced by their plain copies (colab/)"
    )
    rewritten = 0
    for page in outdir.rglob("*.html"):
        count, leftovers = _rewrite_page(page, vendor_dir)
        rewritten += count
        for url in leftovers:
            logger.warning(
                f"offline_assets: {page.relative_to(outdir)} still loads {url} "
                "from a CDN; "
                "add it to CDN_REWRITES and vendor the file."
            )
    logger.info(
        f"offline_assets: vendored JavaScript copied, {rewritten} CDN link(s) "
        "made local"
    )


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated <script> entries: sphinx-thebe registers its inline config
    twice under Sphinx 9,
    and the second `const THEBE_JS_URL` is a script error in every page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", None) or {}
        # inline scripts have None or "" depending on who added them
        filename = getattr(script, "filename", None) or ""
        key = (
            (filename, tuple(sorted(attributes.items())))
            if (filename or attributes)
            else ("", str(script))
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.add_config_value("offline_assets_node_modules", "", "html")
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    # deferred and after MathJax's own script (priority 500), so it runs once
    # MathJax 3 is defined
    app.add_js_file(f"vendor/{MATHJAX2_SHIM}", priority=510, defer="defer")
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
