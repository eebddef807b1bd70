"""What each exercise is graded on: its defining property, on examples hypothesis draws.

One grader per exercise, in the course's order, each ``grade_<name>(function)``: it returns a
note of what passed or raises :class:`~scratchnn.exercises.grading.Failed` with one sentence.
Each hint names a known mistake; tests/test_exercises.py makes every such mistake on purpose
(a mutant of the library's answer) and checks that the hint appears. The references below
are written from the definitions, not copied from the library.
"""

import contextlib
import copy

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from .. import adaline, layers, losses, mcculloch_pitts, optim
from ..gradcheck import numerical_gradient
from .grading import (Failed, call, close, compare, matches, run_property, scaled, shape_words,
                      student_class)
from .registry import BY_NAME
from .workspace import install


def values(shape, low=-2.0, high=2.0):
    return arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False,
                                                        allow_infinity=False, width=64))


def away_from_zero(shape, low=0.05, high=3.0):
    """Values with |v| in [low, high]: where a kink (ReLU's at 0) cannot spoil a derivative."""
    magnitude = st.floats(low, high)
    return arrays(np.float64, shape,
                  elements=st.tuples(magnitude, st.booleans()).map(lambda p: p[0] if p[1] else -p[0]))


@contextlib.contextmanager
def installed(name, function):
    """The student's function in the library's place, for a check that goes through the
    library (the one-layer net built with the student's template unit)."""
    undo = install(BY_NAME[name], function)
    try:
        yield
    finally:
        for holder, key, original in reversed(undo):
            setattr(holder, key, original)


# =========================================================================== Part 1


def segments(pattern):
    """A 7-segment pattern by its lit segments: 'abcdfg' (or 'none')."""
    lit = "".join(s for s, on in zip(mcculloch_pitts.SEGMENTS, pattern) if on)
    return f"'{lit}'" if lit else "'' (no segment lit)"


def grade_template_unit(function):
    patterns = mcculloch_pitts.all_patterns()
    wrong = {}                  # the first unit that fires for a pattern missing a segment, or
    for own in patterns:        # with one more: the two known mistakes, said apart
        w, theta = call(function, own.copy(), inputs=f"pattern {segments(own)}")
        w = np.asarray(w)
        if w.shape == () and np.shape(theta) == (7,):
            raise Failed("it returns (threshold, weights); return (weights, threshold), in that "
                         "order")
        if w.shape != (7,):
            raise Failed(f"the weights for pattern {segments(own)} have shape {w.shape}; a unit "
                         "has one weight per segment, shape (7,)")
        sums = patterns @ w
        fires = sums >= theta
        mine = np.all(patterns == own, axis=1)
        if not fires[mine][0]:
            raise Failed(f"the unit for pattern {segments(own)} does not fire for that pattern: "
                         f"its sum {sums[mine][0]:g} is below the threshold {theta:g}. Hint: with "
                         "+1 on each lit segment, its own pattern sums to the number of lit "
                         "segments, which the threshold must not exceed")
        for i in np.flatnonzero(fires & ~mine):
            kind = "missing" if (own & ~patterns[i]).any() else "extra"
            wrong.setdefault(kind, (own, patterns[i], sums[i], theta))
    for kind, hint in (("missing", "the threshold must be the number of lit segments, so that "
                        "a pattern missing one of them falls below it"),
                       ("extra", "an unlit segment must count against firing: give it weight "
                        "-1, so that a pattern with an extra segment falls below the threshold")):
        if kind in wrong:
            own, other, total, theta = wrong[kind]
            raise Failed(f"the unit for pattern {segments(own)} also fires for "
                         f"{segments(other)} (sum {total:g} >= threshold {theta:g}). Hint: {hint}")
    with installed("template_unit", function):
        net = mcculloch_pitts.one_layer_detector()
    for digit in (6, 7, 8, 9):
        if net.recognise(mcculloch_pitts.digit_pattern(digit)) != digit:
            raise Failed(f"the one-layer net built from your units does not recognise {digit}")
    if net.n_params() != 32:
        raise Failed(f"the one-layer net has {net.n_params()} parameters, the course's 32 "
                     "(7 weights and a threshold for each of 4 units)")
    return "each unit fires for its own pattern alone, on all 128; the one-layer net has 32 " \
           "parameters"


def grade_two_layer_detector(function):
    net = call(function)
    if not isinstance(net, mcculloch_pitts.MPNetwork):
        raise Failed(f"returned {type(net).__name__}; build an MPNetwork([hidden, output], "
                     "output_names=(6, 7, 8, 9))")
    widths = [layer.weights.shape[1] for layer in net.layers]
    if len(widths) != 2 or widths[0] != 2:
        raise Failed(f"the net's layers have {widths} units; the course's two-layer net has two "
                     "hidden units, then an output for each of 6, 7, 8, 9")
    if list(net.output_names) != [6, 7, 8, 9]:
        raise Failed(f"the outputs are named {list(net.output_names)}; name them (6, 7, 8, 9)")
    hidden = net.layers[0]
    codes = {d: tuple(int(c) for c in hidden(mcculloch_pitts.digit_pattern(d)))
             for d in (6, 7, 8, 9)}
    for digit in (6, 7, 8, 9):
        out = net(mcculloch_pitts.digit_pattern(digit))
        if net.recognise(mcculloch_pitts.digit_pattern(digit)) != digit:
            fired = [int(d) for d, o in zip(net.output_names, out) if o]
            shared = [d for d in codes if d != digit and codes[d] == codes[digit]]
            hint = (f"its hidden code {codes[digit]} is also the code of {shared[0]}: the two "
                    "hidden units must give the four digits four different codes" if shared else
                    "each output unit should be a template unit on its digit's hidden code "
                    "(+1 where the code is 1, -1 where it is 0, threshold = its number of ones)")
            raise Failed(f"digit {digit} fires the outputs {fired or 'none'}, not {digit} alone. "
                         f"Hint: {hint}")
    if net.n_params() != 28:
        raise Failed(f"the net has {net.n_params()} parameters; the course's has 28 (2 x 7 + 2 "
                     "in the hidden layer, 4 x 2 + 4 in the output layer)")
    return "6, 7, 8 and 9 each fire their own output alone, with 28 parameters"


# =========================================================================== Part 2


