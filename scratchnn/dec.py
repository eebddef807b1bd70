"""Deep embedded clustering: DEC (Xie, Girshick and Farhadi, ICML 2016) and IDEC
(Guo, Gao, Liu and Yin, IJCAI 2017), built from the core's layers and training loop.

An autoencoder is trained first; its encoder maps each image x_i to a code z_i.
k-means on the codes gives initial cluster centres mu_j. Then the encoder and the
centres are fine-tuned together so that the soft assignments sharpen:

    q_ij = (1 + ||z_i - mu_j||^2 / alpha)^(-(alpha+1)/2) / sum_k (same for k)   (Student's t)
    p_ij = (q_ij^2 / f_j) / sum_k (q_ik^2 / f_k),   f_j = sum_i q_ij               (the target)
    L_DEC = KL(P || Q) = (1/N) sum_ij p_ij log(p_ij / q_ij)

P squares and renormalises Q, so confident assignments grow more confident, and
dividing by the cluster's size f_j keeps large clusters from swallowing the rest.
P is held fixed between refreshes (every ``update_interval`` steps), as in the paper.
IDEC adds the reconstruction loss back, L = gamma L_DEC + MSE(decoder(z), x), so
the codes keep describing the images and do not collapse.
"""

import numpy as np

from .checks import check_array, check_fitted, check_positive
from .cluster import KMeans, squared_distances
from .layers import Container, Layer, Sequential
from .losses import mse
from .train import fit


class StudentTAssignment(Layer):
    """Soft assignment of codes to learnable centres by a Student's t kernel (DEC, eq. 1).

    params: ``centers`` (K, d).  forward: z (N, d) -> q (N, K), each row summing to 1.
    """

    def __init__(self, centers, alpha=1.0):
        super().__init__()
        centers = check_array(centers, "centers", ndim=2)
        self.params["centers"] = centers.copy()
        self.alpha = check_positive(alpha, "alpha")
        self._cache = None

    def forward(self, z):
        """q_ij = u_ij / sum_k u_ik,  u_ij = (1 + d_ij / alpha)^(-(alpha+1)/2),  d_ij = ||z_i - mu_j||^2."""
        mu = self.params["centers"]
        if not isinstance(z, np.ndarray) or z.ndim != 2 or z.shape[1] != mu.shape[1]:
            raise ValueError(f"StudentTAssignment expects codes of shape (N, {mu.shape[1]}), got {np.shape(z)}")
        kernel = 1.0 / (1.0 + squared_distances(z, mu) / self.alpha)      # (1 + d/alpha)^-1
        u = kernel ** ((self.alpha + 1) / 2)
        q = u / u.sum(axis=1, keepdims=True)
        self._cache = (z, q, kernel) if self.training else None
        return q

    def backward(self, dq, input_grad=True):
        """dq = dL/dq (N, K) -> dz (N, d); sets grads['centers'] (K, d).

        Through the normalisation, dL/du_ij = (dq_ij - sum_k dq_ik q_ik) / S_i with S_i = sum_k u_ik;
        du_ij/dd_ij = -(alpha+1)/(2 alpha) u_ij (1 + d_ij/alpha)^-1, and u_ij / S_i = q_ij, so

            w_ij = dL/dd_ij = -(alpha+1)/(2 alpha) q_ij (dq_ij - sum_k dq_ik q_ik) (1 + d_ij/alpha)^-1.

        d_ij = ||z_i - mu_j||^2 gives dz_i = 2 sum_j w_ij (z_i - mu_j) and dmu_j = -2 sum_i w_ij (z_i - mu_j).
        (With L = KL(P || Q) this is DEC's eq. 4: dz_i = (alpha+1)/alpha sum_j (1 + d_ij/alpha)^-1
        (p_ij - q_ij)(z_i - mu_j), up to the 1/N of a batch mean.)
        """
        if self._cache is None:
            raise ValueError("StudentTAssignment.backward called before forward: run forward(z) "
                             "in training mode first")
        z, q, kernel = self._cache
        if np.shape(dq) != q.shape:
            raise ValueError(f"StudentTAssignment.backward: dq has shape {np.shape(dq)}, q has {q.shape}")
        mu = self.params["centers"]
        centred_dq = dq - (dq * q).sum(axis=1, keepdims=True)
        w2 = (-(self.alpha + 1) / self.alpha) * q * centred_dq * kernel      # 2 w_ij
        if self.trainable:
            # dmu_j = -sum_i 2 w_ij (z_i - mu_j) = -(W^T z)_j + mu_j sum_i 2 w_ij
            self.grads["centers"] = mu * w2.sum(axis=0)[:, None] - w2.T @ z
        if not input_grad:
            return None
        return z * w2.sum(axis=1, keepdims=True) - w2 @ mu               # sum_j 2 w_ij (z_i - mu_j)

    def output_width(self, n_in):
        return len(self.params["centers"])

    @property
    def n_in(self):
        return self.params["centers"].shape[1]

    def __repr__(self):
        k, d = self.params["centers"].shape
        return f"StudentTAssignment({k} centres in {d}-d, alpha={self.alpha:g})"


