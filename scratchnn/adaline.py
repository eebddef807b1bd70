"""Adaline (Widrow and Hoff, 1960) and Madaline (rules MRI and MRII).

These are the neurons before backpropagation, each with its own historical
learning rule; none of them uses the layers of :mod:`scratchnn.layers`.
Targets and outputs are bipolar: +1 or -1.
"""

import numpy as np


def bipolar_step(net):
    """+1 where net >= 0, else -1."""
    return np.where(net >= 0, 1, -1)


def check_bipolar(t, n):
    t = np.asarray(t)
    if t.shape != (n,):
        raise ValueError(f"targets must have shape ({n},), got {t.shape}")
    if not np.isin(t, (-1, 1)).all():
        raise ValueError("targets must be bipolar (+1 or -1); map labels with np.where(y == k, 1, -1)")
    return t.astype(np.float64)


def _check_x(x, n_features=None):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (n_samples, n_features), got shape {x.shape}")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"x has {x.shape[1]} features, the model was trained on {n_features}")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or infinity")
    return x


class Adaline:
    """An adaptive linear neuron trained by the Widrow–Hoff delta (LMS) rule.

    net = x . w + b, output = sign(net). The rule descends the squared error of
    the *linear* output net, not of the thresholded one:

        online (per sample):  w <- w + lr (t - net) x,          b <- b + lr (t - net)
        batch  (per epoch):   w <- w + lr mean_n[(t_n - net_n) x_n], the same for b,

    and the batch step is exactly -lr times the gradient of E = (1/2N) sum (t - net)^2.
    ``sse_`` records the sum of squared errors sum (t - net)^2 after each epoch.
    Training stops when an epoch changes that error by less than ``tol`` (relative),
    or after ``epochs`` epochs.
    """

    def __init__(self, lr=0.01, epochs=100, mode="online", tol=1e-4, rng=None):
        if mode not in ("online", "batch"):
            raise ValueError(f"mode must be 'online' or 'batch', got {mode!r}")
        self.lr, self.epochs, self.mode, self.tol = float(lr), int(epochs), mode, float(tol)
        self.rng = np.random.default_rng(rng)

    def net_input(self, x):
        return x @ self.w + self.b

    def predict(self, x):
        return bipolar_step(self.net_input(_check_x(x, self.w.size)))

    def score(self, x, t):
        return float(np.mean(self.predict(x) == np.asarray(t)))

    def batch_step(self, x, t):
        """One batch update: w += lr mean_n[(t_n - net_n) x_n], which is -lr dE/dw."""
        err = t - self.net_input(x)                 # (N,)
        self.w += self.lr * (x.T @ err) / len(x)
        self.b += self.lr * err.mean()

    def online_step(self, xi, ti):
        """The delta rule on one sample: w += lr (t - net) x, b += lr (t - net)."""
        err = ti - (xi @ self.w + self.b)
        self.w += self.lr * err * xi
        self.b += self.lr * err

    def fit(self, x, t):
        x = _check_x(x)
        t = check_bipolar(t, len(x))
        self.w = self.rng.uniform(-0.01, 0.01, x.shape[1])
        self.b = 0.0
        self.sse_ = []
        self.n_epochs_ = 0
        for _ in range(self.epochs):
            if self.mode == "batch":
                self.batch_step(x, t)
            else:
                for i in self.rng.permutation(len(x)):
                    self.online_step(x[i], t[i])
            self.sse_.append(float(np.sum((t - self.net_input(x)) ** 2)))
            self.n_epochs_ += 1
            if len(self.sse_) > 1 and abs(self.sse_[-2] - self.sse_[-1]) <= self.tol * self.sse_[-2]:
                break
        return self


