"""Losses: each call returns ``(loss, grad)``, grad = dL/d(its first argument, the output).

All losses are *means over the batch*, so the learning rate does not depend
on the batch size. Shapes: outputs and targets ``(N, D)``, labels ``(N,)``.
:class:`L2Penalty` is a penalty on the parameters, not on the output: it has its own
call, ``penalty(params, grads) -> value``.
"""

import numpy as np

from .checks import check_array, check_labels, check_positive


def log_softmax(z):
    """log softmax along the last axis: z - logsumexp(z), stable for any finite z.

    Shifting by the max m keeps exp from overflowing: logsumexp(z) = m + log(1 + r),
    where r sums exp(z_j - m) over all but one maximal entry. log1p keeps r's
    digits when r is tiny (a confident prediction), so a loss of 1e-9 is not
    rounded to 0.
    """
    top = z.argmax(axis=-1)[..., None]
    shifted = z - np.take_along_axis(z, top, axis=-1)
    rest = np.exp(shifted)
    np.put_along_axis(rest, top, 0, axis=-1)
    return shifted - np.log1p(rest.sum(axis=-1, keepdims=True))


def softmax(z):
    """softmax along the last axis (probabilities that sum to 1)."""
    z = check_array(z, "softmax: z", ndim=None)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_pair(output, target, what):
    """Output and target of a regression loss: arrays of one shape, at least one row."""
    if not isinstance(output, np.ndarray) or output.ndim != 2:
        raise ValueError(f"{what}: output must be a 2-D array (N, D), got shape {np.shape(output)}")
    if np.shape(target) != output.shape:
        raise ValueError(f"{what}: output has shape {output.shape} but target has shape {np.shape(target)}")
    if output.size == 0:
        raise ValueError(f"{what}: output is empty (shape {output.shape}); a loss needs at least one value")
    check_array(output, f"{what}: output", ndim=2)
    check_array(target, f"{what}: target", ndim=2)


