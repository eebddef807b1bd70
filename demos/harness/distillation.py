"""The report's side of the distillation study (demos/distillation.py is the homework).

    python -m demos.harness.distillation [--out DIR] [--quick] [--preset course|tuned|ablation]
                                         [--seeds K] [--data-dir DIR] [--omit CLASS]

Here: the tuned preset and the ablation that walks from the course's settings to it, the
seeds, Hinton's omitted-class experiment (tuned preset only: it is beyond the course), the
rows of the report's table and the prose, computed from the numbers.
"""

import copy

import numpy as np

from demos._common import (DATASET_NAMES, against_course, base_parser, combine_seeds,
                           cumulative_steps, item_word, mnist_options, pct, pct_spread, plt,
                           print_numbers, save, seed_range)
from demos.distillation import (ALPHA, COURSE, STUDENTS, TEMPERATURE, distill, load_data,
                                same_arrays, student_model, study, teacher_model, train_on_labels,
                                train_students)
from demos.schema import NotReported, Outside, Row, Source, count, setting_words
from scratchnn import SoftTargetLoss, predict_classes
from scratchnn.checks import NonFiniteError, NumericalError
from scratchnn.datasets import load_mnist

TITLE = "4. Teacher, student and knowledge distillation"
SHORT_NAME = "distillation"    # in the README's table
COURSE_DATASET = "mnist"

PRESETS = {
    "course": COURSE,
    # Tuned: Nesterov momentum, a larger batch, a cosine learning-rate decay to 0 and a
    # little weight decay; the teacher with dropout after each hidden layer, every network's
    # images shifted by up to 2 pixels, and longer training. The logit-regression student
    # keeps the rate 0.01: the teacher's logits are large, and so are the MSE gradients.
    # Chosen on the validation images; --preset ablation measures each change on them.
    "tuned": dict(teacher=(784, 1024, 512, 10), student=(784, 128, 64, 10), lr=0.05, momentum=0.9, nesterov=True, batch=64, cosine=True,
                  weight_decay=5e-5, teacher_epochs=30, student_epochs=40, kd_mse_lr=0.01,
                  teacher_dropout=0.3, jitter=2),
}
PRESET_WORDS = {"course": "course settings", "tuned": "tuned preset"}


def preset_words(preset, quick):
    """'course settings' or 'tuned preset', and whether --quick shortened them."""
    return PRESET_WORDS[preset] + (" shortened by --quick" if quick else "")
# From the course's settings to the tuned ones, one change at a time (each on the last).
ABLATION = [
    ("course", "the course's settings", {}),
    ("momentum", "+ Nesterov momentum 0.9", dict(momentum=0.9, nesterov=True)),
    ("cosine", "+ rate 0.05, cosine-decayed to 0", dict(lr=0.05, cosine=True)),
    ("batch", "+ batch 64", dict(batch=64)),
    ("decay", "+ weight decay 5e-5", dict(weight_decay=5e-5)),
    ("dropout", "+ teacher dropout 0.3 after each hidden layer", dict(teacher_dropout=0.3)),
    ("jitter", "+ images shifted by up to 2 pixels", dict(jitter=2)),
    ("epochs", "+ teacher 30 epochs, students 40 (= tuned)",
     dict(teacher_epochs=30, student_epochs=40)),
]
DISTILLED = ("student_kd_mse", "student_kd_soft")
MODELS = ("teacher",) + STUDENTS
NAMES = {"teacher": "teacher", "student": "student from the labels",
         "student_kd_mse": "distilled (MSE)", "student_kd_soft": "distilled (soft targets)"}
# The chosen student in plain words, for the opening paragraph (jargon defined on the spot).
PLAIN_NAMES = {"student_kd_mse": "copies the teacher's logits (its ten outputs before the "
                                 "softmax)",
               "student_kd_soft": "learns from the teacher's soft targets (its probabilities, "
                                  "softened) and the labels"}

COURSE_ACCURACY = {"teacher": 0.9733, "student": 0.9491, "student_kd_mse": 0.9688}
COURSE_NUMBERS = {"settings": COURSE}       # the settings the course's figures are for
RERUN = Source("PyTorch re-run", "a PyTorch re-run of the course notebook with the test images "
               "scaled like the training images, on a 2-core machine (not this run)")
