#!/usr/bin/env bash
# The Python test suite on ARM64, without ARM64 hardware: an aarch64 CPython 3.11 unpacked
# from Debian's arm64 packages and run under qemu-user, aarch64 wheels of the test
# dependencies from PyPI, and csoftmax's extension cross-compiled with aarch64-linux-gnu-gcc
# from the C sources that setup.py lists. Then a digest of the kernels' outputs, computed
# under qemu and by this machine's x86-64 build on its portable path, must be equal: the
# portable kernels give bitwise the same results on both architectures.
#
#   bash .ci/arm64-suite.sh              # the kernel test files (what .ci/run runs)
#   bash .ci/arm64-suite.sh --all        # the whole suite
#   bash .ci/arm64-suite.sh -- -k vjp    # anything after -- goes to pytest
#
# The x86-64 side of the digest is `${PYTHON:-python3}` importing csoftmax from this
# checkout (built in place, or the editable install of the Quick start); --no-compare skips
# it. The aarch64 Python and wheels are kept in $CSOFTMAX_ARM64_CACHE (default
# ~/.cache/csoftmax-arm64) and reused while their list below is unchanged. Missing tools
# (gcc-aarch64-linux-gnu, qemu-user) and the arm64 package lists are installed when run as
# root with apt-get at hand. Everything runs under `nice`, so the machine stays usable.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PYTHON=${PYTHON:-python3}

kernel_files=(tests/test_functional.py tests/test_functional_grad.py tests/test_losses.py
              tests/test_mlp_engine.py tests/test_build.py)
files=("${kernel_files[@]}")
compare=1
pytest_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --all) files=(tests) ;;
        --kernels) files=("${kernel_files[@]}") ;;
        --no-compare) compare=0 ;;
        --) shift; pytest_args=("$@"); break ;;
        *) echo "usage: $0 [--all | --kernels] [--no-compare] [-- pytest arguments]" >&2; exit 2 ;;
    esac
    shift
done

# Debian's arm64 packages of CPython 3.11 and the libraries it and the wheels load.
debs=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11
      libpython3.11-dev libc6 libgcc-s1 libgomp1 libstdc++6 libcrypt1 zlib1g libbz2-1.0
      liblzma5 libexpat1 libffi8 libssl3 libsqlite3-0 libncursesw6 libtinfo6 libreadline8
      libuuid1 libdb5.3 libnsl2 libtirpc3 libgssapi-krb5-2 libk5crypto3 libkeyutils1
      libkrb5-3 libkrb5support0 libcom-err2)
# The aarch64 wheels: csoftmax's dependencies and what its tests import.
wheels=(numpy scipy scikit-learn threadpoolctl pytest hypothesis pandas)
if [ "${files[0]}" = tests ]; then wheels+=(matplotlib cython setuptools); fi

start_all=$SECONDS
log() { echo "arm64-suite: $* ($((SECONDS - start_all)) s)"; }
as_root_apt() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "arm64-suite.sh needs, as root with apt-get: $*" >&2
        exit 1
    fi
}

# -- tools ----------------------------------------------------------------------------------
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root_apt "dpkg --add-architecture arm64"
    dpkg --add-architecture arm64
