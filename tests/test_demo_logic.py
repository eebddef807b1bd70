"""The demos' reasoning, checked without running a study: why a rule stopped, which error
convention matches, the seed spreads and the schema's formatting."""

from types import SimpleNamespace

import numpy as np
import pytest

from demos import adaline, autoencoder_clustering, madaline
from demos._common import combine_seeds
from demos.report import STUDIES, table
from demos.schema import NotReported, fmt_value, lookup, spread
from scratchnn import Adam, fit
from scratchnn import mse
from scratchnn.adaline import Madaline
from scratchnn.autoencoder import build_relu_autoencoder
from scratchnn.datasets import make_moons
from scratchnn.layers import Dropout

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


def test_madaline_width_is_chosen_on_validation_not_test():
    result, _, _ = madaline.one_seed(0, max_epochs=5, mlp_epochs=1)
    for rule in ("mri", "mrii"):
        r = result[rule]
        best_val = max(r[str(h)]["validation_accuracy"] for h in madaline.HIDDEN)
        chosen = r["chosen"]["width"]
        assert r[str(chosen)]["validation_accuracy"] == best_val
        assert r["chosen"]["test_accuracy"] == r[str(chosen)]["test_accuracy"]


def test_madaline_text_follows_the_numbers():
    """The same sentence cannot be printed for a run that stopped and one that ran out."""
    def numbers(stop, fewest):
        per_width = {"test_accuracy": spread([0.85, 0.87]), "epochs": spread([500, 500]),
                     "stop": stop, "final_training_errors": spread([30, 31]),
                     "fewest_training_errors": spread([fewest, fewest + 1])}
        rule = {str(h): per_width for h in madaline.HIDDEN}
        rule["chosen"] = {"width": {"3": 2}, "test_accuracy": spread([0.85, 0.86])}
        return {"seeds": [0, 1], "n_samples": 500, "noise": 0.2, "lr": 0.5, "tol": 1e-3,
                "max_epochs": 500, "mlp_epochs": 300, "mri": rule, "mrii": rule,
                "sizes": {"fit": 280, "validation": 70, "train": 350, "test": 150},
                "mlp": {"test_accuracy": spread([0.96, 0.97])}}
    limit = madaline.describe(numbers({"epoch limit": 2}, 28))
    assert "could not stop before the limit" in limit and "by another rule" in limit
    stalled = madaline.describe(numbers({"stalled": 2}, 0))
    assert "not convergence" in stalled and "could not stop" not in stalled


# --------------------------------------------------------------------------- Adaline


def test_adaline_01_convention_is_the_same_unit_rescaled():
    """A least-squares fit on 0/1 targets has exactly a quarter of the +-1 fit's SSE, which
    is why the 0/1 conventions are the +-1 unit's error scaled, not a unit trained again."""
    x, y, _ = adaline.load_iris()
    t = np.where(y == 1, 1.0, -1.0)
    x1 = np.column_stack([x, np.ones(len(x))])

    def sse(target):
        r = target - x1 @ np.linalg.lstsq(x1, target, rcond=None)[0]
        return r @ r
    assert sse((t + 1) / 2) == pytest.approx(sse(t) / 4)
    assert adaline.CONVENTIONS["sse_01"][1] == 0.25


def test_adaline_closest_convention_and_the_floor_sentence():
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


def clustering_split(n=240, seed=0):
    rng = np.random.default_rng(seed)
    centres = 3 * rng.standard_normal((4, 6))
    parts = {}
    for name in ("train", "validation", "test"):
        y = rng.integers(0, 4, n)
        parts[name] = ((centres[y] + 0.3 * rng.standard_normal((n, 6))).astype(np.float32), y)
    return {k: v[0] for k, v in parts.items()}, {k: v[1] for k, v in parts.items()}


def test_dec_and_idec_each_start_from_the_same_pretrained_autoencoder():
    x, y = clustering_split()
    model = build_relu_autoencoder(sizes=(6, 5, 4), input_dropout=0.2, rng=0)
    before = model.state_dict()
    cfg = dict(autoencoder_clustering.PRESETS["tuned"], update_interval=5, finetune_steps=20,
               n_init=2)
    starts = []
    for kind in autoencoder_clustering.FINETUNING:
        result, pred, ae, dec, info = autoencoder_clustering.finetune(
            kind, model, cfg, x, y, np.random.default_rng(0), verbose=False)
        starts.append(dec.initial_centers_)
        assert not any(isinstance(layer, Dropout) for layer in dec.encoder.layers)  # whole images
        assert (dec.decoder is None) == (kind == "dec")
        assert set(result) == set(x) and info["steps"] >= 1
        for name, p in model.state_dict().items():                  # the original is untouched
            np.testing.assert_array_equal(p, before[name])
        assert any(not np.array_equal(p, before[name]) for name, p in ae.state_dict().items())
    np.testing.assert_array_equal(*starts)          # the same k-means centres for both


