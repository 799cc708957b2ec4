#!/usr/bin/env bash
# Build csoftmax with AddressSanitizer and UndefinedBehaviorSanitizer (OpenMP kept) in a
# scratch clone, and run the whole test suite under them. Any report fails the run: UBSan is
# made fatal (-fno-sanitize-recover) and ASan aborts on its first error.
#
#   bash .ci/sanitize.sh            # uses the current python (with the test extra installed)
#
# Python itself is not instrumented, so the ASan runtime is preloaded and leak detection is
# off (the interpreter keeps memory until exit by design; tests/test_soak.py watches growth);
# an impossible allocation returns NULL, as libc's does, so it becomes a MemoryError.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/src"
cd "$work/src"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
export CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" CSOFTMAX_OPENMP=1
python setup.py -q build_ext --inplace
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
python -c "from csoftmax import _core; assert _core.openmp_enabled(), 'OpenMP was dropped'"
# The fuzzers' short runs are left out: with libasan preloaded atheris takes its coverage
# hooks from libasan instead of libFuzzer, so the runs report no coverage. CI runs them in
# .ci/run; FUZZ_SANITIZED=1 fuzz/run.sh is the sanitized fuzzing, with coverage of the C code.
python -m pytest -q -p no:cacheprovider -x tests \
    --deselect tests/test_fuzz.py::test_short_fixed_seed_run_finds_nothing "$@"
