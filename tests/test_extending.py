"""What a student does after reading layers.py, written the way a student would write it:
a layer of their own, a copy of the best model, the optimizer's state, a gradient check."""

import copy
import pickle

import numpy as np
import pytest

from scratchnn import (SGD, Adam, Dense, L2Penalty, Layer, ReLU, Sequential, accuracy, check_layer,
                       check_loss, check_model, fit, mlp, mse, softmax_cross_entropy)
from scratchnn.gradcheck import GradientCheckError

TOL = 1e-6


class Scale(Layer):
    """out = s * x with one learnable number s; the student assigns a new gradient each time."""

    def __init__(self):
        super().__init__()
        self.params["s"] = np.array(0.1, dtype=np.float32)

    def forward(self, x):
        self.x = x
        return self.params["s"] * x

    def backward(self, dout, input_grad=True):
        # dL/ds = sum(dout * x), a scalar like s;  dL/dx = s * dout
        self.grads["s"] = (dout * self.x).sum()
        return self.params["s"] * dout


class AliasDense(Layer):
    """A dense layer that keeps its own aliases self.W, self.b of its parameters."""

    def __init__(self, n_in, n_out, rng=0):
        super().__init__()
        self.W = self.params["W"] = np.random.default_rng(rng).standard_normal((n_in, n_out)).astype(np.float32)
        self.b = self.params["b"] = np.zeros(n_out, np.float32)
        self.n_in = n_in

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout, input_grad=True):
        self.grads["W"] = self.x.T @ dout      # dW = x^T dout
        self.grads["b"] = dout.sum(axis=0)     # db = sum over the batch
        return dout @ self.W.T


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)) * 3.0
    return x, y


def test_a_custom_layer_that_assigns_its_gradient_learns_inside_sequential():
    x, y = regression_data()
    model = Sequential([Dense(3, 1, rng=0), Scale()])
    before = float(model.layers[1].params["s"])
    history = fit(model, mse, SGD(lr=0.05), x, y, epochs=5, batch_size=16, rng=0, progress=False)
    assert float(model.layers[1].params["s"]) != before
    assert history.epoch_loss[-1] < 0.5 * history.epoch_loss[0]
    errors = check_layer(Scale(), np.random.default_rng(1).standard_normal((4, 3)))
    assert max(errors.values()) < TOL, errors


def test_a_layer_with_its_own_aliases_trains_and_the_aliases_follow():
    x, y = regression_data()
    model = Sequential([AliasDense(3, 1)])
    history = fit(model, mse, SGD(lr=0.05), x, y, epochs=10, batch_size=16, rng=0, progress=False)
    layer = model.layers[0]
    assert layer.W is layer.params["W"] and history.epoch_loss[-1] < 0.01 * history.epoch_loss[0]
    assert max(check_layer(layer, x[:5]).values()) < TOL


def test_a_wrong_or_missing_gradient_stops_training_with_the_layer_named():
    class Forgetful(Scale):
        def backward(self, dout, input_grad=True):
            return self.params["s"] * dout

    class WrongShape(AliasDense):
        def backward(self, dout, input_grad=True):
            super().backward(dout)
            self.grads["W"] = self.grads["W"].T          # a transposed dW
            return dout @ self.W.T

    x, y = regression_data()
    for model, message in [(Sequential([Dense(3, 1, rng=0), Forgetful()]), r"layer 1 \(Forgetful\(\)\).*'s'"),
                           (Sequential([WrongShape(3, 2), Dense(2, 1, rng=0)]),
                            r"layer 0 .*shape \(2, 3\) for parameter 'W' of shape \(3, 2\)")]:
        with pytest.raises(ValueError, match=message):
            fit(model, mse, SGD(0.01), x, y, epochs=1, progress=False)


def test_a_layer_that_pre_creates_zero_gradients_and_forgets_one_is_caught():
    class ZerosThenForgets(Scale):
        def __init__(self):
            super().__init__()
            self.grads["s"] = np.zeros_like(self.params["s"])     # as Dense once did

        def backward(self, dout, input_grad=True):
            return self.params["s"] * dout                        # forgot dL/ds

    x, y = regression_data()
    with pytest.raises(ValueError, match=r"layer 1 .*left no gradient for parameter 's'"):
        fit(Sequential([Dense(3, 1, rng=0), ZerosThenForgets()]), mse, SGD(0.01), x, y,
            progress=False)


def test_a_model_with_dropout_is_checked_with_one_mask_and_never_trained_with_one():
    model = mlp([4, 6, 3], dropout=0.5, rng=0)
    x, labels = np.random.default_rng(0).standard_normal((5, 4)), np.array([0, 1, 2, 0, 1])
    errors = check_model(model, softmax_cross_entropy, x, labels)
    assert max(errors.values()) < TOL, errors
    assert max(check_layer(model, x).values()) < TOL
    assert not model.layers[2].hold_mask                 # only the checker's copy held its mask
    model.layers[2].hold_mask = True
    with pytest.raises(ValueError, match="hold_mask"):
        fit(model, softmax_cross_entropy, SGD(0.1), x, labels, progress=False)