class Madaline:
    """Madaline: a layer of hidden Adalines with bipolar steps and a fixed OR output unit.

    Hidden unit j: z_in_j = x . W_j + b_j, z_j = sign(z_in_j). The output fires
    (+1) when any hidden unit does: y = sign((n-1)/2 + sum_j z_j / 2), the OR of
    bipolar inputs (Fausett's v_j = 1/2, bias 1/2 for two units).

    rule="MRI" (Fausett, *Fundamentals of Neural Networks*, 1994), when y != t:
      t = +1: only the unit J whose net input is closest to 0 moves toward +1:
              W_J <- W_J + lr (1 - z_in_J) x,  b_J <- b_J + lr (1 - z_in_J)
      t = -1: every unit k with z_in_k > 0 moves toward -1:
              W_k <- W_k + lr (-1 - z_in_k) x, b_k <- b_k + lr (-1 - z_in_k)
    rule="MRII" (Winter and Widrow, 1988), minimal disturbance: when y != t, try
      flipping the hidden units that disagree with t, least confident (smallest
      |z_in|) first: the first one, then the first two, and so on. A trial flip
      moves z_in_j just past zero, to -margin z_j (one exact LMS step on [x, 1]);
      it is kept only if the output becomes right and the errors over the
      training set do not rise, else it is undone.
    Training stops when the largest weight change stays below ``tol`` for three
    consecutive epochs, or after ``max_epochs``.
    """

    def __init__(self, n_hidden=3, rule="MRI", lr=0.5, max_epochs=500, tol=1e-3, init_scale=0.5, margin=0.1,
                 rng=None):
        if rule not in ("MRI", "MRII"):
            raise ValueError(f"rule must be 'MRI' or 'MRII', got {rule!r}")
        if n_hidden < 1:
            raise ValueError("a Madaline needs at least one hidden Adaline")
        self.n_hidden, self.rule, self.lr = int(n_hidden), rule, float(lr)
        self.max_epochs, self.tol, self.init_scale = int(max_epochs), float(tol), float(init_scale)
        self.margin = float(margin)
        self.rng = np.random.default_rng(rng)

    # --- forward -----------------------------------------------------------
    def hidden_net(self, x):
        """z_in: (N, n_in) -> (N, n_hidden)."""
        return x @ self.W + self.b

    def output(self, z):
        """Fixed OR unit over bipolar hidden outputs z (N, n_hidden) -> (N,)."""
        return bipolar_step((self.n_hidden - 1) / 2 + z.sum(axis=-1) / 2)

    def predict(self, x):
        x = _check_x(x, self.W.shape[0])
        return self.output(bipolar_step(self.hidden_net(x)))

    def score(self, x, t):
        return float(np.mean(self.predict(x) == np.asarray(t)))

    # --- learning rules ----------------------------------------------------
    def mri_step(self, xi, ti):
        """Rule MRI on one sample; returns the largest weight change (0 if y == t)."""
        z_in = xi @ self.W + self.b
        if self.output(bipolar_step(z_in)) == ti:
            return 0.0
        if ti == 1:
            units = [int(np.argmin(np.abs(z_in)))]
        else:
            units = np.flatnonzero(z_in > 0)
        change = 0.0
        for j in units:
            delta = self.lr * (ti - z_in[j])
            self.W[:, j] += delta * xi
            self.b[j] += delta
            change = max(change, abs(delta) * max(1.0, np.abs(xi).max()))
        return change

    def mrii_step(self, xi, ti):
        """Rule MRII on one sample; returns the largest weight change kept."""
        z_in = xi @ self.W + self.b
        z = bipolar_step(z_in)
        if self.output(z) == ti:
            return 0.0
        # Units whose output disagrees with the target, least confident first.
        wrong = [j for j in np.argsort(np.abs(z_in)) if z[j] != ti]
        norm = xi @ xi + 1.0                        # ||[x, 1]||^2
        errors_before = self._train_errors()
        for k in range(1, len(wrong) + 1):
            units = wrong[:k]
            old_w, old_b = self.W[:, units].copy(), self.b[units].copy()
            # One LMS step on [x, 1] puts z_in_j exactly at -margin z_j: the smallest flip.
            delta = (-self.margin * z[units] - z_in[units]) / norm
            self.W[:, units] += np.outer(xi, delta)
            self.b[units] += delta
            if (self.output(bipolar_step(xi @ self.W + self.b)) == ti
                    and self._train_errors() <= errors_before):
                return float(np.abs(delta).max() * max(1.0, np.abs(xi).max()))
            self.W[:, units], self.b[units] = old_w, old_b
        return 0.0

    def _train_errors(self):
        z = bipolar_step(self._x @ self.W + self.b)
        return int(np.sum(self.output(z) != self._t))

    def fit(self, x, t):
        x = _check_x(x)
        t = check_bipolar(t, len(x))
        self.W = self.rng.uniform(-self.init_scale, self.init_scale, (x.shape[1], self.n_hidden))
        self.b = self.rng.uniform(-self.init_scale, self.init_scale, self.n_hidden)
        self._x, self._t = x, t     # MRII judges a trial by the errors on the training set
        step = self.mri_step if self.rule == "MRI" else self.mrii_step
        self.errors_ = []          # training errors (misclassified samples) after each epoch
        self.max_change_ = []
        quiet = 0
        self.n_epochs_ = 0
        for _ in range(self.max_epochs):
            change = 0.0
            for i in self.rng.permutation(len(x)):
                change = max(change, step(x[i], t[i]))
            self.n_epochs_ += 1
            self.max_change_.append(change)
            self.errors_.append(int(np.sum(self.predict(x) != t)))
            quiet = quiet + 1 if change < self.tol else 0
            if quiet >= 3:
                break
        return self
