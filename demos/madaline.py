"""Madaline (rules MRI and MRII) on two interleaved moons, with 3, 5 and 8 hidden Adalines,
and a small backprop MLP on the same split for comparison, over seeds.

    python -m demos.madaline [--out DIR] [--quick] [--seed N] [--seeds K]

Seed s draws the moons, the test split, the validation split, the initial weights and
the order of the samples. The width is chosen on validation data; the test set is used
only for the figures reported.
"""

import sys

import numpy as np

from demos._common import (TAB10, command_line, pct, pct_spread, plt, save, seed_range,
                           small_seeds, strip_plot)
from demos.schema import NotReported, Row, count, spread
from scratchnn import SGD, Tanh, accuracy, fit, mlp, softmax_cross_entropy
from scratchnn.adaline import Madaline
from scratchnn.datasets import make_moons, stratified_split, train_test_split

TITLE = "2b. Madaline (MRI and MRII) on two moons"
HIDDEN = (3, 5, 8)
RULES = ("MRI", "MRII")
N_SAMPLES, NOISE, TEST_SIZE, VALIDATION_SIZE = 500, 0.2, 0.3, 0.2   # validation: of the training part
LR, MAX_EPOCHS, QUICK_MAX_EPOCHS = 0.5, 500, 60
MLP_EPOCHS, QUICK_MLP_EPOCHS = 300, 50

# What the course reported for MRI (one run, best of its widths compared on the test set).
COURSE_MRI_ACCURACY = {3: 0.884, 5: 0.888, 8: 0.884}
COURSE_MRI_EPOCHS = {3: "≈ 32", 5: "≈ 59", 8: "500"}
COURSE_MRI_STOP = {3: "before the limit", 5: "before the limit", 8: "the 500-epoch limit"}
CHOSE_ON_TEST = NotReported("the course gave each width's test accuracy, above")

ROWS = [
    *[Row(f"mri.{h}.test_accuracy", f"MRI, {h} hidden: test accuracy", "pct",
          course=COURSE_MRI_ACCURACY[h]) for h in HIDDEN],
    Row("mri.chosen.test_accuracy", "MRI, width chosen on validation: test accuracy", "pct",
        course=CHOSE_ON_TEST),
    Row("mri.chosen.width", "MRI, width chosen on validation (seeds)", "counts"),
    *[Row(f"mri.{h}.epochs", f"MRI, {h} hidden: epochs run", "int", course=COURSE_MRI_EPOCHS[h])
      for h in HIDDEN],
    *[Row(f"mri.{h}.stop", f"MRI, {h} hidden: why it stopped", "counts",
          course=COURSE_MRI_STOP[h]) for h in HIDDEN],
    *[Row(f"mrii.{h}.test_accuracy", f"MRII, {h} hidden: test accuracy", "pct") for h in HIDDEN],
    Row("mrii.chosen.test_accuracy", "MRII, width chosen on validation: test accuracy", "pct"),
    Row("mrii.chosen.width", "MRII, width chosen on validation (seeds)", "counts"),
    *[Row(f"mrii.{h}.epochs", f"MRII, {h} hidden: epochs run", "int") for h in HIDDEN],
    *[Row(f"mrii.{h}.stop", f"MRII, {h} hidden: why it stopped", "counts") for h in HIDDEN],
    *[Row(f"mrii.{h}.final_training_errors", f"MRII, {h} hidden: training errors left", "int")
      for h in HIDDEN],
    Row("mlp.test_accuracy", "backprop MLP 2-16-2 (tanh): test accuracy", "pct",
        course="not part of the course"),
]


def stop_reason(model):
    """Why ``Madaline.fit`` stopped, from what it recorded.

    fit stops after three consecutive epochs whose largest weight change is under
    ``tol``, or at ``max_epochs``. Three quiet epochs mean different things:
      converged              no training errors left;
      stalled                errors left and no weight changed at all (for MRII: no trial
                             flip was accepted in three epochs);
      weight change under tol  errors left, weights still moving, but by less than tol.
    """
    recent = model.max_change_[-3:]
    if len(recent) == 3 and all(c < model.tol for c in recent):
        if model.errors_[-1] == 0:
            return "converged"
        return "stalled" if max(recent) == 0 else "weight change under tol"
    if model.n_epochs_ != model.max_epochs:
        raise RuntimeError(f"Madaline stopped at epoch {model.n_epochs_} of {model.max_epochs} "
                           "with no three quiet epochs: its stopping rule changed; update "
                           "stop_reason")
    return "epoch limit"


