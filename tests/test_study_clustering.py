"""The clustering study's reasoning, checked on tiny made-up data: choices on validation,
DEC and IDEC from the same start, the course's settings ending at k-means, and the prose."""

from types import SimpleNamespace

import numpy as np
import pytest

from demos import autoencoder_clustering as study
from demos._common import plt
from demos.harness import autoencoder_clustering as harness
from demos.report import table
from demos.schema import spread
from scratchnn import Dropout, Sequential, mse
from scratchnn.autoencoder import build_relu_autoencoder
from scratchnn.cluster import cluster_means

SPLITS = ("train", "validation", "test")
TINY_FINETUNE = dict(methods=("dec", "idec"), max_steps=20, update_interval=5)


def clustering_split(n=240, seed=0):
    """Four well-separated blobs in 6 dimensions, as x and y dicts by split."""
    rng = np.random.default_rng(seed)
    centres = 3 * rng.standard_normal((4, 6))
    x, y = {}, {}
    for name in SPLITS:
        y[name] = rng.integers(0, 4, n)
        x[name] = (centres[y[name]] + 0.3 * rng.standard_normal((n, 6))).astype(np.float32)
    return x, y


def streams(seed=0):
    return dict(zip(("labelled", "model", "kmeans", "finetuning"),
                    np.random.SeedSequence(seed).spawn(4)))


@pytest.fixture
def tiny_study(monkeypatch):
    """study() on the blobs with a 6-5-4 relu autoencoder: the real pipeline, tiny."""
    x, y = clustering_split()
    monkeypatch.setattr(study, "load_data", lambda data, seed, quick: (x, y, streams(seed)))
    monkeypatch.setattr(study, "build_model", lambda settings, rng: build_relu_autoencoder(
        sizes=(6, 5, 4), input_dropout=settings["input_dropout"], rng=rng))
    settings = dict(harness.PRESETS["tuned"], epochs=2, n_init=2, finetune=TINY_FINETUNE)

    def run(**changes):
        return study.study({**settings, **changes}, 0, out=None, data={"class_names": "0123"},
                           verbose=False)
    return x, y, run


def test_dec_and_idec_each_start_from_the_same_pretrained_autoencoder():
    x, _ = clustering_split()
    model = build_relu_autoencoder(sizes=(6, 5, 4), input_dropout=0.2, rng=0)
    before = model.state_dict()
    centers = model.encode(x["train"][:10])
    settings = dict(harness.PRESETS["tuned"], finetune=TINY_FINETUNE)
    for kind in ("dec", "idec"):
        dec = study.finetune(kind, model, centers, x["train"], settings, mse,
                             np.random.SeedSequence(0), verbose=False)
        assert not any(isinstance(layer, Dropout) for layer in dec.encoder.layers)  # whole images
        assert (dec.decoder is None) == (kind == "dec") and dec.n_steps_ >= 1
        np.testing.assert_array_equal(dec.initial_centers_, centers)
        for name, p in model.state_dict().items():                  # the original is untouched
            np.testing.assert_array_equal(p, before[name])
        original = Sequential([layer for layer in model.encoder().layers
                               if not isinstance(layer, Dropout)]).state_dict()
        tuned = dec.encoder.state_dict()                             # while the copy moved
        assert tuned.keys() == original.keys()
        assert any(not np.array_equal(tuned[k], original[k]) for k in tuned)


def test_decs_rate_is_the_papers_unless_the_settings_give_one():
    x, _ = clustering_split()
    model = build_relu_autoencoder(sizes=(6, 5, 4), rng=0)
    centers = model.encode(x["train"][:10])
    rates = {}
    for kind, spec in (("dec", {}), ("dec", {"dec_lr": 0.05}), ("idec", {"dec_lr": 0.05})):
        settings = {"finetune": {**TINY_FINETUNE, **spec}}
        dec = study.finetune(kind, model, centers, x["train"], settings, mse,
                             np.random.SeedSequence(0), verbose=False)
        rates[kind, bool(spec)] = (type(dec.optimizer).__name__, dec.optimizer.lr)
    assert rates == {("dec", False): ("SGD", 0.01), ("dec", True): ("SGD", 0.05),
                     ("idec", True): ("Adam", 0.001)}      # dec_lr is DEC's alone


