"""report.md, and the README's table, from results.json alone.

Each study's table is built from its ROWS (:mod:`demos.schema`): the measured value by
its key (a missing key raises KeyError), the course's figure as the schema declares it,
and figures from outside the run numbered, with their sources under the table.

    python -m demos.report RESULTS_JSON [REPORT_MD]   # re-render a report
    python -m demos.report RESULTS_JSON --redescribe  # ... with each study's text rewritten
                                                      #   from its numbers (and saved)
    python -m demos.report --readme                   # README table from demos/sample/
"""

import argparse
import json
import re
import sys
from pathlib import Path

from demos.harness import (adaline, autoencoder_clustering, distillation, madaline,
                           mcculloch_pitts)
from demos._common import seed_range
from demos.schema import (PLACEHOLDER, NotReported, fill_label, fmt_course, fmt_value, lookup,
                          own_settings, setting_words)
from scratchnn.files import write_text_atomic

STUDIES = {
    "mcculloch_pitts": mcculloch_pitts,
    "adaline": adaline,
    "madaline": madaline,
    "autoencoder": autoencoder_clustering,
    "distillation": distillation,
}
NEEDS_MNIST = {"autoencoder", "distillation"}
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
PRESET_NAMES = {"course": "course settings", "tuned": "tuned preset", "ablation": "ablation"}

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "demos" / "sample"
README = ROOT / "README.md"
# The README's table: (study, key) pairs, labelled and compared as the study's ROWS say.
README_ROWS = [
    ("mcculloch_pitts", "one_layer_params"), ("mcculloch_pitts", "two_layer_params"),
    ("adaline", "setosa.final_error"), ("adaline", "versicolor.final_error"),
    ("adaline", "versicolor.train_accuracy"),
    ("madaline", "mri.3.test_accuracy"), ("madaline", "mri.5.test_accuracy"),
    ("madaline", "mri.8.test_accuracy"), ("madaline", "mri.chosen.test_accuracy"),
    ("madaline", "mrii.chosen.test_accuracy"), ("madaline", "mlp.test_accuracy"),
    ("autoencoder", "ari.raw.test"), ("autoencoder", "ari.encoded.test"),
    ("distillation", "teacher.test_accuracy"), ("distillation", "student.test_accuracy"),
    ("distillation", "student_kd_mse.test_accuracy"),
    ("distillation", "best_distilled.test_accuracy"),
    # Shown when the sample is a --preset tuned run:
    ("autoencoder", "ari.encoded.test", "tuned"),
    ("autoencoder", "ari.dec.test", "tuned"),
    ("autoencoder", "accuracy.dec.test", "tuned"),
    ("distillation", "teacher.test_accuracy", "tuned"),
    ("distillation", "student.test_accuracy", "tuned"),
    ("distillation", "best_distilled.test_accuracy", "tuned"),
    ("distillation", "omitted.distilled.errors_on_digit", "tuned"),
    ("distillation", "omitted.corrected.errors_on_digit", "tuned"),
]
README_BEGIN = "<!-- sample results: begin -->"
README_END = "<!-- sample results: end -->"


def rows_for(module, preset):
    """The rows a preset measures: the module's own ``rows_for(preset)`` if it declares one; a
    study may measure more with its tuned preset (TUNED_ROWS)."""
    if hasattr(module, "rows_for"):
        return module.rows_for(preset)
    if preset == "ablation":
        return module.ABLATION_ROWS
    return getattr(module, "TUNED_ROWS", module.ROWS) if preset == "tuned" else module.ROWS


def row_by_key(module, key):
    for row in rows_for(module, "tuned"):
        if row.key == key:
            return row
    raise KeyError(f"{module.__name__}.ROWS has no row {key!r}")


def describe(name, preset, numbers):
    """A study's prose from its numbers alone: what its ``run`` wrote, and can write again."""
    module = STUDIES[name]
    return module.describe_ablation(numbers) if preset == "ablation" else module.describe(numbers)


def redescribe(results):
    """results with every study's text written afresh from its numbers (after a prose fix,
    no re-run needed: the prose is a function of the numbers)."""
    for name in STUDIES:
        for preset, result in results.get(name, {}).items():
            if isinstance(result, dict) and "numbers" in result:
                result["text"] = describe(name, preset, result["numbers"])
    return results


def course_applies(module, dataset):
    """The course's figures are MNIST figures: beside a Fashion-MNIST run they would mislead."""
    return getattr(module, "COURSE_DATASET", None) in (None, dataset)


def study_title(name, dataset):
    title = STUDIES[name].TITLE
    return f"{title} ({DATASET_NAMES[dataset]})" if name in NEEDS_MNIST else title


