"""Datasets: Iris (shipped), two moons (generated) and MNIST / Fashion-MNIST (IDX files).

Nothing here downloads on import. ``load_mnist`` looks for files locally and
downloads only when asked to and allowed to.
"""

import csv
import gzip
import hashlib
import math
import os
import shutil
import struct
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np

from .checks import check_array, check_choice, check_fitted, check_positive
from .files import atomic_path

# --------------------------------------------------------------------------- Iris


def load_iris():
    """Fisher's Iris data (R. A. Fisher, 1936, "The use of multiple measurements in
    taxonomic problems"; UCI Machine Learning Repository, CC BY 4.0).

    Returns ``(x, y, class_names)``: x (150, 4) float64 in cm (sepal length, sepal
    width, petal length, petal width), y (150,) integer labels 0..2, and the names
    ('setosa', 'versicolor', 'virginica').
    """
    text = resources.files("scratchnn").joinpath("data/iris.csv").read_text()
    rows = list(csv.reader(text.splitlines()))
    header, rows = rows[0], rows[1:]
    if header[-1] != "species" or any(len(r) != 5 for r in rows):
        raise ValueError("the packaged iris.csv is malformed")
    class_names = tuple(dict.fromkeys(r[4] for r in rows))
    x = np.array([[float(v) for v in r[:4]] for r in rows])
    y = np.array([class_names.index(r[4]) for r in rows])
    return x, y, class_names


IRIS_FEATURES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")

# --------------------------------------------------------------------------- moons


def make_moons(n_samples=500, noise=0.2, rng=None):
    """Two interleaving half circles (the toy problem students know from scikit-learn).

    Class 0 is the upper half circle of radius 1 centred at (0, 0); class 1 the lower
    one centred at (1, 0.5). ``n_samples // 2`` points go to class 0, the rest to
    class 1; Gaussian noise of standard deviation ``noise`` is added to both
    coordinates, and the rows are shuffled. Returns x (n, 2) float64, y (n,) int.
    """
    n_samples = check_positive(n_samples, "n_samples", integer=True)
    if not 2 <= n_samples <= 10**9:
        raise ValueError(f"n_samples must be at least 2, one for each moon, and at most 10^9 (16 bytes each "
                         f"in memory), got {n_samples}")
    noise = check_positive(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(rng)
    n0 = n_samples // 2
    n1 = n_samples - n0
    a0 = np.linspace(0, np.pi, n0)
    a1 = np.linspace(0, np.pi, n1)
    upper = np.column_stack([np.cos(a0), np.sin(a0)])
    lower = np.column_stack([1 - np.cos(a1), 0.5 - np.sin(a1)])
    with np.errstate(over="ignore"):
        x = np.vstack([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    if not np.isfinite(x).all():
        raise ValueError(f"noise={noise:g} is too large: the points overflow float64; use a smaller noise")
    y = np.repeat([0, 1], [n0, n1])
    order = rng.permutation(n_samples)
    return x[order], y[order]


def train_test_split(x, y, test_size=0.3, rng=None):
    """Shuffle with ``rng`` and split: returns x_train, x_test, y_train, y_test.

    ``test_size``: a float strictly between 0 and 1 is the fraction of the samples
    that go to the test set (rounded); an int >= 1 is their number. Rows are only
    permuted, never computed on, so x and y may hold any values.
    """
    try:
        x, y = np.asarray(x), np.asarray(y)
    except ValueError as err:
        raise ValueError(f"x and y must be arrays with one row per sample ({err})") from None
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"x and y must have one row per sample, got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}; pass one label (row of y) per sample")
    if isinstance(test_size, (bool, np.bool_)) or not isinstance(test_size, (int, float, np.integer, np.floating)):
        raise TypeError(f"test_size must be a fraction (float) or a count (int), got {test_size!r}")
    if isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"test_size={test_size} as a float is the fraction of samples to test on and must "
                             "lie strictly between 0 and 1; for a number of samples pass an int (test_size=1 "
                             "is one sample)")
        n_test = int(round(test_size * len(x)))
    else:
        n_test = int(test_size)
    if not 0 < n_test < len(x):
        raise ValueError(f"test_size={test_size} leaves no training or no test samples out of {len(x)}; "
                         f"the test set needs 1 to {len(x) - 1} of them")
    order = np.random.default_rng(rng).permutation(len(x))
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]


