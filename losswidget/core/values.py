"""Turn whatever a training loop logs into plain floats.

Accepted: Python ``int``/``float`` (not ``bool``), numpy scalars and 0-d or
one-element arrays, and 0-d or one-element torch tensors. Tensors are detached,
so no autograd graph is ever kept alive by the monitor. torch is never imported
here: tensors are recognised by duck typing.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "as_series",
    "changed_since_logged",
    "describe_shape",
    "detach_scalar",
    "is_tensor",
    "may_alias",
    "tensors_to_floats",
    "to_float",
]


def is_tensor(value: Any) -> bool:
    """True for a torch tensor, without importing torch."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def describe_shape(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


META_TEXT = (
    "is a tensor on the 'meta' device: it has a shape but no value; build the model on a real device "
    "(or materialise it, e.g. model.to_empty(device='cpu')) before training"
)


def _check_tensor(value: Any, name: str) -> None:
    numel = value.numel()
    if numel != 1:
        raise ValueError(
            f"{name!r} must be a scalar: got a tensor of shape {describe_shape(tuple(value.shape))}; "
            "log a scalar, e.g. loss.mean()"
        )
    if value.is_complex():
        raise TypeError(f"{name!r} must be a real number: got a complex tensor")
    if str(value.dtype) == "torch.bool":
        raise TypeError(f"{name!r} must be a number: got a bool tensor (as with Python and numpy bools)")


ALIAS_BYTES = 4096  # the most storage a pending alias may hold (4,096 pending: 16 MiB at worst)


def detach_scalar(value: Any, name: str, copy: bool = False) -> Any:
    """Validate ``value``; return a float, or a detached one-element tensor.

    Tensors on an accelerator stay on the device, so per-step logging never forces a
    device synchronisation; convert them in bulk with :func:`tensors_to_floats`.

    A fresh result of the step's graph (a loss made by torch's own operators, never changed
    in place, no view, with a small storage; :func:`may_alias`) is kept as a detached alias: no
    device work at all, and at most ``ALIAS_BYTES`` held per pending value. Anything else (a
    running sum changed in place, a view of a large tensor, a tensor made under ``no_grad``, a
    compiled function's output), or everything when ``copy`` is true, is kept as a one-element
    copy of its value now (one small asynchronous device copy): an alias would be read at the
    flush with its later value, or keep a large storage alive. An alias shares its tensor's
    version counter, so a change made in place after logging still shows at the flush
    (:func:`changed_since_logged`). This runs once per training step: the CPU path is kept to
    three tensor calls.
    """
    if type(value) is float:
        return value
    if is_tensor(value):
        if value.numel() != 1:
            _check_tensor(value, name)
        if value.device.type == "cpu":
            result = value.item()  # a Python number: no graph can be kept alive
            if isinstance(result, (complex, bool)):
                _check_tensor(value, name)
            return float(result)
        _check_tensor(value, name)
        if not copy and may_alias(value):
            return value.detach()  # holds its small storage; the graph is let go
        return value.detach().clone()  # one element of device memory, and its value now
    return to_float(value, name)


def may_alias(tensor: Any) -> bool:
    """A fresh result of one of torch's own operators in a graph, never changed in place, no view,
    with a small storage: one that :func:`detach_scalar` may keep as it is until the flush.

    Outputs of custom autograd Functions are copied: among them ``torch.compile``'s, whose memory
    may be a CUDA graph's, overwritten by its next replay with no version change."""
    grad_fn = tensor.grad_fn
    if grad_fn is None or type(grad_fn).__module__ != "builtins" or tensor._version or tensor._base is not None:
        return False
    try:
        return tensor.untyped_storage().nbytes() <= ALIAS_BYTES
    except (RuntimeError, NotImplementedError):  # no storage to hold (XLA, a wrapper subclass): copy
        return False


def changed_since_logged(tensors: list) -> list[int]:
    """Which of these kept tensors were changed in place after :func:`detach_scalar` kept them
    (an alias is kept only at version 0; a copy is nobody else's, so stays at 0). A tensor with
    no version counter to read (made under ``torch.inference_mode``) is never an alias."""
    changed = []
    for row, tensor in enumerate(tensors):
        try:
            if tensor._version:
                changed.append(row)
        except RuntimeError:  # no version counter: a copy, unchanged
            pass
    return changed


