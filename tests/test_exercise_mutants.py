"""Every hint of the grader is earned: for each exercise, typical student mistakes are written
here as mutants of the library's answer, and each must fail the grader with a message that
points at its mistake. The library's own answers pass."""

import numpy as np
import pytest

from scratchnn import layers, losses, mcculloch_pitts, train
from scratchnn.checks import NonFiniteError
from scratchnn.cluster import KMeans, _squared_distances, contingency_matrix
from scratchnn.exercises import EXERCISES
from scratchnn.exercises.grading import grade
from scratchnn.exercises.workspace import answer_function
from scratchnn.mcculloch_pitts import MPLayer, MPNetwork, SEGMENTS, digit_pattern


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_the_librarys_answer_passes(exercise):
    status, note, _ = grade(exercise.name, answer_function(exercise))
    assert status == "pass", note


# --------------------------------------------------------------------------- Part 1


def unit_zero_for_unlit(pattern):
    return np.where(pattern == 1, 1, 0), int(pattern.sum())


def unit_threshold_low(pattern):
    return np.where(pattern == 1, 1, -1), int(pattern.sum()) - 1


def unit_threshold_high(pattern):
    return np.where(pattern == 1, 1, -1), int(pattern.sum()) + 1


def two_layer(hidden_threshold=2, output_slack=0, third_unit=False):
    def build():
        pairs = ["fb", "ec"] + (["ag"] if third_unit else [])
        hidden_w = np.zeros((7, len(pairs)), dtype=int)
        for unit, (s1, s2) in enumerate(pairs):
            hidden_w[SEGMENTS.index(s1), unit] = hidden_w[SEGMENTS.index(s2), unit] = 1
        hidden = MPLayer(hidden_w, np.full(len(pairs), hidden_threshold))
        codes = hidden(np.stack([digit_pattern(d) for d in (6, 7, 8, 9)]))
        columns, thresholds = zip(*(mcculloch_pitts.template_unit(c) for c in codes))
        output = MPLayer(np.stack(columns, axis=1), np.array(thresholds) - output_slack,
                         names=(6, 7, 8, 9))
        return MPNetwork([hidden, output], output_names=(6, 7, 8, 9))
    return build


# --------------------------------------------------------------------------- Part 2


def adaline_mutant(kind):
    def online_step(self, xi, ti):
        net = xi @ self.w + self.b
        err = {"sign": net - ti, "perceptron": ti - np.where(net >= 0, 1, -1),
               "no_lr": ti - net, "no_bias": ti - net}[kind]
        lr = 1.0 if kind == "no_lr" else self.lr
        self.w += lr * err * xi
        if kind != "no_bias":
            self.b += lr * err
        return ti - net
    return online_step


def mri_mutant(kind):
    def mri_step(self, xi, ti):
        z_in = xi @ self.W + self.b
        if (z_in.max() >= 0) == (ti == 1):
            return 0.0
        if ti == 1:
            units = (np.flatnonzero(z_in < 0) if kind == "all_positive" else
                     [int(np.argmax(np.abs(z_in)))] if kind == "farthest" else
                     [int(np.argmin(np.abs(z_in)))])
        else:
            units = ([int(np.argmax(z_in))] if kind == "one_negative" else
                     np.flatnonzero(z_in >= 0))
        delta = self.lr * (ti - z_in[units])
        self.W[:, units] += np.outer(xi, delta)
        self.b[units] += delta
        return float(np.abs(delta).max() * max(1.0, np.abs(xi).max()))
    return mri_step


# --------------------------------------------------------------------------- Part 3


def forward_mutant(kind):
    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        self._x = x if self.training and kind != "no_cache" else None
        if kind == "no_bias":
            return x @ W
        if kind == "transposed":
            return (W.T @ x.T) + b[:, None]
        if kind == "float64":
            return x.astype(np.float64) @ W + b
        return x @ W + b
    return forward


