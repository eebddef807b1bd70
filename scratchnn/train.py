"""Training: one step of gradient descent, and the loop that repeats it.

Read :func:`train_step` first: it is the algorithm, forward, loss, backward, update.
:func:`fit` repeats it over shuffled mini-batches and epochs, and adds what a run needs
around it: validation and early stopping, learning-rate schedules, a progress display.
The guards that make a mistake loud (checks of the arguments, the gradient contract,
why a loss became NaN, a run that learned nothing) are helpers below ``fit``.
"""

import contextlib
import sys
import time
import warnings

import numpy as np

from .checks import (NonFiniteError, NumericalError, check_array, check_labels, check_positive)
from .layers import check_input, leaf_layers


def train_step(model, loss_fn, optimizer, x, *targets, penalty=None):
    """One step of gradient descent on one batch; returns the batch's loss.

    model      a :class:`~scratchnn.layers.Sequential` in training mode.
    loss_fn    ``loss_fn(output, *targets) -> (loss, dL/d output)`` (:mod:`scratchnn.losses`).
    optimizer  ``optimizer.step(params, grads)`` updates every parameter in place.
    penalty    optional, e.g. :class:`~scratchnn.losses.L2Penalty`: adds its gradient to the
               grads and returns its value, which joins the loss.
    """
    # forward: the model's output for the batch, the loss and its gradient dL/d(output)
    output = model.forward(x)
    loss, dout = loss_fn(output, *targets)
    # backward: the chain rule, layer by layer; each layer fills its grads
    model.clear_grads()                   # so a gradient a layer forgets is missing, not stale
    model.backward(dout, input_grad=False)
    params, grads = model.params, model.grads
    check_gradients(model, params, grads)
    if penalty is not None:
        loss += penalty(params, grads)
    if not np.isfinite(loss):
        raise NonFiniteError(f"the loss is {loss}")
    # update: each parameter moves against its gradient (plain SGD: p -= lr * g)
    optimizer.step(params, grads)
    return loss


class StopTraining(Exception):
    """Raise it in a ``fit`` callback to end training after this epoch (the reason is kept
    in ``History.stopped``)."""


class History:
    """What ``fit`` records, epoch by epoch.

    loss           one value per optimizer step (penalty included)
    epoch_loss     the mean of each epoch's step losses
    val_loss       with ``validation_data``: the loss on it after each epoch (penalty included)
    epochs         each epoch's number, counted from 0 (printed lines count from 1); a model's
                   count goes on over repeated ``fit`` calls
    best_epoch     the number (as in ``epochs``) of the epoch with the lowest ``val_loss``
    stopped        why training ended before its last epoch (early stopping, a callback), or None
    evaluations    what the callback returned after each epoch
    epoch_seconds, batch_sizes   of each epoch; ``seconds`` is their total
    """

    def __init__(self):
        self.loss, self.epoch_loss, self.val_loss, self.epochs = [], [], [], []
        self.epoch_seconds, self.batch_sizes, self.evaluations = [], [], []
        self.best_epoch, self.stopped = None, None

    def record(self, epoch, losses, batch_size, seconds):
        self.epochs.append(epoch)
        self.loss += losses
        self.epoch_loss.append(float(np.mean(losses)))
        self.batch_sizes.append(batch_size)
        self.epoch_seconds.append(seconds)

    @property
    def seconds(self):
        return float(sum(self.epoch_seconds))


