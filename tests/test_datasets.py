"""The MNIST reader and finder, on tiny IDX files written here (no network)."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from scratchnn import datasets
from scratchnn.datasets import (DataNotFoundError, PixelScaler, download, load_mnist, locate_mnist,
                                read_idx)
from tests.mnist_files import idx_bytes, write_mnist_folder


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(tmp_path, compress):
    arrays = write_mnist_folder(tmp_path / "mnist", compress=compress)
    data = load_mnist("mnist", data_dir=tmp_path, download_ok=False)
    np.testing.assert_array_equal(data["train_images"], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data["test_labels"], arrays["t10k-labels-idx1-ubyte"])
    assert data["train_images"].dtype == np.uint8 and data["train_images"].shape == (30, 28, 28)
    assert data["class_names"][3] == "3"


def test_environment_variable_and_fashion_names(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path / "fashion-mnist")
    monkeypatch.setenv("SCRATCHNN_DATA", str(tmp_path))
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
        load_mnist(data_dir=tmp_path, download_ok=False)


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
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "mirror").iterdir()}
    monkeypatch.setitem(datasets._SHA256, "mnist", sums)
    monkeypatch.delenv("SCRATCHNN_DATA", raising=False)
    mirror = (tmp_path / "mirror").as_uri() + "/"
    paths = locate_mnist("mnist", cache_dir=tmp_path / "cache", mirrors=[mirror])
    assert all(p.parent == tmp_path / "cache" for p in paths.values())
    np.testing.assert_array_equal(read_idx(paths["train_labels"]), arrays["train-labels-idx1-ubyte"])
    # A corrupted cached file is detected on the next look-up.
    paths["test_labels"].write_bytes(b"garbage")
    with pytest.raises(ValueError, match="checksum mismatch"):
        locate_mnist("mnist", cache_dir=tmp_path / "cache", mirrors=[mirror])


def test_pixel_scaler_uses_training_constants_for_both_splits():
    train = np.array([[[0, 255]]], dtype=np.uint8)
    test = np.array([[[51, 255]]], dtype=np.uint8)
    scaler = PixelScaler().fit(train)
    out = scaler.transform(test)
    assert out.dtype == np.float32 and out.shape == (1, 2)
    np.testing.assert_allclose(out, [[0.2, 1.0]])
