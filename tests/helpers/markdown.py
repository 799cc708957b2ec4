"""Fenced code blocks of a Markdown (CommonMark or MyST) file, as a reader's renderer sees them.

A fence is three or more backticks or tildes, indented by any number of spaces (fences
in list items are indented further than CommonMark's three), with an
info string whose first word is the language (``python``, ``py``, ``Python``, ``{code-block}
python`` ...). It closes at a line holding only the same character, at least as many
times. The content loses the fence's indentation. MyST directives (``{note}`` ...) may hold
further fences; their content is searched too.
"""

import re

OPEN = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
PYTHON = {"python", "py", "python3", "ipython", "ipython3", "pycon"}
CODE_DIRECTIVES = {"{code-block}", "{code}", "{sourcecode}", "{code-cell}"}
# Fences that are meant not to run: shell sessions, outputs, other languages, math.
NOT_PYTHON = {
    "bash", "sh", "shell", "console", "text", "none", "output", "toml", "ini", "json",
    "yaml", "c", "cython", "diff", "{math}", "{eval-rst}", "{toctree}", "{figure}",
    "{image}", "{list-table}", "{plot}", "{csv-table}",
}


# A second word `no-run` in the info string (```python no-run) shows Python that is not run
# here: code that needs a service the tests cannot start, such as a Dask cluster; the
# tests that cover it are named beside it.
NO_RUN = "no-run"


class Block:
    def __init__(self, language, code, line, info=""):
        self.language, self.code, self.line = language, code, line
        self.run = NO_RUN not in info.split()

    def __repr__(self):
        return f"Block({self.language!r}, line {self.line})"


def _language(info):
    words = info.strip().split()
    if not words:
        return ""
    first = words[0].lower()
    if first.startswith("{") and first in CODE_DIRECTIVES:
        return words[1].lower() if len(words) > 1 else ""
    return first.strip("{}.") if not first.startswith("{") else first


def fenced_blocks(text, first_line=1):
    """Every fenced block of `text`, in order, nested MyST directive content included."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        indent, fence, info = len(m["indent"]), m["fence"], m["info"]
        close = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body = []
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            line = lines[j]
            strip = len(line) - len(line.lstrip(" "))
            body.append(line[min(indent, strip):])
            j += 1
        code = "\n".join(body) + "\n"
        stripped = info.strip()
        if stripped.startswith("{") and stripped.split()[0] not in CODE_DIRECTIVES:
            blocks.append(Block(_language(info), code, first_line + i, info))
            blocks.extend(fenced_blocks(code, first_line + i + 1))
        else:
            blocks.append(Block(_language(info), code, first_line + i, info))
        i = j + 1
    return blocks


def python_blocks(text):
    """The blocks a reader takes for Python. Raises ValueError for a fence with no
    language or one this module does not know, so that no Python block is skipped
    because its fence was written differently."""
    blocks = fenced_blocks(text)
    unknown = [b for b in blocks if b.language not in PYTHON | NOT_PYTHON
               and not b.language.startswith("{")]  # other MyST directives hold prose
    if unknown:
        raise ValueError(
            "fences with no language, or one neither run as Python nor known not to be: "
            + ", ".join(f"line {b.line} ({b.language or 'none'!r})" for b in unknown)
        )
    return [b for b in blocks if b.language in PYTHON and b.run]
