"""Optimizers, the training loop, save/load, freezing and input checks."""

import io

import numpy as np
import pytest

from scratchnn import (SGD, Adam, Dense, L2Penalty, ReLU, Sequential, Sigmoid, SoftTargetLoss, Tanh,
                       WeightedMSE, accuracy, fit, mlp, mse, softmax_cross_entropy)


def test_sgd_step_by_hand():
    p = {"w": np.array([1.0, -2.0])}
    g = {"w": np.array([0.5, 0.25])}
    SGD(lr=0.1).step(p, g)
    # w - lr g = (1 - 0.05, -2 - 0.025)
    np.testing.assert_allclose(p["w"], [0.95, -2.025])


def test_sgd_momentum_nesterov_and_weight_decay_by_hand():
    p = {"w": np.array([1.0])}
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.5)
    opt.step(p, {"w": np.array([2.0])})
    # g = 2 + 0.5*1 = 2.5; v = 2.5; step = g + 0.9 v = 4.75; w = 1 - 0.475
    np.testing.assert_allclose(p["w"], [0.525])
    opt.step(p, {"w": np.array([2.0])})
    # g = 2 + 0.5*0.525 = 2.2625; v = 0.9*2.5 + 2.2625 = 4.5125; step = 2.2625 + 0.9*4.5125 = 6.32375
    np.testing.assert_allclose(p["w"], [0.525 - 0.632375])


def test_adam_two_steps_by_hand():
    p = {"w": np.array([1.0, 1.0])}
    opt = Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    opt.step(p, {"w": np.array([0.5, -2.0])})
    # t=1: m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2 -> step = lr * sign(g) (eps aside)
    np.testing.assert_allclose(p["w"], [1 - 0.1 * 0.5 / (0.5 + 1e-8), 1 + 0.1 * 2 / (2 + 1e-8)])
    m, v = opt.moments("w")            # the paper's m = (1 - b1) g and v = (1 - b2) g^2 at t = 1
    np.testing.assert_allclose(m, [0.05, -0.2])
    np.testing.assert_allclose(v, [0.00025, 0.004])
    opt.step(p, {"w": np.array([1.5, -2.0])})
    # t=2, first element: m = 0.9*0.05 + 0.1*1.5 = 0.195; v = 0.999*0.00025 + 0.001*2.25 = 0.00249975
    # m_hat = 0.195/0.19 = 1.0263158; v_hat = 0.00249975/0.001999 = 1.2504952; step = 0.1*1.0263158/1.1182554
    # second element: m_hat = -2, v_hat = 4: step = 0.1 * -2/2 = -0.1
    m_hat = 0.195 / (1 - 0.9**2)
    v_hat = 0.00249975 / (1 - 0.999**2)
    expected_first = 1 - 0.1 * 0.5 / (0.5 + 1e-8) - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(p["w"][0], expected_first, rtol=1e-12)
    np.testing.assert_allclose(p["w"][1], 1 + 0.1 * 2 / (2 + 1e-8) + 0.1 * 2 / (2 + 1e-8), rtol=1e-9)
    np.testing.assert_allclose(expected_first, 1 - 0.1 - 0.1 * 0.9177802, rtol=1e-6)


def test_optimizer_updates_in_place_so_layers_see_it():
    model = mlp([2, 3, 1], rng=0)
    w = model.layers[0].params["W"]
    before = w.copy()
    x = np.ones((4, 2), np.float32)
    fit(model, mse, SGD(lr=0.1), x, np.ones((4, 1), np.float32), epochs=1, batch_size=4, rng=0,
        progress=False)
    assert model.layers[0].params["W"] is w
    assert not np.array_equal(w, before)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def test_tiny_mlp_learns_xor():
    model = mlp([2, 8, 2], activation=Tanh, rng=1)
    history = fit(model, softmax_cross_entropy, SGD(lr=0.5, momentum=0.9), XOR_X, XOR_Y,
                  epochs=200, batch_size=4, rng=0, progress=False)
    assert accuracy(model, XOR_X, XOR_Y) == 1.0
    assert history.epoch_loss[-1] < 0.05 < history.epoch_loss[0]


