#!/usr/bin/env bash
# Fuzz one target for SECONDS (default 60) with libFuzzer's random SEED (default 0: a new
# seed each run). Needs atheris (pip install -e ".[fuzz]").
#
#   bash fuzz/run.sh kernels 1800            # the public kernel API, half an hour
#   bash fuzz/run.sh state 20 1              # the estimator's fitted state, as CI runs it
#   bash fuzz/run.sh idx 60                  # the IDX reader
#   FUZZ_SANITIZED=1 bash fuzz/run.sh kernels 1800
#
# Targets: idx (fuzz/fuzz_idx.py), kernels (fuzz/fuzz_kernels.py), state (fuzz/fuzz_state.py).
# The corpus grows in fuzz/corpus/TARGET (or $FUZZ_CORPUS), starting from the harness's
# seeds; a finding is saved under fuzz/artifacts/TARGET/ (or $FUZZ_ARTIFACTS) and the run
# exits non-zero. Replay one with: python fuzz/fuzz_TARGET.py fuzz/artifacts/TARGET/crash-...
#
# FUZZ_SANITIZED=1 fuzzes the build of fuzz/build_sanitized.sh (Clang, AddressSanitizer,
# UndefinedBehaviorSanitizer, libFuzzer coverage counters in the C code) with atheris's
# asan_with_fuzzer.so preloaded: libFuzzer is guided by the coverage of the C kernels as
# well as of the Python code, and a memory error or undefined behaviour stops the run with
# the sanitizer's report. Without it, the in-place build of this checkout is fuzzed and
# only the Python code is instrumented. Extra arguments go to libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh idx|kernels|state [SECONDS] [SEED] [libFuzzer options]}
seconds=${2:-60}
seed=${3:-0}
shift $(($# < 3 ? $# : 3))
case $target in
    idx) max_len=8192 ;;
    kernels | state) max_len=512 ;;
    *) echo "unknown target $target (idx, kernels, state)" >&2; exit 2 ;;
esac
harness=fuzz/fuzz_$target.py
corpus=${FUZZ_CORPUS:-fuzz/corpus/$target}
artifacts=${FUZZ_ARTIFACTS:-fuzz/artifacts/$target}
mkdir -p "$corpus" "$artifacts"
python "$harness" --write-seeds "$corpus"
if [ "${FUZZ_SANITIZED:-0}" = 1 ]; then
    build=$(bash fuzz/build_sanitized.sh)
    runtime="$(python -c 'import atheris; print(atheris.path())')/asan_with_fuzzer.so"
    export FUZZ_CSOFTMAX_ROOT="$build"
    export LD_PRELOAD="$runtime"
    # Python is not instrumented and keeps memory until exit: no leak report. An
    # impossible allocation returns NULL (a MemoryError) instead of aborting.
    export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
    echo "fuzzing the sanitized build in $build (LD_PRELOAD=$runtime)"
fi
exec python "$harness" "$corpus" -max_total_time="$seconds" -seed="$seed" \
    -max_len="$max_len" -rss_limit_mb=3072 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@"
