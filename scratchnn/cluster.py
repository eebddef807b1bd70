"""k-means and the scores of a clustering: ARI, NMI and matched accuracy; PCA by SVD."""

import math

import numpy as np

from .checks import NumericalError, check_array, check_choice, check_fitted, check_labels, check_positive

BLOCK_ROWS = 1024   # rows of data per block in k-means' assignment step


def _squared_distances(x, centers, x_sq=None):
    """||x - c||^2 for every row and centre by the expansion ||x||^2 - 2 x.c + ||c||^2.

    x (N, D), centers (K, D) -> (N, K). One matrix product does the work; the
    result is clipped at 0, where rounding can push a tiny distance below it.
    No checks: k-means calls this on every block of every iteration.
    """
    if x_sq is None:
        x_sq = np.einsum("ij,ij->i", x, x)
    d2 = x @ centers.T
    d2 *= -2
    d2 += x_sq[:, None]
    d2 += np.einsum("ij,ij->i", centers, centers)[None, :]
    return np.maximum(d2, 0, out=d2)


def _check_scale(sq_norms, name):
    """The expansion above stays finite while every squared norm is below max float / 4
    (then |2 x.c| <= ||x||^2 + ||c||^2 and the three terms cannot overflow)."""
    if sq_norms.size and not sq_norms.max() < np.finfo(sq_norms.dtype).max / 4:
        raise ValueError(f"{name} is too large for {sq_norms.dtype} distances (a squared norm reaches "
                         f"{float(sq_norms.max()):.3g}); scale {name} down, e.g. standardise it")


def _squared_norms(x):
    with np.errstate(over="ignore"):          # an overflow is reported by _check_scale
        return np.einsum("ij,ij->i", x, x)


def squared_distances(x, centers, x_sq=None):
    """||x - c||^2 for every row of x (N, D) and every centre (K, D) -> (N, K), after checking
    the arguments; see :func:`_squared_distances` for the formula. ``x_sq`` (N,) may hold
    the precomputed ||x||^2. float32 in both gives float32."""
    x, centers = check_array(x, "x"), check_array(centers, "centers")
    if centers.shape[1] != x.shape[1]:
        raise ValueError(f"centers have {centers.shape[1]} features but x has {x.shape[1]}")
    dtype = np.result_type(x, centers, np.float32)
    x, centers = x.astype(dtype, copy=False), centers.astype(dtype, copy=False)
    if x_sq is None:
        x_sq = _squared_norms(x)
    else:
        x_sq = check_array(x_sq, "x_sq", ndim=1, dtype=dtype)
        if x_sq.shape != (len(x),):
            raise ValueError(f"x_sq must hold ||x||^2 of each row of x, shape ({len(x)},), got {x_sq.shape}")
    _check_scale(x_sq, "x")
    _check_scale(_squared_norms(centers), "centers")
    return _squared_distances(x, centers, x_sq)


def lloyd_step(x, centers):
    """One iteration of k-means (Lloyd's algorithm), the plain way: every row of x goes to its
    nearest centre, then every centre moves to the mean of its rows.

        label_n = argmin_j ||x_n - c_j||^2          c_j <- mean of the rows x_n with label_n = j

    A centre left without rows takes instead the row farthest from its own centre (a second
    empty one the next farthest, and so on), so that no centre is ever NaN.

    x (N, D), centers (K, D) -> labels (N,), new centers (K, D) in x's dtype.
    ``KMeans(algorithm="lloyd")`` repeats it; ``"hamerly"`` makes the same assignments faster.
    It needs at least as many rows as centres (K <= N), so that every empty cluster finds one.
    """
    if len(centers) > len(x):
        raise ValueError(f"{len(centers)} centres for {len(x)} rows: k-means needs K <= N")
    d2 = _squared_distances(x, centers)                               # (N, K)
    labels = d2.argmin(axis=1)
    nearest = d2[np.arange(len(x)), labels]         # each row's squared distance to its centre
    one_hot = (labels == np.arange(len(centers))[:, None]).astype(x.dtype)       # (K, N)
    return labels, KMeans._means(x, one_hot @ x, one_hot.sum(axis=1), nearest)