def _train(seed):
    x = np.random.default_rng(5).standard_normal((64, 6)).astype(np.float32)
    model = Sequential([Dense(6, 8, rng=seed), ReLU(), Dense(8, 3, rng=seed)])
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    hist = fit(model, softmax_cross_entropy, Adam(0.01), x, y, epochs=3,
               batch_size=lambda e: 8 * (e + 1), rng=seed, penalty=L2Penalty(1e-4), progress=False)
    return hist, model


def test_same_seed_same_history_bit_for_bit():
    (h1, m1), (h2, m2) = _train(42), _train(42)
    assert h1.loss == h2.loss
    for k in m1.params:
        np.testing.assert_array_equal(m1.params[k], m2.params[k])
    h3, _ = _train(43)
    assert h3.loss != h1.loss
    assert h1.batch_sizes == [8, 16, 24]
    assert len(h1.loss) == 64 // 8 + 64 // 16 + -(-64 // 24)


@pytest.mark.filterwarnings("ignore:.*best constant")  # one epoch: too short to learn
def test_training_stays_float32():
    seen = []

    def loss(out, target):
        seen.append(out.dtype)
        value, grad = mse(out, target)
        seen.append(grad.dtype)
        return value, grad

    model = mlp([4, 5, 4], activation=Sigmoid, rng=0)
    x64 = np.random.default_rng(0).random((10, 4))     # float64 in: converted once, documented
    fit(model, loss, Adam(), x64, x64, epochs=1, batch_size=5, rng=0, progress=False,
        penalty=L2Penalty(1e-3))
    assert set(seen) == {np.dtype(np.float32)}
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.predict(x64).dtype == np.float32


def test_nan_loss_stops_with_epoch_step_and_advice():
    x = np.ones((8, 2), np.float32) * 1e3
    model = mlp([2, 4, 1], rng=0)
    with pytest.raises(FloatingPointError, match=r"epoch 1, step \d+.*lower the learning rate"), \
            np.errstate(all="ignore"):
        fit(model, mse, SGD(lr=1e6), x, x[:, :1] * 1e3, epochs=5, batch_size=2, rng=0, progress=False)


def test_frozen_model_is_bit_identical_after_training_a_student_on_it():
    rng = np.random.default_rng(0)
    teacher = mlp([5, 6, 3], rng=1).freeze()
    before = {k: v.copy() for k, v in teacher.state_dict().items()}
    assert teacher.params == {}
    x = rng.standard_normal((40, 5)).astype(np.float32)
    labels = rng.integers(0, 3, 40)
    student = mlp([5, 4, 3], rng=2)
    # Even an optimizer pointed at the teacher cannot move it: it has no trainable params.
    SGD(0.1).step(teacher.params, teacher.grads)
    fit(student, SoftTargetLoss(4.0, 0.7), SGD(0.1), x, (teacher.predict(x), labels), epochs=2,
        batch_size=8, rng=0, progress=False)
    for k, v in teacher.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_save_load_round_trip_is_exact(tmp_path):
    a, b = mlp([4, 3, 2], rng=0), mlp([4, 3, 2], rng=1)
    path = tmp_path / "model.npz"
    a.save(path)
    b.load(path)
    for k in a.state_dict():
        np.testing.assert_array_equal(a.state_dict()[k], b.state_dict()[k])
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["0.W", "0.b", "2.W", "2.b"]
    with pytest.raises(ValueError, match="shape"):
        mlp([4, 5, 2], rng=0).load(path)


def test_summary_lists_layers_and_total():
    out = io.StringIO()
    total = mlp([784, 128, 64, 10]).summary(print_fn=lambda s: out.write(s))
    assert total == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    text = out.getvalue()
    assert "Dense(784, 128)" in text and "(N, 64)" in text and f"{total:,}" in text


def test_sequential_names_parameters_by_index():
    model = Sequential([Dense(2, 3, rng=0), Tanh(), Dense(3, 1, rng=0)])
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert model.grads == {}                     # no gradient before a backward
    model.backward(np.ones((4, 1), np.float32) - model.forward(np.ones((4, 2), np.float32)))
    assert list(model.grads) == list(model.params)
    assert model.params["2.W"] is model.layers[2].params["W"]