def fit(model, loss_fn, optimizer, x, targets, epochs=1, batch_size=32, rng=None, penalty=None,
        validation_data=None, patience=None, restore_best=False, lr_schedule=None, augment=None,
        callback=None, progress=True, print_epochs=False, stream=None, name="train",
        initial_epoch=None, warn_constant=True):
    """Train ``model`` by mini-batch gradient descent, :func:`train_step` after
    :func:`train_step`; returns a :class:`History`.

    x, targets       inputs (N, D) and what ``loss_fn`` compares the output with: an array with
                     N rows, or a tuple of them (e.g. teacher logits and labels). Float data is
                     converted once to the model's dtype.
    epochs           how many passes over the data.
    initial_epoch    the number of the first epoch (Keras's name). None continues the model's
                     count (``model.epochs_trained``), so over repeated calls a schedule and a
                     seeded shuffle go on where they stopped; 0 starts a new count (a new schedule).
    batch_size       an int, or a function ``epoch -> int`` (a growing batch).
    rng              a seed or a ``numpy.random.Generator`` for the shuffling (and ``augment``).
                     A seed gives each epoch its own stream, so the same seed gives the same run,
                     split into calls or not.
    penalty          e.g. :class:`~scratchnn.losses.L2Penalty`; its value is part of the loss.
    validation_data  ``(x_val, targets_val)``: the loss on it after each epoch (``val_loss``).
    patience         with validation data: stop after this many epochs without a lower val_loss.
    restore_best     with validation data: end with the parameters of the best epoch.
    lr_schedule      a function ``epoch -> learning rate``, set on the optimizer at each epoch.
    augment          a function ``(x_batch, rng) -> x_batch`` (e.g. :class:`~scratchnn.RandomShift`).
    callback         ``callback(epoch, model)`` after each epoch: returns None or a dict of
                     named numbers (kept in ``History.evaluations``, printed with ``print_epochs``);
                     it may ``raise StopTraining(reason)`` to end training after that epoch.
    progress         a one-line display on a terminal; ``print_epochs`` prints a line per epoch.
    warn_constant    warn if the run ends no better than a constant prediction; False for a fit
                     that is one piece of a longer run (DEC fine-tunes by many short fits).

    Mistakes stop before the first step with an error that names them (see
    :func:`check_fit_arguments`); a loss or a weight that stops being finite raises
    ``NumericalError`` with the epoch, the step and the likely cause; a run that ends worse
    than predicting a constant warns.
    """
    first = getattr(model, "epochs_trained", 0) if initial_epoch is None else check_positive(
        initial_epoch, "initial_epoch", integer=True, allow_zero=True)
    x, targets, validation_data = check_fit_arguments(
        model, loss_fn, optimizer, x, targets, epochs, penalty, validation_data, patience,
        restore_best, first_batch=epoch_batch_size(batch_size, first))
    history, display = History(), Display(name, epochs, stream, progress, print_epochs)
    seeds, n, best_state = EpochStreams(rng), len(x), None
    with training_mode(model), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(first, first + epochs):
            size = epoch_batch_size(batch_size, epoch)
            if lr_schedule is not None:
                optimizer.lr = float(lr_schedule(epoch))
            shuffle = seeds.generator(epoch)
            order = shuffle.permutation(n)
            start, losses = time.perf_counter(), []
            for i in range(0, n, size):
                idx = order[i:i + size]
                xb = x[idx] if augment is None else augment(x[idx], shuffle)
                batch_targets = [t[idx] for t in targets]
                losses.append(guarded_step(model, loss_fn, optimizer, xb, batch_targets, penalty,
                                           name, epoch, len(losses) + 1))
                display.step(epoch - first, len(losses), -(-n // size), losses[-1])
            check_parameters(model, optimizer, name, epoch, len(losses))
            model.epochs_trained = epoch + 1
            history.record(epoch, losses, size, time.perf_counter() - start)
            if validation_data is not None:
                best_state = record_validation(history, model, loss_fn, penalty, validation_data,
                                               best_state, restore_best)
            history.evaluations.append(run_callback(callback, epoch, model, history))
            display.epoch(history)
            if history.stopped is None and patience is not None and \
                    epoch - history.best_epoch >= patience:
                history.stopped = f"early stopping: no lower val_loss in {patience} epochs"
            if history.stopped is not None:
                break
    display.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    if warn_constant:
        warn_if_no_better_than_constant(model, loss_fn, optimizer, x, targets, penalty, history,
                                        name)
    return history


# --- the guards and helpers of fit -----------------------------------------------------------


def check_fit_arguments(model, loss_fn, optimizer, x, targets, epochs, penalty, validation_data,
                        patience, restore_best, first_batch):
    """Every check ``fit`` makes before its first step; returns x, the targets (a tuple of arrays)
    and the validation data, converted to the model's dtype. Errors name the argument, the
    data's own sizes and the fix. The loss is tried once on the first batch (any loss, the
    core's own and one's own alike: :func:`check_loss_on_first_batch`)."""
    check_objects(model, loss_fn, optimizer)
    x = check_input(x, model.n_in, model.dtype, name="x")
    if len(x) == 0:
        raise ValueError("x is empty: nothing to train on")
    if not model.params:
        raise ValueError(f"{model!r} has no trainable parameters (every layer frozen?); "
                         "unfreeze() it or train another model")
    held = [layer for layer in leaf_layers(model) if getattr(layer, "hold_mask", False)]
    if held:
        raise ValueError(f"{held[0]!r} has hold_mask on: every batch would reuse one dropout mask; "
                         "set hold_mask = False before training")
    check_positive(epochs, "epochs", integer=True, allow_zero=True)
    if penalty is not None and not (callable(penalty) and callable(getattr(penalty, "value", None))):
        raise TypeError(f"penalty must be an L2Penalty (or an object with value(params) and "
                        f"__call__(params, grads)), got {type(penalty).__name__}")
    targets = check_targets(targets, x, model, "targets")
    check_loss_on_first_batch(model, loss_fn, x, targets, first_batch)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (x_val, targets_val), like x and targets")
        x_val = check_input(validation_data[0], model.n_in, model.dtype, name="validation_data[0]")
        if len(x_val) == 0:
            raise ValueError("validation_data[0] is empty: hold out at least one row, or leave "
                             "validation_data out")
        validation_data = (x_val, check_targets(validation_data[1], x_val, model,
                                                "validation_data[1]"))
    elif patience is not None or restore_best:
        raise ValueError("patience and restore_best compare validation losses: give "
                         "validation_data=(x_val, targets_val)")
    if patience is not None:
        check_positive(patience, "patience", integer=True)
    return x, targets, validation_data


def check_objects(model, loss_fn, optimizer):
    """The model, the loss and the optimizer are what fit needs, in that order."""
    if not (hasattr(model, "forward") and hasattr(model, "backward") and hasattr(model, "params")):
        raise TypeError(f"model must be a scratchnn Sequential, got {type(model).__name__}")
    if isinstance(optimizer, type):
        raise TypeError(f"optimizer is the class {optimizer.__name__}, not an optimizer: create one, "
                        f"e.g. optimizer={optimizer.__name__}(lr=0.01)")
    if hasattr(loss_fn, "step") and callable(optimizer) and not hasattr(optimizer, "step"):
        raise TypeError(f"loss_fn is an optimizer ({getattr(loss_fn, '__name__', type(loss_fn).__name__)}) and optimizer a "
                        "function: they are swapped; call fit(model, loss_fn, optimizer, x, targets)")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method (SGD, Adam), got "
                        f"{getattr(optimizer, '__name__', type(optimizer).__name__)}")
    if isinstance(loss_fn, type) or not callable(loss_fn):
        raise TypeError(f"loss_fn must be a loss function called as loss_fn(output, *targets), got "
                        f"{getattr(loss_fn, '__name__', type(loss_fn).__name__)}")


def check_targets(targets, x, model, label):
    """The targets as a tuple of arrays with a row for each row of x, each recognised from its
    own shape and dtype, never from the loss, so that a loss of one's own is treated as the
    core's are: an array shaped like the model's output holds values, cast to the model's dtype
    (integers too); one integer per row, for an output of several columns, is a class label
    (the loss checks its range: a loss may take integers for other things); any other float
    array is cast to the model's dtype (per-sample weights, say). Several targets (teacher
    logits and labels) come as a tuple."""
    n, width = len(x), output_width(model, x)
    several = isinstance(targets, tuple) or (
        isinstance(targets, list) and targets and all(isinstance(t, np.ndarray) for t in targets))
    checked = []
    for i, t in enumerate(targets if several else (targets,)):
        name = f"{label}[{i}]" if several else label
        t = np.asarray(t)
        if t.ndim == 0 or len(t) != n:
            raise ValueError(f"{name} has {len(t) if t.ndim else 0} rows but x has {n}; give one "
                             "target row per sample (several targets go in a tuple)")
        if looks_like_labels(t, width):
            t = check_labels(t, name, n)
        elif t.shape == (n, width) or t.dtype.kind == "f":
            t = check_array(t, name, ndim=None, dtype=model.dtype)      # compared as numbers
        checked.append(t)
    return tuple(checked)


def looks_like_labels(t, width):
    """One integer per row, for an output of several columns: class labels."""
    return t.ndim == 1 and width > 1 and t.dtype.kind in "iu"


def check_loss_on_first_batch(model, loss_fn, x, targets, rows):
    """Call the loss once, before any step, on the model's output for the first ``rows`` rows,
    and name the loss (not a layer) when it raises, returns anything but (a number, dL/d output
    shaped like the output in its dtype), or broadcasts a target of another shape against the
    output. What the targets look like is said beside (one-hot rows, labels, a shape that
    broadcasts). Two rows at least, so that an (N,) target against an (N, 1) output broadcasts
    to (N, N) here too. A first output that is not finite is left to the first step to explain.
    """
    rows = max(rows, 2)
    with training_mode(model, False), np.errstate(all="ignore"):
        try:
            output = model.forward(x[:rows])
        except NonFiniteError:
            return
    if not np.isfinite(output).all():
        return
    name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
    what = (f"the loss {name}, called on the first batch (an output of shape {output.shape}, "
            f"{output.dtype})")

    def hints():
        return "".join(f". {h}" for h in target_hints(targets, (len(x), output.shape[1])))

    try:                                 # copies: a loss that edits its targets edits no caller's
        result = loss_fn(output, *(t[:rows].copy() for t in targets))
    except Exception as err:             # any loss, a student's too: said with what it was given
        message = f"{what} raised {type(err).__name__}: {err}" + hints()
        try:
            error = type(err)(message)
        except Exception:                # an exception class that takes other arguments
            error = ValueError(message)
        raise error from err
    check_loss_result(result, output, what, hints)
    for i, t in enumerate(targets):      # a column of values against several outputs
        if t.dtype.kind == "f" and t.shape == (len(x), 1) and output.shape[1] > 1:
            warnings.warn(f"{'targets' if len(targets) == 1 else f'targets[{i}]'} has shape "
                          f"{t.shape} and the output {(len(x), output.shape[1])}: {name} "
                          "broadcasts one column against every output; if it compares them "
                          "element by element, give the targets the output's shape",
                          RuntimeWarning, stacklevel=4)


def check_loss_result(result, output, what, hints):
    """A loss's result is (one real number, dL/d output shaped like the output, in its dtype);
    ``what`` names the call, ``hints()`` says what the targets look like."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"{what} returned {type(result).__name__}; a loss returns a pair "
                        "(loss, dL/d output), e.g. return float(loss), grad")
    loss, grad = result
    number = isinstance(loss, (int, float, np.integer, np.floating)) and not isinstance(loss, bool)
    if not (number or (isinstance(loss, np.ndarray) and loss.dtype.kind in "iuf")) \
            or np.ndim(loss) != 0:
        raise TypeError(f"{what} returned a loss of {type(loss).__name__} {str(loss)[:40]!r} "
                        f"(shape {np.shape(loss)}); the loss is one real number, the mean over the "
                        "batch (e.g. float(np.mean(...)))")
    if not isinstance(grad, np.ndarray) or grad.shape != output.shape:
        got = f"shape {np.shape(grad)}" if isinstance(grad, np.ndarray) else type(grad).__name__
        raise ValueError(f"{what} returned a gradient of {got}; dL/d output has the output's shape "
                         f"{output.shape}" + hints())
    if grad.dtype != output.dtype:
        raise ValueError(f"{what} returned a gradient of dtype {grad.dtype}; compute it in the "
                         f"output's dtype, {output.dtype} (an integer or float64 array mixed in "
                         "upcasts it: cast it with .astype(output.dtype))")


def target_hints(targets, output_shape):
    """What each target looks like when a loss fails on it, in the data's own sizes."""
    n, width = output_shape
    hints = []
    for i, t in enumerate(targets):
        name = f"targets[{i}]" if len(targets) > 1 else "targets"
        if t.shape == output_shape and width > 1 and np.isin(t, (0, 1)).all() \
                and (t.sum(axis=1) == 1).all():
            hints.append(f"{name} look one-hot ({n} rows x {width} columns of 0 and 1): a loss "
                         "that takes class labels wants one integer per row: pass y.argmax(1)")
        elif looks_like_labels(t, width):
            hints.append(f"{name} has shape {t.shape}, one integer per row: class labels. A "
                         f"loss that compares values needs the output's shape {output_shape}; for "
                         "classification use softmax_cross_entropy")
        elif t.shape != output_shape:
            try:
                both = np.broadcast_shapes(output_shape, t.shape)
            except ValueError:
                continue
            if both != output_shape:
                fix = f", y.reshape{output_shape}" if t.size == n * width else ""
                hints.append(f"{name} has shape {t.shape} and the output {output_shape}: compared "
                             f"element by element they broadcast to {both}; give {name} the "
                             f"output's shape{fix}")
    return hints


def output_width(model, x):
    """The width of the model's output, from a forward pass of x's first row (a layer's own
    ``output_width`` may be missing in a student's layer)."""
    try:
        with training_mode(model, False), np.errstate(over="ignore", invalid="ignore"):
            return model.forward(x[:1]).shape[1]
    except NonFiniteError:              # the first row overflows: the first step will say why
        return model.output_width(model.n_in)


def check_gradients(model, params, grads):
    """Every trainable parameter has a gradient of its own shape and dtype after ``backward``.

    A layer that forgets a gradient, computes one of another shape (a transposed dW), or
    of another dtype (float64 in a float32 model) would otherwise train wrongly, silently.
    """
    for name, p in params.items():
        g = grads.get(name)
        if g is not None and np.shape(g) == p.shape and getattr(g, "dtype", None) == p.dtype:
            continue
        index, _, pname = name.partition(".")
        layer = model.layers[int(index)] if index.isdigit() else model
        if g is None:
            problem, fix = "left no gradient", f"set self.grads[{pname!r}] to dL/d{pname}"
        elif np.shape(g) != p.shape:
            problem, fix = f"set a gradient of shape {np.shape(g)}", "give it the parameter's shape"
        else:
            problem = f"set a {getattr(g, 'dtype', type(g).__name__)} gradient"
            fix = f"compute it in the parameter's dtype ({p.dtype}), e.g. with .astype(x.dtype)"
        raise ValueError(f"layer {index} ({layer!r}): backward {problem} for parameter {pname!r} "
                         f"of shape {p.shape}, dtype {p.dtype}; {fix} in backward")


def guarded_step(model, loss_fn, optimizer, x, targets, penalty, name, epoch, step):
    """:func:`train_step`, with a non-finite loss turned into a ``NumericalError`` that says why."""
    try:
        return train_step(model, loss_fn, optimizer, x, *targets, penalty=penalty)
    except NonFiniteError as err:       # x was checked on entry: something overflowed
        where = f"{name}: at epoch {epoch + 1}, step {step}"
        first = epoch == 0 and step == 1
        raise NumericalError(divergence_message(model, optimizer, x, where, first)) from err


_ADVICE_LR = ("the update was too large: lower the learning rate (try a tenth), standardise the "
              "inputs, or add an L2 penalty")


def divergence_message(model, optimizer, x, where, first_step):
    """Why the loss is not finite, from what can be seen: the weights, the outputs, the step."""
    lr = getattr(optimizer, "lr", None)
    bad = [k for k, p in model.params.items() if not np.isfinite(p).all()]
    # The step failed in forward, before its backward: grads still hold the previous step's.
    bad_grads = [k for k, g in model.grads.items() if not np.isfinite(g).all()]
    if bad and bad_grads:
        return (f"{where}, the loss is not finite: parameter {bad[0]} is NaN or infinite since the "
                f"previous update, whose gradient of {bad_grads[0]} was not finite either. Either "
                "a backward produced NaN or infinity (0/0, log 0: check a layer of your own with "
                f"check_layer) or the gradients overflowed: {_ADVICE_LR} (lr now {lr})")
    if bad:
        return (f"{where}, the loss is not finite; parameter {bad[0]} is already NaN or infinite, "
                f"so the previous update broke it: {_ADVICE_LR} (lr now {lr})")
    try:
        output = model.forward(x)
    except NonFiniteError:              # a hidden layer overflowed and the next refused it
        output = None
    if output is not None and np.isfinite(output).all():
        return (f"{where}, the loss is not finite while the outputs are: the penalty overflowed, "
                f"the weights are huge, or the targets are out of range: {_ADVICE_LR} (lr now {lr})")
    largest = ("a hidden layer overflowed" if output is None or np.isnan(output).all()
               else f"largest |output| {np.nanmax(np.abs(output)):.3g}")
    if first_step:
        return (f"{where}, before any update: the initial model's output on the data is not "
                f"finite ({largest}); check the scale of the inputs and targets (scale pixels to "
                "[0, 1], standardise features)")
    return (f"{where}, the outputs overflowed ({largest}) while the weights are still finite: "
            f"they are growing without bound: {_ADVICE_LR} (lr now {lr})")


def check_parameters(model, optimizer, name, epoch, step):
    """The last update of an epoch left every weight finite (no next step would notice)."""
    bad = [k for k, p in model.params.items() if not np.isfinite(p).all()]
    if bad:
        raise NumericalError(f"{name}: parameter {bad[0]} became NaN or infinite at epoch "
                             f"{epoch + 1}, step {step} (the epoch's last update): {_ADVICE_LR} "
                             f"(lr now {getattr(optimizer, 'lr', None)})")


@contextlib.contextmanager
def training_mode(model, training=True):
    """``with training_mode(model):`` dropout on while training (``training=False``: off), each
    layer's mode restored after."""
    modes = [layer.training for layer in model.layers]
    model.training = training
    try:
        yield model
    finally:
        for layer, mode in zip(model.layers, modes):
            layer.training = mode


class EpochStreams:
    """The random generator of each epoch. A Generator is used as it is (it moves on by itself
    from call to call); a seed gives epoch e the stream ``SeedSequence(seed).spawn`` key e, so
    ``fit(epochs=2)`` and two calls of ``fit(epochs=1)`` shuffle alike."""

    def __init__(self, rng):
        self.fixed = rng if isinstance(rng, np.random.Generator) else None
        if self.fixed is None:
            self.root = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(rng)

    def generator(self, epoch):
        if self.fixed is not None:
            return self.fixed
        return np.random.default_rng(np.random.SeedSequence(
            self.root.entropy, spawn_key=(*self.root.spawn_key, epoch)))


def epoch_batch_size(batch_size, epoch):
    size = batch_size(epoch) if callable(batch_size) else batch_size
    return check_positive(size, f"batch size at epoch {epoch}", integer=True)


def validation_loss(model, loss_fn, penalty, x_val, targets_val):
    """The loss on the validation data in evaluation mode, penalty included (as in training)."""
    loss = loss_fn(model.predict(x_val), *targets_val)[0]
    return float(loss + (penalty.value(model.params) if penalty is not None else 0.0))


def record_validation(history, model, loss_fn, penalty, validation_data, best_state, restore_best):
    """Append this epoch's val_loss; on a new best, note the epoch (and keep its parameters)."""
    history.val_loss.append(validation_loss(model, loss_fn, penalty, *validation_data))
    if history.best_epoch is None or history.val_loss[-1] < min(history.val_loss[:-1]):
        history.best_epoch = history.epochs[-1]
        if restore_best:
            best_state = model.state_dict()
    return best_state


def run_callback(callback, epoch, model, history):
    if callback is None:
        return None
    try:
        result = callback(epoch, model)
    except StopTraining as stop:
        history.stopped = f"callback: {stop}" if str(stop) else "callback"
        return None
    if result is not None and not isinstance(result, dict):
        raise TypeError(f"the callback returned {type(result).__name__} {result!r}; return None or a "
                        "dict of named numbers, e.g. {'accuracy': 0.93}; to stop training, "
                        "raise scratchnn.StopTraining")
    return result


def constant_baseline(loss_fn, targets, shape, dtype):
    """The loss of a constant prediction, measured by calling the loss itself on it, so that it
    works for any loss: every row of an output of ``shape`` predicts the first target's mean
    when that target holds values (it has the output's shape), or the log of the class
    frequencies when it holds labels. These are the best constants for a squared error and for
    cross-entropy. None for targets of any other kind."""
    first, width = targets[0], shape[1]
    if first.shape == shape:
        row = first.mean(axis=0, dtype=np.float64)
    elif looks_like_labels(first, width) and first.min() >= 0 and first.max() < width:
        frequencies = np.bincount(first, minlength=width) / len(first)
        row = np.log(np.maximum(frequencies, 1e-30))     # a class never seen: e^-69, not log 0
    else:
        return None
    constant = np.broadcast_to(row.astype(dtype), shape).copy()
    try:            # a loss of probabilities may refuse log frequencies: then no baseline
        with np.errstate(all="ignore"):
            value = float(loss_fn(constant, *(t.copy() for t in targets))[0])
    except Exception:
        return None
    return value if np.isfinite(value) else None


def warn_if_no_better_than_constant(model, loss_fn, optimizer, x, targets, penalty, history, name):
    """Warn when training ends no better than predicting a constant: a run that learned nothing
    (a learning rate far too large, say) with every number still finite. It measures the
    trained model, on up to 4,096 training rows spread over the data (so it costs little): the
    last epoch's mean loss includes that epoch's first steps, and can hide a last step that
    broke the model."""
    rows = np.linspace(0, len(x) - 1, min(len(x), 4096)).astype(int)
    x, targets = x[rows], tuple(t[rows] for t in targets)
    if not history.loss or (targets[0] == targets[0][:1]).all():
        return                          # constant targets: a constant is the right answer
    shape = (len(x), output_width(model, x))
    baseline = constant_baseline(loss_fn, targets, shape, model.dtype)
    if not baseline:
        return
    final = validation_loss(model, loss_fn, penalty, x, targets)
    if final <= baseline:
        return
    lr = getattr(optimizer, "lr", None)
    if final >= history.loss[0]:
        verdict = (f"the model learned nothing; with lr {lr} the steps may be too large (try a "
                   "tenth) or too small")
    else:
        verdict = (f"the loss fell (from {history.loss[0]:.4g}) but not yet below a constant's: "
                   f"train longer, change the rate (lr {lr}) or standardise the targets")
    warnings.warn(f"{name}: the training loss ends at {final:.4g}, above {baseline:.4g}, the loss "
                  "of always predicting one constant, the best constant for a squared error or "
                  "cross-entropy (the targets' mean, or the log of the class frequencies): "
                  f"{verdict}", RuntimeWarning, stacklevel=3)


class Display:
    """Progress: a line rewritten in place on a terminal (never in logs or CI output), and
    with ``print_epochs`` one line per epoch."""

    def __init__(self, name, epochs, stream, progress, print_epochs):
        self.stream = stream if stream is not None else sys.stderr
        self.live = progress and getattr(self.stream, "isatty", lambda: False)()
        self.name, self.epochs, self.print_epochs = name, epochs, print_epochs
        self.start, self.last, self.width = time.perf_counter(), 0.0, 0

    def step(self, epoch, step, n_steps, loss):
        if not self.live:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and step < n_steps:     # at most ten redraws a second
            return
        self.last, elapsed = now, now - self.start
        done = (epoch + step / n_steps) / self.epochs
        self.write(f"{self.name} epoch {epoch + 1}/{self.epochs} batch {step}/{n_steps} loss "
                   f"{loss:.4f} elapsed {_minutes(elapsed)} eta {_minutes(elapsed / done - elapsed)}")

    def epoch(self, history):
        if not self.print_epochs:
            return
        self.close()
        val = f" val_loss {history.val_loss[-1]:.4f}" if history.val_loss else ""
        extra = "".join(f" {k} {v:.4f}" if isinstance(v, float) else f" {k} {v}"
                        for k, v in (history.evaluations[-1] or {}).items())
        print(f"{self.name} epoch {history.epochs[-1] + 1} loss {history.epoch_loss[-1]:.4f}{val}"
              f"{extra} ({history.epoch_seconds[-1]:.1f} s)", file=self.stream, flush=True)

    def write(self, text):
        self.stream.write("\r" + text + " " * max(0, self.width - len(text)))
        self.stream.flush()
        self.width = len(text)

    def close(self):
        if self.live and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def _minutes(seconds):
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


# --- using a trained model -------------------------------------------------------------------


def cosine_schedule(lr, epochs):
    """Learning rate for ``fit``'s ``lr_schedule``: lr (1 + cos(pi e / epochs)) / 2 at epoch e,
    from ``lr`` down towards 0 (Loshchilov and Hutter, 2017, without restarts)."""
    lr, epochs = check_positive(lr, "lr"), check_positive(epochs, "epochs", integer=True)

    def schedule(epoch):
        if not 0 <= epoch < epochs:       # past its end the cosine would rise again
            raise ValueError(f"this cosine schedule covers epochs 0..{epochs - 1}, asked for epoch "
                             f"{epoch}; a model trained before continues its epoch count: pass "
                             "fit(..., initial_epoch=0) to start a new one")
        return 0.5 * lr * (1 + np.cos(np.pi * epoch / epochs))
    return schedule


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
