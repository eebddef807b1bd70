"""Every public entry point outside the core, driven with malformed input.

The contract: a call returns a finite, correctly shaped result, or raises ValueError,
TypeError or one of scratchnn's own errors (NotFittedError, NumericalError,
DataNotFoundError), with a message that names the argument at fault. No
AttributeError, IndexError, ZeroDivisionError, StopIteration, no NaN in a result,
and no numpy RuntimeWarning (an overflow nobody checked) on the way.
"""

import gzip
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from scratchnn.adaline import Adaline, Madaline, bipolar_step
from scratchnn.autoencoder import build_autoencoder, pixel_importance_weights
from scratchnn.checks import NumericalError
from scratchnn.cluster import (KMeans, adjusted_rand_score, clustering_accuracy, contingency_matrix,
                               linear_sum_assignment, normalized_mutual_info_score, pca, squared_distances)
from scratchnn.datasets import (DataNotFoundError, PixelScaler, load_mnist, make_moons, read_idx, standardize,
                                train_test_split)
from scratchnn.mcculloch_pitts import MPLayer, digit_pattern, encode, one_layer_detector, template_unit

ALLOWED = (ValueError, TypeError, NumericalError, DataNotFoundError)
# 100 examples per entry point keep the file near 10 s; CONTRACT_EXAMPLES=2000 searches harder.
FAST = settings(max_examples=int(os.environ.get("CONTRACT_EXAMPLES", 100)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# ------------------------------------------------------------------ malformed input

SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e300, -1e300, 3e38, 1e20, 1e-300, 5e-324]
SCALES = [1.0, 1.0, 1.0, 1e-300, 1e-160, 1e-20, 1e20, 1e160, 1e300]


@st.composite
def arrays(draw, shape=None, dtypes=("float64", "float64", "float32", "int64", "uint8", "bool",
                                     "complex128", "object", "str"), finite=False):
    """An array of a drawn (or given) shape and dtype: ordinary numbers, special values
    (NaN, inf, huge, tiny, -0), and sometimes all of it scaled to huge or tiny.
    ``finite``: no NaN or infinity (but still huge and tiny values)."""
    shape = draw(shape if shape is not None else
                 st.one_of(st.tuples(st.integers(0, 7), st.integers(0, 4)),
                           array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)))
    size = int(np.prod(shape))
    special = [v for v in SPECIAL if np.isfinite(v) or not finite]
    values = draw(st.lists(st.one_of(st.floats(-5, 5), st.sampled_from(special)), min_size=size, max_size=size))
    x = np.array(values, dtype=np.float64).reshape(shape)
    scale, dtype = draw(st.sampled_from(SCALES)), draw(st.sampled_from(dtypes))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaled = np.asarray(x * scale)
        x = scaled if np.isfinite(scaled).all() or not finite else x
        if dtype in ("int64", "uint8"):
            x = np.nan_to_num(np.clip(x, -1e6, 1e6))
        cast = np.asarray(x, dtype=dtype)
        return x if finite and not np.isfinite(cast).all() else cast   # float32 overflow: keep float64


def clean_arrays(rows=st.integers(1, 8), cols=st.integers(1, 4), low=None, high=None):
    """Well-formed float arrays (every value finite), which may still be huge or tiny."""
    def finish(x):
        return np.clip(x, low, high) if low is not None else x
    return st.tuples(rows, cols).flatmap(
        lambda shape: arrays(st.just(shape), dtypes=("float64", "float32"), finite=True)).map(finish)


def mostly(good, bad=None):
    """Usually (about 5 in 6) the well-formed input, sometimes a malformed one. (st.one_of would
    merge the alternatives of ``bad`` and of repeated ``good`` and pick among them evenly.)"""
    bad = bad if bad is not None else arrays()
    return st.sampled_from(range(6)).flatmap(lambda i: bad if i == 5 else good)


def labels_like(n, values=(-1, 1)):
    """Labels for n rows, right or wrong: good values, a column, the wrong length, out of range, NaN..."""
    good = st.lists(st.sampled_from(values), min_size=n, max_size=n).map(np.array)
    bad = st.one_of(good.map(lambda t: t[:, None]), good.map(lambda t: t[:-1]),
                    st.lists(st.integers(-2, 3), min_size=n, max_size=n).map(np.array),
                    arrays(st.just((n,))), st.none(), st.just("abc"))
    return mostly(good, bad)


def settings_values(good=st.floats(1e-3, 1.0)):
    """A hyper-parameter: usually a sensible one, else zero, negative, NaN, inf, huge, tiny, a string..."""
    return mostly(good, st.one_of(st.integers(-2, 3), st.floats(allow_nan=True, allow_infinity=True),
                                  st.sampled_from([None, "3", True, 1e-300, 1e300, 2.5])))


