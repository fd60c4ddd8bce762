"""Read NVlabs network pickles (stylegan2-ada-pytorch, stylegan3) without running their code.

Those ``.pkl`` files are plain pickles (not ``torch.save`` archives, so ``torch.load`` cannot
open them) of ``{'G', 'D', 'G_ema', 'training_set_kwargs', 'augment_pipe'}``. Every network in
them was pickled by NVlabs ``torch_utils/persistence.py``: a module is reduced to a call of
``torch_utils.persistence._reconstruct_persistent_obj(meta)`` with ``meta`` a dict of
``type='class'``, ``version``, ``module_src`` (the source of the module that defines the class),
``class_name`` and ``state`` (the module's ``__dict__``: ``_parameters``, ``_buffers``,
``_modules``, ``_init_args``, ``_init_kwargs`` and plain attributes). NVlabs' loader ``exec()``s
``module_src`` and builds the class from it, so opening a stranger's pickle runs the stranger's
code. Here that call returns a ``PersistentRecord``: the same data, inert; the source is kept as
text and only its hash is reported.

Tensors inside are pickled as torch does for a plain ``pickle.dump``:
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` and
``torch._utils._rebuild_parameter(tensor, ...)``, each storage as
``torch.storage._load_from_bytes(<a legacy torch.save of the storage>)``; those bytes are read
with ``torch.load(weights_only=True)``. Plain attributes may hold numpy scalars (NVlabs keeps
gains as ``np.float64``) and ``dnnlib.util.EasyDict`` (read as a dict). Any other global the
pickle asks for is refused with an ``ImporterError`` that names it, before it is looked up, so
nothing outside this list is ever imported or called.
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from mlcore.importers.errors import ImporterError

__all__ = ["PersistentRecord", "load_nvlabs_pickle", "record_state_dict", "SafeUnpickler"]


@dataclass(frozen=True, eq=False)
class PersistentRecord:
    """One NVlabs persistent object, as data: what its class was, how it was built, its state."""

    class_name: str
    module_src_sha256: str  # hash of the source NVlabs would exec; the source itself is never run
    version: int | None
    init_args: tuple
    init_kwargs: dict[str, Any]
    state: dict[str, Any] = field(repr=False)
    module_src: str = field(default="", repr=False)

    def child(self, name: str) -> "PersistentRecord | None":
        """The submodule ``name`` (``self.mapping``...), or None."""
        child = (self.state.get("_modules") or {}).get(name)
        return child if isinstance(child, PersistentRecord) else None

    def children(self) -> dict[str, Any]:
        return dict(self.state.get("_modules") or {})

    def attr(self, name: str, default: Any = None) -> Any:
        """A plain attribute the object had (``self.z_dim``...), as it was pickled."""
        return self.state.get(name, default)


def _persistent_record(meta: Any) -> PersistentRecord:
    # Stands in for torch_utils.persistence._reconstruct_persistent_obj: same input, no exec.
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise ImporterError("a persistence record is not of type 'class' (not an NVlabs network pickle)")
    state = meta.get("state")
    if not isinstance(state, dict):
        raise ImporterError(f"the persistence record of {meta.get('class_name')!r} has no state dict")
    source = meta.get("module_src")
    source = source if isinstance(source, str) else ""
    init_kwargs = state.get("_init_kwargs")
    init_args = state.get("_init_args")
    return PersistentRecord(
        class_name=str(meta.get("class_name", "")),
        module_src_sha256=hashlib.sha256(source.encode("utf-8", "replace")).hexdigest(),
        version=meta.get("version") if isinstance(meta.get("version"), int) else None,
        init_args=tuple(init_args) if isinstance(init_args, (list, tuple)) else (),
        init_kwargs=dict(init_kwargs) if isinstance(init_kwargs, dict) else {},
        state=state,
        module_src=source,
    )


def _load_storage(data: bytes) -> Any:
    # torch's own _load_from_bytes would torch.load these bytes with weights_only=False.
    if not isinstance(data, (bytes, bytearray)):
        raise ImporterError("a tensor storage in the pickle is not stored as bytes")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here means the storage is unreadable
        raise ImporterError(f"a tensor storage in the pickle is unreadable ({str(exc).splitlines()[0]})") from None


def _rebuild_tensor(storage: Any, offset: int, size: tuple, stride: tuple, *_ignored: Any) -> torch.Tensor:
    # requires_grad, backward hooks and metadata are dropped: only the values are imported.
    if not isinstance(storage, torch.TypedStorage):
        raise ImporterError(f"a tensor in the pickle is built from a {type(storage).__name__}, not a storage")
    tensor = torch.empty((0,), dtype=storage.dtype)
    try:
        return tensor.set_(storage._untyped_storage, offset, tuple(size), tuple(stride))
    except (RuntimeError, TypeError) as exc:
        raise ImporterError(f"a tensor in the pickle does not fit its storage ({exc})") from None


def _rebuild_parameter(data: Any, *_ignored: Any) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise ImporterError(f"a parameter in the pickle holds a {type(data).__name__}, not a tensor")
    return data


def _numpy_dtype(spec: Any, align: bool = False, copy: bool = False) -> np.dtype:
    dtype = np.dtype(spec, bool(align), bool(copy))
    if dtype.hasobject:  # object arrays would be containers of arbitrary pickled objects
        raise ImporterError("the pickle holds a numpy array of Python objects; refused")
    return dtype


def _refuse_tensorflow(*_args: Any) -> None:
    raise ImporterError(
        "this is a TensorFlow StyleGAN/StyleGAN2 pickle (dnnlib.tflib.network.Network); convert it to "
        "a stylegan2-ada-pytorch pickle with NVlabs' legacy.py first")


# (module, name) -> what to return for it. Nothing outside this table is imported; the numpy
# array and scalar builders are added below, under numpy 1's and numpy 2's module names.
_ALLOWED: dict[tuple[str, str], Callable[..., Any] | type] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _persistent_record,
    ("dnnlib.util", "EasyDict"): dict,
    ("dnnlib", "EasyDict"): dict,
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy", "ndarray"): np.ndarray,
    ("dnnlib.tflib.network", "Network"): _refuse_tensorflow,
}


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype):
        raise ImporterError("a numpy scalar in the pickle has no dtype")
    if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.itemsize:
        raise ImporterError("a numpy scalar in the pickle is malformed")
    return np.frombuffer(bytes(data), dtype=dtype)[0]


def _numpy_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    # numpy pickles an array as _reconstruct(ndarray, (0,), b'b') then __setstate__ with the data.
    if subtype is not np.ndarray:
        raise ImporterError("the pickle holds a numpy array subclass; refused")
    return np.ndarray.__new__(np.ndarray, shape, _numpy_dtype(dtype) if not isinstance(dtype, np.dtype) else dtype)


for _core in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_core, "scalar")] = _numpy_scalar
    _ALLOWED[(_core, "_reconstruct")] = _numpy_reconstruct


class SafeUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the globals in ``_ALLOWED``."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise ImporterError(f"refused to load: the pickle asks for {module}.{name}, which an NVlabs "
                                "network pickle never needs (it could run code)")
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise ImporterError("refused to load: the pickle refers to external objects (not an NVlabs network pickle)")


def load_nvlabs_pickle(path: str | os.PathLike) -> dict[str, Any]:
    """The top-level dict of an NVlabs network pickle, every network a ``PersistentRecord``."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            if head.startswith(b"PK\x03\x04"):
                raise ImporterError(f"{path}: a torch.save archive, not an NVlabs network pickle "
                                    "(for rosinality/stylegan2-pytorch .pt files use the rosinality importer)")
            handle.seek(0)
            data = SafeUnpickler(handle).load()
    except FileNotFoundError:
        raise ImporterError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImporterError(f"{path}: a folder, not a network pickle") from None
    except ImporterError as exc:
        message = str(exc)
        raise ImporterError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, RecursionError, UnicodeDecodeError, OverflowError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImporterError(f"{path}: not a readable NVlabs network pickle ({reason}); "
                            "truncated or not a pickle") from None
    if not isinstance(data, dict):
        raise ImporterError(f"{path}: not an NVlabs network pickle (it holds a {type(data).__name__}, "
                            "not a dict with G, D and G_ema)")
    return data


