"""report.md: each study's explanation, figures and numbers beside the course's."""

from demos._common import flatten

TITLES = {
    "mcculloch_pitts": "1. McCulloch–Pitts neurons on a 7-segment display",
    "adaline": "2a. Adaline and the delta rule on Iris",
    "madaline": "2b. Madaline (MRI and MRII) on two moons",
    "autoencoder": "3. Deep autoencoder clustering of MNIST",
    "distillation": "4. Teacher, student and knowledge distillation on MNIST",
}

# What the course reported (or, marked so, a reference measured elsewhere), by result key.
# Each row: key in results.json, what it is, how to show it, the course's figure.
ROWS = {
    "mcculloch_pitts": [
        ("one_layer_params", "parameters, one-layer net", "int", "32"),
        ("two_layer_params", "parameters, two-layer net", "int", "28"),
        ("one_layer_digits_correct", "one-layer: digits 6-9 recognised (of 4)", "int", "4"),
        ("one_layer_silent_on_other_patterns", "one-layer: silent on other patterns (of 124)", "int", "-"),
        ("two_layer_digits_correct", "two-layer: digits 6-9 recognised (of 4)", "int", "4"),
    ],
    "adaline": [
        ("setosa.accuracy", "Setosa vs rest, accuracy", "pct", "~100% (least-squares optimum)"),
        ("setosa.final_sse", "Setosa vs rest, final sum of squared errors", "f3", "-"),
        ("versicolor.accuracy", "Versicolor vs rest, accuracy", "pct", "~73% (least-squares optimum)"),
        ("versicolor.final_sse", "Versicolor vs rest, final sum of squared errors", "f3", "-"),
        ("versicolor.least_squares_accuracy", "Versicolor, least-squares optimum", "pct", "-"),
    ],
    "madaline": [
        *[(f"mri.{h}.test_accuracy", f"MRI, {h} hidden: test accuracy", "pct", "88-89%") for h in (3, 5, 8)],
        *[(f"mri.{h}.stopped_at_epoch", f"MRI, {h} hidden: stopped at epoch", "int", "-") for h in (3, 5, 8)],
        *[(f"mrii.{h}.test_accuracy", f"MRII, {h} hidden: test accuracy", "pct", "-") for h in (3, 5, 8)],
        *[(f"mrii.{h}.stopped_at_epoch", f"MRII, {h} hidden: stopped at epoch", "int", "-") for h in (3, 5, 8)],
        ("mlp.test_accuracy", "backprop MLP 2-16-2: test accuracy", "pct", "-"),
    ],
    "autoencoder": [
        ("ari.raw.train", "ARI, k-means on raw pixels, train", "f3", "0.361"),
        ("ari.raw.test", "ARI, k-means on raw pixels, test", "f3", "0.366"),
        ("ari.encoded.train", "ARI, k-means on codes, train", "f3", "0.462 (PyTorch re-run: 0.434)"),
        ("ari.encoded.test", "ARI, k-means on codes, test", "f3", "0.468 (PyTorch re-run: 0.443)"),
        ("nmi.encoded.test", "NMI, k-means on codes, test", "f3", "-"),
        ("accuracy.encoded.test", "matched accuracy, codes, test", "pct", "-"),
        ("step_seconds.training", "seconds of autoencoder training", "f1", "123 (PyTorch re-run)"),
        ("step_seconds.kmeans_raw", "seconds of k-means on raw pixels (10 restarts)", "f1", "27 (scikit-learn)"),
    ],
    "distillation": [
        ("teacher.test_accuracy", "teacher 784-1024-512-10, test", "pct", "97.33% (PyTorch, fixed scaling: 97.66%)"),
        ("student.test_accuracy", "student 784-128-64-10, test", "pct", "94.91% (95.64%)"),
        ("student_kd_mse.test_accuracy", "distilled student, logit MSE, test", "pct", "96.88% (97.14%)"),
        ("student_kd_soft.test_accuracy", "distilled student, soft targets, test", "pct", "- (96.99%)"),
        ("teacher.test_errors", "teacher, test errors", "str", "-"),
        ("student.test_errors", "student, test errors", "str", "-"),
        ("student_kd_mse.test_errors", "distilled (MSE), test errors", "str", "-"),
        ("student_kd_soft.test_errors", "distilled (soft), test errors", "str", "-"),
        ("teacher.train_accuracy", "teacher, train", "pct", "-"),
        ("teacher.seconds_per_epoch", "teacher, seconds per epoch", "f1", "-"),
        ("student.seconds_per_epoch", "student, seconds per epoch", "f1", "-"),
        ("teacher_unchanged_by_distillation", "teacher bit-identical after distillation", "str", "-"),
    ],
}


def _fmt(value, kind):
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.2f}%"
    if kind == "int":
        return str(int(value))
    if kind.startswith("f"):
        return f"{value:.{int(kind[1:])}f}"
    return str(value)


def _table(name, numbers, tuned=None):
    flat = flatten(numbers)
    flat_tuned = flatten(tuned) if tuned else None
    head = "| measure | measured |" + (" tuned preset |" if tuned else "") + " course |"
    sep = "|---|---:|" + ("---:|" if tuned else "") + "---|"
    lines = [head, sep]
    for key, label, kind, course in ROWS[name]:
        row = f"| {label} | {_fmt(flat.get(key), kind)} |"
        if tuned:
            row += f" {_fmt(flat_tuned.get(key), kind)} |"
        lines.append(row + f" {course} |")
    return "\n".join(lines)


def write_report(path, reports, results, args):
    settings = "quick run (small data, few epochs)" if args.quick else "full run"
    parts = [
        "# scratchnn: the course, re-run",
        "",
        f"Seed {args.seed}, {settings}, dataset {args.dataset}. Every network here was trained by "
        "scratchnn's own layers, losses and optimizers (NumPy only, hand-derived gradients). "
        "'Course' is the figure the course reported; in brackets, references measured with "
        "PyTorch and scikit-learn on the same machine.",
        "",
        "| study | seconds |",
        "|---|---:|",
    ]
    for name in TITLES:
        if name in results and "seconds" in results[name]:
            parts.append(f"| {TITLES[name]} | {results[name]['seconds']:.1f} |")
    parts.append(f"| total | {results['total_seconds']:.1f} |")
    for name, title in TITLES.items():
        if name not in results:
            continue
        parts += ["", f"## {title}", ""]
        if "skipped" in results[name]:
            parts.append(f"Skipped: {results[name]['skipped']}. See the end of the console output "
                         "for how to supply the data.")
            continue
        course = reports[name]["course"]
        tuned = reports[name].get("tuned")
        parts += [course["text"], ""]
        if tuned:
            parts += [f"Tuned preset: {tuned['text']}", ""]
        parts += [_table(name, course["numbers"], tuned["numbers"] if tuned else None), ""]
        shown = set()
        for file, caption in course["figures"] + (tuned["figures"] if tuned else []):
            if file not in shown:
                shown.add(file)
                parts += [f"![{caption}]({file})", f"*{caption}*", ""]
    path.write_text("\n".join(parts) + "\n")
