"""Madaline on two interleaved moons: hidden Adalines whose OR is the output, trained by rule
MRI and by rule MRII with 3, 5 and 8 hidden units, the width chosen on validation data, and a
small network trained by backpropagation on the same split for comparison.

    python -m demos.madaline [--out DIR] [--seed N]      # the course's settings, one seed
"""

import argparse

import numpy as np

from demos._common import TAB10, pct, plt, print_numbers, save
from scratchnn import SGD, Tanh, accuracy, fit, mlp, softmax_cross_entropy
from scratchnn.adaline import Madaline
from scratchnn.datasets import make_moons, stratified_split, train_test_split

# %% The course's settings
COURSE = dict(
    n_samples=500, noise=0.2,      # two moons, Gaussian noise of standard deviation 0.2
    test_size=0.3,                 # share of the samples kept for the test
    validation_size=0.2,           # share of the training part held out to choose the width
    hidden=(3, 5, 8), rules=("MRI", "MRII"),
    lr=0.5, max_epochs=500,        # fit also stops after 3 epochs whose largest weight change
                                   # is under tol = 1e-3
    mlp_epochs=300,                # the backprop comparison (not part of the course)
)


# %% 1. The data: class 1 is the lower moon; Madaline's targets are t = +1 (class 1), -1 (class 0)
def load_data(settings, data, split, validation):
    x, y = make_moons(settings["n_samples"], settings["noise"], rng=np.random.default_rng(data))
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, settings["test_size"],
                                              rng=np.random.default_rng(split))
    fit_idx, val_idx = stratified_split(y_tr, round(settings["validation_size"] * len(y_tr)),
                                        rng=validation)
    t_tr, t_te = np.where(y_tr == 1, 1, -1), np.where(y_te == 1, 1, -1)
    return dict(x_train=x_tr, y_train=y_tr, t_train=t_tr, x_test=x_te, y_test=y_te, t_test=t_te,
                x_fit=x_tr[fit_idx], t_fit=t_tr[fit_idx], x_val=x_tr[val_idx], t_val=t_tr[val_idx])


# %% 2. The model: hidden Adalines z_j = sign(x . W_j + b_j), output = OR of the z_j
def madaline(settings, rule, h, rng):
    return Madaline(h, rule=rule, lr=settings["lr"], max_epochs=settings["max_epochs"],
                    rng=np.random.default_rng(rng))


# %% 3. Training: Madaline.fit, on each misclassified sample
# MRI:  t = +1: the unit with net input closest to 0 moves toward +1 by the delta rule;
#       t = -1: every unit with a positive net input moves toward -1.
# MRII: flip the least confident wrong units (one, then two, ...), and keep a flip only if
#       the sample becomes right and the training errors do not rise.
def train_and_choose(d, settings, rule, rng):
    """Each width trained on the fit part and scored on validation, to choose it; then the
    same recipe on the whole training part, scored on the test set (the figure reported)."""
    scores, models = {}, {}
    for h in settings["hidden"]:
        chooser = madaline(settings, rule, h, rng).fit(d["x_fit"], d["t_fit"])
        model = models[h] = madaline(settings, rule, h, rng).fit(d["x_train"], d["t_train"])
        scores[str(h)] = {
            "validation_accuracy": chooser.score(d["x_val"], d["t_val"]),
            "train_accuracy": model.score(d["x_train"], d["t_train"]),
            "test_accuracy": model.score(d["x_test"], d["t_test"]),
            "epochs": model.n_epochs_,
            "final_training_errors": model.errors_[-1],
            "fewest_training_errors": min(model.errors_)}
    # Ties go to the narrower net (fewer parameters).
    best = max(settings["hidden"], key=lambda h: (scores[str(h)]["validation_accuracy"], -h))
    scores["chosen"] = {"width": best, "test_accuracy": scores[str(best)]["test_accuracy"]}
    return scores, models


