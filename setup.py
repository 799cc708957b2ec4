"""Build csoftmax's C/Cython extensions.

OpenMP is on by default. It is left out when CSOFTMAX_NO_OPENMP=1 is set or when the compiler
cannot build a tiny OpenMP program; the kernels then run serially. The build never uses
-ffast-math (it would switch the process to flush-to-zero and drop NaN/inf handling) and
never -march=native (the wheel must run on any x86-64 CPU): AVX2/AVX-512 code is compiled
per function and chosen at run time. CSOFTMAX_NATIVE=1 opts in to -march=native.
"""

import glob
import os
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

C_FLAGS = ["-O3", "-std=c99", "-ffp-contract=off", "-fno-math-errno", "-Wno-psabi", "-Wno-unknown-pragmas"]


def _env_true(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class BuildExt(build_ext):
    """Add the OpenMP flags when the compiler supports them."""

    def _has_openmp(self):
        if _env_true("CSOFTMAX_NO_OPENMP"):
            return False
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "omp_probe.c")
            with open(src, "w") as f:
                f.write("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
            try:
                objs = self.compiler.compile([src], output_dir=tmp, extra_postargs=["-fopenmp"])
                self.compiler.link_executable(
                    objs, os.path.join(tmp, "omp_probe"), extra_postargs=["-fopenmp"]
                )
            except Exception:
                return False
        return True

    def build_extensions(self):
        openmp = self._has_openmp()
        extra = ["-march=native"] if _env_true("CSOFTMAX_NATIVE") else []
        if not openmp:
            print("csoftmax: building without OpenMP (kernels run serially)", file=sys.stderr)
        for ext in self.extensions:
            ext.extra_compile_args = C_FLAGS + extra + (["-fopenmp"] if openmp else [])
            ext.extra_link_args = ["-fopenmp"] if openmp else []
        super().build_extensions()


# The C kernels, one family per file, all linked into the one extension (one SIMD state).
C_SOURCES = [
    "cs_parallel.c", "cs_dispatch.c", "cs_softmax.c", "cs_xent.c", "cs_optim.c", "cs_mlp.c",
]

extensions = [
    Extension(
        "csoftmax._core",
        sources=["csoftmax/_core.pyx"] + [f"src_c/{s}" for s in C_SOURCES],
        # the templates and shared headers: a change to any of them rebuilds the extension
        depends=sorted(glob.glob("src_c/*.h")),
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
