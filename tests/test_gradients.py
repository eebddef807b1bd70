"""Every hand-derived gradient against centred finite differences, in float64."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scratchnn import (Dense, Dropout, Identity, L2Penalty, ReLU, Sequential, Sigmoid, SoftTargetLoss, Tanh,
                       WeightedMSE, distill_logit_mse, mse, softmax_cross_entropy)
from scratchnn.gradcheck import check_layer, check_loss, numerical_gradient, relative_error

TOL = 1e-6
# Values in [-3, 3]; tiny non-zero ones become 0, since a gradient of size 1e-7 next to a
# function of size 1 is below the rounding noise of a finite difference (about 1e-12).
f64 = st.floats(-3, 3, allow_nan=False, width=64).map(lambda v: 0.0 if abs(v) < 1e-3 else v)
sizes = st.integers(1, 6)


def batches(n, d, elements=f64):
    return arrays(np.float64, (n, d), elements=elements)


@st.composite
def batch(draw, elements=f64):
    n, d = draw(sizes), draw(sizes)
    return draw(batches(n, d, elements))


def assert_backward_keeps_argument(layer, x, dout):
    layer.forward(x)
    before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, before)


@settings(max_examples=40, deadline=None)
@given(st.data(), sizes, sizes, sizes, st.integers(0, 2**32 - 1))
def test_dense_gradients(data, n, d_in, d_out, seed):
    layer = Dense(d_in, d_out, rng=seed, dtype=np.float64)
    layer.params["b"][:] = np.random.default_rng(seed).standard_normal(d_out)
    x = data.draw(batches(n, d_in))
    errors = check_layer(layer, x, rng=seed)
    assert max(errors.values()) < TOL, errors
    assert set(errors) == {"x", "W", "b"}
    assert_backward_keeps_argument(layer, x, np.ones((n, d_out)))


# ReLU's derivative jumps at 0: keep inputs away from the kink.
away_from_kink = st.one_of(st.floats(0.01, 3), st.floats(-3, -0.01))


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from(["relu", "tanh", "sigmoid", "identity"]), st.integers(0, 2**32 - 1))
def test_activation_gradients(data, kind, seed):
    layer = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "identity": Identity}[kind]()
    x = data.draw(batch(away_from_kink if kind == "relu" else f64))
    errors = check_layer(layer, x, rng=seed)
    assert errors["x"] < TOL, errors
    assert_backward_keeps_argument(layer, x, np.random.default_rng(seed).standard_normal(x.shape))


def test_activation_gradient_is_not_trivially_zero():
    # A check that could pass by returning zeros would be worthless: a wrong derivative must fail.
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    layer = Tanh()
    layer.forward(x)
    wrong = layer.backward(np.ones_like(x)) * 1.01
    true = numerical_gradient(lambda: float(np.sum(np.tanh(x))), x)
    assert relative_error(wrong, true) > TOL


def test_sigmoid_is_finite_for_huge_inputs():
    out = Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])
    assert out.dtype == np.float32


@settings(max_examples=25, deadline=None)
@given(st.data(), st.integers(0, 2**32 - 1))
def test_sequential_gradients(data, seed):
    rng = np.random.default_rng(seed)
    model = Sequential([Dense(3, 5, rng=rng, dtype=np.float64), Tanh(),
                        Dense(5, 4, rng=rng, dtype=np.float64), Sigmoid(),
                        Dense(4, 2, rng=rng, dtype=np.float64), Identity()])
    x = data.draw(batches(data.draw(sizes), 3))
    errors = check_layer(model, x, rng=seed)
    assert set(errors) == {"x", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert max(errors.values()) < TOL, errors


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from([3.0, 30.0, 1000.0]))
def test_cross_entropy_gradient_including_extreme_logits(data, scale):
    logits = data.draw(batch(st.floats(-1, 1))) * scale
    n, c = logits.shape
    labels = data.draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    loss, _ = softmax_cross_entropy(logits, labels)
    assert np.isfinite(loss)
    assert check_loss(softmax_cross_entropy, logits, labels)["output"] < TOL


def test_cross_entropy_at_plus_minus_1000_is_exact():
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    loss, grad = softmax_cross_entropy(logits, np.array([1, 1]))
    # First row is wrong by a margin of 2000, second right: mean of 2000 and 0.
    assert loss == 1000.0
    np.testing.assert_allclose(grad, [[0.5, -0.5], [0.0, 0.0]])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_mse_and_weighted_mse_gradients(data):
    y = data.draw(batch())
    t = data.draw(batches(*y.shape))
    w = data.draw(arrays(np.float64, y.shape[1], elements=st.floats(0, 2)))
    assert check_loss(mse, y, t)["output"] < TOL
    assert check_loss(distill_logit_mse, y, t)["output"] < TOL
    assume(np.any(w > 0) and np.any(y != t))
    assert check_loss(WeightedMSE(w), y, t)["output"] < TOL


def test_weighted_mse_with_unit_weights_is_mse():
    rng = np.random.default_rng(0)
    y, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert np.isclose(WeightedMSE(np.ones(3))(y, t)[0], mse(y, t)[0])
    # Hand value: one sample, weights (2, 0), errors (1, 5): (2*1 + 0*25) / 2 = 1.
    assert WeightedMSE(np.array([2.0, 0.0]))(np.array([[1.0, 5.0]]), np.zeros((1, 2)))[0] == 1.0


@settings(max_examples=40, deadline=None)
@given(st.data(), st.floats(1, 20), st.floats(0, 1))
def test_soft_target_gradient_over_temperatures(data, temperature, alpha):
    s = data.draw(batch(st.floats(-10, 10)))
    t = data.draw(batches(*s.shape, st.floats(-10, 10)))
    labels = data.draw(arrays(np.int64, len(s), elements=st.integers(0, s.shape[1] - 1)))
    loss = SoftTargetLoss(temperature, alpha)
    # Where the student already matches the teacher the gradient is exactly 0 and the
    # T^2-scaled KL cancels all its digits, so finite differences measure only rounding;
    # that case has its own exact test below.
    assume(np.linalg.norm(loss(s, t, labels)[1]) > 1e-3)
    assert check_loss(loss, s, t, labels)["output"] < TOL


def test_soft_target_loss_is_zero_kl_when_student_equals_teacher():
    z = np.random.default_rng(1).standard_normal((5, 4))
    labels = np.zeros(5, dtype=int)
    value, grad = SoftTargetLoss(temperature=3.0, alpha=1.0)(z, z, labels)
    assert abs(value) < 1e-12
    np.testing.assert_allclose(grad, 0, atol=1e-15)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1e-4, 1.0))
def test_l2_penalty_gradient(seed, beta):
    params = {"a": np.random.default_rng(seed).standard_normal((3, 2)),
              "b": np.random.default_rng(seed + 1).standard_normal(4)}
    penalty = L2Penalty(beta)
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    value = penalty(params, grads)          # adds dP/dp to the (zero) gradients, returns P
    assert np.isclose(value, penalty.value(params))
    for name, p in params.items():
        num = numerical_gradient(lambda: penalty.value(params), p)
        assert relative_error(grads[name], num) < TOL


def _flat_check(model, total_loss, h=1e-5):
    """Whole-model check: analytic gradient of every parameter vs finite differences of the total loss."""
    total_loss()  # fills model.grads (forward + backward)
    analytic = {k: g.copy() for k, g in model.grads.items()}
    return {k: relative_error(analytic[k], numerical_gradient(lambda: total_loss(backward=False), p, h))
            for k, p in model.params.items()}


def test_whole_autoencoder_with_weighted_mse_and_l2():
    rng = np.random.default_rng(7)
    d = 6
    model = Sequential([Dense(d, 5, rng=rng, dtype=np.float64), ReLU(), Tanh(),
                        Dense(5, 2, rng=rng, dtype=np.float64), Identity(),
                        Dense(2, 5, rng=rng, dtype=np.float64), Tanh(),
                        Dense(5, d, rng=rng, dtype=np.float64), Sigmoid()])
    for p in model.params.values():
        p += 0.1 * rng.standard_normal(p.shape)   # non-zero biases too
    x = rng.random((8, d))
    loss_fn, penalty = WeightedMSE(rng.random(d)), L2Penalty(1e-3)

    def total_loss(backward=True):
        out = model.forward(x)
        loss, dout = loss_fn(out, x)
        if backward:
            model.backward(dout)
            return loss + penalty(model.params, model.grads)
        return loss + penalty.value(model.params)

    errors = _flat_check(model, total_loss)
    assert len(errors) == 8
    assert max(errors.values()) < TOL, errors


def test_whole_student_under_each_distillation_loss():
    rng = np.random.default_rng(3)
    student = Sequential([Dense(5, 7, rng=rng, dtype=np.float64), ReLU(),
                          Dense(7, 4, rng=rng, dtype=np.float64)])
    x = rng.standard_normal((6, 5))
    teacher_logits = 3 * rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    losses = {"logit_mse": lambda s: distill_logit_mse(s, teacher_logits),
              "soft_T1": lambda s: SoftTargetLoss(1.0, 0.5)(s, teacher_logits, labels),
              "soft_T20": lambda s: SoftTargetLoss(20.0, 0.9)(s, teacher_logits, labels)}
    for name, loss_fn in losses.items():
        def total_loss(backward=True):
            loss, dout = loss_fn(student.forward(x))
            if backward:
                student.backward(dout)
            return loss
        errors = _flat_check(student, total_loss)
        assert max(errors.values()) < TOL, (name, errors)


@settings(max_examples=30, deadline=None)
@given(st.data(), st.floats(0.1, 0.9), st.integers(0, 2**32 - 1))
def test_dropout_gradient_with_a_fixed_mask(data, p, seed):
    layer = Dropout(p, rng=seed)
    layer.hold_mask = True                  # the check calls forward many times: one mask
    x = data.draw(batch())
    errors = check_layer(layer, x, rng=seed)
    assert errors["x"] < TOL, errors
    layer.forward(x)
    dout = np.random.default_rng(seed).standard_normal(x.shape)
    # dx = dout * mask: zero exactly where the input was dropped, dout / (1 - p) elsewhere.
    dx = layer.backward(dout)
    kept = layer._mask > 0
    np.testing.assert_allclose(dx[kept], dout[kept] / (1 - p))
    assert (dx[~kept] == 0).all()
    assert_backward_keeps_argument(layer, x, dout)