def test_dec_and_idec_start_alike_and_a_collapse_is_said(monkeypatch):
    x, y = clustering_split()
    model = build_relu_autoencoder(sizes=(6, 5, 4), rng=0)
    cfg = dict(autoencoder_clustering.PRESETS["tuned"], update_interval=5, finetune_steps=20,
               n_init=2)
    split = {"x_train": x["train"], "y_train": y["train"], "x_val": x["validation"],
             "y_val": y["validation"], "x_test": x["test"], "y_test": y["test"]}
    history = fit(model, mse, Adam(0.01), x["train"], x["train"], epochs=2, batch_size=64, rng=0,
                  progress=False)
    trained = (model, history, None, {"pixel_weights": 0.0, "training": 1.0, "labelled": 0})
    states, original = [], autoencoder_clustering.finetune

    def recording(kind, model, cfg, x, y, rng, verbose, reconstruction, initial_centers):
        states.append((rng.bit_generator.state, initial_centers))
        return original(kind, model, cfg, x, y, rng, verbose, reconstruction, initial_centers)

    monkeypatch.setattr(autoencoder_clustering, "finetune", recording)
    numbers, _ = autoencoder_clustering.measure(cfg, split, np.random.SeedSequence(0), 0, False,
                                                trained=trained)
    # DEC and IDEC get generators in the same state (the same batches) and both start from
    # the k-means clustering of the codes that the study reports as "before".
    assert len(states) == 2 and states[0][0] == states[1][0]
    assert states[0][1] is states[1][1] is not None
    # The tuned preset clusters raw and unit-length codes and reports the one validation prefers.
    tried = numbers["codes_validation_ari"]
    assert set(tried) == set(autoencoder_clustering.CODE_SCALINGS)
    assert numbers["ari"]["encoded"]["validation"] == max(tried.values())
    assert tried[numbers["codes_chosen"]] == max(tried.values())
    # From unit-length codes, DEC starts at the mean raw code of each reported cluster.
    states.clear()
    _, art = autoencoder_clustering.measure({**cfg, "codes": "unit"}, split,
                                            np.random.SeedSequence(0), 0, False, trained=trained)
    means = autoencoder_clustering.cluster_means(model.encode(x["train"]),
                                                 art["predictions"]["encoded"]["train"], 10)
    np.testing.assert_array_equal(states[0][1], means)
    np.testing.assert_array_equal(art["codes"]["test"], model.encode(x["test"]))
    assert numbers["chosen"] in ("DEC", "IDEC")
    chosen = numbers["chosen"].lower()
    assert numbers["ari"]["chosen"]["test"] == numbers["ari"][chosen]["test"]
    assert numbers["ari"][chosen]["validation"] == max(
        numbers["ari"][k]["validation"] for k in autoencoder_clustering.FINETUNING)
    combined = combine_seeds([numbers])
    combined["chosen"] = {combined["chosen"]: 1}
    combined.update(seeds=[0], preset="tuned", dataset="mnist", sizes={"train": 240,
                    "validation": 240, "test": 240}, epochs=1, n_init=2, codes="raw", lr=0.001,
                    lr_decay=True, model="relu", loss="mse", finetune_steps=20, input_dropout=0.0,
                    gain=1 / 3)
    for kind in autoencoder_clustering.FINETUNING:
        combined["finetuning"][kind]["empty_clusters"] = spread([0])
    assert "empty" not in autoencoder_clustering.describe(combined)
    assert "initial weights of variance 0.333 / fan-in" in autoencoder_clustering.describe(combined)
    assert "initial weights" not in autoencoder_clustering.describe({**combined, "gain": None})
    best = {**combined, "codes": "best", "codes_validation_ari": {"raw": spread([0.4]),
                                                                   "unit": spread([0.5])},
            "codes_chosen": {"unit": 1}}
    assert ("keeping whichever scores higher on validation ARI (raw 0.400, unit length 0.500): "
            "scaled to unit length") in autoencoder_clustering.describe(best)
    mixed = {**best, "seeds": [0, 1, 2], "codes_chosen": {"raw": 2, "unit": 1}}
    assert ("means over seeds): as the encoder gives them (2 seeds) or scaled to unit length "
            "(1 seed)") in autoencoder_clustering.describe(mixed)
    combined["finetuning"]["idec"]["empty_clusters"] = spread([7])
    assert "it left 7 of 10 clusters empty" in autoencoder_clustering.describe(combined)


