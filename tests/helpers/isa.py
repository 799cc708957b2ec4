"""What instructions each SIMD path of a compiled object really holds.

``objdump -d`` disassembles the object; every function whose name ends in a level's suffix
(``softmax_block_f32_avx2``, ``cs_vexp_f64_avx512``, their ``.part``/``.cold`` clones) is
counted for that level: how many of its instructions touch ``zmm``, ``ymm`` or ``xmm``
registers (x86-64), or NEON ``v`` registers (ARM64). A path is compiled with its instructions
when its widest register class is the level's: ``zmm`` for avx512, ``ymm`` for avx2, and
for the portable path nothing wider than the architecture's baseline (``xmm`` on x86-64).

Run as a script, ``python tests/helpers/isa.py OBJECT [OBJDUMP]`` prints one line per level.
"""

import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict

LEVELS = ("portable", "avx2", "avx512")
_FUNC = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
_REGS = {
    "zmm": re.compile(r"%zmm\d+|\bzmm\d+\b"),
    "ymm": re.compile(r"%ymm\d+|\bymm\d+\b"),
    "xmm": re.compile(r"%xmm\d+|\bxmm\d+\b"),
    "neon": re.compile(r"\bv\d+\.(?:2d|4s|16b|8h|2s|8b|4h|d|s)\b|\bq\d+\b"),
}
WIDEST = {"avx512": "zmm", "avx2": "ymm"}


def find_objdump(explicit=None):
    """The objdump to use: `explicit`, or objdump / llvm-objdump on PATH (None if neither)."""
    if explicit:
        return explicit
    return shutil.which("objdump") or shutil.which("llvm-objdump")


def level_of(symbol):
    """The level whose suffix ends the symbol (clone suffixes like .part.0 ignored), or None."""
    base = symbol.split(".", 1)[0]
    for level in LEVELS:
        if base.endswith("_" + level):
            return level
    return None


def register_counts(path, objdump=None):
    """{level: Counter(register class -> instructions using it), plus 'instructions'}."""
    objdump = find_objdump(objdump)
    text = subprocess.run(
        [objdump, "-d", "--no-show-raw-insn", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    counts = defaultdict(Counter)
    level = None
    for line in text.splitlines():
        m = _FUNC.match(line)
        if m:
            level = level_of(m.group(1))
            continue
        if level is None or "\t" not in line:
            continue
        insn = line.split("\t", 1)[1]
        counts[level]["instructions"] += 1
        for name, rx in _REGS.items():
            if rx.search(insn):
                counts[level][name] += 1
    return counts


def widest(counter):
    """The widest register class a path uses: zmm, ymm, xmm, neon or none."""
    for name in ("zmm", "ymm", "xmm", "neon"):
        if counter.get(name):
            return name
    return "none"


def describe(counts):
    """One line per level: its instruction count and those using each register class."""
    lines = []
    for level in LEVELS:
        c = counts.get(level)
        if not c:
            continue
        regs = ", ".join(f"{c[n]} {n}" for n in ("zmm", "ymm", "xmm", "neon") if c.get(n))
        lines.append(f"{level}: {c['instructions']} instructions ({regs or 'no vector registers'}); "
                     f"widest {widest(c)}")
    return lines


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python tests/helpers/isa.py OBJECT [OBJDUMP]")
    for line in describe(register_counts(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None)):
        print(line)