def grade_adaline_online_step(function):
    Student = student_class(adaline.Adaline, "online_step", function)

    def prop(d_and_data, lr, t):
        w, b, x = d_and_data
        model = Student(lr=lr)
        model.w, model.b = w.copy(), float(b)
        err = call(model.online_step, x.copy(), t,
                   inputs=f"w = {np.round(w, 3)}, x = {np.round(x, 3)}, t = {t}, lr = {lr:g}")
        net = x @ w + b
        where = f"w = {np.round(w, 3)}, b = {b:.3g}, x = {np.round(x, 3)}, t = {t}, lr = {lr:g}"
        hints = [(matches(w - lr * (t - net) * x), "the rule moves w by +lr (t - net) x: the "
                  "sign is flipped"),
                 (matches(w + (t - net) * x), "the step is scaled by the learning rate lr"),
                 (matches(w + lr * (t - np.where(net >= 0, 1, -1)) * x), "the delta rule uses "
                  "the linear output net = x . w + b, not its sign (that is the perceptron's "
                  "rule)")]
        compare("w after one step", model.w, w + lr * (t - net) * x, where, name="w",
                hints=hints)
        net_after_w = x @ (w + lr * (t - net) * x) + b
        compare("b after one step", model.b, b + lr * (t - net), where,
                hints=[(matches(b + lr * (t - net_after_w)), "compute net once, before the "
                        "update: w and b both move by the error of the same net"),
                       (matches(b), "the bias learns too: b += lr (t - net)"),
                       (matches(b - lr * (t - net)), "the rule moves b by +lr (t - net): the "
                        "sign is flipped"),
                       (matches(b + (t - net)), "the step is scaled by the learning rate lr"),
                       (matches(b + lr * (t - np.where(net >= 0, 1, -1))), "the delta rule "
                        "uses the linear output net = x . w + b, not its sign (that is the "
                        "perceptron's rule)")])
        compare("the returned error", err, t - net, where,
                hints=[(matches(np.sign(t - net)), "return the error t - net itself")])

    data = st.integers(1, 4).flatmap(lambda d: st.tuples(values(d), st.floats(-1, 1),
                                                         values(d)))
    run_property(prop, data, st.floats(0.001, 1.0), st.sampled_from([-1.0, 1.0]), examples=100)
    return "one step moves w by lr (t - net) x and b by lr (t - net), on drawn cases"


def mri_reference(W, b, x, t, lr):
    """Rule MRI written from its definition: the new W and b, and the units that move."""
    z_in = x @ W + b
    if (z_in >= 0).any() == (t == 1):
        return W.copy(), b.copy(), []
    units = [int(np.argmin(np.abs(z_in)))] if t == 1 else list(np.flatnonzero(z_in >= 0))
    W, b = W.copy(), b.copy()
    for j in units:
        W[:, j] += lr * (t - z_in[j]) * x
        b[j] += lr * (t - z_in[j])
    return W, b, units


def grade_madaline_mri_step(function):
    Student = student_class(adaline.Madaline, "mri_step", function)

    def prop(net, t, lr):
        W, b, x = net
        z_in = x @ W + b
        assume(len(np.unique(np.round(np.abs(z_in), 6))) == len(z_in))      # no tie to break
        assume(np.abs(z_in).min() > 1e-6)
        model = Student(n_hidden=W.shape[1], lr=lr)
        model.W, model.b = W.copy(), b.copy()
        where = f"z_in = {np.round(z_in, 3)}, t = {t:+g}, lr = {lr:g}"
        change = call(model.mri_step, x.copy(), t, inputs=where)
        W2, b2, units = mri_reference(W, b, x, t, lr)
        moved = sorted(int(j) for j in set(np.flatnonzero(~np.isclose(model.W, W).all(axis=0)))
                       | set(np.flatnonzero(~np.isclose(model.b, b))))
        units = [int(j) for j in units]
        if moved != sorted(units):
            if not units:
                hint = "when the output is already right, MRI changes nothing"
            elif t == 1 and len(moved) == 1 and moved[0] == int(np.argmax(np.abs(z_in))):
                hint = "closest to 0 means the smallest |z_in|"
            elif t == 1 and len(moved) > 1:
                hint = "for t = +1 only one unit moves, the one whose z_in is closest to 0"
            elif t == -1 and len(moved) < len(units):
                hint = "for t = -1 every unit with z_in >= 0 moves toward -1"
            else:
                hint = "see the rule for this t in the docstring"
            raise Failed(f"for {where}, rule MRI moves units {sorted(units) or 'none'}, yours "
                         f"moved {moved or 'none'}. Hint: {hint}")
        compare("W after the step", model.W, W2, where, name="W",
                hints=[(matches(W + (W2 - W) / lr), "the step is scaled by lr"),
                       (matches(2 * W - W2), "each unit moves toward t: by +lr (t - z_in)")])
        compare("b after the step", model.b, b2, where, name="b",
                hints=[(matches(b), "the biases of the units that move change too")])
        largest = max(np.abs(W2 - W).max(initial=0), np.abs(b2 - b).max(initial=0))
        compare("the returned change", change, largest, where,
                hints=[(lambda mine, _: mine == 0 and largest > 0,
                        "return the largest change of any weight or bias")])

    net = st.tuples(st.integers(1, 3), st.integers(1, 4)).flatmap(
        lambda s: st.tuples(values((s[0], s[1])), values(s[1], -1, 1), values(s[0])))
    run_property(prop, net, st.sampled_from([-1.0, 1.0]), st.floats(0.01, 1.0), examples=150)
    # A net input of exactly 0 is an output of +1 (the step fires at 0): for t = -1, it moves.
    model = Student(n_hidden=2, lr=0.5)
    model.W, model.b = np.zeros((2, 2)), np.zeros(2)
    call(model.mri_step, np.array([1.0, -1.0]), -1.0, inputs="z_in = [0, 0], t = -1")
    compare("b after the step", model.b, [-0.5, -0.5], "z_in = [0, 0], t = -1, lr = 0.5", name="b",
            hints=[(matches([0.0, 0.0]), "a net input of exactly 0 counts as an output of +1 "
                    "(z_in >= 0), so for t = -1 that unit moves")])
    return "rule MRI moves only the units it names, by lr (t - z_in) [x, 1], on drawn cases"


# =========================================================================== Part 3: the core


def shapes(max_rows=4, max_in=5, max_out=5):
    return st.tuples(st.integers(1, max_rows), st.integers(1, max_in), st.integers(1, max_out))


def grade_dense_forward(function):
    Student = student_class(layers.Dense, "forward", function)

    def prop(dims, dtype, seed):
        n, n_in, n_out = dims
        rng = np.random.default_rng(seed)
        layer = Student(n_in, n_out, rng=seed, dtype=dtype)
        layer.params["b"][...] = rng.standard_normal(n_out)
        x = rng.standard_normal((n, n_in)).astype(dtype)
        given = x.copy()
        W, b = layer.params["W"], layer.params["b"]
        inputs = shape_words(x=x) + f", W of shape {W.shape}"
        out = call(layer.forward, x, inputs=inputs)
        if not isinstance(out, np.ndarray):
            raise Failed(f"returned {type(out).__name__}; return an array (N, n_out)")
        compare("the output", out, x.astype(np.float64) @ W + b, inputs, name="out",
                **(dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else {}),
                hints=[(matches(x.astype(np.float64) @ W), "add the bias b")])
        if out.dtype != W.dtype:
            raise Failed(f"the output is {out.dtype} for {W.dtype} parameters{inputs and ' and'} "
                         f"{inputs}; compute in the parameters' dtype")
        if not np.array_equal(x, given):
            raise Failed(f"forward changed its input x ({inputs}); leave it as given")
        dout = rng.standard_normal(out.shape).astype(dtype)
        try:
            layers.Dense.backward(layer, dout)
        except ValueError as err:
            raise Failed(f"Dense.backward cannot run after your forward ({err}). Hint: keep "
                         "the input as self._x while training: backward reads it there") from err
        compare("dW of Dense.backward after your forward", layer.grads["W"], x.T @ dout, inputs,
                name="dW", rtol=1e-4, hints=[(lambda *_: True, "self._x must be the input x")])
        layer.training = False
        call(layer.forward, x, inputs=inputs)
        if getattr(layer, "_x", None) is not None:
            raise Failed("in evaluation mode (training False) forward still keeps x: set "
                         "self._x = None there, so that predicting holds no batch in memory")

    run_property(prop, shapes(), st.sampled_from([np.float64, np.float32]),
                 st.integers(0, 2**16), examples=100)
    return "x W + b in the parameters' dtype, with what backward needs kept, on drawn cases"


