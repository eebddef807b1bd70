"""Bad input to the core (layers, losses, optimizers, fit) gets a clear error, never a silent wrong
answer: each call returns a finite, correctly shaped result or raises ValueError / TypeError
(or a subclass) whose message names what was wrong."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from scratchnn import (SGD, Adam, Dense, Dropout, L2Penalty, RandomShift, ReLU, Sequential, Sigmoid,
                       SoftTargetLoss, Tanh, WeightedMSE, accuracy, fit, mlp, mse, softmax_cross_entropy)

CLEAR = (ValueError, TypeError)

weird_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                         st.sampled_from([0.0, 1e-38, -1e-38, 1e30, -1e30]))
weird_dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.uint8, bool, np.complex64, object])


@st.composite
def malformed(draw):
    """An array of any small shape and an awkward dtype, possibly empty, NaN, huge or tiny."""
    shape = draw(array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    dtype = draw(weird_dtypes)
    if dtype is object:
        return np.empty(shape, dtype=object)
    values = draw(arrays(np.float64, shape, elements=weird_floats))
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype) if dtype is not np.complex64 else values.astype(dtype) * 1j


def outcome(call):
    """Run ``call``: a clear error, or a result that is finite. Anything else fails the test."""
    try:
        with np.errstate(all="ignore"):
            result = call()
    except CLEAR as err:
        assert str(err), "an error must say what was wrong"
        return err
    for value in (result if isinstance(result, tuple) else (result,)):
        if isinstance(value, (np.ndarray, float)):
            assert np.all(np.isfinite(value)), f"non-finite result {value!r}"
    return result


@settings(max_examples=60, deadline=None)
@given(malformed())
def test_layers_and_models_on_malformed_input(x):
    model = mlp([4, 3, 2], rng=0)
    result = outcome(lambda: model.predict(x))
    if isinstance(result, np.ndarray):
        assert result.shape == (len(x), 2) and result.dtype == np.float32
    result = outcome(lambda: Dense(4, 2, rng=0).forward(x))
    if isinstance(result, np.ndarray):
        assert result.shape == (len(x), 2)
    for layer in (ReLU(), Tanh(), Sigmoid(), Dropout(0.5, rng=0)):
        # Elementwise: a float array gives a same-shaped result, non-finite only where x is.
        try:
            with np.errstate(all="ignore"):
                out = layer.forward(x)
        except TypeError as err:
            assert "floating-point" in str(err)
            continue
        assert out.shape == x.shape and out.dtype == x.dtype
        assert np.isfinite(out[np.isfinite(x)]).all()


@settings(max_examples=60, deadline=None)
@given(malformed(), malformed())
def test_losses_on_malformed_input(output, target):
    for loss in (mse, WeightedMSE(np.ones(4)), softmax_cross_entropy):
        result = outcome(lambda: loss(output, target))
        if isinstance(result, tuple):
            assert np.isfinite(result[0]) and result[1].shape == output.shape
    result = outcome(lambda: SoftTargetLoss(2.0, 0.5)(output, target, np.zeros(len(np.atleast_1d(output)), int)))
    if isinstance(result, tuple):
        assert result[1].shape == output.shape


def test_integer_logits_are_numbers_not_wrapping_unsigned_integers():
    # found by hypothesis: uint8 logits [0, 1] shifted by their max wrapped to [255, 0]
    logits = np.array([[0, 1], [1, 1]], dtype=np.uint8)
    loss, grad = softmax_cross_entropy(logits, np.array([0, 1]))
    expected = softmax_cross_entropy(logits.astype(np.float64), np.array([0, 1]))
    assert loss == expected[0] and np.array_equal(grad, expected[1])


@settings(max_examples=40, deadline=None)
@given(malformed(), malformed())
def test_fit_and_accuracy_on_malformed_input(x, labels):
    model = mlp([4, 3, 2], rng=0)
    outcome(lambda: fit(model, softmax_cross_entropy, SGD(0.01), x, labels, epochs=1, progress=False))
    result = outcome(lambda: accuracy(model, x, labels))
    if isinstance(result, float):
        assert 0.0 <= result <= 1.0


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(lr=-1), "lr"),
    (lambda: SGD(lr=float("nan")), "lr"),
    (lambda: Adam(lr=0), "lr"),
    (lambda: Adam(eps=-1), "eps"),
    (lambda: SGD(0.1, weight_decay=-0.1), "weight_decay"),
    (lambda: L2Penalty(-1), "beta"),
    (lambda: Dense(0, 3), "widths"),
    (lambda: Dropout(1.0), "dropout"),
    (lambda: RandomShift(-1), "max_shift"),
    (lambda: mlp([4]), "sizes"),
    (lambda: SoftTargetLoss(temperature=0), "temperature"),
])
def test_impossible_settings_are_refused_by_name(make, message):
    with pytest.raises(CLEAR, match=message):
        make()


def test_softmax_cross_entropy_on_one_sample_of_1d_logits_says_how_to_fix():
    with pytest.raises(ValueError, match=r"logits must be a non-empty 2-D array.*logits\[None, :\]"):
        softmax_cross_entropy(np.array([1.0, 2.0]), np.array([1]))


def test_mse_on_empty_arrays_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        mse(np.zeros((0, 3)), np.zeros((0, 3)))


@pytest.mark.parametrize("model", [Sequential([]), Sequential([ReLU(), Tanh()])])
def test_an_empty_or_parameter_free_sequential_is_named(model):
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="Dense"):
        model.predict(x)
    with pytest.raises(ValueError, match="Dense"):
        fit(model, mse, SGD(), x, x, progress=False)


def test_a_frozen_model_cannot_be_fit_silently():
    model = mlp([2, 3, 2], rng=0).freeze()
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(model, softmax_cross_entropy, SGD(), np.ones((4, 2)), np.zeros(4, int), progress=False)


def test_dense_refuses_another_dtype_and_backward_before_forward():
    layer = Dense(3, 2, rng=0)
    with pytest.raises(TypeError, match=r"float32 parameters but got float64 input.*astype"):
        layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="backward called before forward"):
        Dense(3, 2, rng=0).backward(np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="backward called before forward"):
        Tanh().backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"dout has shape \(5, 2\)"):
        layer.backward(np.ones((5, 2), np.float32))


@pytest.mark.parametrize("activation", [ReLU, Tanh, Sigmoid])
def test_editing_an_activations_output_in_place_does_not_change_its_gradient(activation):
    x = np.linspace(-2, 2, 12).reshape(3, 4) + 0.05
    layer = activation()
    out = layer.forward(x)
    expected = layer.backward(np.ones_like(x))
    out *= 100.0                                    # a downstream layer misbehaving
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), expected)


@pytest.mark.filterwarnings("ignore:.*best constant")  # a few epochs: too short to learn
def test_targets_as_a_list_of_arrays_are_several_targets():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    teacher, labels = rng.standard_normal((8, 2)).astype(np.float32), rng.integers(0, 2, 8)
    for targets in ((teacher, labels), [teacher, labels]):
        fit(mlp([3, 4, 2], rng=0), SoftTargetLoss(2.0, 0.5), SGD(0.1), x, targets, epochs=1,
            progress=False)
    # A plain Python list of labels is one target, as before.
    fit(mlp([3, 4, 2], rng=0), softmax_cross_entropy, SGD(0.1), x, labels.tolist(), epochs=1,
        progress=False)


def test_accuracy_refuses_a_column_of_labels_instead_of_averaging_a_grid():
    model = mlp([2, 3, 2], rng=0)
    x = np.ones((4, 2), np.float32)
    labels = model.predict(x).argmax(axis=1)
    assert accuracy(model, x, labels) == 1.0
    with pytest.raises(ValueError, match=r"shape \(4,\).*ravel"):
        accuracy(model, x, labels[:, None])


def test_a_penalty_that_overflows_is_named_as_the_cause():
    x = np.ones((4, 2), np.float32)
    model = mlp([2, 3, 2], rng=0)
    model.layers[0].params["W"][...] = 1e19           # sum of squares overflows float32
    with pytest.raises(FloatingPointError, match=r"epoch 1, step 1.*penalty overflowed"):
        fit(model, softmax_cross_entropy, SGD(1e-30), x, np.zeros(4, int), penalty=L2Penalty(1.0),
            progress=False)


def test_a_weight_broken_by_the_last_update_of_an_epoch_is_caught():
    class Exploding(SGD):
        def step(self, params, grads):
            for p in params.values():
                p[...] = np.nan

    with pytest.raises(FloatingPointError, match=r"parameter 0.W became NaN or infinite at epoch 1"):
        fit(mlp([2, 3, 2], rng=0), softmax_cross_entropy, Exploding(0.1), np.ones((4, 2)),
            np.zeros(4, int), batch_size=4, progress=False)


def test_a_bad_first_loss_points_at_the_data_not_the_learning_rate():
    x = np.full((4, 2), 3e37, np.float32)
    model = mlp([2, 3, 1], rng=0)
    model.layers[0].params["W"][...] = 100.0             # the first layer's output overflows
    with pytest.raises(FloatingPointError, match="before any update.*scale of the inputs"), \
            np.errstate(all="ignore"):
        fit(model, mse, SGD(0.1), x, np.zeros((4, 1)), progress=False)