def _check_finite(centers, iteration, x):
    if not np.isfinite(centers).all():
        raise NumericalError(f"the centres became non-finite at iteration {iteration}, with x's values up "
                             f"to {float(np.abs(x).max()):.3g}; scale x (e.g. standardise it)")


class KMeans:
    """k-means (Lloyd's algorithm) with k-means++ seeding and several restarts.

    Parameters and fitted attributes follow scikit-learn's names, except ``rng`` (a seed or
    a ``numpy.random.Generator``, as everywhere in scratchnn; scikit-learn says
    ``random_state``): ``n_clusters``, ``n_init`` (restarts; the run with the lowest inertia
    is kept), ``max_iter``, ``tol``: stop when the squared distances the centres moved in one
    iteration add up to at most ``tol`` times the mean variance of the features,
    sum_j ||c_j(new) - c_j(old)||^2 <= tol * mean_d var(x_d) (scikit-learn's rule).

    ``algorithm="lloyd"`` is the plain algorithm, measuring every point against every
    centre at each iteration; ``"hamerly"`` (the default) makes the same assignments
    but skips the points whose nearest centre provably cannot have changed.

    After ``fit``: ``cluster_centers_`` (K, D), ``labels_`` (N,), ``inertia_`` (sum of
    squared distances to the nearest centre), ``n_iter_``, and with ``"lloyd"``
    ``inertia_history_`` (inertia after each assignment step of the kept run; it never
    rises). float32 data gives float32 centres.
    """

    def __init__(self, n_clusters=8, n_init=10, max_iter=300, tol=1e-4, algorithm="hamerly",
                 rng=None):
        self.n_clusters = check_positive(n_clusters, "n_clusters", integer=True)
        self.n_init = check_positive(n_init, "n_init", integer=True)
        self.max_iter = check_positive(max_iter, "max_iter", integer=True)
        self.tol = check_positive(tol, "tol", allow_zero=True)
        self.algorithm = check_choice(algorithm, "algorithm", ("lloyd", "hamerly"))
        self.rng = np.random.default_rng(rng)

    def _init_plus_plus(self, x, x_sq):
        """Greedy k-means++ (Arthur and Vassilvitskii, 2007): each new centre is drawn
        with probability proportional to D(x)^2, the squared distance to the nearest
        centre so far; of 2 + log(K) such draws the one lowering the potential most wins."""
        n, k = len(x), self.n_clusters
        trials = 2 + int(math.log(k))
        centers = np.empty((k, x.shape[1]), dtype=x.dtype)
        centers[0] = x[self.rng.integers(n)]
        closest = _squared_distances(x, centers[:1], x_sq)[:, 0].astype(np.float64)
        for c in range(1, k):
            total = closest.sum()
            if total <= 0:           # every point sits on a centre: fewer distinct points than clusters?
                self._check_distinct(x)
                raise ValueError(f"x's points are distinct, but their squared distances round to 0 "
                                 f"(values up to {float(np.abs(x).max()):.3g}); standardise x so that "
                                 "they differ at float precision")
            cumulative = np.cumsum(closest)
            picks = np.searchsorted(cumulative, self.rng.random(trials) * cumulative[-1])
            picks = np.minimum(picks, n - 1)
            d2 = _squared_distances(x, x[picks], x_sq).astype(np.float64)      # (N, trials)
            candidate = np.minimum(closest[:, None], d2)
            best = int(np.argmin(candidate.sum(axis=0)))
            centers[c] = x[picks[best]]
            closest = candidate[:, best]
        # Rounding in the expansion can leave a duplicate of a centre a tiny D(x)^2 > 0, so with
        # too few distinct points a duplicate may be drawn. (With enough, iterating copes.)
        if len(np.unique(centers, axis=0)) < k:
            self._check_distinct(x)
        return centers

    def _check_distinct(self, x):
        """A ValueError if x has fewer distinct points than clusters. Called only when the
        seeding ran short of new points: the exact count sorts x, which is slow on large data."""
        distinct = len(np.unique(x, axis=0))
        if distinct < self.n_clusters:
            raise ValueError(f"x has only {distinct} distinct points; k-means cannot form "
                             f"{self.n_clusters} clusters (use n_clusters <= {distinct})")

    def _assign(self, x, x_sq, centers):
        """Nearest centre of every row, its squared distance, and the per-cluster sums of
        the rows. Rows go through in blocks that stay in the CPU cache, so the data is
        read from memory once for both matrix products (distances, then sums)."""
        k = len(centers)
        labels = np.empty(len(x), dtype=np.intp)
        nearest = np.empty(len(x), dtype=x.dtype)
        sums = np.zeros((k, x.shape[1]), dtype=x.dtype)
        clusters = np.arange(k)[:, None]
        for start in range(0, len(x), BLOCK_ROWS):
            block = slice(start, start + BLOCK_ROWS)
            d2 = _squared_distances(x[block], centers, x_sq[block])
            labels[block] = d2.argmin(axis=1)
            nearest[block] = np.take_along_axis(d2, labels[block, None], axis=1)[:, 0]
            one_hot = (labels[block] == clusters).astype(x.dtype)        # (K, rows)
            sums += one_hot @ x[block]
        return labels, nearest, sums

    @staticmethod
    def _means(x, sums, counts, nearest):
        """Each cluster's mean, sums / counts. An empty cluster takes instead the point
        farthest from its centre (by ``nearest``, the squared distances), a second empty
        one the next farthest, and so on: no count is 0, so no centre is NaN."""
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            far = np.argsort(nearest, kind="stable")[::-1][:len(empty)]
            sums, counts = sums.copy(), counts.copy()
            sums[empty], counts[empty] = x[far], 1
        return sums / counts[:, None]

    def _lloyd(self, x, x_sq, centers, tol):
        """Lloyd's iterations, :func:`lloyd_step` after :func:`lloyd_step`: assign each point to
        its nearest centre, move each centre to the mean of its points; stop when the centres'
        squared moves add up to at most ``tol`` (already scaled by the features' variance in
        ``fit``). ``history`` holds the inertia of each assignment."""
        history, rows = [], np.arange(len(x))
        for it in range(1, self.max_iter + 1):
            labels, new = lloyd_step(x, centers)
            history.append(float(_squared_distances(x, centers, x_sq)[rows, labels]
                                 .sum(dtype=np.float64)))
            _check_finite(new, it, x)
            shift = float(((new - centers) ** 2).sum())
            centers = new
            if shift <= tol:
                break
        labels, nearest, _ = self._assign(x, x_sq, centers)
        inertia = float(nearest.sum(dtype=np.float64))
        history.append(inertia)
        return centers, labels, inertia, it, history

    def _hamerly(self, x, x_sq, centers, tol):
        """Lloyd's iterations with Hamerly's bounds (G. Hamerly, 2010).

        Each point keeps an upper bound u on the distance to its own centre and a lower
        bound l on the distance to any other. When the centres move by delta_j,
        u grows by delta of its centre and l shrinks by the largest delta. A point
        with u < max(l, s/2), s the distance from its centre to the nearest other
        centre, cannot change cluster and is skipped; only the others are measured
        (a tie, u = max(l, s/2), is measured too, so that argmin breaks it as in Lloyd's).
        Cluster sums are updated only for points that change cluster.
        """
        k = self.n_clusters
        labels, upper, lower, sums, counts = self._full_state(x, x_sq, centers)
        for it in range(1, self.max_iter + 1):
            # An empty cluster is re-seeded as Lloyd's does, from the exact distances.
            nearest = self._assign(x, x_sq, centers)[1] if (counts == 0).any() else None
            new = self._means(x, sums, counts, nearest).astype(x.dtype)
            _check_finite(new, it, x)
            move = np.sqrt(((new - centers).astype(np.float64) ** 2).sum(axis=1))
            centers = new
            if float((move ** 2).sum()) <= tol:
                break
            if nearest is not None:        # re-seeded: sums and counts no longer follow the labels
                labels, upper, lower, sums, counts = self._full_state(x, x_sq, centers)
                continue
            upper += move[labels]
            lower -= move.max()
            between = np.sqrt(_squared_distances(centers, centers).astype(np.float64))
            np.fill_diagonal(between, np.inf)
            half_gap = 0.5 * between.min(axis=1) if k > 1 else np.full(1, np.inf)
            check = np.flatnonzero(upper >= np.maximum(half_gap[labels], lower))
            if len(check) == 0:
                continue
            d2 = _squared_distances(x[check], centers, x_sq[check]).astype(np.float64)
            new_labels = d2.argmin(axis=1)
            changed = new_labels != labels[check]
            if changed.any():
                moved = check[changed]
                clusters = np.arange(k)[:, None]
                delta = ((new_labels[changed] == clusters).astype(x.dtype)
                         - (labels[moved] == clusters).astype(x.dtype))     # (K, moved)
                sums += delta @ x[moved]
                counts += delta.sum(axis=1)
                labels[moved] = new_labels[changed]
            upper[check], lower[check] = self._nearest_two(d2)
        labels, nearest, _ = self._assign(x, x_sq, centers)
        return centers, labels, float(nearest.sum(dtype=np.float64)), it, None

    def _nearest_two(self, d2):
        """Distances to the nearest and the second-nearest centre, from squared distances."""
        if d2.shape[1] == 1:
            return np.sqrt(d2[:, 0]), np.full(len(d2), np.inf)
        two = np.sqrt(np.partition(d2, 1, axis=1)[:, :2])
        return two[:, 0], two[:, 1]

    def _full_state(self, x, x_sq, centers):
        """Every point measured against every centre: labels, both bounds, sums and counts."""
        labels = np.empty(len(x), dtype=np.intp)
        upper, lower = np.empty(len(x)), np.empty(len(x))
        for start in range(0, len(x), BLOCK_ROWS):
            block = slice(start, start + BLOCK_ROWS)
            d2 = _squared_distances(x[block], centers, x_sq[block]).astype(np.float64)
            labels[block] = d2.argmin(axis=1)
            upper[block], lower[block] = self._nearest_two(d2)
        one_hot = (labels == np.arange(len(centers))[:, None]).astype(x.dtype)
        sums = (one_hot @ x).astype(np.float64)
        return labels, upper, lower, sums, one_hot.sum(axis=1, dtype=np.float64)

    def fit(self, x):
        """Cluster x (N, D): the best of ``n_init`` seeded runs (lowest inertia).

        Raises ValueError when x cannot form ``n_clusters`` clusters (fewer samples or
        distinct points) and :class:`~scratchnn.checks.NumericalError` if a run's centres
        become non-finite (no such run is ever kept).
        """
        x = check_array(x, "x")
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)
        if len(x) < self.n_clusters:
            raise ValueError(f"x has {len(x)} samples; k-means cannot form {self.n_clusters} clusters "
                             f"(use n_clusters <= {len(x)})")
        # k-means does not move with a shift of the data, but the distance expansion
        # ||x||^2 - 2 x.c + ||c||^2 loses the digits that tell points apart when they sit far
        # from the origin compared with their spread: centring x first keeps them.
        mean = x.mean(axis=0, dtype=np.float64).astype(x.dtype)
        x = x - mean
        x_sq = _squared_norms(x)
        _check_scale(x_sq, "x")
        tol = self.tol * float(np.mean(np.var(x, axis=0)))
        best = None
        iterate = self._lloyd if self.algorithm == "lloyd" else self._hamerly
        for restart in range(1, self.n_init + 1):
            try:
                run = iterate(x, x_sq, self._init_plus_plus(x, x_sq), tol)
            except NumericalError as err:
                raise NumericalError(f"k-means ({self.algorithm}), restart {restart} of {self.n_init}: "
                                     f"{err}") from None
            if best is None or run[2] < best[2]:
                best = run
        (centers, self.labels_, self.inertia_, self.n_iter_, self.inertia_history_) = best
        # predict measures distances about the same mean, with these very centres (adding the
        # mean and subtracting it again would round away what the centring kept).
        self.x_mean_, self._centred_centers = mean, centers
        self.cluster_centers_ = centers + mean
        return self

    def predict(self, x):
        """Index of the nearest centre of each row: x (N, D) -> (N,)."""
        check_fitted(self, "cluster_centers_")
        centers = self.cluster_centers_
        x = check_array(x, "x", dtype=centers.dtype)
        if x.shape[1] != centers.shape[1]:
            raise ValueError(f"x has {x.shape[1]} features, the centres have {centers.shape[1]}")
        x = x - self.x_mean_                      # as in fit: distances about the data's mean
        x_sq = _squared_norms(x)
        _check_scale(x_sq, "x")
        return _squared_distances(x, self._centred_centers, x_sq).argmin(axis=1)

    def fit_predict(self, x):
        return self.fit(x).labels_


