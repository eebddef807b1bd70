"""The training step and the loop around it, as a student uses them for their own experiments:
a custom loop, validation and early stopping, repeated calls, and mistakes caught early."""

import warnings

import numpy as np
import pytest

from scratchnn import (SGD, Adam, Dense, L2Penalty, Layer, ReLU, Sequential, StopTraining,
                       accuracy, cosine_schedule, fit, mlp, mse, softmax_cross_entropy, train_step)
from scratchnn.checks import NumericalError
from scratchnn.datasets import make_moons, standardize


def moons(n=200, seed=0):
    x, y = make_moons(n, noise=0.2, rng=seed)
    return standardize(x).astype(np.float32), y


def test_train_step_by_hand():
    # One Dense(1, 1) unit, out = w x + b, mse against t: dL/dw = 2 (w x + b - t) x.
    model = Sequential([Dense(1, 1, rng=0, dtype=np.float64)])
    model.layers[0].params["W"][...] = 2.0
    x, t = np.array([[3.0]]), np.array([[4.0]])
    loss = train_step(model, mse, SGD(lr=0.01), x, t)
    # out = 6, error 2: loss 4; dW = 2 * 2 * 3 = 12, db = 4; W = 2 - 0.12, b = -0.04
    assert loss == 4.0
    np.testing.assert_allclose(model.layers[0].params["W"], [[1.88]])
    np.testing.assert_allclose(model.layers[0].params["b"], [-0.04])


def test_a_loop_of_train_steps_is_what_fit_does():
    x, y = moons()
    by_fit, by_hand = mlp([2, 8, 2], rng=1), mlp([2, 8, 2], rng=1)
    history = fit(by_fit, softmax_cross_entropy, SGD(0.1, momentum=0.9), x, y, epochs=2,
                  batch_size=32, rng=np.random.default_rng(5), progress=False)
    rng, optimizer, losses = np.random.default_rng(5), SGD(0.1, momentum=0.9), []
    for _ in range(2):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            losses.append(train_step(by_hand, softmax_cross_entropy, optimizer, x[idx], y[idx]))
    assert losses == history.loss
    for name, p in by_fit.params.items():
        np.testing.assert_array_equal(p, by_hand.params[name])


def test_validation_loss_each_epoch_includes_the_penalty():
    x, y = moons()
    penalty = L2Penalty(0.01)
    model = mlp([2, 8, 2], rng=0)
    history = fit(model, softmax_cross_entropy, SGD(0.1), x[:150], y[:150], epochs=3,
                  batch_size=32, rng=0, penalty=penalty, validation_data=(x[150:], y[150:]),
                  progress=False)
    assert len(history.val_loss) == 3 and history.epochs == [0, 1, 2]
    expected = softmax_cross_entropy(model.predict(x[150:]), y[150:])[0] + penalty.value(model.params)
    assert np.isclose(history.val_loss[-1], expected, rtol=1e-6)
    assert history.best_epoch == int(np.argmin(history.val_loss))


def test_patience_stops_and_restore_best_puts_back_the_best_epoch():
    x, y = moons(120)
    snapshots = []
    # A rate far too large makes the validation loss rise after a while; record every epoch.
    model = mlp([2, 32, 2], rng=0)
    history = fit(model, softmax_cross_entropy, SGD(1.5, momentum=0.9), x[:60], y[:60],
                  epochs=200, batch_size=60, rng=0, validation_data=(x[60:], y[60:]), patience=3,
                  restore_best=True, progress=False,
                  callback=lambda epoch, m: snapshots.append(m.state_dict()))
    best = history.epochs.index(history.best_epoch)
    assert len(history.epochs) == best + 4 < 200          # 3 epochs without a better one, then stop
    assert history.stopped.startswith("early stopping")
    assert min(history.val_loss[best + 1:]) >= history.val_loss[best]
    for name, p in model.state_dict().items():
        np.testing.assert_array_equal(p, snapshots[best][name])


def test_early_stopping_needs_validation_data():
    x, y = moons()
    with pytest.raises(ValueError, match="validation_data"):
        fit(mlp([2, 4, 2], rng=0), softmax_cross_entropy, SGD(0.1), x, y, patience=2)