def table(name, presets, dataset):
    """The markdown table of one study and the numbered sources under it.

    presets: {preset: numbers}, each shown in its own column of measured values.
    """
    module = STUDIES[name]
    listed = {preset: rows_for(module, preset) for preset in presets}
    rows = list(dict.fromkeys(row for preset_rows in listed.values() for row in preset_rows))
    show_course = course_applies(module, dataset) and any(
        not isinstance(r.course, NotReported) for r in rows)
    outside = {r.key: [o for o in r.outside if o.dataset == dataset] for r in rows}
    show_outside = any(outside.values())
    sources = []
    columns = (["this run"] if len(presets) == 1 else
               [f"this run, {PRESET_NAMES[p]}" for p in presets])
    head = ["measure", *columns] + (["course"] if show_course else []) + \
        (["elsewhere (see below)"] if show_outside else [])
    lines = ["| " + " | ".join(head) + " |",
             "|---|" + "---:|" * len(columns) + "---|" * (len(head) - 1 - len(columns))]
    for row in rows:
        measured = {p: n for p, n in presets.items() if row in listed[p]}
        # "not run": a row that preset does not measure (a key it lists and lacks still raises)
        cells = [label_of(row, measured)] + [
            fmt_value(lookup(numbers, row.key, f"{name} ({preset})"), row.fmt)
            if preset in measured else "not run" for preset, numbers in presets.items()]
        if show_course:
            cells.append(course_of(module, row, measured.values()))
        if show_outside:
            marks = []
            for o in outside[row.key]:
                if o.source not in sources:
                    sources.append(o.source)
                marks.append(f"{o.value} [{sources.index(o.source) + 1}]")
            cells.append("; ".join(marks))
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"[{i}] {s.name}: {s.conditions}." for i, s in enumerate(sources, 1)]
    if not course_applies(module, dataset):
        notes.append(f"The course ran this study on MNIST only; its figures are not shown beside "
                     f"a {DATASET_NAMES[dataset]} run.")
    return "\n".join(lines), notes


def label_of(row, presets):
    """A row's label with its settings filled from the first preset's numbers; a setting another
    preset holds otherwise is added beside, named by that preset."""
    (first, numbers), *others = presets.items()

    def words(match):
        key = match[1]
        own = setting_words(lookup(numbers, key, first))
        other = [f"{PRESET_NAMES[p]}: {setting_words(lookup(n, key, p))}" for p, n in others
                 if setting_words(lookup(n, key, p)) != own]
        return own + (f" ({'; '.join(other)})" if other else "")
    return PLACEHOLDER.sub(words, row.label)


def course_of(module, row, numbers):
    """The course's figure for a row, said to be the course's own where a setting it depends on
    differs from the course's in any of ``numbers`` (the numbers of the presets shown)."""
    own = []
    for n in numbers:
        own += [o for o in own_settings(row, n, getattr(module, "COURSE_NUMBERS", {}))
                if o not in own]
    return fmt_course(row.course, row.fmt, own)


def opening(results):
    s = results["settings"]
    kind = ("Quick run (small data, few epochs): the course's figures are of full runs, so the "
            "comparison says little." if s["quick"] else "Full run.")
    lines = [
        "# scratchnn: the course, re-run",
        "",
        f"{kind} Small studies (Adaline, Madaline, the MLP on moons): "
        f"{seed_range(s['small_seeds'])}; MNIST studies: {seed_range(s['mnist_seeds'])}, dataset "
        f"{DATASET_NAMES[s['dataset']]}, preset '{s['preset']}'. Run with Python {s['python']} "
        f"and NumPy {s['numpy']} on {s['platform']} ({s['cpus']} CPUs).",
        "",
        *workspace_lines(s),
        "Every figure in a 'this run' column was measured by this run. 'Course' is what the "
        "course reported (or that it reported nothing); 'elsewhere' holds figures from outside "
        "this run, numbered, with their source and conditions under the table. Over several "
        "seeds a figure reads: mean ± standard deviation, then the range (or, for up to five "
        "seeds, each seed's value).",
        "",
        "| study | seconds |",
        "|---|---:|",
    ]
    for name in STUDIES:
        for preset, result in results.get(name, {}).items():
            if isinstance(result, dict) and "seconds" in result:
                suffix = "" if preset == "course" else f", {PRESET_NAMES[preset]}"
                lines.append(f"| {study_title(name, s['dataset'])}{suffix} | "
                             f"{result['seconds']:.1f} |")
    lines.append(f"| total | {results['total_seconds']:.1f} |")
    return lines


def workspace_lines(settings):
    """A run made with a student's homework says so first: its numbers are of that code."""
    used = settings.get("workspace")
    if used is None:
        return []
    mine = used["exercises"]
    return [f"**This run used the homework in `{used['folder']}`:** the student's code ran in "
            "place of the library's for " + (", ".join(f"`{n}`" for n in mine) if mine else
                                             "no exercise (none was written yet)")
            + ". Its numbers are those of that code.", ""]


