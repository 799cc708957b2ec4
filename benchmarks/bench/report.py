"""Sections as Markdown tables and PNG figures, and the page that gathers them.

Each section is written to ``<out>/<key>.md`` with its figures beside it as
``<out>/<figure>.png``; ``<out>/results.md`` then gathers the machine and every section file
present in ``<out>``, so that re-running one section keeps the others' last figures.
"""

from dataclasses import dataclass, field
from pathlib import Path

ORDER = ("kernels", "training", "contention", "latency", "calls", "grid", "scaling",
         "streaming")


@dataclass
class Table:
    """A Markdown table: the first ``n_labels`` columns are labels, the others figures.

    ``note`` is a paragraph printed under it, ``figure`` a :class:`Figure` shown under it.
    """

    title: str
    columns: list
    rows: list = field(default_factory=list)
    n_labels: int = 1
    note: str = ""
    figure: object = None

    def markdown(self):
        cells = [list(map(str, self.columns))] + [list(map(str, r)) for r in self.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(self.columns))]

        def line(row):
            padded = [c.ljust(w) if j < self.n_labels else c.rjust(w)
                      for j, (c, w) in enumerate(zip(row, widths))]
            return "| " + " | ".join(padded) + " |"

        rule = ["-" * w if j < self.n_labels else "-" * (w - 1) + ":"
                for j, w in enumerate(widths)]
        return "\n".join([line(cells[0]), "| " + " | ".join(rule) + " |"]
                         + [line(r) for r in cells[1:]])


@dataclass
class Figure:
    """A PNG drawn by ``draw(fig)`` on a matplotlib Figure; ``alt`` describes it."""

    name: str
    alt: str
    draw: object
    size: tuple = (7.0, 3.6)


@dataclass
class Section:
    key: str
    title: str
    intro: str
    tables: list = field(default_factory=list)
    figures: list = field(default_factory=list)


def print_table(table):
    print(f"\n{table.title}\n\n{table.markdown()}")
    if table.note:
        print(table.note)


def write_figure(figure, out):
    """Save ``figure`` as ``out/<name>.png``; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure as MplFigure
    except ImportError:
        print(f"matplotlib is not installed: {figure.name}.png not drawn "
              "(pip install matplotlib, or the 'plot' extra)")
        return False
    fig = MplFigure(figsize=figure.size, layout="constrained")
    figure.draw(fig)
    fig.savefig(Path(out) / f"{figure.name}.png", dpi=110)
    return True


def section_markdown(section, stamp, drawn):
    """The section's Markdown; ``drawn`` names the figures whose PNG exists."""
    def image(figure):
        return [f"![{figure.alt}]({figure.name}.png)"] if figure.name in drawn else []

    parts = [f"## {section.title}", section.intro, stamp]
    for table in section.tables:
        parts += [f"### {table.title}", table.markdown()]
        parts += [table.note] if table.note else []
        parts += image(table.figure) if table.figure else []
    for figure in section.figures:
        parts += image(figure)
    return "\n\n".join(parts) + "\n"


def write_section(section, out, stamp):
    """Write ``out/<key>.md`` and its figures."""
    figures = section.figures + [t.figure for t in section.tables if t.figure]
    drawn = {f.name for f in figures if write_figure(f, out)}
    (Path(out) / f"{section.key}.md").write_text(section_markdown(section, stamp, drawn))


def write_results(out, machine, command):
    """Write ``out/results.md``: the machine, then every section file present in ``out``."""
    rows = "\n".join(f"| {label} | {value} |" for label, value in machine)
    head = [
        "# Benchmark results",
        f"The machine below ran the last command, `{command}`; each section says when "
        "and by which command it was measured (a run of some sections keeps the others). "
        "Figures, not assertions: each is the best or the median of several runs; each "
        "section says whether its peers ran in one process or each in its own. "
        "`results.json` holds the same figures for programs, with the machine's CPU flags.",
        f"| machine | |\n|---|---|\n{rows}",
    ]
    body = [(Path(out) / f"{key}.md").read_text().rstrip("\n") for key in ORDER
            if (Path(out) / f"{key}.md").is_file()]
    path = Path(out) / "results.md"
    path.write_text("\n\n".join(head + body) + "\n")
    return path
