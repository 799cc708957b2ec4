"""Code blocks of a reStructuredText file, as Sphinx sees them.

A block is a ``code-block``, ``code`` or ``sourcecode`` directive, indented by any amount;
its options (``:caption:`` ...) are skipped, and its content is every following line
indented deeper than the directive, or blank, dedented. The language is the directive's
argument. Plain ``::`` literal blocks are prose here (output, shell sessions), not code.
The blocks share ``Block`` and the lists of languages with ``markdown``, so that both kinds
of page follow one rule: Python runs, known other languages do not, anything else (no
language, a misspelling) is an error.
"""

import re
import textwrap

from helpers.markdown import NOT_PYTHON, PYTHON, Block

DIRECTIVE = re.compile(
    r"^(?P<indent> *)\.\. +(?:code-block|code|sourcecode)::[ \t]*(?P<info>.*)$")
OPTION = re.compile(r"^ +:[\w-]+:")


def code_blocks(text):
    """Every code directive of ``text``, in order."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = DIRECTIVE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m["indent"])
        j = i + 1
        while j < len(lines) and OPTION.match(lines[j]):
            j += 1
        body_start = j
        while j < len(lines) and (not lines[j].strip()
                                  or len(lines[j]) - len(lines[j].lstrip(" ")) > indent):
            j += 1
        body = lines[body_start:j]
        while body and not body[0].strip():
            body.pop(0)
            body_start += 1
        language = m["info"].strip().split()[0].lower() if m["info"].strip() else ""
        # Block.line is the line before the code, as for Markdown's fences.
        blocks.append(Block(language, textwrap.dedent("\n".join(body)).strip("\n") + "\n",
                            body_start, m["info"]))
        i = j
    return blocks


def python_blocks(text):
    """The Python blocks of ``text``; ValueError for a block with no or an unknown language."""
    blocks = code_blocks(text)
    unknown = [b for b in blocks if b.language not in PYTHON | NOT_PYTHON]
    if unknown:
        raise ValueError(
            "code blocks with no language, or one neither run as Python nor known not to "
            "be: " + ", ".join(f"line {b.line} ({b.language or 'none'!r})" for b in unknown)
        )
    return [b for b in blocks if b.language in PYTHON and b.run]