def one_seed(seed, max_epochs, mlp_epochs):
    """Every number of one seed, and the models trained on the whole training part."""
    data, split, val_split, models, net = np.random.SeedSequence(seed).spawn(5)
    x, y = make_moons(N_SAMPLES, NOISE, rng=np.random.default_rng(data))
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, TEST_SIZE, rng=np.random.default_rng(split))
    fit_idx, val_idx = stratified_split(y_tr, round(VALIDATION_SIZE * len(y_tr)), rng=val_split)
    t_tr, t_te = np.where(y_tr == 1, 1, -1), np.where(y_te == 1, 1, -1)
    result, trained = {"sizes": {"fit": len(fit_idx), "validation": len(val_idx),
                                 "train": len(y_tr), "test": len(y_te)}}, {}
    for rule in RULES:
        result[rule.lower()] = {}
        for h in HIDDEN:
            def make():
                return Madaline(h, rule=rule, lr=LR, max_epochs=max_epochs,
                                rng=np.random.default_rng(models))
            # Choosing: trained on the fit part, scored on validation.
            chooser = make().fit(x_tr[fit_idx], t_tr[fit_idx])
            # Reported: the same recipe on the whole training part, scored on test.
            model = make().fit(x_tr, t_tr)
            trained[rule, h] = model
            result[rule.lower()][str(h)] = {
                "validation_accuracy": chooser.score(x_tr[val_idx], t_tr[val_idx]),
                "train_accuracy": model.score(x_tr, t_tr),
                "test_accuracy": model.score(x_te, t_te),
                "epochs": model.n_epochs_,
                "stop": stop_reason(model),
                "final_training_errors": model.errors_[-1],
                "fewest_training_errors": min(model.errors_),
            }
        scores = result[rule.lower()]
        # Ties go to the narrower net (fewer parameters).
        best = max(HIDDEN, key=lambda h: (scores[str(h)]["validation_accuracy"], -h))
        scores["chosen"] = {"width": best, "test_accuracy": scores[str(best)]["test_accuracy"]}
    rng = np.random.default_rng(net)
    net = mlp([2, 16, 2], activation=Tanh, rng=rng)
    fit(net, softmax_cross_entropy, SGD(lr=0.1, momentum=0.9), x_tr.astype(np.float32), y_tr,
        epochs=mlp_epochs, batch_size=32, rng=rng, progress=False)
    result["mlp"] = {"train_accuracy": accuracy(net, x_tr, y_tr),
                     "test_accuracy": accuracy(net, x_te, y_te)}
    return result, trained, (x_tr, y_tr)


def run(out="results", quick=False, seed=0, seeds=None):
    seeds = small_seeds(seed, seeds, quick)
    max_epochs = QUICK_MAX_EPOCHS if quick else MAX_EPOCHS
    mlp_epochs = QUICK_MLP_EPOCHS if quick else MLP_EPOCHS
    per_seed, first = [], None
    for s in seeds:
        result, trained, train_data = one_seed(s, max_epochs, mlp_epochs)
        per_seed.append(result)
        first = first or (trained, train_data, result)
    numbers = {"seeds": seeds, "n_samples": N_SAMPLES, "noise": NOISE, "lr": LR,
               "max_epochs": max_epochs, "mlp_epochs": mlp_epochs,
               "tol": first[0][RULES[0], HIDDEN[0]].tol, "sizes": per_seed[0]["sizes"]}
    for rule in (r.lower() for r in RULES):
        numbers[rule] = {}
        for h in map(str, HIDDEN):
            runs = [r[rule][h] for r in per_seed]
            numbers[rule][h] = {key: spread([r[key] for r in runs]) for key in runs[0]
                                if key != "stop"}
            numbers[rule][h]["stop"] = count(r["stop"] for r in runs)
        numbers[rule]["chosen"] = {
            "width": count(sorted(r[rule]["chosen"]["width"] for r in per_seed)),
            "test_accuracy": spread([r[rule]["chosen"]["test_accuracy"] for r in per_seed])}
    numbers["mlp"] = {key: spread([r["mlp"][key] for r in per_seed]) for key in per_seed[0]["mlp"]}

    trained, (x_tr, y_tr), result = first
    figures = [(plot_rule(rule, {h: (trained[rule, h], result[rule.lower()][str(h)]["test_accuracy"])
                                 for h in HIDDEN}, x_tr, y_tr, seeds[0], out),
                f"Madaline {rule} with 3, 5 and 8 hidden Adalines trained on the {len(y_tr)} "
                f"training samples of seed {seeds[0]}.") for rule in RULES]
    figures.append(spread_plot(numbers, out))
    return {"numbers": numbers, "figures": figures, "text": describe(numbers)}


