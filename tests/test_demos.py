"""The main job end to end: `python -m demos --quick` on a tiny MNIST-format folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from demos.report import STUDIES, describe, render, rows_for
from demos.schema import check_value, lookup
from tests.mnist_files import write_mnist_folder

ROOT = Path(__file__).resolve().parents[1]


def run_demos(*args, cwd, env_extra=None):
    # SCRATCHNN_VERIFY=0: the tiny MNIST-format files written here are our own, not MNIST's.
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT), SCRATCHNN_VERIFY="0")
    env.pop("SCRATCHNN_DATA", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "demos", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("data")
    write_mnist_folder(base / "mnist", n_train=300, n_test=60)
    write_mnist_folder(base / "fashion-mnist", n_train=300, n_test=60, seed=1)
    return base


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("demos") / "out"
    proc = run_demos("--quick", "--out", str(out), "--data-dir", str(data_dir), "--no-download",
                     cwd=out.parent)
    return proc, out


def test_quick_run_writes_report_json_and_figures(quick_run):
    proc, out = quick_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    numbers = {name: results[name]["course"]["numbers"] for name in STUDIES}
    assert numbers["mcculloch_pitts"]["one_layer_params"] == 32
    assert numbers["mcculloch_pitts"]["two_layer_params"] == 28
    assert numbers["adaline"]["setosa"]["train_accuracy"]["min"] == 1.0
    assert numbers["madaline"]["seeds"] == [0, 1, 2]            # --quick: 3 seeds
    assert numbers["distillation"]["seeds"] == [0]               # MNIST: one seed by default
    report = (out / "report.md").read_text()
    figures = sorted(p.name for p in out.glob("*.png"))
    assert len(figures) >= 15
    for name in figures:
        assert f"]({name})" in report, name
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## 4. Teacher, student" in report and "| course |" in report
    assert "one seed" in report and "seeds 0–2 (3 seeds)" in report


def test_the_small_studies_prose_is_short_enough_to_read(quick_run):
    """At most 700 words of prose for the three small studies, and each opens in at most four
    sentences (a report that speaks to a student first)."""
    _, out = quick_run
    results = json.loads((out / "results.json").read_text())
    texts = [results[name]["course"]["text"] for name in ("mcculloch_pitts", "adaline", "madaline")]
    assert sum(len(text.split()) for text in texts) <= 700
    for text in texts:
        opening = text.split("\n\n")[0]
        assert opening.count(". ") + 1 <= 4, opening


def test_every_declared_row_is_in_the_results(quick_run):
    """The schema and the studies agree: each row's key holds a value the row can show."""
    _, out = quick_run
    results = json.loads((out / "results.json").read_text())
    for name, module in STUDIES.items():
        numbers = results[name]["course"]["numbers"]
        for row in rows_for(module, "course"):
            assert check_value(lookup(numbers, row.key, name), row.fmt), (name, row.key)


def test_report_is_rendered_from_results_json_alone(quick_run):
    _, out = quick_run
    results = json.loads((out / "results.json").read_text())
    assert render(results) == (out / "report.md").read_text()
    for name in STUDIES:           # and each study's prose is a function of its numbers
        result = results[name]["course"]
        assert result["text"] == describe(name, "course", result["numbers"]), name


def test_nothing_typed_in_the_report(quick_run):
    """No claim the run did not compute: the old typed sentences and sources are gone."""
    _, out = quick_run
    report = (out / "report.md").read_text()
    for typed in ("same machine", "500-epoch limit; MRII", "converges in a few epochs",
                  "What helped, measured"):
        assert typed not in report
    # --quick trains MRI for 60 epochs: the report says so, not the full run's 500.
    assert "limit 60 epochs" in report


def test_same_seed_same_results_timings_aside(quick_run, tmp_path):
    _, out = quick_run
    again = tmp_path / "again"
    proc = run_demos("--quick", "--out", str(again), "mcculloch_pitts", "adaline", "madaline",
                     cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]

    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if "seconds" not in k}
        return d

    first = json.loads((out / "results.json").read_text())
    second = json.loads((again / "results.json").read_text())
    for study in ("mcculloch_pitts", "adaline", "madaline"):
        assert strip(first[study]["course"]["numbers"]) == strip(second[study]["course"]["numbers"])
        assert first[study]["course"]["text"] == second[study]["course"]["text"]


