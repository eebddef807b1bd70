"""The report's side of the study in demos/adaline.py: seeds, the course's error conventions,
why training stopped, rows, captions and prose."""

import matplotlib.ticker
import numpy as np

from demos import adaline as homework
from demos._common import (combine_seeds, pct, pct_spread, plt, save, seed_range, small_seeds,
                           strip_plot)
from demos.schema import Row, count, spread

TITLE = "2a. Adaline and the delta rule on Iris"
SHORT_NAME = "Adaline (Iris)"    # in the README's table
TASKS = homework.COURSE["tasks"]
QUICK_EPOCHS = 60
COURSE_ERROR = {"setosa": 5.0, "versicolor": 52.0}     # "final error about 5 / about 52"

# The course gave its final errors without saying how they were summed. The run computes
# the candidates, each from the same trained units, and says which comes closest.
# name: (description, factor applied to Σ(t − net)² of the ±1 unit, features). With
# 0/1 targets the same unit's output maps to (net + 1) / 2, so every residual halves.
CONVENTIONS = {
    "sse": ("Σ(t − net)², ±1 targets", 1.0, "standardised"),
    "half_sse": ("½·Σ(t − net)², ±1 targets", 0.5, "standardised"),
    "sse_01": ("Σ(t − net)², 0/1 targets", 0.25, "standardised"),
    "half_sse_01": ("½·Σ(t − net)², 0/1 targets", 0.125, "standardised"),
    "half_sse_raw": ("½·Σ(t − net)², ±1 targets, raw features (cm)", 0.5, "raw"),
}
SHORT = {"sse": "Σ, ±1", "half_sse": "½Σ, ±1", "sse_01": "Σ, 0/1", "half_sse_01": "½Σ, 0/1",
         "half_sse_raw": "½Σ, ±1, raw cm"}      # the table's and the plot's labels

ROWS = [row for task, name in (("setosa", "Setosa"), ("versicolor", "Versicolor")) for row in [
    Row(f"{task}.train_accuracy", f"{name} vs rest: accuracy on the 150 training flowers", "pct"),
    Row(f"{task}.heldout_accuracy", f"{name} vs rest: accuracy on 50 held-out flowers "
        "(unit trained on the other 100)", "pct"),
    Row(f"{task}.least_squares_accuracy", f"{name} vs rest: least-squares line, accuracy on "
        "the 150", "pct"),
    Row(f"{task}.final_error", f"{name} vs rest: final error, in the convention closest to "
        "the course's (see the text)", "f2", course=f"≈ {COURSE_ERROR[task]:.0f}"),
    Row(f"{task}.least_squares_error", f"{name} vs rest: least-squares minimum of that error",
        "f2"),
    Row(f"{task}.epochs", f"{name} vs rest: epochs run", "int"),
    Row(f"{task}.stop", f"{name} vs rest: why training stopped", "counts"),
]]


def stop_reason(model):
    """Why Adaline.fit stopped: the error changed by less than ``tol`` (relative) in an
    epoch, or the epoch limit came first. Any other stop is refused, so that the report
    never explains a stop it did not see."""
    sse = model.sse_
    if len(sse) > 1 and abs(sse[-2] - sse[-1]) <= model.tol * sse[-2]:
        return "error change under tol"
    if model.n_epochs_ != model.epochs:
        raise RuntimeError("Adaline stopped early without meeting its tolerance")
    return "epoch limit"


def one_seed(settings, seed, out):
    """Every number of one seed: the study's, why each unit stopped, and its final error in
    each convention (a unit on the raw features, same stream, gives the last)."""
    result = homework.study(settings, seed, out)
    x, _, y, names = homework.load_data()
    init = homework.seed_streams(seed)[0]
    for task in TASKS:
        raw = homework.adaline(settings, init).fit(x, homework.targets(y, names, task))
        sse = {"standardised": result["numbers"][task].pop("sse"), "raw": raw.sse_[-1]}
        result["numbers"][task].update(
            stop=stop_reason(result["units"][task]),
            errors={name: factor * sse[features]
                    for name, (_, factor, features) in CONVENTIONS.items()})
    return result


def closest_convention(errors):
    """The convention whose run values are nearest the course's pair (sum of |log ratio|)."""
    def distance(name):
        return sum(abs(np.log(errors[task][name] / COURSE_ERROR[task])) for task in TASKS)
    return min(CONVENTIONS, key=distance)