def test_a_model_with_broken_weights_is_never_scored():
    model = mlp([2, 3, 2], rng=0)
    model.layers[2].params["W"][0, 0] = np.nan
    x = np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match="parameter 2.W holds NaN"):
        model.predict(x)
    with pytest.raises(ValueError, match="not finite"):
        accuracy(model, x, np.zeros(4, int))


def test_a_layer_without_super_init_is_refused_at_once():
    class NoInit(Layer):
        def __init__(self):
            pass

    with pytest.raises(TypeError, match=r"super\(\).__init__\(\)"):
        Sequential([Dense(2, 2), NoInit()])


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_a_copied_model_learns_and_the_original_does_not_move(clone):
    x, y = regression_data()
    original = mlp([3, 8, 1], rng=0)
    before = original.state_dict()
    twin = clone(original)
    history = fit(twin, mse, Adam(0.01), x, y, epochs=20, batch_size=16, rng=0, progress=False)
    assert history.epoch_loss[-1] < 0.5 * history.epoch_loss[0]
    for name, value in original.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert not all(np.array_equal(twin.state_dict()[k], before[k]) for k in before)


def test_state_dict_is_a_snapshot_and_load_state_dict_restores_it():
    x, y = regression_data()
    model = mlp([3, 4, 1], rng=0)
    best = model.state_dict()
    frozen_copy = {k: v.copy() for k, v in best.items()}
    fit(model, mse, SGD(0.01), x, y, epochs=2, progress=False)
    for k in best:                                   # training did not change the snapshot
        np.testing.assert_array_equal(best[k], frozen_copy[k])
    model.load_state_dict(best)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, best[k])


def test_save_and_load_with_the_same_path_with_or_without_npz(tmp_path):
    a, b = mlp([3, 4, 2], rng=0), mlp([3, 4, 2], rng=1)
    written = a.save(tmp_path / "model")
    assert written.endswith("model.npz")
    b.load(tmp_path / "model")
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v, b.state_dict()[k])
    b.load(written)
    assert not list(tmp_path.glob("*.part"))          # nothing left from the atomic write


def test_adam_state_is_named_by_parameter_after_fit():
    x, y = regression_data()
    model = mlp([3, 4, 1], rng=0)
    opt = Adam(0.01)
    fit(model, mse, opt, x, y, epochs=2, batch_size=16, rng=0, progress=False)
    m, v = opt.moments("0.W")
    assert m.shape == model.params["0.W"].shape == v.shape
    assert opt.t["0.W"] == opt.t["2.b"] == 8
    with pytest.raises(KeyError, match="known parameters"):
        opt.moments("9.W")