def test_with_the_teachers_key_the_course_runs_on_its_code_bit_for_bit(quick_run, data_dir,
                                                                        tmp_path):
    """python -m demos ... --with DIR: the studies run with a homework workspace's code; with
    the key (the library's answers), every number is the library's (timings aside)."""
    from scratchnn import exercises
    key = tmp_path / "key"
    exercises.start(key, solutions=True)
    out = tmp_path / "with_key"
    proc = run_demos("--quick", "--out", str(out), "--data-dir", str(data_dir), "--no-download",
                     "distillation", "madaline", "--with", str(key), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Your code from" in proc.stdout and "for 20 exercises: template_unit" in proc.stdout

    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if "seconds" not in k}
        return d

    library = json.loads((quick_run[1] / "results.json").read_text())
    theirs = json.loads((out / "results.json").read_text())
    for study in ("distillation", "madaline"):
        assert strip(theirs[study]["course"]["numbers"]) == strip(library[study]["course"]["numbers"])
    assert theirs["settings"]["workspace"]["exercises"][-1] == "soft_target_loss"
    assert "**This run used the homework in" in (out / "report.md").read_text()
    broken = tmp_path / "broken"
    exercises.start(broken, names=("relu",))
    path = next(broken.rglob("ex07_relu.py"))
    path.write_text(path.read_text() + "\ndef (\n")
    proc = run_demos("--quick", "mcculloch_pitts", "--with", str(broken), cwd=tmp_path)
    assert proc.returncode == 2 and "ex07_relu.py does not import: invalid syntax at line" in \
        proc.stderr


def test_missing_mnist_still_runs_the_rest_and_fails_clearly(tmp_path):
    proc = run_demos("--quick", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "nothing"),
                     "--no-download", "mcculloch_pitts", "distillation", cwd=tmp_path,
                     env_extra={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 2
    assert "--data-dir" in proc.stderr and "SCRATCHNN_DATA" in proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["mcculloch_pitts"]["course"]["numbers"]["one_layer_params"] == 32
    assert "skipped" in results["distillation"]
    assert "Skipped" in (tmp_path / "out" / "report.md").read_text()


def test_unknown_study_is_named():
    proc = run_demos("nonsense", cwd=ROOT)
    assert proc.returncode == 2 and "unknown study 'nonsense'" in proc.stderr


def test_tuned_presets_run_beside_the_course(data_dir, tmp_path):
    proc = run_demos("--quick", "--preset", "tuned", "--out", str(tmp_path), "--data-dir",
                     str(data_dir), "--no-download", "autoencoder", "distillation", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    for study in ("autoencoder", "distillation"):
        assert results[study]["course"]["numbers"]["preset"] == "course"
        tuned = results[study]["tuned"]["numbers"]
        assert tuned["preset"] == "tuned"
        for row in rows_for(STUDIES[study], "tuned"):
            assert check_value(lookup(tuned, row.key), row.fmt), (study, row.key)
    assert "| this run, tuned preset |" in (tmp_path / "report.md").read_text()


def test_ablation_is_measured_on_validation_only(data_dir, tmp_path):
    proc = run_demos("--quick", "--preset", "ablation", "--out", str(tmp_path), "--data-dir",
                     str(data_dir), "--no-download", "autoencoder", "distillation", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    for study in ("autoencoder", "distillation"):
        assert set(results[study]) == {"ablation"}
        numbers = results[study]["ablation"]["numbers"]
        assert "test" not in numbers["sizes"]
        for row in rows_for(STUDIES[study], "ablation"):
            assert check_value(lookup(numbers, row.key), row.fmt), (study, row.key)
            assert "test" not in row.key
    report = (tmp_path / "report.md").read_text()
    assert "test images are not used" in report


def test_fashion_mnist_prose_and_no_mnist_figures_beside_it(data_dir, tmp_path):
    proc = run_demos("--quick", "--dataset", "fashion-mnist", "--out", str(tmp_path), "--data-dir",
                     str(data_dir), "--no-download", "autoencoder", "distillation", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (tmp_path / "report.md").read_text()
    assert "digit" not in report.lower()
    assert "(Fashion-MNIST)" in report and "MNIST only" in report
    assert "0.468" not in report and "97.33%" not in report     # the course's MNIST figures
    assert "0.474 [" in report                                  # Guo's Fashion-MNIST figure