# --------------------------------------------------------------------------- scores


def _check_labellings(labels_true, labels_pred):
    """Two labellings of the same samples: integer arrays (n,) of one length, n >= 1."""
    labels_true = np.asarray(labels_true)
    if labels_true.ndim != 1:
        hint = "; flatten it with labels_true.ravel()" if labels_true.ndim == 2 and 1 in labels_true.shape else ""
        raise ValueError(f"labels_true must be 1-D, one label per sample, got shape {labels_true.shape}{hint}")
    if len(labels_true) == 0:
        raise ValueError("labels_true is empty; pass one label per sample")
    labels_true = check_labels(labels_true, "labels_true", len(labels_true))
    return labels_true, check_labels(labels_pred, "labels_pred", len(labels_true))


def contingency_matrix(labels_true, labels_pred):
    """n_ij = number of samples in true class i and cluster j (classes and clusters
    numbered in sorted order of their labels)."""
    labels_true, labels_pred = _check_labellings(labels_true, labels_pred)
    classes, ti = np.unique(labels_true, return_inverse=True)
    clusters, pj = np.unique(labels_pred, return_inverse=True)
    table = np.zeros((len(classes), len(clusters)), dtype=np.int64)
    np.add.at(table, (ti, pj), 1)
    return table


def _pairs(n):
    return n * (n - 1) / 2


