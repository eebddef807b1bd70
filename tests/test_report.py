"""Adding a study follows the contract written in demos/harness/__init__.py: a test writes a
minimal study of its own, registers it, and finds it in the report that `python -m demos` writes."""

import importlib.util
import json
import sys
import textwrap

import pytest

import demos.__main__ as main_module
from demos.report import STUDIES, readme_block, render
from tests import test_sample

PERCEPTRON = '''
"""5. A perceptron on Iris: the harness side of a study written by a test."""

import numpy as np

from demos._common import plt, save
from demos.schema import NotReported, Row
from scratchnn.datasets import load_iris

TITLE = "5. A perceptron on Iris"
SHORT_NAME = "perceptron (Iris)"
ROWS = [Row("setosa.accuracy", "Setosa vs rest: training accuracy", "pct",
            course=NotReported("not part of the course")),
        Row("setosa.epochs", "Setosa vs rest: epochs to no error", "int")]


def study(out):
    x, y, _ = load_iris()
    t = np.where(y == 0, 1, -1)
    w, b = np.zeros(4), 0.0
    for epoch in range(1, 51):
        wrong = 0
        for xi, ti in zip(x, t):
            if ti * (xi @ w + b) <= 0:          # the perceptron rule: move only when wrong
                w, b, wrong = w + ti * xi, b + ti, wrong + 1
        if wrong == 0:
            break
    fig, ax = plt.subplots()
    ax.scatter(x[:, 2], x[:, 3], c=t)
    return {"accuracy": float(np.mean(np.where(x @ w + b > 0, 1, -1) == t)),
            "epochs": epoch}, save(fig, out, "perceptron_iris.png")


def run(out="results", quick=False, seed=0, seeds=None):
    numbers, figure = study(out)
    n = {"setosa": numbers}
    return {"numbers": n, "figures": [(figure, "Petal length against width, by target.")],
            "text": describe(n)}


def describe(n):
    s = n["setosa"]
    return (f"A perceptron separated Setosa from the rest in {s['epochs']} epochs, right on "
            f"{100 * s['accuracy']:.0f}% of the flowers.\\n\\nDetails: the rule moves the "
            "weights only on a mistake.")
'''


@pytest.fixture()
def perceptron(tmp_path, monkeypatch):
    path = tmp_path / "perceptron_harness.py"
    path.write_text(textwrap.dedent(PERCEPTRON))
    spec = importlib.util.spec_from_file_location("perceptron_harness", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "perceptron_harness", module)
    spec.loader.exec_module(module)
    monkeypatch.setitem(STUDIES, "perceptron", module)       # step 3 of the contract
    return module


def test_a_new_study_is_run_and_rendered_in_the_report(perceptron, tmp_path):
    out = tmp_path / "out"
    assert main_module.main(["perceptron", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    numbers = results["perceptron"]["course"]["numbers"]
    report = (out / "report.md").read_text()
    assert report == render(results)
    assert "## 5. A perceptron on Iris" in report
    opening = perceptron.describe(numbers).partition("\n\n")[0]
    assert opening in report and "**Details.**" in report
    accuracy = f"{100 * numbers['setosa']['accuracy']:.2f}%"
    assert f"| Setosa vs rest: training accuracy | {accuracy} |" in report   # no course column:
    assert "| course |" not in report.partition("## 5.")[2]                   # it reported none
    assert f"| Setosa vs rest: epochs to no error | {numbers['setosa']['epochs']} |" in report
    assert "![Petal length against width, by target.](perceptron_iris.png)" in report
    assert (out / "perceptron_iris.png").is_file()
    # The README's table lists only its own rows; a study the README does not name is left out.
    assert "perceptron" not in readme_block(test_sample.RESULTS)


def test_a_new_study_leaves_the_sample_tests_green_and_says_the_sample_is_stale(perceptron):
    with pytest.warns(UserWarning, match=r"demos/sample/ is stale: it holds no run of "
                                         r"perceptron.*python -m demos --preset tuned"):
        test_sample.test_the_sample_holds_every_study_or_says_it_is_stale()
    test_sample.test_readme_table_is_the_sample_results()
    test_sample.test_sample_report_is_rendered_from_the_sample_results()
    test_sample.test_sample_prose_is_what_the_code_says_of_its_numbers()
    test_sample.test_sample_is_a_full_run_of_every_study_with_every_row()