HINTON = Source("Hinton et al. 2015", "Hinton, Vinyals and Dean, \"Distilling the knowledge in "
                "a neural network\" (2015), MNIST, 10,000 test images: a 784-1200-1200-10 "
                "teacher with dropout and inputs jittered by up to 2 pixels, 67 errors; a "
                "784-800-800-10 student without regularisation, 146 errors trained alone and 74 "
                "trained on the teacher's soft targets at T = 20")
HINTON_OMIT = Source("Hinton et al. 2015, section 3", "the same paper: a 784-800-800-10 student "
                     "distilled at T = 20 on a transfer set with every 3 removed; the bias of the "
                     "3 raised by 3.5, a value that optimised overall performance on the test set")
SRIVASTAVA = Source("Srivastava et al. 2014", "\"Dropout: a simple way to prevent neural networks "
                    "from overfitting\", Table 2: ReLU networks with dropout, 3 x 1024 units, "
                    "1.25% test error (1.06% with max-norm)")
NOTES = {"mnist": [
    "The course scaled its training images to [0, 1] but fed its test images unscaled "
    "(0 to 255), so its test accuracies are of networks shown inputs 255 times larger than "
    "those they were trained on. This run scales both with the training set's constants; the "
    "PyTorch re-run in the last column fixed the same mistake."]}

COURSE_ROWS = [
    Row("teacher.test_accuracy", "teacher {settings.teacher}: test accuracy", "pct",
        course=COURSE_ACCURACY["teacher"], outside=(Outside("97.66%", RERUN),)),
    Row("student.test_accuracy", "student {settings.student}, from the labels: test accuracy",
        "pct", course=COURSE_ACCURACY["student"], outside=(Outside("95.64%", RERUN),)),
    Row("student_kd_mse.test_accuracy", "distilled student, teacher's logits (MSE): test "
        "accuracy", "pct", course=COURSE_ACCURACY["student_kd_mse"],
        outside=(Outside("97.14%", RERUN),), course_for=("settings.teacher", "settings.student")),
    Row("student_kd_soft.test_accuracy", f"distilled student, soft targets (T = {TEMPERATURE:g}, "
        f"alpha = {ALPHA:g}): test accuracy", "pct", outside=(Outside("96.99%", RERUN),)),
    Row("best_distilled.test_accuracy", "distilled student chosen on validation: test accuracy",
        "pct", course=NotReported("the course reported one distilled student")),
    Row("best_distilled.chosen", "distilled student chosen on validation (seeds)", "counts"),
    *[Row(f"{m}.validation_accuracy", f"{NAMES[m]}: validation accuracy", "pct")
      for m in MODELS],
    Row("teacher.test_errors", "teacher: test errors", "int",
        outside=(Outside("67 (784-1200-1200-10)", HINTON), Outside("125 (3 x 1024)", SRIVASTAVA))),
    Row("student.test_errors", "student from the labels: test errors", "int",
        outside=(Outside("146 (784-800-800-10)", HINTON),)),
    Row("student_kd_mse.test_errors", "distilled (MSE): test errors", "int"),
    Row("student_kd_soft.test_errors", "distilled (soft targets): test errors", "int",
        outside=(Outside("74 (784-800-800-10, T = 20)", HINTON),)),
    Row("teacher.train_accuracy", "teacher: training accuracy", "pct"),
    Row("teacher.seconds_per_epoch", "teacher: seconds per epoch", "f1"),
    Row("student.seconds_per_epoch", "student: seconds per epoch", "f1"),
    Row("teacher_unchanged_by_distillation", "teacher bit-identical after distillation (seeds)",
        "counts"),
]
OMITTED_ROWS = [
    Row("omitted.transfer_size", "omitted class: training images left in the transfer set", "int"),
    Row("omitted.plain.test_errors", "omitted class, student from the labels: test errors", "int"),
    Row("omitted.plain.errors_on_digit", "omitted class, student from the labels: errors on "
        "that class", "int"),
    Row("omitted.distilled.test_errors", "omitted class, distilled student: test errors", "int",
        outside=(Outside("206", HINTON_OMIT),)),
    Row("omitted.distilled.errors_on_digit", "omitted class, distilled student: errors on that "
        "class", "int", outside=(Outside("133 of 1,010", HINTON_OMIT),)),
    Row("omitted.bias_shift", "omitted class: raise of that class's output bias (chosen on "
        "validation images)", "f2", outside=(Outside("3.5", HINTON_OMIT),)),
    Row("omitted.corrected.test_errors", "omitted class, distilled, bias raised: test errors",
        "int", outside=(Outside("109", HINTON_OMIT),)),
    Row("omitted.corrected.errors_on_digit", "omitted class, distilled, bias raised: errors on "
        "that class", "int", outside=(Outside("14", HINTON_OMIT),)),
]
ROWS = COURSE_ROWS + OMITTED_ROWS
ABLATION_ROWS = [Row(f"steps.{key}.{m}.validation_accuracy", f"{label}: {NAMES[m]}, "
                     "validation", "pct") for key, label, _ in ABLATION
                 for m in ("teacher", "student_kd_soft")]