def reference_adam(p, gradients, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    """Algorithm 1 of Kingma and Ba, one parameter, in plain float64 Python."""
    m = v = np.zeros_like(p)
    for t, g in enumerate(gradients, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


def test_adam_bias_correction_counts_each_parameters_own_steps():
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal(3), rng.standard_normal(3)
    a, b = {"a": a0.copy()}, {"b": b0.copy()}
    ga = [rng.standard_normal(3) for _ in range(4)]
    gb = [rng.standard_normal(3) for _ in range(50)]
    opt = Adam(0.01)
    for g in ga[:3]:
        opt.step(a, {"a": g})
    for g in gb:                                        # 'a' frozen meanwhile
        opt.step(b, {"b": g})
    opt.step(a, {"a": ga[3]})
    np.testing.assert_allclose(a["a"], reference_adam(a0, ga), rtol=1e-12)
    np.testing.assert_allclose(b["b"], reference_adam(b0, gb), rtol=1e-12)
    assert opt.t == {"a": 4, "b": 50}


def test_freezing_and_unfreezing_in_the_middle_of_fit():
    x, y = regression_data()
    model = mlp([3, 4, 1], rng=0)
    first = model.layers[0]
    opt = Adam(0.01)

    snapshot = {}

    def switch(epoch, m):                              # runs after each epoch
        snapshot[epoch] = m.state_dict()["0.W"]
        first.trainable = epoch != 0                   # frozen for epoch 1 only
        return {}

    fit(model, mse, opt, x, y, epochs=4, batch_size=16, rng=0, callback=switch, progress=False)
    np.testing.assert_array_equal(snapshot[0], snapshot[1])       # frozen during epoch 1
    assert not np.array_equal(snapshot[1], snapshot[2])           # trained again in epochs 2, 3
    assert opt.t["0.W"] == 4 * 3 and opt.t["2.W"] == 4 * 4       # four steps an epoch


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_adam_step_in_place_equals_the_plain_step_after_100_steps(dtype, rtol):
    rng = np.random.default_rng(0)
    start = {"w": rng.standard_normal((5, 4)).astype(dtype), "b": rng.standard_normal(4).astype(dtype)}
    plain = {k: v.copy() for k, v in start.items()}
    fast = {k: v.copy() for k, v in start.items()}
    opt_plain, opt_fast = Adam(0.01), Adam(0.01)
    for _ in range(100):
        grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in start.items()}
        opt_plain.step(plain, grads)
        opt_fast.step_in_place(fast, grads)
    for k in start:
        assert fast[k].dtype == dtype
        np.testing.assert_allclose(fast[k], plain[k], rtol=rtol)
        assert not np.allclose(fast[k], start[k])


def test_sgd_weight_decay_equals_an_l2_penalty_of_half_its_size():
    rng = np.random.default_rng(0)
    p0, g = rng.standard_normal(4), rng.standard_normal(4)
    decayed = {"w": p0.copy()}
    SGD(0.1, weight_decay=0.2).step(decayed, {"w": g.copy()})
    penalised, grads = {"w": p0.copy()}, {"w": g.copy()}
    L2Penalty(0.1)(penalised, grads)
    SGD(0.1).step(penalised, grads)
    np.testing.assert_allclose(decayed["w"], penalised["w"], rtol=1e-15)

# ------------------------------------------------------------------ the gradient checker


def test_check_layer_on_a_default_float32_dense_reports_a_tiny_error():
    layer = Dense(4, 3, rng=0)                                  # float32, as students build it
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    before = layer.params["W"].copy()
    errors = check_layer(layer, x)
    assert set(errors) == {"x", "W", "b"} and max(errors.values()) < TOL, errors
    np.testing.assert_array_equal(layer.params["W"], before)   # the student's layer is untouched
    assert layer.params["W"].dtype == np.float32


def test_a_transposed_view_parameter_is_checked_correctly():
    layer = AliasDense(3, 4)
    base = np.random.default_rng(2).standard_normal((4, 3))
    layer.W = layer.params["W"] = base.T                        # non-contiguous
    errors = check_layer(layer, np.random.default_rng(3).standard_normal((5, 3)))
    assert max(errors.values()) < TOL, errors


class Broken(Dense):
    """Dense with one deliberate mistake in backward."""

    def __init__(self, mistake, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mistake = mistake

    def backward(self, dout, input_grad=True):
        x, W = self._x, self.params["W"]
        dW, db, dx = x.T @ dout, dout.sum(axis=0), dout @ W.T
        if self.mistake == "wrong sign":
            dW = -dW
        elif self.mistake == "dW transposed":
            dW = dout.T @ x if dW.shape[0] == dW.shape[1] else dW.T
        elif self.mistake == "db forgotten":
            self.grads["W"] = dW
            return dx
        elif self.mistake == "all zeros":
            dW, db, dx = np.zeros_like(dW), np.zeros_like(db), np.zeros_like(dx)
        elif self.mistake == "dx mean instead of sum":
            dx = dx / len(x)
        self.grads["W"], self.grads["b"] = dW, db
        return dx


@pytest.mark.parametrize("mistake", ["wrong sign", "dW transposed", "db forgotten", "all zeros",
                                     "dx mean instead of sum"])
def test_every_broken_backward_is_caught(mistake):
    layer = Broken(mistake, 3, 3, rng=0, dtype=np.float64)
    layer.params["b"][:] = 0.3
    x = np.random.default_rng(4).standard_normal((5, 3))
    try:
        errors = check_layer(layer, x)
    except GradientCheckError:
        return                                          # a contract break, named: caught
    assert max(errors.values()) > 1e-3, errors


def test_relu_with_its_mask_on_the_wrong_side_is_caught():
    class WrongReLU(ReLU):
        def function_and_derivative(self, x):
            return np.maximum(x, 0), (x < 0).astype(x.dtype)

    x = np.random.default_rng(5).standard_normal((4, 6))
    x[np.abs(x) < 0.05] = 0.5                            # away from the kink
    assert check_layer(WrongReLU(), x)["x"] > 0.5
    assert check_layer(ReLU(), x)["x"] < TOL


def test_a_loss_missing_its_one_over_n_is_caught():
    def mse_without_mean(y, t):
        loss, _ = mse(y, t)
        return loss, 2 * (y - t) / y.shape[1]        # forgot the 1/N of the batch mean

    y, t = np.random.default_rng(6).standard_normal((2, 8, 3))
    assert check_loss(mse_without_mean, y, t)["output"] > 0.1
    assert check_loss(mse, y, t)["output"] < TOL


def test_check_model_covers_every_parameter_with_the_penalty():
    rng = np.random.default_rng(7)
    model = mlp([4, 5, 3], rng=0)                              # float32: checked in a float64 copy
    x, labels = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    errors = check_model(model, softmax_cross_entropy, x, labels, penalty=L2Penalty(0.01))
    assert set(errors) == {"0.W", "0.b", "2.W", "2.b"} and max(errors.values()) < TOL, errors

    class NoPenaltyGradient(L2Penalty):                     # a penalty that forgets its gradient
        def __call__(self, params, grads):
            return self.beta * sum(float(np.vdot(p, p)) for p in params.values())

    bad = check_model(model, softmax_cross_entropy, x, labels, penalty=NoPenaltyGradient(0.5))
    assert max(bad.values()) > 1e-3
