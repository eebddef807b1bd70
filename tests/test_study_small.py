"""The three small studies (McCulloch–Pitts, Adaline, Madaline) and their report side: why a
rule stopped, which error convention matches, choices made on validation, the course's figures
placed by one rule, colours that mean one class, and prose that follows the numbers."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from demos import adaline as adaline_study
from demos import madaline as madaline_study
from demos._common import plt
from demos.harness import adaline, madaline, mcculloch_pitts
from demos.report import SAMPLE
from demos.schema import spread
from scratchnn.adaline import Madaline
from scratchnn.datasets import make_moons

ROOT = Path(__file__).resolve().parents[1]
TINY = {**madaline_study.COURSE, "max_epochs": 5, "mlp_epochs": 1}

# --------------------------------------------------------------------------- Madaline


def fake_madaline(changes, errors, max_epochs=500, tol=1e-3):
    return SimpleNamespace(max_change_=changes, errors_=errors, n_epochs_=len(changes),
                           max_epochs=max_epochs, tol=tol)


@pytest.mark.parametrize("changes, errors, max_epochs, reason", [
    ([0.9, 0.7, 0.8, 0.6], [9, 8, 9, 7], 4, "epoch limit"),
    ([0.9, 0.0, 0.0, 0.0], [9, 0, 0, 0], 500, "converged"),
    ([0.9, 0.0, 0.0, 0.0], [9, 7, 7, 7], 500, "stalled"),
    ([0.9, 1e-4, 0.0, 2e-4], [9, 7, 7, 7], 500, "weight change under tol"),
    ([0.9, 0.0, 0.0, 0.0], [9, 7, 7, 7], 4, "stalled"),          # quiet exactly at the limit
])
def test_madaline_stop_reason(changes, errors, max_epochs, reason):
    assert madaline.stop_reason(fake_madaline(changes, errors, max_epochs)) == reason


def test_madaline_stop_reason_refuses_an_unexplained_stop():
    with pytest.raises(RuntimeError, match="stopping rule changed"):
        madaline.stop_reason(fake_madaline([0.9, 0.8], [9, 9], max_epochs=500))


def test_mrii_on_moons_stalls_rather_than_converges():
    """MRII stops after three epochs with no accepted trial while samples are still wrong:
    the report must call that a stall, and a fit that really ends clean 'converged'."""
    x, y = make_moons(200, 0.2, rng=0)
    t = np.where(y == 1, 1, -1)
    model = Madaline(3, rule="MRII", max_epochs=50, rng=0).fit(x, t)
    reason = madaline.stop_reason(model)
    assert reason == ("converged" if model.errors_[-1] == 0 else "stalled")
    assert reason == "stalled"        # two noisy moons: three half-planes cannot fit them


def test_an_mri_step_on_a_wrong_sample_is_at_least_the_learning_rate():
    """What the report's stopping sentence rests on: whenever a sample is wrong, MRI's largest
    step is at least lr, so with lr > tol three quiet epochs need zero errors."""
    x, y = make_moons(60, 0.2, rng=1)
    t = np.where(y == 1, 1, -1)
    model = Madaline(3, rule="MRI", lr=0.5, max_epochs=1, rng=0).fit(x, t)
    for xi, ti in zip(x, t):
        wrong = model.predict(xi[None])[0] != ti
        change = model.mri_step(xi, ti)
        assert (change >= model.lr) if wrong else change == 0.0


def test_madaline_width_is_chosen_on_validation_not_test():
    d = madaline_study.load_data(TINY, *np.random.SeedSequence(0).spawn(3))
    flipped = {**d, "t_test": -d["t_test"]}          # a test set that disagrees everywhere
    for rule in ("MRI", "MRII"):
        scores, _ = madaline_study.train_and_choose(d, TINY, rule, np.random.SeedSequence(1))
        best_val = max(scores[str(h)]["validation_accuracy"] for h in TINY["hidden"])
        chosen = scores["chosen"]["width"]
        assert scores[str(chosen)]["validation_accuracy"] == best_val
        assert scores["chosen"]["test_accuracy"] == scores[str(chosen)]["test_accuracy"]
        again, _ = madaline_study.train_and_choose(flipped, TINY, rule, np.random.SeedSequence(1))
        assert again["chosen"]["width"] == chosen       # the test set never moves the choice
        assert again["chosen"]["test_accuracy"] == pytest.approx(
            1 - scores["chosen"]["test_accuracy"])


def test_the_harness_adds_a_stop_reason_to_every_reported_model():
    result = madaline.one_seed(TINY, 0)
    for rule in ("mri", "mrii"):
        for h in TINY["hidden"]:
            assert result["numbers"][rule][str(h)]["stop"] in (
                "epoch limit", "converged", "stalled", "weight change under tol")
    assert result["figures"] == []                    # no folder, no figures


def madaline_numbers(stop="epoch limit", fewest=28, test=150, course_sd=0.02, mean=0.86):
    per_width = {"test_accuracy": spread([mean - course_sd, mean + course_sd]),
                 "epochs": spread([500, 500]), "stop": {stop: 2},
                 "final_training_errors": spread([30, 31]),
                 "fewest_training_errors": spread([fewest, fewest + 1])}
    rule = {str(h): per_width for h in madaline.HIDDEN}
    rule["chosen"] = {"width": {"3": 2}, "test_accuracy": spread([0.85, 0.86])}
    return {"seeds": [0, 1], "n_samples": 500, "noise": 0.2, "lr": 0.5, "tol": 1e-3,
            "max_epochs": 500, "mlp_epochs": 300, "mri": rule, "mrii": rule,
            "sizes": {"fit": 280, "validation": 70, "train": 350, "test": test},
            "mlp": {"test_accuracy": spread([0.96, 0.97])}}


def test_madaline_text_follows_the_numbers():
    """The same sentence cannot be printed for a run that stopped and one that ran out."""
    limit = madaline.describe(madaline_numbers("epoch limit", 28))
    assert "fires only at zero training errors" in limit and "(fewest here: 28)" in limit
    assert "the course used this rule too" in limit.lower()
    assert "another rule" not in limit                  # the audit: the course said it used it
    stalled = madaline.describe(madaline_numbers("stalled", 0))
    assert "not convergence" in stalled and "fires only at zero" not in stalled


def test_the_course_accuracies_are_checked_against_this_test_set_size():
    """0.884 and 0.888 are no count of 150 points (even rounded), but are of 250."""
    assert not madaline.fits_test_set(0.884, 150) and not madaline.fits_test_set(0.888, 150)
    assert madaline.fits_test_set(0.88, 150) and madaline.fits_test_set(0.884, 250)
    assert madaline.common_fraction([0.884, 0.888]) == (250, [221, 222])
    text = madaline.describe(madaline_numbers(test=150))
    assert "No count of this run's 150 test points" in text and "221/250" in text
    assert "No count" not in madaline.describe(madaline_numbers(test=250))


def test_one_verdict_rule_for_every_width():
    """The same distance in sd gets the same verdict, whether or not the course's figure lies
    inside the seeds' range (the audit found +1.3 sd called both ways)."""
    inside = spread([0.80, 0.84, 0.90])             # 0.884 lies inside this range
    above = spread([0.80, 0.82, 0.84, 0.86])        # and above this one
    z_in = (0.884 - inside["mean"]) / inside["sd"]
    shifted = {**above, "mean": 0.884 - z_in * above["sd"]}
    assert madaline.seed_verdict(0.884, inside) == madaline.seed_verdict(0.884, shifted)
    assert madaline.seed_verdict(0.884, inside)[1] == "within"
    far = {**above, "mean": 0.884 - 2.5 * above["sd"]}
    assert madaline.seed_verdict(0.884, far) == (2.5, "beyond")
    text = madaline.describe(madaline_numbers(course_sd=0.02, mean=0.86))
    assert "lies within" in text or "lie within" in text
    assert "beyond" not in text.split("\n")[-1]


