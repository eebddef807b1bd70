"""The MNIST reader and finder, on tiny IDX files written here (no network)."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from scratchnn import datasets
from scratchnn.checks import NotFittedError
from scratchnn.datasets import (DataMismatchError, DataNotFoundError, PixelScaler, download, load_mnist,
                                locate_mnist, make_moons, read_idx, standardize, train_test_split)
from tests.mnist_files import idx_bytes, write_mnist_folder


def known_as(monkeypatch, dataset, folder):
    """Make the files in ``folder`` the published ones of ``dataset`` (sha256 and size)."""
    files = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size) for p in folder.iterdir()}
    monkeypatch.setitem(datasets._KNOWN_FILES, dataset, {**datasets._KNOWN_FILES[dataset], **files})


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(tmp_path, compress):
    arrays = write_mnist_folder(tmp_path / "mnist", compress=compress)
    data = load_mnist("mnist", data_dir=tmp_path, download_ok=False, verify=False)   # our own tiny files
    np.testing.assert_array_equal(data["train_images"], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data["test_labels"], arrays["t10k-labels-idx1-ubyte"])
    assert data["train_images"].dtype == np.uint8 and data["train_images"].shape == (30, 28, 28)
    assert data["class_names"][3] == "3"
    data["train_images"][0, 0, 0] = 7                    # writable: the arrays are the caller's
    data["test_labels"][:] = 0


def test_environment_variable_and_fashion_names(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path / "fashion-mnist")
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path))
    monkeypatch.setenv("SCRATCHNN_VERIFY", "0")          # the documented switch for one's own files
    data = load_mnist("fashion-mnist", download_ok=False)
    assert data["class_names"][9] == "Ankle boot"
    assert len(data["train_labels"]) == 30


def test_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(struct.pack(">II", 1234, 0))
    with pytest.raises(ValueError, match=r"x\.idx: bad magic number 1234"):
        read_idx(path)


def test_truncated_data_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    data = idx_bytes(np.zeros((3, 28, 28)))
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: header announces 2,352 bytes"):
        read_idx(path)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(5)))[:-6])
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz: cannot read"):
        read_idx(path)


def test_images_and_labels_must_agree(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(29))))
    with pytest.raises(ValueError, match="30 images but 29 labels"):
        load_mnist(data_dir=tmp_path, download_ok=False, verify=False)


def test_missing_files_offline_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.delenv("SCRATCHNN_DATA", raising=False)
    with pytest.raises(DataNotFoundError, match="--data-dir.*SCRATCHNN_DATA"):
        locate_mnist("mnist", download_ok=False, cache_dir=tmp_path / "cache")


def test_download_checks_the_checksum_and_leaves_no_partial_file(tmp_path):
    source = tmp_path / "remote" / "file.gz"
    source.parent.mkdir()
    source.write_bytes(b"some bytes")
    good = hashlib.sha256(b"some bytes").hexdigest()
    dest = tmp_path / "cache" / "file.gz"
    with pytest.raises(ValueError, match="checksum mismatch"):
        download(source.as_uri(), dest, "0" * 64)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    download(source.as_uri(), dest, good)
    assert dest.read_bytes() == b"some bytes"


def test_download_into_the_cache_through_a_mirror(tmp_path, monkeypatch):
    arrays = write_mnist_folder(tmp_path / "mirror")
    known_as(monkeypatch, "mnist", tmp_path / "mirror")
    monkeypatch.delenv("SCRATCHNN_DATA", raising=False)
    mirror = (tmp_path / "mirror").as_uri() + "/"
    paths = locate_mnist("mnist", cache_dir=tmp_path / "cache", mirrors=[mirror])
    assert all(p.parent == tmp_path / "cache" for p in paths.values())
    np.testing.assert_array_equal(read_idx(paths["train_labels"]), arrays["train-labels-idx1-ubyte"])
    # A corrupted cached file is detected on the next look-up.
    paths["test_labels"].write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: checksum mismatch.*not gzip.*"
                                         r"Delete it to download it again"):
        locate_mnist("mnist", cache_dir=tmp_path / "cache", mirrors=[mirror])


def test_pixel_scaler_uses_training_constants_for_both_splits():
    train = np.array([[[0, 255]]], dtype=np.uint8)
    test = np.array([[[51, 255]]], dtype=np.uint8)
    scaler = PixelScaler().fit(train)
    out = scaler.transform(test)
    assert out.dtype == np.float32 and out.shape == (1, 2)
    np.testing.assert_allclose(out, [[0.2, 1.0]])


def test_a_tiny_file_is_refused_when_checked_and_the_message_says_why(tmp_path):
    write_mnist_folder(tmp_path / "mnist")
    size = (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").stat().st_size
    with pytest.raises(DataMismatchError, match=rf"train-images-idx3-ubyte.gz: checksum mismatch: this is not "
                                                rf"MNIST's train-images-idx3-ubyte.gz; it is {size:,} bytes, "
                                                rf"MNIST's is 9,912,422\..*verify=False.*SCRATCHNN_VERIFY=0"):
        load_mnist("mnist", data_dir=tmp_path, download_ok=False)
    with pytest.raises(TypeError, match="verify must be True, False or None"):
        load_mnist("mnist", data_dir=tmp_path, download_ok=False, verify="no")


def test_a_fashion_folder_holding_mnist_is_refused(tmp_path, monkeypatch):
    # The case: MNIST files under Fashion's name loaded as Fashion-MNIST.
    write_mnist_folder(tmp_path / "fashion-mnist")
    known_as(monkeypatch, "mnist", tmp_path / "fashion-mnist")     # these tiny files "are" MNIST
    with pytest.raises(DataMismatchError, match="this is not Fashion-MNIST's train-images-idx3-ubyte.gz; "
                                                "its sha256 is MNIST's train-images-idx3-ubyte.gz"):
        load_mnist("fashion-mnist", data_dir=tmp_path, download_ok=False)
    assert load_mnist("mnist", data_dir=tmp_path / "fashion-mnist", download_ok=False)["class_names"][0] == "0"


def test_not_gzip_and_corrupted_bytes_are_told_apart(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    write_mnist_folder(folder)
    known_as(monkeypatch, "mnist", folder)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    good = labels.read_bytes()
    labels.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))        # one flipped bit
    with pytest.raises(DataMismatchError, match=r"right size \(\d+ bytes\) but different bytes: it is corrupted"):
        locate_mnist("mnist", data_dir=folder, download_ok=False)
    labels.write_bytes(idx_bytes(np.zeros(10)))                  # uncompressed, under the .gz name
    with pytest.raises(DataMismatchError, match=r"not gzip \(an uncompressed IDX file\?\): it starts with "
                                                r"bytes 00 00 08 01"):
        locate_mnist("mnist", data_dir=folder, download_ok=False)


def test_uncompressed_files_are_checked_against_their_own_sha256(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    arrays = write_mnist_folder(folder, compress=False)
    with pytest.raises(DataMismatchError, match="not MNIST's train-images-idx3-ubyte;"):
        load_mnist("mnist", data_dir=folder, download_ok=False)
    known_as(monkeypatch, "mnist", folder)
    data = load_mnist("mnist", data_dir=folder, download_ok=False)
    np.testing.assert_array_equal(data["train_labels"], arrays["train-labels-idx1-ubyte"])


def test_each_file_is_hashed_once_per_load(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path)
    known_as(monkeypatch, "mnist", tmp_path)
    hashed = []
    real = datasets.sha256
    monkeypatch.setattr(datasets, "sha256", lambda path: hashed.append(path) or real(path))
    load_mnist("mnist", data_dir=tmp_path, download_ok=False)
    assert sorted(p.name for p in hashed) == sorted(datasets._FILES.values())


def test_search_order_is_the_readmes(tmp_path, monkeypatch):
    # data_dir (its <dataset>/ sub-folder, then itself), then $SCRATCHNN_DATA/<dataset>/, then the cache.
    monkeypatch.setenv("SCRATCHNN_VERIFY", "0")
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path / "env"))
    write_mnist_folder(tmp_path / "env" / "mnist", n_train=20)
    (tmp_path / "given").mkdir()
    # data_dir given but empty: $SCRATCHNN_DATA is still searched (it was skipped before).
    assert len(load_mnist(data_dir=tmp_path / "given", download_ok=False)["train_labels"]) == 20
    write_mnist_folder(tmp_path / "given", n_train=30)
    assert len(load_mnist(data_dir=tmp_path / "given", download_ok=False)["train_labels"]) == 30
    write_mnist_folder(tmp_path / "given" / "mnist", n_train=40)
    assert len(load_mnist(data_dir=tmp_path / "given", download_ok=False)["train_labels"]) == 40
    monkeypatch.delenv("SCRATCHNN_DATA")
    with pytest.raises(DataNotFoundError, match="data_dir .*typo is not a folder"):
        load_mnist(data_dir=tmp_path / "typo", download_ok=False)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataNotFoundError, match="half holds only some of the four files"):
        locate_mnist(data_dir=tmp_path / "half", download_ok=False, cache_dir=tmp_path / "cache")


def test_read_idx_arguments_and_writable_result(tmp_path):
    path = tmp_path / "l.idx"
    path.write_bytes(idx_bytes(np.arange(5)))
    labels = read_idx(path)
    labels[0] = 9
    assert labels.tolist() == [9, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="path must be a path"):
        read_idx(3)
    with pytest.raises(DataNotFoundError, match="no such file"):
        read_idx(tmp_path / "missing.idx")
    path.write_bytes(struct.pack(">IIII", 2051, 2**31, 2**31, 2**31))      # absurd header
    with pytest.raises(ValueError, match="header announces"):
        read_idx(path)


def test_pixel_scaler_checks_and_never_changes_its_input():
    with pytest.raises(NotFittedError):
        PixelScaler().transform(np.zeros((1, 4), np.uint8))
    train = np.array([[0.0, 0.5], [1.0, 2.0]], dtype=np.float32)
    scaler = PixelScaler().fit(train)
    before = train.copy()
    np.testing.assert_allclose(scaler.transform(train), [[0, 0.25], [0.5, 1.0]])
    np.testing.assert_array_equal(train, before)            # float32 input was scaled in place before
    with pytest.raises(ValueError, match="images have 3 pixels each, the scaler was fitted on 2"):
        scaler.transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="images contains NaN"):
        scaler.transform(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="train_images must be a batch"):
        PixelScaler().fit(np.arange(5))


def test_train_test_split_sizes_fraction_or_count():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    assert len(train_test_split(x, y, 1, rng=0)[1]) == 1          # an int is a count
    assert len(train_test_split(x, y, 0.5, rng=0)[1]) == 5        # a float a fraction
    with pytest.raises(ValueError, match=r"test_size=1.0 as a float is the fraction .* strictly between 0 and 1"):
        train_test_split(x, y, 1.0)                               # was: one sample
    with pytest.raises(ValueError, match="test_size=10 leaves no training"):
        train_test_split(x, y, 10)
    with pytest.raises(TypeError, match="test_size"):
        train_test_split(x, y, True)
    with pytest.raises(ValueError, match="x has 10 rows but y has 9"):
        train_test_split(x, y[:9])


def test_standardize_and_make_moons_check_their_arguments():
    train = np.array([[1.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    scaled, other = standardize(train, np.array([[2.0, 6.0]], dtype=np.float32))
    assert scaled.dtype == np.float32 and scaled.tolist() == [[-1.0, 0.0], [1.0, 0.0]]
    assert other.tolist() == [[0.0, 1.0]]                         # a constant column is only centred
    with pytest.raises(ValueError, match="others\\[0\\] has 3 columns but train has 2"):
        standardize(train, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="train contains NaN"):
        standardize(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="train is too large to standardise"):
        standardize(np.array([[1e308], [-1e308]]))
    with pytest.raises(ValueError, match="n_samples must be at least 2"):
        make_moons(1)
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-0.1)
    with pytest.raises(ValueError, match="noise=1e\\+308 is too large"):
        make_moons(10, noise=1e308, rng=0)


@pytest.mark.filterwarnings("error")        # the check itself must not overflow a cast
def test_a_range_too_small_for_float32_is_refused_in_words_not_in_a_numpy_warning():
    with pytest.raises(ValueError, match="float32 cannot scale"):
        PixelScaler().fit(np.array([[0.0], [3.2e-42]]))