def adjusted_rand_score(labels_true, labels_pred):
    """Adjusted Rand Index (Hubert and Arabie, 1985): 1 for identical partitions, about 0
    for independent ones.

    With n_ij the contingency table, a_i its row sums and b_j its column sums:
        index = sum_ij C(n_ij, 2),  expected = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2),
        max = (sum_i C(a_i, 2) + sum_j C(b_j, 2)) / 2,
        ARI = (index - expected) / (max - expected).
    """
    table = contingency_matrix(labels_true, labels_pred).astype(np.float64)
    n = table.sum()
    index = _pairs(table).sum()
    rows, cols = _pairs(table.sum(axis=1)).sum(), _pairs(table.sum(axis=0)).sum()
    expected = rows * cols / _pairs(n) if n > 1 else 0.0
    maximum = (rows + cols) / 2
    if maximum == expected:      # both partitions trivial (one cluster, or all singletons)
        return 1.0
    return float((index - expected) / (maximum - expected))


def _entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_info_score(labels_true, labels_pred):
    """Mutual information divided by the mean of the two entropies (arithmetic mean,
    scikit-learn's default): 1 for identical partitions, 0 for independent ones."""
    table = contingency_matrix(labels_true, labels_pred).astype(np.float64)
    n = table.sum()
    a, b = table.sum(axis=1), table.sum(axis=0)
    nz = table > 0
    mi = float((table[nz] / n * np.log(table[nz] * n / np.outer(a, b)[nz])).sum())
    h_true, h_pred = _entropy(a), _entropy(b)
    if h_true == 0 and h_pred == 0:
        return 1.0
    return max(0.0, mi / ((h_true + h_pred) / 2))


