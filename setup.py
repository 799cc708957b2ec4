"""Build csoftmax's C/Cython extension.

Compilers: GCC >= 10 and Clang >= 14 (Linux, macOS's Apple Clang); on Windows, clang-cl
within the MSVC toolchain, since MSVC's own cl.exe lacks the vector extensions the kernels are
written in. The flags are picked per compiler (see _flags_for); the build says which compiler,
OpenMP setting and SIMD paths it uses before it starts (`pip install -v` shows it).

OpenMP is on by default. The probe that decides builds a small OpenMP program with exactly
the compile and link commands of the real build (so CFLAGS and LDFLAGS, sanitizers
included, apply to it too). Environment switches:
  CSOFTMAX_NO_OPENMP=1 (or CSOFTMAX_OPENMP=0)  serial build, no probe;
  CSOFTMAX_OPENMP=1                            OpenMP required: the build fails without it;
  unset                                        OpenMP if the probe succeeds, else a serial
                                               build with a warning that says why.
The build never uses -ffast-math (it would switch the process to flush-to-zero and drop
NaN/inf handling) and never -march=native (the wheel must run on any CPU of its
architecture): on x86-64 the AVX2/AVX-512 code is compiled in files of its own and chosen at run
time. CSOFTMAX_NATIVE=1 opts in to -march=native.

Release builds carry no debug information: -g0 comes after Python's own CFLAGS, which often
hold -g. CSOFTMAX_DEBUG=1, `build_ext --debug`, or a -g option in the CFLAGS environment
variable (as the sanitizer builds set) keeps it, for a debugger or a profiler that reads
source lines.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import ExecError

# GCC and Clang (and clang-cl, through /clang:). -ffp-contract=off: no fused multiply-add
# unless written, so every SIMD path and compiler rounds alike (Clang's default is "on").
# -Werror=unknown-pragmas: a compiler that would silently drop a pragma must fail instead.
C_FLAGS = ["-O3", "-std=c99", "-ffp-contract=off", "-fno-math-errno", "-Wno-psabi",
           "-Werror=unknown-pragmas"]
CLANG_CL_FLAGS = ["/clang:-O3", "/clang:-ffp-contract=off",
                  "/clang:-fno-math-errno", "/clang:-Wno-psabi", "/clang:-Werror=unknown-pragmas"]

OPENMP_PROBE = r"""
#include <omp.h>
int csoftmax_openmp_probe(int n)
{
    int threads = 0;
#pragma omp parallel num_threads(n) reduction(+ : threads)
    threads += omp_get_thread_num() >= 0;
    return threads + omp_get_max_threads() + omp_get_thread_limit();
}
"""


def _env_true(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_false(name):
    return os.environ.get(name, "").strip().lower() in {"0", "false", "no", "off"}


def _say(message):
    print(f"csoftmax: {message}", file=sys.stderr, flush=True)


def _shout(lines):
    bar = "!" * 78
    print("\n".join([bar] + [f"!! csoftmax: {line}" for line in lines] + [bar]),
          file=sys.stderr, flush=True)


class BuildExt(build_ext):
    """Pick flags per compiler, probe OpenMP with the real flags, and report progress."""

    # -- what compiler is this? ---------------------------------------------------------------

    def _use_clang_cl(self):
        """Windows: compile with clang-cl within the MSVC toolchain (cl.exe cannot)."""
        if not getattr(self.compiler, "initialized", True):
            self.compiler.initialize()
        clang_cl = shutil.which("clang-cl")
        if clang_cl is None:
            for root in (os.environ.get("LLVM_HOME"), r"C:\Program Files\LLVM"):
                if root and os.path.isfile(os.path.join(root, "bin", "clang-cl.exe")):
                    clang_cl = os.path.join(root, "bin", "clang-cl.exe")
                    break
        if clang_cl is None:
            raise RuntimeError(
                "csoftmax: MSVC's cl.exe cannot compile the kernels (they use GCC/Clang vector "
                "extensions). Install LLVM (clang-cl), e.g. Visual Studio's 'C++ Clang tools' "
                "component or LLVM's installer, or set LLVM_HOME to its folder."
            )
        self.compiler.cc = clang_cl
        # clang-cl does not make MSVC link-time-code-generation objects: no /GL, no /LTCG.
        for attr in ("compile_options", "compile_options_debug"):
            opts = getattr(self.compiler, attr, None)
            if isinstance(opts, list):
                setattr(self.compiler, attr, [o for o in opts if o != "/GL"])
        for key, opts in dict(getattr(self.compiler, "_ldflags", {}) or {}).items():
            self.compiler._ldflags[key] = [o for o in opts if o.upper() != "/LTCG"]
        return {"name": "clang-cl", "version": _first_line([clang_cl, "--version"]),
                "arch": "x86-64" if sys.maxsize > 2**32 else "x86", "apple": False,
                "llvm": os.path.dirname(os.path.dirname(clang_cl))}

    def _unix_compiler(self):
        """Name, version and target architecture, from the compiler's predefined macros."""
        cmd = list(self.compiler.compiler_so) + ["-dM", "-E", "-x", "c", os.devnull]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return {"name": "cc", "version": "?", "arch": "unknown", "apple": False}
        macros = dict(
            (parts[1], parts[2] if len(parts) > 2 else "")
            for parts in (line.split(" ", 2) for line in out.splitlines())
            if len(parts) >= 2
        )
        if "__clang__" in macros:
            name = "apple-clang" if "__apple_build_version__" in macros else "clang"
            version = ".".join(macros.get(f"__clang_{k}__", "?")
                               for k in ("major", "minor", "patchlevel"))
        elif "__GNUC__" in macros:
            name = "gcc"
            version = ".".join(macros.get(k, "?")
                               for k in ("__GNUC__", "__GNUC_MINOR__", "__GNUC_PATCHLEVEL__"))
        else:
            name, version = "cc", "?"
        arch = ("x86-64" if "__x86_64__" in macros else
                "arm64" if "__aarch64__" in macros else "other")
        return {"name": name, "version": version, "arch": arch,
                "apple": "__APPLE__" in macros}

    # -- flags ----------------------------------------------------------------------------------

    def _flags_for(self, cc):
        """(compile flags, OpenMP compile flags, OpenMP link flags) for this compiler."""
        if cc["name"] == "clang-cl":
            # clang-cl's /openmp needs LLVM's libomp (libomp.lib to link, libomp.dll at run
            # time); the Windows wheels are built without it (pyproject.toml).
            libdir = os.path.join(cc["llvm"], "lib")
            return CLANG_CL_FLAGS, ["/openmp"], [f"/LIBPATH:{libdir}", "libomp.lib"]
        flags = list(C_FLAGS)
        flags.append("-g" if self._debug_info() else "-g0")
        if _env_true("CSOFTMAX_NATIVE"):
            flags.append("-march=native")
        if cc["name"] == "apple-clang":
            # Apple Clang has no -fopenmp driver flag; the runtime is Homebrew's libomp.
            prefix = os.environ.get("LIBOMP_PREFIX") or _first_line(["brew", "--prefix", "libomp"])
            inc = [f"-I{prefix}/include"] if prefix else []
            lib = [f"-L{prefix}/lib", f"-Wl,-rpath,{prefix}/lib"] if prefix else []
            return flags, ["-Xpreprocessor", "-fopenmp"] + inc, lib + ["-lomp"]
        return flags, ["-fopenmp"], ["-fopenmp"]

    def _debug_info(self):
        """Whether to keep debug information (see the module docstring)."""
        asked = [f for f in os.environ.get("CFLAGS", "").split() if f.startswith("-g")]
        return bool(self.debug or _env_true("CSOFTMAX_DEBUG") or (asked and asked[-1] != "-g0"))

    # -- OpenMP -------------------------------------------------------------------------------

    def _probe_openmp(self, compile_args, link_args):
        """None if a small OpenMP library builds with these flags, else the compiler's words."""
        words = []
        # Run the same commands, keeping their output for the message. Newer setuptools runs
        # commands through Compiler.call (raising CalledProcessError), older through spawn.
        runner = "call" if hasattr(self.compiler, "call") else "spawn"
        run = getattr(self.compiler, runner)
        if self.compiler.compiler_type == "unix":
            def run(cmd, env=None, **kwargs):
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if proc.returncode != 0:
                    words.append((proc.stderr + proc.stdout).strip())
                    if runner == "call":
                        raise subprocess.CalledProcessError(proc.returncode, cmd)
                    raise ExecError(f"{cmd[0]} failed with exit status {proc.returncode}")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "csoftmax_openmp_probe.c")
            with open(src, "w") as f:
                f.write(OPENMP_PROBE)
            out = os.path.join(tmp, "probe" + (self.compiler.shared_lib_extension or ".so"))
            saved = getattr(self.compiler, runner)
            setattr(self.compiler, runner, run)
            try:
                objs = self.compiler.compile([src], output_dir=tmp, extra_postargs=compile_args)
                self.compiler.link_shared_object(objs, out, extra_postargs=link_args)
            except Exception as exc:  # CompileError, LinkError, or a missing program
                lines = "\n".join(words).splitlines()
                errors = [line for line in lines if "error" in line.lower()]
                return (errors or lines or [str(exc) or type(exc).__name__])[0].strip()
            finally:
                setattr(self.compiler, runner, saved)
        return None

    def _openmp(self, base_args, omp_compile, omp_link):
        """Whether to build with OpenMP; raises if it was required and cannot be had."""
        if _env_true("CSOFTMAX_NO_OPENMP") or _env_false("CSOFTMAX_OPENMP"):
            _say("OpenMP: off (CSOFTMAX_NO_OPENMP / CSOFTMAX_OPENMP=0): kernels run serially")
            return False
        error = self._probe_openmp(base_args + omp_compile, omp_link)
        if error is None:
            _say(f"OpenMP: on (compile: {' '.join(omp_compile)}; link: {' '.join(omp_link)})")
            return True
        lines = [
            "OpenMP was asked for but this compiler cannot build an OpenMP program",
            f"with the build's flags: {error}",
        ]
        if _env_true("CSOFTMAX_OPENMP"):
            _shout(lines + ["CSOFTMAX_OPENMP=1 requires it: stopping."])
            raise RuntimeError("csoftmax: OpenMP required (CSOFTMAX_OPENMP=1) but unavailable")
        _shout(lines + [
            "BUILDING WITHOUT OPENMP: every kernel will run on one thread.",
            "Install the OpenMP runtime (libgomp for GCC, libomp for Clang: Debian's",
            "libomp-dev, Homebrew's libomp) and rebuild; CSOFTMAX_OPENMP=1 makes this an",
            "error, CSOFTMAX_NO_OPENMP=1 builds serially without this warning.",
        ])
        return False

    # -- the build ------------------------------------------------------------------------------

    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            cc = self._use_clang_cl()
        else:
            cc = self._unix_compiler()
        base, omp_compile, omp_link = self._flags_for(cc)
        simd = ("portable, avx2, avx512 (chosen at run time)" if cc["arch"] == "x86-64"
                else "portable (NEON is part of the ARM64 baseline)" if cc["arch"] == "arm64"
                else "portable")
        _say(f"compiler: {cc['name']} {cc['version']}, target {cc['arch']}")
        _say(f"SIMD paths: {simd}")
        openmp = self._openmp(base, omp_compile, omp_link)
        for ext in self.extensions:
            ext.extra_compile_args = base + (omp_compile if openmp else [])
            ext.extra_link_args = omp_link if openmp else []
        n = sum(len(ext.sources) for ext in self.extensions)
        _say(f"compiling {n} C files; the kernels are compiled once per dtype and SIMD path, "
             "so this takes a minute or two")
        self._report_each_compile(n)
        start = time.monotonic()
        super().build_extensions()
        _say(f"built in {time.monotonic() - start:.0f} s")

    def build_extension(self, ext):
        """Build `ext`, or, for an editable install, reuse the in-place extension of an
        earlier build of the same sources with the same configuration.

        pip builds an editable install in a fresh temporary folder, so the second Quick start
        command (`pip install -e ".[test]"` after `pip install -e .`) would compile everything
        again. The reuse needs a stamp of the build's configuration (compile and link flags,
        OpenMP included; compiler; Python; NumPy; the CC/CFLAGS/LDFLAGS/CSOFTMAX_* settings)
        equal to this one's, and an extension newer than every source, header and setup.py.
        """
        inplace = self.get_ext_filename(ext.name)
        stamp = inplace + ".build.json"
        key = json.dumps(self._build_key(ext), sort_keys=True)
        if self.editable_mode and _up_to_date(inplace, stamp, key):
            target = self.get_ext_fullpath(ext.name)
            if os.path.abspath(target) != os.path.abspath(inplace):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(inplace, target)
            _say(f"reusing {inplace}: built from these sources with this configuration")
            return
        super().build_extension(ext)
        with open(stamp, "w") as f:
            f.write(key)

    def _build_key(self, ext):
        env = ("CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "CSOFTMAX_NO_OPENMP", "CSOFTMAX_OPENMP",
               "CSOFTMAX_NATIVE", "CSOFTMAX_DEBUG")
        return {
            "python": sys.version,
            "numpy": np.__version__,
            "compiler": getattr(self.compiler, "compiler_so", self.compiler.compiler_type),
            "compile_args": ext.extra_compile_args,
            "link_args": ext.extra_link_args,
            "env": {name: os.environ.get(name) for name in env},
        }

    def _report_each_compile(self, n):
        """Say when each file starts compiling (the Unix compiler class compiles one by one)."""
        compile_one = getattr(self.compiler, "_compile", None)
        if compile_one is None:
            return
        count = [0]
        start = time.monotonic()

        def _compile(obj, src, *args, **kwargs):
            count[0] += 1
            _say(f"[{count[0]}/{n}] {os.path.relpath(src)} ({time.monotonic() - start:.0f} s)")
            return compile_one(obj, src, *args, **kwargs)

        self.compiler._compile = _compile


