"""Snapshots as pickles that the bot writes and reads back itself, from its own database only (unpickling
runs code: never read one from anyone else), and the `crash_point` test hook."""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import signal
import types
from collections.abc import Mapping
from typing import Any


def _mapping_proxy(data: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(data)


def _reduce_proxy(proxy: types.MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _mapping_proxy, (dict(proxy),)


_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[types.MappingProxyType] = _reduce_proxy


class _Writer(pickle.Pickler):
    def __init__(self, file: io.BytesIO, refs: Mapping[int, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.dispatch_table = _DISPATCH
        self.refs = refs

    def persistent_id(self, obj: Any) -> str | None:
        return self.refs.get(id(obj))


class _Reader(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, objects: Mapping[str, Any]) -> None:
        super().__init__(file)
        self.objects = objects

    def persistent_load(self, pid: Any) -> Any:
        return self.objects[pid]


def dumps(obj: Any, refs: Mapping[str, Any] | None = None) -> bytes:
    """Pickle `obj`; each object in `refs` (name -> object) is written as a reference to its name."""
    buf = io.BytesIO()
    if refs:
        _Writer(buf, {id(o): name for name, o in refs.items()}).dump(obj)
    else:  # no per-object callback: several times faster on the venues' large state
        plain = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
        plain.dispatch_table = _DISPATCH
        plain.dump(obj)
    return buf.getvalue()


def loads(blob: bytes, refs: Mapping[str, Any] | None = None) -> Any:
    """Unpickle what `dumps` wrote, binding each reference to the object of that name in `refs`."""
    return _Reader(io.BytesIO(blob), refs or {}).load()


_passes: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Test hook: with `BOT_CRASH_POINT=name:n` in the environment, the process SIGKILLs itself the n-th
    time it passes the point `name` (`venue-fill`: a venue's fill is persisted and the node has not
    journaled it yet). Without the variable it does nothing."""
    wanted = os.environ.get("BOT_CRASH_POINT")
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
