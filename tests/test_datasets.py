"""losswidget.datasets.digits: the split the lessons compare runs on, and what label_noise means."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from losswidget.datasets import TEST_IMAGES, digits  # noqa: E402


def _images(dataset):
    return {tuple(row.tolist()) for row in dataset.tensors[0]}


def test_validation_and_test_images_do_not_depend_on_the_number_of_training_images():
    few, more = digits(n_train=150, n_val=400, seed=2), digits(n_train=1000, n_val=400, seed=2)
    assert torch.equal(few["val"].tensors[0], more["val"].tensors[0])
    assert torch.equal(few["val"].tensors[1], more["val"].tensors[1])
    assert torch.equal(few["test"].tensors[0], more["test"].tensors[0])
    assert len(few["test"]) == len(more["test"]) == TEST_IMAGES
    # The larger training set holds the smaller one and none of the validation or test images.
    assert torch.equal(more["train"].tensors[0][:150], few["train"].tensors[0])
    assert not _images(more["train"]) & _images(more["val"])
    assert not _images(more["train"]) & _images(more["test"])
    assert not _images(more["val"]) & _images(more["test"])


def test_label_noise_is_the_share_of_training_labels_made_wrong():
    clean, noisy = digits(n_train=500, n_val=100, seed=1), digits(n_train=500, n_val=100, label_noise=0.2, seed=1)
    wrong = (clean["train"].tensors[1] != noisy["train"].tensors[1]).sum().item()
    assert wrong == 100  # exactly 20 % of 500: a wrong label is another class, never the right one by chance
    assert torch.equal(clean["val"].tensors[1], noisy["val"].tensors[1])
    assert torch.equal(clean["test"].tensors[1], noisy["test"].tensors[1])
    everything = digits(n_train=300, n_val=100, label_noise=1.0)
    right = digits(n_train=300, n_val=100)["train"].tensors[1]
    assert (everything["train"].tensors[1] != right).all()


def test_a_split_that_leaves_no_test_images_is_refused_by_name():
    digits(n_train=1000, n_val=400)  # the largest the lessons use: exactly the room left
    with pytest.raises(ValueError, match=r"n_train \+ n_val must leave the 397 test images: 1001 \+ 400 > 1400"):
        digits(n_train=1001, n_val=400)
    with pytest.raises(ValueError, match=r"'label_noise' must be <= 1: 1.5"):
        digits(label_noise=1.5)
