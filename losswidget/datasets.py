"""Small datasets for lessons and demos: made here or shipped in a package, never downloaded."""

from __future__ import annotations

from typing import Any

from losswidget.core.validate import check_float, check_int


def noisy_sine(n_train: int = 20, n_val: int = 200, noise: float = 0.4, seed: int = 0) -> tuple[Any, Any]:
    """``((x_train, y_train), (x_val, y_val))``: y = sin(x) + noise, x in [-3, 3], as float tensors.

    Few training points and many validation points: a wide network memorises the
    training noise, and the validation loss shows it.
    """
    import torch

    n_train = check_int("n_train", n_train, minimum=1)
    n_val = check_int("n_val", n_val, minimum=1)
    noise = check_float("noise", noise, minimum=0.0)
    generator = torch.Generator().manual_seed(check_int("seed", seed))

    def sample(n: int) -> tuple[Any, Any]:
        x = torch.rand(n, 1, generator=generator) * 6 - 3
        return x, torch.sin(x) + noise * torch.randn(n, 1, generator=generator)

    return sample(n_train), sample(n_val)


TEST_IMAGES = 397  # digits()' test set: the shuffle's last 397 images, leaving 1,400 for training and validation


def digits(n_train: int = 200, n_val: int = 400, label_noise: float = 0.0, seed: int = 0) -> dict[str, Any]:
    """scikit-learn's bundled 8x8 digits (1,797 images, no download) as tensor datasets.

    Returns ``{"train", "val", "test"}`` TensorDatasets with inputs scaled to [0, 1]. One shuffle
    (``seed``) orders the images: the test set is its last ``TEST_IMAGES`` (397), the validation set
    the ``n_val`` before them, the training set its first ``n_train``. So the validation and test
    images do not depend on ``n_train``: runs with more or fewer training images are judged on the
    same images, and none of them trains on another's validation images.
    ``n_train + n_val`` may be at most 1,400.

    ``label_noise`` is the share of training labels made **wrong**: that many training images (rounded
    to a whole image) get a different class, drawn at random among the other nine. The validation and
    test labels stay right.
    """
    import torch
    from torch.utils.data import TensorDataset

    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("digits() needs scikit-learn: pip install scikit-learn") from None
    n_train = check_int("n_train", n_train, minimum=1)
    n_val = check_int("n_val", n_val, minimum=1)
    label_noise = check_float("label_noise", label_noise, minimum=0.0)
    if label_noise > 1:
        raise ValueError(f"'label_noise' must be <= 1: {label_noise}")
    data = load_digits()
    room = len(data.target) - TEST_IMAGES
    if n_train + n_val > room:
        raise ValueError(
            f"n_train + n_val must leave the {TEST_IMAGES} test images: {n_train} + {n_val} > {room} "
            f"(of {len(data.target)} images)"
        )
    generator = torch.Generator().manual_seed(check_int("seed", seed))
    order = torch.randperm(len(data.target), generator=generator)
    x = torch.tensor(data.data, dtype=torch.float32)[order] / 16.0
    y = torch.tensor(data.target)[order]
    train_y = y[:n_train].clone()
    wrong = torch.randperm(n_train, generator=generator)[: round(label_noise * n_train)]
    train_y[wrong] = (train_y[wrong] + torch.randint(1, 10, (len(wrong),), generator=generator)) % 10
    val = slice(room - n_val, room)
    return {
        "train": TensorDataset(x[:n_train], train_y),
        "val": TensorDataset(x[val], y[val]),
        "test": TensorDataset(x[room:], y[room:]),
    }
