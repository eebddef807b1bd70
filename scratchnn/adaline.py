"""Adaline (Widrow and Hoff, 1960) and Madaline (rules MRI and MRII).

These are the neurons before backpropagation, each with its own historical
learning rule; none of them uses the layers of :mod:`scratchnn.layers`.
Targets and outputs are bipolar: +1 or -1.
"""

import math

import numpy as np

from .checks import NumericalError, check_array, check_choice, check_fitted, check_positive


def bipolar_step(net):
    """+1 where net >= 0, else -1.

    NaN is refused: NaN >= 0 is False, so a NaN net input would silently read as -1.
    """
    net = check_array(net, "net", ndim=None, allow_empty=True, finite=False)
    if np.isnan(net).any():
        raise ValueError("net contains NaN, which has no sign; check the weights and inputs that produced it")
    return _sign(net)


def _sign(net):
    """bipolar_step without the check, for the learning rules' inner loops."""
    return np.where(net >= 0, 1, -1)


def check_bipolar(t, n, name="t"):
    """Bipolar targets, one per row of x: shape (n,), every value +1 or -1. Returns float64."""
    t = np.asarray(t)
    if t.shape != (n,):
        hint = f"; flatten it with {name}.ravel()" if t.size == n else ""
        raise ValueError(f"{name} must have shape ({n},), one target per row of x, got {t.shape}{hint}")
    if t.dtype == bool or not np.issubdtype(t.dtype, np.number) or np.iscomplexobj(t):
        raise TypeError(f"{name} must hold the numbers +1 and -1, got dtype {t.dtype}; "
                        "map labels with np.where(y == k, 1, -1)")
    if not np.isin(t, (-1, 1)).all():
        bad = t[~np.isin(t, (-1, 1))][0]
        raise ValueError(f"{name} must be bipolar (+1 or -1), got {bad}; "
                         "map labels with np.where(y == k, 1, -1)")
    return t.astype(np.float64)


def _check_input(model, x, weights):
    """x for a fitted model: finite float64 rows with as many columns as ``weights`` has rows,
    and the model's weights finite (a diverged fit leaves them NaN)."""
    check_fitted(model, weights)
    w = getattr(model, weights)
    x = check_array(x, "x", dtype=np.float64)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"x has {x.shape[1]} features, the model was trained on {w.shape[0]}")
    if not (np.isfinite(w).all() and np.isfinite(model.b).all()):
        raise NumericalError(f"this {type(model).__name__}'s weights are not finite (its training "
                             "diverged); fit it again with a smaller lr")
    return x


