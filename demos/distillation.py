"""MNIST: the dataset, a teacher and a student MLP, and knowledge distillation.

    python -m demos.distillation [--out DIR] [--quick] [--preset course|tuned|ablation]
                                 [--seeds K] [--data-dir DIR] [--dataset mnist|fashion-mnist]
                                 [--omit CLASS]

The course's settings (the default preset): plain SGD, learning rate 0.01, batch 32,
cross-entropy; teacher 784-1024-512-10 for 20 epochs, students 784-128-64-10 for 10
epochs: one from the labels, one regressing the teacher's logits (MSE), one on Hinton's
soft targets (T = 4) mixed with the labels. 5,000 training images are held out for
validation: the better distilled student is chosen on them, never on the test set.
``--preset ablation`` goes from the course's settings to the tuned ones one change at a
time and scores each step on validation data only.
"""

import copy
import hashlib

import numpy as np

from demos._common import (DATASET_NAMES, TAB10, against_course, base_parser, combine_seeds,
                           cumulative_steps,
                           item_word, mnist_options, mnist_seed_split, over_seeds, pct, pct_spread, plt,
                           print_numbers, save, seed_range, split_sizes)
from demos.schema import NotReported, Outside, Row, Source, count
from scratchnn import (SGD, RandomShift, SoftTargetLoss, cosine_schedule, distill_logit_mse, fit,
                       mlp, predict_classes, softmax, softmax_cross_entropy)
from scratchnn.datasets import load_mnist

TITLE = "4. Teacher, student and knowledge distillation"
COURSE_DATASET = "mnist"

PRESETS = {
    # The course: plain SGD at a constant rate, no dropout, no jitter.
    "course": dict(lr=0.01, momentum=0.0, nesterov=False, batch=32, teacher_epochs=20,
                   student_epochs=10, cosine=False, weight_decay=0.0, kd_mse_lr=0.01,
                   teacher_dropout=0.0, jitter=0),
    # Tuned: Nesterov momentum, a larger batch, a cosine learning-rate decay to 0 and a
    # little weight decay; the teacher (the course's shape) with dropout after each hidden
    # layer, every network's images shifted by up to 2 pixels, and longer training. The
    # logit-regression student keeps the rate 0.01: the teacher's logits are large, and so
    # are the MSE gradients. Chosen on the validation images; --preset ablation measures
    # each change on them.
    "tuned": dict(lr=0.05, momentum=0.9, nesterov=True, batch=64, teacher_epochs=30,
                  student_epochs=40, cosine=True, weight_decay=5e-5, kd_mse_lr=0.01,
                  teacher_dropout=0.3, jitter=2),
}
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
TEMPERATURE, ALPHA = 4.0, 0.9
STUDENTS = ("student", "student_kd_mse", "student_kd_soft")
DISTILLED = ("student_kd_mse", "student_kd_soft")
MODELS = ("teacher",) + STUDENTS
NAMES = {"teacher": "teacher", "student": "student from the labels",
         "student_kd_mse": "distilled (MSE)", "student_kd_soft": "distilled (soft targets)"}

COURSE_ACCURACY = {"teacher": 0.9733, "student": 0.9491, "student_kd_mse": 0.9688}
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

ROWS = [
    Row("teacher.test_accuracy", "teacher 784-1024-512-10: test accuracy", "pct",
        course=COURSE_ACCURACY["teacher"], outside=(Outside("97.66%", RERUN),)),
    Row("student.test_accuracy", "student 784-128-64-10, from the labels: test accuracy", "pct",
        course=COURSE_ACCURACY["student"], outside=(Outside("95.64%", RERUN),)),
    Row("student_kd_mse.test_accuracy", "distilled student, teacher's logits (MSE): test "
        "accuracy", "pct", course=COURSE_ACCURACY["student_kd_mse"],
        outside=(Outside("97.14%", RERUN),)),
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
    Row("teacher.train_accuracy", "teacher: training accuracy", "pct"),
    Row("teacher.seconds_per_epoch", "teacher: seconds per epoch", "f1"),
    Row("student.seconds_per_epoch", "student: seconds per epoch", "f1"),
    Row("teacher_unchanged_by_distillation", "teacher bit-identical after distillation (seeds)",
        "counts"),
]
ABLATION_ROWS = [Row(f"steps.{key}.{m}.validation_accuracy", f"{label}: {NAMES[m]}, "
                     "validation", "pct") for key, label, _ in ABLATION
                 for m in ("teacher", "student_kd_soft")]


