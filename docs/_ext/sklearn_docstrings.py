"""Make the docstrings MLPClassifier inherits from scikit-learn build in this site.

scikit-learn writes cross-references into its own User Guide (``:ref:`accuracy
<accuracy_score>```), labels this site does not have, so ``-W`` fails on ``score``.
Such a reference becomes its text, marked as scikit-learn's ("accuracy (scikit-learn User
Guide)").
"""

import re

_REF = re.compile(r":ref:`(?:([^`<]+?)\s*<([^`>]+)>|([^`]+))`")


def _plain(match):
    text, label, bare = match.groups()
    return f"{(text or bare).strip()} (scikit-learn User Guide)"


def _process(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("sklearn"):
        return
    lines[:] = [_REF.sub(_plain, line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _process)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
