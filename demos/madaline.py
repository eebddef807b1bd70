"""Madaline (rules MRI and MRII) on two interleaved moons, with 3, 5 and 8 hidden Adalines,
and a small backprop MLP on the same split for comparison.

    python -m demos.madaline [--out DIR] [--quick] [--seed N]
"""

import time

import numpy as np

from demos._common import TAB10, command_line, pct, plt, save
from scratchnn import SGD, Tanh, accuracy, fit, mlp, softmax_cross_entropy
from scratchnn.adaline import Madaline
from scratchnn.datasets import make_moons, train_test_split

HIDDEN = (3, 5, 8)
RULES = ("MRI", "MRII")
N_SAMPLES, NOISE, TEST_SIZE = 500, 0.2, 0.3


def plot_rule(rule, models, x, y, out):
    fig, axes = plt.subplots(2, len(models), figsize=(4.2 * len(models), 7.4),
                             gridspec_kw={"height_ratios": [3, 1.3]})
    lo, hi = x.min(axis=0) - 0.4, x.max(axis=0) + 0.4
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 250), np.linspace(lo[1], hi[1], 250))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    for col, (h, (model, test_acc)) in enumerate(models.items()):
        ax = axes[0, col]
        zz = model.predict(grid).reshape(gx.shape)
        ax.contourf(gx, gy, zz, levels=[-2, 0, 2], colors=["#fbe3d6", "#d6e6f5"])
        for k in (0, 1):
            ax.scatter(x[y == k, 0], x[y == k, 1], s=7, color=TAB10[k], label=f"class {k}")
        xs = np.linspace(lo[0], hi[0], 2)
        for j in range(model.n_hidden):          # hidden Adaline j: w0 x + w1 y + b = 0
            w0, w1 = model.W[:, j]
            if abs(w1) > 1e-12:
                ax.plot(xs, -(w0 * xs + model.b[j]) / w1, "--", lw=0.9, color="0.35")
            else:
                ax.axvline(-model.b[j] / w0, ls="--", lw=0.9, color="0.35")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_title(f"{rule}, {h} hidden: test {pct(test_acc)}")
        if col == 0:
            ax.legend(frameon=False, fontsize=7, loc="lower left")
        ax2 = axes[1, col]
        ax2.plot(np.arange(1, len(model.errors_) + 1), model.errors_, lw=0.8)
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("training errors")
    fig.suptitle(f"Madaline, rule {rule}: decision regions (blue: class 1), each hidden Adaline's "
                 "line (dashed), errors per epoch")
    fig.tight_layout()
    return save(fig, out, f"madaline_{rule.lower()}.png")


def run(out="results", quick=False, seed=0):
    x, y = make_moons(N_SAMPLES, NOISE, rng=seed)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, TEST_SIZE, rng=seed)
    t_tr, t_te = np.where(y_tr == 1, 1, -1), np.where(y_te == 1, 1, -1)
    max_epochs = 60 if quick else 500
    numbers, figures = {}, []
    for rule in RULES:
        models = {}
        numbers[rule.lower()] = {}
        for h in HIDDEN:
            start = time.perf_counter()
            model = Madaline(h, rule=rule, lr=0.5, max_epochs=max_epochs, rng=seed).fit(x_tr, t_tr)
            test_acc = model.score(x_te, t_te)
            models[h] = (model, test_acc)
            numbers[rule.lower()][str(h)] = {
                "train_accuracy": model.score(x_tr, t_tr),
                "test_accuracy": test_acc,
                "stopped_at_epoch": model.n_epochs_,
                "seconds": time.perf_counter() - start,
            }
        figures.append((plot_rule(rule, models, x_tr, y_tr, out),
                        f"Madaline {rule} with 3, 5 and 8 hidden Adalines on the training set."))

    net = mlp([2, 16, 2], activation=Tanh, rng=seed)
    start = time.perf_counter()
    fit(net, softmax_cross_entropy, SGD(lr=0.1, momentum=0.9), x_tr.astype(np.float32), y_tr,
        epochs=50 if quick else 300, batch_size=32, rng=seed, progress=False)
    numbers["mlp"] = {"hidden": 16, "train_accuracy": accuracy(net, x_tr, y_tr),
                      "test_accuracy": accuracy(net, x_te, y_te),
                      "seconds": time.perf_counter() - start}

    best = {r: max(numbers[r.lower()][str(h)]["test_accuracy"] for h in HIDDEN) for r in RULES}
    text = (
        f"Two moons, {N_SAMPLES} samples with noise {NOISE}, {int(TEST_SIZE * 100)}% held out for "
        "testing. A Madaline's output is an OR of its hidden Adalines, so its class-1 region is a "
        "union of half-planes: it can wrap one moon only roughly. MRI moves one unit (target +1) or "
        "all positive units (target -1) by the delta rule and rarely settles, so it usually runs to "
        "its 500-epoch limit; MRII flips the least confident units only when that does not raise "
        "the training errors, converges in a few epochs and can stall in a local minimum. Best "
        f"test accuracy: MRI {pct(best['MRI'])}, MRII {pct(best['MRII'])}; a 2-16-2 tanh MLP "
        f"trained by backpropagation on the same split reaches {pct(numbers['mlp']['test_accuracy'])}.")
    return {"numbers": numbers, "figures": figures, "text": text}


def main(argv=None):
    return command_line(run, __doc__, "Madaline", argv=argv)


if __name__ == "__main__":
    main()