def layer_gradients(layer, x, dout, h=1e-6):
    """Finite differences of sum(forward(x) * dout) for x and each parameter (float64)."""
    def f():
        return float(np.sum(layers.Dense.forward(layer, x) * dout))
    numeric = {"x": numerical_gradient(f, x, h)}
    for name, p in layer.params.items():
        numeric[name] = numerical_gradient(f, p, h)
    return numeric


def grade_dense_backward(function):
    Student = student_class(layers.Dense, "backward", function)

    def prop(dims, seed):
        n, n_in, n_out = dims
        rng = np.random.default_rng(seed)
        layer = Student(n_in, n_out, rng=seed, dtype=np.float64)
        layer.params["b"][...] = rng.standard_normal(n_out)
        x = rng.standard_normal((n, n_in))
        dout = rng.standard_normal((n, n_out))
        given = dout.copy()
        layer.forward(x)
        numeric = layer_gradients(copy.deepcopy(layer), x.copy(), dout)
        inputs = shape_words(x=x, dout=dout)
        dx = call(layer.backward, dout, inputs=inputs)
        if not np.array_equal(dout, given):
            raise Failed(f"backward changed dout ({inputs}); compute new arrays, never edit "
                         "the one you are given")
        for key, grad_name in (("W", "dW"), ("b", "db")):
            if key not in layer.grads:
                raise Failed(f"backward set no self.grads[{key!r}] for {inputs}: set it to "
                             f"dL/d{key}, shaped like {key}")
            hints = [(lambda mine, _: key == "b" and mine.shape == (n,) != (n_out,),
                      "db sums dout over the batch's rows (axis=0): one value per output"),
                     (scaled(1 / n), f"{grad_name} is N = {n} times too small: the gradient "
                      "sums over the batch's rows, it does not average them"),
                     (scaled(n), f"{grad_name} is N = {n} times too large"),
                     (scaled(-1), "the sign is flipped")]
            compare(f"{grad_name} ({key}'s gradient)", layer.grads[key], numeric[key], inputs,
                    reference="finite differences", name=key, hints=hints)
        compare("dx (the returned dL/dx)", dx, numeric["x"], inputs,
                reference="finite differences", name="dx",
                hints=[(scaled(1 / n), f"dx is N = {n} times too small"),
                       (lambda mine, _: n_in == n_out and close(mine, dout @ layer.params["W"]),
                        "dx = dout W^T: W, not its transpose, maps x to the output")])

    run_property(prop, shapes(), st.integers(0, 2**16), examples=100)
    return "dx, dW and db match finite differences in float64, on drawn shapes"


ACTIVATIONS = {
    "relu": (layers.ReLU, lambda x: np.maximum(x, 0), "max(x, 0)"),
    "tanh": (layers.Tanh, np.tanh, "tanh(x)"),
    "sigmoid": (layers.Sigmoid, lambda x: 0.5 * (1 + np.tanh(0.5 * x)), "1 / (1 + e^-x)"),
}


def grade_activation(name, function):
    cls, reference, formula = ACTIVATIONS[name]
    layer = student_class(cls, "function_and_derivative", function)()
    draw = away_from_zero if name == "relu" else values

    def prop(x, dtype):
        x = x.astype(dtype)
        inputs = shape_words(x=x) + f" ({np.dtype(dtype).name})"
        given = x.copy()
        result = call(layer.function_and_derivative, given, inputs=inputs)
        if not np.array_equal(given, x):
            raise Failed(f"it changed its input x ({inputs}); compute new arrays (no out=x): "
                         "the layer before may still need x")
        if not (isinstance(result, tuple) and len(result) == 2):
            raise Failed("return a pair (f(x), f'(x)), both arrays shaped like x")
        out, slope = result
        x64 = x.astype(np.float64)
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else {}
        compare(f"the function {formula}", out, reference(x64), inputs, name="f(x)", **tol)
        h = 1e-6
        numeric = (reference(x64 + h) - reference(x64 - h)) / (2 * h)
        true_out = reference(x64)
        hints = {"relu": [(matches(true_out), "the derivative of max(x, 0) is 1 where x > 0 and "
                           "0 elsewhere, not max(x, 0) itself"),
                          (matches(np.ones_like(x64)), "the derivative is 0 where x < 0")],
                 "tanh": [(matches(1 - x64 * x64), "1 - x^2 uses the input where the output "
                           "belongs: the derivative is 1 - tanh(x)^2"),
                          (matches(1 - true_out), "the derivative is 1 - tanh(x)^2: square it")],
                 "sigmoid": [(matches(x64 * (1 - x64)), "x (1 - x) uses the input where the "
                              "output belongs: the derivative is sigma(x) (1 - sigma(x))"),
                             (matches(true_out), "the derivative is sigma(x) (1 - sigma(x)), "
                              "not sigma(x)")]}[name]
        compare("the derivative", slope, numeric, inputs, reference="finite differences",
                name="f'(x)", rtol=1e-4, atol=1e-6, hints=hints)
        for what, value in (("f(x)", out), ("f'(x)", slope)):
            if getattr(value, "dtype", None) != x.dtype:
                raise Failed(f"{what} is {getattr(value, 'dtype', type(value).__name__)} for "
                             f"{x.dtype} input; return it in x's dtype (e.g. "
                             ".astype(x.dtype))")

    run_property(prop, st.tuples(st.integers(1, 3), st.integers(1, 4)).flatmap(draw),
                 st.sampled_from([np.float64, np.float32]), examples=100)
    if name in ("sigmoid", "tanh"):
        for dtype in (np.float32, np.float64):
            x = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=dtype)
            try:
                with np.errstate(over="raise", invalid="raise"):
                    out, slope = layer.function_and_derivative(x)
            except FloatingPointError as err:
                fix = ("use sigma(x) = (1 + tanh(x / 2)) / 2, or e^-|x|, which never exceeds 1 "
                       "(np.where evaluates both its branches: the one it discards overflows "
                       "too)" if name == "sigmoid" else "np.tanh never overflows")
                raise Failed(f"overflows for x of dtype {np.dtype(dtype).name} with values up "
                             f"to 1e4 ({err}). Hint: e^x overflows for large |x|; {fix}") \
                    from None
            compare(f"{formula} at x = -1e4, -100, 0, 100, 1e4", out,
                    reference(x.astype(np.float64)), f"{np.dtype(dtype).name} input", atol=1e-6)
    return f"{formula} and its derivative match finite differences, on drawn arrays"