def render(results):
    """The whole report.md, from results.json's content alone."""
    dataset = results["settings"]["dataset"]
    parts = opening(results)
    for name in STUDIES:
        if name not in results:
            continue
        parts += ["", f"## {study_title(name, dataset)}", ""]
        study = results[name]
        if "skipped" in study:
            parts.append(f"Skipped: {study['skipped']}. See the end of the console output "
                         "for how to supply the data.")
            continue
        groups = [{p: study[p] for p in study if p != "ablation"}]
        if "ablation" in study:
            groups.append({"ablation": study["ablation"]})
        for group in filter(None, groups):
            # Each study opens in plain words: the first paragraph of its text. The table and
            # the figures follow, then the rest of the text, the details.
            details = []
            for preset, result in group.items():
                summary, _, rest = result["text"].partition("\n\n")
                label = (f"**{PRESET_NAMES[preset].capitalize()}.** "
                         if len(group) > 1 or preset != "course" else "")
                parts += [label + summary, ""]
                if rest:
                    details += [label + rest if len(group) > 1 else rest, ""]
            tab, notes = table(name, {p: r["numbers"] for p, r in group.items()}, dataset)
            parts += [tab, ""]
            module_notes = getattr(STUDIES[name], "NOTES", {})
            for note in notes + (module_notes.get(dataset, []) if course_applies(
                    STUDIES[name], dataset) else []):
                parts += [note, ""]
            shown = set()
            for result in group.values():
                for file, caption in result["figures"]:
                    if file not in shown:
                        shown.add(file)
                        parts += [f"![{caption}]({file})", f"*{caption}*", ""]
            if details:
                parts += ["**Details.**", "", *details]
    return "\n".join(parts).rstrip() + "\n"


def write_report(path, results):
    write_text_atomic(path, render(results))


# --------------------------------------------------------------------------- README


def readme_block(results, sample_dir="demos/sample"):
    """The README's table of one full run, between the markers (what the test compares)."""
    s = results["settings"]
    course_seconds = sum(results[name]["course"]["seconds"] for name in STUDIES
                         if "course" in results.get(name, {}))
    how = (f"One full run of `python -m demos --preset {s['preset']}` on {s['cpus']} CPUs, "
           f"{results['total_seconds'] / 60:.1f} minutes in all, of which the course's settings "
           f"(what `python -m demos` runs) took {course_seconds / 60:.1f} minutes."
           if s["preset"] != "course" else
           f"One full run on {s['cpus']} CPUs, {results['total_seconds'] / 60:.1f} minutes in all.")
    lines = [
        README_BEGIN,
        f"{how} "
        f"Small studies: {seed_range(s['small_seeds'])}; MNIST studies: "
        f"{seed_range(s['mnist_seeds'])}. Numbers from "
        f"[`{sample_dir}/results.json`]({sample_dir}/results.json); the full report, with every "
        f"measure, the sources of outside figures and the figures, is "
        f"[`{sample_dir}/report.md`]({sample_dir}/report.md).",
        "",
        "| study | measure | this run | the course reported |",
        "|---|---|---:|---|",
    ]
    for name, key, *preset in README_ROWS:
        preset = preset[0] if preset else "course"
        if preset not in results.get(name, {}):
            continue
        module = STUDIES[name]
        row = row_by_key(module, key)
        value = fmt_value(lookup(results[name][preset]["numbers"], key, name), row.fmt)
        numbers = results[name][preset]["numbers"]
        course = (course_of(module, row, [numbers]) if course_applies(module, s["dataset"])
                  else "(MNIST only)")
        label = fill_label(row.label, numbers, name)
        label = label if preset == "course" else f"{PRESET_NAMES[preset]}: {label}"
        lines.append(f"| {getattr(module, 'SHORT_NAME', name)} | {label} | {value} | {course} |")
    lines.append(README_END)
    return "\n".join(lines)


def readme_with_block(readme_text, block):
    pattern = re.compile(re.escape(README_BEGIN) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(readme_text):
        raise ValueError(f"README.md has no {README_BEGIN} ... {README_END} block")
    return pattern.sub(lambda _: block, readme_text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="?", help="results.json to render")
    parser.add_argument("report", nargs="?", help="where to write report.md (default: beside it)")
    parser.add_argument("--redescribe", action="store_true",
                        help="rewrite each study's text in RESULTS_JSON from its numbers first")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite README.md's table from demos/sample/results.json")
    args = parser.parse_args(argv)
    if args.readme:
        results = json.loads((SAMPLE / "results.json").read_text())
        write_text_atomic(README, readme_with_block(README.read_text(), readme_block(results)))
        print(f"Updated {README}")
        return 0
    if not args.results:
        parser.error("give a results.json, or --readme")
    path = Path(args.results)
    out = Path(args.report) if args.report else path.with_name("report.md")
    results = json.loads(path.read_text())
    if args.redescribe:
        write_text_atomic(path, json.dumps(redescribe(results), indent=1, ensure_ascii=False)
                          + "\n")
    write_report(out, results)
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