def test_a_callback_stops_training_by_raising_stop_training():
    x, y = moons()

    def enough(epoch, model):
        if accuracy(model, x, y) > 0.8:
            raise StopTraining("accuracy above 0.8")
        return {"accuracy": accuracy(model, x, y)}

    history = fit(mlp([2, 16, 2], rng=0), softmax_cross_entropy, SGD(0.1, momentum=0.9), x, y,
                  epochs=100, batch_size=32, rng=0, callback=enough, progress=False)
    assert len(history.epochs) < 100 and history.stopped == "callback: accuracy above 0.8"
    assert history.evaluations[-1] is None and all(history.evaluations[:-1])


def test_a_callback_returning_a_number_is_told_what_to_return():
    x, y = moons()
    with pytest.raises(TypeError, match="return None or a dict"):
        fit(mlp([2, 4, 2], rng=0), softmax_cross_entropy, SGD(0.1), x, y, rng=0, progress=False,
            print_epochs=True, callback=lambda epoch, model: 0.5)


def test_two_calls_of_one_epoch_are_one_call_of_two():
    x, y = moons()
    whole, split = mlp([2, 8, 2], rng=0), mlp([2, 8, 2], rng=0)
    rates = []
    schedule = cosine_schedule(0.2, 2)
    fit(whole, softmax_cross_entropy, SGD(0.2), x, y, epochs=2, batch_size=16, rng=3,
        lr_schedule=schedule, progress=False)
    optimizer = SGD(0.2)
    for _ in range(2):
        history = fit(split, softmax_cross_entropy, optimizer, x, y, epochs=1, batch_size=16,
                      rng=3, lr_schedule=schedule, progress=False)
        rates.append(optimizer.lr)
    assert history.epochs == [1] and split.epochs_trained == 2
    assert rates == [schedule(0), schedule(1)]     # the schedule moved on, not epoch 0 twice
    for name, p in whole.params.items():
        np.testing.assert_array_equal(p, split.params[name])


@pytest.mark.filterwarnings("ignore:.*best constant")  # a few epochs: too short to learn
def test_a_seed_shuffles_each_epoch_differently():
    x, y = moons(64)
    history = fit(mlp([2, 4, 2], rng=0), softmax_cross_entropy, SGD(0.0001), x, y, epochs=2,
                  batch_size=8, rng=0, progress=False)
    first, second = history.loss[:8], history.loss[8:]
    assert first != second


def test_one_hot_labels_are_named_with_the_datas_own_size_and_the_fix():
    x, y = moons(200)
    with pytest.raises(ValueError, match=r"one-hot \(200 rows x 2 columns.*y\.argmax\(1\)"):
        fit(mlp([2, 4, 2], rng=0), softmax_cross_entropy, SGD(0.1), x, np.eye(2)[y],
            batch_size=32)


def test_one_hot_labels_beside_teacher_logits_are_named_too():
    from scratchnn import SoftTargetLoss
    x, y = moons(200)
    teacher_logits = np.zeros((200, 2), np.float32)
    with pytest.raises(ValueError, match=r"targets\[1\] look one-hot \(200 rows"):
        fit(mlp([2, 4, 2], rng=0), SoftTargetLoss(), SGD(0.1), x, (teacher_logits, np.eye(2)[y]))


def test_integer_labels_into_a_squared_error_point_to_cross_entropy():
    x, y = moons(200)
    with pytest.raises(ValueError, match=r"shape \(200,\).*\(200, 2\).*softmax_cross_entropy"):
        fit(mlp([2, 4, 2], rng=0), mse, SGD(0.1), x, y, batch_size=32)


def test_swapped_loss_and_optimizer_and_an_optimizer_class_are_named():
    x, y = moons()
    model = mlp([2, 4, 2], rng=0)
    with pytest.raises(TypeError, match="swapped"):
        fit(model, SGD(0.1), softmax_cross_entropy, x, y)
    with pytest.raises(TypeError, match=r"optimizer is the class SGD.*SGD\(lr=0.01\)"):
        fit(model, softmax_cross_entropy, SGD, x, y)
    with pytest.raises(TypeError, match="loss_fn"):
        fit(model, "cross-entropy", SGD(0.1), x, y)