def grade_relu(function):
    return grade_activation("relu", function)


def grade_tanh(function):
    return grade_activation("tanh", function)


def grade_sigmoid(function):
    return grade_activation("sigmoid", function)


def loss_gradient(reference, output, *args):
    """Finite differences of a reference loss(output, *args) -> number."""
    output = output.astype(np.float64).copy()
    return numerical_gradient(lambda: reference(output, *args), output, 1e-6)


def check_loss_result(result, inputs):
    if not (isinstance(result, tuple) and len(result) == 2):
        raise Failed(f"returned {type(result).__name__}; a loss returns the pair (loss, dL/d "
                     "output)")
    value, grad = result
    if np.ndim(value) != 0:
        raise Failed(f"the loss has shape {np.shape(value)}{inputs and ' for ' + inputs}; it is "
                     "one number, the mean over the batch")
    return float(value), grad


def grade_weighted_mse(function):
    Student = student_class(losses.WeightedMSE, "__call__", function)

    def reference(y, t, w):
        return float(np.mean(np.mean(w * (y - t) ** 2, axis=1)))

    def prop(data, dtype):
        y, t, w = data
        n, d = y.shape
        loss = Student(w)
        inputs = shape_words(output=y) + f", weights {np.round(w, 3)}"
        value, grad = check_loss_result(call(loss, y.astype(dtype), t.astype(dtype),
                                             inputs=inputs), inputs)
        expected = reference(y, t, w)
        compare("the loss", value, expected, inputs, rtol=1e-5,
                hints=[(scaled(d), f"the loss is D = {d} times too large: average over the D "
                        "columns too (1/D)"),
                       (scaled(n), f"the loss is N = {n} times too large: a mean over the "
                        "batch, not a sum")])
        numeric = loss_gradient(lambda out: reference(out, t, w), y)
        diff = y - t
        compare("dL/d output", grad, numeric, inputs, reference="finite differences",
                name="grad", rtol=1e-4, atol=1e-8,
                hints=[(scaled(0.5), "the derivative of (y - t)^2 is 2 (y - t): a factor 2 is "
                        "missing"),
                       (matches(2 * diff / diff.size), "weight the gradient by w too"),
                       (scaled(d), f"dL/dy is D = {d} times too large: (1/D) belongs in it")])
        if grad.dtype != np.dtype(dtype):
            raise Failed(f"the gradient is {grad.dtype} for {np.dtype(dtype).name} outputs; "
                         "return it in the output's dtype")

    data = st.tuples(st.integers(1, 4), st.integers(1, 5)).flatmap(
        lambda s: st.tuples(values(s), values(s), values(s[1], 0.0, 3.0)))
    run_property(prop, data, st.sampled_from([np.float64, np.float32]), examples=100)
    return "the loss matches its definition and dL/dy finite differences, on drawn cases"


def parameter_dicts(max_params=3, min_params=1):
    one = st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(lambda s: values(s))
    return st.lists(one, min_size=min_params, max_size=max_params).map(
        lambda arrays_: {f"{i}.W": a for i, a in enumerate(arrays_)})


def grade_l2_penalty(function):
    Student = student_class(losses.L2Penalty, "__call__", function)

    def prop(params, beta, seed):
        rng = np.random.default_rng(seed)
        grads = {k: rng.standard_normal(p.shape) for k, p in params.items()}
        before = {k: g.copy() for k, g in grads.items()}
        inputs = f"beta = {beta:g} and parameters of shapes {[p.shape for p in params.values()]}"
        value = call(Student(beta), {k: p.copy() for k, p in params.items()}, grads,
                     inputs=inputs)
        expected = beta * sum(float(np.sum(p * p)) for p in params.values())
        norms = beta * sum(float(np.linalg.norm(p)) for p in params.values())
        compare("the returned penalty", value, expected, inputs,
                hints=[(scaled(1 / beta) if beta != 1 else (lambda *_: False),
                        "the penalty is beta sum p^2: multiply by beta"),
                       (matches(norms), "||p||^2 is the sum of the squares: square the norm")])
        for k, p in params.items():
            compare(f"grads[{k!r}] after the call", grads[k], before[k] + 2 * beta * p, inputs,
                    name=k, hints=[(matches(before[k] + beta * p), "the derivative of beta p^2 "
                                    "is 2 beta p: a factor 2 is missing"),
                                   (matches(2 * beta * p), "add 2 beta p to the gradient; do "
                                    "not replace it"),
                                   (matches(before[k]), "add 2 beta p to each entry of grads")])

    run_property(prop, parameter_dicts(), st.floats(0.001, 2.0), st.integers(0, 2**16),
                 examples=100)
    return "returns beta sum ||p||^2 and adds 2 beta p to every gradient, on drawn cases"


def sgd_reference(params, steps, lr, momentum, nesterov, weight_decay):
    """The docstring's rules, step after step, on copies of params."""
    params = {k: p.copy() for k, p in params.items()}
    velocity = {k: np.zeros_like(p) for k, p in params.items()}
    for grads in steps:
        for k, p in params.items():
            g = grads[k] + weight_decay * p
            if momentum:
                velocity[k] = momentum * velocity[k] + g
                g = g + momentum * velocity[k] if nesterov else velocity[k]
            params[k] = p - lr * g
    return params


def optimizer_steps(params, seed, k):
    rng = np.random.default_rng(seed)
    return [{name: rng.standard_normal(p.shape) for name, p in params.items()} for _ in range(k)]


def check_in_place(params, arrays_before, where):
    for k, p in params.items():
        if p is not arrays_before[k]:
            raise Failed(f"params[{k!r}] is a new array after the step ({where}). Hint: update "
                         "in place (p -= lr * g): the model's layers hold these very arrays, and "
                         "would never see a new one")


