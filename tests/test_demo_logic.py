"""The demos' reasoning, checked without running a study: why a rule stopped, which error
convention matches, the teacher check, the seed spreads and the schema's formatting."""

import numpy as np
import pytest

from demos import distillation
from demos._common import combine_seeds
from demos.report import STUDIES, table
from demos.schema import NotReported, fmt_value, lookup, spread
from scratchnn import (SGD, Dense, Identity, RandomShift, Sequential, SoftTargetLoss, cosine_schedule,
                       distill_logit_mse, fit, mlp, predict_classes)
from scratchnn import softmax_cross_entropy

# --------------------------------------------------------------------------- distillation


@pytest.fixture()
def teacher_and_data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    teacher = mlp([784, 8, 10], rng=1)
    fit(teacher, softmax_cross_entropy, SGD(lr=0.1), x, y, epochs=1, batch_size=16, rng=0,
        progress=False)
    cfg = {**distillation.PRESETS["course"], "batch": 16}
    return teacher, x, y, cfg


@pytest.mark.parametrize("loss, use_labels", [(distill_logit_mse, False),
                                              (SoftTargetLoss(4.0, 0.9), True)])
def test_teacher_check_passes_when_frozen_and_fails_when_not(teacher_and_data, loss, use_labels):
    teacher, x, y, cfg = teacher_and_data
    labels = y if use_labels else None
    _, unchanged = distillation.distill(mlp([784, 4, 10], rng=2), teacher, loss, x, labels,
                                        cfg, epochs=1, seed=0)
    assert not unchanged, "a trainable teacher handed to the optimizer must move"
    teacher.freeze()
    before = {k: v.copy() for k, v in teacher.state_dict().items()}
    _, unchanged = distillation.distill(mlp([784, 4, 10], rng=2), teacher, loss, x, labels,
                                        cfg, epochs=1, seed=0)
    assert unchanged
    for k, v in teacher.state_dict().items():
        assert np.array_equal(v, before[k])


def test_teacher_in_the_loop_gives_the_precomputed_loss(teacher_and_data):
    teacher, x, y, _ = teacher_and_data
    student = mlp([784, 4, 10], rng=2)
    out = student.forward(x[:16])
    loss = SoftTargetLoss(4.0, 0.9)
    live, g_live = distillation.TeacherInTheLoop(teacher, loss)(out, x[:16], y[:16])
    fixed, g_fixed = loss(out, teacher.predict(x[:16]), y[:16])
    assert live == pytest.approx(fixed, rel=1e-5)
    np.testing.assert_allclose(g_live, g_fixed, rtol=1e-4, atol=1e-7)


def test_the_teacher_in_the_loop_sees_the_students_shifted_images(teacher_and_data):
    teacher, x, y, _ = teacher_and_data
    shift = RandomShift(2)
    shifted = shift(x[:16], np.random.default_rng(3))          # what fit hands the student
    student = mlp([784, 4, 10], rng=2)
    out = student.forward(shifted)
    loss = SoftTargetLoss(4.0, 0.9)
    live, _ = distillation.TeacherInTheLoop(teacher, loss, shift)(out, x[:16], y[:16])
    assert live == pytest.approx(loss(out, teacher.predict(shifted), y[:16])[0], rel=1e-5)
    assert live != pytest.approx(loss(out, teacher.predict(x[:16]), y[:16])[0], rel=1e-5)


def test_a_dropout_teacher_in_the_loop_gives_its_full_deterministic_output(teacher_and_data):
    _, x, y, _ = teacher_and_data
    teacher = mlp([784, 16, 10], dropout=0.5, rng=1).freeze()
    teacher.train()                                 # as fit leaves a model it was given so
    loss = distillation.TeacherInTheLoop(teacher, SoftTargetLoss(4.0, 0.9))
    out = mlp([784, 4, 10], rng=2).forward(x[:16])
    first, second = loss(out, x[:16], y[:16])[0], loss(out, x[:16], y[:16])[0]
    assert first == second == SoftTargetLoss(4.0, 0.9)(out, teacher.predict(x[:16]), y[:16])[0]


