"""What serves the report, apart from the course: one module per study.

A study script in ``demos/`` is the homework a student reads, top to bottom. The module
of the same name here runs it over seeds and presets, declares the rows of its table
(:mod:`demos.schema`), writes its prose from the measured numbers and holds the tuned
presets and ablations. ``python -m demos`` and :mod:`demos.report` use these modules; a
student never needs to open them to follow the course.
"""


def and_list(items, word="and"):
    """['a', 'b', 'c'] -> 'a, b and c', for prose."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]