def grade_sgd_step(function):
    Student = student_class(optim.SGD, "step", function)

    def prop(params, seed, k, lr, kind, weight_decay):
        momentum, nesterov = {"plain": (0.0, False), "momentum": (0.9, False),
                              "nesterov": (0.9, True)}[kind]
        steps = optimizer_steps(params, seed, k)
        optimizer = Student(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
        mine = {name: p.copy() for name, p in params.items()}
        arrays_before = dict(mine)
        where = (f"{k} steps with lr {lr:g}, momentum {momentum:g}" + (", Nesterov" if nesterov
                                                                          else "")
                 + f", weight decay {weight_decay:g}")
        for grads in steps:
            call(optimizer.step, mine, {n: g.copy() for n, g in grads.items()}, inputs=where)
        check_in_place(mine, arrays_before, where)
        expected = sgd_reference(params, steps, lr, momentum, nesterov, weight_decay)
        for name in params:
            hints = [(matches(sgd_reference(params, steps, lr, momentum, False, weight_decay)[name]),
                      "Nesterov steps by g + momentum v, after updating v"),
                     (matches(sgd_reference(params, steps, lr, 0.0, False, weight_decay)[name]),
                      "momentum is missing: v <- momentum v + g, then p <- p - lr v, with v "
                      "kept from step to step (in self.velocity[name])"),
                     (matches(sgd_reference(params, steps, lr, momentum, nesterov, 0.0)[name]),
                      "weight decay adds weight_decay p to the gradient first")]
            compare(f"{name} after {k} step{'s' * (k > 1)}", mine[name], expected[name], where,
                    name=name, hints=hints)

    # Two steps at least: after one, momentum without Nesterov is plain SGD, and a hint could
    # not tell a student which of the two is missing.
    run_property(prop, parameter_dicts(2), st.integers(0, 2**16), st.integers(2, 4),
                 st.floats(0.01, 0.5), st.sampled_from(["plain", "momentum", "nesterov"]),
                 st.sampled_from([0.0, 0.01]), examples=100)
    return "plain, momentum, Nesterov and weight decay follow their rules over several steps"


def adam_reference(params, schedule, lr, b1, b2, eps, correct=True, shared_t=False,
                   eps_inside=False, forget=False):
    """Algorithm 1 of Kingma and Ba, each parameter with its own t; ``schedule`` lists, step by
    step, the gradients of the parameters updated at that step. The flags make known mistakes."""
    params = {k: p.copy() for k, p in params.items()}
    m = {k: np.zeros_like(p) for k, p in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    t = {k: 0 for k in params}
    steps = 0
    for grads in schedule:
        steps += 1
        for k, g in grads.items():
            t[k] += 1
            tk = steps if shared_t else t[k]
            m[k] = b1 * (0 if forget else m[k]) + (1 - b1) * g
            v[k] = b2 * (0 if forget else v[k]) + (1 - b2) * g * g
            m_hat = m[k] / (1 - b1 ** tk) if correct else m[k]
            v_hat = v[k] / (1 - b2 ** tk) if correct else v[k]
            denominator = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
            params[k] = params[k] - lr * m_hat / denominator
    return params


def grade_adam_step(function):
    Student = student_class(optim.Adam, "step", function)

    def prop(params, seed, k, lr, betas, eps, subsets):
        b1, b2 = betas
        rng = np.random.default_rng(seed)
        names = list(params)
        schedule = []
        for i in range(k):         # with subsets, the second parameter skips the second step
            chosen = names[:1] if subsets and i == 1 else names
            schedule.append({n: rng.standard_normal(params[n].shape) for n in chosen})
        optimizer = Student(lr=lr, beta1=b1, beta2=b2, eps=eps, in_place=False)
        mine = {n: p.copy() for n, p in params.items()}
        arrays_before = dict(mine)
        where = f"{k} steps with lr {lr:g}, beta1 {b1:g}, beta2 {b2:g}, eps {eps:g}"
        for grads in schedule:
            call(optimizer.step, {n: mine[n] for n in grads},
                 {n: g.copy() for n, g in grads.items()}, inputs=where)
        check_in_place(mine, arrays_before, where)
        expected = adam_reference(params, schedule, lr, b1, b2, eps)
        for name in params:
            hints = [(matches(adam_reference(params, schedule, lr, b1, b2, eps, correct=False)[name]),
                      "the bias correction is missing: m_hat = m / (1 - beta1^t), v_hat = v / "
                      "(1 - beta2^t)"),
                     (matches(adam_reference(params, schedule, lr, b1, b2, eps,
                                             shared_t=True)[name]),
                      "each parameter counts its own steps t (one may skip a step)"),
                     (matches(adam_reference(params, schedule, lr, b1, b2, eps,
                                             eps_inside=True)[name]),
                      "eps is added after the square root: sqrt(v_hat) + eps"),
                     (matches(adam_reference(params, schedule, lr, b1, b2, eps, forget=True)[name]),
                      "m and v start from zero at every step: keep them from step to step "
                      "(update the arrays in place, m *= beta1 ..., or store them back)")]
            compare(f"{name} after {len(schedule)} steps", mine[name], expected[name], where,
                    name=name, rtol=1e-6, hints=hints)

    run_property(prop, parameter_dicts(2, 2), st.integers(0, 2**16), st.integers(3, 5),
                 st.floats(0.001, 0.1), st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.5)]),
                 st.sampled_from([1e-8, 0.1]), st.booleans(), examples=100)
    return "matches Algorithm 1 over several steps, bias correction and own step counts included"


class Forgetful(layers.Layer):
    """A layer that sets its gradient on the first backward only, then forgets it."""

    def __init__(self, width):
        super().__init__()
        self.params["s"] = np.ones(width)
        self.calls = 0

    def forward(self, x):
        self.x = x
        return x * self.params["s"]

    def backward(self, dout, input_grad=True):
        self.calls += 1
        if self.calls == 1:
            self.grads["s"] = (dout * self.x).sum(axis=0)
        return dout * self.params["s"]


def small_model(seed, n_in, width, n_out):
    return layers.Sequential([layers.Dense(n_in, width, rng=seed, dtype=np.float64),
                              layers.Tanh(),
                              layers.Dense(width, n_out, rng=seed + 1, dtype=np.float64)])


def total_loss(model, x, t, penalty):
    value = losses.mse(model.forward(x), t)[0]
    return value + (penalty.value(model.params) if penalty is not None else 0.0)