def test_the_fine_tuning_is_chosen_on_validation_never_on_test(monkeypatch):
    x, y = clustering_split()
    split = {"x_train": x["train"], "y_train": y["train"], "x_val": x["validation"],
             "y_val": y["validation"], "x_test": x["test"], "y_test": y["test"]}
    model = build_relu_autoencoder(sizes=(6, 5, 4), rng=0)
    history = fit(model, mse, Adam(0.01), x["train"], x["train"], epochs=1, batch_size=64, rng=0,
                  progress=False)
    trained = (model, history, None, {"pixel_weights": 0.0, "training": 1.0, "labelled": 0})
    # Made-up scores: validation prefers IDEC, training and test prefer DEC.
    made_up = {"dec": {"train": 0.9, "validation": 0.2, "test": 0.9},
               "idec": {"train": 0.1, "validation": 0.3, "test": 0.1}}

    def fake(kind, model, cfg, x, y, rng, verbose, reconstruction=mse, initial_centers=None):
        dec = SimpleNamespace(history=[{"step": 0, "changed": 0.0, "confidence": 0.5}])
        result = {s: {"ari": v, "nmi": v, "accuracy": v} for s, v in made_up[kind].items()}
        info = {"steps": 1, "stopped": "converged", "empty_clusters": 0, "seconds": 0.0}
        return result, {}, model, dec, info

    monkeypatch.setattr(autoencoder_clustering, "finetune", fake)
    cfg = dict(autoencoder_clustering.PRESETS["tuned"], n_init=2)
    numbers, _ = autoencoder_clustering.measure(cfg, split, np.random.SeedSequence(0), 0, False,
                                                trained=trained)
    assert numbers["chosen"] == "IDEC" and numbers["ari"]["chosen"]["test"] == 0.1


def test_the_code_scaling_is_chosen_on_validation_never_on_training(monkeypatch):
    # Made-up scores: training prefers raw codes, validation prefers unit length.
    made_up = {"raw": {"train": 0.9, "validation": 0.2}, "unit": {"train": 0.1, "validation": 0.3}}

    def fake(features, y, n_init, seed, splits):
        how = "unit" if np.allclose(np.linalg.norm(features["train"], axis=1), 1) else "raw"
        return ({s: {"ari": made_up[how][s]} for s in splits}, {}, 0.0, how)

    monkeypatch.setattr(autoencoder_clustering, "cluster", fake)
    codes = {s: np.random.default_rng(0).normal(size=(20, 3)) * 5 for s in ("train", "validation")}
    scaling, fits = autoencoder_clustering.cluster_codes(
        codes, {}, {"codes": "best", "n_init": 1}, 0, ("train", "validation"))
    assert scaling == "unit" and fits["unit"][3] == "unit" and fits["raw"][3] == "raw"


def test_raw_or_unit_codes_each_win_where_their_geometry_separates_the_classes():
    rng = np.random.default_rng(0)

    def codes(n, by_direction):
        # Ten classes (the study's k): told apart by direction (lengths spread wide), or by
        # length alone (all in one narrow direction).
        y = rng.integers(0, 10, n)
        if by_direction:
            angle = 2 * np.pi * y / 10 + rng.normal(0, 0.03, n)
            length = rng.uniform(0.5, 20, n)
        else:
            angle = rng.uniform(0, 0.05, n)
            length = 1.0 + y + rng.normal(0, 0.05, n)
        return (length[:, None] * np.c_[np.cos(angle), np.sin(angle)]).astype(np.float32), y

    for by_direction, expected in ((True, "unit"), (False, "raw")):
        (ct, yt), (cv, yv) = codes(400, by_direction), codes(200, by_direction)
        scaling, fits = autoencoder_clustering.cluster_codes(
            {"train": ct, "validation": cv}, {"train": yt, "validation": yv},
            {"codes": "best", "n_init": 3}, 0, ("train", "validation"))
        assert set(fits) == {"raw", "unit"} and scaling == expected
        assert fits[expected][0]["validation"]["ari"] > 0.9 > fits[
            {"raw": "unit", "unit": "raw"}[expected]][0]["validation"]["ari"]
        only, fits = autoencoder_clustering.cluster_codes(
            {"train": ct, "validation": cv}, {"train": yt, "validation": yv},
            {"codes": "raw", "n_init": 3}, 0, ("train", "validation"))
        assert only == "raw" and set(fits) == {"raw"}


def test_cluster_means():
    codes = np.array([[0.0, 1.0], [2.0, 3.0], [10.0, 10.0]], np.float32)
    means = autoencoder_clustering.cluster_means(codes, np.array([1, 1, 0]), 2)
    np.testing.assert_allclose(means, [[10, 10], [1, 2]])
    assert means.dtype == np.float32
    with pytest.raises(ValueError, match="cluster 2 of 3 is empty"):
        autoencoder_clustering.cluster_means(codes, np.array([1, 1, 0]), 3)


def test_ablations_end_at_the_tuned_presets():
    for module in (autoencoder_clustering,):
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