def target_distribution(q):
    """DEC's target, eq. 3: p_ij = (q_ij^2 / f_j) / sum_k (q_ik^2 / f_k), f_j = sum_i q_ij.

    q (N, K) over the *whole* data set (f_j is a cluster's total soft size) -> p (N, K).
    """
    q = check_array(q, "q", ndim=2)
    weight = q ** 2 / q.sum(axis=0)
    return weight / weight.sum(axis=1, keepdims=True)


def kl_divergence(q, p):
    """KL(P || Q) = (1/N) sum_ij p_ij log(p_ij / q_ij), a mean over the batch, with P fixed.

    dL/dq_ij = -p_ij / (N q_ij).   q, p (N, K) -> (scalar, (N, K)).  Terms with p_ij = 0 are 0.
    """
    if np.shape(p) != np.shape(q) or np.ndim(q) != 2 or np.size(q) == 0:
        raise ValueError(f"kl_divergence: q and p must be non-empty and of one shape (N, K), "
                         f"got {np.shape(q)} and {np.shape(p)}")
    n = len(q)
    positive = p > 0
    loss = float(np.sum(p[positive] * np.log(p[positive] / q[positive]))) / n
    return loss, np.where(positive, -p / (n * np.where(positive, q, 1)), 0).astype(q.dtype)


class Concat(Container):
    """Applies each of its layers (branches) to the same input and joins their outputs side by
    side: out = [f_1(x), f_2(x), ...] (N, sum of widths). Used for IDEC's two heads on one code.

    The input feeds every branch, so its gradient is the sum: dx = sum_b df_b/dx^T dout_b.
    """

    def forward(self, x):
        outs = [layer.forward(x) for layer in self.layers]
        self._widths = [out.shape[1] for out in outs]
        return np.concatenate(outs, axis=1)

    def backward(self, dout, input_grad=True):
        """dout (N, sum of widths) -> dx (N, D): each branch gets its columns of dout."""
        if getattr(self, "_widths", None) is None:
            raise ValueError("Concat.backward called before forward: run forward(x) first")
        splits = np.cumsum(self._widths)[:-1]
        parts = np.split(dout, splits, axis=1)
        dxs = [layer.backward(part, input_grad=input_grad) for layer, part in zip(self.layers, parts)]
        return sum(dxs) if input_grad else None

    def output_width(self, n_in):
        return sum(layer.output_width(n_in) for layer in self.layers)

    def __repr__(self):
        return f"Concat([{', '.join(repr(layer) for layer in self.layers)}])"