def grade_train_step(function):
    def prop(dims, seed, lr, beta):
        n, n_in, n_out = dims
        rng = np.random.default_rng(seed)
        x, t = rng.standard_normal((n, n_in)), rng.standard_normal((n, n_out))
        model = small_model(seed, n_in, 3, n_out)
        penalty = losses.L2Penalty(beta) if beta else None
        reference = copy.deepcopy(model)
        before = reference.state_dict()
        numeric = {k: numerical_gradient(lambda: total_loss(reference, x, t, penalty), p, 1e-6)
                   for k, p in reference.params.items()}
        plain = {k: numerical_gradient(lambda: total_loss(reference, x, t, None), p, 1e-6)
                 for k, p in reference.params.items()}
        loss_before = total_loss(reference, x, t, penalty)
        penalty_before = penalty.value(reference.params) if penalty is not None else 0.0
        where = shape_words(x=x) + f", lr {lr:g}" + (f", L2 penalty beta {beta:g}" if beta else "")
        loss = call(lambda: function(model, losses.mse, optim.SGD(lr), x, t, penalty=penalty),
                    inputs=where)
        after = model.state_dict()
        if all(np.array_equal(after[k], before[k]) for k in before):
            raise Failed(f"the parameters did not move ({where}). Hint: end the step with "
                         "optimizer.step(params, grads)")
        for k in before:
            compare(f"parameter {k} after the step", after[k], before[k] - lr * numeric[k], where,
                    reference="p - lr dL/dp (finite differences)", name=k, rtol=1e-5, atol=1e-8,
                    hints=[(matches(before[k] - lr * plain[k]), "the penalty's gradient is "
                            "missing: call penalty(params, grads) before the update")])
        after_loss = total_loss(model, x, t, penalty)
        compare("the returned loss", loss, loss_before, where, rtol=1e-6,
                hints=[(matches(after_loss), "return the loss of the batch before the update"),
                       (matches(loss_before - penalty_before),
                        "the penalty's value is part of the loss: add it")])

    run_property(prop, shapes(3, 3, 2), st.integers(0, 2**12), st.floats(0.01, 0.5),
                 st.sampled_from([0.0, 0.0, 0.01]), examples=40)
    # A layer that forgets its gradient must be an error, never last step's gradient again.
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    model = layers.Sequential([layers.Dense(2, 2, rng=0, dtype=np.float64), Forgetful(2)])
    call(function, model, losses.mse, optim.SGD(0.1), x, t, inputs="the first of two steps")
    try:
        function(model, losses.mse, optim.SGD(0.1), x, t)
    except Exception:
        pass
    else:
        raise Failed("a layer that left no gradient at the second step was updated with its "
                     "gradient from the first. Hint: empty the gradients before backward "
                     "(model.clear_grads()), and check that every parameter has one "
                     "(check_gradients)")
    model = small_model(0, 2, 3, 2)
    frozen = model.state_dict()

    def nan_loss(output, target):
        value, grad = losses.mse(output, target)
        return float("nan"), grad

    try:
        function(model, nan_loss, optim.SGD(0.1), x, t)
    except layers.NonFiniteError:
        pass
    except Exception as err:
        raise Failed(f"a loss of NaN raised {type(err).__name__} ({err}); raise NonFiniteError, "
                     "which fit turns into a message that says why") from err
    else:
        raise Failed("a loss of NaN went by without an error. Hint: raise NonFiniteError when "
                     "the loss is not finite, before the update")
    if any(not np.array_equal(model.state_dict()[k], frozen[k]) for k in frozen):
        raise Failed("a loss of NaN still updated the parameters: raise before the update")
    return "the step moves each parameter by -lr dL/dp, returns the loss, and refuses a " \
           "forgotten gradient and a NaN loss"


def pixel_weights_reference(x, labels, power=2, self_pairs=False):
    """The weights from their definition, pair by pair (``power`` and ``self_pairs`` make
    known mistakes: |x_p - x_q| for the squared difference, the pairs p == q kept)."""
    t, d = x.shape
    same, diff = np.zeros(d), np.zeros(d)
    n_same = n_diff = 0
    for p in range(t):
        for q in range(t):
            if p == q and not self_pairs:
                continue
            sim = np.exp(-np.abs(x[p] - x[q]) ** power)
            if labels[p] == labels[q]:
                same += sim
                n_same += 1
            else:
                diff += 1 - sim
                n_diff += 1
    return (same / n_same) * (diff / n_diff)


def grade_pixel_importance_weights(function):
    def prop(data):
        x, labels = data
        classes, counts = np.unique(labels, return_counts=True)
        assume(len(classes) >= 2 and counts.max() >= 2)
        inputs = shape_words(x=x) + f", labels {labels.tolist()}"
        w = call(function, x.astype(np.float32), labels.copy(), inputs=inputs)
        x64 = x.astype(np.float32).astype(np.float64)
        expected = pixel_weights_reference(x64, labels)
        compare("w (the weights)", w, expected, inputs, name="w", rtol=1e-4, atol=1e-6,
                hints=[(matches(pixel_weights_reference(x64, labels, self_pairs=True)),
                        "leave out the pairs of an image with itself (p != q)"),
                       (matches(pixel_weights_reference(x64, labels, power=1)),
                        "the similarity is exp(-(x_p - x_q)^2): square the difference"),
                       (matches(_swapped_factors(x64, labels)), "the same-class factor "
                        "averages exp(-(x_p - x_q)^2), the other-class one 1 - exp(...)")])
        if getattr(w, "dtype", None) != np.float32:
            raise Failed(f"the weights are {getattr(w, 'dtype', type(w).__name__)}; return "
                         "float32 (the autoencoder's dtype)")

    data = st.tuples(st.integers(3, 7), st.integers(1, 4)).flatmap(
        lambda s: st.tuples(values(s, 0.0, 1.0).map(lambda a: np.hstack([a, np.full((s[0], 1),
                                                                                      0.5)])),
                            arrays(np.int64, s[0], elements=st.integers(0, 2))))
    run_property(prop, data, examples=100)
    return "the weights match their definition pair by pair, a constant pixel getting 0"


def _swapped_factors(x, labels):
    """The weights with the two factors' similarities swapped (a known mistake)."""
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(x), dtype=bool)
    sim = np.exp(-(x[:, None, :] - x[None, :, :]) ** 2)
    return (1 - sim[same & off]).mean(axis=0) * sim[~same].mean(axis=0)


