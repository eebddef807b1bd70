"""Losses: each call returns ``(loss, grad)``, grad = dL/d(its first argument).

All losses are *means over the batch*, so the learning rate does not depend
on the batch size. Shapes: outputs and targets ``(N, D)``, labels ``(N,)``.
"""

import numpy as np


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
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def check_labels(labels, n_classes, n_rows):
    """Integer labels in ``0 .. n_classes-1``, one per row; returns them as intp."""
    labels = np.asarray(labels)
    if labels.shape != (n_rows,):
        raise ValueError(f"labels must have shape ({n_rows},), got {labels.shape}")
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            labels = labels.astype(np.intp)
        else:
            raise TypeError(f"labels must be integers 0..{n_classes - 1}, got dtype {labels.dtype}")
    if n_rows and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"label {bad} is out of range for {n_classes} classes (0..{n_classes - 1}); "
                         "map the labels to 0..n_classes-1 first")
    return labels


def _check_same_shape(a, b, what):
    if a.shape != b.shape:
        raise ValueError(f"{what}: output has shape {a.shape} but target has shape {b.shape}")


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels.

    L = (1/N) sum_n [logsumexp(z_n) - z_n,y_n];  dL/dz = (softmax(z) - onehot(y)) / N.
    logits (N, C), labels (N,) -> (scalar, (N, C)).  Finite for any finite logits.
    """
    n, c = logits.shape
    labels = check_labels(labels, c, n)
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
    _check_same_shape(output, target, "mse")
    diff = output - target
    loss = np.vdot(diff, diff) / diff.size
    diff *= 2.0 / diff.size
    return float(loss), diff


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
        _check_same_shape(output, target, "WeightedMSE")
        if output.shape[1] != self.weights.size:
            raise ValueError(f"WeightedMSE has {self.weights.size} weights but the output has "
                             f"{output.shape[1]} columns")
        w = self.weights.astype(output.dtype, copy=False)
        diff = output - target
        wdiff = diff * w
        loss = np.vdot(wdiff, diff) / diff.size
        wdiff *= 2.0 / diff.size
        return float(loss), wdiff


def l2_penalty(params, beta):
    """beta * (sum of squares of every parameter), and its gradient.

    P = beta sum_i ||p_i||^2;  dP/dp_i = 2 beta p_i.   dict of arrays -> (scalar, dict of arrays).
    """
    value = beta * sum(float(np.vdot(p, p)) for p in params.values())
    grads = {name: (2 * beta) * p for name, p in params.items()}
    return value, grads


class L2Penalty:
    """The L2 penalty as the training loop uses it: adds 2 beta p to each gradient in place."""

    def __init__(self, beta):
        self.beta = float(beta)
        self._tmp = {}

    def __call__(self, params, grads):
        """Add dP/dp to ``grads`` in place and return P (see :func:`l2_penalty`)."""
        value = 0.0
        for name, p in params.items():
            value += float(np.vdot(p, p))
            if name not in self._tmp:      # scratch per parameter, as the optimizers keep
                self._tmp[name] = np.empty_like(p)
            tmp = self._tmp[name]
            np.multiply(p, 2 * self.beta, out=tmp)
            grads[name] += tmp
        return self.beta * value


def distill_logit_mse(student_logits, teacher_logits):
    """Regression of student logits on the teacher's: plain :func:`mse` on logits.

    L = (1/(N C)) sum (s - t)^2;  dL/ds = 2 (s - t) / (N C).   (N, C) -> (scalar, (N, C)).
    """
    return mse(student_logits, teacher_logits)


class SoftTargetLoss:
    """Hinton's knowledge-distillation loss (Hinton, Vinyals and Dean, 2015).

    With p = softmax(t / T) from the teacher, q = softmax(s / T) from the student:

        L = alpha * T^2 * (1/N) sum_n KL(p_n || q_n) + (1 - alpha) * CE(s, y)

    T^2 keeps the soft term's gradient on the same scale as the hard one for any T:
    dKL/ds = (q - p) / T, so  dL/ds = [alpha T (q - p) + (1 - alpha)(softmax(s) - onehot(y))] / N.
    Called as ``loss(student_logits, teacher_logits, labels)``; (N, C), (N, C), (N,) -> (scalar, (N, C)).
    """

    def __init__(self, temperature=4.0, alpha=0.9):
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.temperature = float(temperature)
        self.alpha = float(alpha)

    def __call__(self, student_logits, teacher_logits, labels):
        _check_same_shape(student_logits, teacher_logits, "SoftTargetLoss")
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
