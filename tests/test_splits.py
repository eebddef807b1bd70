"""Held-out splits for the demos' choices: stratified_split and mnist_splits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnn.datasets import load_mnist, mnist_splits, stratified_split
from tests.mnist_files import write_mnist_folder


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=2, max_size=80), st.data())
def test_stratified_split_partitions_and_keeps_proportions(labels, data):
    labels = np.array(labels)
    n_holdout = data.draw(st.integers(1, len(labels) - 1))
    keep, held = stratified_split(labels, n_holdout, rng=0)
    assert len(held) == n_holdout
    assert np.array_equal(np.sort(np.concatenate([keep, held])), np.arange(len(labels)))
    for c in np.unique(labels):
        share = np.mean(labels == c) * n_holdout
        assert abs(np.sum(labels[held] == c) - share) < 1       # within one of its share


def test_stratified_split_is_seeded_and_refuses_empty_sides():
    labels = np.arange(30) % 3
    assert np.array_equal(stratified_split(labels, 9, rng=4)[1], stratified_split(labels, 9, rng=4)[1])
    assert not np.array_equal(stratified_split(labels, 9, rng=4)[1], stratified_split(labels, 9, rng=5)[1])
    for bad in (0, 30):
        with pytest.raises(ValueError, match="n_holdout"):
            stratified_split(labels, bad)


def test_mnist_splits_hold_out_validation_and_scale_with_training_constants(tmp_path):
    arrays = write_mnist_folder(tmp_path, n_train=120, n_test=20)
    data = load_mnist(data_dir=tmp_path, download_ok=False, verify=False)   # our own tiny files
    split = mnist_splits(data, 20, rng=0, n_train=100, n_test=10)
    assert (len(split["y_train"]), len(split["y_val"]), len(split["y_test"])) == (80, 20, 10)
    assert not set(split["train_index"]) & set(split["val_index"])
    assert split["x_train"].dtype == np.float32 and split["x_train"].shape[1] == 784
    train_images = arrays["train-images-idx3-ubyte"][split["train_index"]]
    lo, hi = train_images.min(), train_images.max()
    expected = (arrays["train-images-idx3-ubyte"][split["val_index"]].reshape(20, -1) - lo) / (hi - lo)
    np.testing.assert_allclose(split["x_val"], expected, rtol=1e-6)
    assert np.array_equal(split["y_val"], arrays["train-labels-idx1-ubyte"][split["val_index"]])
