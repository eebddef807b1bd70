"""The report's machinery, checked without running a study: seed spreads and the schema's
formatting. (Each study's reasoning is tested in tests/test_study_*.py.)"""

import pytest

from demos._common import combine_seeds
from demos.report import STUDIES, table
from demos.schema import NotReported, fmt_value, lookup, spread


def test_spread_and_its_printing():
    one = spread([0.978])
    assert one["sd"] is None and fmt_value(one, "pct") == "97.80% (one seed)"
    three = spread([0.5, 0.6, 0.7])
    assert three["sd"] == pytest.approx(0.1)
    assert fmt_value(three, "pct") == "60.00% ± 10.00 (50.00%, 60.00%, 70.00%)"
    ten = spread(list(range(10)))
    assert fmt_value(ten, "int") == "4.5 ± 3.0 (0 to 9, 10 seeds)"
    assert fmt_value(spread([500] * 4), "int") == "500 in all 4 seeds"
    with pytest.raises(ValueError):
        spread([1.0, float("nan")])


def test_combine_seeds():
    combined = combine_seeds([{"a": 1.0, "b": {"c": 2}, "s": "x", "ok": True},
                              {"a": 3.0, "b": {"c": 4}, "s": "y", "ok": True}])
    assert combined["a"]["mean"] == 2.0 and combined["b"]["c"]["values"] == [2, 4]
    assert combined["s"] == {"x": 1, "y": 1} and combined["ok"] is True
    with pytest.raises(KeyError):
        combine_seeds([{"a": 1}, {"b": 1}])


def test_a_missing_key_fails_loudly_never_a_dash():
    with pytest.raises(KeyError, match="mri.3.test_accuracy"):
        lookup({"mri": {"5": {}}}, "mri.3.test_accuracy", "madaline")
    with pytest.raises(KeyError, match="one_layer_params"):
        table("mcculloch_pitts", {"course": {"two_layer_params": 28}}, "mnist")


def test_a_value_the_row_cannot_show_fails():
    with pytest.raises(TypeError):
        fmt_value(None, "pct")
    with pytest.raises(TypeError):
        fmt_value("97%", "pct")


def test_every_study_declares_unique_rows_and_honest_course_figures():
    for name, module in STUDIES.items():
        keys = [row.key for row in module.ROWS]
        assert len(keys) == len(set(keys)), name
        for row in module.ROWS:
            assert isinstance(row.course, (NotReported, str, int, float)), (name, row.key)
            for outside in row.outside:
                assert outside.source.conditions and "same machine" not in outside.source.conditions