def run(out="results", quick=False, seed=0, seeds=None):
    seeds = small_seeds(seed, seeds, quick)
    settings = {**homework.COURSE, "epochs": QUICK_EPOCHS} if quick else homework.COURSE
    results = [one_seed(settings, s, out if s == seeds[0] else None) for s in seeds]
    x, _, y, names = homework.load_data()
    numbers = {"seeds": seeds, "epochs_limit": settings["epochs"], "learning_rate": settings["lr"],
               "heldout": settings["n_heldout"], "n_samples": len(x), "conventions": {},
               "petal_length_means": {name: float(x[y == k, 2].mean())
                                      for k, name in enumerate(names)}}
    for task in TASKS:
        runs = [r["numbers"][task] for r in results]
        numbers[task] = {key: spread([r[key] for r in runs]) for key in
                         ("train_accuracy", "heldout_accuracy", "epochs")}
        numbers[task].update(
            least_squares_accuracy=runs[0]["least_squares_accuracy"],
            stop=count(r["stop"] for r in runs),
            errors=combine_seeds([r["errors"] for r in runs]),
            least_squares_sse=runs[0]["least_squares_sse"])
    for name, (label, factor, _) in CONVENTIONS.items():
        numbers["conventions"][name] = {
            "label": label,
            **{task: numbers[task]["errors"][name]["mean"] for task in TASKS},
            **{f"{task}_floor": factor * numbers[task]["least_squares_sse"] for task in TASKS}}
    best = closest_convention({task: {c: numbers["conventions"][c][task] for c in CONVENTIONS}
                               for task in TASKS})
    numbers["closest_convention"] = best
    for task in TASKS:
        numbers[task]["final_error"] = numbers[task]["errors"][best]
        numbers[task]["least_squares_error"] = numbers["conventions"][best][f"{task}_floor"]

    settings_words = "course settings" + (" shortened by --quick" if quick else "")
    first = f"{settings_words}, seed {seeds[0]}"
    captions = [
        "Iris scatter matrix: Setosa stands apart on the petal features; Versicolor lies "
        "between the other two.",
        f"Sum of squared errors of the linear output after each epoch ({first}), online and "
        "batch delta rule, with the least-squares minimum it descends to.",
        f"Decision line (net = 0) of an Adaline trained on the two petal features alone "
        f"({first}); the side shaded in a species' colour is classified as that species."]
    figures = list(zip(results[0]["figures"], captions))
    figures.append(conventions_plot(numbers, out, settings_words))
    return {"numbers": numbers, "figures": figures, "text": describe(numbers)}


def conventions_plot(numbers, out, settings_words):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, task in zip(axes, TASKS):
        groups = [(SHORT[name].replace(", raw", ",\nraw"), numbers[task]["errors"][name]["values"], None)
                  for name in CONVENTIONS]
        strip_plot(ax, groups, "final error", fmt="f")
        for i, name in enumerate(CONVENTIONS):
            ax.hlines(numbers["conventions"][name][f"{task}_floor"], i - 0.3, i + 0.3,
                      color="0.5", ls=":", label="least-squares minimum" if i == 0 else None)
        ax.axhline(COURSE_ERROR[task], color="#d62728", lw=1, label="the course (≈)")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(f"{task} vs rest: the final error, summed five ways")
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return (save(fig, out, "adaline_error_conventions.png"),
            f"{settings_words.capitalize()}, {seed_range(numbers['seeds'])}: the final error "
            "of the trained units in five conventions (one dot a seed; the last, in raw cm, of "
            "units trained on the unscaled features), each convention's least-squares minimum "
            "(dotted) and the course's figure (red).")


def describe(n):
    """The study's prose, computed from its numbers."""
    s, v = n["setosa"], n["versicolor"]
    best, conv = n["closest_convention"], n["conventions"]
    opening = (
        "Adaline, one linear unit (net = w·x + b) trained by the delta rule (w += lr (t − net) x "
        "after each flower, target t = ±1), learned each Iris species against "
        f"the other two, over {seed_range(n['seeds'])}. Its final error is "
        f"{s['final_error']['mean']:.2f} (Setosa) and {v['final_error']['mean']:.2f} (Versicolor) "
        f"against the course's ≈ {COURSE_ERROR['setosa']:.0f} and "
        f"≈ {COURSE_ERROR['versicolor']:.0f}, summed as {conv[best]['label'].replace(', ', ' with ', 1)}"
        f", the convention closest to the course's. It classifies {pct_spread(s['train_accuracy'])}"
        f" of the training flowers for Setosa and {pct_spread(v['train_accuracy'])} for "
        "Versicolor (mean ± sd, the standard deviation over seeds).")
    if v["least_squares_accuracy"] < 1:
        opening += (
            " The lesson: the rule minimises the squared error of the linear output, not the "
            "mistakes; even its minimum, the least-squares line, gets only "
            f"{pct(v['least_squares_accuracy'])} of Versicolor right: Versicolor lies between "
            "the other two.")
    else:
        opening += (" The lesson: the rule minimises the squared error of the linear output; "
                    "here its minimum, the least-squares line, separates both species.")
    floors = []
    for task in TASKS:
        course, floor = COURSE_ERROR[task], conv[best][f"{task}_floor"]
        if course < floor:
            floors.append(f" Its ≈ {course:.0f} for {task.capitalize()} is below the closest "
                          f"convention's least-squares minimum, {floor:.2f}, which no linear "
                          "unit goes under: the course measured it on other data or otherwise.")
    return "\n".join([
        opening,
        "",
        f"Online delta rule (rate {n['learning_rate']:g}, at most {n['epochs_limit']} epochs) on "
        "standardised features (mean 0, sd 1); seed s draws the initial weights, sample "
        "order and held-out split. A second unit, trained on "
        f"{n['n_samples'] - n['heldout']} flowers, classifies {pct_spread(s['heldout_accuracy'])} "
        f"for Setosa and {pct_spread(v['heldout_accuracy'])} for Versicolor of the other "
        f"{n['heldout']}. 'Error change under tol': an epoch changed the error by less than a "
        "tolerance.",
        "",
        "The course did not say how it summed its errors. Five ways (Σ: sum of (t − net)²; "
        "means, Setosa / Versicolor): "
        + "; ".join(f"{SHORT[name]}: {c['setosa']:.2f} / {c['versicolor']:.2f}"
                    for name, c in conv.items()) + "." + "".join(floors),
    ])