def record_state_dict(record: PersistentRecord, *, where: str = "") -> dict[str, torch.Tensor]:
    """The record's state dict, as ``torch.nn.Module.state_dict()`` would give it: parameters
    and persistent buffers, then submodules, names dotted. Non-tensor entries are refused."""
    out: dict[str, torch.Tensor] = {}
    _collect(record, "", out, where or record.class_name)
    return out


def _collect(record: PersistentRecord, prefix: str, out: dict[str, torch.Tensor], where: str) -> None:
    state = record.state
    skip = state.get("_non_persistent_buffers_set") or set()
    for group in ("_parameters", "_buffers"):
        entries = state.get(group) or {}
        if not isinstance(entries, dict):
            raise ImporterError(f"{where}: {prefix}{group} is not a dict")
        for name, tensor in entries.items():
            if tensor is None or (group == "_buffers" and name in skip):
                continue
            if not isinstance(tensor, torch.Tensor):
                raise ImporterError(f"{where}: {prefix}{name} is a {type(tensor).__name__}, not a tensor")
            out[prefix + name] = tensor
    for name, child in (state.get("_modules") or {}).items():
        if child is None:
            continue
        if not isinstance(child, PersistentRecord):
            raise ImporterError(f"{where}: {prefix}{name} is a {type(child).__name__}, not a network module")
        _collect(child, f"{prefix}{name}.", out, where)
