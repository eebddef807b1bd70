"""The report's side of the study in demos/madaline.py: seeds, why each rule stopped, the
course's single runs against the spread over seeds, rows, captions and prose."""

import math
from fractions import Fraction

from demos import madaline as homework
from demos._common import (map_seeds, pct, pct_spread, plt, save, seed_range, small_seeds,
                           strip_plot)
from demos.harness import and_list
from demos.schema import NotReported, Row, count, spread

TITLE = "2b. Madaline (MRI and MRII) on two moons"
SHORT_NAME = "Madaline (moons)"    # in the README's table
HIDDEN, RULES = homework.COURSE["hidden"], homework.COURSE["rules"]
QUICK = dict(max_epochs=60, mlp_epochs=50)

# What the course reported for MRI: one run per width, each scored on its test set.
COURSE_MRI_ACCURACY = {3: 0.884, 5: 0.888, 8: 0.884}
COURSE_MRI_EPOCHS = {3: "≈ 32", 5: "≈ 59", 8: "500"}
COURSE_MRI_STOP = {3: "before the limit", 5: "before the limit", 8: "the 500-epoch limit"}
COURSE_MRI_FINAL_LOSS = {3: "≈ 58", 5: "60 to 65", 8: "60 to 65"}
CHOSE_ON_TEST = NotReported("the course gave each width's test accuracy, above")
FAR = 2.0       # the course's figure is "far" from this run's seeds beyond 2 sd of their mean

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
    *[Row(f"mri.{h}.final_training_errors", f"MRI, {h} hidden: training errors left (course: "
          "the final loss it reported)", "int", course=COURSE_MRI_FINAL_LOSS[h]) for h in HIDDEN],
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
    Any other stop is refused, so that the report never explains a stop it did not see.
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


def one_seed(settings, seed, out=None):
    """The study's numbers for one seed, with why each reported model stopped."""
    result = homework.study(settings, seed, out)
    for rule in RULES:
        for h, model in result["models"][rule].items():
            result["numbers"][rule.lower()][str(h)]["stop"] = stop_reason(model)
    return result


def run(out="results", quick=False, seed=0, seeds=None):
    seeds = small_seeds(seed, seeds, quick)
    settings = {**homework.COURSE, **QUICK} if quick else homework.COURSE
    results = map_seeds(one_seed, [(settings, s, out if s == seeds[0] else None) for s in seeds])
    per_seed = [r["numbers"] for r in results]
    numbers = {"seeds": seeds, "n_samples": settings["n_samples"], "noise": settings["noise"],
               "lr": settings["lr"], "max_epochs": settings["max_epochs"],
               "mlp_epochs": settings["mlp_epochs"],
               "tol": results[0]["models"][RULES[0]][HIDDEN[0]].tol, "sizes": per_seed[0]["sizes"]}
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

    train = numbers["sizes"]["train"]
    settings_words = "Course settings" + (" shortened by --quick" if quick else "")
    figures = [(file, f"{settings_words}, seed {seeds[0]}: Madaline {rule} with "
                      f"{and_list([str(h) for h in HIDDEN])} hidden Adalines trained on the "
                      f"{train} training samples; orange is class 0, blue class 1, for regions "
                      "and dots alike.")
               for file, rule in zip(results[0]["figures"], RULES)]
    figures.append(spread_plot(numbers, out, settings_words))
    return {"numbers": numbers, "figures": figures, "text": describe(numbers)}


def spread_plot(numbers, out, settings_words):
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
            f"{settings_words}, {seed_range(numbers['seeds'])}: test accuracy of every seed (dots) "
            "and their mean (bar), for each rule and width, the width chosen on validation, and "
            "the MLP trained by backpropagation; red: the course's single run.")


def fits_test_set(accuracy, n_test):
    """Whether some count k of ``n_test`` test samples gives the course's figure as printed
    (k / n_test rounded to the figure's decimals)."""
    decimals = len(repr(accuracy).partition(".")[2])
    return any(round(k / n_test, decimals) == accuracy for k in range(n_test + 1))


def common_fraction(figures):
    """The smallest test set on which all ``figures`` are exact fractions, and their counts:
    [0.884, 0.888] -> (250, [221, 222])."""
    n = math.lcm(*(Fraction(f).limit_denominator(10_000).denominator for f in figures))
    return n, [round(f * n) for f in figures]


def seed_verdict(course, s):
    """One rule for every width: how many sd of this run's seeds the course's figure lies
    from their mean, and whether that is within FAR sd."""
    if not s["sd"]:
        return None, "no spread"
    z = round((course - s["mean"]) / s["sd"], 1) + 0.0
    return z, "within" if abs(z) <= FAR else "beyond"