def test_dec_and_idec_start_alike_from_the_reported_clustering(tiny_study, monkeypatch):
    x, y, run = tiny_study
    calls, original = [], study.finetune

    def recording(kind, model, centers, x_train, settings, reconstruction, seq, verbose=True,
                  **kwargs):
        calls.append((kind, seq, centers))
        return original(kind, model, centers, x_train, settings, reconstruction, seq, verbose,
                        **kwargs)

    monkeypatch.setattr(study, "finetune", recording)
    n, _ = run()
    # DEC and IDEC get the same stream (the same batches) and the same start: the k-means
    # clustering of the codes that the study reports as "before".
    assert [c[0] for c in calls] == ["dec", "idec"]
    assert calls[0][1] is calls[1][1] and calls[0][2] is calls[1][2] is not None
    # The tuned preset clusters raw and unit-length codes and reports the one validation prefers.
    tried = n["codes_validation_ari"]
    assert set(tried) == {"raw", "unit"}
    assert n["encoded"]["validation"]["ari"] == max(tried.values()) == tried[n["codes_chosen"]]
    assert n["chosen"] in ("dec", "idec")
    assert n[n["chosen"]]["validation"]["ari"] == max(n[k]["validation"]["ari"]
                                                       for k in ("dec", "idec"))
    assert calls[0][2].shape == (10, 4)               # 10 centres in the 4-d code space
    numbers = harness.result_numbers(n, harness.PRESETS["tuned"], len(y["train"]), 1.0)
    assert numbers["chosen"] == n["chosen"].upper()
    assert numbers["ari"]["chosen"]["test"] == numbers["ari"][n["chosen"]]["test"]


def test_from_unit_codes_dec_starts_at_the_mean_code_of_each_reported_cluster(monkeypatch):
    x, y = clustering_split()
    seen = {}
    model = build_relu_autoencoder(sizes=(6, 5, 4), rng=0)
    monkeypatch.setattr(study, "load_data", lambda data, seed, quick: (x, y, streams(seed)))
    monkeypatch.setattr(study, "build_model", lambda settings, rng: model)
    monkeypatch.setattr(study, "train", lambda *args, **kwargs: SimpleNamespace(
        seconds=0.0, epoch_loss=[1.0]))

    def recording(kind, model, centers, *args, **kwargs):
        seen[kind] = centers
        raise StopIteration         # the start is all this test needs

    monkeypatch.setattr(study, "finetune", recording)
    settings = dict(harness.PRESETS["tuned"], codes="unit", n_init=2, finetune=TINY_FINETUNE)
    with pytest.raises(StopIteration):
        study.study(settings, 0, out=None, data={"class_names": "0123"}, verbose=False)
    codes = {s: model.encode(v) for s, v in x.items()}
    _, fits = study.cluster_codes(codes, y, settings, streams(0)["kmeans"])
    km = fits["unit"][0]
    np.testing.assert_array_equal(seen["dec"], cluster_means(codes["train"], km.labels_, 10))


def fake_dec(train_labels, predict):
    return SimpleNamespace(labels_=train_labels, predict=predict, n_steps_=1, empty_clusters_=0,
                           converged_=True, tol=0.001, optimizer=SimpleNamespace(lr=0.01),
                           history=[{"step": 1, "changed": 0.0, "validation_ari": 0.5}])


def test_the_fine_tuning_figure_draws_the_tolerance_that_stops_dec(monkeypatch):
    drawn = {}
    monkeypatch.setattr(study, "save", lambda fig, out, name: drawn.setdefault("fig", fig))
    dec = fake_dec(None, None)
    dec.tol = 0.02                  # 2%: not the default 0.1% that a constant line would show
    study.plot_finetuning({"DEC": dec}, "unused", "tag")
    line = next(line for line in drawn["fig"].axes[0].lines
                if line.get_label().startswith("stopping tolerance"))
    plt.close(drawn["fig"])         # save(), which closes it, was replaced above
    assert np.allclose(line.get_ydata(), 2.0) and line.get_label() == "stopping tolerance (2%)"


