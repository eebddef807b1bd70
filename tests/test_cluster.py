"""k-means, ARI, NMI, Hungarian matching, PCA and the pixel-importance weights."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scratchnn.autoencoder import (Autoencoder, build_autoencoder, build_relu_autoencoder,
                                   pixel_importance_weights)
from scratchnn.checks import NotFittedError, NumericalError
from scratchnn.cluster import (KMeans, adjusted_rand_score, cluster_means, clustering_accuracy,
                               contingency_matrix,
                               linear_sum_assignment, normalized_mutual_info_score, pca, squared_distances)
from scratchnn.layers import Dropout

labelings = st.integers(2, 40).flatmap(
    lambda n: st.tuples(arrays(np.int64, n, elements=st.integers(0, 4)),
                        arrays(np.int64, n, elements=st.integers(0, 4))))


@settings(max_examples=60, deadline=None)
@given(labelings, st.permutations(range(5)))
def test_ari_symmetric_and_invariant_to_relabelling(pair, perm):
    a, b = pair
    relabelled = np.array(perm)[b] + 100
    assert np.isclose(adjusted_rand_score(a, b), adjusted_rand_score(b, a))
    assert np.isclose(adjusted_rand_score(a, b), adjusted_rand_score(a, relabelled))
    assert np.isclose(adjusted_rand_score(a, np.array(perm)[a]), 1.0)
    assert np.isclose(normalized_mutual_info_score(a, b), normalized_mutual_info_score(b, a))
    assert np.isclose(normalized_mutual_info_score(a, np.array(perm)[a]), 1.0)
    assert adjusted_rand_score(a, b) <= 1.0 + 1e-12


def test_ari_by_hand():
    # true  = [0, 0, 0, 1, 1, 1], pred = [0, 0, 1, 1, 2, 2]
    # contingency [[2, 1, 0], [0, 1, 2]]: index = C(2,2) + C(2,2) = 2
    # rows: 2 C(3,2) = 6; columns: C(2,2) * 3 = 3; C(6,2) = 15
    # expected = 6 * 3 / 15 = 1.2; max = (6 + 3) / 2 = 4.5; ARI = 0.8 / 3.3
    ari = adjusted_rand_score([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])
    assert np.isclose(ari, 0.8 / 3.3)
    assert contingency_matrix([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]).tolist() == [[2, 1, 0], [0, 1, 2]]


def test_ari_near_zero_for_independent_labels():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 10, 20000), rng.integers(0, 10, 20000)
    assert abs(adjusted_rand_score(a, b)) < 0.005
    assert normalized_mutual_info_score(a, b) < 0.01


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.integers(n, 6).flatmap(
    lambda m: arrays(np.int64, (n, m), elements=st.integers(-20, 20)))))
def test_hungarian_equals_brute_force(cost):
    for c in (cost, cost.T):
        rows, cols = linear_sum_assignment(c)
        k = min(c.shape)
        assert len(rows) == len(cols) == k and len(set(rows)) == len(set(cols)) == k
        if c.shape[0] <= c.shape[1]:
            best = min(sum(c[i, p[i]] for i in range(c.shape[0]))
                       for p in itertools.permutations(range(c.shape[1]), c.shape[0]))
        else:
            best = min(sum(c[p[j], j] for j in range(c.shape[1]))
                       for p in itertools.permutations(range(c.shape[0]), c.shape[1]))
        assert c[rows, cols].sum() == best


def test_clustering_accuracy_under_relabelling():
    true = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([5, 5, 3, 3, 4, 4, 3])     # one point of class 2 in class 1's cluster
    assert np.isclose(clustering_accuracy(true, pred), 6 / 7)


def _blobs(rng, n_per=50, k=4, d=3, spread=0.1):
    centres = rng.standard_normal((k, d)) * 10
    x = np.concatenate([c + spread * rng.standard_normal((n_per, d)) for c in centres])
    return x, np.repeat(np.arange(k), n_per)


def test_kmeans_recovers_well_separated_blobs_exactly():
    x, y = _blobs(np.random.default_rng(1))
    km = KMeans(4, n_init=3, rng=0).fit(x)
    assert adjusted_rand_score(y, km.labels_) == 1.0
    np.testing.assert_array_equal(km.predict(x), km.labels_)
    assert km.cluster_centers_.shape == (4, 3)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6))
def test_kmeans_inertia_never_rises(seed, k):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((120, 4))
    km = KMeans(k, n_init=1, max_iter=50, tol=0, algorithm="lloyd", rng=seed).fit(x)
    h = np.array(km.inertia_history_)
    assert np.all(np.diff(h) <= 1e-9 * h[:-1])
    d2 = ((x[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    assert np.isclose(km.inertia_, d2.min(axis=1).sum())


def test_kmeans_reseeds_empty_clusters_and_checks_input():
    x = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5 + [[50.0, 50.0]])
    km = KMeans(3, n_init=2, rng=0).fit(x)
    assert len(np.unique(km.labels_)) == 3
    with pytest.raises(ValueError, match="NaN"):
        KMeans(2).fit(np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="cannot form"):
        KMeans(5).fit(np.zeros((3, 2)))


def test_kmeans_same_seed_same_result():
    x, _ = _blobs(np.random.default_rng(2), spread=3.0)
    a, b = KMeans(4, rng=7).fit(x), KMeans(4, rng=7).fit(x)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_


@pytest.mark.parametrize("algorithm", ["hamerly", "lloyd"])
def test_kmeans_with_fewer_distinct_points_than_clusters_says_so(algorithm):
    # The case: the default (hamerly) gave NaN centres and a NaN inertia.
    x = np.array([[0.0, 0.0]] * 10 + [[1.0, 1.0]] * 10)
    with pytest.raises(ValueError, match="x has only 2 distinct points; k-means cannot form 3 clusters"):
        KMeans(3, algorithm=algorithm, rng=0).fit(x)
    km = KMeans(2, algorithm=algorithm, rng=0).fit(x)
    assert km.inertia_ == 0.0 and sorted(km.cluster_centers_.tolist()) == [[0.0, 0.0], [1.0, 1.0]]
    # Duplicates that the distance expansion does not see as exactly 0 apart (rounding in
    # 784-d float32) are found too.
    base = np.random.default_rng(0).random((2, 784)).astype(np.float32)
    with pytest.raises(ValueError, match="only 2 distinct points"):
        KMeans(3, algorithm=algorithm, rng=0).fit(np.repeat(base, 200, axis=0))


def test_kmeans_scale_problems_are_named():
    x = np.random.default_rng(0).random((30, 3))
    with pytest.raises(ValueError, match="squared distances round to 0"):
        KMeans(2, rng=0).fit(x * 1e-200)                 # distinct, but every x^2 underflows
    with pytest.raises(ValueError, match="x is too large for float64 distances"):
        KMeans(2, rng=0).fit(x * 1e160)
    with pytest.raises(ValueError, match="too large for float32"):
        KMeans(2, rng=0).fit((x * 1e20).astype(np.float32))
    assert np.isfinite(KMeans(2, rng=0).fit(x * 1e-100).inertia_)


@pytest.mark.parametrize("algorithm", ["hamerly", "lloyd"])
def test_empty_clusters_are_reseeded_identically_by_both_algorithms(algorithm, monkeypatch):
    # All three centres start on (0, 0): clusters 1 and 2 are empty and take the two points
    # farthest from their centres, both (2, 2); then cluster 2 is empty again and takes (1, 1).
    x = np.array([[0.0, 0.0]] * 5 + [[2.0, 2.0]] * 3 + [[1.0, 1.0]] * 2)
    km = KMeans(3, n_init=1, tol=0, algorithm=algorithm, rng=0)
    monkeypatch.setattr(km, "_init_plus_plus", lambda x, x_sq: np.zeros((3, 2)))
    km.fit(x)
    assert km.labels_.tolist() == [2] * 5 + [1] * 3 + [0] * 2
    assert km.cluster_centers_.tolist() == [[1.0, 1.0], [2.0, 2.0], [0.0, 0.0]]
    assert km.inertia_ == 0.0 and km.n_iter_ == 4


def test_a_run_whose_centres_become_non_finite_stops_the_fit(monkeypatch):
    x, _ = _blobs(np.random.default_rng(3))
    restarts, real_means = [], KMeans._means

    def fail_in_restart_2(x, sums, counts, nearest):
        out = real_means(x, sums, counts, nearest)
        return out * np.nan if len(restarts) == 2 else out

    km = KMeans(4, n_init=3, rng=0)
    real_init = km._init_plus_plus
    monkeypatch.setattr(km, "_init_plus_plus", lambda *a: restarts.append(1) or real_init(*a))
    monkeypatch.setattr(KMeans, "_means", staticmethod(fail_in_restart_2))
    with pytest.raises(NumericalError, match=r"k-means \(hamerly\), restart 2 of 3: the centres became "
                                             r"non-finite at iteration 1"):
        km.fit(x)
    assert not hasattr(km, "cluster_centers_") and not hasattr(km, "x_mean_")   # nothing kept


def test_kmeans_checks_its_arguments_by_name():
    x, _ = _blobs(np.random.default_rng(1))
    with pytest.raises(NotFittedError):
        KMeans(2).predict(x)
    for kwargs, name in [({"n_clusters": 0}, "n_clusters"), ({"n_clusters": 2.5}, "n_clusters"),
                         ({"n_init": 0}, "n_init"), ({"max_iter": -1}, "max_iter"), ({"tol": np.nan}, "tol"),
                         ({"algorithm": "elkan"}, "algorithm")]:
        with pytest.raises((ValueError, TypeError), match=name):
            KMeans(**kwargs)
    km = KMeans(4, n_init=1, rng=0).fit(x.astype(np.float32))
    assert km.cluster_centers_.dtype == np.float32
    with pytest.raises(ValueError, match="x has 2 features, the centres have 3"):
        km.predict(x[:, :2])
    with pytest.raises(ValueError, match="too large for float32"):
        km.predict(x * 1e300)
    with pytest.raises(ValueError, match="centers have 2 features but x has 3"):
        squared_distances(x, x[:2, :2])
    d2 = squared_distances(x.astype(np.float32), km.cluster_centers_)
    assert d2.dtype == np.float32 and d2.shape == (len(x), 4)


def test_scores_refuse_column_empty_and_fractional_labels():
    with pytest.raises(ValueError, match=r"labels_pred must have shape \(4,\).*ravel"):
        adjusted_rand_score([0, 0, 1, 1], np.array([[0], [0], [1], [1]]))
    with pytest.raises(ValueError, match="labels_true is empty"):
        normalized_mutual_info_score([], [])
    with pytest.raises(TypeError, match="labels_true must be integer"):
        clustering_accuracy([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="labels_pred must have shape"):
        contingency_matrix([0, 1, 1], [0, 1])


def test_hungarian_refuses_nan_and_overflowing_costs():
    with pytest.raises(ValueError, match="cost contains NaN"):
        linear_sum_assignment([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ValueError, match="cost is too large"):
        linear_sum_assignment([[1e307, 0.0], [0.0, 1e307]])
    rows, cols = linear_sum_assignment(np.zeros((0, 3)))
    assert rows.tolist() == cols.tolist() == []
    rows, cols = linear_sum_assignment(np.array([[1e300, 0.0], [0.0, 1e300]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_pca_refuses_constant_data_and_components_above_the_rank():
    with pytest.raises(ValueError, match="x has no variance"):
        pca(np.ones((10, 3)))                            # was a NaN explained-variance ratio
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 2))
    x = np.column_stack([x, x.sum(axis=1)])             # rank 2 in 3-D
    with pytest.raises(ValueError, match=r"n_components=3 is above the rank of the centred x \(2\)"):
        pca(x, 3)
    with pytest.raises(ValueError, match=r"n_components=5 is above the rank"):
        pca(x[:4], 5)                                   # was: silently fewer components
    proj, comps, ratio = pca(x * 1e-170, 2)             # s^2 would underflow; the ratio does not
    assert np.isclose(ratio.sum(), 1.0) and proj.shape == (20, 2) and comps.shape == (2, 3)


def test_pca_by_svd():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 1)) @ np.array([[3.0, 4.0]]) + 0.01 * rng.standard_normal((200, 2))
    proj, comps, ratio = pca(x, 1)
    assert ratio[0] > 0.999
    np.testing.assert_allclose(np.abs(comps[0]), [0.6, 0.8], atol=1e-3)
    assert proj.shape == (200, 1) and abs(proj.mean()) < 1e-10

# ----------------------------------------------------------- pixel-importance weights


def naive_weights(x, labels):
    t, d = x.shape
    w = np.zeros(d)
    for k in range(d):
        same, diff = [], []
        for p in range(t):
            for q in range(t):
                if p == q:
                    continue
                s = np.exp(-(x[p, k] - x[q, k]) ** 2)
                (same if labels[p] == labels[q] else diff).append(s)
        w[k] = np.mean(same) * np.mean([1 - s for s in diff])
    return w


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 12), st.integers(1, 6), st.integers(1, 5))
def test_pixel_weights_equal_the_naive_double_loop(seed, t, d, chunk):
    rng = np.random.default_rng(seed)
    x = rng.random((t, d))
    labels = np.arange(t) % 3                   # every class has at least one pair when t >= 4
    w = pixel_importance_weights(x, labels, chunk_rows=chunk)
    np.testing.assert_allclose(w, naive_weights(x.astype(np.float32), labels), rtol=1e-5, atol=1e-7)


def test_constant_pixel_gets_zero_weight_and_single_class_is_refused():
    rng = np.random.default_rng(0)
    x = rng.random((20, 5))
    x[:, 2] = 0.7
    w = pixel_importance_weights(x, np.arange(20) % 2)
    assert w[2] == 0 and np.all(w[[0, 1, 3, 4]] > 0)
    with pytest.raises(ValueError, match="two classes"):
        pixel_importance_weights(x, np.zeros(20, dtype=int))


def test_pixel_weights_check_scale_labels_and_settings():
    rng = np.random.default_rng(0)
    x = rng.random((12, 5))
    labels = np.arange(12) % 3
    with pytest.raises(ValueError, match=r"x must hold pixels scaled to \[0, 1\].*PixelScaler"):
        pixel_importance_weights(x * 255, labels)
    with pytest.raises(ValueError, match=r"labels must have shape \(12,\).*ravel"):
        pixel_importance_weights(x, labels[:, None])
    with pytest.raises(ValueError, match="at least two images of some class"):
        pixel_importance_weights(x[:3], labels[:3])           # three images, three classes: no pair
    with pytest.raises(ValueError, match="chunk_rows"):
        pixel_importance_weights(x, labels, chunk_rows=0)
    with pytest.raises(ValueError, match="x contains NaN"):
        pixel_importance_weights(np.where(x > 0.9, np.nan, x), labels)


def test_autoencoder_checks_its_own_settings():
    ae = build_autoencoder(sizes=(6, 4, 3), rng=0)
    with pytest.raises(ValueError, match="n_encoder_layers=8 leaves no decoder"):
        Autoencoder(ae.layers, 8)                 # 8 layers: the encoder may take 1..7
    with pytest.raises(TypeError, match="n_encoder_layers"):
        Autoencoder(ae.layers, 2.5)
    with pytest.raises(ValueError, match="batch_size"):
        ae.encode(np.zeros((2, 6), np.float32), batch_size=0)


def test_autoencoder_layout_and_codes():
    ae = build_autoencoder(rng=0)
    widths = [layer.n_out for layer in ae.layers if hasattr(layer, "n_out")]
    assert widths == [512, 128, 32, 10, 32, 128, 512, 784]
    assert ae.code_width == 10
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    codes = ae.encode(x)
    assert codes.shape == (5, 10) and codes.dtype == np.float32
    recon = ae.predict(x)
    assert recon.shape == (5, 784) and (recon > 0).all() and (recon < 1).all()


def test_relu_autoencoder_is_decs_layout_and_its_noise_only_trains():
    ae = build_relu_autoencoder(rng=0)
    widths = [layer.n_out for layer in ae.layers if hasattr(layer, "n_out")]
    assert widths == [500, 500, 2000, 10, 2000, 500, 500, 784] and ae.code_width == 10
    kinds = [type(layer).__name__ for layer in ae.layers]
    assert kinds[:8] == ["Dense", "ReLU"] * 3 + ["Dense", "Identity"]     # a linear code
    assert kinds[-2:] == ["Dense", "Identity"]                              # a linear output
    noisy = build_relu_autoencoder(sizes=(6, 4, 3), input_dropout=0.5, rng=0)
    plain = build_relu_autoencoder(sizes=(6, 4, 3), rng=0)
    assert isinstance(noisy.layers[0], Dropout) and noisy.n_encoder_layers == 5
    # The noise draws from its own stream: the weights are those of the model without it.
    for a, b in zip(noisy.params.values(), plain.params.values()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).random((50, 6), dtype=np.float32)
    np.testing.assert_array_equal(noisy.encode(x), plain.encode(x))      # evaluation: no noise
    noisy.train()
    assert not np.array_equal(noisy.forward(x), plain.predict(x))          # training: noise
    assert (noisy.layers[0].forward(x) == 0).mean() > 0.3


def test_relu_autoencoder_gain_sets_every_layers_initial_scale():
    def scales(ae):          # std(W) * sqrt(n_in), i.e. the square root of each layer's gain
        return [float(layer.params["W"].std() * np.sqrt(layer.n_in))
                for layer in ae.layers if hasattr(layer, "n_in")]
    sizes = (400, 300, 300, 200, 10)
    he = np.array(scales(build_relu_autoencoder(sizes=sizes, rng=0)))
    expected = np.array([2, 2, 2, 1, 2, 2, 2, 1])    # He before ReLU, LeCun before a linear output
    np.testing.assert_allclose(he, np.sqrt(expected), rtol=0.06)   # the sample std of W
    small = np.array(scales(build_relu_autoencoder(sizes=sizes, gain=1 / 3, rng=0)))
    # Both draw the same normals, so only the scale differs, exactly by sqrt(gain / default).
    np.testing.assert_allclose(small / he, np.sqrt((1 / 3) / expected), rtol=1e-5)
    with pytest.raises(ValueError, match="gain must be a finite positive number"):
        build_relu_autoencoder(sizes=(6, 4, 3), gain=0.0)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.sampled_from([np.float64, np.float32]),
       st.sampled_from(["blobs", "duplicates", "lattice"]))
def test_hamerly_makes_exactly_lloyds_assignments(seed, k, dtype, kind):
    rng = np.random.default_rng(seed)
    if kind == "blobs":
        x = rng.standard_normal((150, 3)) + 3 * rng.integers(0, 3, (150, 1))
    elif kind == "duplicates":                      # 150 rows drawn from 12 distinct points
        x = (rng.standard_normal((12, 3)) + 3 * rng.integers(0, 3, (12, 1)))[rng.integers(0, 12, 150)]
    else:                                           # small integers: exact ties between centres
        x = rng.integers(0, 4, (150, 2)).astype(float)
    x = x.astype(dtype)
    # n_init=1: the same seed gives both the same k-means++ start (with restarts, two runs
    # reaching the same partition may tie in inertia and either could be kept).
    plain = KMeans(k, n_init=1, tol=0, algorithm="lloyd", rng=seed).fit(x)
    fast = KMeans(k, n_init=1, tol=0, algorithm="hamerly", rng=seed).fit(x)
    np.testing.assert_array_equal(plain.labels_, fast.labels_)
    assert plain.cluster_centers_.dtype == fast.cluster_centers_.dtype == dtype
    close = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(plain.cluster_centers_, fast.cluster_centers_, **close)
    assert plain.n_iter_ == fast.n_iter_
    assert np.isclose(plain.inertia_, fast.inertia_, **close)


def test_encoder_shares_the_autoencoders_parameters():
    ae = build_autoencoder(sizes=(6, 4, 3, 2), rng=0)
    encoder = ae.encoder()
    assert encoder.layers[0].params["W"] is ae.layers[0].params["W"]
    for p in ae.params.values():        # what an optimizer updates in place is the layers' arrays
        p[...] = 0.5
    assert (ae.layers[0].params["W"] == 0.5).all() and (encoder.layers[0].params["W"] == 0.5).all()
    x = np.random.default_rng(0).random((3, 6), dtype=np.float32)
    np.testing.assert_array_equal(ae.encode(x), encoder.predict(x))


def test_kmeans_tells_apart_tight_clusters_far_from_the_origin():
    # Blobs 0.05 apart with spread 0.005, at 1000 in every coordinate: in float32, ||x||^2 is
    # 3e6 and carries about 0.2 of rounding error, far more than the squared distances
    # (2.5e-3) the expansion must recover. Centring first keeps them.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = (1000 + 0.05 * np.eye(3)[y] + 0.005 * rng.standard_normal((300, 3))).astype(np.float32)
    km = KMeans(3, n_init=3, rng=0).fit(x)
    assert adjusted_rand_score(y, km.labels_) == 1.0
    np.testing.assert_array_equal(km.predict(x), km.labels_)
    assert np.abs(km.cluster_centers_ - 1000).max() < 0.1          # centres where the data is


def test_cluster_means():
    codes = np.array([[0.0, 1.0], [2.0, 3.0], [10.0, 10.0]], np.float32)
    means = cluster_means(codes, np.array([1, 1, 0]), 2)
    np.testing.assert_allclose(means, [[10, 10], [1, 2]])
    assert means.dtype == np.float32
    with pytest.raises(ValueError, match="cluster 2 of 3 is empty"):
        cluster_means(codes, np.array([1, 1, 0]), 3)
    with pytest.raises(ValueError, match="labels"):
        cluster_means(codes, np.array([1, 1, 5]), 3)                  # a label beyond k