def test_the_raised_bias_really_reaches_the_share_in_float32():
    rng = np.random.default_rng(0)
    model = mlp([5, 8, 4], rng=0)
    x = rng.standard_normal((301, 5)).astype(np.float32)
    initial = np.mean(predict_classes(model, x) == 2)
    assert distillation.bias_for_share(model, x, 2, initial / 2) == 0.0   # reached already
    for share in (0.37, 0.5, 0.8):
        assert share > initial
        shift = distillation.bias_for_share(model, x, 2, share)
        raised = distillation.with_raised_bias(model, 2, shift)
        assert raised.layers[-2].params["b"].dtype == np.float32
        assert np.mean(predict_classes(raised, x) == 2) >= share
        lower = distillation.with_raised_bias(model, 2, shift - 1e-3)
        assert np.mean(predict_classes(lower, x) == 2) < share      # and it is the smallest


def test_bias_for_share_by_hand():
    # One output layer whose logits are the inputs: rows (0, 1), (0, 2), (0, 3), (0, 4).
    model = Sequential([Dense(2, 2, rng=0), Identity()])
    model.layers[0].params["W"][...] = np.eye(2)
    x = np.array([[0, 1], [0, 2], [0, 3], [0, 4]], np.float32)
    # Class 0 wins a row once its bias is raised past the row's class-1 logit: half the rows
    # need a raise just above 2, all of them just above 4.
    assert distillation.bias_for_share(model, x, 0, 0.5) == pytest.approx(2.0, abs=1e-6)
    assert distillation.bias_for_share(model, x, 0, 1.0) == pytest.approx(4.0, abs=1e-6)
    assert distillation.bias_for_share(model, x, 1, 0.5) == 0.0


def test_with_teacher_passes_the_schedule_through():
    opt = distillation.WithTeacher(SGD(lr=0.1), mlp([4, 3, 2], rng=0).freeze())
    schedule = cosine_schedule(0.1, 4)
    opt.lr = schedule(2)
    assert opt.optimizer.lr == pytest.approx(0.05) and opt.lr == opt.optimizer.lr


def test_ablations_end_at_the_tuned_presets():
    for module in (distillation,):
        steps = module.ablation_configs()
        assert steps[0][2] == module.PRESETS["course"]
        assert steps[-1][2] == module.PRESETS["tuned"]


# --------------------------------------------------------------------------- seeds and schema


def test_spread_and_its_printing():
    one = spread([0.978])
    assert one["sd"] is None and fmt_value(one, "pct") == "97.80% (one seed)"
    three = spread([0.5, 0.6, 0.7])
    assert three["sd"] == pytest.approx(0.1)
    assert fmt_value(three, "pct") == "60.00% ± 10.00 (50.00%, 60.00%, 70.00%)"
    ten = spread(list(range(10)))
    assert fmt_value(ten, "int") == "4.5 ± 3.0 (0 to 9, 10 seeds)"
    assert fmt_value(spread([500] * 4), "int") == "500 in all 4 seeds"
    with pytest.raises(ValueError):
        spread([1.0, float("nan")])


def test_combine_seeds():
    combined = combine_seeds([{"a": 1.0, "b": {"c": 2}, "s": "x", "ok": True},
                              {"a": 3.0, "b": {"c": 4}, "s": "y", "ok": True}])
    assert combined["a"]["mean"] == 2.0 and combined["b"]["c"]["values"] == [2, 4]
    assert combined["s"] == {"x": 1, "y": 1} and combined["ok"] is True
    with pytest.raises(KeyError):
        combine_seeds([{"a": 1}, {"b": 1}])


def test_a_missing_key_fails_loudly_never_a_dash():
    with pytest.raises(KeyError, match="mri.3.test_accuracy"):
        lookup({"mri": {"5": {}}}, "mri.3.test_accuracy", "madaline")
    with pytest.raises(KeyError, match="one_layer_params"):
        table("mcculloch_pitts", {"course": {"two_layer_params": 28}}, "mnist")


def test_a_value_the_row_cannot_show_fails():
    with pytest.raises(TypeError):
        fmt_value(None, "pct")
    with pytest.raises(TypeError):
        fmt_value("97%", "pct")


def test_every_study_declares_unique_rows_and_honest_course_figures():
    for name, module in STUDIES.items():
        keys = [row.key for row in module.ROWS]
        assert len(keys) == len(set(keys)), name
        for row in module.ROWS:
            assert isinstance(row.course, (NotReported, str, int, float)), (name, row.key)
            for outside in row.outside:
                assert outside.source.conditions and "same machine" not in outside.source.conditions
