"""The distillation study: the loop a student reads (demos/distillation.py) and the numbers and
prose of its report (demos/harness/distillation.py), each on tiny data, never on MNIST."""

import re

import numpy as np
import pytest

import demos.distillation as kd
from demos.harness import distillation as harness
from demos.report import table
from demos.schema import spread
from scratchnn import (SGD, Dense, Identity, RandomShift, Sequential, SoftTargetLoss,
                       cosine_schedule, distill_logit_mse, fit, mlp, predict_classes,
                       softmax_cross_entropy, train_step)

# Random images teach nothing; fit's "learned nothing" warning is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*learned nothing:RuntimeWarning")
SMALL = {**kd.COURSE, "batch": 16, "teacher_epochs": 1, "student_epochs": 2}


@pytest.fixture()
def teacher_and_data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    teacher = mlp([784, 8, 10], rng=1)
    fit(teacher, softmax_cross_entropy, SGD(lr=0.1), x, y, epochs=1, batch_size=16, rng=0,
        progress=False)
    return teacher, x, y


def tiny_mnist(n_train=120, n_test=40, seed=0):
    """A dict shaped like load_mnist's, of random images (what the study needs, not MNIST)."""
    rng = np.random.default_rng(seed)
    return {"train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "train_labels": np.arange(n_train) % 10,
            "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "test_labels": rng.integers(0, 10, n_test),
            "class_names": tuple(str(k) for k in range(10))}


def recording(model, seen):
    """Wrap ``model.forward`` so that each batch it trains on (training mode) is kept."""
    forward = model.forward

    def wrapped(x):
        if model.training:
            seen.append(x.copy())
        return forward(x)

    model.forward = wrapped
    return model


# --------------------------------------------------------------------------- the loop


def test_teacher_and_student_see_the_same_shifted_batch_which_fit_would_draw(teacher_and_data):
    teacher, x, y = teacher_and_data
    settings, batches = {**SMALL, "jitter": 2}, np.random.SeedSequence(7)
    seen, teacher_logits = [], []

    def recording_loss(student_logits, logits, labels):
        teacher_logits.append(logits.copy())
        return SoftTargetLoss(4.0, 0.9)(student_logits, logits, labels)

    student = recording(mlp([784, 4, 10], rng=2), seen)
    kd.distill(student, teacher, recording_loss, x, y, settings, 0.01, batches, verbose=False)
    assert len(seen) == len(teacher_logits) == 2 * 64 // 16
    for xb, logits in zip(seen, teacher_logits):        # the teacher saw what the student saw
        np.testing.assert_array_equal(teacher.predict(xb), logits)
    originals = {row.tobytes() for row in x}
    moved = sum(row.tobytes() not in originals for xb in seen for row in xb)
    assert moved > len(x)                               # the batches were shifted
    # ... and they are the very batches fit draws from the same stream for the plain student
    by_fit = []
    fit(recording(mlp([784, 4, 10], rng=2), by_fit), softmax_cross_entropy, SGD(0.01), x, y,
        epochs=2, batch_size=16, rng=batches, augment=RandomShift(2), progress=False)
    assert len(by_fit) == len(seen)
    for a, b in zip(by_fit, seen):
        np.testing.assert_array_equal(a, b)


def test_a_dropout_teacher_gives_its_full_deterministic_output(teacher_and_data):
    _, x, y = teacher_and_data
    teacher = mlp([784, 16, 10], dropout=0.5, rng=1)
    teacher.train()                                     # as fit leaves a model it was given so
    seen, teacher_logits = [], []

    def recording_loss(student_logits, logits, labels):
        teacher_logits.append(logits.copy())
        return SoftTargetLoss(4.0, 0.9)(student_logits, logits, labels)

    kd.distill(recording(mlp([784, 4, 10], rng=2), seen), teacher, recording_loss, x, y, SMALL,
               0.01, np.random.SeedSequence(0), verbose=False)
    teacher.eval()
    for xb, logits in zip(seen, teacher_logits):
        np.testing.assert_array_equal(teacher.forward(xb), logits)      # no unit dropped


@pytest.mark.parametrize("loss, use_labels", [(distill_logit_mse, False),
                                              (SoftTargetLoss(4.0, 0.9), True)])
