"""MNIST: the dataset, a teacher and a student MLP, and knowledge distillation.

    python -m demos.distillation [--out DIR] [--quick] [--preset course|tuned]
                                 [--data-dir DIR] [--dataset mnist|fashion-mnist]

The course's settings (the default preset): plain SGD, learning rate 0.01,
batch 32, cross-entropy; teacher 784-1024-512-10 for 20 epochs, students
784-128-64-10 for 10 epochs: one from the labels, one regressing the teacher's
logits (MSE), one on Hinton's soft targets (T = 4) mixed with the labels.
"""

import hashlib

import numpy as np

from demos._common import TAB10, command_line, pct, plt, save
from scratchnn import (SGD, SoftTargetLoss, cosine_schedule, distill_logit_mse, fit, mlp,
                       predict_classes, softmax, softmax_cross_entropy)
from scratchnn.datasets import PixelScaler, load_mnist

PRESETS = {
    # The course: plain SGD at a constant rate.
    "course": dict(lr=0.01, momentum=0.0, nesterov=False, batch=32, teacher_epochs=20,
                   student_epochs=10, cosine=False, weight_decay=0.0, kd_mse_lr=0.01),
    # Tuned: Nesterov momentum, a larger batch, and a cosine learning-rate decay to 0. The
    # logit-regression student gets a smaller rate: the tuned teacher's logits are large, and
    # so are the MSE gradients (at 0.05 its loss overflows within the first steps).
    "tuned": dict(lr=0.05, momentum=0.9, nesterov=True, batch=64, teacher_epochs=20,
                  student_epochs=20, cosine=True, weight_decay=5e-5, kd_mse_lr=0.01),
}
TEMPERATURE, ALPHA = 4.0, 0.9


def load_scaled(dataset, data_dir, download_ok, quick, seed):
    data = load_mnist(dataset, data_dir=data_dir, download_ok=download_ok)
    scaler = PixelScaler().fit(data["train_images"])     # constants from the training set only
    x_train, x_test = scaler.transform(data["train_images"]), scaler.transform(data["test_images"])
    y_train, y_test = data["train_labels"], data["test_labels"]
    if quick:
        rng = np.random.default_rng(seed)
        tr = rng.choice(len(x_train), min(3000, len(x_train)), replace=False)
        te = rng.choice(len(x_test), min(1000, len(x_test)), replace=False)
        x_train, y_train, x_test, y_test = x_train[tr], y_train[tr], x_test[te], y_test[te]
    return data, x_train, y_train, x_test, y_test


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
        ax.set_xticks(range(10), [n[:7] for n in names], rotation=45 if len(names[0]) > 1 else 0)
        ax.set_title(f"{split}: {counts.sum():,} labels")
    fig.tight_layout()
    second = save(fig, out, f"{prefix}_label_histograms.png")
    return [(first, "One training image of each class."),
            (second, "How many images of each class the training and test sets hold.")]


def state_hash(model):
    h = hashlib.sha256()
    for name, arr in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


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


def train(name, model, loss_fn, targets, x, preset, epochs, seed, verbose=True, lr=None):
    lr = lr or preset["lr"]
    schedule = cosine_schedule(lr, epochs) if preset["cosine"] else None
    opt = SGD(lr=lr, momentum=preset["momentum"], nesterov=preset["nesterov"],
              weight_decay=preset["weight_decay"])
    return fit(model, loss_fn, opt, x, targets, epochs=epochs, batch_size=preset["batch"], rng=seed,
               lr_schedule=schedule, print_epochs=verbose, name=name)


def evaluate(model, x_train, y_train, x_test, y_test):
    pred_train, pred_test = predict_classes(model, x_train), predict_classes(model, x_test)
    return {"train_accuracy": float(np.mean(pred_train == y_train)),
            "test_accuracy": float(np.mean(pred_test == y_test)),
            "test_errors": f"{int(np.sum(pred_test != y_test))}/{len(y_test)}",
            "train_errors": f"{int(np.sum(pred_train != y_train))}/{len(y_train)}"}, pred_test


