"""Check hand-derived gradients against centred finite differences.

Three checks, each returning a dict of relative errors by name (0 when equal,
about 1 when unrelated; a correct backward gives about 1e-9 or less):

* :func:`check_layer` — one layer (or a whole Sequential): dL/dx and every dL/dparam.
* :func:`check_loss`  — a loss: dL/d(output), as ``{'output': err}``.
* :func:`check_model` — a model and its loss together: every parameter of the model.

They always compute in float64: a float32 layer or model is checked on a float64
copy (in float32, rounding error near 1e-4 would swamp the comparison), and the
object you pass is left untouched. Example::

    errors = check_layer(Dense(4, 3, rng=0), np.random.default_rng(1).standard_normal((5, 4)))
    assert max(errors.values()) < 1e-6, errors
"""

import copy

import numpy as np

from .layers import Container, leaf_layers


class GradientCheckError(ValueError):
    """A backward pass broke the layer contract (a gradient missing or of the wrong shape)."""


def numerical_gradient(f, x, h=1e-5):
    """Centred differences: df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h).

    ``f`` takes no argument and reads ``x``, which is perturbed in place one
    element at a time (by index, so any memory layout works) and restored
    exactly. Returns a float64 array shaped like ``x``. The error is O(h^2)
    from truncation plus O(eps / h) from rounding.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b, floor=1e-4):
    """||a - b|| / max(||a|| + ||b||, floor): 0 when equal, about 1 when unrelated.

    A centred difference with h = 1e-5 is off by about h^2 |f'''| / 6 from
    truncation plus eps |f| / h from rounding, near 1e-11 per element, more
    where a loss cancels digits (a KL divergence near 0). So two gradients both
    smaller than the floor (e^-30 from a saturated softmax, or an exact 0) are
    compared in absolute terms instead: an error below 1e-6 means 1e-10.
    A NaN anywhere gives an infinite error, never a pass.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise GradientCheckError(f"gradient has shape {a.shape}, expected {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def float64_copy(layer):
    """A deep copy of a layer or model with every parameter and gradient in float64.

    Attributes that alias a parameter (``self.W = self.params["W"]``) are pointed
    at the new array too, so a layer that keeps its own alias is checked as written.
    """
    clone = copy.deepcopy(layer)
    leaves = leaf_layers(clone)
    for leaf in leaves:
        for table in (leaf.params, leaf.grads):
            for name, old in list(table.items()):
                if isinstance(old, np.ndarray) and old.dtype != np.float64:
                    new = old.astype(np.float64)
                    table[name] = new
                    for attr, value in vars(leaf).items():
                        if value is old:
                            setattr(leaf, attr, new)
    return clone


def _named_params(layer):
    """Every parameter with the name its gradient is found under after backward."""
    if isinstance(layer, Container):
        return layer.params, lambda: layer.grads
    return dict(layer.params), lambda: layer.grads


def _analytic(grads_now, params, where):
    """Copies of the gradients backward left, after checking each exists with the right shape."""
    grads = grads_now()
    out = {}
    for name, p in params.items():
        if name not in grads:
            raise GradientCheckError(f"{where}: backward left no gradient for parameter {name!r}; "
                                     f"set grads[{name!r}] in backward")
        g = np.asarray(grads[name], dtype=np.float64)
        if g.shape != p.shape:
            raise GradientCheckError(f"{where}: grads[{name!r}] has shape {g.shape} but the parameter "
                                     f"has shape {p.shape}; a gradient has its parameter's shape")
        out[name] = g.copy()
    return out


def _prepare(layer):
    """Training mode, one dropout mask for all the forwards of the check, and no gradients
    left from before: one that backward forgets is then missing, an error, not stale."""
    for leaf in leaf_layers(layer):
        leaf.training = True
        leaf.grads.clear()
        if hasattr(leaf, "hold_mask"):
            leaf.hold_mask = True


def check_layer(layer, x, dout=None, rng=0, h=1e-5):
    """Relative error of a layer's input gradient and of each parameter gradient.

    The scalar checked is ``sum(forward(x) * dout)`` with a random upstream
    gradient ``dout``, so every output element matters. Returns
    ``{'x': err, name: err, ...}`` for the input and every parameter (a
    Sequential's parameters by their dotted names). The layer is checked in
    training mode, with one dropout mask throughout, on a float64 copy;
    ``layer`` itself is not changed.
    """
    layer = float64_copy(layer)
    _prepare(layer)
    x = np.array(x, dtype=np.float64)
    params, grads_now = _named_params(layer)
    out = layer.forward(x.copy())
    if dout is None:
        dout = np.random.default_rng(rng).standard_normal(np.shape(out))
    dout = np.asarray(dout, dtype=np.float64)
    dx = layer.backward(dout.copy())
    analytic = _analytic(grads_now, params, repr(layer))

    def f():
        return float(np.sum(layer.forward(x) * dout))

    errors = {"x": relative_error(dx, numerical_gradient(f, x, h))}
    for name, p in params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(f, p, h))
    return errors


def check_loss(loss_fn, output, *targets, h=1e-5):
    """Relative error of ``loss_fn``'s gradient with respect to its first argument,
    as ``{'output': err}`` (a dict like the other checks' results).

    ``loss_fn(output, *targets)`` returns ``(loss, dL/d output)``.
    """
    output = np.array(output, dtype=np.float64)
    _, grad = loss_fn(output.copy(), *targets)
    numerical = numerical_gradient(lambda: loss_fn(output, *targets)[0], output, h)
    return {"output": relative_error(grad, numerical)}


def check_model(model, loss_fn, x, *targets, penalty=None, h=1e-5):
    """Relative error of the gradient of every parameter of a whole model.

    The total loss is ``loss_fn(model.forward(x), *targets)[0]`` plus, if given,
    ``penalty`` (an :class:`~scratchnn.losses.L2Penalty`), exactly as ``fit``
    computes it. Returns ``{name: err}`` for every trainable parameter. The model
    is checked in training mode on a float64 copy; ``model`` is not changed.
    """
    model = float64_copy(model)
    _prepare(model)
    x = np.array(x, dtype=np.float64)
    targets = tuple(np.asarray(t, dtype=np.float64) if np.asarray(t).dtype.kind == "f" else t
                    for t in targets)
    params = model.params
    if not params:
        raise ValueError("check_model: the model has no trainable parameters to check")

    def total_loss():
        value = loss_fn(model.forward(x), *targets)[0]
        if penalty is not None:
            value += penalty.value(params)
        return value

    _, dout = loss_fn(model.forward(x), *targets)
    model.backward(dout, input_grad=False)
    grads = {name: g for name, g in model.grads.items()}
    if penalty is not None:
        penalty(params, grads)
    analytic = _analytic(lambda: grads, params, repr(model))
    return {name: relative_error(analytic[name], numerical_gradient(total_loss, p, h))
            for name, p in params.items()}