def tensors_to_floats(tensors: list) -> np.ndarray:
    """Convert many detached scalar tensors with one device-to-host copy (one per device, if the
    loss moved between devices)."""
    if not tensors:
        return np.empty(0, dtype=np.float64)
    import torch

    try:
        stacked = torch.stack(tensors)  # all of one shape (a loss is 0-d) and device: no per-tensor call
    except RuntimeError:  # one-element tensors of several shapes, or on several devices: one copy each
        values = np.empty(len(tensors))
        rows: dict[Any, list[int]] = {}
        for row, tensor in enumerate(tensors):
            rows.setdefault(tensor.device, []).append(row)
        for device_rows in rows.values():
            one_device = torch.stack([tensors[row].reshape(()) for row in device_rows])
            values[device_rows] = one_device.to("cpu", torch.float64).numpy()
        return values
    return stacked.reshape(-1).to("cpu", torch.float64).numpy()


_NUMPY_FLOATS = {"torch.float16", "torch.float32", "torch.float64"}
_KINDS = {"U": "text", "S": "bytes", "O": "objects that are not numbers", "M": "dates", "m": "durations"}


def as_series(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-D float64 array: a sequence, an array or a tensor (detached, copied to the
    CPU). A complex, text or ragged input is refused naming ``name`` and what it got."""
    if is_tensor(values):
        if values.device.type == "meta":
            raise ValueError(f"{name!r} {META_TEXT}")
        if values.is_floating_point() and str(values.dtype) not in _NUMPY_FLOATS:  # bfloat16, float8: numpy has none
            values = values.double()
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):  # ragged nesting
        raise TypeError(
            f"{name!r} must be a 1-D sequence of numbers: got a ragged sequence ({_short(values)})"
        ) from None
    if array.dtype.kind == "c":
        raise TypeError(f"{name!r} must be real numbers: got complex values ({_short(values)})")
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name!r} must be a 1-D sequence of numbers: got {_KINDS.get(array.dtype.kind, array.dtype.name)} "
            f"({_short(values)})"
        ) from None
    if array.ndim != 1:
        raise ValueError(f"{name!r} must be 1-D: got shape {array.shape}")
    return array


def _short(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 1000:  # str() of a huge int may itself refuse
        return f"an int of about {int(value.bit_length() * 0.30103)} digits"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_float(value: Any, name: str) -> float:
    """Return ``value`` as a Python float, or raise an error naming ``name``.

    NaN and inf pass through: deciding what a non-finite loss means is the
    caller's job (early stopping stops on it, the chart shows a gap).
    """
    if type(value) is float:  # the common case, first
        return value
    if value is None:
        raise TypeError(f"{name!r} is required: got None; log a number such as loss.item()")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name!r} must be a number: got the bool {value!r}")
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(
                f"{name!r} is too large for a float (beyond ±1.8e308): {_short(value)}; log a float such as loss.item()"
            ) from None
    if is_tensor(value):
        _check_tensor(value, name)
        if value.device.type == "meta":
            raise ValueError(f"{name!r} {META_TEXT}")
        return float(value.detach().reshape(()).item())
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(
                f"{name!r} must be a scalar: got an array of shape {describe_shape(value.shape)}; "
                "log a scalar, e.g. values.mean()"
            )
        return to_float(value.reshape(()).item(), name)
    if isinstance(value, numbers.Complex):
        raise TypeError(f"{name!r} must be a real number: got the complex number {value!r}")
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"{name!r} must be a number: got the {type(value).__name__} {value!r}; convert it with float(...)"
        )
    if isinstance(value, (list, tuple, dict, set)):
        raise TypeError(
            f"{name!r} must be a scalar: got a {type(value).__name__} of length {len(value)}; "
            "log one number, e.g. the mean of the batch losses"
        )
    raise TypeError(
        f"{name!r} must be a number, numpy scalar or one-element tensor: "
        f"got {type(value).__module__}.{type(value).__qualname__}"
    )