class Forgetful(Layer):
    """A student's ReLU whose backward forgets to return (or returns a wrong dx)."""

    def __init__(self, returns="nothing"):
        super().__init__()
        self.returns = returns

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout, input_grad=True):
        dx = dout * self.mask
        if self.returns == "wrong shape":
            return dx[:, :1]
        if self.returns == "float64":
            return dx.astype(np.float64)
        return None


@pytest.mark.parametrize("returns, said", [("nothing", "returned None"),
                                           ("wrong shape", r"returned shape \(\d+, 1\)"),
                                           ("float64", r"returned shape \(\d+, 4\), dtype float64")])
def test_a_backward_that_returns_a_wrong_dx_is_named_not_the_next_layer(returns, said):
    x, y = moons()
    model = Sequential([Dense(2, 4, rng=0), Forgetful(returns), Dense(4, 2, rng=1)])
    with pytest.raises(ValueError, match=f"layer 1 \\(Forgetful\\(\\)\\): backward {said}"):
        fit(model, softmax_cross_entropy, SGD(0.1), x, y, progress=False)


class Float64Slope(Layer):
    """A parameter whose gradient a student computes in float64 by accident."""

    def __init__(self):
        super().__init__()
        self.params["a"] = np.ones(4, dtype=np.float32)

    def forward(self, x):
        self.x = x
        return x * self.params["a"]

    def backward(self, dout, input_grad=True):
        self.grads["a"] = (dout * self.x).sum(axis=0).astype(np.float64)
        return dout * self.params["a"]


def test_a_gradient_in_another_dtype_is_refused():
    x, y = moons()
    model = Sequential([Dense(2, 4, rng=0), Float64Slope(), Dense(4, 2, rng=1)])
    with pytest.raises(ValueError, match="layer 1 .*float64 gradient for parameter 'a'.*float32"):
        fit(model, softmax_cross_entropy, SGD(0.1), x, y, progress=False)


def test_a_run_that_learns_nothing_warns_naming_the_rate_and_both_losses():
    x, y = moons(200)
    with pytest.warns(RuntimeWarning, match=r"ends at .*above 0\.69.*lr 10"):
        fit(mlp([2, 16, 2], rng=0), softmax_cross_entropy, SGD(lr=10), x, y, epochs=20,
            batch_size=32, rng=0, progress=False)


@pytest.mark.parametrize("loss_fn, targets", [(softmax_cross_entropy, "labels"), (mse, "one-hot")])
def test_a_healthy_run_never_warns(loss_fn, targets):
    x, y = moons(200)
    t = y if targets == "labels" else np.eye(2, dtype=np.float32)[y]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(mlp([2, 16, 2], rng=0), loss_fn, Adam(0.01), x, t, epochs=20, batch_size=32, rng=0,
            progress=False)


def test_an_overflow_stops_with_numerical_error_and_no_numpy_warnings_before_it():
    x, y = moons(200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NumericalError, match="lower the learning rate"):
            fit(Sequential([Dense(2, 64, rng=0), ReLU(), Dense(64, 64, rng=1), ReLU(),
                            Dense(64, 1, rng=2)]), mse, SGD(lr=50), x * 100,
                y[:, None].astype(np.float32) * 1e3, epochs=50, batch_size=20, rng=0,
                progress=False)
    assert [str(w.message) for w in caught] == []


def test_every_submodule_is_reachable_from_import_scratchnn():
    import scratchnn
    for name in ("adaline", "autoencoder", "cluster", "datasets", "dec", "exercises",
                 "gradcheck", "mcculloch_pitts"):
        assert getattr(scratchnn, name).__name__ == f"scratchnn.{name}"


def test_every_model_says_not_fitted_the_same_way():
    from scratchnn import NotFittedError
    from scratchnn.adaline import Adaline, Madaline
    from scratchnn.cluster import KMeans
    from scratchnn.datasets import PixelScaler
    from scratchnn.dec import DEC
    x = np.zeros((3, 2), np.float32)
    unfitted = [Adaline().predict, Madaline(2).predict, KMeans(2).predict,
                PixelScaler().transform,
                DEC(Sequential([Dense(2, 2, rng=0)]), SGD(0.1), n_clusters=2).predict]
    for predict in unfitted:
        with pytest.raises(NotFittedError, match="not fitted"):
            predict(x)