def test_the_teacher_check_passes_when_unchanged_and_fails_when_it_moved(teacher_and_data, loss,
                                                                         use_labels):
    teacher, x, y = teacher_and_data
    before = teacher.state_dict()
    kd.distill(mlp([784, 4, 10], rng=2), teacher, loss, x, y if use_labels else None, SMALL, 0.01,
               np.random.SeedSequence(0), verbose=False)
    assert kd.same_arrays(before, teacher.state_dict())
    train_step(teacher, softmax_cross_entropy, SGD(0.1), x[:16], y[:16])   # a teacher that moves
    assert not kd.same_arrays(before, teacher.state_dict())
    # bit for bit: -0.0 and 0.0 compare equal as numbers, not as bits
    assert not kd.same_arrays({"b": np.zeros(2, np.float32)}, {"b": -np.zeros(2, np.float32)})


def test_the_study_reports_a_teacher_that_changed(monkeypatch):
    train_students = kd.train_students

    def and_train_the_teacher(settings, split, teacher, *args, **kwargs):
        result = train_students(settings, split, teacher, *args, **kwargs)
        train_step(teacher, softmax_cross_entropy, SGD(0.1), split["x_train"][:8],
                   split["y_train"][:8])
        return result

    numbers, _ = kd.study(SMALL, 0, data=tiny_mnist(), quick=True, figures=False, verbose=False)
    assert numbers["teacher_unchanged_by_distillation"] is True
    monkeypatch.setattr(kd, "train_students", and_train_the_teacher)
    numbers, _ = kd.study(SMALL, 0, data=tiny_mnist(), quick=True, figures=False, verbose=False)
    assert numbers["teacher_unchanged_by_distillation"] is False


