#!/usr/bin/env bash
# The wheel is lean: built from a clean export of the committed tree (as a release is), it
# must hold no build leftovers (C, Cython or header files) and an extension without debug
# information (no .debug_* section, read with readelf -S). Prints the wheel's and the
# extension's sizes. Needs the build requirements in the running Python (the Quick start's
# `pip install -e ".[test]"` installs them); about 2 minutes, most of it the compile.
#
#   bash .ci/wheel-check.sh            # the committed HEAD
#   bash .ci/wheel-check.sh some-ref   # any commit
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
ref=${1:-HEAD}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/wheel"
git archive "$ref" | tar -x -C "$work/src"
start=$SECONDS
(cd "$work/src" && nice -n 19 "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation \
    -w "$work/wheel" .) >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
wheel=$(echo "$work"/wheel/*.whl)
echo "wheel-check: built $(basename "$wheel") in $((SECONDS - start)) s"

"$PYTHON" - "$wheel" "$work/x" <<'PY'
import os, subprocess, sys, zipfile

wheel, out = sys.argv[1:]
failures = []
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    leftovers = [n for n in names if n.endswith((".c", ".h", ".pyx", ".pxd", ".o"))]
    if leftovers:
        failures.append(f"build leftovers in the wheel: {leftovers}")
    extensions = [n for n in names if n.endswith((".so", ".pyd"))]
    if len(extensions) != 1:
        failures.append(f"expected one extension in the wheel, found {extensions}")
    for name in extensions:
        path = z.extract(name, out)
        sections = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True,
                                  check=True).stdout
        debug = sorted({w for w in sections.split() if w.startswith(".debug_")})
        if debug:
            failures.append(f"{name} carries debug information: {' '.join(debug)}")
        print(f"wheel-check: {name}: {os.path.getsize(path):,} bytes")
print(f"wheel-check: {os.path.basename(wheel)}: {os.path.getsize(wheel):,} bytes, "
      f"{len(names)} files")
for f in failures:
    print(f"FAIL: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
PY