def test_integer_regression_targets_are_numbers_and_a_loss_that_upcasts_is_named():
    x, y = moons()
    model = mlp([2, 8, 2], rng=0)
    fit(model, mse, SGD(0.1), x, np.eye(2, dtype=int)[y], epochs=3, rng=0, progress=False)

    def float64_mse(output, target):           # a student's loss whose gradient is float64
        diff = output.astype(np.float64) - target
        return float(np.mean(diff ** 2)), 2 * diff / diff.size

    with pytest.raises(ValueError, match=r"the loss float64_mse.*gradient of dtype float64.*"
                                         r"output's dtype, float32"):
        fit(model, float64_mse, SGD(0.1), x, np.eye(2)[y], progress=False)


def test_a_penalty_that_is_not_an_l2_penalty_object_is_refused():
    x, y = moons()
    with pytest.raises(TypeError, match="penalty must be an L2Penalty"):
        fit(mlp([2, 4, 2], rng=0), softmax_cross_entropy, SGD(0.1), x, y,
            penalty=lambda params, grads: 0.0)


def test_an_empty_validation_set_is_refused_before_training():
    x, y = moons()
    with pytest.raises(ValueError, match="validation_data\\[0\\] is empty"):
        fit(mlp([2, 4, 2], rng=0), softmax_cross_entropy, SGD(0.1), x, y,
            validation_data=(x[:0], y[:0]))


def test_initial_epoch_zero_starts_a_new_count_and_a_schedule_refuses_to_run_past_its_end():
    x, y = moons()
    model = mlp([2, 8, 2], rng=0)
    fit(model, softmax_cross_entropy, SGD(0.1), x, y, epochs=3, rng=0, progress=False)
    with pytest.raises(ValueError, match="covers epochs 0..1, asked for epoch 3.*initial_epoch=0"):
        fit(model, softmax_cross_entropy, SGD(0.1), x, y, epochs=2, rng=0, progress=False,
            lr_schedule=cosine_schedule(0.1, 2))
    optimizer = SGD(0.1)
    history = fit(model, softmax_cross_entropy, optimizer, x, y, epochs=2, rng=0, progress=False,
                  lr_schedule=cosine_schedule(0.1, 2), initial_epoch=0)
    assert history.epochs == [0, 1] and np.isclose(optimizer.lr, cosine_schedule(0.1, 2)(1))


class NaNInBackward(Layer):
    """A student's layer whose backward divides 0 by 0."""

    def forward(self, x):
        return x

    def backward(self, dout, input_grad=True):
        return dout * (0 * dout) / (0 * dout)


def test_a_nan_made_by_a_backward_is_not_blamed_on_the_learning_rate_alone():
    x, y = moons()
    model = Sequential([Dense(2, 4, rng=0), NaNInBackward(), Dense(4, 2, rng=1)])
    with pytest.raises(NumericalError, match="a backward produced NaN or infinity.*check_layer"):
        fit(model, softmax_cross_entropy, SGD(0.1), x, y, progress=False)


def test_a_last_step_that_breaks_the_model_still_warns():
    class Sabotage(SGD):                   # trains well, then ruins the model at the very end
        def step(self, params, grads):
            super().step(params, grads)
            self.steps = getattr(self, "steps", 0) + 1
            if self.steps == 70:
                for p in params.values():
                    p *= -30.0

    x, y = moons(200)
    with pytest.warns(RuntimeWarning, match="learned nothing|not yet below"):
        fit(mlp([2, 16, 2], rng=0), softmax_cross_entropy, Sabotage(0.1, momentum=0.9), x, y,
            epochs=10, batch_size=32, rng=0, progress=False)