def backward_mutant(kind):
    def backward(self, dout, input_grad=True):
        x = layers._cached(self, "_x")
        self.grads["W"] = {"transposed": dout.T @ x, "mean": x.T @ dout / len(x)}.get(
            kind, x.T @ dout)
        self.grads["b"] = dout.mean(axis=0) if kind == "db_mean" else dout.sum(axis=0)
        if kind == "dx_no_transpose":
            return dout @ self.params["W"]
        return dout @ self.params["W"].T
    return backward


def activation(kind):
    def function_and_derivative(self, x):
        if kind == "relu_output":
            out = np.maximum(x, 0)
            return out, out
        if kind == "relu_ones":
            return np.maximum(x, 0), np.ones_like(x)
        if kind == "relu_bool":
            return np.maximum(x, 0), x > 0
        if kind == "tanh_input":
            return np.tanh(x), 1 - x * x
        if kind == "tanh_unsquared":
            out = np.tanh(x)
            return out, 1 - out
        if kind == "tanh_float64":
            out = np.tanh(x)
            return out, 1 - out.astype(np.float64) ** 2
        if kind == "sigmoid_naive":
            out = 1 / (1 + np.exp(-x))
            return out, out * (1 - out)
        out = (1 + np.tanh(x * 0.5)) * 0.5
        if kind == "sigmoid_input":
            return out, x * (1 - x)
        return out, out                                 # sigmoid_output
    return function_and_derivative


def weighted_mse_mutant(kind):
    def call(self, output, target):
        w = self.weights.astype(output.dtype)
        diff = output - target
        n, d = diff.shape
        loss = float(np.sum(w * diff * diff)) / (n if kind == "no_1_over_d" else diff.size)
        grad = {"no_2": w * diff / diff.size, "no_w": 2 * diff / diff.size}.get(
            kind, 2 * w * diff / (n if kind == "no_1_over_d" else diff.size))
        return loss, grad.astype(output.dtype)
    return call


def l2_mutant(kind):
    def call(self, params, grads):
        for name, p in params.items():
            if kind == "replace":
                grads[name] = 2 * self.beta * p
            else:
                grads[name] += (self.beta if kind == "no_2" else 2 * self.beta) * p
        value = sum(float(np.vdot(p, p)) for p in params.values())
        return value if kind == "no_beta" else self.beta * value
    return call


def sgd_mutant(kind):
    def step(self, params, grads):
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay and kind != "no_decay":
                g = g + self.weight_decay * p
            if self.momentum and kind != "no_momentum":
                v = self.velocity.setdefault(name, np.zeros_like(p))
                v *= self.momentum
                v += g
                g = g + self.momentum * v if self.nesterov and kind != "no_nesterov" else v
            if kind == "not_in_place":
                params[name] = p - self.lr * g
            else:
                p -= self.lr * g
    return step


def adam_mutant(kind):
    def step(self, params, grads):
        b1, b2 = self.beta1, self.beta2
        self._calls = getattr(self, "_calls", 0) + 1
        for name, p in params.items():
            g = grads[name]
            t, m, v = self._next_step(name, p)
            if kind == "shared_t":
                t = self._calls
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            m_hat, v_hat = (m, v) if kind == "no_correction" else (m / (1 - b1 ** t),
                                                                   v / (1 - b2 ** t))
            denominator = np.sqrt(v_hat + self.eps) if kind == "eps_inside" else \
                np.sqrt(v_hat) + self.eps
            p -= self.lr * m_hat / denominator
    return step


def train_step_mutant(kind):
    def step(model, loss_fn, optimizer, x, *targets, penalty=None):
        output = model.forward(x)
        loss, dout = loss_fn(output, *targets)
        if kind != "no_clear":
            model.clear_grads()
        model.backward(dout, input_grad=False)
        params, grads = model.params, model.grads
        if kind != "no_clear":
            train.check_gradients(model, params, grads)
        if penalty is not None and kind != "no_penalty":
            loss += penalty(params, grads)
        if kind != "no_nan_check" and not np.isfinite(loss):
            raise NonFiniteError(f"the loss is {loss}")
        optimizer.step(params, grads)
        if kind == "loss_after":
            return loss_fn(model.forward(x), *targets)[0] + (
                penalty.value(params) if penalty is not None else 0.0)
        return loss
    return step


