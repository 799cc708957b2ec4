#!/usr/bin/env python3
"""Check the size limits of csoftmax's hand-written sources.

Limits: a file holds at most 600 lines, a function at most 80 (its signature and body; a
docstring is documentation and does not count), and a function takes at most 8 parameters, except the public signatures copied
from scikit-learn and PyTorch (EXEMPT_PARAMETERS). Checked: csoftmax/**/*.py, *.pyx, *.pxi,
*.pxd (Python functions through `ast`, Cython ones by their indentation) and src_c/*.c, *.h
(C functions by their braces; a macro body is not a function).

    python .ci/check_sizes.py   # exit 1 when a limit is broken under csoftmax/ or src_c/
"""

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
MAX_PARAMETERS = 8

#: Public signatures copied from scikit-learn and PyTorch: their parameters are theirs.
EXEMPT_PARAMETERS = {
    "csoftmax/neural_network/_estimator.py:MLPClassifier.__init__",  # scikit-learn's
    "csoftmax/losses.py:cross_entropy",  # torch.nn.functional.cross_entropy's
}


def python_files():
    for pattern in ("*.py", "*.pyx", "*.pxi", "*.pxd"):
        yield from sorted((ROOT / "csoftmax").rglob(pattern))


def c_files():
    for pattern in ("*.c", "*.h"):
        yield from sorted((ROOT / "src_c").glob(pattern))


def python_functions(text):
    """(qualified name, first line, line count, parameter count) of every function."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = child.args
                n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                n += (a.vararg is not None) + (a.kwarg is not None)
                if prefix and a.args and a.args[0].arg in ("self", "cls"):
                    n -= 1
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                length = child.end_lineno - first + 1
                doc = child.body[0]
                if (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
                        and isinstance(doc.value.value, str)):
                    length -= doc.end_lineno - doc.lineno + 1
                found.append((prefix + child.name, first, length, n))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(ast.parse(text), "")
    return found


_CYTHON_DEF = re.compile(r"^(\s*)(?:cpdef|cdef|def)\s+([^=(]*?)(\w+)\s*\(")
_CYTHON_CLASS = re.compile(r"^(\s*)(?:cdef\s+)?class\s+(\w+)")


def _split_parameters(signature):
    """The parameters of `name(...)` in signature, split at the commas of depth 1."""
    depth, start, parts = 0, None, []
    for i, ch in enumerate(signature):
        if ch in "([":
            depth += 1
            if depth == 1 and ch == "(":
                start = i + 1
        elif ch in ")]":
            depth -= 1
            if depth == 0 and ch == ")":
                parts.append(signature[start:i])
                break
        elif ch == "," and depth == 1:
            parts.append(signature[start:i])
            start = i + 1
    return [p.strip() for p in parts if p.strip() and p.strip() not in ("void", "*", "/")]


def _docstring_lines(lines, start):
    """Lines of the docstring opening the body that starts after line start - 1, or 0."""
    body = next((k for k in range(start, len(lines)) if lines[k].strip()), None)
    if body is None:
        return 0
    first = lines[body].lstrip()
    quote = first[:3]
    if quote not in ('"""', "'''"):
        return 0
    if first.count(quote) >= 2:
        return 1
    end = next((k for k in range(body + 1, len(lines)) if quote in lines[k]), body)
    return end - body + 1


def cython_functions(text):
    """Functions of a Cython file, found by `def`/`cdef`/`cpdef ... name(` and their
    indentation (a function ends before the next line indented no deeper)."""
    lines = text.split("\n")
    found, classes = [], []
    for i, line in enumerate(lines):
        cls = _CYTHON_CLASS.match(line)
        if cls:
            classes = [(ind, name) for ind, name in classes if ind < len(cls.group(1))]
            classes.append((len(cls.group(1)), cls.group(2)))
            continue
        m = _CYTHON_DEF.match(line)
        if not m or line.rstrip().endswith(")") and "=" in line:
            continue
        indent = len(m.group(1))
        signature, j = line, i
        while signature.count("(") > signature.count(")") and j + 1 < len(lines):
            j += 1
            signature += lines[j]
        if not signature.rstrip().endswith(":"):
            continue  # a declaration, not a definition
        end, doc = j, _docstring_lines(lines, j + 1)
        for k in range(j + 1, len(lines)):
            s = lines[k]
            if s.strip() and not s.lstrip().startswith("#"):
                if len(s) - len(s.lstrip()) <= indent:
                    break
                end = k
        classes = [(ind, name) for ind, name in classes if ind < indent]
        prefix = "".join(name + "." for _, name in classes)
        params = _split_parameters(signature[signature.index(m.group(3)):])
        if classes and params and params[0].split()[-1] in ("self", "cls"):
            params = params[1:]
        found.append((prefix + m.group(3), i + 1, end - i + 1 - doc, len(params)))
    return found


def c_functions(text):
    """Top-level C function definitions: a `{` at depth 0 right after a `)`, to its `}`.
    Comments and preprocessor lines (with their continuations) are skipped."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    code, in_macro = [], False
    for line in text.split("\n"):
        directive = in_macro or line.lstrip().startswith("#")
        in_macro = directive and line.rstrip().endswith("\\")
        code.append("" if directive else line)
    found, depth, head, head_line, opened = [], 0, "", 0, None
    for i, line in enumerate(code):
        for ch in line + "\n":
            if depth == 0 and ch not in "{};":
                if not head.strip() and not ch.isspace():
                    head_line = i
                head += ch
            elif ch == ";" and depth == 0:
                head = ""
            elif ch == "{":
                if depth == 0:
                    h = head.strip()
                    opened = (head_line, h) if h.endswith(")") else None
                    head = ""
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0 and opened is not None:
                    first, h = opened
                    params = h[_last_group_start(h):]
                    names = re.findall(r"\w+", h[: _last_group_start(h)])
                    found.append((names[-1] if names else "?", first + 1, i - first + 1,
                                  len(_split_parameters(params))))
                    opened = None
                if depth == 0:
                    head = ""
    return found


def _last_group_start(signature):
    """Index of the `(` opening the last top-level parenthesised group of signature."""
    depth = 0
    for i in range(len(signature) - 1, -1, -1):
        if signature[i] == ")":
            depth += 1
        elif signature[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return 0


def check(paths, functions_of):
    """Messages for every limit broken in paths."""
    problems = []
    for path in paths:
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text()
        n_lines = text.count("\n") + (not text.endswith("\n"))
        if n_lines > MAX_FILE_LINES:
            problems.append(f"{rel}: {n_lines} lines (limit {MAX_FILE_LINES})")
        for name, first, length, n_params in functions_of(path, text):
            where = f"{rel}:{first} {name}"
            if length > MAX_FUNCTION_LINES:
                problems.append(f"{where}: {length} lines (limit {MAX_FUNCTION_LINES})")
            if n_params > MAX_PARAMETERS and f"{rel}:{name}" not in EXEMPT_PARAMETERS:
                problems.append(f"{where}: {n_params} parameters (limit {MAX_PARAMETERS})")
    return problems


def _python_or_cython(path, text):
    return python_functions(text) if path.suffix == ".py" else cython_functions(text)


def python_problems():
    return check(python_files(), _python_or_cython)


def c_problems():
    return check(c_files(), lambda path, text: c_functions(text))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    py, c = python_problems(), c_problems()
    for p in py:
        print("csoftmax:", p)
    for p in c:
        print("src_c:", p)
    print(f"{len(py)} problem(s) under csoftmax/, {len(c)} under src_c/")
    return 1 if py or c else 0


if __name__ == "__main__":
    sys.exit(main())