def test_the_course_final_loss_sits_beside_the_final_training_errors():
    rows = {row.key: row for row in madaline.ROWS}
    for h, course in zip(madaline.HIDDEN, ("≈ 58", "60 to 65", "60 to 65")):
        row = rows[f"mri.{h}.final_training_errors"]
        assert row.course == course and "final loss" in row.label


def test_region_and_dot_colours_mean_the_same_class():
    colours = madaline_study.CLASS_COLOURS
    assert colours[0] != colours[1]
    x, y = make_moons(80, 0.2, rng=0)
    model = Madaline(3, max_epochs=3, rng=0).fit(x, np.where(y == 1, 1, -1))
    fig, ax = plt.subplots()
    madaline_study.draw_regions(ax, model, x, y)
    regions = next(c for c in ax.collections if hasattr(c, "levels"))
    # levels [-2, 0, 2]: the first band is the output -1 (class 0), the second +1 (class 1)
    assert [tuple(c[:3]) for c in regions.get_facecolor()] == [colours[0][:3], colours[1][:3]]
    dots = {c.get_label(): tuple(c.get_facecolor()[0][:3]) for c in ax.collections
            if c.get_label().startswith("class")}
    assert dots == {"class 0": colours[0][:3], "class 1": colours[1][:3]}
    plt.close(fig)


