#!/usr/bin/env bash
# The compiler x OpenMP matrix on this machine: for each configuration, build the extension
# in a scratch copy of the source tree, run the whole test suite once per SIMD path this CPU
# runs (CSOFTMAX_SIMD=<path>), build and run the C-level tests, and read back with objdump
# which registers each compiled path uses. Prints a Markdown table at the end.
#
#   bash .ci/matrix.sh                      # all four configurations
#   bash .ci/matrix.sh gcc clang-serial     # some of them
#
# Configurations: gcc (GCC, OpenMP), gcc-serial (GCC, CSOFTMAX_NO_OPENMP=1), clang (Clang
# with libomp), clang-serial (Clang, CSOFTMAX_NO_OPENMP=1). Needs clang and libomp-dev for
# the Clang ones, and PYTHON (default python3) with the test requirements installed. Each
# configuration takes about 1 min to build and 45 s per suite run on 2 cores: not for CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
configs=("$@")
if [ "${#configs[@]}" -eq 0 ]; then configs=(gcc gcc-serial clang clang-serial); fi

# The real data sets, as .ci/run finds them, for the tests that read them.
shared="$root/../shared/data"
if [ -d "$shared/mnist" ]; then export CSOFTMAX_MNIST_DIR="$shared/mnist"; fi
if [ -d "$shared/fashion-mnist" ]; then export CSOFTMAX_FASHION_MNIST_DIR="$shared/fashion-mnist"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
for config in "${configs[@]}"; do
    case $config in
        gcc) cc=gcc; omp=() ;;
        gcc-serial) cc=gcc; omp=(CSOFTMAX_NO_OPENMP=1) ;;
        clang) cc=clang; omp=(CSOFTMAX_OPENMP=1) ;;
        clang-serial) cc=clang; omp=(CSOFTMAX_NO_OPENMP=1) ;;
        *) echo "unknown configuration $config" >&2; exit 2 ;;
    esac
    if [ "$config" = gcc ]; then omp=(CSOFTMAX_OPENMP=1); fi
    src="$work/$config"
    mkdir -p "$src"
    (cd "$root" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -t "$src" 2>/dev/null || true)
    echo "===== $config: CC=$cc ${omp[*]}"
    if ! (cd "$src" && env CC="$cc" "${omp[@]}" "$PYTHON" setup.py build_ext --inplace \
            >"$work/$config.build.log" 2>&1); then
        tail -20 "$work/$config.build.log"
        rows+=("| $config | no | - | - | - | - |")
        continue
    fi
    grep '^csoftmax: \(compiler\|OpenMP\|SIMD\|built\)' "$work/$config.build.log" || true
    mapfile -t info < <(cd "$src" && "$PYTHON" -c 'import csoftmax; from csoftmax import _core
print(csoftmax.simd_backend())
print(_core.compiler().split(" (")[0] + (", OpenMP" if _core.openmp_enabled() else ", serial"))')
    backend=${info[0]}
    so=$(ls "$src"/csoftmax/_core*.so)
    isa=$("$PYTHON" "$root/tests/helpers/isa.py" "$so" | sed 's/ instructions//; s/; widest/ ->/' | paste -sd';' | sed 's/;/<br>/g')
    suites=()
    for path in $(cd "$src" && "$PYTHON" -c 'import csoftmax
from csoftmax import _core
names = _core.simd_names()
print(" ".join(n for i, n in enumerate(names) if i <= _core.simd_supported()))'); do
        echo "--- $config: pytest with CSOFTMAX_SIMD=$path"
        (cd "$src" && CSOFTMAX_SIMD=$path PYTHONPATH="$src" "$PYTHON" -m pytest -q -rf \
               -p no:cacheprovider tests >"$work/$config-$path.log" 2>&1) || true
        grep '^FAILED' "$work/$config-$path.log" || true
        line=$(tail -1 "$work/$config-$path.log")
        echo "$line"
        suites+=("$path: ${line//=/}")
    done
    echo "--- $config: C-level tests"
    cflags=(-O3 -std=c99 -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror -Wno-psabi
            -Werror=unknown-pragmas -I"$src/src_c")
    if [ "$config" = gcc ] || [ "$config" = clang ]; then cflags+=(-fopenmp); fi
    ctest=$("$cc" "${cflags[@]}" "$src/tests/c/test_kernels.c" \
            "$src"/src_c/*.c "$src"/src_c/kernels/*.c -lm -o "$work/$config.ctest" \
            && OMP_NUM_THREADS=2 "$work/$config.ctest" | tail -1) || ctest="failed"
    echo "$ctest"
    suite=$(printf '%s<br>' "${suites[@]}")
    rows+=("| $config (${info[1]}) | yes | ${suite%<br>} | $ctest | \`$backend\` | $isa |")
done

echo
echo "| configuration | builds | Python suite per forced path | C-level tests | simd_backend() | instructions per path (objdump) |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
