"""The training loop every network in scratchnn is trained with."""

import sys
import time

import numpy as np

from .layers import check_input


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
        penalty=None, lr_schedule=None, callback=None, progress=True, print_epochs=False,
        stream=None, name="train"):
    """Train ``model`` by mini-batch gradient descent; return a :class:`History`.

    model      a :class:`~scratchnn.layers.Sequential` (its trainable parameters are updated).
    loss_fn    called as ``loss_fn(model_output, *batch_targets)`` and returns ``(loss, dL/d output)``.
    optimizer  an object with ``step(params, grads)`` (:mod:`scratchnn.optim`).
    x          inputs (N, D); converted once to the model's dtype (float64 -> float32 for a
               float32 model) and checked for shape and NaN.
    targets    an array with N rows, or a tuple of such arrays (e.g. teacher logits and labels),
               sliced with the same batch indices.  Float targets take the model's dtype.
    batch_size an int, or a function ``epoch -> int`` (epochs count from 0), e.g. a growing batch.
    rng        seed or ``numpy.random.Generator`` for the shuffling: same seed, same history.
    penalty    optional ``penalty(params, grads) -> value`` that adds its gradient to ``grads``
               in place (:class:`~scratchnn.losses.L2Penalty`); its value is part of the loss.
    lr_schedule optional function ``epoch -> learning rate``, set on the optimizer each epoch.
    callback   optional function ``(epoch, model) -> dict`` run after each epoch (evaluation).
    progress   a live one-line display (only on a terminal); ``print_epochs`` prints a line per epoch.
    """
    rng = np.random.default_rng(rng)
    stream = stream if stream is not None else sys.stderr
    dtype = model.dtype
    x = check_input(x, model.n_in, dtype, name="x")
    n = len(x)
    if n == 0:
        raise ValueError("x is empty: nothing to train on")
    checked = []
    for i, t in enumerate(targets if isinstance(targets, tuple) else (targets,)):
        t = np.asarray(t)
        if len(t) != n:
            raise ValueError(f"targets[{i}] has {len(t)} rows but x has {n}")
        if t.dtype.kind == "f":       # float targets: same dtype as the model, finite
            rows = t.reshape(n, -1)
            t = check_input(rows, rows.shape[1], dtype, name=f"targets[{i}]").reshape(t.shape)
        checked.append(t)
    targets = tuple(checked)
    history = History()
    bar = Progress(stream, enabled=progress)
    start = time.perf_counter()
    for epoch in range(epochs):
        bs = int(batch_size(epoch) if callable(batch_size) else batch_size)
        if bs < 1:
            raise ValueError(f"batch size must be at least 1, got {bs} at epoch {epoch}")
        if lr_schedule is not None:
            optimizer.lr = float(lr_schedule(epoch))
        order = rng.permutation(n)
        n_steps = -(-n // bs)
        t0 = time.perf_counter()
        total = 0.0
        for step in range(n_steps):
            idx = order[step * bs:(step + 1) * bs]
            out = model.forward(x[idx])
            loss, dout = loss_fn(out, *(t[idx] for t in targets))
            if not np.isfinite(loss):
                bar.close()
                raise FloatingPointError(
                    f"{name}: the loss became {loss} at epoch {epoch + 1}, step {step + 1}; "
                    f"try a smaller learning rate (now {getattr(optimizer, 'lr', None)})")
            params, grads = model.training_arrays()
            model.backward(dout, input_grad=False)
            if penalty is not None:
                loss += penalty(params, grads)
            optimizer.step(params, grads)
            history.loss.append(loss)
            total += loss
            if bar.enabled:
                elapsed = time.perf_counter() - start
                done = (epoch + (step + 1) / n_steps) / epochs
                eta = elapsed / done - elapsed
                bar.update(f"{name} epoch {epoch + 1}/{epochs} batch {step + 1}/{n_steps} "
                           f"loss {loss:.4f} elapsed {_fmt_seconds(elapsed)} "
                           f"eta {_fmt_seconds(eta)}", force=step == n_steps - 1)
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
    return history


def cosine_schedule(lr, epochs):
    """Learning rate for ``fit``'s ``lr_schedule``: lr (1 + cos(pi e / epochs)) / 2 at epoch e,
    from ``lr`` down towards 0 (Loshchilov and Hutter, 2017, without restarts)."""
    return lambda epoch: 0.5 * lr * (1 + np.cos(np.pi * epoch / epochs))


def predict_classes(model, x, batch_size=4096):
    """Class index by argmax of the logits (softmax would not change the argmax)."""
    return model.predict(x, batch_size=batch_size).argmax(axis=1)


def accuracy(model, x, labels, batch_size=4096):
    """Fraction of rows whose argmax prediction equals the label."""
    return float(np.mean(predict_classes(model, x, batch_size) == np.asarray(labels)))