def plot_rule(rule, models, x, y, seed, out):
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
        ax.set_title(f"{rule}, {h} hidden: test {pct(test_acc)}, {stop_reason(model)}")
        if col == 0:
            ax.legend(frameon=False, fontsize=7, loc="lower left")
        ax2 = axes[1, col]
        ax2.plot(np.arange(1, len(model.errors_) + 1), model.errors_, lw=0.8)
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("training errors")
    fig.suptitle(f"Madaline, rule {rule}, seed {seed}: decision regions (blue: class 1), each "
                 "hidden Adaline's line (dashed), errors per epoch")
    fig.tight_layout()
    return save(fig, out, f"madaline_{rule.lower()}.png")


def spread_plot(numbers, out):
    groups = []
    for rule in RULES:
        for h in HIDDEN:
            course = COURSE_MRI_ACCURACY[h] if rule == "MRI" else None
            groups.append((f"{rule}\n{h}", numbers[rule.lower()][str(h)]["test_accuracy"]["values"],
                           course))
        groups.append((f"{rule}\nchosen", numbers[rule.lower()]["chosen"]["test_accuracy"]["values"],
                       None))
    groups.append(("MLP\n2-16-2", numbers["mlp"]["test_accuracy"]["values"], None))
    fig, ax = plt.subplots(figsize=(9, 3.6))
    strip_plot(ax, groups, "test accuracy")
    ax.set_title(f"Test accuracy on two moons, {seed_range(numbers['seeds'])}")
    return (save(fig, out, "madaline_seeds.png"),
            "Test accuracy of every seed (dots) and their mean (bar), for each rule and width, "
            "the width chosen on validation, and the backprop MLP; red: the course's single run.")