def _nets_defined(net):
    """Net inputs with a sign: x so large that x . w overflows gives NaN (inf - inf)."""
    if np.isnan(net).any():
        raise ValueError("x is too large for these weights: the net input x . w + b overflows; "
                         "scale x as the training data was scaled")
    return net


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
        self.mode = check_choice(mode, "mode", ("online", "batch"))
        self.lr = check_positive(lr, "lr")
        self.epochs = check_positive(epochs, "epochs", integer=True)
        self.tol = check_positive(tol, "tol", allow_zero=True)
        self.rng = np.random.default_rng(rng)

    def net_input(self, x):
        return x @ self.w + self.b

    def predict(self, x):
        """Bipolar outputs sign(x . w + b): x (N, D) -> (N,) of +1 and -1."""
        x = _check_input(self, x, "w")
        with np.errstate(over="ignore", invalid="ignore"):
            return _sign(_nets_defined(self.net_input(x)))

    def score(self, x, t):
        """Fraction of rows whose output equals the bipolar target t (N,)."""
        y = self.predict(x)
        return float(np.mean(y == check_bipolar(t, len(y))))

    def batch_step(self, x, t):
        """One batch update: w += lr mean_n[(t_n - net_n) x_n], which is -lr dE/dw."""
        err = t - self.net_input(x)                 # (N,)
        self.w += self.lr * (x.T @ err) / len(x)
        self.b += self.lr * err.mean()

    def online_step(self, xi, ti):
        """The delta rule on one sample xi (D,) with bipolar target ti: with the linear output
        net = xi . w + b (not its sign),  w += lr (t - net) xi,  b += lr (t - net),
        in place. Returns the error t - net (a number)."""
        err = ti - (xi @ self.w + self.b)
        self.w += self.lr * err * xi
        self.b += self.lr * err
        return err

    def fit(self, x, t):
        """Train on x (N, D) and bipolar targets t (N,).

        Raises :class:`~scratchnn.checks.NumericalError` when the rule diverges: the
        error becomes NaN or infinite, or (batch mode) the squared error rises, which
        gradient descent on this quadratic does only when lr is above its stability limit.
        """
        x = check_array(x, "x", dtype=np.float64)
        t = check_bipolar(t, len(x))
        self.w = self.rng.uniform(-0.01, 0.01, x.shape[1])
        self.b = 0.0
        self.sse_ = []
        self.n_epochs_ = 0
        with np.errstate(over="ignore", invalid="ignore"):     # overflow is caught below, and named
            for epoch in range(1, self.epochs + 1):
                if self.mode == "batch":
                    self.batch_step(x, t)
                else:
                    for step, i in enumerate(self.rng.permutation(len(x)), 1):
                        err = self.online_step(x[i], t[i])
                        if not math.isfinite(err * err):      # where the epoch's SSE would overflow
                            raise self._diverged(x, epoch, f", step {step} (sample {i}): its error "
                                                           f"t - net = {err:.3g}")
                sse = float(np.sum((t - self.net_input(x)) ** 2))
                if not math.isfinite(sse):
                    raise self._diverged(x, epoch, f": the squared error is {sse}")
                # Exact gradient descent on a quadratic never raises it; rounding may, by far less
                # than 1e-9 of the first epoch's error.
                if self.mode == "batch" and self.sse_ and sse - self.sse_[-1] > 1e-9 * self.sse_[0]:
                    raise self._diverged(x, epoch, f": the squared error rose from {self.sse_[-1]:.4g} to {sse:.4g}")
                self.sse_.append(sse)
                self.n_epochs_ += 1
                if len(self.sse_) > 1 and abs(self.sse_[-2] - self.sse_[-1]) <= self.tol * self.sse_[-2]:
                    break
        return self

    def _diverged(self, x, epoch, what):
        """The error for a diverging delta rule, with the stability limit of lr for this x.

        With x~ = [x, 1] (the bias is a weight on a constant input) and the input
        correlation R = mean_n x~_n x~_n^T, the batch rule is gradient descent on
        E = mean_n (t_n - x~_n . w~)^2 / 2, whose Hessian is R: stable iff lr < 2 / lambda_max(R).
        The online rule is stable in mean square for lr below about 2 / trace(R)
        (Widrow and Stearns, *Adaptive Signal Processing*, 1985).
        """
        xt = np.column_stack([x, np.ones(len(x))])
        with np.errstate(over="ignore", invalid="ignore"):
            r = xt.T @ xt / len(x)
        if not np.isfinite(r).all():
            advice = "x is too large: its squares overflow; scale it down (scratchnn.datasets.standardize)"
        else:
            if self.mode == "batch":
                limit, formula = 2 / np.linalg.eigvalsh(r)[-1], "2/lambda_max(R)"
            else:
                limit, formula = 2 / np.trace(r), "2/trace(R)"
            where = "above" if self.lr > limit else "near"
            advice = (f"lr={self.lr:g} is {where} the stability limit {formula} = {limit:.3g} (R = mean of "
                      f"x~ x~^T, the correlation of the inputs x~ = [x, 1]); use lr < {limit:.2g} "
                      f"(say {limit / 4:.2g})")
            std = x.std(axis=0)
            if not (np.allclose(x.mean(axis=0), 0, atol=1e-6) and np.allclose(std[std > 0], 1, atol=1e-6)):
                advice += ", or standardise x (scratchnn.datasets.standardize), which raises the limit"
        return NumericalError(f"Adaline ({self.mode} delta rule) diverged at epoch {epoch}{what}. {advice}")


