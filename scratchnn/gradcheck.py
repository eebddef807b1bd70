"""Check hand-derived gradients against centred finite differences.

Use float64 everywhere here: in float32 the rounding error of a finite
difference swamps the comparison. Example, for any layer::

    layer = Dense(4, 3, rng=0, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((5, 4))
    errors = check_layer(layer, x)   # {'x': ..., 'W': ..., 'b': ...}, each far below 1e-6
"""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """Centred differences: df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h).

    ``f`` takes no argument and reads ``x``, which is perturbed in place one
    element at a time and restored exactly. Returns an array shaped like ``x``.
    The error is O(h^2) from truncation plus O(eps / h) from rounding.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b, floor=1e-4):
    """||a - b|| / max(||a|| + ||b||, floor): 0 when equal, about 1 when unrelated.

    A centred difference with h = 1e-5 is off by about h^2 |f'''| / 6 from
    truncation plus eps |f| / h from rounding, near 1e-11 per element, more
    where a loss cancels digits (a KL divergence near 0). So two gradients both
    smaller than the floor (e^-30 from a saturated softmax, or an exact 0) are
    compared in absolute terms instead: an error below 1e-6 means 1e-10.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def check_layer(layer, x, dout=None, rng=0, h=1e-5):
    """Relative error of a layer's input gradient and of each parameter gradient.

    The scalar checked is ``sum(forward(x) * dout)`` with a random upstream
    gradient ``dout``, so every output element matters. Returns
    ``{'x': err, name: err, ...}`` for the input and every parameter.
    """
    x = np.array(x, dtype=np.float64)
    out = layer.forward(x)
    if dout is None:
        dout = np.random.default_rng(rng).standard_normal(out.shape)
    dx = layer.backward(dout)
    analytic = {name: g.copy() for name, g in layer.grads.items()}

    def f():
        return float(np.sum(layer.forward(x) * dout))

    errors = {"x": relative_error(dx, numerical_gradient(f, x, h))}
    for name, p in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(f, p, h))
    return errors


def check_loss(loss_fn, output, *targets, h=1e-5):
    """Relative error of ``loss_fn``'s gradient with respect to its first argument."""
    output = np.array(output, dtype=np.float64)
    _, grad = loss_fn(output.copy(), *targets)
    return relative_error(grad, numerical_gradient(lambda: loss_fn(output, *targets)[0], output, h))
