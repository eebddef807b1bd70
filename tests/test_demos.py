"""The main job end to end: `python -m demos --quick` on a tiny MNIST-format folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mnist_files import write_mnist_folder

ROOT = Path(__file__).resolve().parents[1]


def run_demos(*args, cwd, env_extra=None):
    # SCRATCHNN_VERIFY=0: the tiny MNIST-format files written here are our own, not MNIST's.
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT), SCRATCHNN_VERIFY="0")
    env.pop("SCRATCHNN_DATA", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "demos", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _get(d, dotted):
    for part in dotted.split("."):
        d = d[part]
    return d


REQUIRED_KEYS = [
    "mcculloch_pitts.one_layer_params", "mcculloch_pitts.two_layer_params",
    "adaline.setosa.accuracy", "adaline.versicolor.accuracy",
    *[f"madaline.{r}.{h}.test_accuracy" for r in ("mri", "mrii") for h in (3, 5, 8)],
    *[f"autoencoder.ari.{k}.{s}" for k in ("raw", "encoded") for s in ("train", "test")],
    *[f"distillation.{m}.{s}_accuracy" for m in ("teacher", "student", "student_kd_mse", "student_kd_soft")
      for s in ("train", "test")],
    *[f"{study}.seconds" for study in ("mcculloch_pitts", "adaline", "madaline", "autoencoder",
                                      "distillation")],
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("demos")
    write_mnist_folder(base / "data" / "mnist", n_train=300, n_test=60)
    out = base / "out"
    proc = run_demos("--quick", "--out", str(out), "--data-dir", str(base / "data"),
                     "--no-download", cwd=base)
    return proc, out


def test_quick_run_writes_report_json_and_figures(quick_run):
    proc, out = quick_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    for key in REQUIRED_KEYS:
        value = _get(results, key)
        assert isinstance(value, (int, float)), key
    assert results["mcculloch_pitts"]["one_layer_params"] == 32
    assert results["mcculloch_pitts"]["two_layer_params"] == 28
    assert results["adaline"]["setosa"]["accuracy"] == 1.0
    report = (out / "report.md").read_text()
    figures = sorted(p.name for p in out.glob("*.png"))
    assert len(figures) >= 12
    for name in figures:
        assert f"]({name})" in report, name
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## 4. Teacher, student" in report and "| course |" in report


def test_same_seed_same_results_timings_aside(quick_run, tmp_path):
    proc, out = quick_run
    again = tmp_path / "again"
    proc2 = run_demos("--quick", "--out", str(again), "--data-dir", str(out.parent / "data"),
                      "--no-download", "mcculloch_pitts", "adaline", "madaline", "autoencoder",
                      cwd=tmp_path)
    assert proc2.returncode == 0, proc2.stderr[-3000:]

    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if "seconds" not in k and k != "settings"}
        return d

    first, second = json.loads((out / "results.json").read_text()), json.loads((again / "results.json").read_text())
    for study in ("mcculloch_pitts", "adaline", "madaline", "autoencoder"):
        assert strip(first[study]) == strip(second[study]), study


def test_missing_mnist_still_runs_the_rest_and_fails_clearly(tmp_path):
    proc = run_demos("--quick", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "nothing"),
                     "--no-download", "mcculloch_pitts", "distillation", cwd=tmp_path,
                     env_extra={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 2
    assert "--data-dir" in proc.stderr and "SCRATCHNN_DATA" in proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["mcculloch_pitts"]["one_layer_params"] == 32
    assert "skipped" in results["distillation"]


def test_unknown_study_is_named():
    proc = run_demos("nonsense", cwd=ROOT)
    assert proc.returncode == 2 and "unknown study 'nonsense'" in proc.stderr


def test_tuned_presets_run_beside_the_course(quick_run, tmp_path):
    _, out = quick_run
    proc = run_demos("--quick", "--preset", "tuned", "--out", str(tmp_path), "--data-dir",
                     str(out.parent / "data"), "--no-download", "autoencoder", "distillation",
                     cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    for study in ("autoencoder", "distillation"):
        assert results[study]["preset"] == "course" and results[study]["tuned"]["preset"] == "tuned"
    assert isinstance(_get(results, "autoencoder.tuned.ari.encoded.test"), float)
    assert isinstance(_get(results, "distillation.tuned.student_kd_soft.test_accuracy"), float)
    assert "| tuned preset |" in (tmp_path / "report.md").read_text()
