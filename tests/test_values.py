import gc
import weakref

import numpy as np
import pytest

from losswidget.core.values import (
    ALIAS_BYTES,
    changed_since_logged,
    detach_scalar,
    may_alias,
    tensors_to_floats,
    to_float,
)

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (0.25, 0.25),
        (np.float32(0.5), 0.5),
        (np.int64(3), 3.0),
        (np.array(2.0), 2.0),
        (np.array([4.0]), 4.0),
        (torch.tensor(1.5), 1.5),
        (torch.tensor([2.5]), 2.5),
        (torch.tensor([[3.5]], dtype=torch.float16), 3.5),
        (float("nan"), float("nan")),
    ],
)
def test_accepted(value, expected):
    result = to_float(value, "train")
    assert isinstance(result, float)
    assert result == expected or (result != result and expected != expected)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (None, TypeError, r"'train' is required: got None"),
        ("0.5", TypeError, r"'train' must be a number: got the str '0.5'; convert it with float"),
        ([0.1, 0.2], TypeError, r"got a list of length 2"),
        (True, TypeError, r"got the bool True"),
        (1 + 2j, TypeError, r"must be a real number"),
        (np.zeros(3), ValueError, r"got an array of shape \(3,\)"),
        (torch.zeros(32), ValueError, r"got a tensor of shape \(32,\); log a scalar, e.g. loss.mean\(\)"),
        (torch.zeros(2, 3), ValueError, r"got a tensor of shape \(2, 3\)"),
        (object(), TypeError, r"must be a number, numpy scalar or one-element tensor: got builtins.object"),
    ],
)
def test_rejected(value, error, message):
    with pytest.raises(error, match=message):
        to_float(value, "train")


def test_no_autograd_graph_is_kept():
    weights = torch.ones(3, requires_grad=True)
    hidden = weights * 2
    loss = (hidden**2).sum()  # the graph saves `hidden` for the backward pass
    saved = weakref.ref(hidden)
    del hidden
    kept = detach_scalar(loss, "train")
    del loss
    gc.collect()
    assert saved() is None
    assert kept == 12.0


def test_accelerator_tensors_stay_on_device_and_detached():
    loss = torch.ones((), device="meta", requires_grad=True) * 2  # no host copy possible on "meta"
    kept = detach_scalar(loss, "train")
    assert kept.device.type == "meta" and kept.grad_fn is None and not kept.requires_grad


def test_accelerator_tensors_are_kept_as_they_are_now_in_one_element():
    running = torch.zeros((), device="meta")  # a running sum, changed in place after each log_step
    kept = detach_scalar(running, "train")
    running.add_(1.0)  # a detached view would share the change (and its version counter)
    assert kept._version == 0 and running._version == 1
    rows = torch.ones(1_000_000, device="meta")
    kept = detach_scalar(rows[3], "train")  # a view: the 4 MB storage must not stay pending
    assert kept._base is None and kept.untyped_storage().nbytes() == 4


def _shares_changes(kept, original) -> bool:
    """Whether ``kept`` is an alias of ``original`` (an in-place change reaches it) or a copy."""
    before = kept._version
    with torch.no_grad():
        original.add_(0.0)
    return kept._version != before


def test_a_fresh_loss_on_a_device_is_kept_without_a_device_copy():
    weights = torch.ones(3, device="meta", requires_grad=True)
    loss = (weights * 2).sum()  # a fresh result of the graph: its own one-element storage
    kept = detach_scalar(loss, "train")
    assert kept.grad_fn is None and not kept.requires_grad
    assert changed_since_logged([kept]) == []
    loss.div_(4)  # changed in place after logging: the alias shares its version counter, so it shows
    assert changed_since_logged([kept]) == [0]
    fresh = (weights * 2).sum()
    copied = detach_scalar(fresh, "train", copy=True)  # asked to copy: a copy, whatever it is
    assert not _shares_changes(copied, fresh) and changed_since_logged([copied]) == []


def test_only_fresh_graph_results_are_kept_as_aliases():
    weights = torch.ones(4, device="meta", requires_grad=True)
    changed = (weights * 2).sum()
    changed.mul_(3)  # changed in place before logging: a later change could not be told apart
    view = (weights * 2)[1]  # a view: it would keep the whole storage pending
    with torch.no_grad():
        made_without_graph = (weights * 2).sum()  # no grad_fn: it may be a running sum
    for value in (changed, view, made_without_graph):
        kept = detach_scalar(value, "train")
        assert kept._version == 0 and kept._base is None and kept.untyped_storage().nbytes() == 4
        assert not _shares_changes(kept, value)
    fresh = (weights * 2).sum()
    assert _shares_changes(detach_scalar(fresh, "train"), fresh)  # the helper can tell an alias


def test_a_loss_sharing_a_large_buffer_is_copied_not_kept():
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    for batch, kept_as_is in ((32, True), (100_000, False)):
        x, y = torch.randn(batch, 8), torch.randn(batch, 4)
        loss = torch.nn.functional.mse_loss(model(x), y)  # shares a buffer of one value per output
        assert (loss.untyped_storage().nbytes() <= ALIAS_BYTES) == kept_as_is
        assert may_alias(loss) == kept_as_is
    assert may_alias(torch.nn.functional.cross_entropy(model(x), y.argmax(1)))


def test_outputs_of_custom_autograd_functions_and_compiled_code_are_copied():
    class Doubled(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    weights = torch.ones(3, requires_grad=True)
    assert may_alias(weights.sum()) and not may_alias(Doubled.apply(weights.sum()))
    compiled = torch.compile(lambda w: (w * 3).sum(), backend="aot_eager")  # a CUDA graph's output is one
    assert not may_alias(compiled(weights))


def test_a_loss_logged_in_inference_mode_is_copied_and_converts():
    with torch.inference_mode():  # no version counter: reading one would raise at every flush
        on_device = detach_scalar(torch.ones((), device="meta") * 2, "train")
        on_host = torch.ones(()) * 3  # the same kind of tensor, convertible here
    assert on_device.is_inference() and changed_since_logged([on_device, on_host]) == []
    np.testing.assert_array_equal(tensors_to_floats([on_host]), [3.0])


def test_bulk_conversion():
    tensors = [torch.tensor(float(i)) for i in range(5)]
    np.testing.assert_array_equal(tensors_to_floats(tensors), np.arange(5.0))
    mixed = [torch.tensor(1.0), torch.tensor([2.0]), torch.tensor([[3.0]], dtype=torch.float16)]
    np.testing.assert_array_equal(tensors_to_floats(mixed), [1.0, 2.0, 3.0])  # shapes and dtypes mixed
    assert tensors_to_floats([]).size == 0