fi
if [ "${#need[@]}" -gt 0 ] || ! apt-cache show python3.11:arm64 >/dev/null 2>&1; then
    as_root_apt "apt-get update, apt-get install ${need[*]:-}"
    log "apt-get update; installing: ${need[*]:-nothing}"
    nice -n 19 apt-get update -qq
    if [ "${#need[@]}" -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive nice -n 19 \
            apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
fi

# -- the aarch64 Python and wheels, cached by their lists -------------------------------------
cache=${CSOFTMAX_ARM64_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/csoftmax-arm64}
key=$(printf '%s\n' layout-2 "${debs[@]}" -- "${wheels[@]}" | sha256sum | cut -c1-16)
env_dir="$cache/$key"
sysroot="$env_dir/sysroot"
# Debian's site folder, which this Python searches (from its prefix, the sysroot's /usr), so
# the wheels are installed for it as for a native one: no PYTHONPATH for them, which the
# tests' subprocesses would not all pass on.
site="$sysroot/usr/lib/python3/dist-packages"
if [ ! -e "$env_dir/.complete" ]; then
    # one environment per list of packages (the kernel files' and the whole suite's); one
    # left half made by an interrupted run is made again
    rm -rf "$env_dir"
    mkdir -p "$env_dir/debs" "$sysroot"
    log "downloading ${#debs[@]} Debian arm64 packages"
    (cd "$env_dir/debs" && nice -n 19 apt-get download -qq "${debs[@]/%/:arm64}" 2>&1 |
        grep -v 'unsandboxed' || true)
    if [ "$(ls "$env_dir/debs" | wc -l)" -ne "${#debs[@]}" ]; then
        echo "apt-get download fetched $(ls "$env_dir/debs" | wc -l) of ${#debs[@]} packages" >&2
        exit 1
    fi
    for deb in "$env_dir"/debs/*.deb; do dpkg -x "$deb" "$sysroot"; done
    rm -rf "$env_dir/debs"
    log "installing aarch64 wheels: ${wheels[*]}"
    # Bookworm's glibc is 2.36: every manylinux tag up to 2.28 fits (newer releases of the
    # scientific stack ship manylinux_2_28 wheels only).
    platforms=()
    for tag in manylinux_2_28 manylinux_2_27 manylinux_2_26 manylinux_2_24 manylinux_2_17 manylinux2014; do
        platforms+=(--platform "${tag}_aarch64")
    done
    nice -n 19 "$PYTHON" -m pip install --disable-pip-version-check --no-warn-conflicts \
        --target "$site" "${platforms[@]}" --only-binary=:all: --python-version 3.11 \
        --implementation cp "${wheels[@]}" >"$env_dir/pip.log" 2>&1 || {
        tail -20 "$env_dir/pip.log" >&2
        exit 1
    }
    touch "$env_dir/.complete"
fi

# `python3` for the tests' subprocesses too: this machine has no binfmt handler for aarch64
# binaries, so sys.executable is a script that starts qemu. It sits beside the real binary,
# where CPython looks for its standard library.
py="$sysroot/usr/bin/python3"
cat > "$py" <<EOF
#!/bin/sh
exec nice -n 19 qemu-aarch64 -L "$sysroot" -0 "$py" "$sysroot/usr/bin/python3.11" "\$@"
EOF
chmod +x "$py"
"$py" -c 'import platform, sys; assert platform.machine() == "aarch64", platform.machine()'

# -- the extension, cross-compiled in a copy of this checkout ----------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree="$work/tree"
mkdir -p "$tree"
# tracked and new files alike (not the ignored: build products, the x86-64 extension)
git ls-files -z --cached --others --exclude-standard | tar -c --null -T - | tar -x -C "$tree"
ext_suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
np_inc=$(echo "$site"/numpy/_core/include)
log "cross-compiling the extension ($ext_suffix)"
# The aarch64 headers of Python and NumPy come first; -idirafter serves the
# <aarch64-linux-gnu/python3.11/pyconfig.h> that Debian's pyconfig.h includes. setup.py
# decides the rest (its sources, flags, OpenMP probe) as for a native build.
(cd "$tree" && env CC=aarch64-linux-gnu-gcc LDSHARED="aarch64-linux-gnu-gcc -shared" \
    CFLAGS="-I$sysroot/usr/include/python3.11 -idirafter $sysroot/usr/include -I$np_inc" \
    LDFLAGS="" SETUPTOOLS_EXT_SUFFIX="$ext_suffix" CSOFTMAX_OPENMP=1 \
    nice -n 19 "$PYTHON" setup.py --quiet build_ext --inplace >"$work/build.log" 2>&1) || {
    tail -40 "$work/build.log" >&2
    exit 1
}
so=$(echo "$tree"/csoftmax/_core"$ext_suffix")
machine=$(readelf -h "$so" | sed -n 's/^ *Machine: *//p')
if [ "$machine" != AArch64 ]; then
    echo "not an aarch64 extension: $so is for $machine" >&2
    exit 1
fi
export PYTHONPATH="$tree"
export PYTHONDONTWRITEBYTECODE=1
(cd "$tree" && "$py" -c 'import csoftmax, numpy, sys; from csoftmax import _core
assert csoftmax.__file__.startswith(sys.argv[1]), csoftmax.__file__
print("arm64-suite: Python", sys.version.split()[0], "NumPy", numpy.__version__,
      csoftmax.simd_backend(), _core.compiler(), "OpenMP" if _core.openmp_enabled() else "serial")
' "$tree")

# -- bitwise comparison with the x86-64 portable path -------------------------------------------
if [ "$compare" -eq 1 ]; then
    log "kernel digest, aarch64 (qemu) and x86-64 (portable path)"
    arm=$(cd "$tree" && "$py" .ci/kernel_digest.py)
    x86=$(cd "$root" && PYTHONPATH="$root" CSOFTMAX_SIMD=portable nice -n 19 "$PYTHON" .ci/kernel_digest.py)
    if [ "$arm" != "$x86" ]; then
        echo "FAIL: the kernels' outputs differ between aarch64 and x86-64 (portable):" >&2
        diff <(echo "$x86") <(echo "$arm") >&2 || true
        exit 1
    fi
    echo "arm64-suite: bitwise equal on aarch64 and x86-64: $(echo "$arm" | wc -l) outputs, $(echo "$arm" | tail -1)"
fi

# -- the tests ------------------------------------------------------------------------------------
log "pytest ${files[*]}"
cd "$tree"
# the tests that read the extension back run `objdump` from PATH: the aarch64 one here
mkdir -p "$work/bin"
ln -s "$(command -v aarch64-linux-gnu-objdump)" "$work/bin/objdump"
set +e
PATH="$work/bin:$PATH" "$py" -m pytest -q -p no:cacheprovider "${files[@]}" "${pytest_args[@]}"
status=$?
set -e
log "done, pytest exit status $status"
exit $status