def pixel_mutant(kind):
    def weights(x, labels, chunk_rows=None, max_bytes=64 * 2**20):
        x = x.astype(np.float64)
        diff = x[:, None, :] - x[None, :, :]
        sim = np.exp(-np.abs(diff)) if kind == "abs" else np.exp(-diff ** 2)
        same = labels[:, None] == labels[None, :]
        off = ~np.eye(len(x), dtype=bool)
        keep = same if kind == "self_pairs" else same & off
        if kind == "swapped":
            return ((1 - sim[keep]).mean(axis=0) * sim[~same].mean(axis=0)).astype(np.float32)
        return (sim[keep].mean(axis=0) * (1 - sim[~same]).mean(axis=0)).astype(np.float32)
    return weights


def lloyd_mutant(kind):
    def step(x, centers):
        d2 = (np.abs(x[:, None, :] - centers[None]).sum(axis=2) if kind == "l1" else
              _squared_distances(x, centers))
        labels = d2.argmax(axis=1) if kind == "argmax" else d2.argmin(axis=1)
        nearest = d2[np.arange(len(x)), labels]
        one_hot = (labels == np.arange(len(centers))[:, None]).astype(x.dtype)
        sums, counts = one_hot @ x, one_hot.sum(axis=1)
        if kind == "sums":
            return labels, sums
        if kind == "nan_empty":
            with np.errstate(invalid="ignore", divide="ignore"):
                return labels, sums / counts[:, None]
        return labels, KMeans._means(x, sums, counts, nearest)
    return step


def pairs(n):
    return n * (n - 1) / 2


def ari_mutant(kind):
    def score(labels_true, labels_pred):
        a, b = np.asarray(labels_true), np.asarray(labels_pred)
        if kind == "equal_labels":
            return float(np.mean(a == b))
        table = contingency_matrix(a, b).astype(np.float64)
        n = table.sum()
        index = pairs(table).sum()
        rows, cols = pairs(table.sum(axis=1)).sum(), pairs(table.sum(axis=0)).sum()
        if kind == "rand":
            return float((pairs(n) + 2 * index - rows - cols) / pairs(n))
        expected = rows * cols / pairs(n)
        maximum = (rows + cols) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return float((index - expected) / (maximum - expected))        # no guard
    return score


# --------------------------------------------------------------------------- Part 4


def cross_entropy_mutant(kind):
    def loss_fn(logits, labels):
        n = len(logits)
        shifted = logits if kind == "no_shift" else logits - logits.max(axis=1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(shifted)
            p = e / e.sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(n), labels])
        loss = float(loss.sum() if kind == "sum" else loss.mean())
        grad = p.copy()
        if kind != "no_onehot":
            grad[np.arange(n), labels] -= 1
        return loss, grad if kind == "no_1_over_n" else grad / n
    return loss_fn


def logit_mse_mutant(kind):
    def loss_fn(student_logits, teacher_logits):
        diff = student_logits - teacher_logits
        n, c = diff.shape
        loss = float(np.mean(diff ** 2))
        grad = {"no_2": diff / diff.size, "mean_over_n": 2 * diff / n,
                "sign": -2 * diff / diff.size}[kind]
        return loss, grad
    return loss_fn


def soft_target_mutant(kind):
    def call(self, student_logits, teacher_logits, labels):
        T, a = self.temperature, self.alpha
        n = len(student_logits)
        log_p = losses.log_softmax(teacher_logits / T)
        log_q = losses.log_softmax(student_logits / T)
        if kind == "kl_swapped":
            log_p, log_q = log_q, log_p
        p = np.exp(log_p)
        kl = float((p * (log_p - log_q)).sum() / n)
        hard, hard_grad = losses.softmax_cross_entropy(student_logits, labels)
        soft_weight, hard_weight = (1 - a, a) if kind == "alpha_swapped" else (a, 1 - a)
        factor = 1.0 if kind == "no_t_squared" else T * T
        grad = (np.exp(log_q) - p) * (soft_weight * T / n) if kind != "grad_t_squared" else \
            (np.exp(log_q) - p) * (soft_weight * T * T / n)
        grad += hard_weight * hard_grad
        return soft_weight * factor * kl + hard_weight * hard, grad
    return call


