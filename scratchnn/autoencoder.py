"""The deep autoencoder for clustering (after "DAC: Deep Autoencoder-based Clustering",
Si Lu and Ruisi Li) and its pixel-importance weights.

The autoencoder is an ordinary :class:`~scratchnn.layers.Sequential` trained by
the same loop as every other network; only its layout and the weights of its
loss are specific to the method.
"""

import numpy as np

from .checks import check_array, check_labels, check_positive
from .layers import Dense, Dropout, Identity, ReLU, Sequential, Sigmoid, Tanh


class Autoencoder(Sequential):
    """A Sequential whose first ``n_encoder_layers`` layers map an input to its code."""

    def __init__(self, layers, n_encoder_layers):
        super().__init__(layers)
        n = check_positive(n_encoder_layers, "n_encoder_layers", integer=True)
        if n >= len(self.layers):
            raise ValueError(f"n_encoder_layers={n} leaves no decoder: the model has {len(self.layers)} "
                             f"layers, so use 1..{len(self.layers) - 1}")
        self.n_encoder_layers = n

    @property
    def code_width(self):
        return self.encoder().output_width(self.n_in)

    def encoder(self):
        """The encoder half as a Sequential of the same layer objects (same parameters)."""
        return Sequential(self.layers[:self.n_encoder_layers])

    def decoder(self):
        """The decoder half as a Sequential of the same layer objects (same parameters)."""
        return Sequential(self.layers[self.n_encoder_layers:])

    def encode(self, x, batch_size=4096):
        """The codes of ``x``: (N, n_in) -> (N, code width), in batches."""
        batch_size = check_positive(batch_size, "batch_size", integer=True)
        x = check_array(x, "x", ndim=None, dtype=self.dtype)    # names a value too large for float32
        return self.encoder().predict(x, batch_size=batch_size)


def build_autoencoder(sizes=(784, 512, 128, 32, 10), rng=None, dtype=np.float32):
    """The course's autoencoder: encoder 784-512-128-32-10, decoder the mirror image.

    Encoder: the first two hidden layers apply ReLU then Tanh (as the course did),
    the last hidden layer Tanh, and the code is linear. Decoder: Tanh after each
    hidden layer and a Sigmoid output, so reconstructions lie in (0, 1) like pixels.
    """
    rng = np.random.default_rng(rng)
    sizes = list(sizes)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        if last:
            layers += [Dense(a, b, rng=rng, gain=1.0, dtype=dtype), Identity()]
        elif i < len(sizes) - 3:
            layers += [Dense(a, b, rng=rng, gain=2.0, dtype=dtype), ReLU(), Tanh()]
        else:
            layers += [Dense(a, b, rng=rng, gain=1.0, dtype=dtype), Tanh()]
    n_encoder_layers = len(layers)
    back = sizes[::-1]
    for i, (a, b) in enumerate(zip(back[:-1], back[1:])):
        act = Sigmoid() if i == len(back) - 2 else Tanh()
        layers += [Dense(a, b, rng=rng, gain=1.0, dtype=dtype), act]
    return Autoencoder(layers, n_encoder_layers)