def standardize(train, *others):
    """Scale columns to zero mean and unit variance with the *training* statistics,
    applied identically to the other arrays. Returns the scaled arrays.

    train (N, D) and each of others (M, D); float32 stays float32. A constant column
    (standard deviation 0) is only centred.
    """
    train = check_array(train, "train")
    others = [check_array(a, f"others[{i}]") for i, a in enumerate(others)]
    for i, a in enumerate(others):
        if a.shape[1] != train.shape[1]:
            raise ValueError(f"others[{i}] has {a.shape[1]} columns but train has {train.shape[1]}")
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = train.mean(axis=0), train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        scaled = [(a - mean) / std for a in (train, *others)]
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise ValueError(f"train is too large to standardise in {train.dtype} (values up to "
                         f"{float(np.abs(train).max()):.3g}); divide it by a constant first")
    for name, a in zip(["train", *(f"others[{i}]" for i in range(len(others)))], scaled):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} scaled by train's statistics overflows (train's smallest standard "
                             f"deviation is {float(std.min()):.3g}); bring the arrays to a common scale first")
    return scaled[0] if not others else tuple(scaled)

# --------------------------------------------------------------------------- MNIST

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# sha256 and size in bytes of the canonical files, gzip and uncompressed, as published by
# LeCun et al. (MNIST) and Zalando Research (Fashion-MNIST). Every file found on disk is
# checked against this table, so a folder holding the other dataset, a truncated
# download or a flipped byte is refused instead of loaded.
_KNOWN_FILES = {
    "mnist": {
        "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
        "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
        "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
        "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
        "train-images-idx3-ubyte": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47_040_016),
        "train-labels-idx1-ubyte": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60_008),
        "t10k-images-idx3-ubyte": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7_840_016),
        "t10k-labels-idx1-ubyte": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10_008),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
        "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
        "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4_422_102),
        "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148),
        "train-images-idx3-ubyte": ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47_040_016),
        "train-labels-idx1-ubyte": ("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60_008),
        "t10k-images-idx3-ubyte": ("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7_840_016),
        "t10k-labels-idx1-ubyte": ("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10_008),
    },
}
_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}

# Public mirrors, tried in order.
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

DATA_ENV = "SCRATCHNN_DATA"
VERIFY_ENV = "SCRATCHNN_VERIFY"     # "0" skips the checksums of files found on disk (your own files)


class DataNotFoundError(FileNotFoundError):
    """The dataset's files are neither on disk nor downloadable."""


class DataMismatchError(DataNotFoundError, ValueError):
    """A file has the dataset's name but not its checksum. A ValueError (its content is
    wrong) and a DataNotFoundError (the right data is still missing, so a caller that
    skips missing data skips it too, and says why)."""


def _class_names(dataset):
    return FASHION_MNIST_CLASSES if dataset == "fashion-mnist" else MNIST_CLASSES


def default_cache_dir():
    """``$XDG_CACHE_HOME/scratchnn`` or ``~/.cache/scratchnn``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scratchnn"


def _as_path(path, name):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got {type(path).__name__}")
    return Path(path)


def read_idx(path):
    """Read one IDX file (gzip or not): returns a writable uint8 array shaped as its header says.

    Images: magic 2051, then count, rows, cols (big-endian int32), then the pixels.
    Labels: magic 2049, then count, then one byte per label.
    """
    path = _as_path(path, "path")
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:   # gzip raises these on a corrupt or truncated file
        raise ValueError(f"{path}: cannot read ({err}); delete it so it can be fetched again") from None
    if len(data) < 8:
        raise ValueError(f"{path}: only {len(data)} bytes, too short for an IDX header")
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        if len(data) < 16:
            raise ValueError(f"{path}: truncated image header")
        rows, cols = struct.unpack(">II", data[8:16])
        shape, offset = (count, rows, cols), 16
    elif magic == 2049:
        shape, offset = (count,), 8
    else:
        raise ValueError(f"{path}: bad magic number {magic} (expected 2051 for images or 2049 for "
                         "labels); is this an IDX file?")
    expected = math.prod(shape)          # Python ints: a corrupt header cannot overflow
    body = len(data) - offset
    if body != expected:
        raise ValueError(f"{path}: header announces {expected:,} bytes of data {shape} but the file "
                         f"holds {body:,}; the file is truncated or corrupt")
    # A copy, so the caller owns a writable array (frombuffer over bytes is read-only).
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape).copy()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _find(folder, name):
    """The gzip file, or its uncompressed twin, in ``folder``; None if neither."""
    for candidate in (folder / name, folder / name[:-3]):
        if candidate.is_file():
            return candidate
    return None


def _what_it_is(path, digest, dataset):
    """What a file that failed its checksum looks like instead, in a few words."""
    for other, files in _KNOWN_FILES.items():
        for name, (known, _) in files.items():
            if digest == known:
                return f"its sha256 is {_TITLES[other]}'s {name}"
    size, expected = path.stat().st_size, _KNOWN_FILES[dataset][path.name][1]
    with open(path, "rb") as f:
        head = f.read(4)
    if path.suffix == ".gz" and head[:2] != b"\x1f\x8b":
        idx = " (an uncompressed IDX file?)" if head[:3] == b"\x00\x00\x08" else ""
        return f"it is not gzip{idx}: it starts with bytes {head.hex(' ')}"
    if size != expected:
        return f"it is {size:,} bytes, {_TITLES[dataset]}'s is {expected:,}"
    return f"it has the right size ({size:,} bytes) but different bytes: it is corrupted"


def _verify(path, dataset, fix, digest=None):
    """Refuse ``path`` unless its sha256 is the one ``dataset`` publishes for that file name."""
    digest = digest or sha256(path)
    if digest != _KNOWN_FILES[dataset][path.name][0]:
        raise DataMismatchError(
            f"{path}: checksum mismatch: this is not {_TITLES[dataset]}'s {path.name}; "
            f"{_what_it_is(path, digest, dataset)}. {fix} If these are your own files in MNIST's "
            f"format, load them with verify=False (or set {VERIFY_ENV}=0).")


def _verify_setting(verify):
    """``verify`` as given, or when None from $SCRATCHNN_VERIFY ('0', 'no', 'false': off; default on)."""
    if verify is None:
        return os.environ.get(VERIFY_ENV, "1").strip().lower() not in ("0", "no", "false", "off")
    if not isinstance(verify, (bool, np.bool_)):
        raise TypeError(f"verify must be True, False or None, got {verify!r}")
    return bool(verify)


def download(url, dest, expected_sha256):
    """Download ``url`` to ``dest`` through a temporary file in the same folder; the file
    is moved into place only after its checksum matched, so the cache never holds a
    half-written or wrong file."""
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        got = sha256(tmp)
        if got != expected_sha256:
            raise ValueError(f"{url}: checksum mismatch (sha256 {got}, expected {expected_sha256})")
    return Path(dest)


def locate_mnist(dataset="mnist", data_dir=None, download_ok=True, cache_dir=None, mirrors=None,
                 verify=None):
    """Paths of the four files of ``dataset`` ('mnist' or 'fashion-mnist').

    Search order (the README's): ``data_dir`` (its ``<dataset>/`` sub-folder, then the
    folder itself), then ``$SCRATCHNN_DATA/<dataset>/``, then the cache
    ``~/.cache/scratchnn/<dataset>/``; files missing everywhere are downloaded into the
    cache when ``download_ok``. A folder is used when it holds all four files (each as
    ``.gz`` or uncompressed).

    Every file found is checked against the dataset's published sha256 (gzip or
    uncompressed), once per call; one that differs raises :class:`DataMismatchError`
    saying what the file is instead. ``verify=False`` trusts the files on disk (for your
    own MNIST-format files); ``None`` reads ``$SCRATCHNN_VERIFY`` (``0`` turns it off).
    Downloads are always checked.
    """
    dataset = check_choice(dataset, "dataset", tuple(_KNOWN_FILES))
    verify = _verify_setting(verify)
    folders = []
    if data_dir is not None:
        data_dir = _as_path(data_dir, "data_dir")
        if not data_dir.is_dir():
            raise DataNotFoundError(f"data_dir {data_dir} is not a folder.\n" +
                                    _missing_message(dataset, [data_dir], None, []))
        folders += [data_dir / dataset, data_dir]
    if os.environ.get(DATA_ENV):
        folders.append(Path(os.environ[DATA_ENV]) / dataset)
    partial = []
    for folder in folders:
        found = {key: _find(folder, name) for key, name in _FILES.items()}
        if all(found.values()):
            if verify:
                for path in found.values():
                    _verify(path, dataset, f"Replace it with {_TITLES[dataset]}'s file.")
            return found
        if any(found.values()):
            partial.append(folder)
    cache = _as_path(cache_dir, "cache_dir") if cache_dir is not None else default_cache_dir() / dataset
    paths = {}
    for key, name in _FILES.items():
        path = cache / name
        if path.is_file():
            if verify:
                _verify(path, dataset, "Delete it to download it again.")
        elif not download_ok:
            raise DataNotFoundError(_missing_message(dataset, folders, cache, partial))
        else:
            errors = []
            for mirror in (mirrors or MIRRORS[dataset]):
                try:
                    download(mirror + name, path, _KNOWN_FILES[dataset][name][0])
                    break
                except (OSError, ValueError) as err:
                    errors.append(f"{mirror}: {err}")
            else:
                raise DataNotFoundError(_missing_message(dataset, folders, cache, partial) +
                                        "\nDownload failed:\n  " + "\n  ".join(errors))
        paths[key] = path
    return paths


def _missing_message(dataset, searched, cache, partial):
    where = ", ".join(str(p) for p in searched) or "(no folder given)"
    cached = f" and in the cache {cache}" if cache is not None else ""
    some = "".join(f"\n{p} holds only some of the four files." for p in partial)
    return (f"{dataset} not found. Looked in {where}{cached}.{some}\n"
            f"Put the four files ({', '.join(_FILES.values())}) in a folder and pass it with "
            f"--data-dir DIR, or set {DATA_ENV}=DIR with a '{dataset}/' sub-folder, "
            "or allow downloading on a machine with internet.")


def load_mnist(dataset="mnist", data_dir=None, download_ok=True, cache_dir=None, verify=None):
    """MNIST or Fashion-MNIST as writable uint8 arrays.

    Returns a dict: ``train_images`` (60000, 28, 28) uint8, ``train_labels`` (60000,),
    ``test_images`` (10000, 28, 28), ``test_labels`` (10000,), ``class_names``.
    See :func:`locate_mnist` for where the files are looked for and how they are
    checked (``verify``).
    """
    paths = locate_mnist(dataset, data_dir, download_ok, cache_dir, verify=verify)
    data = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        images, labels = data[f"{split}_images"], data[f"{split}_labels"]
        if images.ndim != 3:
            raise ValueError(f"{paths[split + '_images']}: holds labels, not images")
        if labels.ndim != 1:
            raise ValueError(f"{paths[split + '_labels']}: holds images, not labels")
        if len(images) != len(labels):
            raise ValueError(f"{split}: {len(images)} images but {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{paths[split + '_labels']}: label {labels.max()} out of range 0..9")
        data[f"{split}_labels"] = labels.astype(np.intp)
    data["class_names"] = _class_names(dataset)
    return data


class PixelScaler:
    """Scale pixels to float32 in [0, 1] with constants taken from the training set.

    ``fit`` records the training minimum and range; ``transform`` applies the same
    affine map (x - min) / range to any split and flattens images to rows, so test
    pixels are scaled exactly as training pixels were.
    """

    def fit(self, train_images):
        """Record min and range of train_images (N, ...) (images (N, 28, 28) or rows (N, 784))."""
        train = self._as_batch(train_images, "train_images")
        self.min_ = float(train.min())
        self.range_ = float(train.max()) - self.min_ or 1.0
        # 1 / range must fit float32, compared in float64 (casting first would overflow, loudly)
        if not (abs(self.min_) < 1e38 and 1.0 / self.range_ < float(np.finfo(np.float32).max)):
            raise ValueError(f"train_images spans [{self.min_:.3g}, {float(train.max()):.3g}], which float32 "
                             "cannot scale to [0, 1]; pass pixel values")
        self.n_features_ = math.prod(train.shape[1:])
        return self

    @staticmethod
    def _as_batch(images, name):
        """images (N, ...) as float32, checked: a batch of numbers, not empty, finite."""
        x = check_array(images, name, ndim=None, dtype=np.float32)
        if x.ndim < 2:
            raise ValueError(f"{name} must be a batch, (N, 28, 28) images or (N, 784) rows, "
                             f"got shape {x.shape}")
        return x

    def _checked(self, images):
        """images as float32 rows (N, D), a new array, refused unless they scale to finite numbers."""
        check_fitted(self, "min_")
        x = self._as_batch(images, "images")
        if math.prod(x.shape[1:]) != self.n_features_:
            raise ValueError(f"images have {math.prod(x.shape[1:])} pixels each, the scaler was fitted "
                             f"on {self.n_features_}; pass images of the training set's size")
        # (x - min) / range must stay below float32's largest number, 3.4e38.
        low, high = float(x.min()), float(x.max())
        if max(abs(low - self.min_), abs(high - self.min_)) / self.range_ > 1e38:
            raise ValueError(f"images span [{low:.3g}, {high:.3g}], far outside the training range "
                             f"[{self.min_:.3g}, {self.min_ + self.range_:.3g}]: scaled, they overflow float32")
        if isinstance(images, np.ndarray) and images.dtype == np.float32:
            x = x.copy()              # transform scales in place: never the caller's array
        return x.reshape(len(x), -1)

    def transform(self, images):
        x = self._checked(images)
        x -= np.float32(self.min_)
        x *= np.float32(1.0 / self.range_)
        return x

# --------------------------------------------------------------------------- held-out splits


def stratified_split(labels, n_holdout, rng=None):
    """Indices ``(keep, holdout)``: ``n_holdout`` rows held out, each class in proportion.

    A class holding a share s of the rows gives about s * n_holdout of them (largest
    remainders take the rounding), drawn at random with ``rng``; both index arrays are
    sorted. Choices made on the held-out rows (a width, a student, a setting) then see
    every class, and the test set stays untouched until the figure that is reported.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0 < int(n_holdout) < n:
        raise ValueError(f"n_holdout={n_holdout} must be between 1 and {n - 1} for {n} rows")
    classes, counts = np.unique(labels, return_counts=True)
    share = counts * int(n_holdout) / n
    take = np.floor(share).astype(int)
    take[np.argsort(take - share, kind="stable")[:int(n_holdout) - take.sum()]] += 1
    rng = np.random.default_rng(rng)
    holdout = np.concatenate([rng.choice(np.flatnonzero(labels == c), k, replace=False)
                              for c, k in zip(classes, take)])
    holdout.sort()
    return np.setdiff1d(np.arange(n), holdout), holdout


def mnist_splits(data, n_validation, rng=None, n_train=None, n_test=None):
    """Train, validation and test arrays of MNIST as the demos use them.

    data          the dict of :func:`load_mnist`.
    n_validation  training images held out (stratified, :func:`stratified_split`) for
                  choices such as the best student; the test images are never used for one.
    n_train, n_test  optional random subsets taken first (quick runs).

    Pixels become float32 rows of 784 in [0, 1], scaled with constants from the training
    part only (:class:`PixelScaler`), the same map for all three splits. Returns a dict
    with x_train, y_train, x_val, y_val, x_test, y_test and the indices ``train_index``
    and ``val_index`` into ``data["train_images"]``.
    """
    rng = np.random.default_rng(rng)
    images, labels = data["train_images"], data["train_labels"]
    pool = np.arange(len(images))
    if n_train is not None and n_train < len(pool):
        pool = np.sort(rng.choice(pool, n_train, replace=False))
    keep, held = stratified_split(labels[pool], n_validation, rng)
    train_index, val_index = pool[keep], pool[held]
    test = np.arange(len(data["test_images"]))
    if n_test is not None and n_test < len(test):
        test = np.sort(rng.choice(test, n_test, replace=False))
    scaler = PixelScaler().fit(images[train_index])
    return {"x_train": scaler.transform(images[train_index]), "y_train": labels[train_index],
            "x_val": scaler.transform(images[val_index]), "y_val": labels[val_index],
            "x_test": scaler.transform(data["test_images"][test]),
            "y_test": data["test_labels"][test],
            "train_index": train_index, "val_index": val_index}
