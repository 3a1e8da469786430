"""Plain-Markdown copies of the notebooks, for Colab and for downloading.

    # (re)write colab/ from chapters/ and exercises/
    python scripts/colab.py
    # only compare (scripts/test.sh); exit 1 if a copy is stale or missing
    python scripts/colab.py --check

The book's notebooks use MyST markup that only Jupyter Book and
jupyterlab-myst render: citation roles, exercise and admonition blocks,
mermaid diagrams, cross-references. Colab shows it as raw text. This script
writes one copy of every chapter and exercise notebook under ``colab/`` (the
same relative path) whose Markdown is plain:

- ``{cite:p}`key``` becomes "(Author, year)", ``{cite:t}`key``` "Author
  (year)", and a "References" cell at the end lists what the notebook cites
  (from book/references.bib);
- ``{exercise}`` blocks become numbered "Exercise N (title)" sections;
  ``{solution}`` blocks are dropped (the student edition has no solutions);
- admonitions (``{note}``, ``{warning}``, ...) become block quotes;
- a ``{mermaid}`` diagram becomes a PNG embedded in its cell as an attachment
  (Colab cannot read a relative image path). The PNG is rendered once with
  node_modules/.bin/mmdc and Chromium (scripts/setup.sh installs both) and
  kept in ``colab/diagrams/`` under the hash of the diagram's source, so
  ``--check`` needs no browser;
- ``{literalinclude}`` becomes the included code, ``{math}`` display maths;
- ``{ref}``, ``{numref}`` and ``{doc}`` become text or links; ``(label)=``
  targets and equation labels disappear; relative links become absolute
  links at the published release (``ref`` in ``[tool.course]``): notebooks to
  their Colab copies, other files to GitHub.

Code cells are copied unchanged, without outputs. The book's Colab button and
README's Colab links open these copies (``path_to_book: colab`` in
_config.yml, written by scripts/publish.py). ``myst_leftovers`` finds any MyST
syntax left in a text (tests/test_colab.py runs it over every copy).
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import latexcodec  # noqa: F401 (registers the "ulatex" codec)

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "colab"
DIAGRAMS = OUT / "diagrams"
BIBLIOGRAPHY = REPO / "book" / "references.bib"
MMDC = REPO / "node_modules" / ".bin" / "mmdc"
PUPPETEER_CONFIG = REPO / "book" / "_ext" / "puppeteer-config.json"

ADMONITIONS = {
    "note": "Note",
    "warning": "Warning",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}

# ```{name} arg, ````{name}, :::{name}; indentation up to 3 spaces (CommonMark)
DIRECTIVE_OPEN = re.compile(
    r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[^}]*)\}\s*"
    r"(?P<arg>.*?)\s*$"
)
CODE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
ROLE = re.compile(r"(?<![`\w])\{(?P<name>[A-Za-z][\w:.+-]*)\}`(?P<body>[^`]+)`")
TARGET = re.compile(r"^ {0,3}\((?P<label>[^()\s]+)\)=\s*$")
MATH_LABEL = re.compile(r"^(?P<close>\s*\$\$)\s*\([^()\s]+\)\s*$")
LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
EXPLICIT_TEXT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


class ConversionError(Exception):
    """A notebook holds markup this converter cannot make plain."""


def course_settings() -> dict:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["tool"]["course"]


def sources() -> list[Path]:
    """The notebooks that get a Colab copy: chapters and student exercises."""
    paths = [*REPO.glob("chapters/*/*.ipynb"), *REPO.glob("exercises/*.ipynb")]
    return sorted(p for p in paths if ".ipynb_checkpoints" not in p.parts)


# ----------------------------------------------------------------------------
# MyST detector
# ----------------------------------------------------------------------------


def myst_leftovers(markdown: str) -> list[str]:
    """Every piece of MyST syntax in ``markdown``: roles, directive fences,
    colon fences, ``(label)=`` targets, labelled ``$$``; code blocks are
    skipped (their text is code, not markup).
    """
    found, code_fence = [], None
    for line in markdown.splitlines():
        if code_fence:
            stripped = line.strip()
            if stripped and set(stripped) == {code_fence[0]}:
                code_fence = (
                    None if len(stripped) >= len(code_fence) else code_fence
                )
            continue
        # any indentation: a directive nested in a list item is still MyST
        if re.match(r"^\s*(`{3,}|~{3,}|:{3,})\s*\{", line) or re.match(
            r"^\s*:::", line
        ):
            found.append(line.strip())
            continue
        code = CODE_OPEN.match(line)
        if code:
            code_fence = code.group("fence")
            continue
        if TARGET.match(line) or MATH_LABEL.match(line):
            found.append(line.strip())
        found += [m.group(0) for m in ROLE.finditer(line)]
    return found


# ----------------------------------------------------------------------------
# Bibliography
# ----------------------------------------------------------------------------


def _latex_to_text(text: str) -> str:
    text = codecs.decode(text, "ulatex+utf8")
    text = text.replace("\\i", "i")
    return re.sub(r"\s+", " ", text.replace("{", "").replace("}", "")).strip()


@dataclass
class Reference:
    key: str
    last_names: list[str]
    full_names: list[str]
    year: str
    title: str
    venue: str
    # the author list ends with "and others"
    truncated: bool = False

    def short_authors(self) -> str:
        names = self.last_names
        if len(names) >= 3 or self.truncated:
            return f"{names[0]} et al."
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."

    def entry(self) -> str:
        names = self.full_names + (["others"] if self.truncated else [])
        authors = (
            names[0]
            if len(names) == 1
            else ", ".join(names[:-1]) + " and " + names[-1]
        )
        venue = f" *{self.venue}*." if self.venue else ""
        return f"{authors} ({self.year}). {self.title}.{venue}"


def load_bibliography(path: Path = BIBLIOGRAPHY) -> dict[str, Reference]:
    """The entries of a .bib file, their LaTeX turned into plain text."""
    from pybtex.database import parse_file

    references = {}
    for key, entry in parse_file(str(path)).entries.items():
        persons = entry.persons.get("author") or entry.persons.get("editor")
        if not persons:
            raise ConversionError(f"{path.name}: {key} has no author")
        last, full = [], []
        truncated = str(persons[-1]) == "others"
        for person in persons[:-1] if truncated else persons:
            surname = _latex_to_text(
                " ".join(person.prelast_names + person.last_names)
            )
            given = _latex_to_text(
                " ".join(person.first_names + person.middle_names)
            )
            last.append(surname)
            full.append(f"{given} {surname}".strip())
        fields = entry.fields
        venue = next(
            (
                fields[f]
                for f in ("journal", "booktitle", "institution", "publisher")
                if f in fields
            ),
            "",
        )
        references[key] = Reference(
            key=key,
            last_names=last,
            full_names=full,
            year=str(fields.get("year", "n.d.")),
            title=_latex_to_text(fields.get("title", "")).rstrip("."),
            venue=_latex_to_text(venue),
            truncated=truncated,
        )
    return references


# ----------------------------------------------------------------------------
# The whole course: labels, titles, addresses
# ----------------------------------------------------------------------------


@dataclass
class Course:
    """What converting one notebook needs to know about the others."""

    repository: str
    ref: str
    bibliography: dict[str, Reference]
    # label -> (repo-relative notebook path, text that names it)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    # repo-relative path -> title (first "# " heading)
    titles: dict[str, str] = field(default_factory=dict)
    render_diagrams: bool = True

    @property
    def github_path(self) -> str:
        return re.sub(r"^https://github\.com/", "", self.repository.rstrip("/"))

    def colab_url(self, relative: str) -> str:
        return (
            "https://colab.research.google.com/github/"
            f"{self.github_path}/blob/{self.ref}/colab/{relative}"
        )

    def blob_url(self, relative: str) -> str:
        return f"{self.repository.rstrip('/')}/blob/{self.ref}/{relative}"

    def raw_url(self, relative: str) -> str:
        return (
            f"https://raw.githubusercontent.com/{self.github_path}/"
            f"{self.ref}/{relative}"
        )


def _markdown_cells(nb: dict) -> list[str]:
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
    ]


def _directive_options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split ``:key: value`` lines (or a ``---`` YAML block) off the top of a
    directive's body.
    """
    options, rest = {}, list(body)
    if rest and rest[0].strip() == "---":
        end = rest.index("---", 1) if "---" in rest[1:] else None
        if end is None:
            raise ConversionError("a directive's --- option block never ends")
        for line in rest[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        rest = rest[end + 1 :]
    while rest and re.match(r"^:[\w-]+:", rest[0]):
        key, _, value = rest.pop(0)[1:].partition(":")
        options[key] = value.strip()
    while rest and not rest[0].strip():
        rest.pop(0)
    return options, rest


def _blocks(lines: list[str]):
    """Yield ("text", lines), ("code", lines) and ("directive", match, body)
    in order; a directive ends at a fence of the same character at least as
    long (CommonMark's rule, which MyST follows).
    """
    i, text = 0, []
    while i < len(lines):
        line = lines[i]
        opening = DIRECTIVE_OPEN.match(line)
        code = None if opening else CODE_OPEN.match(line)
        if not (opening or code):
            text.append(line)
            i += 1
            continue
        if text:
            yield ("text", text)
            text = []
        fence = (opening or code).group("fence")
        end = i + 1
        while end < len(lines):
            stripped = lines[end].strip()
            if (
                stripped
                and set(stripped) == {fence[0]}
                and len(stripped) >= len(fence)
            ):
                break
            end += 1
        if opening:
            yield ("directive", opening, lines[i + 1 : end])
        else:
            yield ("code", lines[i : end + 1])
        i = end + 1
    if text:
        yield ("text", text)


def index_course(course: Course) -> None:
    """Record every exercise label (with its number in its notebook), every
    ``(label)=`` target (with the heading after it) and every title.
    """
    for path in sources():
        relative = path.relative_to(REPO).as_posix()
        nb = json.loads(path.read_text(encoding="utf-8"))
        number = 0
        for markdown in _markdown_cells(nb):
            lines = markdown.splitlines()
            for kind, *parts in _blocks(lines):
                if kind == "directive" and parts[0].group("name") == "exercise":
                    number += 1
                    options, _ = _directive_options(parts[1])
                    # {ref} shows an exercise's title, as sphinx-exercise does
                    title = parts[0].group("arg").strip()
                    name = f"*{title}*" if title else f"Exercise {number}"
                    if "label" in options:
                        course.labels[options["label"]] = (relative, name)
                if kind != "text":
                    continue
                for k, line in enumerate(parts[0]):
                    if relative not in course.titles and line.startswith("# "):
                        course.titles[relative] = line[2:].strip()
                    target = TARGET.match(line)
                    if target:
                        heading = next(
                            (
                                h.lstrip("#").strip()
                                for h in parts[0][k + 1 :]
                                if h.startswith("#")
                            ),
                            target.group("label"),
                        )
                        course.labels[target.group("label")] = (
                            relative,
                            heading,
                        )
    for page in REPO.glob("book/*.md"):
        first = page.read_text(encoding="utf-8").splitlines()[:1]
        if first and first[0].startswith("# "):
            course.titles[page.relative_to(REPO).as_posix()] = first[0][2:]


def _exercise_name(number: int, title: str) -> str:
    return f"Exercise {number}" + (f" ({title})" if title else "")


# ----------------------------------------------------------------------------
# Converting one notebook
# ----------------------------------------------------------------------------


@dataclass
class NotebookConversion:
    """The state of converting one notebook: where it is, what it cites."""

    course: Course
    relative: str  # repo-relative path of the source notebook
    cited: list[str] = field(default_factory=list)
    exercises: int = 0

    @property
    def folder(self) -> Path:
        return (REPO / self.relative).parent

    # -- inline markup ------------------------------------------------------

    def _repo_relative(self, target: str) -> str:
        resolved = (self.folder / target).resolve()
        try:
            return resolved.relative_to(REPO).as_posix()
        except ValueError:
            raise ConversionError(
                f"{self.relative}: {target} points outside the repository"
            ) from None

    def _address(self, target: str, image: bool = False) -> str:
        """An absolute address for a relative link of this notebook."""
        path, hash_mark, anchor = target.partition("#")
        relative = self._repo_relative(path)
        if not (REPO / relative).exists():
            raise ConversionError(f"{self.relative}: {target} does not exist")
        anchor = hash_mark + anchor
        if image:
            return self.course.raw_url(relative)
        if relative.endswith(".ipynb") and relative in self.course.titles:
            return self.course.colab_url(relative) + anchor
        return self.course.blob_url(relative) + anchor

    def _link(self, match: re.Match) -> str:
        target = match.group("target")
        if re.match(r"^([a-z]+:|#)", target):
            return match.group(0)
        address = self._address(target, image=bool(match.group("bang")))
        return f"{match.group('bang')}[{match.group('text')}]({address})"

    def _cite(self, keys: str, textual: bool) -> str:
        parts = []
        for key in [k.strip() for k in keys.split(",") if k.strip()]:
            reference = self.course.bibliography.get(key)
            if reference is None:
                raise ConversionError(
                    f"{self.relative}: {key!r} is not in book/references.bib"
                )
            if key not in self.cited:
                self.cited.append(key)
            authors = reference.short_authors()
            parts.append(
                f"{authors} ({reference.year})"
                if textual
                else f"{authors}, {reference.year}"
            )
        return ", ".join(parts) if textual else "(" + "; ".join(parts) + ")"

    def _reference(self, body: str) -> str:
        explicit = EXPLICIT_TEXT.match(body)
        label = explicit.group("target") if explicit else body
        if label not in self.course.labels:
            raise ConversionError(f"{self.relative}: no label {label!r}")
        where, name = self.course.labels[label]
        text = explicit.group("text") if explicit else name
        if where == self.relative:
            return text
        title = self.course.titles.get(where, where)
        return f"{text} of [{title}]({self.course.colab_url(where)})"

    def _document(self, body: str) -> str:
        explicit = EXPLICIT_TEXT.match(body)
        target = explicit.group("target") if explicit else body
        relative = self._repo_relative(target)
        for suffix in (".ipynb", ".md"):
            if (REPO / (relative + suffix)).exists():
                relative += suffix
                break
        else:
            raise ConversionError(f"{self.relative}: no document {target!r}")
        text = (
            explicit.group("text")
            if explicit
            else self.course.titles.get(relative, Path(relative).stem)
        )
        if relative.endswith(".ipynb"):
            return f"[{text}]({self.course.colab_url(relative)})"
        return f"[{text}]({self.course.blob_url(relative)})"

    def _role(self, match: re.Match) -> str:
        name, body = match.group("name"), match.group("body")
        if name in ("cite", "cite:p", "cite:ps"):
            return self._cite(body, textual=False)
        if name in ("cite:t", "cite:ts"):
            return self._cite(body, textual=True)
        if name in ("ref", "numref"):
            return self._reference(body)
        if name == "doc":
            return self._document(body)
        if name == "math":
            return f"${body}$"
        raise ConversionError(
            f"{self.relative}: the role {{{name}}} has no plain form; "
            "teach scripts/colab.py one"
        )

    def inline(self, text: str) -> str:
        lines = []
        for line in text.split("\n"):
            if TARGET.match(line):
                continue
            label = MATH_LABEL.match(line)
            lines.append(label.group("close") if label else line)
        text = ROLE.sub(self._role, "\n".join(lines))
        return LINK.sub(self._link, text)

    # -- blocks ---------------------------------------------------------------

    def directive(
        self, opening: re.Match, body: list[str], attachments: dict
    ) -> list[str]:
        name, arg = opening.group("name").strip(), opening.group("arg")
        options, content = _directive_options(body)
        if name == "exercise":
            self.exercises += 1
            heading = _exercise_name(self.exercises, arg)
            return [f"### {heading}", "", *self.lines(content, attachments)]
        if name == "solution":
            return []
        if name in ADMONITIONS or name == "admonition":
            title = arg if name == "admonition" else ADMONITIONS[name]
            inner = self.lines(content, attachments)
            quoted = [f"> {line}" if line else ">" for line in inner]
            return [f"> **{title}**", ">", *quoted]
        if name == "mermaid":
            return [self.diagram("\n".join(content), attachments)]
        if name == "literalinclude":
            return self.literalinclude(arg, options)
        if name == "math":
            return ["$$", *content, "$$"]
        if name in ("code", "code-block", "sourcecode"):
            return [f"```{arg}", *content, "```"]
        raise ConversionError(
            f"{self.relative}: the directive {{{name}}} has no plain form; "
            "teach scripts/colab.py one"
        )

    def literalinclude(self, arg: str, options: dict) -> list[str]:
        # a leading / starts at the book's root (the repository), as in Sphinx
        relative = arg[1:] if arg.startswith("/") else self._repo_relative(arg)
        path = REPO / relative
        if not path.is_file():
            raise ConversionError(f"{self.relative}: {arg} does not exist")
        code = path.read_text(encoding="utf-8")
        if "start-after" in options:
            code = code.split(options.pop("start-after"), 1)[1]
            code = code.split("\n", 1)[1] if "\n" in code else ""
        if "end-before" in options:
            code = code.split(options.pop("end-before"), 1)[0]
            code = code.rsplit("\n", 1)[0] if "\n" in code else code
        lines = code.splitlines()
        if "lines" in options:
            keep = []
            for part in options.pop("lines").split(","):
                first, _, last = part.strip().partition("-")
                stop = int(last) if last else int(first)
                keep += lines[int(first) - 1 : stop]
            lines = keep
        language = options.pop("language", path.suffix.lstrip("."))
        options.pop("caption", None)
        if options:
            raise ConversionError(
                f"{self.relative}: literalinclude options {sorted(options)} "
                "are not supported by scripts/colab.py"
            )
        language = {"py": "python", "sh": "bash"}.get(language, language)
        return [f"```{language}", *lines, "```"]

    def diagram(self, source: str, attachments: dict) -> str:
        digest = hashlib.sha256(source.strip().encode()).hexdigest()[:16]
        image = DIAGRAMS / f"{digest}.png"
        if not image.exists():
            if not self.course.render_diagrams:
                raise ConversionError(
                    f"{self.relative}: the diagram {digest} has no image in "
                    "colab/diagrams; run `python scripts/colab.py`"
                )
            render_mermaid(source, image)
        name = f"diagram-{digest}.png"
        attachments[name] = {
            "image/png": base64.b64encode(image.read_bytes()).decode("ascii")
        }
        return f"![diagram](attachment:{name})"

    def lines(self, lines: list[str], attachments: dict) -> list[str]:
        out = []
        for kind, *parts in _blocks(lines):
            if kind == "text":
                out += self.inline("\n".join(parts[0])).split("\n")
            elif kind == "code":
                out += parts[0]
            else:
                out += self.directive(parts[0], parts[1], attachments)
        return out

    def markdown(self, text: str) -> tuple[str, dict]:
        attachments: dict = {}
        converted = "\n".join(self.lines(text.split("\n"), attachments))
        # a dropped block leaves blank lines behind
        converted = re.sub(r"\n{3,}", "\n\n", converted).strip("\n")
        return converted, attachments

    def references_cell(self) -> str | None:
        if not self.cited:
            return None
        entries = sorted(
            (self.course.bibliography[k] for k in self.cited),
            key=lambda r: (r.last_names[0].lower(), r.year, r.title),
        )
        return "## References\n\n" + "\n".join(
            f"- {reference.entry()}" for reference in entries
        )


def render_mermaid(source: str, image: Path) -> None:
    """Render a mermaid diagram to PNG with mermaid-cli and Chromium."""
    if not MMDC.exists():
        raise ConversionError(
            f"{MMDC} is missing: run `npm ci` (scripts/setup.sh) to render "
            "the diagrams"
        )
    image.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        diagram = Path(tmp) / "diagram.mmd"
        diagram.write_text(source, encoding="utf-8")
        command = [
            str(MMDC),
            "--input",
            str(diagram),
            "--output",
            str(image),
            "--puppeteerConfigFile",
            str(PUPPETEER_CONFIG),
            "--backgroundColor",
            "white",
            "--scale",
            "2",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ConversionError(f"mmdc failed: {result.stderr[-800:]}")


def _source_text(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def _as_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def convert_notebook(path: Path, course: Course) -> dict:
    """The plain copy of one notebook, as a notebook dict."""
    relative = path.relative_to(REPO).as_posix()
    nb = json.loads(path.read_text(encoding="utf-8"))
    conversion = NotebookConversion(course, relative)
    cells = []
    for cell in nb["cells"]:
        copy = {k: v for k, v in cell.items() if k != "attachments"}
        if cell["cell_type"] == "markdown":
            text, attachments = conversion.markdown(_source_text(cell))
            copy["source"] = _as_lines(text)
            if attachments:
                copy["attachments"] = attachments
        elif cell["cell_type"] == "code":
            copy["outputs"], copy["execution_count"] = [], None
        cells.append(copy)
    references = conversion.references_cell()
    if references:
        cells.append(
            {
                "cell_type": "markdown",
                "id": "references",
                "metadata": {},
                "source": _as_lines(references),
            }
        )
    metadata = dict(nb.get("metadata", {}))
    metadata["course"] = {
        "source": relative,
        "generated_by": "scripts/colab.py: edit the source, not this copy",
    }
    return {**nb, "cells": cells, "metadata": metadata}


def serialise(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def build_course(render_diagrams: bool = True) -> Course:
    settings = course_settings()
    course = Course(
        repository=settings["repository"],
        ref=settings["ref"],
        bibliography=load_bibliography(),
        render_diagrams=render_diagrams,
    )
    index_course(course)
    return course


def main(argv: list[str]) -> int:
    check = "--check" in argv
    course = build_course(render_diagrams=not check)
    errors, changed, expected = [], [], set()
    for path in sources():
        relative = path.relative_to(REPO).as_posix()
        target = OUT / relative
        expected.add(target)
        try:
            text = serialise(convert_notebook(path, course))
        except ConversionError as err:
            errors.append(str(err))
            continue
        current = (
            target.read_text(encoding="utf-8") if target.exists() else None
        )
        if current != text:
            changed.append(
                f"colab/{relative}: {'stale' if current else 'missing'}"
            )
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    used = {
        name.removeprefix("diagram-")
        for target in expected
        if target.exists()
        for cell in json.loads(target.read_text(encoding="utf-8"))["cells"]
        for name in cell.get("attachments", {})
    }
    for path in sorted(OUT.rglob("*")):
        if not path.is_file() or path in expected:
            continue
        if path.parent == DIAGRAMS and path.name in used:
            continue
        changed.append(f"{path.relative_to(REPO)}: no source any more")
        if not check:
            path.unlink()
    for message in errors:
        print(message)
    for message in changed:
        print(message if check else f"fixed: {message}")
    if check and changed:
        print("Run `python scripts/colab.py` to rewrite the Colab copies.")
    return 1 if errors or (check and changed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
