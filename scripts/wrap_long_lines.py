"""Wrap what ``ruff format`` leaves longer than 80 columns: comments, strings.

    python scripts/wrap_long_lines.py FILE.py|NOTEBOOK.ipynb ...

ruff formats code at 80 columns but never splits a comment or a string
literal. This script does, in three safe cases, and leaves every other
line for a person (``ruff check --select E501`` lists them):

- a comment on its own line: re-flowed into several comment lines;
- a trailing comment: moved onto its own line(s) above the code;
- a line that is one string literal (an argument or a list item, as ruff
  leaves them): split at spaces into adjacent literals, which Python joins
  (f-strings are never split inside ``{...}``).

Run ``ruff format`` before and after it.
"""

from __future__ import annotations

import io
import json
import re
import sys
import textwrap
import tokenize
from pathlib import Path

LIMIT = 80
STRING = re.compile(
    r"^(?P<prefix>[rRbBfFuU]{0,2})(?P<quote>\"|')(?P<body>.*)(?P=quote)$"
)
PRAGMAS = ("noqa", "type:", "pragma", "fmt:")


def comment_lines(indent: str, text: str) -> list[str]:
    """``text`` as comment lines of at most LIMIT columns."""
    width = max(LIMIT - len(indent) - 2, 20)
    return [f"{indent}# {ln}" for ln in textwrap.wrap(text, width)]


def trailing_comment(line: str) -> tuple[str, str] | None:
    """(code, comment) when ``line`` ends with a comment token."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    comments = [t for t in tokens if t.type == tokenize.COMMENT]
    if not comments:
        return None
    start = comments[-1].start[1]
    return line[:start].rstrip(), line[start:].lstrip("#").strip()


def split_points(body: str, is_f: bool) -> list[int]:
    """Indices after a space where the literal may be cut."""
    points, depth = [], 0
    for i, ch in enumerate(body):
        if is_f and ch == "{":
            depth += 1
        elif is_f and ch == "}":
            depth -= 1
        elif ch == " " and depth == 0 and body[i - 1 : i] != "\\":
            points.append(i + 1)
    return points


def split_string(line: str) -> list[str] | None:
    """A line holding one string literal, cut into lines that fit."""
    indent = line[: len(line) - len(line.lstrip())]
    stripped = line.strip()
    tail = ""
    for end in ("),", ",", ")"):
        if stripped.endswith(end) and not stripped.endswith(end * 2):
            stripped, tail = stripped[: -len(end)], end
            break
    match = STRING.match(stripped)
    if not match or match["quote"] * 3 in stripped:
        return None
    prefix, quote, body = match["prefix"], match["quote"], match["body"]
    if quote in body.replace("\\" + quote, ""):
        return None  # two literals on the line already
    room = LIMIT - len(indent) - len(prefix) - 2 - len(tail)
    is_f = "f" in prefix.lower()
    pieces, rest = [], body
    while len(rest) > room:
        cuts = [p for p in split_points(rest, is_f) if p <= room]
        if not cuts:
            return None
        pieces.append(rest[: cuts[-1]])
        rest = rest[cuts[-1] :]
    pieces.append(rest)
    plain = prefix.replace("f", "").replace("F", "")
    out = [
        # a piece of an f-string without a placeholder needs no f
        f"{indent}{prefix if '{' in p else plain}{quote}{p}{quote}"
        for p in pieces
    ]
    out[-1] += tail
    return out


MARKER = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
NOT_PROSE = ("|", ">>>", "```", "..", "#", "$$")


def lead(line: str) -> str:
    """The white space that starts ``line``."""
    return line[: len(line) - len(line.lstrip())]


def one_line_docstring(line: str) -> list[str]:
    """``\"\"\"text\"\"\"`` too long for one line, as a block docstring."""
    indent, text = lead(line), line.strip()
    body = textwrap.wrap(text[3:-3], LIMIT - len(indent) - 3)
    return [
        f'{indent}"""{body[0]}',
        *[indent + b for b in body[1:]],
        f'{indent}"""',
    ]


def paragraph(lines: list[str], i: int) -> tuple[list[str], int] | None:
    """Re-flow the docstring paragraph that starts at the long line ``i``.

    The paragraph is that line and the prose lines after it at the same
    indent (for a list item, at the item's text indent). Returns the new
    lines and the index after the paragraph, or None for a line that is
    not prose (a table, a code example, a heading underline).
    """
    indent, text = lead(lines[i]), lines[i].strip()
    if text.startswith(NOT_PROSE) or text.endswith("::"):
        return None
    marker = MARKER.match(text)
    rest_indent = indent + " " * (marker.end() if marker else 0)
    words, j = [text], i + 1
    while j < len(lines) and '"""' not in words[-1]:
        nxt = lines[j]
        if not nxt.strip() or lead(nxt) != rest_indent:
            break
        if MARKER.match(nxt.strip()) or nxt.strip().startswith(NOT_PROSE):
            break
        words.append(nxt.strip())
        j += 1
    wrapped = textwrap.wrap(
        " ".join(words),
        LIMIT,
        initial_indent=indent,
        subsequent_indent=rest_indent,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return wrapped, j


def wrap(source: str) -> str:
    """``source`` with its fixable long lines wrapped."""
    lines, out, i = source.split("\n"), [], 0
    in_doc = False
    while i < len(lines):
        line = lines[i]
        done = i + 1
        new = [line]
        if len(line) > LIMIT:
            starts_doc = line.strip().startswith('"""')
            if not in_doc and starts_doc and line.count('"""') == 2:
                new = one_line_docstring(line)
            elif in_doc or starts_doc:
                found = paragraph(lines, i)
                if found:
                    new, done = found
            else:
                new = wrap_code_line(line)
        for consumed in lines[i:done]:
            if consumed.count('"""') % 2 == 1:
                in_doc = not in_doc
        out += new
        i = done
    return "\n".join(out)


def wrap_code_line(line: str) -> list[str]:
    """One long line of code: its comment re-flowed, or its string split."""
    indent = line[: len(line) - len(line.lstrip())]
    text = line.lstrip()
    if text.startswith("#") and not text.startswith("#|"):
        return comment_lines(indent, text[1:].strip())
    found = trailing_comment(line)
    if found and found[0] and not found[1].startswith(PRAGMAS):
        code, comment = found
        return [*comment_lines(indent, comment), code]
    return split_string(line) or [line]


def fix_file(path: Path) -> bool:
    """Wrap ``path`` in place; True when it changed."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        changed = False
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            old = "".join(cell["source"])
            new = wrap(old)
            if new != old:
                lines = new.split("\n")
                cell["source"] = [ln + "\n" for ln in lines[:-1]] + [lines[-1]]
                changed = True
        if changed:
            text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
            path.write_text(text, encoding="utf-8")
        return changed
    old = path.read_text(encoding="utf-8")
    new = wrap(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


if __name__ == "__main__":
    for name in sys.argv[1:]:
        if fix_file(Path(name)):
            print(f"wrapped {name}")