def ablation_configs():
    """(key, label, settings) of each ablation step; the last is the tuned preset."""
    return cumulative_steps(PRESETS["course"], ABLATION)


def state_hash(model):
    h = hashlib.sha256()
    for name, arr in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


class TeacherInTheLoop:
    """A distillation loss with the teacher in the training loop.

    Called by ``fit`` as ``loss(student_logits, images, *labels)``: the teacher's logits
    for the batch are computed from its images at that step, then handed to ``loss`` as
    ``loss(student_logits, teacher_logits, *labels)``. A teacher that changed during
    distillation would change the targets with it. With ``augment`` (the RandomShift that
    ``fit`` applies to the student's batch), the teacher sees the same shifted images.
    """

    def __init__(self, teacher, loss, augment=None):
        self.teacher, self.loss, self.augment = teacher, loss, augment

    def __call__(self, student_logits, images, *labels):
        if self.augment is not None:
            images = self.augment.shift(images, *self.augment.last_offsets)
        # predict: evaluation mode, so a teacher trained with dropout gives its full output
        return self.loss(student_logits, self.teacher.predict(images), *labels)


class WithTeacher:
    """The distillation step's optimizer, handed the teacher's trainable arrays too.

    A model that holds both networks would give its optimizer both networks' parameters;
    here ``fit`` hands over the student's, and this wrapper adds ``teacher.params``, the
    arrays the teacher lists for optimizers. A frozen teacher lists none, so freezing is
    what keeps it fixed, and the bit-for-bit check after distillation can fail: a teacher
    left trainable moves along its last gradient at every step (see the tests).
    """

    def __init__(self, optimizer, teacher):
        self.optimizer, self.teacher = optimizer, teacher

    @property
    def lr(self):                            # fit sets lr each epoch for a schedule
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def step(self, params, grads):
        teacher_params = {f"teacher.{k}": v for k, v in self.teacher.params.items()}
        teacher_grads = {f"teacher.{k}": v for k, v in self.teacher.grads.items()}
        self.optimizer.step({**params, **teacher_params}, {**grads, **teacher_grads})


def optimizer(cfg, lr):
    return SGD(lr=lr, momentum=cfg["momentum"], nesterov=cfg["nesterov"],
               weight_decay=cfg["weight_decay"])


def train(name, model, loss_fn, targets, x, cfg, epochs, seed, verbose=True, lr=None, opt=None,
          augment=None):
    lr = lr or cfg["lr"]
    schedule = cosine_schedule(lr, epochs) if cfg["cosine"] else None
    return fit(model, loss_fn, opt or optimizer(cfg, lr), x, targets, epochs=epochs,
               batch_size=cfg["batch"], rng=seed, lr_schedule=schedule, augment=augment,
               print_epochs=verbose, name=name)


def distill(student, teacher, loss_fn, x, labels, cfg, epochs, seed, lr=None, verbose=False,
            name="distilled"):
    """Train ``student`` against ``teacher`` (in the loop); returns (history, teacher unchanged).

    loss_fn is called as ``loss_fn(student_logits, teacher_logits[, labels])``; pass
    ``labels=None`` for a loss without them.
    """
    before = state_hash(teacher)
    targets = (x,) if labels is None else (x, labels)
    opt = WithTeacher(optimizer(cfg, lr or cfg["lr"]), teacher)
    augment = jitter(cfg)
    history = train(name, student, TeacherInTheLoop(teacher, loss_fn, augment), targets, x, cfg,
                    epochs, seed, verbose, lr=lr, opt=opt, augment=augment)
    return history, state_hash(teacher) == before