def test_the_fine_tuning_is_chosen_on_validation_never_on_test(tiny_study, monkeypatch):
    x, y, run = tiny_study
    # Made-up clusterings: DEC is perfect on training and test and chance on validation;
    # IDEC the other way round. Validation must choose IDEC, and its test score is reported.
    nothing = np.zeros(len(y["test"]), int)

    def fake(kind, model, centers, x_train, *args, **kwargs):
        if kind == "dec":
            return fake_dec(y["train"], lambda v: y["test"] if v is x["test"] else nothing)
        return fake_dec(nothing, lambda v: y["validation"] if v is x["validation"] else nothing)

    monkeypatch.setattr(study, "finetune", fake)
    n, _ = run()
    assert n["chosen"] == "idec" and n["idec"]["test"]["ari"] == 0.0
    numbers = harness.result_numbers(n, harness.PRESETS["tuned"], len(y["train"]), 1.0)
    assert numbers["chosen"] == "IDEC" and numbers["ari"]["chosen"]["test"] == 0.0


def test_the_code_scaling_is_chosen_on_validation_never_on_training(monkeypatch):
    # Made-up scores: training prefers raw codes, validation prefers unit length.
    made_up = {"raw": {"train": 0.9, "validation": 0.2}, "unit": {"train": 0.1, "validation": 0.3}}

    def fake(fitted, features, y):
        how = "unit" if np.allclose(np.linalg.norm(features["train"], axis=1), 1) else "raw"
        return {s: {"ari": made_up[how][s]} for s in features}, how

    monkeypatch.setattr(study, "evaluate", fake)
    codes = {s: np.random.default_rng(0).normal(size=(20, 3)) * 5 for s in ("train", "validation")}
    scaling, fits = study.cluster_codes(codes, {}, {"codes": "best", "n_init": 1}, 0)
    assert scaling == "unit" and fits["unit"][2] == "unit" and fits["raw"][2] == "raw"


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
        features, labels = {"train": ct, "validation": cv}, {"train": yt, "validation": yv}
        scaling, fits = study.cluster_codes(features, labels, {"codes": "best", "n_init": 3}, 0)
        other = {"raw": "unit", "unit": "raw"}[expected]
        assert set(fits) == {"raw", "unit"} and scaling == expected
        assert fits[expected][1]["validation"]["ari"] > 0.9 > fits[other][1]["validation"]["ari"]
        only, fits = study.cluster_codes(features, labels, {"codes": "raw", "n_init": 3}, 0)
        assert only == "raw" and set(fits) == {"raw"}


def test_the_ablation_ends_at_the_tuned_preset():
    steps = harness.ablation_configs()
    assert steps[0][2] == harness.PRESETS["course"] == study.COURSE
    # The ablation scores k-means on the codes: the tuned preset without its fine-tuning, then
    # each candidate as one change on top of it.
    last = len(harness.ABLATION) - 1
    assert steps[last][2] == {**harness.PRESETS["tuned"], "finetune": None}
    for (key, _, change), step in zip(harness.CANDIDATES, steps[last + 1:]):
        assert step[0] == key and step[2] == {**steps[last][2], **change} != steps[last][2]
    assert len(steps) == len(harness.ABLATION) + len(harness.CANDIDATES)


def test_the_course_settings_stop_at_kmeans_and_the_table_says_not_run(tiny_study):
    _, y, run = tiny_study
    assert study.COURSE["finetune"] is None and harness.PRESETS["tuned"]["finetune"]
    n, _ = run(finetune=None)
    assert not {"dec", "idec", "chosen", "finetuning"} & set(n)
    assert set(harness.ROWS) - set(harness.MISMATCH_ROWS) < set(harness.TUNED_ROWS)
    assert not any(row.key.split(".")[1] in ("dec", "idec", "chosen") for row in harness.ROWS
                   if "." in row.key)
    course = harness.combined([harness.result_numbers(n, harness.PRESETS["course"],
                                                      len(y["train"]), 1.0)])
    course["label_mismatch"] = MISMATCH
    tuned = harness.combined([harness.result_numbers(run()[0], harness.PRESETS["tuned"],
                                                     len(y["train"]), 1.0)])
    text, _ = table("autoencoder", {"course": course, "tuned": tuned}, "mnist")
    dec_line = next(line for line in text.splitlines() if "ARI, after DEC, test" in line)
    assert dec_line.split("|")[2].strip() == "not run" and "not run" not in dec_line.split("|")[3]
    with pytest.raises(KeyError):       # a row a preset declares but did not measure still fails
        table("autoencoder", {"course": {}}, "mnist")