class Madaline:
    """Madaline: a layer of hidden Adalines with bipolar steps and a fixed OR output unit.

    Hidden unit j: z_in_j = x . W_j + b_j, z_j = sign(z_in_j). The output fires
    (+1) when any hidden unit does: y = sign((n-1)/2 + sum_j z_j / 2), the OR of
    bipolar inputs (Fausett's v_j = 1/2, bias 1/2 for two units).

    rule="MRI" (Fausett, *Fundamentals of Neural Networks*, 1994), when y != t:
      t = +1: only the unit J whose net input is closest to 0 moves toward +1:
              W_J <- W_J + lr (1 - z_in_J) x,  b_J <- b_J + lr (1 - z_in_J)
      t = -1: every unit k with z_in_k >= 0 (an output of +1) moves toward -1:
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
        self.rule = check_choice(rule, "rule", ("MRI", "MRII"))
        self.n_hidden = check_positive(n_hidden, "n_hidden (hidden Adalines)", integer=True)
        self.lr = check_positive(lr, "lr")
        self.max_epochs = check_positive(max_epochs, "max_epochs", integer=True)
        self.tol = check_positive(tol, "tol", allow_zero=True)
        self.init_scale = check_positive(init_scale, "init_scale", allow_zero=True)
        self.margin = check_positive(margin, "margin")
        self.rng = np.random.default_rng(rng)

    # --- forward -----------------------------------------------------------
    def hidden_net(self, x):
        """z_in: (N, n_in) -> (N, n_hidden)."""
        return x @ self.W + self.b

    def output(self, z):
        """Fixed OR unit over bipolar hidden outputs z (N, n_hidden) -> (N,)."""
        return _sign((self.n_hidden - 1) / 2 + z.sum(axis=-1) / 2)

    def predict(self, x):
        """Bipolar outputs of the OR unit: x (N, n_in) -> (N,) of +1 and -1."""
        x = _check_input(self, x, "W")
        with np.errstate(over="ignore", invalid="ignore"):
            return self.output(_sign(_nets_defined(self.hidden_net(x))))

    def score(self, x, t):
        """Fraction of rows whose output equals the bipolar target t (N,)."""
        y = self.predict(x)
        return float(np.mean(y == check_bipolar(t, len(y))))

    # --- learning rules ----------------------------------------------------
    def mri_step(self, xi, ti):
        """Rule MRI on one sample xi (n_in,) with bipolar target ti; W (n_in, n_hidden) and
        b (n_hidden,) change in place. With z_in = xi W + b and y the OR of sign(z_in), if y != t:

          t = +1: only the unit J whose z_in_J is closest to 0 moves toward +1:
                  W_J += lr (1 - z_in_J) xi,   b_J += lr (1 - z_in_J)
          t = -1: every unit k with z_in_k >= 0 (an output of +1) moves toward -1:
                  W_k += lr (-1 - z_in_k) xi,  b_k += lr (-1 - z_in_k)

        Returns the largest change of any weight or bias (0.0 if y == t)."""
        z_in = xi @ self.W + self.b
        if (z_in.max() >= 0) == (ti == 1):       # the OR fires iff some unit does: y == t
            return 0.0
        if ti == 1:
            units = [int(np.argmin(np.abs(z_in)))]
        else:                    # every unit that outputs +1 (z_in = 0 counts as +1, as in the step)
            units = np.flatnonzero(z_in >= 0)
        delta = self.lr * (ti - z_in[units])
        self.W[:, units] += np.outer(xi, delta)
        self.b[units] += delta
        return float(np.abs(delta).max() * max(1.0, np.abs(xi).max()))

    def mrii_step(self, xi, ti):
        """Rule MRII on one sample; returns the largest weight change kept."""
        z_in = xi @ self.W + self.b
        z = _sign(z_in)
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
            if (self.output(_sign(xi @ self.W + self.b)) == ti
                    and self._train_errors() <= errors_before):
                return float(np.abs(delta).max() * max(1.0, np.abs(xi).max()))
            self.W[:, units], self.b[units] = old_w, old_b
        return 0.0

    def _train_errors(self):
        z = _sign(self._x @ self.W + self.b)
        return int(np.sum(self.output(z) != self._t))

    def fit(self, x, t):
        """Train on x (N, n_in) and bipolar targets t (N,).

        Raises :class:`~scratchnn.checks.NumericalError` when the weights become NaN or infinite.
        """
        x = check_array(x, "x", dtype=np.float64)
        t = check_bipolar(t, len(x))
        self.W = self.rng.uniform(-self.init_scale, self.init_scale, (x.shape[1], self.n_hidden))
        self.b = self.rng.uniform(-self.init_scale, self.init_scale, self.n_hidden)
        self._x, self._t = x, t     # MRII judges a trial by the errors on the training set
        step = self.mri_step if self.rule == "MRI" else self.mrii_step
        self.errors_ = []          # training errors (misclassified samples) after each epoch
        self.max_change_ = []
        quiet = 0
        self.n_epochs_ = 0
        with np.errstate(over="ignore", invalid="ignore"):     # overflow is caught below, and named
            for epoch in range(1, self.max_epochs + 1):
                order = self.rng.permutation(len(x))
                changes = [step(x[i], t[i]) for i in order]
                if not (np.isfinite(self.W).all() and np.isfinite(self.b).all()):
                    raise self._diverged(x, epoch, order, changes)
                change = max(changes)
                self.n_epochs_ += 1
                self.max_change_.append(change)
                self.errors_.append(self._train_errors())
                quiet = quiet + 1 if change < self.tol else 0
                if quiet >= 3:
                    break
        return self

    def _diverged(self, x, epoch, order, changes):
        """The error for weights that became non-finite, naming the first step that did it.

        An MRI correction moves the chosen unit's net input on that sample by
        lr (t - z_in) ||[x, 1]||^2, so it overshoots t, further each time, when
        lr ||[x, 1]||^2 > 2. MRII's steps have no learning rate; only x's scale can blow them up.
        """
        step = next((s for s, c in enumerate(changes, 1) if not math.isfinite(c)), None)
        where = f", step {step} (sample {order[step - 1]})" if step else ""
        with np.errstate(over="ignore"):
            norm2 = float(np.max(np.sum(x ** 2, axis=1))) + 1.0
        if self.rule == "MRI" and math.isfinite(norm2):
            limit = 2 / norm2
            advice = (f"MRI overshoots when lr ||[x, 1]||^2 > 2; the largest ||[x, 1]||^2 here is "
                      f"{norm2:.3g}, so use lr < {limit:.2g} (lr={self.lr:g} now), or standardise x "
                      "(scratchnn.datasets.standardize)")
        else:
            advice = f"x's values (up to {np.abs(x).max():.3g}) are too large; scale x down " \
                     "(scratchnn.datasets.standardize)"
        return NumericalError(f"Madaline ({self.rule}) weights became non-finite at epoch {epoch}{where}. {advice}")
