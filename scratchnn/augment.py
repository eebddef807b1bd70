"""Data augmentation for the training loop: ``fit(..., augment=RandomShift(2))``.

Each augmentation is called as ``augment(x_batch, rng)`` on rows of flattened images and
returns a new batch of the same shape and dtype; every draw comes from ``rng``.
"""

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
        return _check_images(x, self.image_shape, "RandomShift")

    def __repr__(self):
        return f"RandomShift({self.max_shift}, image_shape={self.image_shape})"


class RandomRotation:
    """Rotate each image of a batch about its centre by a random angle of up to ``max_degrees``
    either way, and (with ``max_shift``) move it by up to that many pixels in each direction,
    any fraction of a pixel: the augmentation of DEC-DA (Guo et al., 2018), Keras's
    ``rotation_range=10, width_shift_range=0.1, height_shift_range=0.1`` on 28 x 28 images.

    Each output pixel reads the point of the input it came from,

        source = centre + R(-angle) (pixel - centre - shift),

    interpolated bilinearly between its four neighbours; points outside the image read 0
    (MNIST's background). Vectorised: four gathers for the whole batch, no loop over images.
    """

    def __init__(self, max_degrees=10.0, max_shift=0.0, image_shape=(28, 28)):
        self.max_degrees = check_positive(max_degrees, "max_degrees", allow_zero=True)
        self.max_shift = check_positive(max_shift, "max_shift", allow_zero=True)
        if len(image_shape) != 2:
            raise ValueError(f"image_shape must be (height, width), got {image_shape}")
        self.image_shape = tuple(int(v) for v in image_shape)

    def __call__(self, x, rng):
        """Rotate and shift each row of ``x`` by an angle and offsets drawn from ``rng``."""
        _check_images(x, self.image_shape, "RandomRotation")
        degrees = rng.uniform(-self.max_degrees, self.max_degrees, size=len(x))
        dy, dx = rng.uniform(-self.max_shift, self.max_shift, size=(2, len(x)))
        return self.rotate(x, degrees, dy, dx)

    def rotate(self, x, degrees, dy=0.0, dx=0.0):
        """Rows of ``x`` turned anticlockwise (as displayed) by ``degrees``, then moved down by
        ``dy`` and right by ``dx`` pixels; each a scalar or one value per row."""
        h, w = self.image_shape
        n = len(_check_images(x, self.image_shape, "RandomRotation"))
        if x.dtype.kind != "f":         # interpolated values need a float image
            raise TypeError(f"RandomRotation interpolates between pixels: give float images "
                            f"(e.g. x.astype(np.float32) / 255), got {x.dtype}")
        if not (np.isfinite(degrees).all() and np.isfinite(dy).all() and np.isfinite(dx).all()):
            raise ValueError("RandomRotation: every angle and shift must be finite")
        angle = np.broadcast_to(np.radians(degrees), (n,))[:, None, None]
        dy = np.broadcast_to(dy, (n,))[:, None, None]
        dx = np.broadcast_to(dx, (n,))[:, None, None]
        # Output pixel (r, c), relative to the centre and to the shift (in float32: these
        # arrays are the size of the batch, and a position within 28 pixels needs no more):
        r = (np.arange(h)[None, :, None] - (h - 1) / 2 - dy).astype(np.float32)   # (n, h, 1)
        c = (np.arange(w)[None, None, :] - (w - 1) / 2 - dx).astype(np.float32)   # (n, 1, w)
        cos, sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
        # Rows grow downwards: turning the image anticlockwise on screen by the angle, the pixel
        # (r, c) comes from (cos r + sin c, -sin r + cos c) (at 90 degrees this is np.rot90).
        src_r = cos * r + sin * c + (h - 1) / 2                              # (n, h, w)
        src_c = cos * c - sin * r + (w - 1) / 2
        return _bilinear(x.reshape(n, h, w), src_r, src_c).reshape(n, h * w)

    def __repr__(self):
        return (f"RandomRotation({self.max_degrees:g}, max_shift={self.max_shift:g}, "
                f"image_shape={self.image_shape})")


def _bilinear(images, rows, cols):
    """images (n, h, w) read at the real-valued points (rows, cols), each (n, h, w); 0 outside.

    value = (1-fr)(1-fc) I[r0, c0] + (1-fr) fc I[r0, c0+1] + fr (1-fc) I[r0+1, c0] + fr fc I[r0+1, c0+1]
    with r0 = floor(row), fr = row - r0 (the same for columns).
    """
    n, h, w = images.shape
    # A border of 0 all round (two rows and columns after the image, for the +1 neighbours);
    # points beyond it are moved onto it, where everything reads 0.
    padded = np.zeros((n, h + 3, w + 3), dtype=images.dtype)
    padded[:, 1:h + 1, 1:w + 1] = images
    rows, cols = np.clip(rows, -1, h), np.clip(cols, -1, w)
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = (rows - r0).astype(images.dtype), (cols - c0).astype(images.dtype)
    # flat index of (r0, c0) in the padded batch; its neighbours are +1, +(w+3), +(w+3)+1
    top = ((np.arange(n)[:, None, None] * (h + 3) + r0.astype(np.intp) + 1) * (w + 3)
           + c0.astype(np.intp) + 1)
    flat = padded.reshape(-1)
    upper = (1 - fc) * flat[top] + fc * flat[top + 1]
    lower = (1 - fc) * flat[top + w + 3] + fc * flat[top + w + 4]
    return (1 - fr) * upper + fr * lower


def _check_images(x, image_shape, who):
    h, w = image_shape
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != h * w:
        raise ValueError(f"{who} expects rows of {h} x {w} = {h * w} pixels, got shape "
                         f"{np.shape(x)}")
    return x
