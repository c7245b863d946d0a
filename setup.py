# The compiled part of rawns is declared here because setuptools' cffi hook
# (cffi_modules) has no pyproject.toml spelling yet; everything else lives in
# pyproject.toml.
from setuptools import setup

setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"])
