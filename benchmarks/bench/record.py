"""The run's machine-readable record, ``results.json``, and the Markdown tables it holds.

``results.json`` is what every figure in the README and the documentation is rendered
from (``bench.blocks``). It holds::

    {"schema": 1,
     "machine": {"CPU": ..., "SIMD path": ..., ..., "cpu_flags": {"avx2": true, ...}},
     "command": "python benchmarks/suite.py", "date": "2026-11-24 10:43 UTC",
     "sections": {"kernels": {"title": ..., "date": ..., "command": ...,
                              "machine": {...},
                              "tables": [{"title": ..., "columns": [...],
                                          "n_labels": 1, "rows": [[...], ...]}]}},
     "figures": {"kernels/float32 logits/softmax | float32 | (200, 10)/csoftmax ms": "0.003"}}

``figures`` flattens every table cell that is a figure under a stable key,
``section/table title/row labels joined by " | "/column``; a column whose name is not
unique in its table (``median``) is keyed after the unique column before it
(``csoftmax best / median``). The cells are the strings the tables print.

A run of some sections keeps the other sections' records, as ``results.md`` keeps their
tables; ``command`` and ``date`` at the top are those of the last run, and each section
carries its own.
"""

import json
import re
from pathlib import Path

SCHEMA = 1
CPU_FLAGS = ("sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "neon", "asimd")


def cpu_flags():
    """The SIMD-related flags of /proc/cpuinfo as flag -> bool; {} where it is unreadable."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() in ("flags", "Features"):
                    present = set(value.split())
                    return {flag: flag in present for flag in CPU_FLAGS}
    except OSError:  # not Linux
        pass
    return {}


def machine_record(described, flags):
    """The machine as a dict: ``describe()``'s labels, and ``cpu_flags``."""
    return {**dict(described), "cpu_flags": flags}


def table_record(table):
    return {"title": table.title, "columns": [str(c) for c in table.columns],
            "n_labels": table.n_labels, "rows": [[str(c) for c in row] for row in table.rows]}


def section_record(section, machine, date, command):
    return {"title": section.title, "intro": section.intro, "date": date, "command": command,
            "machine": machine, "tables": [table_record(t) for t in section.tables]}


def column_keys(columns):
    """Unique keys for a table's columns (see the module's docstring)."""
    keys, last_unique = [], ""
    for name in columns:
        if columns.count(name) == 1:
            keys.append(name)
            last_unique = name
        else:
            keys.append(f"{last_unique} / {name}" if last_unique else name)
    return keys


def flatten(sections):
    """Every figure of ``sections`` (key -> its record) under its stable key."""
    figures = {}
    for key, section in sections.items():
        for table in section["tables"]:
            n = table["n_labels"]
            columns = column_keys(table["columns"])
            for row in table["rows"]:
                label = " | ".join(row[:n])
                for column, cell in zip(columns[n:], row[n:]):
                    figures[f"{key}/{table['title']}/{label}/{column}"] = cell
    return figures


def load(path):
    """The record at ``path``, or None when there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def dumps(value, indent=0):
    """JSON with one line per table row (a list of scalars), for readable diffs."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + dumps(v, indent + 1) for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def write(path, machine, command, date, sections):
    """Merge ``sections`` (key -> record) into the record at ``path`` and write it."""
    old = load(path) or {}
    merged = {**old.get("sections", {}), **sections}
    record = {"schema": SCHEMA, "machine": machine, "command": command, "date": date,
              "sections": merged, "figures": flatten(merged)}
    Path(path).write_text(dumps(record) + "\n")
    return record


_RULE = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def tables_from_markdown(text):
    """The tables of a section file as records: each ``### title`` and the table under it.

    The label columns are those whose rule has no colon (``report.Table`` right-aligns
    figures with ``---:``).
    """
    tables, title, lines = [], None, text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("### "):
            title = line[4:].strip()
        elif title and _RULE.match(line) and i > 0 and lines[i - 1].startswith("|"):
            rule = _cells(line)
            rows = []
            for body in lines[i + 1:]:
                if not body.startswith("|"):
                    break
                rows.append(_cells(body))
            tables.append({"title": title, "columns": _cells(lines[i - 1]),
                           "n_labels": sum(not r.endswith(":") for r in rule), "rows": rows})
            title = None
    return tables