MISMATCH = {"seed": 0, "n_labelled": 100, "correlation": 0.5, "labels_that_agree": 9,
            "ari_test": {"right": 0.45, "mismatched": 0.41}}


def described(n, y, preset="tuned", **extra):
    numbers = harness.combined([harness.result_numbers(n, harness.PRESETS[preset],
                                                       len(y["train"]), 1.0)])
    cfg = harness.PRESETS[preset]
    numbers.update(seeds=[0], preset=preset, dataset="mnist", sizes={s: 240 for s in SPLITS},
                   epochs=2, n_init=2, codes=cfg["codes"], lr=cfg["lr"], lr_decay=cfg["lr_decay"],
                   model=cfg["model"], loss=cfg["loss"], input_dropout=cfg["input_dropout"],
                   gain=cfg["gain"], **({"finetune_methods": ["dec", "idec"], "finetune_steps": 20,
                                         "finetune_augment": None, "development_seeds": [10, 11]}
                                        if cfg["finetune"] else {}))
    numbers.update(extra)
    return numbers


def test_the_text_follows_the_numbers_and_a_collapse_is_said(tiny_study):
    _, y, run = tiny_study
    n, _ = run()
    numbers = described(n, y)
    for kind in ("dec", "idec"):
        numbers["finetuning"][kind]["empty_clusters"] = spread([0])
    text = harness.describe(numbers)
    opening = text.split("\n\n")[0]
    assert "empty" not in text and "initial weights of variance 0.333 / fan-in" in text
    assert "initial weights" not in harness.describe({**numbers, "gain": None})
    # One seed beside the literature's mean of 10 runs, and seed 0 is not held out: said.
    assert "one seed's figures" in opening and "mean of Guo's 10 runs" in opening
    assert "not a held-out seed" in opening
    assert len([s for s in opening.split(". ") if s]) <= 4
    best = {**numbers, "codes": "best", "codes_validation_ari": {"raw": spread([0.4]),
                                                                  "unit": spread([0.5])},
            "codes_chosen": {"unit": 1}}
    assert ("keeping whichever scores higher on validation ARI (raw 0.400, unit length 0.500): "
            "scaled to unit length") in harness.describe(best)
    mixed = {**best, "seeds": [0, 1, 2], "codes_chosen": {"raw": 2, "unit": 1}}
    assert ("means over seeds): as the encoder gives them (2 seeds) or scaled to unit length "
            "(1 seed)") in harness.describe(mixed)
    numbers["finetuning"]["idec"]["empty_clusters"] = spread([7])
    assert "it left 7 of 10 clusters empty" in harness.describe(numbers)
    # Why each fine-tuning stopped where it did, from the run's own record of it.
    record = n["finetuning"]["dec"]
    last = record["history"][-1]
    assert (f"DEC ended with {100 * last['changed']:.2f}% of the training images changing "
            f"cluster since its last refresh of P (it stops under 0.10%); its validation ARI was"
            ) in text
    assert f"{last['validation_ari']:.3f} at the end" in text
    assert last["step"] == record["steps"] and "IDEC ended with" in text


