"""The report's side of the study in demos/mcculloch_pitts.py: its rows, captions and prose."""

from demos import mcculloch_pitts as homework
from demos.harness import and_list
from demos.schema import Row

TITLE = "1. McCulloch–Pitts neurons on a 7-segment display"
SHORT_NAME = "McCulloch–Pitts"    # in the README's table
COURSE_PARAMS = {"one_layer_params": 32, "two_layer_params": 28}

ROWS = [
    Row("one_layer_params", "parameters, one-layer net", "int",
        course=COURSE_PARAMS["one_layer_params"]),
    Row("two_layer_params", "parameters, two-layer net", "int",
        course=COURSE_PARAMS["two_layer_params"]),
    Row("one_layer_digits_correct", "one-layer: digits 6-9 it fires for alone (of 4)", "int"),
    Row("one_layer_silent_on_other_patterns", "one-layer: other patterns it is silent on (of 124)",
        "int"),
    Row("two_layer_digits_correct", "two-layer: digits 6-9 recognised (of 4)", "int"),
    Row("two_layer_fires_on_other_patterns", "two-layer: other patterns that fire an output "
        "(of 124)", "int"),
]


def run(out="results", quick=False, seed=0, seeds=None):
    """Deterministic: no seed is drawn (``quick``, ``seed`` and ``seeds`` are accepted and unused)."""
    result = homework.study(out)
    n = result["numbers"]
    captions = [f"Course settings: the four digits and the outputs of the one-layer "
                f"({n['one_layer_params']} parameters) and two-layer ({n['two_layer_params']} "
                "parameters) networks.",
                "Course settings: digits 0-5 and two arbitrary patterns, and what each network "
                "fires for them."]
    return {"numbers": n, "figures": list(zip(result["figures"], captions)), "text": describe(n)}


def _params(n, key):
    course = COURSE_PARAMS[key]
    return f"{n[key]} parameters" + (", as in the course" if n[key] == course else
                                     f"; the course's had {course}")


def describe(n):
    """The study's prose, computed from its numbers."""
    others = n["other_patterns"]
    loud = others - n["one_layer_silent_on_other_patterns"]
    fires = n["two_layer_fires_on_other_patterns"]
    per_output = n["two_layer_outputs_on_other_patterns"]
    lesson = ("a second layer saves parameters, but two hidden bits make only four codes, none "
              "left for 'no digit'." if fires else "a second layer saves parameters.")
    return "\n".join([
        "Two McCulloch–Pitts networks with hand-set weights were checked on all "
        f"{others + len(homework.DIGITS)} 7-segment patterns. The one-layer net "
        f"({_params(n, 'one_layer_params')}) fires its own output alone for "
        f"{n['one_layer_digits_correct']} of the 4 digits 6-9 and for "
        f"{loud or 'none'} of the {others} other patterns. The two-layer net "
        f"({_params(n, 'two_layer_params')}) recognises {n['two_layer_digits_correct']} of the 4 "
        f"digits but fires for {fires} of the {others} other patterns. The lesson: " + lesson,
        "",
        "A one-layer unit is a template: +1 on its digit's segments, -1 elsewhere, threshold = "
        "its number of lit segments. The two-layer net codes each digit in two hidden bits "
        "(f AND b, e AND c); of the other patterns, " + and_list(map(str, per_output.values()))
        + " fire outputs " + and_list(per_output) + ", respectively.",
    ])
