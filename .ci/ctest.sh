#!/usr/bin/env bash
# The C kernels and their C-level tests, without Python, per target: tests/c/test_kernels.c
# (each kernel against a scalar reference) and tests/c/test_narrow.c (narrow rows byte for
# byte against the row loop, with the kernels compiled a second time with -DCS_FORCE_ROW_PATH):
#
#   bash .ci/ctest.sh clang arm64      # what CI runs
#   bash .ci/ctest.sh gcc gcc-11 clang arm64
#
# gcc, gcc-11, clang: build natively and run on this CPU. arm64: cross-compile with Debian's
# aarch64-linux-gnu-gcc and run under qemu-user, so ARM64 is checked without ARM64 hardware.
# Each target is built with and without OpenMP, with the compile flags of setup.py and every
# warning an error. Then objdump reads back which registers the kernel object of each dtype
# and SIMD path holds (src_c/kernels/), and the script fails unless avx512 uses zmm, avx2 ymm
# and portable nothing wider than xmm (x86-64), or portable uses NEON (ARM64). Missing compilers are installed from Debian's packages when
# run as root with apt-get at hand. About 20 s per target once they are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then targets=(gcc clang arm64); fi

need=()
for t in "${targets[@]}"; do
    case $t in
        gcc) command -v gcc >/dev/null || need+=(gcc) ;;
        gcc-11) command -v gcc-11 >/dev/null || need+=(gcc-11) ;;
        clang) printf '#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n' |
                   clang -fopenmp -x c - -o /dev/null 2>/dev/null || need+=(clang libomp-dev) ;;
        arm64) { command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; } \
                   || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user) ;;
        *) echo "unknown target $t (gcc, gcc-11, clang, arm64)" >&2; exit 2 ;;
    esac
done
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "ctest.sh needs the Debian packages: ${need[*]}" >&2
        exit 1
    fi
    echo "+ apt-get install ${need[*]}"
    start=$SECONDS
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    echo "  installed in $((SECONDS - start)) s"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-O3 -std=c99 -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror -Wno-psabi
       -Werror=unknown-pragmas -Isrc_c)
sources=(src_c/*.c src_c/kernels/*.c)
failed=0
for t in "${targets[@]}"; do
    runner=()
    objdump=objdump
    expect="avx512=zmm avx2=ymm portable=xmm"
    case $t in
        gcc | gcc-11 | clang) cc=$t ;;
        arm64)
            cc=aarch64-linux-gnu-gcc
            runner=(qemu-aarch64 -L "${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}")
            objdump=aarch64-linux-gnu-objdump
            expect="portable=neon" ;;
    esac
    echo "===== $t: $("$cc" --version | head -1)"
    for omp in openmp serial; do
        extra=()
        if [ "$omp" = openmp ]; then extra=(-fopenmp); fi
        out="$work/$t-$omp"
        mkdir -p "$out"
        start=$SECONDS
        mkdir -p "$out/rowpath"
        for src in "${sources[@]}"; do
            obj=$(basename "${src%.c}").o
            "$cc" "${flags[@]}" "${extra[@]}" -c "$src" -o "$out/$obj"
        done
        # the kernels again with every row through the row loop, for tests/c/test_narrow.c
        for src in src_c/kernels/*.c; do
            obj=$(basename "${src%.c}").o
            "$cc" "${flags[@]}" "${extra[@]}" -DCS_FORCE_ROW_PATH -c "$src" -o "$out/rowpath/$obj"
        done
        "$cc" "${flags[@]}" "${extra[@]}" tests/c/test_kernels.c "$out"/*.o -lm -o "$out/test_kernels"
        "$cc" "${flags[@]}" "${extra[@]}" tests/c/test_narrow.c "$out"/*.o "$out"/rowpath/*.o -lm \
            -o "$out/test_narrow"
        echo "--- $t, $omp: compiled in $((SECONDS - start)) s${runner:+; running under ${runner[0]}}"
        OMP_NUM_THREADS=2 "${runner[@]}" "$out/test_kernels" || failed=1
        "${runner[@]}" "$out/test_narrow" || failed=1
    done
    # Each kernel object holds one dtype on one path (src_c/kernels/<dtype>_<path>.c), its
    # exported kernels suffixed with the path.
    for pair in $expect; do
        path=${pair%%=*} regs=${pair#*=}
        for dtype in f32 f64; do
            k=${dtype}_$path
            report=$("$PYTHON" tests/helpers/isa.py "$work/$t-openmp/$k.o" "$objdump")
            echo "$k.o: $(echo "$report" | paste -sd'|' | sed 's/|/ | /g')"
            if ! grep -q "^$path: .*widest $regs$" <<<"$report"; then
                echo "FAIL: $k.o should use $regs registers" >&2
                failed=1
            fi
        done
    done
done
exit $failed