def test_a_run_that_learns_but_not_enough_is_told_so_not_that_it_learned_nothing():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 2)).astype(np.float32)
    y = (rng.random(400) < 0.05).astype(int)       # 5% positives: a constant is hard to beat
    with pytest.warns(RuntimeWarning, match="the loss fell .* but not yet below"):
        fit(mlp([2, 8, 2], rng=3), softmax_cross_entropy, Adam(1e-3), x, y, epochs=2,
            batch_size=32, rng=0, progress=False)


# --------------------------------------------------------------------------- one protocol for every loss
# fit treats a loss of one's own as it treats the core's: the targets are recognised from their
# own shape and dtype, the loss is tried once on the first batch, and the constant baseline is
# measured by calling the loss itself.


def huber(output, target, delta=1.0):
    """A student's Huber loss, as the README's recipe writes it."""
    r = output - target
    loss = np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)).mean()
    return float(loss), np.clip(r, -delta, delta) / r.size


def curve(n=120):
    x = np.linspace(-2, 2, n, dtype=np.float32)[:, None]
    return x, np.sin(x)


def test_targets_that_would_broadcast_against_a_one_column_output_name_the_loss_and_the_fix():
    x, y = curve()
    with pytest.raises(ValueError, match=r"the loss huber.*gradient of shape \(32, 32\).*"
                                         r"targets has shape \(120,\).*broadcast to \(120, 120\)"
                                         r".*y\.reshape\(120, 1\)"):
        fit(mlp([1, 8, 1], rng=0), huber, SGD(0.01), x, y.ravel(), progress=False)
    with pytest.raises(ValueError, match=r"the loss mse, .*raised ValueError.*broadcast to \(120, 120\)"):
        fit(mlp([1, 8, 1], rng=0), mse, SGD(0.01), x, y.ravel(), progress=False)


def test_integer_targets_of_the_outputs_shape_are_cast_for_a_loss_of_ones_own():
    x, y = moons()
    seen = []

    def counted_huber(output, target):
        seen.append(target.dtype)
        return huber(output, target)

    fit(mlp([2, 8, 2], rng=0), counted_huber, SGD(0.1), x, np.eye(2, dtype=int)[y], epochs=2,
        rng=0, progress=False)
    assert set(seen) == {np.dtype(np.float32)}


def test_a_loss_that_raises_is_named_with_what_the_targets_look_like():
    x, y = moons()

    def my_cross_entropy(logits, labels):
        return softmax_cross_entropy(logits, labels)

    with pytest.raises(ValueError, match=r"the loss my_cross_entropy, called on the first batch.*"
                                         r"raised ValueError.*look one-hot \(200 rows x 2 columns"):
        fit(mlp([2, 4, 2], rng=0), my_cross_entropy, SGD(0.1), x, np.eye(2)[y], progress=False)

    def unfinished(output, target):
        raise NotImplementedError("write the Huber loss")

    with pytest.raises(NotImplementedError, match="the loss unfinished.*write the Huber loss"):
        fit(mlp([2, 4, 2], rng=0), unfinished, SGD(0.1), x, np.eye(2)[y], progress=False)


@pytest.mark.parametrize("returns, said", [
    (lambda out, t: float(np.mean((out - t) ** 2)), r"returned float; a loss returns a pair"),
    (lambda out, t: (np.mean((out - t) ** 2, axis=1), out - t), r"a loss of ndarray .*"
                                                                 r"\(shape \(32,\)\)"),
    (lambda out, t: (0.0, (out - t).T), r"gradient of shape \(2, 32\).*output's shape \(32, 2\)"),
])
def test_a_loss_that_breaks_the_protocol_is_named_before_the_first_step(returns, said):
    x, y = moons()
    with pytest.raises((TypeError, ValueError), match="the loss <lambda>.*" + said):
        fit(mlp([2, 4, 2], rng=0), returns, SGD(0.1), x, np.eye(2, dtype=np.float32)[y],
            progress=False)


