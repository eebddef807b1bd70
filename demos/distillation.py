"""Teacher, student and knowledge distillation on MNIST.

A large network, the teacher (784-1024-512-10), learns the digits from their labels. A small
one, the student (784-128-64-10), learns them three ways: from the labels alone, by copying the
teacher's logits (its ten outputs before the softmax), and from the teacher's soft targets
(the softmax of its logits divided by a temperature T > 1: probabilities that say which wrong
digits are nearly right) mixed with the labels. Training a student on what a teacher outputs
is knowledge distillation. 5,000 training images are held out for validation: the better
distilled student is chosen on them, never on the test images.

    python -m demos.distillation [--out DIR] [--seed N] [--data-dir DIR]   # course settings
"""

import argparse

import numpy as np

from demos._common import TAB10, mnist_seed_split, pct, plt, print_numbers, save
from scratchnn import (SGD, RandomShift, SoftTargetLoss, cosine_schedule, distill_logit_mse, fit,
                       mlp, predict_classes, softmax, softmax_cross_entropy, train_step)
from scratchnn.datasets import load_mnist
from scratchnn.train import EpochStreams

# %% The course's settings
COURSE = dict(
    teacher=(784, 1024, 512, 10), student=(784, 128, 64, 10),   # layer widths, input to output
    lr=0.01, momentum=0.0, nesterov=False,   # plain SGD: w <- w - lr * dL/dw
    batch=32, cosine=False,                  # cosine: the rate decays from lr to 0 over the epochs
    weight_decay=0.0,                        # each step also pulls every weight towards 0
    teacher_epochs=20, student_epochs=10,
    kd_mse_lr=0.01,                          # the rate of the student that copies the logits
    teacher_dropout=0.0,                     # dropout after each of the teacher's hidden layers
    jitter=0)                                # shift each training image by up to this many pixels
TEMPERATURE, ALPHA = 4.0, 0.9                # soft targets softmax(logits / T), weighted alpha
STUDENTS = ("student", "student_kd_mse", "student_kd_soft")


# %% 1. The data
# load_mnist reads MNIST's four files; mnist_seed_split holds 5,000 training images out for
# validation and scales every pixel to [0, 1] with the training images' constants.
def load_data(seed, data=None, quick=False):
    """The split (x_train, y_train, x_val, y_val, x_test, y_test: float32 rows of 784 pixels
    and integer labels; ``quick``: 2,500 / 500 / 1,000 images) and the seed's streams for the
    teacher's and the students' initial weights and for the order of the batches."""
    split, model_seq = mnist_seed_split(data if data is not None else load_mnist(), seed, quick)
    return split, dict(zip(("teacher", "students", "batches"), model_seq.spawn(3)))


# %% 2. The models
def teacher_model(settings, rng):
    return mlp(settings["teacher"], dropout=settings["teacher_dropout"], rng=rng)


def student_model(settings, rng):
    return mlp(settings["student"], rng=rng)


# %% 3. Training
def make_optimizer(settings, lr):
    return SGD(lr=lr, momentum=settings["momentum"], nesterov=settings["nesterov"],
               weight_decay=settings["weight_decay"])


def jitter(settings):
    """The settings' random shift of the training images (None: none)."""
    return RandomShift(settings["jitter"]) if settings["jitter"] else None


def train_on_labels(model, x, y, settings, epochs, batches, verbose=True, name="train"):
    """Cross-entropy on the labels, with the library's fit: the teacher, the plain student."""
    lr = settings["lr"]
    return fit(model, softmax_cross_entropy, make_optimizer(settings, lr), x, y, epochs=epochs,
               batch_size=settings["batch"], rng=batches, augment=jitter(settings),
               lr_schedule=cosine_schedule(lr, epochs) if settings["cosine"] else None,
               print_epochs=verbose, name=name)


def distill(student, teacher, loss_fn, x, y, settings, lr, batches, verbose=True, name="distill"):
    """Train ``student`` to imitate ``teacher``; returns the loss of each step.

    loss_fn(student_logits, teacher_logits[, labels]); ``y=None``: a loss without labels.
    The teacher only predicts (in evaluation mode: no dropout, its full output) and is never
    given to the optimizer, so nothing here can change it.
    """
    epochs, size, shift = settings["student_epochs"], settings["batch"], jitter(settings)
    optimizer, losses = make_optimizer(settings, lr), []
    schedule = cosine_schedule(lr, epochs) if settings["cosine"] else None
    # The teacher's logits of every training image, once, when the images never change; when
    # each batch is shifted, the teacher must see the shifted batch, so they come per batch.
    all_logits = teacher.predict(x) if shift is None else None
    student.train()
    for epoch in range(epochs):
        if schedule is not None:
            optimizer.lr = float(schedule(epoch))           # set per epoch, as fit does
        rng = EpochStreams(batches).generator(epoch)        # the same batches as fit draws
        order, first = rng.permutation(len(x)), len(losses)
        for i in range(0, len(x), size):
            idx = order[i:i + size]
            xb = x[idx] if shift is None else shift(x[idx], rng)    # shifted once, for both
            teacher_logits = all_logits[idx] if shift is None else teacher.predict(xb)
            targets = (teacher_logits,) if y is None else (teacher_logits, y[idx])
            # one step: the student's forward, the loss, backward, the update
            losses.append(train_step(student, loss_fn, optimizer, xb, *targets))
        if verbose:                                         # the mean over the epoch's steps
            print(f"{name} epoch {epoch + 1} loss {np.mean(losses[first:]):.4f}")
    return losses