def test_a_preset_with_one_fine_tuning_reports_it_alone(tiny_study):
    x, y, run = tiny_study
    n, _ = run(finetune={**TINY_FINETUNE, "methods": ("dec",)})
    assert "idec" not in n and set(n["finetuning"]) == {"dec"} and n["chosen"] == "dec"
    numbers = described(n, y, finetune_methods=["dec"])
    text = harness.describe(numbers)
    assert "IDEC" not in text and "Both start" not in text
    assert "whichever scores the higher ARI on the validation images" not in text
    assert "DEC starts from the pretrained autoencoder" in text and "steps each" not in text
    assert "(SGD at rate 0.01, " in text                        # the rate the run used
    # Its rows: DEC's and the result after it, nothing of IDEC's or of a choice between two.
    keys = [row.key for row in harness.tuned_rows(("dec",))]
    assert "ari.dec.test" in keys and "seconds.dec" in keys
    assert not [k for k in keys if "idec" in k or k == "chosen" or ".chosen." in k]
    both = [row.key for row in harness.tuned_rows(("dec", "idec"))]
    assert {"ari.idec.test", "seconds.idec", "chosen", "ari.chosen.test"} <= set(both)
    # The report's rows are those of the methods the tuned preset runs.
    assert harness.TUNED_ROWS == harness.tuned_rows(harness.PRESETS["tuned"]["finetune"]["methods"])
    caption = harness.captions({**numbers, "chosen": {"DEC": 1}})["contingency"]
    assert caption.endswith("and after DEC.")          # no choice to speak of


def test_misspelt_fine_tuning_settings_are_refused_before_training(tiny_study, monkeypatch):
    _, _, run = tiny_study
    monkeypatch.setattr(study, "train", lambda *a, **k: pytest.fail("trained before the check"))
    for methods in (("dec", "Idec"), ("DEC",), "dec", ()):
        with pytest.raises(ValueError, match="finetune\\['methods'\\]"):
            run(finetune={**TINY_FINETUNE, "methods": methods})
    with pytest.raises(ValueError, match="dec_lr"):
        run(finetune={**TINY_FINETUNE, "methods": ("idec",), "dec_lr": 0.03})


def test_the_course_text_defines_its_terms_and_gives_the_courses_times(tiny_study):
    _, y, run = tiny_study
    n, _ = run(finetune=None)
    numbers = described(n, y, preset="course", loss="weighted", labelled_images_for_weights=spread(
        [100]), codes="raw")
    text = harness.describe(numbers)
    opening, details = text.split("\n\n", 1)
    for term in ("ARI (adjusted Rand index", "NMI (normalised mutual information",
                 "matched accuracy (clusters matched"):
        assert term in opening
    assert "508 s (8 min 28 s)" in details and "12.3 s" in details
    assert "`--preset tuned` only" in details
    fashion = harness.describe({**numbers, "dataset": "fashion-mnist"})
    assert "digit" not in fashion and "0.468" not in fashion and "508" not in fashion


@pytest.mark.parametrize("preset", ["course", "tuned"])
def test_the_autoencoders_widths_are_a_setting(preset):
    widths = (784, 256, 12)
    model = study.build_model({**harness.PRESETS[preset], "autoencoder": widths}, 0)
    assert [layer.n_out for layer in model.encoder().layers if hasattr(layer, "n_out")] == [256, 12]
    assert model.code_width == 12 and model.n_in == 784


def test_an_autoencoder_of_other_widths_is_named_by_them_and_not_set_beside_the_course(
        tiny_study):
    """A teacher who changes the course's autoencoder in the settings gets a report that says
    so: the course's figures for the codes are the course's for its own autoencoder."""
    _, y, run = tiny_study
    n, _ = run(finetune=None)
    numbers = described(n, y, preset="course", loss="weighted", labelled_images_for_weights=spread(
        [100]), codes="raw", autoencoder=[784, 256, 12], seeds=[0, 1], label_mismatch=MISMATCH)
    lines = table("autoencoder", {"course": numbers}, "mnist")[0].splitlines()
    codes = next(line for line in lines if "ARI, k-means on the codes of autoencoder 784-256-12, test "
                 "images" in line)
    assert "| 0.468 (the course's, for its autoencoder 784-512-128-32-10) |" in codes
    pixels = next(line for line in lines if "ARI, k-means on raw pixels, test images" in line)
    assert "| 0.366 |" in pixels                      # raw pixels: the course's figure compares
    text = harness.describe(numbers)
    assert "from a 12-number code" in text
    assert "an autoencoder like the course's, with encoder widths 784-256-12" in text
    assert "0.468 on the codes of its own autoencoder, 784-512-128-32-10, not this one" in text
    assert "ARI on codes" not in text and "ARI on raw pixels, test (course 0.366" in text
    assert "508 s" not in text                        # its training time is for its own, too


