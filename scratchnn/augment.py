"""Data augmentation for the training loop: ``fit(..., augment=RandomShift(2))``."""

import numpy as np

from .checks import check_positive


class RandomShift:
    """Translate each image of a batch by a random whole number of pixels, up to
    ``max_shift`` in each direction (the "jitter" of Hinton et al., 2012 and 2015).

    Called as ``shift(x_batch, rng)`` with rows of flattened ``image_shape`` images;
    returns a new batch, the same shape and dtype. Pixels shifted in from outside are
    0 (the background of MNIST scaled to [0, 1]). Vectorised: each image is read
    from a zero-padded copy of the batch at its own offset, with one gather for the
    whole batch, no Python loop over images.
    """

    def __init__(self, max_shift=2, image_shape=(28, 28)):
        self.max_shift = check_positive(max_shift, "max_shift", integer=True, allow_zero=True)
        if len(image_shape) != 2:
            raise ValueError(f"image_shape must be (height, width), got {image_shape}")
        self.image_shape = tuple(int(v) for v in image_shape)

    def __call__(self, x, rng):
        """Shift each row of ``x`` by offsets drawn from ``rng``. Nothing is kept: to show two
        networks the same shifted images, shift the batch once and give both the result."""
        self._check(x)
        dy, dx = rng.integers(-self.max_shift, self.max_shift + 1, size=(2, len(x)))
        return self.shift(x, dy, dx)

    def shift(self, x, dy, dx):
        """Rows of ``x`` moved down by ``dy`` and right by ``dx`` pixels (one offset per row)."""
        h, w = self.image_shape
        s = self.max_shift
        n = len(self._check(x))
        dy, dx = np.asarray(dy), np.asarray(dx)
        if dy.shape != (n,) or dx.shape != (n,) or max(np.abs(dy).max(initial=0),
                                                        np.abs(dx).max(initial=0)) > s:
            raise ValueError(f"shift needs one offset per row in each of dy, dx, each at most "
                             f"{s} pixels, got shapes {dy.shape}, {dx.shape}")
        padded = np.zeros((n, h + 2 * s, w + 2 * s), dtype=x.dtype)
        padded[:, s:s + h, s:s + w] = x.reshape(n, h, w)
        # out[i, r, c] = image_i[r - dy_i, c - dx_i] = padded[i, r - dy_i + s, c - dx_i + s]
        rows = (np.arange(h)[None, :] - dy[:, None] + s)[:, :, None]     # (n, h, 1)
        cols = (np.arange(w)[None, :] - dx[:, None] + s)[:, None, :]     # (n, 1, w)
        return padded[np.arange(n)[:, None, None], rows, cols].reshape(n, h * w)

    def _check(self, x):
        h, w = self.image_shape
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != h * w:
            raise ValueError(f"RandomShift expects rows of {h} x {w} = {h * w} pixels, got shape "
                             f"{np.shape(x)}")
        return x

    def __repr__(self):
        return f"RandomShift({self.max_shift}, image_shape={self.image_shape})"