def test_labels_are_recognised_from_the_targets_for_a_loss_of_ones_own():
    x, y = moons()
    seen = []

    def my_cross_entropy(logits, labels):
        seen.append(labels.dtype.kind)
        return softmax_cross_entropy(logits, labels)

    with pytest.raises(ValueError, match=r"the loss my_cross_entropy.*label 2 is out of range "
                                         r"for 2 classes"):
        fit(mlp([2, 4, 2], rng=0), my_cross_entropy, SGD(0.1), x, np.where(y == 1, 2, 0),
            progress=False)
    with pytest.warns(RuntimeWarning, match="log of the class frequencies"):   # the baseline
        fit(mlp([2, 4, 2], rng=0), my_cross_entropy, SGD(1e-9), x, y, epochs=1, progress=False)
    assert set(seen) == {"i"}                        # integer labels stay integers


def test_whole_numbers_that_are_no_labels_are_values_for_a_loss_of_ones_own():
    """Per-sample weights of 1 and 2, or whole-number ages beside several outputs, are numbers:
    recognised by their dtype (float), never by their values."""
    x, y = moons()
    weights = np.where(y == 1, 2.0, 1.0)

    def weighted_cross_entropy(logits, labels, w):
        loss, grad = softmax_cross_entropy(logits, labels)
        return loss * float(w.mean()), (grad * w[:, None]).astype(logits.dtype)

    fit(mlp([2, 4, 2], rng=0), weighted_cross_entropy, SGD(0.1), x, (y, weights), epochs=2,
        validation_data=(x, (y, 2 * weights)), progress=False)

    def quantile_loss(output, age):
        r = output - age[:, None]
        return float(np.abs(r).mean()), (np.sign(r) / r.size).astype(output.dtype)

    ages = np.arange(len(x), dtype=np.float64) % 50 + 20
    fit(mlp([2, 4, 3], rng=0), quantile_loss, SGD(0.1), x, ages, epochs=2, progress=False)


def test_the_first_batch_check_leaves_the_callers_targets_and_names_a_wrong_model():
    x, y = moons()
    t = np.eye(2, dtype=np.float32)[y]
    before = t.copy()

    def normalising(output, target):
        target /= target.sum(axis=1, keepdims=True) + 1       # edits its own targets
        return mse(output, target)

    fit(mlp([2, 4, 2], rng=0), normalising, SGD(0.1), x, t, epochs=1, batch_size=len(x),
        progress=False)
    np.testing.assert_array_equal(t[:32], before[:32])
    with pytest.raises(TypeError, match="model must be a scratchnn Sequential, got NoneType"):
        fit(None, mse, SGD(0.1), x, t)


@pytest.mark.parametrize("value", [None, "0.5", 1 + 2j, True])
def test_a_loss_that_is_not_a_real_number_is_named(value):
    x, y = moons()
    with pytest.raises(TypeError, match=r"the loss <lambda>.*returned a loss of .*the loss is one "
                                        r"real number"):
        fit(mlp([2, 4, 2], rng=0), lambda out, t: (value, out - t), SGD(0.1), x,
            np.eye(2, dtype=np.float32)[y], progress=False)


def test_a_column_of_targets_against_several_outputs_warns_and_one_row_batches_are_checked():
    x, y = curve()
    with pytest.warns(RuntimeWarning, match=r"targets has shape \(120, 1\) and the output "
                                            r"\(120, 3\): huber broadcasts one column"):
        fit(mlp([1, 8, 3], rng=0), huber, SGD(0.01), x, y, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"the loss huber.*broadcast to \(120, 120\)"):
        fit(mlp([1, 8, 1], rng=0), huber, SGD(0.01), x, y.ravel(), batch_size=1, progress=False)


def test_a_loss_of_probabilities_gets_no_baseline_it_cannot_take():
    """The baseline for labels predicts their log frequencies: negative, no probabilities. A loss
    that refuses them (or makes NaN of them) gets no baseline, and no crash after training."""
    x, y = moons()

    def chosen_probability_loss(p, labels):
        if (p <= 0).any() or (p >= 1).any():
            raise ValueError("probabilities must lie in (0, 1)")
        rows = np.arange(len(p))
        grad = np.zeros_like(p)
        grad[rows, labels] = -1 / (p[rows, labels] * len(p))
        return float(-np.log(p[rows, labels]).mean()), grad

    from scratchnn import Sigmoid
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(mlp([2, 4, 2], output=Sigmoid, rng=0), chosen_probability_loss, SGD(0.1), x, y,
            epochs=3, progress=False)