def cluster_means(x, labels, k):
    """The mean of the rows of x (N, d) in each of the k clusters that ``labels`` (N,) give:
    (k, d), in x's dtype (the sums in float64). An empty cluster has no mean: an error."""
    x = check_array(x, "x", ndim=2)
    labels = check_labels(labels, "labels", len(x), k)
    counts = np.bincount(labels, minlength=k)
    if (counts == 0).any():
        raise ValueError(f"cluster {int(np.argmin(counts))} of {k} is empty: no mean to start from")
    sums = np.zeros((k, x.shape[1]), np.float64)
    np.add.at(sums, labels, x)
    return (sums / counts[:, None]).astype(x.dtype)


def linear_sum_assignment(cost):
    """Hungarian algorithm (Kuhn 1955, Munkres 1957), O(n^2 m) with potentials.

    cost (n, m) -> (rows, cols): the one-to-one pairing of min(n, m) rows and columns
    with the smallest total cost.
    """
    cost = check_array(cost, "cost", dtype=np.float64, allow_empty=True)
    # The potentials below stay within a few (n + m) times the largest |cost|.
    if cost.size and not np.abs(cost).max() < np.finfo(np.float64).max / (4 * (sum(cost.shape) + 1)):
        raise ValueError(f"cost is too large (|cost| up to {np.abs(cost).max():.3g}) for the Hungarian "
                         "potentials in float64; divide it by a constant (the matching does not change)")
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = cost.T
    n, m = cost.shape
    # u, v: potentials of rows and columns; p[j]: row matched to column j (1-based, 0 = none).
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    p, way = np.zeros(m + 1, dtype=int), np.zeros(m + 1, dtype=int)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while p[j0] != 0:
            used[j0] = True
            i0 = p[j0]
            # Reduced costs of the free columns from row i0; keep the best way to each.
            free = ~used[1:]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            candidates = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(candidates)) + 1
            delta = candidates[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
        while j0:                # augment along the alternating path
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    cols = np.flatnonzero(p[1:])
    rows = p[1:][cols] - 1
    order = np.argsort(rows)
    rows, cols = rows[order], cols[order]
    return (cols, rows) if transposed else (rows, cols)


def clustering_accuracy(labels_true, labels_pred):
    """Accuracy under the best one-to-one matching of clusters to classes (Hungarian)."""
    table = contingency_matrix(labels_true, labels_pred)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / table.sum())