class IDECLoss:
    """gamma KL(P || Q) + reconstruction loss, on the joined output [q, reconstruction].

    Called as ``loss(output, p, x)`` with output (N, K + D), p (N, K), x (N, D).
    ``reconstruction`` is the loss the autoencoder was pretrained with (``mse`` by
    default, or e.g. a WeightedMSE), so fine-tuning keeps the same notion of a good
    reconstruction. DEC is IDEC without the decoder.
    """

    def __init__(self, n_clusters, gamma=0.1, reconstruction=mse):
        self.k = int(n_clusters)
        self.gamma = check_positive(gamma, "gamma")
        self.reconstruction = reconstruction

    def __call__(self, output, p, x):
        q, recon = output[:, :self.k], output[:, self.k:]
        kl, dq = kl_divergence(q, p)
        rec, drecon = self.reconstruction(recon, x)
        return self.gamma * kl + rec, np.concatenate([self.gamma * dq, drecon], axis=1)


class DEC:
    """Fine-tune an encoder and cluster centres by DEC, or by IDEC when given the decoder.

    encoder           a Sequential mapping x (N, D) to codes (N, d), already pretrained.
    decoder           None for DEC; the autoencoder's decoder for IDEC (reconstruction kept).
    gamma             IDEC's weight of the clustering loss against the reconstruction.
    update_interval   steps between two refreshes of the target P (computed on all of x).
    tol               stop when fewer than this fraction of points changed cluster between
                      two refreshes (the paper's rule, 0.1%).
    optimizer         updates encoder, decoder and centres (state by parameter name).
    reconstruction    IDEC's reconstruction loss: the one the autoencoder was pretrained with.
    initial_centers   (n_clusters, d) centres to start from; None runs k-means on the codes.
    augment           None, or ``augment(x_batch, rng) -> x_batch`` (e.g. RandomRotation): DEC-DA
                      (Guo, Zhu, Liu and Yin, 2018). The target P comes from the clean images; the
                      loss sees each batch augmented (IDEC rebuilds the augmented batch).

    ``fit(x, callback=None)`` starts the centres with k-means on the codes (or
    ``initial_centers``) and returns self; ``callback(dec)``, if given, runs at each refresh of
    P and may return a dict of named numbers (a validation score, say) kept in that refresh's
    ``history`` entry; afterwards ``labels_`` (hard assignments of x), ``converged_`` (stopped
    by ``tol``, not by the step limit), ``initial_centers_``, ``history`` (per refresh of
    P, and once more at the step limit: step, fraction changed, mean largest q, clusters
    left empty, loss) and ``predict(x)``. Clusters can empty out (the codes collapse onto
    fewer centres); the history records it and ``empty_clusters_`` counts them at the
    end, so a caller can say so rather than report the clustering as if it were whole.
    """

    def __init__(self, encoder, optimizer, n_clusters=10, decoder=None, gamma=0.1, alpha=1.0,
                 batch_size=256, update_interval=140, tol=0.001, max_steps=20000, n_init=10,
                 reconstruction=mse, initial_centers=None, augment=None, rng=None, verbose=True):
        self.encoder, self.decoder, self.optimizer = encoder, decoder, optimizer
        self.n_clusters = check_positive(n_clusters, "n_clusters", integer=True)
        self.gamma, self.alpha = check_positive(gamma, "gamma"), check_positive(alpha, "alpha")
        self.batch_size = check_positive(batch_size, "batch_size", integer=True)
        self.update_interval = check_positive(update_interval, "update_interval", integer=True)
        self.tol = check_positive(tol, "tol", allow_zero=True)
        self.max_steps = check_positive(max_steps, "max_steps", integer=True)
        self.n_init = n_init
        self.reconstruction = reconstruction
        self.start = None if initial_centers is None else check_array(
            initial_centers, "initial_centers", ndim=2)
        self.augment = augment
        self.rng = np.random.default_rng(rng)
        self.verbose = verbose
        self.assignment = None

    def _model(self):
        """The network fine-tuned: encoder then q (DEC), or encoder then [q, decoder] (IDEC)."""
        if self.decoder is None:
            return Sequential([*self.encoder.layers, self.assignment])
        return Sequential([*self.encoder.layers, Concat([self.assignment, self.decoder])])

    def soft_assignments(self, x):
        """q (N, K) for every row of x, computed in batches (bounded memory)."""
        return Sequential([*self.encoder.layers, self.assignment]).predict(x)

    def predict(self, x):
        """The cluster of each row of x: the largest soft assignment."""
        check_fitted(self, "assignment")
        return self.soft_assignments(x).argmax(axis=1)

    def _record(self, x, labels, steps, callback=None):
        """q for all of x, its hard labels and the share that changed since ``labels``;
        appended to the history with the mean confidence, the clusters left empty and what
        ``callback(self)`` returns."""
        q = self.soft_assignments(x)
        new_labels = q.argmax(axis=1)
        changed = float(np.mean(new_labels != labels))
        self.history.append({"step": steps, "changed": changed,
                             "confidence": float(q.max(axis=1).mean()),
                             "empty": self.n_clusters - len(np.unique(new_labels))})
        if callback is not None:
            extra = callback(self)
            if extra is not None and not isinstance(extra, dict):
                raise TypeError(f"a DEC callback returns None or a dict of named numbers, got "
                                f"{type(extra).__name__}")
            taken = sorted(set(extra or {}) & {*self.history[-1], "loss"})    # loss: set later
            if taken:
                raise ValueError(f"a DEC callback may not overwrite the history's own {taken}: "
                                 "give its numbers other names")
            self.history[-1].update(extra or {})
        return q, new_labels, changed

    def fit(self, x, callback=None):
        x = check_array(x, "x", ndim=2, dtype=self.encoder.dtype)
        codes = self.encoder.predict(x)
        if self.start is None:
            km = KMeans(self.n_clusters, n_init=self.n_init, rng=self.rng).fit(codes)
            self.initial_centers_, labels = km.cluster_centers_.astype(codes.dtype), km.labels_
        else:
            if self.start.shape != (self.n_clusters, codes.shape[1]):
                raise ValueError(f"initial_centers has shape {self.start.shape}; the codes need "
                                 f"({self.n_clusters}, {codes.shape[1]})")
            self.initial_centers_ = self.start.astype(codes.dtype)
            labels = squared_distances(codes, self.initial_centers_).argmin(axis=1)
        self.assignment = StudentTAssignment(self.initial_centers_, self.alpha)
        model = self._model()
        if self.decoder is None:
            loss = lambda out, p: kl_divergence(out, p)        # noqa: E731
        else:
            loss = IDECLoss(self.n_clusters, self.gamma, self.reconstruction)
        self.history, steps = [], 0
        self.converged_ = False
        order, position = self.rng.permutation(len(x)), 0
        chunk = self.update_interval * self.batch_size
        while steps < self.max_steps:
            q, labels, changed = self._record(x, labels, steps, callback)
            if self.verbose:
                print(f"  DEC step {steps}: {100 * changed:.2f}% of points changed cluster", flush=True)
            if steps > 0 and changed < self.tol:
                self.converged_ = True
                break
            p = target_distribution(q).astype(x.dtype)
            if position + chunk > len(x):
                order, position = self.rng.permutation(len(x)), 0
            idx = order[position:position + chunk]
            position += chunk
            xb = x[idx] if self.augment is None else augmented(self.augment, x[idx], self.rng)
            targets = p[idx] if self.decoder is None else (p[idx], xb)
            h = fit(model, loss, self.optimizer, xb, targets, epochs=1, batch_size=self.batch_size,
                    rng=self.rng, progress=False, name="DEC" if self.decoder is None else "IDEC",
                    warn_constant=False)      # each fit is one piece of DEC's run
            self.history[-1]["loss"] = h.epoch_loss[-1]
            steps += len(h.loss)
        if not self.converged_:            # stopped by the step limit: label the final model
            _, labels, _ = self._record(x, labels, steps, callback)
        self.labels_ = labels
        self.n_steps_ = steps
        self.empty_clusters_ = self.n_clusters - len(np.unique(labels))
        return self


def augmented(augment, x, rng, piece=4096):
    """``augment(x, rng)`` applied a piece of rows at a time, so its temporaries (several
    arrays the size of the piece) stay bounded however many rows x has."""
    return np.concatenate([augment(x[i:i + piece], rng) for i in range(0, len(x), piece)])