def _sum_of_products(a, b):
    """sum(a * b) accumulated in float64, so a float32 loss of huge errors does not overflow."""
    return float(np.dot(a.ravel().astype(np.float64, copy=False), b.ravel().astype(np.float64, copy=False)))


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels.

    L = (1/N) sum_n [logsumexp(z_n) - z_n,y_n];  dL/dz = (softmax(z) - onehot(y)) / N.
    logits (N, C), labels (N,) -> (scalar, (N, C)).  Finite for any finite logits.

    Why softmax and cross-entropy meet in (softmax - onehot) / N, for one row z (C,) with
    label y and p = softmax(z), p_j = exp(z_j) / sum_k exp(z_k):

        L_n = -log p_y = logsumexp(z) - z_y                           (a number)
        d logsumexp(z) / dz_j = exp(z_j) / sum_k exp(z_k) = p_j       (p, shape (C,))
        d z_y / dz_j = [j == y]                                       (onehot(y), shape (C,))
        dL_n/dz = p - onehot(y)                                       (C,)

    The batch loss is the mean L = (1/N) sum_n L_n, so row n of dL/dZ is dL_n/dz_n / N:
    dL/dZ = (softmax(Z) - onehot(y)) / N, shape (N, C). Each row sums to 0.
    """
    if not isinstance(logits, np.ndarray) or logits.ndim != 2 or logits.size == 0:
        raise ValueError(f"softmax_cross_entropy: logits must be a non-empty 2-D array (N, C), "
                         f"got shape {np.shape(logits)}; a single sample is logits[None, :]")
    logits = check_array(logits, "softmax_cross_entropy: logits", ndim=2)   # integers -> float64
    n, c = logits.shape
    labels = check_labels(labels, "labels", n, c)
    logp = log_softmax(logits)
    rows = np.arange(n)
    loss = -logp[rows, labels].mean()
    grad = np.exp(logp)
    grad[rows, labels] -= 1
    grad /= n
    return float(loss), grad


def mse(output, target):
    """Mean squared error over all elements.

    L = (1/(N D)) sum (y - t)^2;  dL/dy = 2 (y - t) / (N D).   (N, D) -> (scalar, (N, D)).
    """
    _check_pair(output, target, "mse")
    diff = output - target
    loss = _sum_of_products(diff, diff) / diff.size
    diff *= 2.0 / diff.size
    return loss, diff


class WeightedMSE:
    """Per-feature weighted mean squared error (a weight per input column).

    L = (1/N) sum_n (1/D) sum_k w_k (y_nk - t_nk)^2, the batch mean of each
    sample's weighted MSE;  dL/dy = 2 w (y - t) / (N D).   (N, D) -> (scalar, (N, D)).
    """

    def __init__(self, weights):
        weights = np.asarray(weights)
        if weights.ndim != 1 or not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError("weights must be a 1-D array of finite, non-negative numbers")
        self.weights = weights

    def __call__(self, output, target):
        _check_pair(output, target, "WeightedMSE")
        if output.shape[1] != self.weights.size:
            raise ValueError(f"WeightedMSE has {self.weights.size} weights but the output has "
                             f"{output.shape[1]} columns")
        w = self.weights.astype(output.dtype, copy=False)
        diff = output - target
        wdiff = diff * w
        loss = _sum_of_products(wdiff, diff) / diff.size
        wdiff *= 2.0 / diff.size
        return float(loss), wdiff


class L2Penalty:
    """The L2 penalty on the parameters: P = beta sum_i ||p_i||^2, dP/dp_i = 2 beta p_i.

    Not a loss of the output: the training step calls ``penalty(params, grads)``, which adds
    dP/dp to each gradient in place and returns P, the value that joins the loss.
    ``value(params)`` is P alone. ``SGD(weight_decay=2 * beta)`` adds the same gradient.
    """

    def __init__(self, beta):
        self.beta = check_positive(beta, "beta", allow_zero=True)

    def value(self, params):
        """P = beta sum_i ||p_i||^2 for a dict of parameter arrays."""
        return self.beta * sum(float(np.vdot(p, p)) for p in params.values())

    def __call__(self, params, grads):
        """Add dP/dp = 2 beta p to each entry of ``grads`` in place and return P."""
        for name, p in params.items():
            grads[name] += (2 * self.beta) * p
        return self.value(params)


def distill_logit_mse(student_logits, teacher_logits):
    """Regression of student logits on the teacher's: plain :func:`mse` on logits.

    L = (1/(N C)) sum (s - t)^2;  dL/ds = 2 (s - t) / (N C).   (N, C) -> (scalar, (N, C)).
    """
    return mse(student_logits, teacher_logits)


class SoftTargetLoss:
    """Hinton's knowledge-distillation loss (Hinton, Vinyals and Dean, 2015).

    With p = softmax(t / T) from the teacher, q = softmax(s / T) from the student:

        L = alpha * T^2 * (1/N) sum_n KL(p_n || q_n) + (1 - alpha) * CE(s, y)

    Called as ``loss(student_logits, teacher_logits, labels)``; (N, C), (N, C), (N,) -> (scalar, (N, C)).

    The gradient, for one row s (C,) of student logits, with KL(p || q) = sum_i p_i (log p_i - log q_i):

        log q_i = s_i / T - logsumexp(s / T)                          (C,)
        d log q_i / ds_j = ([i == j] - q_j) / T                       (C, C)
        p does not depend on s, so
        dKL/ds_j = -sum_i p_i ([i == j] - q_j) / T = (q_j - p_j) / T   (C,), as sum_i p_i = 1.

    The soft term alpha T^2 (1/N) sum_n KL_n then gives alpha T (q - p) / N per row: T^2 keeps
    its gradient on the scale of the hard term's for any T (softening by T shrinks it by T^2).
    The hard term is (1 - alpha) times :func:`softmax_cross_entropy`'s. So, shape (N, C):

        dL/ds = [alpha T (q - p) + (1 - alpha) (softmax(s) - onehot(y))] / N.
    """

    def __init__(self, temperature=4.0, alpha=0.9):
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.temperature = float(temperature)
        self.alpha = float(alpha)

    def __call__(self, student_logits, teacher_logits, labels):
        _check_pair(student_logits, teacher_logits, "SoftTargetLoss")
        T, a = self.temperature, self.alpha
        n = len(student_logits)
        log_p = log_softmax(teacher_logits / T)
        log_q = log_softmax(student_logits / T)
        p = np.exp(log_p)
        kl = float((p * (log_p - log_q)).sum() / n)
        hard, hard_grad = softmax_cross_entropy(student_logits, labels)
        grad = (np.exp(log_q) - p) * (a * T / n)
        grad += (1 - a) * hard_grad
        return a * T * T * kl + (1 - a) * hard, grad