# --------------------------------------------------------------------------- Adaline


def test_adaline_01_convention_is_the_same_unit_rescaled():
    """A least-squares fit on 0/1 targets has exactly a quarter of the +-1 fit's SSE, which
    is why the 0/1 conventions are the +-1 unit's error scaled, not a unit trained again."""
    x, y, _ = adaline_study.load_iris()
    t = np.where(y == 1, 1.0, -1.0)
    x1 = np.column_stack([x, np.ones(len(x))])

    def sse(target):
        r = target - x1 @ np.linalg.lstsq(x1, target, rcond=None)[0]
        return r @ r
    assert sse((t + 1) / 2) == pytest.approx(sse(t) / 4)
    assert adaline.CONVENTIONS["sse_01"][1] == 0.25


def test_adaline_closest_convention():
    errors = {"setosa": {"sse": 12.4, "half_sse": 6.2, "sse_01": 3.1, "half_sse_01": 1.55,
                         "half_sse_raw": 8.0},
              "versicolor": {"sse": 99.0, "half_sse": 49.5, "sse_01": 24.8,
                             "half_sse_01": 12.4, "half_sse_raw": 61.0}}
    assert adaline.closest_convention(errors) == "half_sse"


def test_adaline_stop_reason():
    unit = SimpleNamespace(sse_=[10.0, 9.0, 8.99999], tol=1e-4, n_epochs_=3, epochs=500)
    assert adaline.stop_reason(unit) == "error change under tol"
    unit = SimpleNamespace(sse_=[10.0, 9.0, 8.0], tol=1e-4, n_epochs_=3, epochs=3)
    assert adaline.stop_reason(unit) == "epoch limit"
    unit = SimpleNamespace(sse_=[10.0, 9.0, 8.0], tol=1e-4, n_epochs_=3, epochs=500)
    with pytest.raises(RuntimeError, match="without meeting its tolerance"):
        adaline.stop_reason(unit)


def test_the_floor_sentence_follows_the_numbers():
    numbers = json.loads((SAMPLE / "results.json").read_text())["adaline"]["course"]["numbers"]
    text = adaline.describe(numbers)
    assert "is below the closest convention's least-squares minimum" in text
    numbers["conventions"][numbers["closest_convention"]]["setosa_floor"] = 4.0
    assert "is below" not in adaline.describe(numbers)


# --------------------------------------------------------------------------- all three


def sample_numbers(name):
    return json.loads((SAMPLE / "results.json").read_text())[name]["course"]["numbers"]


@pytest.mark.parametrize("module, name", [(mcculloch_pitts, "mcculloch_pitts"),
                                          (adaline, "adaline"), (madaline, "madaline")])
def test_each_text_opens_in_at_most_four_sentences_and_prints_no_dict(module, name):
    text = module.describe(sample_numbers(name))
    opening = text.split("\n\n")[0]
    assert 1 <= len(re.findall(r"[.!?](?:\s|$)", opening)) <= 4, opening
    assert not re.search(r"[{}]|'\w+': ", text), text        # e.g. {'6': 23, ...}
    assert "sd" not in text or "sd, the standard deviation" in opening


def test_the_mcculloch_pitts_study_runs_on_its_own(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "demos.mcculloch_pitts", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "one_layer_params" in proc.stdout
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["mp_digits.png",
                                                               "mp_other_patterns.png"]
