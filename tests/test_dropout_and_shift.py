"""Dropout's two modes and the jitter augmentation."""

import numpy as np
import pytest

from scratchnn import SGD, Dropout, RandomShift, Sequential, fit, mlp, softmax_cross_entropy


def test_dropout_is_on_while_fitting_and_off_while_predicting():
    model = mlp([20, 50, 3], dropout=0.5, rng=0)
    assert any(isinstance(layer, Dropout) for layer in model.layers)
    x = np.random.default_rng(0).random((30, 20), dtype=np.float32)
    # predict is deterministic (evaluation mode), whatever mode the model was left in
    np.testing.assert_array_equal(model.predict(x), model.predict(x))
    model.train()
    a, b = model.forward(x), model.forward(x)
    assert not np.array_equal(a, b)                        # two masks while training
    np.testing.assert_array_equal(model.predict(x), model.eval().forward(x))
    assert model.layers[2].training is False
    seen = []

    def loss(out, labels):
        seen.append(model.layers[2].training)
        return softmax_cross_entropy(out, labels)

    model.eval()
    fit(model, loss, SGD(0.1), x, np.zeros(30, int), epochs=2, batch_size=10, rng=0, progress=False,
        callback=lambda epoch, m: {"acc": float((m.predict(x).argmax(1) == 0).mean())})
    assert seen == [True] * 6                        # predict between epochs restored training
    assert model.layers[2].training is False         # and fit restored the mode it was given
    # In evaluation mode dropout is the identity: the same as the network without it.
    without = Sequential([layer for layer in model.layers if not isinstance(layer, Dropout)])
    np.testing.assert_array_equal(model.predict(x), without.predict(x))


def test_inverted_dropout_keeps_the_mean_and_drops_about_p():
    layer = Dropout(0.3, rng=1)
    x = np.ones((2000, 50), np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    assert abs((out == 0).mean() - 0.3) < 0.01
    assert abs(out.mean() - 1.0) < 0.02                     # kept units scaled by 1 / 0.7
    np.testing.assert_allclose(out[out > 0], 1 / 0.7, rtol=1e-6)


def test_same_seed_same_masks():
    x = np.ones((4, 6), np.float32)
    assert np.array_equal(Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=3).forward(x))


def test_random_shift_moves_each_image_by_at_most_two_pixels():
    rng = np.random.default_rng(0)
    images = np.zeros((200, 28, 28), np.float32)
    images[:, 13, 13] = 1.0                                 # one lit pixel in the middle
    shifted = RandomShift(2)(images.reshape(200, -1), rng).reshape(200, 28, 28)
    assert shifted.sum() == 200                             # nothing lost near the centre
    where = np.argwhere(shifted == 1)                       # (image, row, col)
    dy, dx = where[:, 1] - 13, where[:, 2] - 13
    assert dy.min() == -2 and dy.max() == 2 and dx.min() == -2 and dx.max() == 2
    assert len({(a, b) for a, b in zip(dy, dx)}) == 25      # every offset occurs


def test_random_shift_by_hand_and_zero_fill():
    image = np.arange(16, dtype=np.float32).reshape(1, 16)  # a 4 x 4 image
    shift = RandomShift(1, image_shape=(4, 4))

    class Fixed:                                            # an rng that draws dy = 1, dx = -1
        def integers(self, low, high, size):
            return np.array([[1], [-1]])

    state = dict(vars(shift))
    out = shift(image, Fixed()).reshape(4, 4)
    assert vars(shift) == state                             # a call keeps nothing
    # out[r, c] = image[r - 1, c + 1]: down one row, left one column, zeros shifted in
    expected = np.array([[0, 0, 0, 0], [1, 2, 3, 0], [5, 6, 7, 0], [9, 10, 11, 0]], np.float32)
    np.testing.assert_array_equal(out, expected)


def test_fit_applies_the_augmentation_to_every_batch_with_its_seed():
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    seen = []

    def augment(batch, rng):
        seen.append(batch.shape)
        return RandomShift(2)(batch, rng)

    histories = [fit(mlp([784, 8, 2], rng=0), softmax_cross_entropy, SGD(0.1), x, np.zeros(16, int),
                     epochs=2, batch_size=8, rng=5, augment=augment, progress=False).loss
                 for _ in range(2)]
    assert seen == [(8, 784)] * 8 and histories[0] == histories[1]
    with pytest.raises(ValueError, match="rows of 28 x 28"):
        RandomShift(2)(np.zeros((2, 10), np.float32), np.random.default_rng(0))
    with pytest.raises(ValueError, match="at most 2 pixels"):
        RandomShift(2).shift(np.zeros((1, 784), np.float32), np.array([3]), np.array([0]))


def test_a_nested_sequential_switches_modes_too():
    inner = Sequential([Dropout(0.5, rng=0)])
    outer = Sequential([mlp([3, 3], rng=0), inner])
    outer.eval()
    assert inner.layers[0].training is False
    outer.train()
    assert inner.layers[0].training is True
