"""The training loop every network in scratchnn is trained with."""

import sys
import time

import numpy as np

from .checks import NonFiniteError, NumericalError, check_array, check_labels, check_positive
from .layers import check_input, leaf_layers


class History:
    """What ``fit`` records: loss per iteration and per epoch, time, evaluations."""

    def __init__(self):
        self.loss = []          # one value per optimizer step
        self.epoch_loss = []    # mean of the step losses of each epoch
        self.epoch_seconds = []
        self.batch_sizes = []   # batch size used in each epoch
        self.evaluations = []   # what the callback returned, one entry per epoch

    @property
    def seconds(self):
        return float(sum(self.epoch_seconds))


class Progress:
    """A one-line progress display rewritten in place with ``\\r``.

    It writes only when the stream is a terminal, so logs and CI output stay clean.
    """

    def __init__(self, stream=None, enabled=True, min_interval=0.1):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.enabled = enabled and isatty()
        self.min_interval = min_interval
        self._last = 0.0
        self._width = 0

    def update(self, text, force=False):
        if not self.enabled:
            return
        now = time.perf_counter()
        if force or now - self._last >= self.min_interval:
            self._last = now
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)

    def close(self):
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _fmt_seconds(s):
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}"


def fit(model, loss_fn, optimizer, x, targets, epochs=1, batch_size=32, rng=None,
        penalty=None, lr_schedule=None, callback=None, augment=None, progress=True,
        print_epochs=False, stream=None, name="train"):
    """Train ``model`` by mini-batch gradient descent; return a :class:`History`.

    model      a :class:`~scratchnn.layers.Sequential` (its trainable parameters are updated).
    loss_fn    called as ``loss_fn(model_output, *batch_targets)`` and returns ``(loss, dL/d output)``.
    optimizer  an object with ``step(params, grads)`` (:mod:`scratchnn.optim`).
    x          inputs (N, D); converted once to the model's dtype (float64 -> float32 for a
               float32 model) and checked for shape and NaN.
    targets    an array with N rows, or a tuple (or list of arrays) of such arrays (e.g.
               teacher logits and labels), sliced with the same batch indices.
               Float targets take the model's dtype.
    batch_size an int, or a function ``epoch -> int`` (epochs count from 0), e.g. a growing batch.
    rng        seed or ``numpy.random.Generator`` for the shuffling (and ``augment``):
               same seed, same history.
    penalty    optional ``penalty(params, grads) -> value`` that adds its gradient to ``grads``
               (:class:`~scratchnn.losses.L2Penalty`); its value is part of the loss.
    lr_schedule optional function ``epoch -> learning rate``, set on the optimizer each epoch.
    callback   optional function ``(epoch, model) -> dict`` run after each epoch (evaluation).
    augment    optional function ``(x_batch, rng) -> x_batch`` applied to every training batch
               (e.g. :class:`~scratchnn.augment.RandomShift`).
    progress   a live one-line display (only on a terminal); ``print_epochs`` prints a line per epoch.

    Each step reads ``model.params`` and ``model.grads`` after ``backward``, checks that every
    trainable parameter got a gradient of its own shape, and stops with ``NumericalError``
    naming the epoch, the step and the likely cause as soon as the loss or a weight is not finite.
    """
    rng = np.random.default_rng(rng)
    stream = stream if stream is not None else sys.stderr
    dtype = model.dtype
    x = check_input(x, model.n_in, dtype, name="x")
    n = len(x)
    if n == 0:
        raise ValueError("x is empty: nothing to train on")
    if not model.params:
        raise ValueError(f"{model!r} has no trainable parameters (every layer frozen?); "
                         "unfreeze() it or train another model")
    targets = _check_targets(targets, n, dtype)
    check_positive(epochs, "epochs", integer=True, allow_zero=True)
    history = History()
    bar = Progress(stream, enabled=progress)
    start = time.perf_counter()
    # Speed device: an optimizer may offer ``step_in_place``, the same update as ``step``
    # without model-sized temporaries (see Adam in optim.py); the loop prefers it.
    optimizer_step = getattr(optimizer, "step_in_place", optimizer.step)
    held = [layer for layer in leaf_layers(model) if getattr(layer, "hold_mask", False)]
    if held:
        raise ValueError(f"{held[0]!r} has hold_mask on: every batch would reuse one dropout mask; "
                         "set hold_mask = False before training")
    was_training = [layer.training for layer in model.layers]
    model.train()
    for epoch in range(epochs):
        bs = batch_size(epoch) if callable(batch_size) else batch_size
        bs = check_positive(bs, f"batch size at epoch {epoch}", integer=True)
        if lr_schedule is not None:
            optimizer.lr = float(lr_schedule(epoch))
        order = rng.permutation(n)
        n_steps = -(-n // bs)
        t0 = time.perf_counter()
        total = 0.0
        for step in range(n_steps):
            idx = order[step * bs:(step + 1) * bs]
            xb = x[idx] if augment is None else augment(x[idx], rng)
            out = None
            try:
                out = model.forward(xb)
                data_loss, dout = loss_fn(out, *(t[idx] for t in targets))
            except NonFiniteError as err:   # x was checked on entry: something overflowed
                bar.close()
                raise NumericalError(_divergence_message(
                    name, epoch, step, np.nan, np.nan, out, model.params, optimizer)) from err
            model.clear_grads()
            model.backward(dout, input_grad=False)
            params, grads = model.params, model.grads
            check_gradients(model, params, grads)
            loss = data_loss + (penalty(params, grads) if penalty is not None else 0.0)
            if not np.isfinite(loss):
                bar.close()
                raise NumericalError(_divergence_message(name, epoch, step, data_loss, loss, out,
                                                             params, optimizer))
            optimizer_step(params, grads)
            history.loss.append(loss)
            total += loss
            if bar.enabled:
                elapsed = time.perf_counter() - start
                done = (epoch + (step + 1) / n_steps) / epochs
                eta = elapsed / done - elapsed
                bar.update(f"{name} epoch {epoch + 1}/{epochs} batch {step + 1}/{n_steps} "
                           f"loss {loss:.4f} elapsed {_fmt_seconds(elapsed)} "
                           f"eta {_fmt_seconds(eta)}", force=step == n_steps - 1)
        bad = [k for k, p in model.params.items() if not np.isfinite(p).all()]
        if bad:                       # the last step of the epoch broke a weight
            bar.close()
            lr = getattr(optimizer, "lr", None)
            raise NumericalError(
                f"{name}: parameter {bad[0]} became NaN or infinite at epoch {epoch + 1}, step "
                f"{n_steps} (the epoch's last update): {_ADVICE_LR} (lr now {lr})")
        history.epoch_seconds.append(time.perf_counter() - t0)
        history.epoch_loss.append(total / n_steps)
        history.batch_sizes.append(bs)
        evaluation = callback(epoch, model) if callback is not None else None
        history.evaluations.append(evaluation)
        if print_epochs:
            bar.close()
            extra = "".join(f" {k} {v:.4f}" if isinstance(v, float) else f" {k} {v}"
                            for k, v in (evaluation or {}).items())
            print(f"{name} epoch {epoch + 1}/{epochs} loss {history.epoch_loss[-1]:.4f}{extra} "
                  f"({history.epoch_seconds[-1]:.1f} s)", file=stream, flush=True)
    bar.close()
    for layer, mode in zip(model.layers, was_training):     # back to the modes it came with
        layer.training = mode
    return history


def _check_targets(targets, n, dtype):
    """The targets as a tuple of arrays with n rows each; float ones in the model's dtype."""
    several = isinstance(targets, tuple) or (
        isinstance(targets, list) and targets and all(isinstance(t, np.ndarray) for t in targets))
    checked = []
    for i, t in enumerate(targets if several else (targets,)):
        label = f"targets[{i}]" if several else "targets"
        t = np.asarray(t)
        if t.ndim == 0 or len(t) != n:
            raise ValueError(f"{label} has {len(t) if t.ndim else 0} rows but x has {n}; give one "
                             "target row per sample (several targets go in a tuple)")
        if t.dtype.kind == "f":       # float targets: same dtype as the model, finite
            t = check_array(t, label, ndim=None, dtype=dtype)
        checked.append(t)
    return tuple(checked)


def check_gradients(model, params, grads):
    """Every trainable parameter has a gradient of its own shape after ``backward``.

    A layer that forgets a gradient, or computes one of another shape (a transposed
    dW, a scalar for a vector), would otherwise train wrongly or not at all, silently.
    """
    for name, p in params.items():
        g = grads.get(name)
        if g is None or np.shape(g) != p.shape:
            index, _, pname = name.partition(".")
            layer = model.layers[int(index)] if index.isdigit() else model
            if g is None:
                problem = "left no gradient"
            else:
                problem = f"set a gradient of shape {np.shape(g)}"
            raise ValueError(f"layer {index} ({layer!r}): backward {problem} for parameter "
                             f"{pname!r} of shape {p.shape}; set self.grads[{pname!r}] to dL/d{pname}, "
                             "an array of the parameter's shape, in backward")


_ADVICE_LR = ("the update was too large: lower the learning rate (try a tenth), standardise the "
              "inputs, or add an L2 penalty")


def _divergence_message(name, epoch, step, data_loss, loss, out, params, optimizer):
    """Why the loss is not finite, from what can be seen: the weights, the outputs, the step."""
    where = f"{name}: the loss became {loss} at epoch {epoch + 1}, step {step + 1}"
    lr = getattr(optimizer, "lr", None)
    bad = [k for k, p in params.items() if not np.isfinite(p).all()]
    if bad:
        return (f"{where}; parameter {bad[0]} is already NaN or infinite, so the previous update "
                f"broke it: {_ADVICE_LR} (lr now {lr})")
    if np.isfinite(data_loss):
        return (f"{where}: the penalty overflowed, the weights are huge: {_ADVICE_LR} (lr now {lr})")
    largest = f"largest |output| {np.nanmax(np.abs(out)):.3g}" if out is not None else "a layer overflowed"
    if epoch == 0 and step == 0:
        return (f"{where}, before any update: the initial model's output on the data is not finite "
                f"({largest}); check the scale of the inputs and targets (scale pixels to [0, 1], "
                "standardise features)")
    return (f"{where} while the weights are still finite: the outputs overflowed ({largest}), the "
            f"weights are growing without bound: {_ADVICE_LR} (lr now {lr})")


def cosine_schedule(lr, epochs):
    """Learning rate for ``fit``'s ``lr_schedule``: lr (1 + cos(pi e / epochs)) / 2 at epoch e,
    from ``lr`` down towards 0 (Loshchilov and Hutter, 2017, without restarts)."""
    lr, epochs = check_positive(lr, "lr"), check_positive(epochs, "epochs", integer=True)
    return lambda epoch: 0.5 * lr * (1 + np.cos(np.pi * epoch / epochs))


def predict_classes(model, x, batch_size=4096):
    """Class index by argmax of the logits (softmax would not change the argmax)."""
    return model.predict(x, batch_size=batch_size).argmax(axis=1)


def accuracy(model, x, labels, batch_size=4096):
    """Fraction of rows whose argmax prediction equals the label; labels (N,) integers."""
    scores = model.predict(x, batch_size=batch_size)
    labels = check_labels(labels, "labels", len(scores), scores.shape[1])
    if len(labels) == 0:
        raise ValueError("accuracy of an empty set is undefined: x has no rows")
    return float(np.mean(scores.argmax(axis=1) == labels))
