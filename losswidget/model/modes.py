"""The train()/eval() probe: does the model run forward in train() mode with gradients off (validation
computed in the wrong mode)? torch is imported lazily.

The probe is a forward pre-hook on the user's model, so it must leave the model as the user had it:
it holds its guards only through a weak reference, a pickled or deep-copied model carries a probe
that notes nothing (``torch.save(model, path)``, the way many tutorials save a whole model, works),
and the hook is removed when the monitor that placed it is gone.
"""

from __future__ import annotations

import weakref
from typing import Any


def has_mode_dependent_layers(model: Any) -> bool:
    """True if ``model`` has layers that act differently in train() and eval() (dropout, batch norm)."""
    import torch

    kinds = (torch.nn.modules.dropout._DropoutNd, torch.nn.modules.batchnorm._NormBase)
    modules = model.modules() if callable(getattr(model, "modules", None)) else []
    return any(isinstance(module, kinds) for module in modules)


class ModeProbe:
    """A forward pre-hook that sets ``train_mode_without_grad`` on its guards."""

    def __init__(self, guards: Any = None) -> None:
        self._owner = None if guards is None else weakref.ref(guards)

    def __call__(self, module: Any, args: Any) -> None:
        import torch

        if self._owner is not None and module.training and not torch.is_grad_enabled():
            guards = self._owner()
            if guards is not None:
                guards.train_mode_without_grad = True

    def __reduce__(self) -> tuple:
        """Pickled or deep-copied with the model: a probe that belongs to no monitor."""
        return (ModeProbe, ())


def watch_train_mode_without_grad(model: Any, guards: Any) -> Any:
    """Put a :class:`ModeProbe` on ``model`` for ``guards``; returns the hook handle (``.remove()``), or
    None for a model without dropout or batch norm. The hook goes when ``guards`` does."""
    if not has_mode_dependent_layers(model):
        return None
    handle = model.register_forward_pre_hook(ModeProbe(guards))
    weakref.finalize(guards, handle.remove)
    return handle