def build_relu_autoencoder(sizes=(784, 500, 500, 2000, 10), input_dropout=0.0, gain=None,
                           rng=None, dtype=np.float32):
    """The autoencoder of DEC (Xie et al., 2016): encoder 784-500-500-2000-10, decoder the
    mirror image, ReLU after every hidden layer, a linear code and a linear output.

    A linear output lets the plain MSE loss pull reconstructions to any pixel value
    without a Sigmoid's flat tails; a linear code leaves k-means an unbounded space.
    ``input_dropout > 0`` makes it a denoising autoencoder, as DEC pretrained it: while
    training, a :class:`Dropout` before the first layer blanks that share of the pixels
    (and, being inverted dropout, scales the others by 1 / (1 - p)), while the loss still
    compares with the whole image: the codes must describe the digit, not single pixels.
    ``encode`` and ``predict`` see whole images.

    ``gain`` sets the initial weights' variance, ``gain / n_in`` (see :class:`Dense`). None is
    He initialisation before each ReLU and LeCun before the linear code and output. A number
    applies to every layer: ``gain = 1/3`` is the variance of PyTorch's default ``nn.Linear``
    start, uniform on +-1/sqrt(n_in). The clustering study's tuned preset uses it; its
    ablation (``--preset ablation``) measures k-means on the codes with and without it.
    """
    rng = np.random.default_rng(rng)
    if gain is not None:
        gain = check_positive(gain, "gain")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and a code width, got {sizes}")
    noise = []
    if input_dropout:
        # The masks draw from their own stream: the initial weights are those without noise.
        noise = [Dropout(input_dropout, rng=rng.bit_generator.seed_seq.spawn(1)[0])]

    def half(widths):
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            hidden = i < len(widths) - 2
            # By default, He initialisation before a ReLU keeps the activations' scale
            # through depth.
            start = gain if gain is not None else 2.0 if hidden else 1.0
            layers += [Dense(a, b, rng=rng, gain=start, dtype=dtype),
                       ReLU() if hidden else Identity()]
        return layers

    encoder = noise + half(sizes)
    return Autoencoder(encoder + half(sizes[::-1]), len(encoder))


def pixel_importance_weights(x, labels, chunk_rows=None, max_bytes=64 * 2**20):
    """Weight of each feature k by how well it separates the classes of a labelled subset.

        w_k = mean_{same-class pairs p != q} exp(-(x_pk - x_qk)^2)
            * mean_{different-class pairs} (1 - exp(-(x_pk - x_qk)^2))

    The first factor is high when same-class samples agree on pixel k, the
    second when samples of different classes disagree on it. A pixel constant
    over the subset gets 0 (its second factor is 0).

    x (T, D) in [0, 1], labels (T,) -> w (D,). All T^2 pairs are summed in row
    chunks of at most ``max_bytes`` of float32 temporaries, so memory stays
    bounded for any T.
    """
    x = check_array(x, "x", dtype=np.float32)
    low, high = float(x.min()), float(x.max())
    if low < -1e-6 or high > 1 + 1e-6:      # exp(-(x_p - x_q)^2) is scaled for differences of at most 1
        raise ValueError(f"x must hold pixels scaled to [0, 1], got values in [{low:.3g}, {high:.3g}]; "
                         "scale them first (scratchnn.datasets.PixelScaler)")
    labels = check_labels(labels, "labels", len(x))
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"labels: pixel weights need at least two classes in the labelled subset (got only "
                         f"class {classes[0]} in {len(x)} images); sample more images")
    t, d = x.shape
    same_pairs = float(np.sum(counts * (counts - 1)))   # ordered pairs p != q of one class
    diff_pairs = float(t * (t - 1)) - same_pairs
    if same_pairs == 0:
        raise ValueError(f"labels: pixel weights need at least two images of some class, got {t} images "
                         f"of {t} different classes; sample more images")
    max_bytes = check_positive(max_bytes, "max_bytes")
    if chunk_rows is None:
        chunk_rows = max(1, int(max_bytes // (4 * t * d)))
    chunk_rows = check_positive(chunk_rows, "chunk_rows", integer=True)
    sum_all = np.zeros(d)
    sum_same = np.zeros(d)
    for start in range(0, t, chunk_rows):
        rows = slice(start, start + chunk_rows)
        sim = x[rows, None, :] - x[None, :, :]          # (c, T, D)
        np.square(sim, out=sim)
        np.negative(sim, out=sim)
        np.exp(sim, out=sim)                             # exp(-(x_pk - x_qk)^2)
        same = (labels[rows, None] == labels[None, :]).astype(np.float32)   # (c, T)
        sum_all += sim.sum(axis=(0, 1), dtype=np.float64)
        sum_same += np.einsum("ct,ctd->d", same, sim, dtype=np.float64)
    # Remove the T self-pairs p == q, each contributing exp(0) = 1 to both sums.
    sum_all -= t
    sum_same -= t
    same_mean = sum_same / same_pairs
    diff_mean = 1.0 - (sum_all - sum_same) / diff_pairs
    return np.clip(same_mean * diff_mean, 0.0, None).astype(np.float32)
