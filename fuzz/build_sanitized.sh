#!/usr/bin/env bash
# Build csoftmax for the fuzzers: Clang with AddressSanitizer, UndefinedBehaviorSanitizer and
# libFuzzer's coverage instrumentation (-fsanitize=fuzzer-no-link), OpenMP kept, in a build
# folder of its own, so the checkout's normal in-place build is never touched.
#
#   bash fuzz/build_sanitized.sh          # prints the folder to put first on PYTHONPATH
#
# The folder is $FUZZ_SANITIZED_BUILD (default build/sanitized-fuzz). The tracked files of the
# working tree, uncommitted edits included, are copied there and built in place; a second call
# rebuilds only when a file changed. The extension is not linked against a sanitizer runtime:
# the run preloads atheris's asan_with_fuzzer.so (ASan and UBSan runtimes plus libFuzzer), so
# that one libFuzzer sees the coverage counters of both the Python code and the C kernels.
# fuzz/run.sh does that when FUZZ_SANITIZED=1. Needs clang, libomp-dev and libclang-rt-14-dev
# (or the compiler-rt package of the installed clang).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${FUZZ_SANITIZED_BUILD:-$root/build/sanitized-fuzz}
mkdir -p "$build"
build=$(cd "$build" && pwd)
case "$build/" in
    "$root/") echo "build_sanitized.sh: the build folder must not be the checkout" >&2; exit 2 ;;
esac
# Copy the tracked files (with their current contents) that differ from the last copy.
git ls-files -z -- setup.py pyproject.toml MANIFEST.in README.md csoftmax src_c |
    while IFS= read -r -d '' file; do
        if ! cmp -s "$file" "$build/$file"; then
            mkdir -p "$build/$(dirname "$file")"
            cp -p "$file" "$build/$file"
        fi
    done
cd "$build"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
flags="$flags -fno-omit-frame-pointer -g"
# setup.py probes OpenMP with these flags and fails (CSOFTMAX_OPENMP=1) rather than building
# a serial extension; its build stamp skips the compile when nothing changed.
CC=clang CFLAGS="$flags" LDFLAGS="" CSOFTMAX_OPENMP=1 \
    python setup.py -q build_ext --inplace >"$build/build.log" 2>&1 || {
    tail -30 "$build/build.log" >&2
    exit 1
}
symbols=$(nm -D csoftmax/_core*.so)
if ! grep -q __sanitizer_cov_8bit_counters_init <<<"$symbols"; then
    echo "build_sanitized.sh: the extension carries no libFuzzer coverage counters" >&2
    exit 1
fi
echo "$build"