def _against_course(n):
    """The course's single MRI runs against this run's seeds and test set, by one rule."""
    mri, test = n["mri"], n["sizes"]["test"]
    zs = {h: seed_verdict(COURSE_MRI_ACCURACY[h], mri[str(h)]["test_accuracy"]) for h in HIDDEN}
    by_verdict = {}
    for h, (_, verdict) in zs.items():
        by_verdict.setdefault(verdict, []).append(str(h))
    if "no spread" in by_verdict:
        text = "This run's seeds do not vary, so the course's MRI figures cannot be placed in sd."
    else:
        text = ("The course's MRI figures lie " + and_list([f"{z:+.1f}" for z, _ in zs.values()])
                + f" sd ({and_list([str(h) for h in zs])} hidden) from this run's means; a seed "
                f"rarely lands over {FAR:g} sd away: "
                + and_list([f"{and_list(widths)} hidden lie{'s' if len(widths) == 1 else ''} "
                            f"{verdict}" for verdict, widths in by_verdict.items()]) + ".")
    figures = sorted(set(COURSE_MRI_ACCURACY.values()))
    if not any(fits_test_set(c, test) for c in figures):
        size, counts = common_fraction(figures)
        text += (f" No count of this run's {test} test points gives "
                 f"{and_list([pct(c) for c in figures], 'or')} (they are "
                 f"{and_list([f'{k}/{size}' for k in counts])}): the course's test set, so its "
                 "data or split, differed.")
    return text


def describe(n):
    """The study's prose, computed from its numbers."""
    sizes, k = n["sizes"], len(n["seeds"])
    mri, mrii = n["mri"], n["mrii"]
    best = max(n[r.lower()][str(h)]["test_accuracy"]["mean"] for r in RULES for h in HIDDEN)
    lesson = ("the OR of a few straight lines wraps a curved moon only roughly." if
              n["mlp"]["test_accuracy"]["mean"] > best else
              "the OR of a few straight lines wraps these moons as well as backpropagation.")
    lines = [
        "Madaline (hidden Adalines whose OR is the output) learned two interleaved moons with "
        f"Madaline Rules I and II (MRI, MRII), over {seed_range(n['seeds'])}. With "
        f"{and_list([str(h) for h in HIDDEN])} hidden units MRI's test accuracy is "
        + and_list([pct_spread(mri[str(h)]["test_accuracy"]) for h in HIDDEN])
        + " (mean ± sd, the standard deviation) against the course's single runs' "
        + and_list([pct(COURSE_MRI_ACCURACY[h]) for h in HIDDEN]) + "; MRII, its width chosen "
        f"on validation data, reaches {pct_spread(mrii['chosen']['test_accuracy'])}, a 2-16-2 "
        f"network trained by backpropagation (not in the course) "
        f"{pct_spread(n['mlp']['test_accuracy'])}. "
        "The lesson: " + lesson,
        "",
        f"{n['n_samples']} samples, noise {n['noise']:g}: {sizes['test']} for testing; of the "
        f"other {sizes['train']}, each width is trained on {sizes['fit']}, chosen on "
        f"{sizes['validation']} (validation), then retrained on all {sizes['train']}; each seed "
        "draws its own moons.",
        "",
    ]
    runs = k * len(HIDDEN)
    limit = sum(mri[str(h)]["stop"].get("epoch limit", 0) for h in HIDDEN)
    fewest = min(mri[str(h)]["fewest_training_errors"]["min"] for h in HIDDEN)
    text = f"MRI ran to the epoch limit in {limit} of {runs} runs (limit {n['max_epochs']} epochs)."
    if fewest > 0:
        text += (
            " The course used this rule too (weight change under a tolerance for three epochs) "
            "but measured the change differently: here it is the largest single-sample step, at "
            f"least the learning rate ({n['lr']:g}; tol = {n['tol']:g}) whenever a sample is "
            "wrong, so the rule fires only at zero training errors (fewest here: "
            f"{fewest:.0f}).")
    lines += [text, ""]
    stalled = sum(mrii[str(h)]["stop"].get("stalled", 0) for h in HIDDEN)
    if stalled:
        left = [mrii[str(h)]["final_training_errors"] for h in HIDDEN]
        lines += [
            f"MRII stalled in {stalled} of {runs} runs: no trial flip was kept for three epochs, "
            "with "
            f"{min(s['min'] for s in left):.0f} to {max(s['max'] for s in left):.0f} of "
            f"{sizes['train']} samples wrong: not convergence.", ""]
    return "\n".join(lines + [_against_course(n)])
