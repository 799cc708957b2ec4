"""Sphinx HTML math renderer that writes MathML, so formulas need no JavaScript and no network.

Browsers render MathML natively (Chromium since version 109, Firefox and Safari for
longer). The LaTeX of ``:math:``, ``.. math::`` and MyST's ``$...$`` / ``$$...$$`` is
converted at build time by latex2mathml; a formula it cannot convert fails the build.
"""

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.errors import ExtensionError
from sphinx.util.math import get_node_equation_number


def _mathml(latex, display, node):
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises its own exception types
        raise ExtensionError(f"cannot convert {latex!r} to MathML ({node.source}:{node.line}): "
                             f"{exc}") from exc


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math"))
    self.body.append(_mathml(node.astext(), False, node))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_math_block(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math"))
    if node.get("number"):
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, "Link to this equation")
        self.body.append("</span>")
    for part in node.astext().split("\n\n"):
        if part.strip():
            self.body.append(_mathml(part, True, node))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