def train_students(settings, split, teacher, student_seq, batches, verbose=True):
    """The three students, from the same initial weights and on the same batches; returns
    them, the loss of each of their steps and the plain student's fit History."""
    x, y = split["x_train"], split["y_train"]
    students = {key: student_model(settings, np.random.default_rng(student_seq))
                for key in STUDENTS}
    plain = train_on_labels(students["student"], x, y, settings, settings["student_epochs"],
                            batches, verbose, "student")
    losses = {
        "student": plain.loss,
        "student_kd_mse": distill(students["student_kd_mse"], teacher, distill_logit_mse, x, None,
                                  settings, settings["kd_mse_lr"], batches, verbose, "kd_mse"),
        "student_kd_soft": distill(students["student_kd_soft"], teacher,
                                   SoftTargetLoss(TEMPERATURE, ALPHA), x, y, settings,
                                   settings["lr"], batches, verbose, "kd_soft")}
    return students, losses, plain


# %% 4. Evaluation
def evaluate(models, split):
    """Each model's accuracy on the training, validation and test images; its test predictions."""
    numbers, predictions = {}, {}
    for key, model in models.items():
        predicted = {s: predict_classes(model, split[f"x_{s}"]) for s in ("train", "val", "test")}
        right = {s: predicted[s] == split[f"y_{s}"] for s in predicted}
        numbers[key] = {"train_accuracy": float(right["train"].mean()),
                        "validation_accuracy": float(right["val"].mean()),
                        "test_accuracy": float(right["test"].mean()),
                        "test_errors": int(np.sum(~right["test"]))}
        predictions[key] = predicted["test"]
    return numbers, predictions


def choose_distilled(numbers):
    """The better distilled student on the validation images (a tie: the first); the test
    images play no part in the choice."""
    return max(("student_kd_mse", "student_kd_soft"),
               key=lambda key: numbers[key]["validation_accuracy"])


def same_arrays(before, after):
    """True if two state_dicts hold the same arrays, bit for bit."""
    return before.keys() == after.keys() and all(
        before[k].dtype == after[k].dtype and before[k].tobytes() == after[k].tobytes()
        for k in before)


# %% 5. Figures
def plot_data(data, out, prefix):
    names, images, labels = data["class_names"], data["train_images"], data["train_labels"]
    fig, axes = plt.subplots(1, 10, figsize=(10, 1.6))
    for k, ax in enumerate(axes):
        if np.any(labels == k):
            ax.imshow(images[np.argmax(labels == k)], cmap="gray_r")
        ax.set_title(names[k], fontsize=8)
        ax.axis("off")
    fig.suptitle("One training image of each class", y=1.08)
    examples = save(fig, out, f"{prefix}_examples.png")
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
    for ax, part in zip(axes, ("train", "test")):
        counts = np.bincount(data[f"{part}_labels"], minlength=10)
        ax.bar(range(10), counts, color=TAB10)
        ax.set_xticks(range(10), names, rotation=45 if len(names[0]) > 1 else 0)
        ax.set_title(f"{part}: {counts.sum():,} labels by class")
    fig.tight_layout()
    return {"examples": examples, "histograms": save(fig, out, f"{prefix}_label_histograms.png")}


