"""The exec entry of the CNI plugin: environment and stdin in, result or error JSON out.

Invariants:
- One JSON document on stdout: the result (ADD), the versions (VERSION),
  nothing (DEL, CHECK, STATUS, GC succeed silently) or the spec's error
  object; exit status 0 on success, 1 on any error. Never a traceback on
  stdout; a bug's traceback goes to stderr, which runtimes log.
- An ADD that fails, is interrupted (SIGINT) or terminated (SIGTERM) gives
  back its IP allocation and removes its links before it answers.
- Loads what the command needs: VERSION loads no kernel code at all.
"""

from __future__ import annotations

import json
import os
import signal
import sys

TYPE_CHECKING = False  # typing's, without importing typing: VERSION loads next to nothing
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import FrameType, ModuleType
    from typing import Any, BinaryIO, Optional, TextIO

    from rawns.cni.config import NetConf
    from rawns.cni.spec import CniError, Env, Result

__all__ = ["main", "run", "Terminated"]

_SUPPORTED = ("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")  # == spec.SUPPORTED_VERSIONS


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like KeyboardInterrupt, so cleanups run."""


def _terminate(signum: int, frame: Optional[FrameType]) -> None:
    raise Terminated()


def _version_answer(data: bytes) -> dict[str, Any]:
    try:
        asked = json.loads(data).get("cniVersion")
    except (ValueError, AttributeError, UnicodeDecodeError):
        asked = None
    return {"cniVersion": asked if asked in _SUPPORTED else _SUPPORTED[-1],
            "supportedVersions": list(_SUPPORTED)}


def run(environ: Mapping[str, str], data: bytes) -> dict[str, Any] | None:
    """One plugin call: the JSON to print (None: nothing), or a CniError."""
    if environ.get("CNI_COMMAND") == "VERSION":
        return _version_answer(data)
    from rawns.cni import spec
    from rawns.cni.config import parse_config

    env = spec.read_env(environ)
    net = parse_config(data, env.command)
    if env.command == "ADD":
        return _add(env, net, environ).to_json(net.version)
    if env.command == "DEL":
        _delete(env, net, environ)
    elif env.command == "CHECK":
        _check(env, net, environ)
    elif env.command in ("GC", "STATUS"):
        from rawns.cni import ipam as ipam_module

        ipam = ipam_module.for_config(net, environ)
        if ipam is not None:
            (ipam.gc if env.command == "GC" else ipam.status)(env)
    return None


def _mode(net: NetConf) -> ModuleType:
    if net.mode == "bridge":
        from rawns.cni import bridge
        return bridge
    from rawns.cni import ptp
    return ptp


def _add(env: Env, net: NetConf, environ: Mapping[str, str]) -> Result:
    from rawns.cni import attach, ipam as ipam_module
    from rawns.cni.spec import Result

    ipam = ipam_module.for_config(net, environ)
    mode = _mode(net)
    container_fd = attach.open_container(env)
    try:
        allocated = ipam.add(env) if ipam is not None else Result()
        try:
            result: Result = mode.add(net, env, container_fd, allocated)
            return result
        except BaseException as err:
            if ipam is not None:
                _cleanup(ipam.delete, env, err)
            raise
    finally:
        os.close(container_fd)


def _cleanup(undo: Callable[[Env], None], env: Env, cause: BaseException) -> None:
    """Run ``undo(env)``; if it fails too, say so on stderr and let the
    first error be the one reported."""
    try:
        undo(env)
    except Exception as err:  # the cause is what the runtime must see
        print(f"rawns-cni: cleanup after {type(cause).__name__} failed: {err}", file=sys.stderr)


def _delete(env: Env, net: NetConf, environ: Mapping[str, str]) -> None:
    from rawns.cni import ipam as ipam_module

    ipam = ipam_module.for_config(net, environ)
    if ipam is not None:
        ipam.delete(env)
    if env.netns and os.path.exists(env.netns):
        from rawns.cni import attach
        attach.remove(env)


def _check(env: Env, net: NetConf, environ: Mapping[str, str]) -> None:
    from rawns.cni import attach, ipam as ipam_module

    ipam = ipam_module.for_config(net, environ)
    if ipam is not None:
        ipam.check(env)
    container_fd = attach.open_container(env)
    try:
        _mode(net).check(net, env, container_fd)
    finally:
        os.close(container_fd)


def _error(err: BaseException) -> CniError:
    """The CniError that reports ``err``."""
    from rawns.cni import spec

    if isinstance(err, spec.CniError):
        return err
    from rawns.errors import KernelError

    if isinstance(err, KernelError):
        from rawns.cni.attach import kernel_busy
        code = spec.TRY_AGAIN_LATER if kernel_busy(err) else spec.SYSTEM_REFUSED
        return spec.CniError(code, str(err))
    if isinstance(err, (KeyboardInterrupt, Terminated)):
        return spec.CniError(spec.TRY_AGAIN_LATER, "interrupted; what this call made is undone")
    from rawns.nlsock import DumpInterrupted
    if isinstance(err, DumpInterrupted):
        return spec.CniError(spec.TRY_AGAIN_LATER, str(err))
    if isinstance(err, ValueError):
        return spec.CniError(spec.INVALID_CONFIG, str(err))
    if isinstance(err, OSError):
        return spec.CniError(spec.IO_FAILURE, str(err))
    import traceback
    traceback.print_exception(err, file=sys.stderr)
    return spec.CniError(spec.INTERNAL_ERROR, f"internal error: {type(err).__name__}: {err}")


def main(environ: Optional[Mapping[str, str]] = None, stdin: Optional[BinaryIO] = None,
         stdout: Optional[TextIO] = None) -> int:
    """The plugin: reads ``CNI_*`` from ``environ`` (default ``os.environ``)
    and the configuration from ``stdin``; writes the answer to ``stdout``;
    returns the exit status."""
    environ = os.environ if environ is None else environ
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: an embedding program handles signals
        previous = None
    data = b""
    try:
        try:
            data = stdin.read()
            answer = run(environ, data)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    except BaseException as err:  # every failure becomes the spec's error JSON
        if isinstance(err, SystemExit):
            raise
        failure = _error(err)
        from rawns.cni.config import request_version
        stdout.write(json.dumps(failure.to_json(request_version(data))) + "\n")
        stdout.flush()
        return 1
    if answer is not None:
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()
    return 0
