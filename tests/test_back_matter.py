"""Back matter: every citation in the book has a .bib entry, every .bib entry is
cited, every glossary term links to an existing page where it is introduced."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def _book_sources() -> dict[Path, str]:
    """Markdown pages and the markdown cells of every notebook in the book."""
    texts = {}
    for path in [
        *REPO.glob("book/*.md"),
        *REPO.glob("chapters/**/*.md"),
        *REPO.glob("exercises/*.md"),
    ]:
        texts[path] = path.read_text(encoding="utf-8")
    for path in [
        *REPO.glob("chapters/**/*.ipynb"),
        *REPO.glob("exercises/*.ipynb"),
    ]:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        texts[path] = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
        )
    return texts


def _bib_keys() -> set[str]:
    return set(
        re.findall(
            r"^@\w+\{([^,\s]+),",
            (REPO / "book" / "references.bib").read_text(encoding="utf-8"),
            re.M,
        )
    )


def test_every_citation_has_a_bib_entry_and_every_entry_is_cited():
    keys = _bib_keys()
    cited: dict[str, set[str]] = {}
    for path, text in _book_sources().items():
        for group in CITE.findall(text):
            for key in (k.strip() for k in group.split(",")):
                cited.setdefault(key, set()).add(str(path.relative_to(REPO)))
    unknown = {k: sorted(v) for k, v in cited.items() if k not in keys}
    assert not unknown, f"cited but not in book/references.bib: {unknown}"
    uncited = sorted(keys - set(cited))
    assert not uncited, (
        "in book/references.bib but cited nowhere (cite them or remove them): "
        f"{uncited}"
    )


def test_every_glossary_term_links_to_where_it_is_introduced():
    text = (REPO / "book" / "glossary.md").read_text(encoding="utf-8")
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    entries = re.split(r"\n(?=\S)", block.strip())
    assert len(entries) > 100
    problems = []
    for entry in entries:
        term = entry.splitlines()[0]
        entry = re.sub(r"\s+", " ", entry)
        links = re.findall(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`", entry)
        if "Introduced in" not in entry or not links:
            problems.append(f"{term}: no 'Introduced in {{doc}}`...`' link")
        for link in links:
            if (
                not (REPO / "book" / f"{link}.ipynb").resolve().exists()
                and not (REPO / "book" / f"{link}.md").resolve().exists()
            ):
                problems.append(
                    f"{term}: links to {link}, which does not exist"
                )
    assert not problems, "\n".join(problems[:30])