def jitter(cfg):
    """The preset's random shift of the training images (None: none)."""
    return RandomShift(cfg["jitter"]) if cfg["jitter"] else None


def train_teacher(cfg, split, teacher_seq, seed, verbose):
    """The teacher 784-1024-512-10 (with dropout and jitter if the preset says so), frozen and
    left in evaluation mode: in the loop, its soft targets are computed without dropout."""
    teacher = mlp([784, 1024, 512, 10], dropout=cfg["teacher_dropout"],
                  rng=np.random.default_rng(teacher_seq))
    history = train("teacher", teacher, softmax_cross_entropy, split["y_train"], split["x_train"],
                    cfg, cfg["teacher_epochs"], seed, verbose, augment=jitter(cfg))
    return teacher.freeze().eval(), history


def train_students(cfg, split, teacher, student_seq, seed, verbose):
    """The three students from the same initial weights; returns models, histories and
    whether the teacher stayed bit-identical through both distillations."""
    x, y = split["x_train"], split["y_train"]
    models, histories, unchanged = {}, {}, True
    for key in STUDENTS:
        student = mlp([784, 128, 64, 10], rng=np.random.default_rng(student_seq))
        if key == "student":
            histories[key] = train(key, student, softmax_cross_entropy, y, x, cfg,
                                   cfg["student_epochs"], seed, verbose, augment=jitter(cfg))
        elif key == "student_kd_mse":
            histories[key], same = distill(student, teacher, distill_logit_mse, x, None, cfg,
                                           cfg["student_epochs"], seed, cfg["kd_mse_lr"],
                                           verbose, key)
            unchanged &= same
        else:
            histories[key], same = distill(student, teacher, SoftTargetLoss(TEMPERATURE, ALPHA),
                                           x, y, cfg, cfg["student_epochs"], seed, None,
                                           verbose, key)
            unchanged &= same
        models[key] = student
    return models, histories, unchanged


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


def omitted_class(cfg, split, teacher, student_seq, seed, digit, class_names, verbose):
    """Hinton et al.'s experiment: students trained on a transfer set without any ``digit``.

    One student learns from the labels (it can never predict the digit), one from the
    teacher's soft targets, which still say how much each image looks like the missing
    digit. The distilled student's bias for the digit is then raised until the share of
    validation images it predicts as that digit equals the digit's share of the training
    labels (validation labels are not used), and all three are scored on the test set.
    """
    keep = split["y_train"] != digit
    x, y = split["x_train"][keep], split["y_train"][keep]
    init = student_seq.spawn(1)[0]
    plain = mlp([784, 128, 64, 10], rng=np.random.default_rng(init))
    train(f"without {digit}, labels", plain, softmax_cross_entropy, y, x, cfg,
          cfg["student_epochs"], seed, verbose, augment=jitter(cfg))
    distilled = mlp([784, 128, 64, 10], rng=np.random.default_rng(init))
    _, unchanged = distill(distilled, teacher, SoftTargetLoss(TEMPERATURE, ALPHA), x, y, cfg,
                           cfg["student_epochs"], seed, None, verbose, f"without {digit}, distilled")
    prior = float(np.mean(split["y_train"] == digit))
    shift = bias_for_share(distilled, split["x_val"], digit, prior)
    corrected = with_raised_bias(distilled, digit, shift)
    y_test, numbers, predictions = split["y_test"], {}, {}
    is_digit = y_test == digit
    for key, model in (("plain", plain), ("distilled", distilled), ("corrected", corrected)):
        pred = predict_classes(model, split["x_test"])
        predictions[key] = pred
        numbers[key] = {"test_errors": int(np.sum(pred != y_test)),
                        "errors_on_digit": int(np.sum(pred[is_digit] != digit)),
                        "validation_share": float(np.mean(predict_classes(model, split["x_val"])
                                                          == digit))}
    numbers.update(digit=digit, class_name=class_names[digit], digit_test_images=int(is_digit.sum()),
                   transfer_size=int(keep.sum()), prior_share=prior, bias_shift=shift)
    return numbers, predictions, unchanged


