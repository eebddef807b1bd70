"""What each study reports, declared once, and how a measured number is printed.

Every study module lists its ``ROWS``: the key of a number in the study's results, a
label, how to print it, what the course reported for it, and any figure from outside
the run with its source. The report, ``results.json`` and the tests all read these
rows, so a renamed key fails loudly (a KeyError that names it) instead of printing a
dash, and a figure the course did not report says so in the schema, not by omission.

Numbers measured over several seeds are stored as a *spread* (see :func:`spread`):
mean, standard deviation, min, max and every seed's value.
"""

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NotReported:
    """The course gave no figure for this row (and, optionally, why)."""
    why: str = ""

    def __str__(self):
        return "not reported" + (f" ({self.why})" if self.why else "")


NOT_REPORTED = NotReported()


@dataclass(frozen=True)
class Source:
    """Where a figure from outside the run comes from, and how it was measured."""
    name: str
    conditions: str


@dataclass(frozen=True)
class Outside:
    """A figure from outside this run (the literature, another library's run)."""
    value: str
    source: Source
    dataset: str = "mnist"     # the dataset it was measured on; shown only beside that one


@dataclass(frozen=True)
class Row:
    """One line of a study's table.

    key        dotted path into the study's numbers, e.g. ``"mri.3.test_accuracy"``.
    label      what the row measures; ``{dotted.key}`` names a setting in the numbers, filled
               from them (layer sizes read 784-128-64-10): ``"student {settings.student}"``.
    fmt        pct, int, f1, f2, f3, yesno, counts (a dict name -> number of seeds), text.
    course     the course's figure in the row's unit, a text such as "≈ 32", or NotReported.
    outside    figures from outside the run, each with its Source.
    course_for settings the course's figure depends on beyond those the label names: where
               any of them differs from the course's, the figure is the course's for its own
               setting, and the report says so instead of setting it beside this run's.
    """
    key: str
    label: str
    fmt: str
    course: object = NOT_REPORTED
    outside: tuple = ()
    course_for: tuple = ()

    def settings(self):
        """The dotted keys of the settings this row's label and course figure depend on."""
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.label) + list(self.course_for)))


PLACEHOLDER = re.compile(r"\{([\w.]+)\}")


def setting_words(value):
    """A setting as the report writes it: layer sizes (784, 128, 64, 10) as 784-128-64-10."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
        return "-".join(str(v) for v in value)
    return str(value)


def fill_label(label, numbers, where="results"):
    """``label`` with each ``{dotted.key}`` replaced by that setting of ``numbers``."""
    return PLACEHOLDER.sub(lambda m: setting_words(lookup(numbers, m[1], where)), label)


def own_settings(row, numbers, course_numbers, where="results"):
    """The settings of ``row`` in which ``numbers`` differ from the course's, as
    ``[(name, the course's value in words)]``; empty when the course's figure compares."""
    return [(key.rpartition(".")[2], setting_words(lookup(course_numbers, key, "the course")))
            for key in row.settings()
            if setting_words(lookup(numbers, key, where)) !=
            setting_words(lookup(course_numbers, key, "the course"))]


def lookup(numbers, key, where="results"):
    """The value at dotted ``key``; a KeyError naming the key and the missing part if absent."""
    value = numbers
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"{where}: no {key!r} (missing {part!r}); the study's ROWS and "
                           "its results disagree")
        value = value[part]
    return value


def spread(values):
    """mean, sd (sample, n - 1), min, max, n and the values themselves, for JSON.

    With one value the sd is None: one seed says nothing about the spread.
    """
    values = [v.item() if hasattr(v, "item") else v for v in values]
    if not values:
        raise ValueError("spread of no values")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"non-finite value among {values}")
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return {"mean": mean, "sd": sd, "min": min(values), "max": max(values), "n": n,
            "values": values}


def is_spread(value):
    return isinstance(value, dict) and {"mean", "sd", "values"} <= set(value)


def count(items):
    """{item: how many times} in first-seen order, e.g. the stop reasons over seeds."""
    counts = {}
    for item in items:
        counts[str(item)] = counts.get(str(item), 0) + 1
    return counts


def fmt_number(value, fmt):
    if fmt == "pct":
        return f"{100 * value:.2f}%"
    if fmt == "int":
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if fmt in ("f1", "f2", "f3"):
        return f"{value:.{int(fmt[1])}f}"
    raise ValueError(f"unknown number format {fmt!r}")


def fmt_sd(value, fmt):
    """A standard deviation in the row's unit: percentage points for a percentage."""
    if fmt == "pct":
        return f"{100 * value:.2f}"
    return fmt_number(value, "f1" if fmt == "int" else fmt)


def fmt_value(value, fmt):
    """A measured value as the report prints it; fails on a value it cannot show."""
    if fmt == "yesno":
        if not isinstance(value, bool):
            raise TypeError(f"yesno needs a bool, got {value!r}")
        return "yes" if value else "**no**"
    if fmt == "counts":
        total = sum(value.values())
        return ", ".join(f"{name}: {k}/{total}" for name, k in value.items())
    if fmt == "text":
        return str(value)
    if isinstance(value, dict) and set(value) == {"failed"}:    # an ablation step that diverged
        return f"failed: {value['failed']}"
    if is_spread(value):
        n, lo, hi = value["n"], value["min"], value["max"]
        if n == 1:
            return f"{fmt_number(value['mean'], fmt)} (one seed)"
        if lo == hi:
            return f"{fmt_number(lo, fmt)} in all {n} seeds"
        head = f"{fmt_number(value['mean'], fmt)} ± {fmt_sd(value['sd'], fmt)}"
        if n <= 5:      # few seeds: show each
            return f"{head} ({', '.join(fmt_number(v, fmt) for v in value['values'])})"
        return f"{head} ({fmt_number(lo, fmt)} to {fmt_number(hi, fmt)}, {n} seeds)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"cannot print {value!r} as {fmt}")
    return fmt_number(value, fmt)


def fmt_course(course, fmt, own=()):
    """The course's figure; with ``own`` settings (from :func:`own_settings`), said to be the
    course's for its own setting, not one to compare with."""
    if isinstance(course, NotReported):
        return str(course)
    text = course if isinstance(course, str) else fmt_number(course, fmt)
    if own:
        settings = ", ".join(f"{name} {words}" for name, words in own)
        text = (text[:-1] + "; " if text.endswith(")") else text + " (") + \
            f"the course's, for its {settings})"
    return text


def check_value(value, fmt):
    """True if ``value`` is a measured value a row of format ``fmt`` can show."""
    try:
        fmt_value(value, fmt)
    except (TypeError, ValueError, KeyError, AttributeError):
        return False
    if is_spread(value):
        return all(math.isfinite(v) for v in value["values"])
    return True