# --------------------------------------------------------------------------- mistakes found by a student


def unit_swapped(pattern):
    return int(pattern.sum()), np.where(pattern == 1, 1, -1)


def adaline_net_twice(self, xi, ti):
    err = ti - (xi @ self.w + self.b)
    self.w += self.lr * err * xi
    self.b += self.lr * (ti - (xi @ self.w + self.b))       # net again, after moving w
    return err


def mri_strict(self, xi, ti):
    z_in = xi @ self.W + self.b
    if (z_in.max() > 0) == (ti == 1):
        return 0.0
    units = [int(np.argmin(np.abs(z_in)))] if ti == 1 else np.flatnonzero(z_in > 0)
    if len(units) == 0:
        return 0.0
    delta = self.lr * (ti - z_in[units])
    self.W[:, units] += np.outer(xi, delta)
    self.b[units] += delta
    return float(np.abs(delta).max() * max(1.0, np.abs(xi).max()))


def backward_db_axis(self, dout, input_grad=True):
    x = layers._cached(self, "_x")
    self.grads["W"] = x.T @ dout
    self.grads["b"] = dout.sum(axis=1)
    return dout @ self.params["W"].T


def relu_in_place(self, x):
    slope = (x > 0).astype(x.dtype)
    return np.maximum(x, 0, out=x), slope


def tanh_by_exp(self, x):
    out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
    return out, 1 - out * out


def sigmoid_where(self, x):
    out = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
    return out, out * (1 - out)


def l2_norm(self, params, grads):
    for name, p in params.items():
        grads[name] += 2 * self.beta * p
    return self.beta * sum(float(np.linalg.norm(p)) for p in params.values())


def sgd_lost_velocity(self, params, grads):
    for name, p in params.items():
        g = grads[name] + self.weight_decay * p
        if self.momentum:
            v = self.velocity.get(name, np.zeros_like(p))
            v = self.momentum * v + g                    # never stored back
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g


def adam_rebinds(self, params, grads):
    b1, b2 = self.beta1, self.beta2
    for name, p in params.items():
        g = grads[name]
        t, m, v = self._next_step(name, p)
        m = b1 * m + (1 - b1) * g                        # new arrays: self.m keeps zeros
        v = b2 * v + (1 - b2) * g * g
        p -= self.lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + self.eps)


def lloyd_first_row(x, centers):
    d2 = _squared_distances(x, centers)
    labels = d2.argmin(axis=1)
    new = centers.copy()
    for j in range(len(centers)):
        new[j] = x[labels == j].mean(axis=0) if (labels == j).any() else x[0]
    return labels, new


def ari_ordered_pairs(labels_true, labels_pred):
    table = contingency_matrix(labels_true, labels_pred).astype(np.float64)
    n = table.sum()
    index = pairs(table).sum()
    rows, cols = pairs(table.sum(axis=1)).sum(), pairs(table.sum(axis=0)).sum()
    expected = rows * cols / (n * (n - 1))
    maximum = (rows + cols) / 2
    return float((index - expected) / (maximum - expected)) if maximum != expected else 1.0


def ari_pure_python(labels_true, labels_pred):
    from math import comb
    a, b = list(labels_true), list(labels_pred)
    n = len(a)
    index = sum(comb(sum(1 for i in range(n) if a[i] == p and b[i] == q), 2)
                for p in set(a) for q in set(b))
    rows = sum(comb(a.count(p), 2) for p in set(a))
    cols = sum(comb(b.count(q), 2) for q in set(b))
    expected = rows * cols / comb(n, 2)
    return (index - expected) / ((rows + cols) / 2 - expected)


def cross_entropy_log_of_softmax(logits, labels):
    n = len(logits)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        loss = float(-np.log(p[np.arange(n), labels]).mean())
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return loss, grad / n