def measure(cfg, split, model_seq, seed, verbose, omit, class_names):
    """One seed of the study: every number, and what the figures need."""
    teacher_seq, student_seq = model_seq.spawn(2)
    teacher, teacher_history = train_teacher(cfg, split, teacher_seq, seed, verbose)
    models, histories, unchanged = train_students(cfg, split, teacher, student_seq, seed, verbose)
    omitted, omitted_predictions, unchanged_too = omitted_class(cfg, split, teacher, student_seq,
                                                               seed, omit, class_names, verbose)
    unchanged &= unchanged_too
    models, histories = {"teacher": teacher, **models}, {"teacher": teacher_history, **histories}
    numbers, predictions = {}, {}
    for key, model in models.items():
        pred_test = predict_classes(model, split["x_test"])
        predictions[key] = pred_test
        hist = histories[key]
        numbers[key] = {
            "train_accuracy": float(np.mean(predict_classes(model, split["x_train"])
                                            == split["y_train"])),
            "validation_accuracy": float(np.mean(predict_classes(model, split["x_val"])
                                                 == split["y_val"])),
            "test_accuracy": float(np.mean(pred_test == split["y_test"])),
            "test_errors": int(np.sum(pred_test != split["y_test"])),
            "seconds": hist.seconds,
            "seconds_per_epoch": hist.seconds / len(hist.epoch_seconds),
        }
    # The better distilled student, on validation data; ties go to the first listed.
    best = max(DISTILLED, key=lambda k: (numbers[k]["validation_accuracy"], -DISTILLED.index(k)))
    numbers["best_distilled"] = {"chosen": best, "test_accuracy": numbers[best]["test_accuracy"]}
    numbers["teacher_unchanged_by_distillation"] = "yes" if unchanged else "NO, it changed"
    plain, distilled = predictions["student"] != split["y_test"], predictions[best] != split["y_test"]
    numbers["rescued_by_distillation"] = int(np.sum(plain & ~distilled))
    numbers["broken_by_distillation"] = int(np.sum(~plain & distilled))
    numbers["omitted"] = omitted
    return numbers, {"models": models, "histories": histories, "predictions": predictions,
                     "best": best, "omitted": omitted_predictions, "omit": omit}