def test_the_augmentation_reaches_pretraining_and_only_the_fine_tuning_that_asks_for_it(
        monkeypatch):
    x, _ = clustering_split()
    seen = {}
    monkeypatch.setattr(study, "fit", lambda *args, **kwargs: seen.setdefault("fit", kwargs))

    class Recorded:
        def __init__(self, *args, **kwargs):
            seen.setdefault("dec", []).append(kwargs["augment"])

        def fit(self, x, callback=None):
            return self

    monkeypatch.setattr(study, "DEC", Recorded)
    settings = dict(harness.PRESETS["tuned"], augment=dict(degrees=7, shift=1.5))
    study.train(build_relu_autoencoder(sizes=(6, 5, 4), rng=0), mse, settings, x["train"],
                np.random.default_rng(0), verbose=False)
    turn = seen["fit"]["augment"]
    assert (turn.max_degrees, turn.max_shift) == (7, 1.5)
    model = build_relu_autoencoder(sizes=(6, 5, 4), rng=0)
    for augment in (None, dict(degrees=7, shift=1.5)):
        tuned = dict(settings, augment=None, finetune=dict(TINY_FINETUNE, augment=augment))
        study.finetune("dec", model, x["train"][:4, :4], x["train"], tuned, mse,
                       np.random.SeedSequence(0), verbose=False)
    assert seen["dec"][0] is None and seen["dec"][1].max_degrees == 7
    assert study.augmentation(harness.PRESETS["course"]["augment"]) is None


def test_the_fine_tuning_choices_were_made_on_seeds_set_apart_and_are_said(tiny_study):
    assert not set(harness.DEVELOPMENT_SEEDS) & {0, 1, 2}         # the seeds a report runs
    _, y, run = tiny_study
    augment = dict(degrees=10, shift=2.8)
    n, _ = run()                 # the blobs are no images: the augmentation is only described
    numbers = {**described(n, y), "finetune_augment": augment,
               "development_seeds": list(harness.DEVELOPMENT_SEEDS)}
    text = harness.describe({**numbers, "dataset": "fashion-mnist"})
    assert "on randomly turned and moved images as DEC-DA does" in text
    assert ("turned by up to 10 degrees and moved by up to 2.8 pixels, anew each time, while "
            "its target P came from the images as they are (DEC-DA)") in text
    assert "its fine-tuning on seeds 10–13's" in text
    plain = harness.describe({**numbers, "finetune_augment": None})
    assert "DEC-DA" not in plain


def test_the_courses_label_mismatch_is_measured_from_the_studys_own_start(tmp_path):
    """The course's pixel-weight loop paired a random subset of images with the labels of the
    first images; the harness measures that on the study's own subset, start and batches."""
    from tests.test_study_distillation import tiny_mnist
    data = tiny_mnist(n_train=300, n_test=60)
    cfg = harness.quick_config(harness.PRESETS["course"], True)
    n, _ = study.study(cfg, 0, out=None, data=data, quick=True, verbose=False)
    right = n["encoded"]["test"]["ari"]
    m, figure = harness.label_mismatch(cfg, data, 0, right, True, tmp_path, "t", verbose=False)
    assert (tmp_path / figure).is_file() and m["seed"] == 0 and m["ari_test"]["right"] == right
    x, y, streams = study.load_data(data, 0, True)
    subset = np.random.default_rng(streams["labelled"]).choice(len(x["train"]), m["n_labelled"],
                                                               replace=False)
    assert m["labels_that_agree"] == int(np.sum(y["train"][subset] == y["train"][:len(subset)]))
    assert m["labels_that_agree"] < m["n_labelled"] and -1 <= m["correlation"] < 1
    # "the same start and batches": with the right weights, train_codes is the study itself
    weights = study.pixel_weights(cfg, x["train"], y["train"], streams["labelled"])
    codes = harness.train_codes(cfg, x, streams, weights, verbose=False)
    scaling, fits = study.cluster_codes(codes, y, cfg, streams["kmeans"])
    assert fits[scaling][1]["test"]["ari"] == right
    text = harness.describe_mismatch({"label_mismatch": m})
    assert f"correlate {m['correlation']:.3f}" in text and "seed 0 alone (one seed)" in text
    assert "y_train[i], y_train[j] by position" in text