def run(out="results", quick=False, seed=0, preset="course", dataset="mnist", data_dir=None,
        download_ok=True, verbose=True):
    cfg = dict(PRESETS[preset])
    if quick:
        cfg.update(teacher_epochs=2, student_epochs=2)
    data, x_train, y_train, x_test, y_test = load_scaled(dataset, data_dir, download_ok, quick, seed)
    prefix = dataset.replace("-", "_")
    figures = dataset_figures(data, out, prefix)
    numbers = {"dataset": {"name": dataset, "train_images": list(data["train_images"].shape),
                           "test_images": list(data["test_images"].shape),
                           "train_used": len(x_train), "test_used": len(x_test)},
               "preset": preset}
    rng = np.random.default_rng(seed)
    histories, predictions, models = {}, {}, {}

    def record(key, model, hist):
        res, pred = evaluate(model, x_train, y_train, x_test, y_test)
        res["seconds"] = hist.seconds
        res["seconds_per_epoch"] = hist.seconds / len(hist.epoch_seconds)
        numbers[key] = res
        histories[key], predictions[key], models[key] = hist, pred, model

    teacher = mlp([784, 1024, 512, 10], rng=rng)
    record("teacher", teacher, train("teacher", teacher, softmax_cross_entropy, y_train, x_train,
                                     cfg, cfg["teacher_epochs"], seed, verbose))
    teacher.freeze()
    before = state_hash(teacher)
    teacher_logits = teacher.predict(x_train)

    student_init = rng.integers(2**31)   # the three students start from the same weights
    students = {
        "student": (softmax_cross_entropy, y_train),
        "student_kd_mse": (distill_logit_mse, teacher_logits),
        "student_kd_soft": (SoftTargetLoss(TEMPERATURE, ALPHA), (teacher_logits, y_train)),
    }
    for key, (loss_fn, targets) in students.items():
        student = mlp([784, 128, 64, 10], rng=student_init)
        lr = cfg["kd_mse_lr"] if key == "student_kd_mse" else cfg["lr"]
        record(key, student, train(key, student, loss_fn, targets, x_train, cfg,
                                   cfg["student_epochs"], seed, verbose, lr=lr))
    numbers["teacher_unchanged_by_distillation"] = state_hash(teacher) == before
    numbers["distillation"] = {"temperature": TEMPERATURE, "alpha": ALPHA}

    tag = f"{prefix}_{preset}"
    fig, ax = plt.subplots(figsize=(7, 3.2))
    h = histories["teacher"]
    ax.plot(h.loss, color="0.8", lw=0.4, label="per iteration")
    ax.plot(np.arange(len(smooth(h.loss))) + 50, smooth(h.loss), color=TAB10[0], label="moving mean")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cross-entropy")
    ax.set_title(f"Teacher 784-1024-512-10: training loss ({preset} settings)")
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

    best = max(("student_kd_mse", "student_kd_soft"), key=lambda k: numbers[k]["test_accuracy"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, key in zip(axes, ("teacher", best)):
        cm = confusion(y_test, predictions[key])
        ax.imshow(np.log1p(cm), cmap="Blues")
        for i in range(10):
            for j in range(10):
                if cm[i, j]:
                    ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=6,
                            color="white" if i == j else "black")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{key}: test {pct(numbers[key]['test_accuracy'])}")
    fig.tight_layout()
    figures.append((save(fig, out, f"{tag}_confusion.png"),
                    f"Confusion matrices on the test set: teacher and the best distilled student ({best})."))

    rescued = np.flatnonzero((predictions["student"] != y_test) & (predictions[best] == y_test))[:8]
    if len(rescued):
        probs_plain = softmax(models["student"].predict(x_test[rescued]))
        probs_best = softmax(models[best].predict(x_test[rescued]))
        fig, axes = plt.subplots(1, len(rescued), figsize=(1.5 * len(rescued), 2.2), squeeze=False)
        for ax, i, pp, pb in zip(axes[0], rescued, probs_plain, probs_best):
            ax.imshow(x_test[i].reshape(28, 28), cmap="gray_r")
            ax.set_title(f"true {y_test[i]}\nstudent {pp.argmax()} ({pp.max():.0%})\n"
                         f"distilled {pb.argmax()} ({pb.max():.0%})", fontsize=7)
            ax.axis("off")
        figures.append((save(fig, out, f"{tag}_rescued.png"),
                        "Test digits the plain student gets wrong and the distilled one gets right "
                        "(softmax probabilities of the predicted class)."))
    numbers["rescued_by_distillation"] = int(np.sum((predictions["student"] != y_test)
                                                    & (predictions[best] == y_test)))
    numbers["broken_by_distillation"] = int(np.sum((predictions["student"] == y_test)
                                                   & (predictions[best] != y_test)))

    t, s = numbers["teacher"]["test_accuracy"], numbers["student"]["test_accuracy"]
    km, ks = numbers["student_kd_mse"]["test_accuracy"], numbers["student_kd_soft"]["test_accuracy"]
    text = (
        "A large teacher is trained on the labels; a small student is then trained to imitate it, "
        "either by regressing the teacher's logits or on its softened probabilities (temperature "
        "T), which tell the student which wrong classes are nearly right. "
        f"{dataset}, pixels scaled to [0, 1] with training-set constants applied to both splits. "
        f"Preset '{preset}'. Test accuracy: teacher {pct(t)}, student from labels {pct(s)}, "
        f"student regressing the teacher's logits {pct(km)}, student on soft targets {pct(ks)}. "
        f"The distilled student fixes {numbers['rescued_by_distillation']} test images the plain "
        f"student gets wrong and breaks {numbers['broken_by_distillation']}. The frozen teacher's "
        f"parameters are {'bit-identical' if numbers['teacher_unchanged_by_distillation'] else 'CHANGED'} "
        "after distillation.")
    return {"numbers": numbers, "figures": figures, "text": text}


def main(argv=None):
    return command_line(run, __doc__, "Teacher, student, distillation", mnist=True, argv=argv)


if __name__ == "__main__":
    main()
