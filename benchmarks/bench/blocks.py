"""The figures the README and the performance page quote, rendered from ``results.json``.

Each block sits in its file between two marker lines (``<!-- suite:NAME -->`` and
``<!-- /suite:NAME -->`` in Markdown, ``.. suite:NAME`` and ``.. /suite:NAME`` comments in
reStructuredText); ``update`` rewrites what is between them and nothing else, and
``tests/test_figures.py`` fails when a file's block differs from ``render``'s. A row whose
figures the record lacks (a section not run yet) is left out rather than invented.
"""

import re
from pathlib import Path

# file (relative to the checkout) -> block names in it
FILES = {"README.md": ("streaming", "speed"), "docs/performance.rst": ("machine",)}


class Missing(KeyError):
    """A figure the record does not hold."""


def _figure(record, key):
    try:
        return record["figures"][key]
    except KeyError:
        raise Missing(key) from None


def _num(record, key):
    return float(_figure(record, key).rstrip("x%").replace(",", ""))


def _seconds(value):
    """Seconds as a reader wants them: µs, ms or s, two or three significant digits."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= scale:
            v = value / scale
            return f"{v:#.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{value / 1e-6:.2g} µs"


def _ratio(slow, fast):
    return f"{slow / fast:.1f}x"


def _machine_text(m):
    flags = m.get("cpu_flags") or {}
    if "avx512f" in flags:
        avx512 = "with AVX-512" if flags["avx512f"] else "without AVX-512"
    else:
        avx512 = "AVX-512 not recorded"
    simd = m.get("SIMD path", "").split(" ")[0]
    return (f"{m['CPU']}, {m['cores'].split(' ')[0]} cores, {avx512}, SIMD path {simd}, "
            f"{m['build']}; {m['versions']}")


def machine_sentence(record, keys=None):
    """Where and when the figures were measured, and by which command: those of the
    sections ``keys`` (default: every section), run by run when they differ."""
    sections = record["sections"]
    keys = [k for k in (sections if keys is None else keys) if k in sections]
    runs = {}
    for key in keys or [None]:
        source = sections[key] if key else record
        run = (_machine_text(source.get("machine", record["machine"])), source["date"],
               source["command"])
        runs.setdefault(run, []).append(key)
    if len(runs) == 1:
        (machine, date, command), = runs
        return f"Measured on {machine}, {date}, by `{command}`."
    return "Measured in several runs: " + "; ".join(
        f"{', '.join(f'*{k}*' for k in names)} on {machine}, {date}, by `{command}`"
        for (machine, date, command), names in runs.items()) + "."


def _training_threads(record):
    """The most threads the training table has rows for."""
    prefix = "training/Seconds per epoch/"
    found = [int(key[len(prefix):].split("/")[0].split(" | ")[3])
             for key in record["figures"] if key.startswith(prefix)]
    if not found:
        raise Missing(prefix)
    return max(found)


# Each row function: the record -> (measure, csoftmax, peers), or a list of them; each
# raises Missing when the record lacks a figure it quotes.
def _training(record):
    k = "training/Seconds per epoch/{} | float32 | float32 | {}/median"
    threads = _training_threads(record)
    cs = _num(record, k.format("csoftmax", threads))
    sk = _num(record, k.format("scikit-learn", threads))
    peers = f"scikit-learn {_seconds(sk)} ({_ratio(sk, cs)})"
    try:
        pt = _num(record, k.format("PyTorch", threads))
        peers += f", PyTorch {_seconds(pt)} ({_ratio(pt, cs)})"
    except Missing:
        pass
    gemm = _num(record, k.format("GEMM bound", threads))
    peers += f"; the matrix products alone {_seconds(gemm)}"
    return (f"training epoch, {_training_data(record)}, float32, Adam, {threads} threads",
            _seconds(cs), peers)


def _training_data(record):
    """The training table's data and network, as its section's introduction gives them."""
    intro = record["sections"].get("training", {}).get("intro", "")
    layers = re.search(r"A (\d[\d-]*) ReLU network", intro)
    data = re.search(r" on ([^:(]+?) \(([\d,]+) training rows", intro)
    if not (layers and data):
        return "the *Training* table's data"
    return f"{data.group(1)} {data.group(2)} rows, {layers.group(1)}"


def _training64(record):
    k = "training/Seconds per epoch/{} | float64 | {} | {}/median"
    threads = _training_threads(record)
    cs = _num(record, k.format("csoftmax", "float32", threads))
    sk = _num(record, k.format("scikit-learn", "float64", threads))
    return ("the same from float64 input, `dtype=np.float32`", _seconds(cs),
            f"scikit-learn (float64) {_seconds(sk)} ({_ratio(sk, cs)})")


def _grid(record):
    rows = []
    for n_jobs in ("1", "2"):
        k = f"grid/Seconds per search/{{}} | {n_jobs}/first search / median"
        try:
            cs, sk = _num(record, k.format("csoftmax")), _num(record, k.format("scikit-learn"))
        except Missing:
            continue
        found = re.search(r" on ([\d,]+) rows of ([^(]+?) \(",
                          record["sections"]["grid"].get("intro", ""))
        data = f", {found.group(1)} rows of {found.group(2)}" if found else ""
        rows.append((f"`GridSearchCV`, 4 candidates x 3 folds{data}, `n_jobs={n_jobs}`",
                     _seconds(cs), f"scikit-learn {_seconds(sk)} ({_ratio(sk, cs)})"))
    if not rows:
        raise Missing("grid")
    return rows


def _latency(record):
    k = "latency/Microseconds per predict_proba call/{}/{}"
    cs1, cs1000 = (_num(record, k.format(n, "csoftmax best / median")) * 1e-6
                   for n in ("1", "1,000"))
    sk1, sk1000 = (_num(record, k.format(n, "scikit-learn best / median")) * 1e-6
                   for n in ("1", "1,000"))
    return ("`predict_proba`, 1 row / 1,000 rows", f"{_seconds(cs1)} / {_seconds(cs1000)}",
            f"scikit-learn {_seconds(sk1)} ({_ratio(sk1, cs1)}) / {_seconds(sk1000)} "
            f"({_ratio(sk1000, cs1000)})")


def _small_calls(record):
    rows = []
    for what in ("partial_fit, 10 rows", "partial_fit, 200 rows", "predict_proba, 1 row"):
        k = f"calls/Microseconds per call/{what}/{{}}"
        cs = _num(record, k.format("csoftmax best / median")) * 1e-6
        sk = _num(record, k.format("scikit-learn best / median")) * 1e-6
        rows.append((f"`{what.split(',')[0]}`,{what.split(',')[1]} a call, digits 64-100-10",
                     _seconds(cs), f"scikit-learn {_seconds(sk)} ({_ratio(sk, cs)})"))
    return rows


def _busy(record):
    rows = []
    for op in ("fit", "partial_fit", "predict_proba", "softmax"):
        k = (f"contention/Milliseconds per call, each in its own process/{op} | {{}}/"
             "busy median")
        default, one = (_num(record, k.format(n)) * 1e-3 for n in ("default", "1"))
        rows.append((f"`{op}` beside a process spinning on one core, default threads",
                     _seconds(default),
                     f"csoftmax `n_threads=1` {_seconds(one)} ({one / default:.2f}x)"))
    return rows


def _kernel(op, shape, peer_names, out=False):
    def row(record):
        k = f"kernels/float32 logits/{op} | float32 | {shape}/{{}}"
        cs = _num(record, k.format("csoftmax ms")) * 1e-3
        text = _seconds(cs)
        if out:
            text += f"; {_seconds(_num(record, k.format('out= ms')) * 1e-3)} into `out=`"
        peers = []
        for name in peer_names:
            try:
                t = _num(record, k.format(f"{name} ms")) * 1e-3
            except (Missing, ValueError):  # PyTorch not installed: "—"
                continue
            peers.append(f"{name} {_seconds(t)} ({_ratio(t, cs)})")
        if out:
            copy = (_num(record, k.format("out= ms")) * _num(record, k.format("of copy"))
                    / 100 * 1e-3)
            peers.append(f"a copy of the bytes about {_seconds(copy)}")
        label = {"xent+grad": "cross-entropy + gradient", "softmax_vjp": "softmax VJP"}.get(
            op, op)
        return (f"{label}, float32, {shape.strip('()').replace(', ', ' x ')}", text,
                ", ".join(peers))
    return row


SPEED_ROWS = (_training, _training64, _grid, _latency, _small_calls, _busy,
              _kernel("softmax", "(60000, 10)", ("PyTorch",)),
              _kernel("xent+grad", "(4096, 1000)", ("PyTorch",)),
              _kernel("softmax", "(512, 50257)", ("PyTorch",), out=True),
              _kernel("softmax_vjp", "(512, 50257)", ("NumPy", "PyTorch")))


QUOTED = ("training", "grid", "latency", "calls", "contention", "kernels")


def speed(record):
    rows = []
    for make in SPEED_ROWS:
        try:
            made = make(record)
        except Missing:
            continue
        rows += made if isinstance(made, list) else [made]
    lines = ["| measure | csoftmax | peers |", "|---|---|---|"]
    lines += [f"| {m} | {cs} | {peers} |" for m, cs, peers in rows]
    return "\n".join([
        f"{machine_sentence(record, QUOTED)} `docs/benchmarks/results.json` records the "
        "run and `docs/benchmarks/` has every table. Medians of alternating runs; the kernels "
        "take the best call of rounds in which every library takes turns; *x* is the "
        "peer's time over csoftmax's:", "", *lines])


def machine(record):
    sentence = machine_sentence(record).replace("`", "``")
    return "The figures on this page were m" + sentence[1:]


def streaming(record):
    """The out-of-core table, or a sentence saying how to measure it."""
    section = record["sections"].get("streaming")
    if section is None:
        return ("`python benchmarks/suite.py --sections streaming` measures it (not yet "
                "recorded in `docs/benchmarks/results.json`).")
    table = section["tables"][0]
    stream, memory = ({c: float(v) for c, v in zip(table["columns"][1:], row[1:])}
                      for row in table["rows"])
    rows = "\n".join(f"| {row[0]} | {row[1]} GB | {row[3]} | {row[4]} |"
                     for row in table["rows"])
    return "\n".join([
        section.get("intro", ""),
        "",
        machine_sentence(record, ["streaming"]),
        "",
        "| way | peak RSS | accuracy | seconds |",
        "|---|---:|---:|---:|",
        rows,
        "",
        ("Both processes hold " + (f"{stream['before GB']:.2f} GB" if stream["before GB"]
                                   == memory["before GB"] else
                                   f"{stream['before GB']:.2f} and {memory['before GB']:.2f} GB")
         + " before loading the data (Python, NumPy, SciPy, scikit-learn); streaming adds "
         + f"{stream['peak RSS GB'] - stream['before GB']:.2f} GB, a chunk and the model, "
        "however many rows the file holds.")])


RENDER = {"speed": speed, "machine": machine, "streaming": streaming}


def _markers(path, name):
    """The block's first and last lines, and what separates them from its text."""
    if str(path).endswith(".rst"):
        return f".. suite:{name}", f".. /suite:{name}", "\n\n"
    return f"<!-- suite:{name} -->", f"<!-- /suite:{name} -->", "\n"


def _pattern(path, name):
    begin, end, _ = _markers(path, name)
    return re.compile(re.escape(begin) + r"(.*?)" + re.escape(end), re.S)


def current(path, name):
    """The text of block ``name`` in ``path``, stripped; None when it has no such block."""
    found = _pattern(path, name).search(Path(path).read_text())
    return found.group(1).strip() if found else None


def render(name, record):
    return RENDER[name](record)


def update(root, record):
    """Rewrite every block of ``FILES`` under ``root`` from ``record``; the paths changed."""
    changed = []
    for rel, names in FILES.items():
        path = Path(root) / rel
        text = path.read_text()
        new = text
        for name in names:
            begin, end, gap = _markers(path, name)
            pattern = _pattern(path, name)
            if not pattern.search(new):
                raise ValueError(f"{rel} has no block {name!r} ({begin!r} ... {end!r})")
            body = render(name, record)
            new = pattern.sub(lambda _: begin + gap + body + gap + end, new)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed
