"""Datasets: Iris (shipped), two moons (generated) and MNIST / Fashion-MNIST (IDX files).

Nothing here downloads on import. ``load_mnist`` looks for files locally and
downloads only when asked to and allowed to.
"""

import csv
import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np

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
    if n_samples < 2:
        raise ValueError("make_moons needs at least 2 samples")
    if noise < 0:
        raise ValueError("noise must be non-negative")
    rng = np.random.default_rng(rng)
    n0 = n_samples // 2
    n1 = n_samples - n0
    a0 = np.linspace(0, np.pi, n0)
    a1 = np.linspace(0, np.pi, n1)
    upper = np.column_stack([np.cos(a0), np.sin(a0)])
    lower = np.column_stack([1 - np.cos(a1), 0.5 - np.sin(a1)])
    x = np.vstack([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = np.repeat([0, 1], [n0, n1])
    order = rng.permutation(n_samples)
    return x[order], y[order]


def train_test_split(x, y, test_size=0.3, rng=None):
    """Shuffle with ``rng`` and split: returns x_train, x_test, y_train, y_test."""
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    n_test = int(round(test_size * len(x))) if test_size < 1 else int(test_size)
    if not 0 < n_test < len(x):
        raise ValueError(f"test_size={test_size} leaves no training or no test samples")
    order = np.random.default_rng(rng).permutation(len(x))
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]


def standardize(train, *others):
    """Scale columns to zero mean and unit variance with the *training* statistics,
    applied identically to the other arrays. Returns the scaled arrays."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = [(a - mean) / std for a in (train, *others)]
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

# sha256 of the canonical gzip files.
_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

# Public mirrors, tried in order.
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

DATA_ENV = "SCRATCHNN_DATA"


class DataNotFoundError(FileNotFoundError):
    """The dataset's files are neither on disk nor downloadable."""


def _class_names(dataset):
    return FASHION_MNIST_CLASSES if dataset == "fashion-mnist" else MNIST_CLASSES


def default_cache_dir():
    """``$XDG_CACHE_HOME/scratchnn`` or ``~/.cache/scratchnn``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scratchnn"


def read_idx(path):
    """Read one IDX file (gzip or not): returns a uint8 array shaped as its header says.

    Images: magic 2051, then count, rows, cols (big-endian int32), then the pixels.
    Labels: magic 2049, then count, then one byte per label.
    """
    path = Path(path)
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
    expected = int(np.prod(shape))
    body = len(data) - offset
    if body != expected:
        raise ValueError(f"{path}: header announces {expected:,} bytes of data {shape} but the file "
                         f"holds {body:,}; the file is truncated or corrupt")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


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


def download(url, dest, expected_sha256):
    """Download ``url`` to ``dest`` through a temporary file in the same folder; the file
    is moved into place only after its checksum matched, so the cache never holds a
    half-written or wrong file."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        got = sha256(tmp)
        if got != expected_sha256:
            raise ValueError(f"{url}: checksum mismatch (sha256 {got}, expected {expected_sha256})")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dest


def locate_mnist(dataset="mnist", data_dir=None, download_ok=True, cache_dir=None, mirrors=None):
    """Paths of the four files of ``dataset`` ('mnist' or 'fashion-mnist').

    Search order: ``data_dir`` (the files themselves, or a ``<dataset>/`` sub-folder),
    else ``$SCRATCHNN_DATA/<dataset>/``, else the cache ``~/.cache/scratchnn/<dataset>/``.
    Missing files are downloaded into the cache when ``download_ok``; files found in
    the cache are checked against their sha256.
    """
    if dataset not in _SHA256:
        raise ValueError(f"unknown dataset {dataset!r}; use 'mnist' or 'fashion-mnist'")
    candidates = []
    if data_dir is not None:
        candidates += [Path(data_dir), Path(data_dir) / dataset]
    elif os.environ.get(DATA_ENV):
        candidates += [Path(os.environ[DATA_ENV]) / dataset, Path(os.environ[DATA_ENV])]
    for folder in candidates:
        found = {key: _find(folder, name) for key, name in _FILES.items()}
        if all(found.values()):
            return found
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir() / dataset
    paths = {}
    for key, name in _FILES.items():
        path = cache / name
        if path.is_file() and sha256(path) != _SHA256[dataset][name]:
            raise ValueError(f"{path}: checksum mismatch; delete the file to download it again")
        if not path.is_file():
            if not download_ok:
                raise DataNotFoundError(_missing_message(dataset, candidates, cache))
            errors = []
            for mirror in (mirrors or MIRRORS[dataset]):
                try:
                    download(mirror + name, path, _SHA256[dataset][name])
                    break
                except (OSError, ValueError) as err:
                    errors.append(f"{mirror}: {err}")
            else:
                raise DataNotFoundError(_missing_message(dataset, candidates, cache) +
                                        "\nDownload failed:\n  " + "\n  ".join(errors))
        paths[key] = path
    return paths


def _missing_message(dataset, searched, cache):
    where = ", ".join(str(p) for p in searched) or "(no folder given)"
    return (f"{dataset} not found. Looked in {where} and in the cache {cache}.\n"
            f"Put the four files ({', '.join(_FILES.values())}) in a folder and pass it with "
            f"--data-dir DIR, or set {DATA_ENV}=DIR with a '{dataset}/' sub-folder, "
            "or allow downloading on a machine with internet.")


def load_mnist(dataset="mnist", data_dir=None, download_ok=True, cache_dir=None):
    """MNIST or Fashion-MNIST as uint8 arrays.

    Returns a dict: ``train_images`` (60000, 28, 28) uint8, ``train_labels`` (60000,),
    ``test_images`` (10000, 28, 28), ``test_labels`` (10000,), ``class_names``.
    See :func:`locate_mnist` for where the files are looked for.
    """
    paths = locate_mnist(dataset, data_dir, download_ok, cache_dir)
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
        self.min_ = float(train_images.min())
        self.range_ = float(train_images.max()) - self.min_ or 1.0
        return self

    def transform(self, images):
        x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
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