# %% 4. Evaluation beside a 2-16-2 tanh network trained by backpropagation on the same split
def backprop_mlp(d, settings, rng):
    rng = np.random.default_rng(rng)
    net = mlp([2, 16, 2], activation=Tanh, rng=rng)
    fit(net, softmax_cross_entropy, SGD(lr=0.1, momentum=0.9), d["x_train"].astype(np.float32),
        d["y_train"], epochs=settings["mlp_epochs"], batch_size=32, rng=rng, progress=False)
    return {"train_accuracy": accuracy(net, d["x_train"], d["y_train"]),
            "test_accuracy": accuracy(net, d["x_test"], d["y_test"])}


# %% 5. Figures: one colour per class, for its region and its dots alike
CLASS_COLOURS = {0: TAB10[1], 1: TAB10[0]}       # class 0 orange (t = -1), class 1 blue (t = +1)


def draw_regions(ax, model, x, y):
    """The region each class gets (shaded), the samples, and each hidden Adaline's line."""
    lo, hi = x.min(axis=0) - 0.4, x.max(axis=0) + 0.4
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 250), np.linspace(lo[1], hi[1], 250))
    zz = model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    ax.contourf(gx, gy, zz, levels=[-2, 0, 2], colors=[CLASS_COLOURS[0], CLASS_COLOURS[1]],
                alpha=0.15)
    for k in (0, 1):
        ax.scatter(x[y == k, 0], x[y == k, 1], s=7, color=CLASS_COLOURS[k], label=f"class {k}")
    xs = np.linspace(lo[0], hi[0], 2)
    for (w0, w1), b in zip(model.W.T, model.b):          # hidden Adaline: w0 x + w1 y + b = 0
        if abs(w1) > 1e-12:
            ax.plot(xs, -(w0 * xs + b) / w1, "--", lw=0.9, color="0.35")
        else:
            ax.axvline(-b / w0, ls="--", lw=0.9, color="0.35")
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))


def plot_rule(rule, models, scores, d, out):
    fig, axes = plt.subplots(2, len(models), figsize=(4.2 * len(models), 7.4),
                             gridspec_kw={"height_ratios": [3, 1.3]})
    for col, (h, model) in enumerate(models.items()):
        draw_regions(axes[0, col], model, d["x_train"], d["y_train"])
        axes[0, col].set_title(f"{rule}, {h} hidden: test {pct(scores[str(h)]['test_accuracy'])},"
                               f" {model.n_epochs_} epochs")
        axes[1, col].plot(np.arange(1, len(model.errors_) + 1), model.errors_, lw=0.8)
        axes[1, col].set(xlabel="epoch", ylabel="training errors")
    axes[0, 0].legend(frameon=False, fontsize=7, loc="lower left")
    fig.suptitle(f"Madaline, rule {rule}: regions and dots orange for class 0, blue for class 1; "
                 "each hidden Adaline's line dashed; errors per epoch below")
    fig.tight_layout()
    return save(fig, out, f"madaline_{rule.lower()}.png")


# %% The whole study, one seed
def study(settings=COURSE, seed=0, out="results"):
    """Data -> models -> training and choice of width -> test -> figures (none when ``out``
    is None), for one seed. Returns the numbers, the trained models and the figure files."""
    data, split, validation, models_rng, mlp_rng = np.random.SeedSequence(seed).spawn(5)
    d = load_data(settings, data, split, validation)
    numbers = {"sizes": {"fit": len(d["t_fit"]), "validation": len(d["t_val"]),
                         "train": len(d["t_train"]), "test": len(d["t_test"])}}
    models = {}
    for rule in settings["rules"]:
        numbers[rule.lower()], models[rule] = train_and_choose(d, settings, rule, models_rng)
    numbers["mlp"] = backprop_mlp(d, settings, mlp_rng)
    figures = [] if out is None else [plot_rule(rule, models[rule], numbers[rule.lower()], d, out)
                                      for rule in settings["rules"]]
    return {"numbers": numbers, "models": models, "figures": figures}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results", help="folder for figures (default: results)")
    parser.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    args, _ = parser.parse_known_args()     # an editor running this cell passes its own too
    print_numbers("Madaline", study(COURSE, args.seed, args.out)["numbers"])