def plot_losses(ax, losses, color, window=100):
    """Each step's loss (grey) and its moving mean over ``window`` steps."""
    window = max(1, min(window, len(losses) // 5))
    ax.plot(losses, color="0.8", lw=0.4)
    ax.plot(np.arange(window - 1, len(losses)),
            np.convolve(losses, np.ones(window) / window, mode="valid"), color=color)
    ax.set_yscale("log")
    ax.set_xlabel("step")


def plot_models(settings, split, losses, predictions, models, best, names, out, tag):
    y_test, files = split["y_test"], {}
    fig, ax = plt.subplots(figsize=(7, 3.2))
    plot_losses(ax, losses["teacher"], TAB10[0])
    sizes = "-".join(str(width) for width in settings["teacher"])
    ax.set(ylabel="cross-entropy", title=f"Teacher {sizes}: training loss per step")
    files["teacher_loss"] = save(fig, out, f"{tag}_teacher_loss.png")
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for ax, key, title in zip(axes, STUDENTS, ("student, labels (cross-entropy)",
                              "distilled, logits (MSE)",
                              f"distilled, soft targets T={TEMPERATURE:g}, alpha={ALPHA:g}")):
        plot_losses(ax, losses[key], TAB10[1])
        ax.set_title(title)
    axes[0].set_ylabel("training loss (each its own)")
    fig.tight_layout()
    files["student_losses"] = save(fig, out, f"{tag}_student_losses.png")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, key in zip(axes, ("teacher", best)):
        counts = np.zeros((10, 10), dtype=int)
        np.add.at(counts, (y_test, predictions[key]), 1)     # rows: true class, columns: predicted
        ax.imshow(np.log1p(counts), cmap="Blues")
        for i, j in zip(*np.nonzero(counts)):
            ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=6,
                    color="white" if i == j else "black")
        ax.set_xticks(range(10), names, rotation=90 if len(names[0]) > 1 else 0)
        ax.set_yticks(range(10), names)
        ax.set(xlabel="predicted", ylabel="true",
               title=f"{key}: test {pct(np.mean(predictions[key] == y_test))}")
    fig.tight_layout()
    files["confusion"] = save(fig, out, f"{tag}_confusion.png")
    rescued = np.flatnonzero((predictions["student"] != y_test) & (predictions[best] == y_test))[:8]
    if len(rescued):
        x = split["x_test"][rescued]
        plain, distilled = softmax(models["student"].predict(x)), softmax(models[best].predict(x))
        fig, axes = plt.subplots(1, len(rescued), figsize=(1.6 * len(rescued), 2.3), squeeze=False)
        for ax, i, image, p, d in zip(axes[0], rescued, x, plain, distilled):
            ax.imshow(image.reshape(28, 28), cmap="gray_r")
            ax.set_title(f"true {names[y_test[i]]}\nstudent {names[p.argmax()]} ({p.max():.0%})\n"
                         f"distilled {names[d.argmax()]} ({d.max():.0%})", fontsize=7)
            ax.axis("off")
        files["rescued"] = save(fig, out, f"{tag}_rescued.png")
    return files


# %% The whole study, one seed
def study(settings=COURSE, seed=0, out="results", data=None, quick=False, prefix="mnist",
          tag="course", figures=True, verbose=True):
    """Data -> teacher -> students -> evaluation -> figures, for one seed. Returns the numbers
    (a dict) and what the harness needs (the split, models, streams, figure files)."""
    data = data if data is not None else load_mnist()
    split, streams = load_data(seed, data, quick)
    teacher_seq, student_seq, batches = streams["teacher"], streams["students"], streams["batches"]
    teacher = teacher_model(settings, np.random.default_rng(teacher_seq))
    history = train_on_labels(teacher, split["x_train"], split["y_train"], settings,
                              settings["teacher_epochs"], batches, verbose, "teacher")
    before = teacher.state_dict()                           # a copy of every array
    students, losses, plain = train_students(settings, split, teacher, student_seq, batches,
                                             verbose)
    models, losses["teacher"] = {"teacher": teacher, **students}, history.loss
    numbers, predictions = evaluate(models, split)
    best = choose_distilled(numbers)
    for key, fitted in (("teacher", history), ("student", plain)):
        numbers[key]["seconds_per_epoch"] = fitted.seconds / len(fitted.epoch_seconds)
    plain_wrong = predictions["student"] != split["y_test"]
    best_wrong = predictions[best] != split["y_test"]
    numbers.update(
        best_distilled={"chosen": best, "test_accuracy": numbers[best]["test_accuracy"]},
        rescued_by_distillation=int(np.sum(plain_wrong & ~best_wrong)),
        broken_by_distillation=int(np.sum(~plain_wrong & best_wrong)),
        teacher_unchanged_by_distillation=same_arrays(before, teacher.state_dict()))
    files = {}
    if figures:
        files = {**plot_data(data, out, prefix),
                 **plot_models(settings, split, losses, predictions, models, best,
                               data["class_names"], out, f"{prefix}_{tag}")}
    return numbers, {"split": split, "models": models, "best": best, "files": files,
                     "student_seq": student_seq, "batches": batches}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results", help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="folder with MNIST's four files (default: the cache)")
    args, _ = parser.parse_known_args()     # an editor running this cell passes its own too
    numbers, _ = study(COURSE, args.seed, args.out, data=load_mnist(data_dir=args.data_dir))
    print_numbers("Teacher, student and knowledge distillation", numbers)