def pca(x, n_components=2):
    """Project ``x`` on its first principal components, from the SVD of the centred data.

    x - mean = U S V^T; the components are the first rows of V^T and the projection
    is (x - mean) V[:, :n] = U[:, :n] S[:n]. Returns (projection, components,
    explained variance ratio). ``n_components`` may not exceed the rank of the centred
    data: past it, the directions have no variance and are arbitrary.
    """
    x = check_array(x, "x", dtype=np.float64)
    n_components = check_positive(n_components, "n_components", integer=True)
    with np.errstate(over="ignore", invalid="ignore"):
        centred = x - x.mean(axis=0)
    if not np.isfinite(centred).all():
        raise ValueError(f"x is too large to centre in float64 (values up to {np.abs(x).max():.3g}); "
                         "scale it down")
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    # Numerical rank as numpy.linalg.matrix_rank counts it.
    rank = int(np.sum(s > s[0] * max(x.shape) * np.finfo(np.float64).eps)) if s[0] > 0 else 0
    if rank == 0:
        raise ValueError("x has no variance (all its rows are equal), so it has no principal components")
    if n_components > rank:
        raise ValueError(f"n_components={n_components} is above the rank of the centred x ({rank}): only "
                         f"{rank} directions have variance; ask for at most {rank}")
    var = (s / s[0]) ** 2          # relative to the largest: the ratio below neither overflows nor underflows
    return u[:, :n_components] * s[:n_components], vt[:n_components], var[:n_components] / var.sum()
