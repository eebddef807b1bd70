"""The committed sample run and the README cannot drift apart.

demos/sample/ holds one full run (results.json, report.md, the figures); the README's
table is generated from it by `python -m demos.report --readme`.
"""

import json
import re
import warnings

from demos.report import README, SAMPLE, STUDIES, describe, readme_block, render, rows_for
from demos.schema import check_value, lookup

RESULTS = json.loads((SAMPLE / "results.json").read_text())
# The studies the sample holds: a study added since the sample was made is not among them.
HELD = [name for name in STUDIES if name in RESULTS]
REFRESH = "python -m demos --preset tuned --out demos/sample && python -m demos.report --readme"


def test_the_sample_holds_every_study_or_says_it_is_stale():
    missing = [name for name in STUDIES if name not in RESULTS]
    unknown = [name for name in RESULTS if name not in STUDIES and name not in
               ("settings", "total_seconds")]
    assert not unknown, f"demos/sample/results.json holds studies the report no longer has: {unknown}"
    if missing:
        warnings.warn(f"demos/sample/ is stale: it holds no run of {', '.join(missing)}, so the "
                      f"README's table and the sample report leave them out; refresh it with: "
                      f"{REFRESH}", UserWarning)
    assert HELD, "demos/sample/results.json holds no study at all"


def test_readme_table_is_the_sample_results():
    block = readme_block(RESULTS)
    assert block in README.read_text(), ("README.md's table differs from demos/sample/"
                                         "results.json; run: python -m demos.report --readme")


def test_sample_report_is_rendered_from_the_sample_results():
    assert render(RESULTS) == (SAMPLE / "report.md").read_text()


def test_sample_prose_is_what_the_code_says_of_its_numbers():
    """After a change to a study's prose: python -m demos.report demos/sample/results.json
    --redescribe (no re-run needed), then python -m demos.report --readme."""
    for name in HELD:
        for preset, result in RESULTS[name].items():
            assert result["text"] == describe(name, preset, result["numbers"]), (name, preset)


def test_sample_is_a_full_run_of_every_study_with_every_row():
    assert RESULTS["settings"]["quick"] is False
    for name in HELD:
        module, numbers = STUDIES[name], RESULTS[name]["course"]["numbers"]
        for row in rows_for(module, "course"):
            assert check_value(lookup(numbers, row.key, name), row.fmt), (name, row.key)


def test_sample_figures_exist_and_none_is_stale():
    report = (SAMPLE / "report.md").read_text()
    linked = set(re.findall(r"\]\(([^)]+\.png)\)", report))
    on_disk = {p.name for p in SAMPLE.glob("*.png")}
    assert linked == on_disk
    for image in re.findall(r"\]\((demos/sample/[^)]+\.png)\)", README.read_text()):
        assert (README.parent / image).is_file(), image