def _up_to_date(built, stamp, key):
    """Whether `built` exists with a stamp equal to `key` and is newer than every source."""
    if not (os.path.exists(built) and os.path.exists(stamp)):
        return False
    with open(stamp) as f:
        if f.read() != key:
            return False
    here = os.path.dirname(os.path.abspath(__file__))
    sources = [os.path.join(here, "setup.py")]
    for pattern in ("src_c/*.[ch]", "src_c/kernels/*.[ch]", "csoftmax/*.pyx", "csoftmax/*.pxi",
                    "csoftmax/*.pxd"):
        sources += glob.glob(os.path.join(here, pattern))
    return os.path.getmtime(built) > max(os.path.getmtime(f) for f in sources)


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.strip().splitlines()[0] if out.strip() else ""


# The C sources, all linked into the one extension (one SIMD state): the entry points, one
# family per file, then the kernels, one file per dtype and SIMD path (those of AVX2 and
# AVX-512 compile to nothing off x86-64).
C_SOURCES = [
    "cs_parallel.c", "cs_dispatch.c", "cs_softmax.c", "cs_xent.c", "cs_optim.c", "cs_mlp.c",
    "cs_cast.c", "cs_interrupt.c",
] + [f"kernels/{dtype}_{isa}.c" for dtype in ("f32", "f64")
     for isa in ("portable", "avx2", "avx512")]

extensions = [
    Extension(
        "csoftmax._core",
        sources=["csoftmax/_core.pyx"] + [f"src_c/{s}" for s in C_SOURCES],
        # the headers and kernel bodies: a change to any of them rebuilds the extension
        depends=sorted(glob.glob("src_c/*.h") + glob.glob("src_c/kernels/*.h")),
        include_dirs=["src_c", np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
    cmdclass={"build_ext": BuildExt},
)
