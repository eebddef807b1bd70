"""k-means and the scores of a clustering: ARI, NMI and matched accuracy; PCA by SVD."""

import math

import numpy as np

BLOCK_ROWS = 1024   # rows of data per block in k-means' assignment step


def squared_distances(x, centers, x_sq=None):
    """||x - c||^2 for every row and centre by the expansion ||x||^2 - 2 x.c + ||c||^2.

    x (N, D), centers (K, D) -> (N, K). One matrix product does the work; the
    result is clipped at 0, where rounding can push a tiny distance below it.
    """
    if x_sq is None:
        x_sq = np.einsum("ij,ij->i", x, x)
    d2 = x @ centers.T
    d2 *= -2
    d2 += x_sq[:, None]
    d2 += np.einsum("ij,ij->i", centers, centers)[None, :]
    return np.maximum(d2, 0, out=d2)


class KMeans:
    """k-means (Lloyd's algorithm) with k-means++ seeding and several restarts.

    Parameters follow scikit-learn's names: ``n_clusters``, ``n_init`` (restarts; the
    run with the lowest inertia is kept), ``max_iter``, ``tol`` (stop when the centres
    move by less than ``tol`` times the mean feature variance, squared), ``rng``.

    ``algorithm="lloyd"`` is the plain algorithm, measuring every point against every
    centre at each iteration; ``"hamerly"`` (the default) makes the same assignments
    but skips the points whose nearest centre provably cannot have changed.

    After ``fit``: ``cluster_centers_`` (K, D), ``labels_`` (N,), ``inertia_`` (sum of
    squared distances to the nearest centre), ``n_iter_``, and with ``"lloyd"``
    ``inertia_history_`` (inertia after each assignment step of the kept run; it never
    rises).
    """

    def __init__(self, n_clusters=8, n_init=10, max_iter=300, tol=1e-4, algorithm="hamerly",
                 rng=None):
        if n_clusters < 1 or n_init < 1 or max_iter < 1:
            raise ValueError("n_clusters, n_init and max_iter must be positive")
        if algorithm not in ("lloyd", "hamerly"):
            raise ValueError(f"algorithm must be 'lloyd' or 'hamerly', got {algorithm!r}")
        self.n_clusters, self.n_init, self.max_iter, self.tol = n_clusters, n_init, max_iter, tol
        self.algorithm = algorithm
        self.rng = np.random.default_rng(rng)

    def _check(self, x):
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"x must be 2-D (n_samples, n_features), got shape {x.shape}")
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)
        if not np.isfinite(x).all():
            raise ValueError("x contains NaN or infinity")
        return x

    def _init_plus_plus(self, x, x_sq):
        """Greedy k-means++ (Arthur and Vassilvitskii, 2007): each new centre is drawn
        with probability proportional to D(x)^2, the squared distance to the nearest
        centre so far; of 2 + log(K) such draws the one lowering the potential most wins."""
        n, k = len(x), self.n_clusters
        trials = 2 + int(math.log(k))
        centers = np.empty((k, x.shape[1]), dtype=x.dtype)
        centers[0] = x[self.rng.integers(n)]
        closest = squared_distances(x, centers[:1], x_sq)[:, 0].astype(np.float64)
        for c in range(1, k):
            total = closest.sum()
            if total <= 0:           # fewer distinct points than clusters
                centers[c:] = x[self.rng.integers(n, size=k - c)]
                break
            cumulative = np.cumsum(closest)
            picks = np.searchsorted(cumulative, self.rng.random(trials) * cumulative[-1])
            picks = np.minimum(picks, n - 1)
            d2 = squared_distances(x, x[picks], x_sq).astype(np.float64)      # (N, trials)
            candidate = np.minimum(closest[:, None], d2)
            best = int(np.argmin(candidate.sum(axis=0)))
            centers[c] = x[picks[best]]
            closest = candidate[:, best]
        return centers

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
            d2 = squared_distances(x[block], centers, x_sq[block])
            labels[block] = d2.argmin(axis=1)
            nearest[block] = np.take_along_axis(d2, labels[block, None], axis=1)[:, 0]
            one_hot = (labels[block] == clusters).astype(x.dtype)        # (K, rows)
            sums += one_hot @ x[block]
        return labels, nearest, sums

    def _lloyd(self, x, x_sq, centers, tol):
        """Lloyd's iterations: assign each point to its nearest centre, move each centre
        to the mean of its points; stop when the centres move less than ``tol``."""
        history = []
        for it in range(1, self.max_iter + 1):
            labels, nearest, sums = self._assign(x, x_sq, centers)
            history.append(float(nearest.sum(dtype=np.float64)))
            counts = np.bincount(labels, minlength=self.n_clusters).astype(x.dtype)
            empty = np.flatnonzero(counts == 0)
            if len(empty):
                # Re-seed an empty cluster at the points farthest from their centres.
                far = np.argsort(nearest)[::-1][:len(empty)]
                sums[empty] = x[far]
                counts[empty] = 1
            new = sums / counts[:, None]
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
        with u <= max(l, s/2), s the distance from its centre to the nearest other
        centre, cannot change cluster and is skipped; only the others are measured.
        Cluster sums are updated only for points that change cluster.
        """
        k = self.n_clusters
        labels, upper, lower, sums, counts = self._full_state(x, x_sq, centers)
        for it in range(1, self.max_iter + 1):
            if (counts == 0).any():        # re-seed empty clusters at the worst-fitted points
                empty = np.flatnonzero(counts == 0)
                centers = centers.copy()
                centers[empty] = x[np.argsort(upper)[::-1][:len(empty)]]
                labels, upper, lower, sums, counts = self._full_state(x, x_sq, centers)
            new = (sums / counts[:, None]).astype(x.dtype)
            move = np.sqrt(((new - centers).astype(np.float64) ** 2).sum(axis=1))
            centers = new
            if float((move ** 2).sum()) <= tol:
                break
            upper += move[labels]
            lower -= move.max()
            between = np.sqrt(squared_distances(centers, centers).astype(np.float64))
            np.fill_diagonal(between, np.inf)
            half_gap = 0.5 * between.min(axis=1) if k > 1 else np.full(1, np.inf)
            check = np.flatnonzero(upper > np.maximum(half_gap[labels], lower))
            if len(check) == 0:
                continue
            d2 = squared_distances(x[check], centers, x_sq[check]).astype(np.float64)
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
            d2 = squared_distances(x[block], centers, x_sq[block]).astype(np.float64)
            labels[block] = d2.argmin(axis=1)
            upper[block], lower[block] = self._nearest_two(d2)
        one_hot = (labels == np.arange(len(centers))[:, None]).astype(x.dtype)
        sums = (one_hot @ x).astype(np.float64)
        return labels, upper, lower, sums, one_hot.sum(axis=1, dtype=np.float64)

    def fit(self, x):
        x = self._check(x)
        if len(x) < self.n_clusters:
            raise ValueError(f"{len(x)} samples cannot form {self.n_clusters} clusters")
        x_sq = np.einsum("ij,ij->i", x, x)
        tol = self.tol * float(np.mean(np.var(x, axis=0)))
        best = None
        iterate = self._lloyd if self.algorithm == "lloyd" else self._hamerly
        for _ in range(self.n_init):
            run = iterate(x, x_sq, self._init_plus_plus(x, x_sq), tol)
            if best is None or run[2] < best[2]:
                best = run
        (self.cluster_centers_, self.labels_, self.inertia_, self.n_iter_,
         self.inertia_history_) = best
        return self

    def predict(self, x):
        x = self._check(x)
        if x.shape[1] != self.cluster_centers_.shape[1]:
            raise ValueError(f"x has {x.shape[1]} features, the centres have "
                             f"{self.cluster_centers_.shape[1]}")
        return squared_distances(x.astype(self.cluster_centers_.dtype, copy=False),
                                 self.cluster_centers_).argmin(axis=1)

    def fit_predict(self, x):
        return self.fit(x).labels_


# --------------------------------------------------------------------------- scores


def contingency_matrix(labels_true, labels_pred):
    """n_ij = number of samples in true class i and cluster j (classes and clusters
    numbered in sorted order of their labels)."""
    labels_true, labels_pred = np.asarray(labels_true), np.asarray(labels_pred)
    if labels_true.shape != labels_pred.shape or labels_true.ndim != 1:
        raise ValueError(f"label arrays must be 1-D and of equal length, got {labels_true.shape} "
                         f"and {labels_pred.shape}")
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


def linear_sum_assignment(cost):
    """Hungarian algorithm (Kuhn 1955, Munkres 1957), O(n^2 m) with potentials.

    cost (n, m) -> (rows, cols): the one-to-one pairing of min(n, m) rows and columns
    with the smallest total cost.
    """
    cost = np.asarray(cost, dtype=np.float64)
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
    explained variance ratio).
    """
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s ** 2
    return u[:, :n_components] * s[:n_components], vt[:n_components], var[:n_components] / var.sum()