def counts(good):
    """A count (units, clusters, epochs, ...): usually sensible, else 0, negative, fractional, NaN, inf,
    a string. Not 1e300: a count that large fails by memory or time, not by a wrong answer."""
    return mostly(good, st.sampled_from([0, -1, 2.5, np.nan, np.inf, None, "3", True]))


# ------------------------------------------------------------------ the contract


def _finite(result):
    if isinstance(result, (tuple, list)):
        return all(_finite(r) for r in result)
    if isinstance(result, dict):
        return all(_finite(r) for r in result.values())
    if isinstance(result, (float, np.floating, np.ndarray)) and np.asarray(result).dtype.kind in "fc":
        return bool(np.isfinite(result).all())
    return True


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def obeys_contract(fn, *args, names, **kwargs):
    """Call fn: return its result if finite, None if it raised an allowed error naming one of
    ``names``; fail otherwise (another exception propagates, a RuntimeWarning is an error)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result = fn(*args, **kwargs)
    except ALLOWED as err:
        event(f"{_name(fn)}: {type(err).__name__}")  # pytest --hypothesis-show-statistics
        message = str(err)
        assert any(re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", message) for n in names), \
            f"{type(err).__name__} names none of {names}: {message}"
        return None
    assert _finite(result), f"non-finite result from {getattr(fn, '__qualname__', fn)}: {result}"
    event(f"{_name(fn)}: returned")
    return result


# ------------------------------------------------------------------ classic neurons


@FAST
@given(mostly(clean_arrays()))
def test_bipolar_step(net):
    out = obeys_contract(bipolar_step, net, names=["net"])
    if out is not None:
        assert out.shape == np.shape(net) and np.isin(out, (-1, 1)).all()


@FAST
@given(mostly(st.text("abcdefg", max_size=7), st.one_of(st.text(max_size=8), st.integers(), st.none(),
                                                          st.lists(st.text(max_size=1)))),
       mostly(st.integers(0, 9), st.one_of(st.integers(-3, 12), st.floats(), st.booleans(), st.none(),
                                           st.text(max_size=2))))
def test_encode_and_digit_pattern(segments, digit):
    out = obeys_contract(encode, segments, names=["segments"])
    assert out is None or out.shape == (7,)
    out = obeys_contract(digit_pattern, digit, names=["digit"])
    assert out is None or out.shape == (7,)


@st.composite
def mp_layers(draw):
    n_in, n_units = draw(st.integers(1, 7)), draw(st.integers(1, 4))
    weights = draw(mostly(st.lists(st.sampled_from([-1, 0, 1]), min_size=n_in * n_units,
                                   max_size=n_in * n_units).map(lambda w: np.reshape(w, (n_in, n_units)))))
    thresholds = draw(mostly(st.lists(st.integers(-2, 7), min_size=n_units, max_size=n_units).map(np.array)))
    x = draw(mostly(st.lists(st.integers(0, 1), min_size=n_in, max_size=n_in).map(np.array)
                    .map(lambda p: p if draw(st.booleans()) else np.stack([p, 1 - p]))))
    return weights, thresholds, x


@FAST
@given(mp_layers(), mostly(st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True),
                           st.lists(st.integers(-1, 11), max_size=4)))
def test_mp_layer_units_and_detectors(layer_input, digits):
    weights, thresholds, x = layer_input
    layer = obeys_contract(MPLayer, weights, thresholds, names=["weights", "thresholds"])
    if layer is not None:
        out = obeys_contract(layer, x, names=["x"])
        assert out is None or out.shape == x.shape[:-1] + (weights.shape[1],)
    unit = obeys_contract(template_unit, x, names=["pattern"])
    assert unit is None or unit[0].shape == x.shape
    net = obeys_contract(one_layer_detector, digits, names=["digits", "digit"])
    if net is not None:
        pattern = x if x.ndim != 1 or len(x) == 7 else np.zeros(7, int)
        assert obeys_contract(net.recognise, pattern, names=["x", "recognise"]) in (None, *digits)


@FAST
@given(st.data(), mostly(st.sampled_from(["online", "batch"]), st.sampled_from(["stochastic", None])),
       settings_values(), counts(st.integers(1, 3)))
def test_adaline(data, mode, lr, epochs):
    x = data.draw(mostly(clean_arrays()))
    t = data.draw(labels_like(len(x) if x.ndim else 1))
    model = obeys_contract(Adaline, lr=lr, epochs=epochs, mode=mode, rng=0, names=["lr", "epochs", "mode"])
    if model is None:
        return
    assert obeys_contract(model.predict, x, names=["x", "fit"]) is None        # not fitted yet
    if obeys_contract(model.fit, x, t, names=["x", "t", "lr"]) is not None:
        x2 = data.draw(mostly(st.just(x)))
        out = obeys_contract(model.predict, x2, names=["x"])
        assert out is None or (out.shape == (len(x2),) and np.isin(out, (-1, 1)).all())
        score = obeys_contract(model.score, x, data.draw(labels_like(len(x))), names=["x", "t"])
        assert score is None or 0 <= score <= 1


@FAST
@given(st.data(), mostly(st.sampled_from(["MRI", "MRII"]), st.just("mri")), settings_values(),
       counts(st.integers(1, 3)))
def test_madaline(data, rule, lr, n_hidden):
    x = data.draw(mostly(clean_arrays()))
    t = data.draw(labels_like(len(x) if x.ndim else 1))
    model = obeys_contract(Madaline, n_hidden=n_hidden, rule=rule, lr=lr, max_epochs=2, rng=0,
                           names=["n_hidden", "rule", "lr"])
    if model is None:
        return
    assert obeys_contract(model.predict, x, names=["x", "fit"]) is None
    if obeys_contract(model.fit, x, t, names=["x", "t", "lr"]) is not None:
        out = obeys_contract(model.predict, x, names=["x"])
        assert out is None or (out.shape == (len(x),) and np.isin(out, (-1, 1)).all())
        score = obeys_contract(model.score, x, data.draw(labels_like(len(x))), names=["x", "t"])
        assert score is None or 0 <= score <= 1


# ------------------------------------------------------------------ clustering


@FAST
@given(st.data(), st.sampled_from(["hamerly", "lloyd"]), counts(st.integers(1, 3)))
def test_kmeans(data, algorithm, k):
    x = data.draw(mostly(st.one_of(clean_arrays(), clean_arrays().map(lambda a: np.repeat(a, 3, axis=0)))))
    km = obeys_contract(KMeans, k, n_init=2, algorithm=algorithm, rng=0, names=["n_clusters"])
    if km is None:
        return
    assert obeys_contract(km.predict, x, names=["x", "fit"]) is None
    if obeys_contract(km.fit, x, names=["x", "n_clusters"]) is not None:
        assert km.cluster_centers_.shape == (k, x.shape[1]) and km.labels_.shape == (len(x),)
        assert np.isfinite(km.cluster_centers_).all() and np.isfinite(km.inertia_)
        assert set(km.labels_) <= set(range(k))
        x2 = data.draw(mostly(st.just(x)))
        out = obeys_contract(km.predict, x2, names=["x"])
        assert out is None or (out.shape == (len(x2),) and set(out) <= set(range(k)))


@FAST
@given(st.integers(1, 4).flatmap(lambda d: st.tuples(mostly(clean_arrays(cols=st.just(d))),
                                                     mostly(clean_arrays(cols=st.just(d))))))
def test_squared_distances(pair):
    x, centers = pair
    out = obeys_contract(squared_distances, x, centers, names=["x", "centers"])
    assert out is None or (out.shape == (len(x), len(centers)) and (out >= 0).all())


def label_pairs():
    def pair(n):
        ints = st.lists(st.integers(-3, 5), min_size=n, max_size=n).map(np.array)
        bad = st.one_of(ints.map(lambda a: a[:, None]), ints.map(lambda a: a.astype(float) / 2),
                        ints.map(lambda a: a[1:]), arrays(), st.just("abc"), st.none())
        return st.tuples(mostly(ints, bad), mostly(ints, bad))
    return st.integers(0, 8).flatmap(pair)


@FAST
@given(label_pairs())
def test_clustering_scores(pair):
    a, b = pair
    names = ["labels_true", "labels_pred"]
    for score, low in ((adjusted_rand_score, -1), (normalized_mutual_info_score, 0), (clustering_accuracy, 0)):
        out = obeys_contract(score, a, b, names=names)
        assert out is None or low - 1e-12 <= out <= 1 + 1e-12
    table = obeys_contract(contingency_matrix, a, b, names=names)
    assert table is None or table.sum() == len(a)


@FAST
@given(mostly(clean_arrays(rows=st.integers(0, 5), cols=st.integers(0, 5))))
def test_linear_sum_assignment(cost):
    out = obeys_contract(linear_sum_assignment, cost, names=["cost"])
    if out is not None:
        rows, cols = out
        k = min(cost.shape)
        assert len(rows) == len(cols) == k == len(set(rows)) == len(set(cols))


@FAST
@given(mostly(clean_arrays(rows=st.integers(1, 10))), counts(st.integers(1, 3)))
def test_pca(x, n_components):
    out = obeys_contract(pca, x, n_components, names=["x", "n_components"])
    if out is not None:
        proj, comps, ratio = out
        assert proj.shape == (len(x), n_components) and comps.shape == (n_components, x.shape[1])
        assert np.all(ratio >= 0) and ratio.sum() <= 1 + 1e-9


# ------------------------------------------------------------------ datasets


@FAST
@given(counts(st.integers(2, 50)), settings_values(st.floats(0, 1)))
def test_make_moons(n_samples, noise):
    out = obeys_contract(make_moons, n_samples, noise, rng=0, names=["n_samples", "noise"])
    if out is not None:
        assert out[0].shape == (n_samples, 2) and out[1].shape == (n_samples,)


@FAST
@given(st.data(), settings_values(st.one_of(st.floats(0.01, 0.99), st.integers(1, 5))))
def test_train_test_split(data, test_size):
    # Rows are only permuted, so NaN in x is data, not an error: the check is the partition.
    x = data.draw(arrays())
    y = data.draw(mostly(st.just(np.arange(len(x) if x.ndim else 0))))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size, rng=0)
    except ALLOWED as err:
        assert re.search(r"\b(x|y|test_size)\b", str(err)), str(err)
        return
    event("train_test_split: returned")
    assert len(x_tr) + len(x_te) == len(x) and len(x_tr) >= 1 and len(x_te) >= 1
    assert len(y_tr) == len(x_tr) and len(y_te) == len(x_te)


@FAST
@given(st.integers(1, 4).flatmap(lambda d: st.tuples(mostly(clean_arrays(cols=st.just(d))),
                                                     mostly(clean_arrays(cols=st.just(d))))))
def test_standardize(pair):
    train, other = pair
    out = obeys_contract(standardize, train, other, names=["train", "others[0]"])
    if out is not None:
        assert out[0].shape == train.shape and out[1].shape == other.shape


@FAST
@given(st.binary(max_size=40), st.booleans(), st.booleans())
def test_read_idx_on_arbitrary_bytes(body, header, compress):
    if header:                       # a plausible header, then arbitrary bytes
        body = bytes([0, 0, 8, 1 + 2 * (len(body) % 2), 0, 0, 0, len(body) % 7]) + body
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("f.idx.gz" if compress else "f.idx")
        path.write_bytes(gzip.compress(body) if compress and len(body) % 3 else body)
        out = obeys_contract(read_idx, path, names=[str(path)])
        if out is not None:
            assert out.dtype == np.uint8 and out.flags.writeable


@FAST
@given(st.one_of(st.sampled_from(["mnist", "fashion-mnist"]), st.text(max_size=12), st.none(), st.integers()),
       st.one_of(st.none(), st.integers(), st.just("/no/such/folder")))
def test_load_mnist_settings(dataset, data_dir):
    out = obeys_contract(load_mnist, dataset, data_dir, download_ok=False, cache_dir="/no/such/cache",
                         names=["dataset", "data_dir", "mnist", "fashion-mnist"])
    assert out is None


@FAST
@given(st.integers(1, 4).flatmap(lambda d: st.tuples(mostly(clean_arrays(cols=st.just(d))),
                                                     mostly(clean_arrays(cols=st.just(d))))))
def test_pixel_scaler(pair):
    train, images = pair
    scaler = PixelScaler()
    assert obeys_contract(scaler.transform, images, names=["images", "fit"]) is None
    if obeys_contract(scaler.fit, train, names=["train_images"]) is not None:
        out = obeys_contract(scaler.transform, images, names=["images"])
        assert out is None or (out.dtype == np.float32 and out.shape == (len(images), scaler.n_features_))


@FAST
@given(st.data(), mostly(clean_arrays(rows=st.integers(2, 8), low=0.0, high=1.0)),
       counts(st.sampled_from([None, 1, 3])))
def test_pixel_importance_weights(data, x, chunk_rows):
    n = len(x) if x.ndim else 0
    labels = data.draw(labels_like(n, values=(0, 1, 2)))
    out = obeys_contract(pixel_importance_weights, x, labels, chunk_rows=chunk_rows,
                         names=["x", "labels", "chunk_rows"])
    assert out is None or (out.shape == (x.shape[1],) and (out >= 0).all())


@FAST
@given(mostly(clean_arrays(cols=st.just(4))), counts(st.sampled_from([1, 4096])))
def test_autoencoder_encode(x, batch_size):
    ae = build_autoencoder(sizes=(4, 3, 2), rng=0)
    out = obeys_contract(ae.encode, x, batch_size=batch_size, names=["x", "batch_size"])
    assert out is None or out.shape == (len(x), 2)
