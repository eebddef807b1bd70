"""Dropout's two modes and the augmentations (jitter, rotation)."""

import numpy as np
import pytest

from scratchnn import (SGD, Dropout, RandomRotation, RandomShift, Sequential, fit, mlp,
                       softmax_cross_entropy)


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
    # The loss is tried once on the first batch without dropout, then the six steps train with
    # it: predict between epochs restored training mode.
    assert seen[:7] == [False] + [True] * 6
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


def test_rotation_by_right_angles_and_whole_pixels_is_exact():
    rng = np.random.default_rng(0)
    images = rng.random((6, 28 * 28), dtype=np.float32)
    square = images.reshape(6, 28, 28)
    rotation = RandomRotation(10, max_shift=3)
    np.testing.assert_array_equal(rotation.rotate(images, 0), images)
    # Anticlockwise as displayed: 90 degrees is np.rot90, 180 is two of them.
    np.testing.assert_allclose(rotation.rotate(images, 90).reshape(6, 28, 28),
                               np.rot90(square, 1, axes=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(rotation.rotate(images, 180).reshape(6, 28, 28),
                               np.rot90(square, 2, axes=(1, 2)), atol=1e-6)
    # A whole-pixel move is RandomShift's, zeros moved in.
    dy, dx = np.array([1, -2, 0, 2, 1, -1]), np.array([0, 1, -1, 2, -2, 3])
    np.testing.assert_array_equal(rotation.rotate(images, 0, dy, dx),
                                  RandomShift(3).shift(images, dy, dx))


def test_rotation_interpolates_between_pixels_and_keeps_a_centred_disc():
    image = np.zeros((1, 16), np.float32)
    image[0, 5] = 1.0                                       # (1, 1) of a 4 x 4 image
    half = RandomRotation(image_shape=(4, 4)).rotate(image, 0, 0.0, 0.5).reshape(4, 4)
    assert half[1, 1] == half[1, 2] == 0.5 and half.sum() == 1.0     # half a pixel right
    full = np.ones((1, 16), np.float32)
    for dy, dx in ((4.0, 0.0), (-4.5, 0.0), (0.0, 7.0), (-0.5, -30.0)):   # moved off the image
        assert not RandomRotation(image_shape=(4, 4)).rotate(full, 0, dy, dx).any()
    yy, xx = np.mgrid[:28, :28] - 13.5
    disc = (np.hypot(yy, xx) < 8).astype(np.float32).reshape(1, -1)
    turned = RandomRotation(image_shape=(28, 28)).rotate(disc, 37.0)
    assert abs(turned.sum() - disc.sum()) < 0.02 * disc.sum()       # the same disc, turned
    # A bar turned and turned back is near where it started (blurred by interpolation), much
    # nearer than one turned twice the same way.
    bar = np.zeros((1, 28, 28), np.float32)
    bar[0, 13:15, 4:24] = 1.0
    bar = bar.reshape(1, -1)
    turn = RandomRotation()
    back, twice = (turn.rotate(turn.rotate(bar, 10.0), angle) for angle in (-10.0, 10.0))
    assert np.abs(back - bar).sum() < 0.5 * np.abs(twice - bar).sum()


def test_random_rotation_moves_by_any_fraction_of_a_pixel_within_its_limit():
    dot = np.zeros((2000, 28, 28), np.float32)
    dot[:, 13, 13] = 1.0
    moved = RandomRotation(0, max_shift=2.8)(dot.reshape(2000, -1), np.random.default_rng(0))
    moved = moved.reshape(2000, 28, 28)
    rows, cols = np.mgrid[:28, :28]
    mass = moved.sum(axis=(1, 2))
    np.testing.assert_allclose(mass, 1.0, rtol=1e-5)              # nothing lost near the centre
    dy = (moved * rows).sum(axis=(1, 2)) / mass - 13               # centre of mass, moved by
    dx = (moved * cols).sum(axis=(1, 2)) / mass - 13
    for d in (dy, dx):
        assert np.abs(d).max() <= 2.8 + 1e-4 and d.min() < -2.5 and d.max() > 2.5
        assert np.mean(np.abs(d - np.round(d)) > 0.05) > 0.5       # mostly between pixels
    # turned, then moved: the same as np.rot90 followed by a whole-pixel shift
    images = np.random.default_rng(1).random((4, 784), dtype=np.float32)
    dy, dx = np.array([1, -2, 0, 2]), np.array([0, 1, -1, 2])
    turned = np.rot90(images.reshape(4, 28, 28), 1, axes=(1, 2)).reshape(4, -1)
    np.testing.assert_allclose(RandomRotation().rotate(images, 90, dy, dx),
                               RandomShift(2).shift(np.ascontiguousarray(turned), dy, dx),
                               atol=1e-5)
    with pytest.raises(TypeError, match="float images"):
        RandomRotation().rotate(np.zeros((1, 784), np.uint8), 5)


def test_random_rotation_draws_from_its_rng_within_its_limits():
    images = np.zeros((400, 28, 28), np.float32)
    images[:, 13:15, 4:24] = 1.0                            # a horizontal bar through the centre
    flat = images.reshape(400, -1)
    rotation = RandomRotation(10)
    a, b = rotation(flat, np.random.default_rng(3)), rotation(flat, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)                     # the same seed, the same images
    assert a.dtype == np.float32 and a.shape == flat.shape
    assert not np.array_equal(a, rotation(flat, np.random.default_rng(4)))
    # The bar's slope, fitted to each image's lit pixels: within 10 degrees, both ways.
    slopes = []
    for image in a.reshape(400, 28, 28):
        rows, cols = np.nonzero(image > 0.5)
        slopes.append(np.degrees(np.arctan(np.polyfit(cols, rows, 1)[0])))
    slopes = -np.array(slopes)                              # rows grow downwards
    assert np.abs(slopes).max() < 11 and slopes.min() < -7 and slopes.max() > 7
    with pytest.raises(ValueError, match="rows of 28 x 28"):
        rotation(np.zeros((2, 10), np.float32), np.random.default_rng(0))


def test_a_nested_sequential_switches_modes_too():
    inner = Sequential([Dropout(0.5, rng=0)])
    outer = Sequential([mlp([3, 3], rng=0), inner])
    outer.eval()
    assert inner.layers[0].training is False
    outer.train()
    assert inner.layers[0].training is True