def test_the_cosine_rate_is_set_once_per_epoch(teacher_and_data, monkeypatch):
    teacher, x, y = teacher_and_data
    rates = []

    class RecordingSGD(SGD):
        def step(self, params, grads):
            rates.append(self.lr)
            super().step(params, grads)

    monkeypatch.setattr(kd, "SGD", RecordingSGD)
    settings = {**SMALL, "cosine": True, "student_epochs": 3}
    kd.distill(mlp([784, 4, 10], rng=2), teacher, distill_logit_mse, x, None, settings, 0.05,
               np.random.SeedSequence(0), verbose=False)
    schedule = cosine_schedule(0.05, 3)
    assert rates == pytest.approx([schedule(e) for e in range(3) for _ in range(64 // 16)])


# --------------------------------------------------------------------------- choices


def test_the_distilled_student_is_chosen_on_validation_never_on_test():
    numbers = {"student_kd_mse": {"validation_accuracy": 0.90, "test_accuracy": 0.80},
               "student_kd_soft": {"validation_accuracy": 0.85, "test_accuracy": 0.99}}
    assert kd.choose_distilled(numbers) == "student_kd_mse"
    numbers["student_kd_soft"]["validation_accuracy"] = 0.90        # a tie: the first listed
    assert kd.choose_distilled(numbers) == "student_kd_mse"
    # in the study: the choice follows the validation accuracies it reports
    numbers, _ = kd.study(SMALL, 1, data=tiny_mnist(), quick=True, figures=False, verbose=False)
    best = numbers["best_distilled"]["chosen"]
    assert best == kd.choose_distilled(numbers)
    assert numbers["best_distilled"]["test_accuracy"] == numbers[best]["test_accuracy"]


def test_the_raised_bias_really_reaches_the_share_in_float32():
    rng = np.random.default_rng(0)
    model = mlp([5, 8, 4], rng=0)
    x = rng.standard_normal((301, 5)).astype(np.float32)
    initial = np.mean(predict_classes(model, x) == 2)
    assert harness.bias_for_share(model, x, 2, initial / 2) == 0.0   # reached already
    for share in (0.37, 0.5, 0.8):
        assert share > initial
        shift = harness.bias_for_share(model, x, 2, share)
        raised = harness.with_raised_bias(model, 2, shift)
        assert raised.layers[-2].params["b"].dtype == np.float32
        assert np.mean(predict_classes(raised, x) == 2) >= share
        lower = harness.with_raised_bias(model, 2, shift - 1e-3)
        assert np.mean(predict_classes(lower, x) == 2) < share      # and it is the smallest


def test_bias_for_share_by_hand():
    # One output layer whose logits are the inputs: rows (0, 1), (0, 2), (0, 3), (0, 4).
    model = Sequential([Dense(2, 2, rng=0), Identity()])
    model.layers[0].params["W"][...] = np.eye(2)
    x = np.array([[0, 1], [0, 2], [0, 3], [0, 4]], np.float32)
    # Class 0 wins a row once its bias is raised past the row's class-1 logit: half the rows
    # need a raise just above 2, all of them just above 4.
    assert harness.bias_for_share(model, x, 0, 0.5) == pytest.approx(2.0, abs=1e-6)
    assert harness.bias_for_share(model, x, 0, 1.0) == pytest.approx(4.0, abs=1e-6)
    assert harness.bias_for_share(model, x, 1, 0.5) == 0.0


def test_the_ablation_ends_at_the_tuned_preset():
    steps = harness.ablation_configs()
    assert steps[0][2] == harness.PRESETS["course"] == kd.COURSE
    assert steps[-1][2] == harness.PRESETS["tuned"]


# --------------------------------------------------------------------------- the report


def set_key(numbers, key, value):
    *path, last = key.split(".")
    for part in path:
        numbers = numbers.setdefault(part, {})
    numbers[last] = value


def made_up_numbers(preset="tuned", plain=(0.9874, 0.9896), chosen=(0.9862, 0.9883),
                    unchanged=None, seeds=(0,)):
    """Numbers of the study's schema: the plain student's and the chosen (soft-target)
    student's (validation, test) accuracies as given, every other row a placeholder."""
    n = {}
    for row in harness.rows_for(preset):
        value = {"pct": spread([0.95] * len(seeds)), "counts": {"x": len(seeds)}}.get(
            row.fmt, spread([5.0] * len(seeds)))
        set_key(n, row.key, value)
    for key, (val, test) in (("student", plain), ("student_kd_soft", chosen)):
        n[key]["validation_accuracy"] = spread([val] * len(seeds))
        n[key]["test_accuracy"] = spread([test] * len(seeds))
    n["student_kd_mse"]["validation_accuracy"] = spread([min(chosen) - 0.01] * len(seeds))
    n["best_distilled"] = {"chosen": {"distilled (soft targets)": len(seeds)},
                           "test_accuracy": n["student_kd_soft"]["test_accuracy"]}
    n["teacher_unchanged_by_distillation"] = unchanged or {"yes": len(seeds)}
    n.update(rescued_by_distillation=spread([41] * len(seeds)),
             broken_by_distillation=spread([54] * len(seeds)), seeds=list(seeds), preset=preset,
             dataset="mnist", sizes={"train": 55000, "validation": 5000, "test": 10000},
             settings=dict(harness.PRESETS[preset]),
             distillation={"temperature": kd.TEMPERATURE, "alpha": kd.ALPHA})
    if "omitted" in n:
        n["omitted"].update(class_name="3", digit=spread([3] * len(seeds)))
        for key in ("plain", "distilled", "corrected"):
            n["omitted"][key]["validation_share"] = spread([0.1] * len(seeds))
        n["omitted"]["digit_test_images"] = spread([1010] * len(seeds))
        n["omitted"]["prior_share"] = spread([0.1] * len(seeds))
    return n


def opening(text):
    return text.split("\n\n")[0]


def sentences(paragraph):
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph)


def test_the_opening_says_when_the_plain_student_beats_the_chosen_one():
    # The audit's numbers: the plain student better on validation and on test.
    first = opening(harness.describe(made_up_numbers()))
    assert len(sentences(first)) <= 4
    assert "did not help" in first
    assert "validation images (plain 98.74%, distilled 98.62%)" in first
    assert "test images (plain 98.96%, distilled 98.83%)" in first
    # the other way round
    first = opening(harness.describe(made_up_numbers(plain=(0.96, 0.962), chosen=(0.97, 0.971))))
    assert "Imitating the teacher helped" in first and "(distilled 97.10%, plain 96.20%)" in first
    # the two sets disagree: both said, neither hidden
    first = opening(harness.describe(made_up_numbers(plain=(0.96, 0.975), chosen=(0.97, 0.971))))
    assert "depends on the images" in first
    assert "on the validation images the chosen distilled student is better" in first
    assert "on the test images the student trained on the labels alone is better" in first


def test_the_text_states_every_setting_of_the_preset_and_defines_its_terms():
    text = harness.describe(made_up_numbers("tuned"))
    for said in ("Nesterov momentum 0.9", "batch 64", "learning rate 0.05, decayed along a cosine",
                 "weight decay 5e-05", "the teacher 30 epochs, the students 40",
                 "copies the logits at rate 0.01", "dropout 0.3", "up to 2 in each direction",
                 "T (here 4)", "alpha = 0.9"):
        assert said in text, said
    course = harness.describe(made_up_numbers("course"))
    for said in ("no momentum", "constant learning rate of 0.01", "no weight decay", "batch 32",
                 "the teacher 20 epochs, the students 10", "no dropout", "no image shifted"):
        assert said in course, said
    for term in ("Knowledge distillation trains", "logits are its ten outputs", "temperature T",
                 "soft targets say"):
        assert term in text, term
    assert "Omitted class" in text and "Omitted class" not in course
    assert "none is chosen on them" in text


def test_a_teacher_that_changed_is_said_loudly():
    text = harness.describe(made_up_numbers(unchanged={"yes": 1, "NO, it changed": 1},
                                            seeds=(0, 1)))
    assert "CHANGED by distillation" in text


def test_each_preset_lists_the_rows_it_measures_and_the_table_shows_the_rest_as_a_dash():
    course_keys = {row.key for row in harness.rows_for("course")}
    assert not any(key.startswith("omitted.") for key in course_keys)
    assert harness.rows_for("tuned") == harness.ROWS
    course, tuned = made_up_numbers("course"), made_up_numbers("tuned")
    lines, _ = table("distillation", {"course": course, "tuned": tuned}, "mnist")
    omitted = [line for line in lines.splitlines() if "omitted class" in line]
    assert len(omitted) == len(harness.OMITTED_ROWS)
    assert all(line.split(" | ")[1] == "not run" != line.split(" | ")[2] for line in omitted)
    del tuned["omitted"]["bias_shift"]          # a row the preset lists and lacks: loud
    with pytest.raises(KeyError, match="omitted.bias_shift"):
        table("distillation", {"course": course, "tuned": tuned}, "mnist")


def test_captions_name_the_preset_and_the_seed():
    files = {"teacher_loss": "t.png", "student_losses": "s.png", "confusion": "c.png",
             "rescued": "r.png", "omitted": "o.png"}
    for preset, words in (("course", "course settings, seed 3"), ("tuned", "tuned preset, seed 3")):
        for _, caption in harness.captions(files, preset, False, 3, "student_kd_soft", "digit", "3"):
            assert words in caption


def test_a_student_of_other_widths_is_trained_named_by_them_and_not_set_beside_the_course():
    """A teacher who changes the student's widths in the settings gets that student, and a
    report whose labels and sentences say so; the course's figures for its own student are
    shown as the course's, never as a figure to compare with."""
    narrow = {**SMALL, "student": (784, 16, 10)}
    _, art = kd.study(narrow, 0, data=tiny_mnist(), quick=True, figures=False, verbose=False)
    for key in kd.STUDENTS:
        assert [layer.n_out for layer in art["models"][key].layers if hasattr(layer, "n_out")] \
            == [16, 10]
    n = made_up_numbers("course", seeds=(0, 1))
    n["settings"]["student"] = [784, 256, 10]          # as results.json stores it
    lines = table("distillation", {"course": n}, "mnist")[0].splitlines()

    def row(label):
        return next(line for line in lines if label in line)

    assert row("from the labels: test accuracy").startswith(
        "| student 784-256-10, from the labels: test accuracy | ")
    assert "| 94.91% (the course's, for its student 784-128-64-10) |" in row("student 784-256-10")
    assert "| 96.88% (the course's, for its student 784-128-64-10) |" in row("(MSE): test accuracy")
    assert row("teacher 784-1024-512-10: test accuracy").count("| 97.33% |") == 1   # it compares
    text = harness.describe(n)
    assert "the student (784-256-10) trained on the labels alone" in text
    assert "every student 784-256-10" in text
    assert "the course's figure, 94.91%, is for its own student, 784-128-64-10, not this one" in text
    assert "the course: 94.91%" not in text
    assert "teacher (course 97.33%" in text and "student from the labels (course" not in text


def test_with_both_widths_changed_each_course_figure_names_its_own_network():
    n = made_up_numbers("course")
    n["settings"]["teacher"], n["settings"]["student"] = [784, 800, 10], [784, 256, 10]
    first = opening(harness.describe(n))
    assert "the course's figure, 97.33%, is for its own teacher, 784-1024-512-10" in first
    assert "the course's figure, 94.91%, is for its own student, 784-128-64-10" in first
    assert "the course's figure, 96.88%, is for its own student, 784-128-64-10" in first