def rows_for(preset):
    """The rows a preset measures: the omitted-class experiment runs in the tuned preset only."""
    return {"course": COURSE_ROWS, "tuned": ROWS, "ablation": ABLATION_ROWS}[preset]


def ablation_configs():
    """(key, label, settings) of each ablation step; the last is the tuned preset."""
    return cumulative_steps(PRESETS["course"], ABLATION)


def quick_config(cfg, quick):
    """Quick runs: a tenth of the teacher's epochs, a fifth of the students' (at least 1)."""
    if not quick:
        return dict(cfg)
    return {**cfg, "teacher_epochs": max(1, cfg["teacher_epochs"] // 10),
            "student_epochs": max(1, cfg["student_epochs"] // 5)}


# --------------------------------------------------------------------------- omitted class


def with_raised_bias(model, digit, shift):
    """A copy of ``model`` whose output bias for ``digit`` is raised by ``shift``."""
    raised = copy.deepcopy(model)
    raised.layers[-2].params["b"][digit] += shift           # the output Dense's bias
    return raised


def bias_for_share(model, x, digit, share):
    """The smallest raise of the output bias of ``digit`` (to bisection's precision) after
    which at least ``share`` of the rows of ``x`` are predicted as ``digit``.

    The share only grows with the raise, so bisection finds it; each trial is scored on
    the raised model itself, in its own dtype, so the raise returned really reaches it.
    """
    def predicted_share(shift):
        return float(np.mean(predict_classes(with_raised_bias(model, digit, shift), x) == digit))

    low, high = 0.0, 1.0
    if predicted_share(low) >= share:
        return low
    while predicted_share(high) < share:
        low, high = high, 2 * high
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (low, middle) if predicted_share(middle) >= share else (middle, high)
    return high


def omitted_class(settings, split, teacher, student_seq, batches, digit, class_names, verbose):
    """Hinton et al.'s experiment: students trained on a transfer set without any ``digit``.

    One student learns from the labels (it can never predict the digit), one from the
    teacher's soft targets, which still say how much each image looks like the missing
    digit. The distilled student's bias for the digit is then raised until the share of
    validation images it predicts as that digit equals the digit's share of the training
    labels (validation labels are not used), and all three are scored on the test set.
    Returns the numbers and the test predictions of the raised student.
    """
    keep = split["y_train"] != digit
    x, y = split["x_train"][keep], split["y_train"][keep]
    init = student_seq.spawn(1)[0]
    plain = student_model(settings, np.random.default_rng(init))
    train_on_labels(plain, x, y, settings, settings["student_epochs"], batches, verbose,
                    f"without {digit}, labels")
    distilled = student_model(settings, np.random.default_rng(init))
    distill(distilled, teacher, SoftTargetLoss(TEMPERATURE, ALPHA), x, y, settings,
            settings["lr"], batches, verbose, f"without {digit}, distilled")
    prior = float(np.mean(split["y_train"] == digit))
    shift = bias_for_share(distilled, split["x_val"], digit, prior)
    corrected = with_raised_bias(distilled, digit, shift)
    y_test, numbers = split["y_test"], {}
    is_digit = y_test == digit
    for key, model in (("plain", plain), ("distilled", distilled), ("corrected", corrected)):
        pred = predict_classes(model, split["x_test"])
        numbers[key] = {"test_errors": int(np.sum(pred != y_test)),
                        "errors_on_digit": int(np.sum(pred[is_digit] != digit)),
                        "validation_share": float(np.mean(predict_classes(model, split["x_val"])
                                                          == digit))}
    numbers.update(digit=digit, class_name=class_names[digit],
                   digit_test_images=int(is_digit.sum()), transfer_size=int(keep.sum()),
                   prior_share=prior, bias_shift=shift)
    return numbers, pred


def omitted_figure(split, pred, digit, names, out, tag, per_row=10):
    """The omitted class's test images that the distilled student (bias raised) gets right,
    and those it gets wrong, with what it predicted."""
    x_test, y_test = split["x_test"], split["y_test"]
    mine = np.flatnonzero(y_test == digit)
    right, wrong = mine[pred[mine] == digit][:per_row], mine[pred[mine] != digit][:per_row]
    fig, axes = plt.subplots(2, per_row, figsize=(1.2 * per_row, 3.2), squeeze=False)
    for row, (picked, verdict) in enumerate(((right, "right"), (wrong, "wrong"))):
        for col, ax in enumerate(axes[row]):
            ax.axis("off")
            if col < len(picked):
                i = picked[col]
                ax.imshow(x_test[i].reshape(28, 28), cmap="gray_r")
                ax.set_title(f"said {names[pred[i]]}", fontsize=7,
                             color="#2ca02c" if verdict == "right" else "#d62728")
        axes[row, 0].text(-0.3, 0.5, verdict, transform=axes[row, 0].transAxes, ha="right",
                          va="center", fontsize=9)
    n_right = int(np.sum(pred[mine] == digit))
    fig.suptitle(f"Test images of '{names[digit]}', a class the student never saw: "
                 f"{n_right} of {len(mine)} right after the bias correction", y=1.02)
    return save(fig, out, f"{tag}_omitted_{digit}.png")


# --------------------------------------------------------------------------- runs


def captions(files, preset, quick, seed, best, word, omitted_name=None):
    """Each figure file with its caption, which names the preset and the seed it shows."""
    where = f"{preset_words(preset, quick)}, seed {seed}"
    text = {
        "examples": "One training image of each class.",
        "histograms": "How many images of each class the training and test sets hold.",
        "teacher_loss": f"The teacher's training loss at each step (grey) and its moving mean "
                        f"({where}).",
        "student_losses": f"The three students' training losses at each step (grey) and their "
                          f"moving mean ({where}).",
        "confusion": f"Confusion matrices on the test set ({where}): the teacher and the "
                     f"distilled student chosen on validation, {NAMES[best]}.",
        "rescued": f"Test {word}s the plain student gets wrong and the chosen distilled student "
                   f"gets right ({where}; the softmax probability of each predicted class).",
        "omitted": f"The distilled student trained without any '{omitted_name}': test images of "
                   f"that class it gets right (top) and wrong (bottom), once its bias is raised "
                   f"({where}).",
    }
    return [(file, text[key]) for key, file in files.items()]


def run(out="results", quick=False, seed=0, preset="course", dataset="mnist", data_dir=None,
        download_ok=True, seeds=1, verbose=True, omit=3):
    """``omit``: the class left out of the transfer set in Hinton's omitted-class experiment,
    which the tuned preset runs (it is beyond the course)."""
    if omit not in range(10):
        raise ValueError(f"omit must be a class index 0..9, got {omit!r}")
    data = load_mnist(dataset, data_dir=data_dir, download_ok=download_ok)
    seed_list = list(range(seed, seed + seeds))
    if preset == "ablation":
        return run_ablation(data, seed_list, quick, dataset, verbose)
    cfg, prefix, names = quick_config(PRESETS[preset], quick), dataset.replace("-", "_"), \
        data["class_names"]
    per_seed = []
    for s in seed_list:
        numbers, art = study(cfg, s, out, data, quick, prefix, preset, figures=s == seed,
                             verbose=verbose)
        if preset == "tuned":
            teacher = art["models"]["teacher"]
            before = teacher.state_dict()
            numbers["omitted"], corrected = omitted_class(
                cfg, art["split"], teacher, art["student_seq"], art["batches"], omit, names,
                verbose)
            numbers["teacher_unchanged_by_distillation"] &= same_arrays(before,
                                                                        teacher.state_dict())
            if s == seed:
                art["files"]["omitted"] = omitted_figure(art["split"], corrected, omit, names,
                                                         out, f"{prefix}_{preset}")
        if s == seed:
            figures = captions(art["files"], preset, quick, s, art["best"], item_word(dataset),
                               names[omit])
            sizes = {"train": len(art["split"]["y_train"]),
                     "validation": len(art["split"]["y_val"]),
                     "test": len(art["split"]["y_test"])}
        per_seed.append(numbers)
    chosen = count(NAMES[n["best_distilled"].pop("chosen")] for n in per_seed)
    unchanged = count("yes" if n.pop("teacher_unchanged_by_distillation") else "NO, it changed"
                      for n in per_seed)
    numbers = combine_seeds(per_seed)
    numbers["best_distilled"]["chosen"] = chosen
    numbers["teacher_unchanged_by_distillation"] = unchanged
    numbers.update(seeds=seed_list, preset=preset, quick=quick, dataset=dataset, sizes=sizes,
                   settings=cfg, distillation={"temperature": TEMPERATURE, "alpha": ALPHA})
    return {"numbers": numbers, "figures": figures, "text": describe(numbers)}


def run_ablation(data, seed_list, quick, dataset, verbose):
    """Each step of ABLATION on validation data; the test images are not looked at."""
    steps, per_seed = ablation_configs(), []
    for s in seed_list:
        split, streams = load_data(s, data, quick)
        split = {k: v for k, v in split.items() if not k.endswith("test")}   # out of reach
        teacher_seq, student_seq, batches = (streams[k] for k in ("teacher", "students",
                                                                  "batches"))
        results, cache = {}, {}
        for key, label, cfg in steps:
            cfg = quick_config(cfg, quick)
            teacher_cfg = tuple(sorted((k, v) for k, v in cfg.items()
                                       if k not in ("student", "student_epochs", "kd_mse_lr")))
            if verbose:
                print(f"ablation step {key}: {label}", flush=True)
            try:
                if teacher_cfg not in cache:          # only a change to the teacher retrains it
                    teacher = teacher_model(cfg, np.random.default_rng(teacher_seq))
                    train_on_labels(teacher, split["x_train"], split["y_train"], cfg,
                                    cfg["teacher_epochs"], batches, verbose, "teacher")
                    cache = {teacher_cfg: teacher}
                teacher = cache[teacher_cfg]
                models = {"teacher": teacher, **train_students(cfg, split, teacher, student_seq,
                                                               batches, verbose)[0]}
                results[key] = {m: {"validation_accuracy": float(np.mean(
                    predict_classes(models[m], split["x_val"]) == split["y_val"]))}
                    for m in MODELS}
            except (NumericalError, NonFiniteError) as err:   # a step that diverges is a result
                results[key] = {m: {"validation_accuracy": {"failed": str(err)}} for m in MODELS}
        per_seed.append(results)
    numbers = {"steps": combine_seeds(per_seed), "seeds": seed_list, "preset": "ablation",
               "dataset": dataset,
               "sizes": {"train": len(split["y_train"]), "validation": len(split["y_val"])},
               "labels": {key: label for key, label, _ in steps}}
    return {"numbers": numbers, "figures": [], "text": describe_ablation(numbers)}


# --------------------------------------------------------------------------- prose


def describe(n):
    """The study's prose, computed from its numbers: a plain opening paragraph (at most four
    sentences), then the details."""
    parts = [describe_opening(n), describe_method(n), describe_settings(n), describe_results(n)]
    same = [m for m in COURSE_ACCURACY if comparable(n)[m]]
    if n["preset"] == "course" and n["dataset"] == COURSE_DATASET and same:
        parts.append("The course evaluated its networks on unscaled test images (see the note "
                     "below the table). " + against_course(
                         [(NAMES[m], n[m]["test_accuracy"], COURSE_ACCURACY[m], pct)
                          for m in same], n["seeds"]))
    if "omitted" in n:
        parts.append(describe_omitted(n["omitted"], item_word(n["dataset"]), len(n["seeds"])))
    return "\n\n".join(parts)


def _chosen_key(n):
    """The distilled student chosen on validation, if the same one in every seed (else None)."""
    chosen = n["best_distilled"]["chosen"]
    keys = [k for k in DISTILLED if NAMES[k] in chosen]
    return keys[0] if len(keys) == 1 else None


def plain_against_chosen(n):
    """The sentence that says which is better, the plain student or the chosen distilled one,
    on the validation images and on the test images (means over seeds)."""
    best, parts = _chosen_key(n), {"validation": "validation_accuracy", "test": "test_accuracy"}
    if best is None:        # a different student chosen in different seeds: test images only
        chosen = {"test": n["best_distilled"]["test_accuracy"]["mean"]}
    else:
        chosen = {part: n[best][key]["mean"] for part, key in parts.items()}
    plain = {part: n["student"][parts[part]]["mean"] for part in chosen}
    winner = {part: "plain" if plain[part] > chosen[part] else
              "distilled" if chosen[part] > plain[part] else "equal" for part in chosen}

    def figures(part):      # the winner's figure first
        d, p = f"distilled {pct(chosen[part])}", f"plain {pct(plain[part])}"
        return f"{p}, {d}" if winner[part] == "plain" else f"{d}, {p}"

    means = " (means over seeds)" if len(n["seeds"]) > 1 else ""
    verdicts = set(winner.values())
    where = " and on ".join(f"the {part} images ({figures(part)})" for part in winner)
    if verdicts == {"distilled"}:
        return (f"Imitating the teacher helped: the chosen distilled student beats the student "
                f"trained on the labels alone on {where}{means}.")
    if verdicts == {"plain"}:
        return (f"Imitating the teacher did not help here: the student trained on the labels "
                f"alone beats the chosen distilled student on {where}{means}.")
    who = {"plain": "the student trained on the labels alone is better",
           "distilled": "the chosen distilled student is better", "equal": "the two are equal"}
    return ("Whether imitating the teacher helped depends on the images: " + ", and ".join(
        f"on the {part} images {who[w]} ({figures(part)})" for part, w in winner.items())
        + f"{means}.")


def comparable(n):
    """Which of the course's figures compare with this run's: a model's figure does when the
    model has the course's layer widths (a distilled student's needs its teacher's too)."""
    same = {k: setting_words(n["settings"][k]) == setting_words(COURSE[k])
            for k in ("teacher", "student")}
    return {"teacher": same["teacher"], "student": same["student"],
            "student_kd_mse": same["teacher"] and same["student"]}


def widths(n, model):
    """A network's layer widths, input to output: '784-128-64-10'."""
    return setting_words(n["settings"][model])


def describe_opening(n):
    """At most four sentences: what was done, the main figures against the course's, the lesson."""
    course, same = n["dataset"] == COURSE_DATASET, comparable(n)
    best = _chosen_key(n)

    def acc(key, course_text, figure):
        value = n[key]["test_accuracy"]
        shown = pct(value["mean"]) if value["n"] == 1 else pct_spread(value)
        if same[figure]:
            return shown + (f" ({course_text}: {pct(COURSE_ACCURACY[figure])})" if course else "")
        # the network whose widths differ: the model's own, else (distilled) its teacher's
        net = next(k for k in {"teacher": ("teacher",), "student": ("student",),
                               "student_kd_mse": ("student", "teacher")}[figure] if not same[k])
        return shown + (f" (the course's figure, {pct(COURSE_ACCURACY[figure])}, is for its own "
                        f"{net}, {setting_words(COURSE[net])}, not this one)" if course else "")

    which = PLAIN_NAMES[best] if best else "is not the same one in every seed"
    teacher = acc("teacher", "the course, which scored test images left unscaled, 255 times "
                  "brighter than those it trained on", "teacher")
    student = acc("student", "the course", "student")
    distilled = acc("best_distilled", "the course, whose distilled student copied the logits",
                    "student_kd_mse")
    return (
        f"Knowledge distillation trains a small network, the student, to imitate a large one, "
        f"the teacher, instead of learning from the labels alone; here on "
        f"{DATASET_NAMES[n['dataset']]} with the {preset_words(n['preset'], n.get('quick', False))}, "
        f"{seed_range(n['seeds'])}. On the test images the teacher ({widths(n, 'teacher')}) is "
        f"right on {teacher} and the student ({widths(n, 'student')}) trained on the labels alone "
        f"on {student}. Of the two distilled students, the one chosen on the validation images "
        f"({n['sizes']['validation']:,} training images held out for choices) {which} and is "
        f"right on {distilled}. " + plain_against_chosen(n))


def describe_method(n):
    """What the two distilled students learn from, with the terms defined."""
    d, cfg = n["distillation"], n["settings"]
    t, a = d["temperature"], d["alpha"]
    check = ("bit-identical before and after every distillation in every seed"
             if set(n["teacher_unchanged_by_distillation"]) == {"yes"}
             else f"CHANGED by distillation ({n['teacher_unchanged_by_distillation']})")
    return (
        "How the students learn. A network's logits are its ten outputs before the softmax. "
        "The student that copies the logits minimises their mean squared error (MSE) against "
        "the teacher's. The other follows Hinton, Vinyals and Dean (2015): dividing the logits "
        f"by a temperature T (here {t:g}) before the softmax softens the probabilities, so the "
        "teacher's soft targets say which wrong classes are nearly right; its loss is "
        f"alpha = {a:g} times T² times the Kullback–Leibler divergence (how far one probability "
        "distribution is from another) of its own softened probabilities from the teacher's, "
        f"plus 1 − alpha = {1 - a:g} times the cross-entropy with the labels (T² keeps the two "
        "terms' gradients on one scale). At each step of distillation the teacher predicts the "
        "very batch the student trains on"
        + (", shifted alike" if cfg["jitter"] else "")
        + ", in evaluation mode (no dropout); it is never given to an optimizer, and its arrays "
        f"are {check}.")


def describe_settings(n):
    """Every setting of the preset, from the numbers' settings dict."""
    cfg, sizes = n["settings"], n["sizes"]
    optimizer = ("plain stochastic gradient descent (SGD, no momentum)" if not cfg["momentum"]
                 else f"stochastic gradient descent (SGD) with "
                      f"{'Nesterov ' if cfg['nesterov'] else ''}momentum {cfg['momentum']:g}")
    rate = (f"learning rate {cfg['lr']:g}, decayed along a cosine towards 0 over each "
            "network's epochs (set at the start of each epoch)" if cfg["cosine"]
            else f"a constant learning rate of {cfg['lr']:g}")
    decay = (f"weight decay {cfg['weight_decay']:g} (that times each weight added to its "
             "gradient)" if cfg["weight_decay"] else "no weight decay")
    dropout = (f"the teacher with dropout {cfg['teacher_dropout']:g} after each hidden layer "
               f"(in training, each hidden unit zeroed with probability "
               f"{cfg['teacher_dropout']:g} at each step)" if cfg["teacher_dropout"]
               else "no dropout")
    jitter = (f"every network's training images shifted at each step by a random whole number "
              f"of pixels, up to {cfg['jitter']} in each direction" if cfg["jitter"]
              else "no image shifted")
    mse_rate = (f"the student that copies the logits at rate {cfg['kd_mse_lr']:g}"
                + (" (lower than the others': the teacher's logits are large, and so are the "
                   "gradients of their squared error)" if cfg["kd_mse_lr"] < cfg["lr"] else "")
                + (", decayed alike" if cfg["cosine"] else ""))
    return (
        f"Settings ({preset_words(n['preset'], n.get('quick', False))}). Layer widths, input to "
        f"output: the teacher {widths(n, 'teacher')}, every student {widths(n, 'student')}. "
        f"{sizes['train']:,} training images, "
        f"{sizes['validation']:,} held out of the training set for validation, "
        f"{sizes['test']:,} test images; pixels scaled to [0, 1] with the training images' "
        f"constants, the same map for all three. {optimizer[0].upper() + optimizer[1:]}, "
        f"batch {cfg['batch']}, "
        f"{rate}, {decay}; the teacher {cfg['teacher_epochs']} epochs, the students "
        f"{cfg['student_epochs']}; {mse_rate}; {dropout}; {jitter}. The three students start "
        "from the same initial weights and see the same batches in the same order. Every model "
        "is scored on the test images; none is chosen on them.")


def describe_results(n):
    word, k = item_word(n["dataset"]), len(n["seeds"])
    chosen = ", ".join(f"{name} in {c} of {k}" for name, c in n["best_distilled"]["chosen"].items())
    return (
        "Test accuracy: " + ", ".join(f"{NAMES[m]} {pct_spread(n[m]['test_accuracy'])}"
                                      for m in MODELS)
        + ". Validation accuracy: " + ", ".join(
            f"{NAMES[m]} {pct_spread(n[m]['validation_accuracy'])}" for m in MODELS)
        + f". Chosen on validation: {chosen} seeds. The chosen student gets right "
        f"{n['rescued_by_distillation']['mean']:.0f} test {word}s the plain student gets wrong "
        f"and gets wrong {n['broken_by_distillation']['mean']:.0f} it gets right"
        f"{' (means over seeds)' if k > 1 else ''}.")


def _count(value):
    """A spread of counts in a sentence: '133' for one seed, '131 ± 12' over seeds."""
    return (f"{value['mean']:,.0f}" if value["n"] == 1 else
            f"{value['mean']:,.0f} ± {value['sd']:,.0f}")


def describe_omitted(o, word, k):
    name, mean = o["class_name"], "" if k == 1 else " (mean ± sd, standard deviation, over seeds)"
    plain, distilled, corrected = o["plain"], o["distilled"], o["corrected"]
    return (
        f"Omitted class (Hinton et al. 2015, section 3; beyond the course): "
        f"two more students learn from a transfer set of {_count(o['transfer_size'])} training "
        f"images with no {name} at all. The one trained on the labels gets "
        f"{_count(plain['errors_on_digit'])} of the {_count(o['digit_test_images'])} test "
        f"{name}s wrong ({_count(plain['test_errors'])} errors in all): it has never been told "
        f"that class exists. The one trained on the teacher's soft targets has never seen a "
        f"{name} either, and gets {_count(distilled['errors_on_digit'])} of them wrong "
        f"({_count(distilled['test_errors'])} errors in all)"
        + (f": most {name}s right, so the teacher's probabilities for the other images carried "
           f"what a {name} looks like"
           if distilled["errors_on_digit"]["mean"] < o["digit_test_images"]["mean"] / 2 else
           f": in this run the soft targets did not teach it to recognise most {name}s")
        + f". Its bias for {name} is then raised by "
        f"{o['bias_shift']['mean']:.2f}, the smallest raise at which the share of validation "
        f"images it predicts as {name} ({100 * corrected['validation_share']['mean']:.2f}%) "
        f"reaches that class's share of the training labels "
        f"({100 * o['prior_share']['mean']:.2f}%; the validation labels are not used): "
        f"{_count(corrected['errors_on_digit'])} errors on {name}s and "
        f"{_count(corrected['test_errors'])} in all{mean}.")


def describe_ablation(n):
    steps, labels = n["steps"], n["labels"]
    best = max(labels, key=lambda key: _mean_or_nan(steps[key]["student_kd_soft"]))
    return (
        f"Ablation on {DATASET_NAMES[n['dataset']]}, {seed_range(n['seeds'])}: from the course's "
        "settings to the tuned ones, one change at a time, each step on top of the last; every "
        "step retrains what it changes and is scored on the "
        f"{n['sizes']['validation']:,} validation images held out of the training set (the "
        "test images are not used). Best soft-target student on validation: "
        f"'{labels[best]}'.")


def _mean_or_nan(result):
    value = result["validation_accuracy"]
    return value["mean"] if "mean" in value else float("-inf")     # a failed step never wins


def main(argv=None):
    parser = base_parser(__doc__, mnist=True)
    parser.add_argument("--omit", type=int, default=3, choices=range(10), metavar="CLASS",
                        help="the class left out of the transfer set of the omitted-class "
                             "experiment, which the tuned preset runs (default 3)")
    args = parser.parse_args(argv)
    result = run(args.out, args.quick, args.seed, omit=args.omit, **mnist_options(args))
    print(result["text"])
    print_numbers(TITLE, result["numbers"])
    return result


if __name__ == "__main__":
    main()
