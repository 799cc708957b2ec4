#!/usr/bin/env bash
# Fuzz the IDX reader (fuzz/fuzz_idx.py) for SECONDS (default 60) with libFuzzer's random
# SEED (default 0: a new seed each run). Needs atheris (pip install -e ".[fuzz]").
#
#   bash fuzz/run_idx.sh 1800        # half an hour
#   bash fuzz/run_idx.sh 20 1        # the short fixed-seed run of tests/test_fuzz_idx.py
#
# The corpus grows in fuzz/corpus/idx (or $FUZZ_CORPUS), starting from the harness's seeds;
# a finding is saved under fuzz/artifacts/ (or $FUZZ_ARTIFACTS) and the run exits non-zero.
# Replay one with: python fuzz/fuzz_idx.py fuzz/artifacts/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
seed=${2:-0}
corpus=${FUZZ_CORPUS:-fuzz/corpus/idx}
artifacts=${FUZZ_ARTIFACTS:-fuzz/artifacts}
mkdir -p "$corpus" "$artifacts"
python fuzz/fuzz_idx.py --write-seeds "$corpus"
exec python fuzz/fuzz_idx.py "$corpus" -max_total_time="$seconds" -seed="$seed" \
    -max_len=8192 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/"