def grade_lloyd_step(function):
    def prop(data, dtype):
        x, centers = data
        x, centers = x.astype(dtype), centers.astype(dtype)
        inputs = shape_words(x=x, centers=centers)
        result = call(function, x.copy(), centers.copy(), inputs=inputs)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise Failed("return the pair (labels, new centers)")
        labels, new = result
        labels = np.asarray(labels)
        k = len(centers)
        if labels.shape != (len(x),) or labels.dtype.kind not in "iu":
            raise Failed(f"labels have shape {labels.shape} and dtype {labels.dtype}; give one "
                         f"integer label per row, shape ({len(x)},)")
        x64, c64 = x.astype(np.float64), centers.astype(np.float64)
        d2 = ((x64[:, None, :] - c64[None, :, :]) ** 2).sum(axis=2)
        mine = d2[np.arange(len(x)), np.clip(labels, 0, k - 1)]
        if (labels < 0).any() or (labels >= k).any() or (mine > d2.min(axis=1) + 1e-6).any():
            i = int(np.argmax(mine - d2.min(axis=1)))
            l1 = np.abs(x64[:, None, :] - c64[None, :, :]).sum(axis=2)
            hint = ("measure the squared Euclidean distance ||x - c||^2, not the sum of "
                    "absolute differences" if np.array_equal(labels, l1.argmin(axis=1)) else
                    "nearest means the smallest distance (argmin)"
                    if np.array_equal(labels, d2.argmax(axis=1)) else
                    "each row goes to the centre of the smallest squared Euclidean distance")
            raise Failed(f"row {i} is labelled {labels[i]}, but centre {np.argmin(d2[i])} is "
                         f"nearer (squared distance {d2[i].min():.4g} against {mine[i]:.4g}) "
                         f"for {inputs}. Hint: {hint}")
        new = np.asarray(new)
        if new.shape != centers.shape:
            raise Failed(f"the new centres have shape {new.shape}, expected {centers.shape}")
        for j in range(k):
            rows = x64[labels == j]
            if len(rows):
                compare(f"centre {j}", new[j], rows.mean(axis=0), inputs,
                        reference="the mean of its rows", name=f"centers[{j}]",
                        rtol=1e-5, atol=1e-6,
                        hints=[(matches(rows.sum(axis=0)), "divide each centre's sum by its "
                                "number of rows")])
            elif not np.isfinite(new[j]).all():
                raise Failed(f"cluster {j} has no rows and its new centre is {new[j]} for "
                             f"{inputs}. Hint: an empty cluster's centre must stay a point: "
                             "give it a row of x (the library takes the row farthest from its "
                             "centre)")
        empty = [j for j in range(k) if not (labels == j).any()]
        if empty and np.isfinite(new[empty]).all():
            if not takes_farthest_rows(x64, d2.min(axis=1), new[empty].astype(np.float64)):
                raise Failed(f"clusters {empty} have no rows; their new centres are "
                             f"{new[empty].tolist()} for {inputs}. Hint: the first empty cluster "
                             "takes the row farthest from its centre, a second empty one the "
                             "next farthest, so that no two share a point")
        if getattr(new, "dtype", None) != x.dtype:
            raise Failed(f"the new centres are {new.dtype} for {x.dtype} data; keep x's dtype")
        before = d2.min(axis=1).sum()
        after = ((x64[:, None, :] - new.astype(np.float64)[None]) ** 2).sum(axis=2).min(axis=1).sum()
        if after > before + 1e-6 * max(1.0, before):
            raise Failed(f"the inertia rose from {before:.4g} to {after:.4g} for {inputs}: a "
                         "Lloyd iteration never raises it")

    data = st.tuples(st.integers(4, 10), st.integers(1, 3), st.integers(1, 4)).flatmap(
        lambda s: st.tuples(values((s[0], s[1])), values((s[2], s[1]), -4, 4)))  # K <= N
    run_property(prop, data, st.sampled_from([np.float64, np.float32]), examples=100)
    return "nearest centres, means of their rows, no empty centre lost, inertia never rising"


def takes_farthest_rows(x, distance, centres):
    """Whether the empty clusters' new ``centres`` are distinct rows of x among the farthest from
    their own centres (``distance``): as many of them as there are empty clusters, ties allowed."""
    farthest = np.sort(distance)[::-1][len(centres) - 1]
    free = list(np.flatnonzero(distance >= farthest - 1e-9))
    for centre in centres:
        same = [i for i in free if np.abs(x[i] - centre).max() < 1e-6]
        if not same:
            return False
        free.remove(same[0])
    return True


def ari_reference(a, b, pairs_factor=1):
    """The adjusted Rand index by counting pairs (Hubert and Arabie's form); ``pairs_factor``
    makes a known mistake (counting ordered pairs, n (n - 1), where C(n, 2) belongs)."""
    n = len(a)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    together_a = np.array([a[i] == a[j] for i, j in pairs], dtype=bool)
    together_b = np.array([b[i] == b[j] for i, j in pairs], dtype=bool)
    index = float(np.sum(together_a & together_b))
    total = len(pairs)
    expected = together_a.sum() * together_b.sum() / (pairs_factor * total) if total else 0.0
    maximum = (together_a.sum() + together_b.sum()) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def rand_index(a, b):
    n = len(a)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    return float(np.mean([(a[i] == a[j]) == (b[i] == b[j]) for i, j in pairs]))


GUARD = (lambda mine, _: not np.isfinite(mine).all(), "when max equals expected (both "
         "labellings trivial: one cluster, or all singletons) the ARI is 1: guard the division")


ARI_MISTAKES = [
    (lambda a, b: ari_reference(a, b, pairs_factor=2), "C(n, 2) = n (n - 1) / 2: the expected "
     "index divides by the number of pairs"),
    (rand_index, "that is the unadjusted Rand index; the adjusted one subtracts what chance "
     "gives: (index - expected) / (max - expected)"),
]
ARI_PROBES = [([0, 0, 0], [0, 1, 1]), ([0, 0, 1, 1, 2], [0, 1, 1, 2, 2]),
              ([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])]


def ari_mistake(function):
    """The known mistake whose values the student's ARI gives on every probe (each probe alone
    may fit two), or None."""
    for mistake, text in ARI_MISTAKES:
        try:
            if all(close(function(np.array(a), np.array(b)), mistake(np.array(a), np.array(b)))
                   for a, b in ARI_PROBES):
                return text
        except Exception:
            return None
    return None


def grade_adjusted_rand_score(function):
    def prop(pair, permutation):
        a, b = pair
        inputs = f"labels_true {a.tolist()} and labels_pred {b.tolist()}"
        value = call(function, a.copy(), b.copy(), inputs=inputs)
        relabelled = np.asarray(permutation)[b]
        again = call(function, a.copy(), relabelled, inputs=inputs)
        compare("the ARI with the clusters renamed", again, value,
                f"labels_pred {b.tolist()} renamed {relabelled.tolist()}",
                reference="the ARI before renaming",
                hints=[GUARD, (lambda *_: True, "ARI depends only on which samples are grouped "
                               "together, not on the labels' values")])
        expected = ari_reference(a, b)
        compare("the ARI", value, expected, inputs, reference="its definition by pairs",
                hints=[(lambda *_: ari_mistake(function) is not None,
                        lambda: ari_mistake(function)), GUARD])
        compare("ARI(b, a)", call(function, b.copy(), a.copy(), inputs=inputs), value, inputs,
                reference="ARI(a, b)", hints=[(lambda *_: True, "ARI is symmetric")])
        compare("ARI(a, a)", call(function, a.copy(), a.copy(), inputs=inputs), 1.0,
                f"labels {a.tolist()}", hints=[(lambda *_: True, "a labelling matches itself "
                                                "perfectly: 1")])

    for trivial in ([0, 0, 0], [0, 1, 2]):          # one cluster, or all singletons: ARI 1
        a = np.array(trivial)
        try:
            value = function(a.copy(), a.copy())
        except ZeroDivisionError as err:
            raise Failed(f"raised ZeroDivisionError for labels_true = labels_pred = {trivial}. "
                         f"Hint: {GUARD[1]}") from err
        compare("the ARI", value, 1.0, f"labels_true = labels_pred = {trivial}", hints=[GUARD])
    pair = st.integers(2, 9).flatmap(lambda n: st.tuples(
        arrays(np.int64, n, elements=st.integers(0, 3)),
        arrays(np.int64, n, elements=st.integers(0, 3))))
    run_property(prop, pair, st.permutations(range(4)), examples=100)
    return "matches the definition by pairs; symmetric, 1 for a perfect match, blind to renaming"


# =========================================================================== Part 4


def cross_entropy_reference(z, y):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(z)), y].mean())


