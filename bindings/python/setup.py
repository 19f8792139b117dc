"""Build the ciha package against an installed libciha found with pkg-config.

    python3 -m pip install --no-index --no-build-isolation bindings/python

The native module comes from ciha_wrap.c: regenerated from ../ciha.i when SWIG is
installed and the interface is there (a source tree), else the wrapper that
`make dist` ships is used. The version is the installed library's.
"""
import os
import shutil
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
INTERFACE = os.path.join(HERE, "..", "ciha.i")


def pkg_config(*args):
    try:
        out = subprocess.check_output(["pkg-config"] + list(args), universal_newlines=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit("ciha: libciha not found with pkg-config (set PKG_CONFIG_PATH to its prefix's "
                         "lib/pkgconfig): %s" % e)
    return out.split()


def flags(prefix, words):
    return [w[len(prefix):] for w in words if w.startswith(prefix)]


def wrapper(cflags):
    """The path of ciha_wrap.c, regenerated when SWIG and the interface are available."""
    shipped = os.path.join(HERE, "ciha_wrap.c")
    swig = shutil.which("swig")
    if swig and os.path.exists(INTERFACE):
        build = os.path.join(HERE, "build", "swig")
        os.makedirs(build, exist_ok=True)
        generated = os.path.join(build, "ciha_wrap.c")
        subprocess.check_call([swig, "-python", "-threads", "-I" + os.path.dirname(INTERFACE)]
                              + [w for w in cflags if w.startswith("-I")]
                              + ["-outdir", os.path.join(HERE, "ciha"), "-o", generated, INTERFACE])
        return os.path.relpath(generated, HERE)
    if not os.path.exists(shipped):
        raise SystemExit("ciha: no ciha_wrap.c and no SWIG to make it")
    return "ciha_wrap.c"


cflags = pkg_config("--cflags", "libciha", "jansson")
libs = pkg_config("--libs", "libciha", "jansson")
os.chdir(HERE)
native = Extension(
    "ciha._ciha_native",
    sources=[wrapper(cflags)],
    include_dirs=flags("-I", cflags),
    library_dirs=flags("-L", libs),
    runtime_library_dirs=flags("-L", libs),
    libraries=flags("-l", libs),
    extra_compile_args=["-fno-strict-aliasing"],
)

setup(version=pkg_config("--modversion", "libciha")[0], ext_modules=[native])