def describe(n):
    """The study's prose, computed from its numbers."""
    sizes, seeds = n["sizes"], n["seeds"]
    k = len(seeds)
    lines = [
        f"Two moons, {n['n_samples']} samples with noise {n['noise']:g}; {sizes['test']} held "
        f"out for testing and {sizes['validation']} of the other {sizes['train']} held out "
        f"again for validation. {seed_range(seeds).capitalize()}: seed s draws the moons, both "
        "splits, the initial weights and the order of the samples. Each width is trained on "
        f"the {sizes['fit']} remaining samples and scored on validation to choose it; the "
        f"reported models are trained the same way on all {sizes['train']} training samples "
        "and scored once on the test set.",
        "",
        "A Madaline's output is the OR of its hidden Adalines, so its class-1 region is a union "
        "of half-planes and can wrap a moon only roughly. MRI moves one unit (target +1) or "
        "every positive unit (target -1) by the delta rule; MRII flips the least confident "
        "units, and keeps a flip only if it does not raise the training errors.",
        "",
    ]
    for rule in RULES:
        r = n[rule.lower()]
        stops = "; ".join(f"{h} hidden: " + ", ".join(f"{why} in {c} of {k} seeds"
                                                     for why, c in r[str(h)]["stop"].items())
                          for h in HIDDEN)
        accs = ", ".join(f"{h} hidden {pct_spread(r[str(h)]['test_accuracy'])}" for h in HIDDEN)
        chosen = ", ".join(f"{w} hidden in {c}" for w, c in r["chosen"]["width"].items())
        lines.append(f"**{rule}** stopped: {stops} (limit {n['max_epochs']} epochs). Test "
                     f"accuracy: {accs}. Chosen on validation: {chosen} of {k} seeds, test "
                     f"accuracy {pct_spread(r['chosen']['test_accuracy'])}.")
        if rule == "MRI":
            fewest = min(r[str(h)]["fewest_training_errors"]["min"] for h in HIDDEN)
            if fewest > 0:
                lines[-1] += (
                    " MRI moves a unit by at least the learning rate "
                    f"({n['lr']:g}) on every misclassified sample, so an epoch is quiet (largest "
                    f"change under tol = {n['tol']:g}) only if no sample is misclassified; the "
                    f"fewest training errors after any epoch, over every seed and width, were "
                    f"{fewest:.0f}, never 0, so it could not stop before the limit.")
        stalled = sum(r[str(h)]["stop"].get("stalled", 0) for h in HIDDEN)
        if stalled:
            left = [r[str(h)]["final_training_errors"] for h in HIDDEN]
            lines[-1] += (
                f" Stalled ({stalled} of {k * len(HIDDEN)} runs): for three epochs running no "
                "trial was kept, since none both corrected its sample and kept the training "
                f"errors from rising, with {min(s['min'] for s in left):.0f} to "
                f"{max(s['max'] for s in left):.0f} of {sizes['train']} training samples still "
                "wrong: a dead end for its trials, not convergence.")
        lines.append("")
    lines.append(f"A 2-16-2 tanh MLP trained by backpropagation ({n['mlp_epochs']} epochs) on "
                 "the same training samples reaches "
                 f"{pct_spread(n['mlp']['test_accuracy'])} on the test set.")
    lines += ["", _against_course(n)]
    return "\n".join(lines)


def _against_course(n):
    """Where the course's single MRI run lies in the spread over seeds, and why it may differ."""
    test, k = n["sizes"]["test"], len(n["seeds"])
    where = {}
    for h in HIDDEN:
        s, c = n["mri"][str(h)]["test_accuracy"], COURSE_MRI_ACCURACY[h]
        place = "within" if s["min"] <= c <= s["max"] else "above" if c > s["max"] else "below"
        z = f", {round((c - s['mean']) / s['sd'], 1) + 0.0:+.1f} sd from their mean" if s["sd"] else ""
        where.setdefault(place, []).append(f"{h} hidden ({pct(c)} against {pct(s['min'])} to "
                                           f"{pct(s['max'])}{z})")
    mean = np.mean([n["mri"][str(h)]["test_accuracy"]["mean"] for h in HIDDEN])
    se = np.sqrt(mean * (1 - mean) / test)
    text = (f"The course reported one run of MRI per width. With {test} test samples one sample "
            f"is {100 / test:.2f} points, and the binomial standard error of an accuracy near "
            f"{pct(mean)} is {100 * se:.1f} points.")
    if "within" in where:
        text += (f" Within the range of this run's {k} seeds: {'; '.join(where['within'])}; a "
                 "change of seed alone moves the figure that far.")
    for place in ("above", "below"):
        if place in where:
            text += (f" {place.capitalize()} every one of this run's {k} seeds: "
                     f"{'; '.join(where[place])}; more than a typical change of seed here, "
                     "though one run cannot tell whether the course's rule, data or luck "
                     "made the difference.")
    limit = all(set(n["mri"][str(h)]["stop"]) == {"epoch limit"} for h in HIDDEN)
    never_clean = min(n["mri"][str(h)]["fewest_training_errors"]["min"] for h in HIDDEN) > 0
    if limit and never_clean:
        text += (" The course's MRI stopped near epochs 32 and 59 with 3 and 5 units; this run's "
                 "ran to its limit with every width and seed and never reached zero training "
                 "errors, which its stopping rule (three epochs of weight changes under tol) "
                 "needs, so the course stopped MRI by another rule.")
    return text


def main(argv=None):
    return command_line(sys.modules[__name__], argv=argv)


if __name__ == "__main__":
    main()