def quick_config(cfg, quick):
    """Quick runs: a tenth of the teacher's epochs, a fifth of the students' (at least 1)."""
    if not quick:
        return dict(cfg)
    return {**cfg, "teacher_epochs": max(1, cfg["teacher_epochs"] // 10),
            "student_epochs": max(1, cfg["student_epochs"] // 5)}


def run(out="results", quick=False, seed=0, preset="course", dataset="mnist", data_dir=None,
        download_ok=True, seeds=1, verbose=True, omit=3):
    """``omit``: the class left out of the transfer set in Hinton's omitted-class experiment."""
    if omit not in range(10):
        raise ValueError(f"omit must be a class index 0..9, got {omit!r}")
    data = load_mnist(dataset, data_dir=data_dir, download_ok=download_ok)
    seed_list = list(range(seed, seed + seeds))
    if preset == "ablation":
        return run_ablation(data, seed_list, quick, dataset, verbose)
    cfg = quick_config(PRESETS[preset], quick)
    per_seed, first = over_seeds(data, seed_list, quick, lambda split, seq, s: measure(
        cfg, split, seq, s, verbose, omit, data["class_names"]))
    chosen = count(NAMES[n["best_distilled"].pop("chosen")] for n in per_seed)
    unchanged = count(n.pop("teacher_unchanged_by_distillation") for n in per_seed)
    numbers = combine_seeds(per_seed)
    numbers["best_distilled"]["chosen"] = chosen
    numbers["teacher_unchanged_by_distillation"] = unchanged
    numbers.update(seeds=seed_list, preset=preset, dataset=dataset, sizes=split_sizes(first[0]),
                   settings={k: v for k, v in cfg.items()},
                   distillation={"temperature": TEMPERATURE, "alpha": ALPHA})
    figures = dataset_figures(data, out, dataset.replace("-", "_"))
    figures += model_figures(first[0], first[1], numbers, data["class_names"], out,
                             f"{dataset.replace('-', '_')}_{preset}", seed_list[0])
    return {"numbers": numbers, "figures": figures, "text": describe(numbers)}


def run_ablation(data, seed_list, quick, dataset, verbose):
    """Each step of ABLATION on validation data; the test images are not looked at."""
    steps, per_seed = ablation_configs(), []
    for s in seed_list:
        split, model_seq = mnist_seed_split(data, s, quick)
        split = {k: v for k, v in split.items() if not k.endswith("test")}   # out of reach
        teacher_seq, student_seq = model_seq.spawn(2)
        results, cache = {}, {}
        for key, label, cfg in steps:
            cfg = quick_config(cfg, quick)
            teacher_cfg = tuple(sorted((k, v) for k, v in cfg.items()
                                       if k not in ("student_epochs", "kd_mse_lr")))
            if verbose:
                print(f"ablation step {key}: {label}", flush=True)
            try:
                if teacher_cfg not in cache:          # only a change to the teacher retrains it
                    cache = {teacher_cfg: train_teacher(cfg, split, teacher_seq, s, verbose)[0]}
                teacher = cache[teacher_cfg]
                models, _, _ = train_students(cfg, split, teacher, student_seq, s, verbose)
                models["teacher"] = teacher
                results[key] = {m: {"validation_accuracy": float(np.mean(
                    predict_classes(models[m], split["x_val"]) == split["y_val"]))}
                    for m in MODELS}
            except FloatingPointError as err:        # a step that diverges is a result too
                results[key] = {m: {"validation_accuracy": {"failed": str(err)}} for m in MODELS}
        per_seed.append(results)
    numbers = {"steps": combine_seeds(per_seed), "seeds": seed_list, "preset": "ablation",
               "dataset": dataset,
               "sizes": {"train": len(split["y_train"]), "validation": len(split["y_val"])},
               "labels": {key: label for key, label, _ in steps}}
    return {"numbers": numbers, "figures": [], "text": describe_ablation(numbers)}


def dataset_figures(data, out, prefix):
    names = data["class_names"]
    images, labels = data["train_images"], data["train_labels"]
    fig, axes = plt.subplots(1, 10, figsize=(10, 1.6))
    for k, ax in enumerate(axes):
        idx = np.flatnonzero(labels == k)
        if len(idx):
            ax.imshow(images[idx[0]], cmap="gray_r")
        ax.set_title(names[k], fontsize=8)
        ax.axis("off")
    fig.suptitle("One training example of each class", y=1.08)
    first = save(fig, out, f"{prefix}_examples.png")

    fig, axes = plt.subplots(1, 2, figsize=(9, 2.8), sharey=False)
    for ax, split in zip(axes, ("train", "test")):
        counts = np.bincount(data[f"{split}_labels"], minlength=10)
        ax.bar(range(10), counts, color=TAB10)
        ax.set_xticks(range(10), names, rotation=45 if len(names[0]) > 1 else 0, ha="right"
                      if len(names[0]) > 1 else "center")
        ax.set_title(f"{split}: {counts.sum():,} labels")
    fig.tight_layout()
    second = save(fig, out, f"{prefix}_label_histograms.png")
    return [(first, "One training image of each class."),
            (second, "How many images of each class the training and test sets hold.")]


def confusion(y_true, y_pred, k=10):
    """k x k counts of (true, predicted); unlike cluster.contingency_matrix it keeps a row and
    a column for every class, even one never predicted."""
    m = np.zeros((k, k), dtype=int)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def smooth(values, window=100):
    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, len(values) // 5 or 1))
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def model_figures(split, art, numbers, names, out, tag, seed):
    figures, histories, predictions, best = [], art["histories"], art["predictions"], art["best"]
    x_test, y_test = split["x_test"], split["y_test"]
    preset = numbers["preset"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    h = histories["teacher"]
    ax.plot(h.loss, color="0.8", lw=0.4, label="per iteration")
    ax.plot(np.arange(len(smooth(h.loss))) + 50, smooth(h.loss), color=TAB10[0], label="moving mean")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cross-entropy")
    ax.set_title(f"Teacher 784-1024-512-10: training loss ({preset} settings, seed {seed})")
    ax.legend(frameon=False)
    figures.append((save(fig, out, f"{tag}_teacher_loss.png"), "Teacher training loss per iteration."))

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    titles = {"student": "student, labels (cross-entropy)",
              "student_kd_mse": "distilled, logit MSE",
              "student_kd_soft": f"distilled, soft targets T={TEMPERATURE:g}, alpha={ALPHA:g}"}
    for ax, (key, title) in zip(axes, titles.items()):
        loss = histories[key].loss
        ax.plot(loss, color="0.8", lw=0.4)
        ax.plot(np.arange(len(smooth(loss))) + 50, smooth(loss), color=TAB10[1])
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("iteration")
    axes[0].set_ylabel("training loss (each its own)")
    fig.tight_layout()
    figures.append((save(fig, out, f"{tag}_student_losses.png"),
                    "The three students' training losses per iteration (grey) and their moving mean."))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, key in zip(axes, ("teacher", best)):
        cm = confusion(y_test, predictions[key])
        ax.imshow(np.log1p(cm), cmap="Blues")
        for i in range(10):
            for j in range(10):
                if cm[i, j]:
                    ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=6,
                            color="white" if i == j else "black")
        ax.set_xticks(range(10), names, rotation=90 if len(names[0]) > 1 else 0)
        ax.set_yticks(range(10), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{key}: test {pct(np.mean(predictions[key] == y_test))}")
    fig.tight_layout()
    figures.append((save(fig, out, f"{tag}_confusion.png"),
                    f"Confusion matrices on the test set (seed {seed}): the teacher and the "
                    f"distilled student chosen on validation ({best})."))

    word = item_word(numbers["dataset"])
    rescued = np.flatnonzero((predictions["student"] != y_test) & (predictions[best] == y_test))[:8]
    if len(rescued):
        models = art["models"]
        probs_plain = softmax(models["student"].predict(x_test[rescued]))
        probs_best = softmax(models[best].predict(x_test[rescued]))
        fig, axes = plt.subplots(1, len(rescued), figsize=(1.6 * len(rescued), 2.3), squeeze=False)
        for ax, i, pp, pb in zip(axes[0], rescued, probs_plain, probs_best):
            ax.imshow(x_test[i].reshape(28, 28), cmap="gray_r")
            ax.set_title(f"true {names[y_test[i]]}\nstudent {names[pp.argmax()]} ({pp.max():.0%})\n"
                         f"distilled {names[pb.argmax()]} ({pb.max():.0%})", fontsize=7)
            ax.axis("off")
        figures.append((save(fig, out, f"{tag}_rescued.png"),
                        f"Test {word}s the plain student gets wrong and the distilled one gets "
                        f"right (seed {seed}; softmax probability of the predicted class)."))
    figures.append(omitted_figure(split, art, names, out, tag, seed))
    return figures


def omitted_figure(split, art, names, out, tag, seed, per_row=10):
    """The omitted class's test images that the distilled student (bias raised) gets right,
    and those it gets wrong, with what it predicted."""
    digit, pred = art["omit"], art["omitted"]["corrected"]
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
                 f"{n_right} of {len(mine)} right after the bias correction (seed {seed})", y=1.02)
    name = save(fig, out, f"{tag}_omitted_{digit}.png")
    return (name, f"The distilled student trained without any '{names[digit]}': test images of "
                  "that class it gets right (top) and wrong (bottom), once its bias is raised.")


def describe(n):
    """The study's prose, computed from its numbers."""
    word, k = item_word(n["dataset"]), len(n["seeds"])
    acc = {m: pct_spread(n[m]["test_accuracy"]) for m in MODELS}
    sizes, cfg = n["sizes"], n["settings"]
    chosen = ", ".join(f"{name} in {c} of {k}" for name, c in n["best_distilled"]["chosen"].items())
    unchanged = n["teacher_unchanged_by_distillation"]
    check = ("bit-identical after the three distillations in every seed"
             if set(unchanged) == {"yes"}
             else f"CHANGED by distillation ({unchanged})")
    return (
        "A large teacher is trained on the labels; a small student is then trained to imitate "
        "it, either by regressing the teacher's logits or on its softened probabilities "
        "(temperature T), which tell the student which wrong classes are nearly right. "
        f"{DATASET_NAMES[n['dataset']]}, preset '{n['preset']}', {seed_range(n['seeds'])}. "
        f"{sizes['train']:,} training images, {sizes['validation']:,} held out of the training "
        f"set for validation, {sizes['test']:,} test images; pixels scaled to [0, 1] with the "
        "training images' constants, the same map for all three. Teacher "
        f"{cfg['teacher_epochs']} epochs, students {cfg['student_epochs']} epochs, batch "
        f"{cfg['batch']}, rate {cfg['lr']:g}"
        + (f"; the teacher with dropout {cfg['teacher_dropout']:g} after each hidden layer"
           if cfg["teacher_dropout"] else "")
        + (f"; every network's training images shifted by up to {cfg['jitter']} pixels, and the "
           "teacher in the loop shown the student's shifted images" if cfg["jitter"] else "")
        + ". The teacher is in the loop: each batch's soft "
        "targets are computed from its images as the student trains.\n\n"
        f"Test accuracy: teacher {acc['teacher']}, student from the labels {acc['student']}, "
        f"student regressing the teacher's logits {acc['student_kd_mse']}, student on soft "
        f"targets {acc['student_kd_soft']}. Chosen on validation: {chosen} seeds; its test "
        f"accuracy {pct_spread(n['best_distilled']['test_accuracy'])}. The chosen student gets "
        f"right {n['rescued_by_distillation']['mean']:.0f} test {word}s the plain student gets "
        f"wrong and gets wrong {n['broken_by_distillation']['mean']:.0f} it gets right"
        f"{' (mean over seeds)' if k > 1 else ''}. The frozen teacher, whose arrays the "
        f"distillation step's optimizer is handed, is {check}."
        + ("\n\nThe course evaluated its networks on unscaled test images (see the note below "
           "the table). " + against_course(
               [(NAMES[m], n[m]["test_accuracy"], COURSE_ACCURACY[m], pct)
                for m in COURSE_ACCURACY], n["seeds"])
           if n["preset"] == "course" and n["dataset"] == COURSE_DATASET else "")
        + "\n\n" + describe_omitted(n["omitted"], word, k))


def _count(value):
    """A spread of counts in a sentence: '133' for one seed, '131 ± 12' over seeds."""
    return f"{value['mean']:.0f}" if value["n"] == 1 else f"{value['mean']:.0f} ± {value['sd']:.0f}"


def describe_omitted(o, word, k):
    name, mean = o["class_name"], "" if k == 1 else " (mean ± sd over seeds)"
    plain, distilled, corrected = o["plain"], o["distilled"], o["corrected"]
    return (
        f"Omitted class (Hinton et al. 2015, section 3): two more students learn from a transfer "
        f"set of {_count(o['transfer_size'])} training images with no {name} at all. The one "
        f"trained on the labels gets {_count(plain['errors_on_digit'])} of the "
        f"{_count(o['digit_test_images'])} test {name}s wrong ({_count(plain['test_errors'])} "
        "errors in all): it has never been told that class exists. The one trained on the "
        f"teacher's soft targets has never seen a {name} either, and gets "
        f"{_count(distilled['errors_on_digit'])} of them wrong ({_count(distilled['test_errors'])} "
        "errors in all)"
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
        "settings to the tuned ones, one change at a time, each step on top of the last; every step retrains "
        "what it changes and is scored on the "
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
                             "experiment (default 3)")
    args = parser.parse_args(argv)
    result = run(args.out, args.quick, args.seed, omit=args.omit, **mnist_options(args))
    print(result["text"])
    print_numbers(TITLE, result["numbers"])
    return result


if __name__ == "__main__":
    main()
