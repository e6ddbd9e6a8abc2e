import gc
import weakref

import numpy as np
import pytest

from losswidget.core.values import detach_scalar, tensors_to_floats, to_float

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


def test_bulk_conversion():
    tensors = [torch.tensor(float(i)) for i in range(5)]
    np.testing.assert_array_equal(tensors_to_floats(tensors), np.arange(5.0))
    assert tensors_to_floats([]).size == 0
