"""Adaline and the Widrow–Hoff delta rule on Iris: one linear unit learns one species against
the other two (Setosa, then Versicolor), beside the least-squares line it descends to, and a
second unit is checked on flowers it never saw.

    python -m demos.adaline [--out DIR] [--seed N]      # the course's settings, one seed
"""

import argparse

import numpy as np

from demos._common import TAB10, pct, plt, print_numbers, save
from scratchnn.adaline import Adaline, bipolar_step
from scratchnn.datasets import IRIS_FEATURES, load_iris, standardize, stratified_split

# %% The course's settings
COURSE = dict(
    tasks=("setosa", "versicolor"),   # each species against the other two
    lr=0.01,                          # the delta rule's learning rate, one sample at a time
    epochs=500,                       # at most: fit stops when an epoch changes the error by
                                      # less than 1e-4 of itself
    n_heldout=50,                     # flowers held out to check a unit trained on the rest
)
VIEW = (2, 3)                         # petal length and width: the view of the decision lines


def seed_streams(seed):
    """Independent random streams of one seed: the unit (initial weights, sample order), the
    held-out split, the held-out unit, the figures' extra units."""
    return np.random.SeedSequence(seed).spawn(4)


# %% 1. The data: 150 flowers, 4 features in cm, 3 species
def load_data():
    """x in cm, x standardised (each feature to mean 0, standard deviation 1), y, names."""
    x, y, names = load_iris()
    return x, standardize(x), y, names


def targets(y, names, task):
    """Adaline's bipolar targets: +1 for the species ``task``, -1 for the other two."""
    return np.where(y == names.index(task), 1, -1)


# %% 2. The model: net = x . w + b, output sign(net)
def adaline(settings, rng, mode="online", lr=None):
    return Adaline(lr=lr or settings["lr"], epochs=settings["epochs"], mode=mode, rng=rng)


# %% 3. Training: Adaline.fit, one delta-rule step w += lr (t - net) x per sample, each epoch
# in a new random order. The rule descends the squared error of the *linear* output net.


# %% 4. Evaluation
def least_squares(x, t):
    """The least-squares line net = x w + b, the minimum the delta rule descends to.
    Returns (accuracy of sign(net), sum of squared errors Σ(t − net)²)."""
    x1 = np.column_stack([x, np.ones(len(x))])
    net = x1 @ np.linalg.lstsq(x1, t, rcond=None)[0]
    return float(np.mean(bipolar_step(net) == t)), float(np.sum((t - net) ** 2))


def evaluate(x, xs, y, names, task, settings, seed):
    """One task, one seed: a unit trained on all flowers, and one scored on held-out flowers."""
    t = targets(y, names, task)
    init, split, held, _ = seed_streams(seed)
    unit = adaline(settings, init).fit(xs, t)
    keep, out = stratified_split(y, settings["n_heldout"], rng=split)
    x_keep, x_out = standardize(x[keep], x[out])       # scaled by the training flowers alone
    second = adaline(settings, held).fit(x_keep, t[keep])
    ls_accuracy, ls_sse = least_squares(xs, t)
    return {"train_accuracy": unit.score(xs, t), "heldout_accuracy": second.score(x_out, t[out]),
            "epochs": unit.n_epochs_, "sse": unit.sse_[-1],
            "least_squares_accuracy": ls_accuracy, "least_squares_sse": ls_sse}, unit


# %% 5. Figures
def scatter_matrix(x, y, names, out):
    d = x.shape[1]
    fig, axes = plt.subplots(d, d, figsize=(8, 8))
    for i in range(d):
        for j in range(d):
            for k, name in enumerate(names):
                if i == j:
                    axes[i, j].hist(x[y == k, i], bins=12, alpha=0.6, color=TAB10[k], label=name)
                else:
                    axes[i, j].scatter(x[y == k, j], x[y == k, i], s=8, color=TAB10[k])
            axes[-1, j].set_xlabel(IRIS_FEATURES[j])
        axes[i, 0].set_ylabel(IRIS_FEATURES[i])
    axes[0, 0].legend(loc="upper left", fontsize=7, frameon=False)
    fig.suptitle("Iris: every pair of features, coloured by species (diagonal: histograms)")
    fig.tight_layout()
    return save(fig, out, "adaline_iris_scatter_matrix.png")


def error_curves(xs, y, names, units, numbers, settings, rng, out):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, task in zip(axes, settings["tasks"]):
        batch = adaline(settings, rng, mode="batch", lr=0.1).fit(xs, targets(y, names, task))
        for sse, label in [(units[task].sse_, f"online (lr {settings['lr']:g})"),
                           (batch.sse_, "batch (lr 0.1)")]:
            ax.plot(np.arange(1, len(sse) + 1), sse, label=label)
        ax.axhline(numbers[task]["least_squares_sse"], color="0.5", ls=":", lw=1,
                   label="least-squares minimum")
        ax.set(title=f"{task} vs rest: Σ(t − net)² after each epoch", xlabel="epoch", yscale="log")
        ax.legend(frameon=False)
    fig.tight_layout()
    return save(fig, out, "adaline_error_curves.png")


def decision_lines(xs, y, names, settings, rng, out):
    """A unit trained on the two petal features alone: its line net = 0 and the side it calls
    the species, shaded in the species' colour."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    v = xs[:, VIEW]
    gx, gy = np.meshgrid(*[np.linspace(v[:, i].min() - 0.5, v[:, i].max() + 0.5, 200)
                           for i in (0, 1)])
    for ax, task in zip(axes, settings["tasks"]):
        t = targets(y, names, task)
        model = adaline(settings, rng).fit(v, t)
        zz = model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        ax.contourf(gx, gy, zz, levels=[-2, 0, 2], colors=["white", TAB10[names.index(task)]],
                    alpha=0.15)
        ax.contour(gx, gy, zz, levels=[0], colors="k", linewidths=1)
        for k, name in enumerate(names):
            ax.scatter(v[y == k, 0], v[y == k, 1], s=12, color=TAB10[k], label=name)
        ax.set(xlabel=IRIS_FEATURES[VIEW[0]] + " (standardised)",
               ylabel=IRIS_FEATURES[VIEW[1]] + " (standardised)",
               title=f"{task} vs rest: training accuracy {pct(model.score(v, t))} on this view")
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return save(fig, out, "adaline_decision_lines.png")


# %% The whole study, one seed
def study(settings=COURSE, seed=0, out="results"):
    """Data -> units -> training -> evaluation -> figures (none when ``out`` is None), for one
    seed. Returns the numbers per task, the trained units and the figure files."""
    x, xs, y, names = load_data()
    numbers, units = {}, {}
    for task in settings["tasks"]:
        numbers[task], units[task] = evaluate(x, xs, y, names, task, settings, seed)
    figures = []
    if out is not None:
        figures_rng = seed_streams(seed)[3]
        figures = [scatter_matrix(x, y, names, out),
                   error_curves(xs, y, names, units, numbers, settings, figures_rng, out),
                   decision_lines(xs, y, names, settings, figures_rng, out)]
    return {"numbers": numbers, "units": units, "figures": figures}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results", help="folder for figures (default: results)")
    parser.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    args, _ = parser.parse_known_args()     # an editor running this cell passes its own too
    print_numbers("Adaline", study(COURSE, args.seed, args.out)["numbers"])