def logits_and_labels(scale=10.0):
    return st.tuples(st.integers(1, 4), st.integers(2, 5)).flatmap(
        lambda s: st.tuples(values(s, -scale, scale),
                            arrays(np.int64, s[0], elements=st.integers(0, s[1] - 1))))


def grade_softmax_cross_entropy(function):
    def prop(data, dtype):
        z, y = data
        n = len(z)
        inputs = shape_words(logits=z) + f", labels {y.tolist()}"
        result = call(function, z.astype(dtype), y.copy(), inputs=inputs)
        value, grad = check_loss_result(result, inputs)
        expected = cross_entropy_reference(z.astype(dtype), y)
        tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else {}
        compare("the loss", value, expected, inputs, reference="-mean log softmax",
                hints=[(scaled(n), f"the loss is N = {n} times too large: a mean over the "
                        "batch, not a sum")], **tol)
        numeric = loss_gradient(lambda out: cross_entropy_reference(out, y), z.astype(dtype))
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        compare("dL/dz", grad, numeric, inputs, reference="finite differences", name="grad",
                rtol=1e-4, atol=1e-7,
                hints=[(scaled(n), f"dL/dz is N = {n} times too large: divide by N, the loss "
                        "is a mean"),
                       (matches(p / n), "subtract onehot(y): dL/dz = (softmax(z) - onehot(y)) / "
                        "N"),
                       (scaled(-1), "the sign is flipped: softmax(z) - onehot(y)")])
        if getattr(grad, "dtype", None) != np.dtype(dtype):
            raise Failed(f"the gradient is {grad.dtype} for {np.dtype(dtype).name} logits; "
                         "return it in the logits' dtype")

    run_property(prop, logits_and_labels(), st.sampled_from([np.float64, np.float32]),
                 examples=100)
    z = np.array([[1e4, 0.0, -1e4], [-3e3, 2e3, 0.0]])
    y = np.array([1, 0])
    value, grad = check_loss_result(call(function, z.copy(), y, inputs="logits up to 1e4"), "")
    if not (np.isfinite(value) and np.isfinite(grad).all()):
        fix = ("exp(1e4) overflows; shift by the largest logit first, softmax(z) = softmax(z - "
               "max(z))" if not np.isfinite(grad).all() else
               "a softmax probability underflows to 0 and its log to -inf; take the log of the "
               "softmax directly, log softmax(z) = z - max(z) - log(sum exp(z - max(z)))")
        raise Failed(f"for logits up to 1e4 the loss is {value} and the gradient "
                     f"{'is not' if not np.isfinite(grad).all() else 'is'} finite. Hint: {fix}")
    compare("the loss for logits up to 1e4", value, cross_entropy_reference(z, y),
            "logits [[1e4, 0, -1e4], [-3e3, 2e3, 0]]", rtol=1e-9)
    return "the loss is -mean log softmax, dL/dz matches finite differences, finite for any logits"


def grade_distill_logit_mse(function):
    def reference(s, t):
        return float(np.mean((s - t) ** 2))

    def prop(pair):
        s, t = pair
        n, c = s.shape
        inputs = shape_words(student_logits=s)
        result = call(function, s.copy(), t.copy(), inputs=inputs)
        value, grad = check_loss_result(result, inputs)
        compare("the loss", value, reference(s, t), inputs,
                hints=[(scaled(c), f"the loss is C = {c} times too large: the mean is over "
                        "every element, N C of them")])
        compare("dL/ds", grad, loss_gradient(lambda out: reference(out, t), s), inputs,
                reference="finite differences", name="grad", rtol=1e-4, atol=1e-8,
                hints=[(scaled(0.5), "the derivative of (s - t)^2 is 2 (s - t): a factor 2 is "
                        "missing"),
                       (scaled(c), f"dL/ds is C = {c} times too large: divide by N C"),
                       (scaled(-1), "the sign is flipped: 2 (s - t) / (N C)")])

    pair = st.tuples(st.integers(1, 4), st.integers(2, 5)).flatmap(
        lambda s: st.tuples(values(s, -5, 5), values(s, -5, 5)))
    run_property(prop, pair, examples=100)
    return "the loss is the mean of (s - t)^2 and dL/ds matches finite differences"


def soft_target_reference(s, t, y, temperature, alpha, square=True, swap=False):
    def log_softmax(z):
        m = z.max(axis=1, keepdims=True)
        return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    log_p, log_q = log_softmax(t / temperature), log_softmax(s / temperature)
    if swap:
        log_p, log_q = log_q, log_p
    kl = float((np.exp(log_p) * (log_p - log_q)).sum() / len(s))
    factor = temperature ** 2 if square else 1.0
    return alpha * factor * kl + (1 - alpha) * cross_entropy_reference(s, y)


def grade_soft_target_loss(function):
    Student = student_class(losses.SoftTargetLoss, "__call__", function)

    def prop(data, temperature, alpha):
        s, y = data
        t = np.random.default_rng(len(s) * 7 + s.shape[1]).standard_normal(s.shape) * 3
        inputs = shape_words(student_logits=s) + f", T = {temperature:g}, alpha = {alpha:g}"
        loss = Student(temperature, alpha)
        result = call(loss, s.copy(), t.copy(), y.copy(), inputs=inputs)
        value, grad = check_loss_result(result, inputs)
        expected = soft_target_reference(s, t, y, temperature, alpha)
        compare("the loss", value, expected, inputs, reference="its definition",
                hints=[(matches(soft_target_reference(s, t, y, temperature, alpha,
                                                      square=False)),
                        "the soft term is alpha T^2 KL(p || q): the T^2 factor is missing"),
                       (matches(soft_target_reference(s, t, y, temperature, 1 - alpha)),
                        "alpha weights the soft term, 1 - alpha the labels' cross-entropy"),
                       (matches(soft_target_reference(s, t, y, temperature, alpha, swap=True)),
                        "KL(p || q) = sum p (log p - log q), with p the teacher's: the two are "
                        "swapped")])
        numeric = loss_gradient(lambda out: soft_target_reference(out, t, y, temperature, alpha),
                                s)
        compare("dL/ds", grad, numeric, inputs, reference="finite differences", name="grad",
                rtol=1e-4, atol=1e-7,
                hints=[(scaled(temperature), "dL/ds is T times too large: dKL/ds = (q - p) / T, "
                        "times alpha T^2 / N, is alpha T (q - p) / N"),
                       (scaled(1 / temperature), "dL/ds is T times too small: the soft term's "
                        "gradient is alpha T (q - p) / N")])

    run_property(prop, logits_and_labels(5.0), st.floats(1.0, 8.0), st.floats(0.0, 1.0),
                 examples=100)
    return "the loss matches alpha T^2 KL + (1 - alpha) CE, and dL/ds finite differences"


GRADERS = {name[len("grade_"):]: function for name, function in globals().items()
           if name.startswith("grade_") and name[len("grade_"):] in BY_NAME}
missing = set(BY_NAME) - set(GRADERS)
if missing:                                         # every exercise has its grader
    raise ImportError(f"no grader for the exercises {sorted(missing)}")
del missing
