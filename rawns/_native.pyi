# Type stub of the compiled extension (built by cffi from csrc/build_ffi.py).
# cffi's objects are dynamic: rawns.syscalls, their only user, types what it
# hands out.
from typing import Any

ffi: Any
lib: Any