MUTANTS = [
    ("template_unit", unit_zero_for_unlit, "an unlit segment must count against firing"),
    ("template_unit", unit_threshold_low, "the threshold must be the number of lit segments"),
    ("template_unit", unit_threshold_high, "does not fire for that pattern"),
    ("two_layer_detector", two_layer(hidden_threshold=1), "is also the code of"),
    ("two_layer_detector", two_layer(output_slack=1), "template unit on its digit's hidden code"),
    ("two_layer_detector", two_layer(third_unit=True), "two hidden units"),
    ("adaline_online_step", adaline_mutant("sign"), "the sign is flipped"),
    ("adaline_online_step", adaline_mutant("perceptron"), "not its sign"),
    ("adaline_online_step", adaline_mutant("no_lr"), "scaled by the learning rate"),
    ("adaline_online_step", adaline_mutant("no_bias"), "the bias learns too"),
    ("madaline_mri_step", mri_mutant("farthest"), "closest to 0 means the smallest"),
    ("madaline_mri_step", mri_mutant("all_positive"), "for t = \\+1 only one unit moves"),
    ("madaline_mri_step", mri_mutant("one_negative"), "for t = -1 every unit with z_in >= 0"),
    ("dense_forward", forward_mutant("no_bias"), "add the bias b"),
    ("dense_forward", forward_mutant("no_cache"), "keep the input as self._x"),
    ("dense_forward", forward_mutant("transposed"), "looks transposed"),
    ("dense_forward", forward_mutant("float64"), "compute in the parameters' dtype"),
    ("dense_backward", backward_mutant("transposed"), "dW.*looks transposed"),
    ("dense_backward", backward_mutant("db_mean"), "db is N = \\d+ times too small"),
    ("dense_backward", backward_mutant("mean"), "dW is N = \\d+ times too small"),
    ("dense_backward", backward_mutant("dx_no_transpose"), "transpose"),
    ("relu", activation("relu_output"), "not max\\(x, 0\\) itself"),
    ("relu", activation("relu_ones"), "the derivative is 0 where x < 0"),
    ("relu", activation("relu_bool"), "in x's dtype"),
    ("tanh", activation("tanh_input"), "uses the input where the output belongs"),
    ("tanh", activation("tanh_unsquared"), "square it"),
    ("tanh", activation("tanh_float64"), "in x's dtype"),
    ("sigmoid", activation("sigmoid_naive"), "overflows.*tanh"),
    ("sigmoid", activation("sigmoid_input"), "uses the input where the output belongs"),
    ("sigmoid", activation("sigmoid_output"), "not sigma\\(x\\)"),
    ("weighted_mse", weighted_mse_mutant("no_1_over_d"), "average over the D columns"),
    ("weighted_mse", weighted_mse_mutant("no_2"), "a factor 2 is missing"),
    ("weighted_mse", weighted_mse_mutant("no_w"), "weight the gradient by w"),
    ("l2_penalty", l2_mutant("no_2"), "a factor 2 is missing"),
    ("l2_penalty", l2_mutant("replace"), "do not replace it"),
    ("l2_penalty", l2_mutant("no_beta"), "multiply by beta"),
    ("sgd_step", sgd_mutant("no_momentum"), "momentum is missing"),
    ("sgd_step", sgd_mutant("no_nesterov"), "Nesterov steps by g \\+ momentum v"),
    ("sgd_step", sgd_mutant("no_decay"), "weight decay adds"),
    ("sgd_step", sgd_mutant("not_in_place"), "update in place"),
    ("adam_step", adam_mutant("no_correction"), "bias correction is missing"),
    ("adam_step", adam_mutant("shared_t"), "counts its own steps"),
    ("adam_step", adam_mutant("eps_inside"), "eps is added after the square root"),
    ("train_step", train_step_mutant("no_clear"), "model.clear_grads\\(\\)"),
    ("train_step", train_step_mutant("no_penalty"), "the penalty's gradient is missing"),
    ("train_step", train_step_mutant("loss_after"), "before the update"),
    ("train_step", train_step_mutant("no_nan_check"), "raise NonFiniteError"),
    ("pixel_importance_weights", pixel_mutant("self_pairs"), "with itself \\(p != q\\)"),
    ("pixel_importance_weights", pixel_mutant("abs"), "square the difference"),
    ("pixel_importance_weights", pixel_mutant("swapped"), "the same-class factor averages"),
    ("lloyd_step", lloyd_mutant("argmax"), "the smallest distance \\(argmin\\)"),
    ("lloyd_step", lloyd_mutant("l1"), "squared Euclidean distance"),
    ("lloyd_step", lloyd_mutant("sums"), "divide each centre's sum"),
    ("lloyd_step", lloyd_mutant("nan_empty"), "an empty cluster's centre must stay a point"),
    ("adjusted_rand_score", ari_mutant("rand"), "unadjusted Rand index"),
    ("adjusted_rand_score", ari_mutant("equal_labels"), "not on the labels' values"),
    ("adjusted_rand_score", ari_mutant("no_guard"), "guard the division"),
    ("softmax_cross_entropy", cross_entropy_mutant("no_shift"), "shift by the largest logit"),
    ("softmax_cross_entropy", cross_entropy_mutant("no_1_over_n"), "divide by N"),
    ("softmax_cross_entropy", cross_entropy_mutant("sum"), "a mean over the batch, not a sum"),
    ("softmax_cross_entropy", cross_entropy_mutant("no_onehot"), "subtract onehot\\(y\\)"),
    ("distill_logit_mse", logit_mse_mutant("no_2"), "a factor 2 is missing"),
    ("distill_logit_mse", logit_mse_mutant("mean_over_n"), "divide by N C"),
    ("distill_logit_mse", logit_mse_mutant("sign"), "the sign is flipped"),
    ("soft_target_loss", soft_target_mutant("no_t_squared"), "the T\\^2 factor is missing"),
    ("soft_target_loss", soft_target_mutant("alpha_swapped"), "alpha weights the soft term"),
    ("soft_target_loss", soft_target_mutant("kl_swapped"), "the two are swapped"),
    ("soft_target_loss", soft_target_mutant("grad_t_squared"), "dL/ds is T times too large"),
    ("template_unit", unit_swapped, "return \\(weights, threshold\\), in that order"),
    ("adaline_online_step", adaline_net_twice, "compute net once, before the update"),
    ("madaline_mri_step", mri_strict, "a net input of exactly 0 counts as an output of \\+1"),
    ("dense_backward", backward_db_axis, "db sums dout over the batch's rows \\(axis=0\\)"),
    ("relu", relu_in_place, "it changed its input x"),
    ("tanh", tanh_by_exp, "np.tanh never overflows"),
    ("sigmoid", sigmoid_where, "np.where evaluates both its branches"),
    ("l2_penalty", l2_norm, "square the norm"),
    ("sgd_step", sgd_lost_velocity, "kept from step to step"),
    ("adam_step", adam_rebinds, "m and v start from zero at every step"),
    ("lloyd_step", lloyd_first_row, "so that no two share a point"),
    ("adjusted_rand_score", ari_ordered_pairs, "C\\(n, 2\\) = n \\(n - 1\\) / 2"),
    ("adjusted_rand_score", ari_pure_python, "raised ZeroDivisionError.*guard the division"),
    ("softmax_cross_entropy", cross_entropy_log_of_softmax, "take the log of the softmax directly"),
]


@pytest.mark.parametrize("name, mutant, hint", MUTANTS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(MUTANTS)])
def test_a_typical_mistake_fails_with_a_message_that_points_at_it(name, mutant, hint):
    import re
    status, message, _ = grade(name, mutant)
    assert status == "fail", f"{name}: the mutant passed"
    assert re.search(hint, message), message
    assert "\n" not in message and "Traceback" not in message     # one sentence, no traceback


def test_every_exercise_has_at_least_three_mutants():
    counts = {e.name: 0 for e in EXERCISES}
    for name, _, _ in MUTANTS:
        counts[name] += 1
    assert min(counts.values()) >= 3, counts