@pytest.mark.parametrize("bad, message", [
    (np.ones((3, 5), np.float32), "3 columns|expects 4|5 columns"),
    (np.ones(4, np.float32), "2-D"),
    (np.array([[1, np.nan, 0, 0]], np.float32), "NaN"),
])
def test_bad_inputs_give_clear_errors(bad, message):
    model = mlp([4, 3, 2], rng=0)
    with pytest.raises(ValueError, match=message):
        model.predict(bad)
    with pytest.raises(ValueError, match=message):
        fit(model, softmax_cross_entropy, SGD(), bad, np.zeros(len(np.atleast_2d(bad)), int),
            progress=False)


def test_label_out_of_range_is_named():
    model = mlp([2, 3, 2], rng=0)
    with pytest.raises(ValueError, match="label 2 is out of range for 2 classes"):
        fit(model, softmax_cross_entropy, SGD(), XOR_X, np.array([0, 1, 2, 0]), progress=False)
    with pytest.raises(ValueError, match="rows"):
        fit(model, softmax_cross_entropy, SGD(), XOR_X, np.array([0, 1]), progress=False)


def test_dense_rejects_wrong_width_directly():
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 3\)"):
        Dense(3, 2, rng=0).forward(np.ones((2, 4), np.float32))


def test_weighted_mse_checks_its_width():
    with pytest.raises(ValueError, match="3 weights"):
        WeightedMSE(np.ones(3))(np.ones((2, 4)), np.ones((2, 4)))


class FakeTTY(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.mark.filterwarnings("ignore:.*best constant")  # a few epochs: too short to learn
@pytest.mark.parametrize("tty", [True, False])
def test_progress_line_only_on_a_terminal(tty):
    stream = FakeTTY(tty)
    fit(mlp([2, 3, 2], rng=0), softmax_cross_entropy, SGD(), XOR_X, XOR_Y, epochs=2, batch_size=1,
        rng=0, stream=stream)
    text = stream.getvalue()
    if tty:
        assert "epoch 2/2" in text and "eta" in text and "\r" in text
    else:
        assert text == ""


@pytest.mark.filterwarnings("ignore:.*best constant")  # a few epochs: too short to learn
def test_callback_results_and_epoch_lines_are_recorded():
    stream = FakeTTY(False)
    hist = fit(mlp([2, 3, 2], rng=0), softmax_cross_entropy, SGD(), XOR_X, XOR_Y, epochs=3,
               batch_size=2, rng=0, stream=stream, print_epochs=True,
               callback=lambda epoch, model: {"acc": accuracy(model, XOR_X, XOR_Y)})
    assert len(hist.evaluations) == 3 and all("acc" in e for e in hist.evaluations)
    assert stream.getvalue().count("\n") == 3 and "acc" in stream.getvalue()


@pytest.mark.filterwarnings("ignore:.*best constant")  # a few epochs: too short to learn
def test_cosine_schedule_and_lr_schedule_are_applied():
    from scratchnn import cosine_schedule
    schedule = cosine_schedule(0.1, 4)
    assert np.isclose(schedule(0), 0.1) and np.isclose(schedule(2), 0.05) and schedule(3) < 0.02
    opt = SGD(lr=1.0)
    fit(mlp([2, 3, 2], rng=0), softmax_cross_entropy, opt, XOR_X, XOR_Y, epochs=4, batch_size=4,
        rng=0, lr_schedule=schedule, progress=False)
    assert np.isclose(opt.lr, schedule(3))


def test_sgd_heavy_ball_momentum_by_hand():
    p = {"w": np.array([1.0, 2.0])}
    opt = SGD(lr=0.1, momentum=0.5)
    g = {"w": np.array([1.0, -1.0])}
    opt.step(p, g)                      # v = g; w -= 0.1 v
    opt.step(p, g)                      # v = 0.5 g + g = 1.5 g; w -= 0.15 g
    np.testing.assert_allclose(p["w"], [1 - 0.25, 2 + 0.25])
    np.testing.assert_array_equal(g["w"], [1.0, -1.0])     # the gradient is left alone


def test_sgd_weight_decay_without_momentum_by_hand():
    p = {"w": np.array([2.0])}
    SGD(lr=0.1, weight_decay=0.5).step(p, {"w": np.array([1.0])})
    # g + wd p = 1 + 1 = 2; w = 2 - 0.2
    np.testing.assert_allclose(p["w"], [1.8])
