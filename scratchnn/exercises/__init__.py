"""The course as homework: a student writes the course's algorithms, and properties grade them.

    python -m scratchnn.exercises list                    # the exercises, in the course's order
    python -m scratchnn.exercises start DIR [--part N]    # a workspace of stubs to fill in
    python -m scratchnn.exercises check DIR [NAME ...]    # grade it (exit 0: all passed)
    python -m demos distillation --with DIR               # the course, run with your code

Each exercise is one function or method of the library (:data:`EXERCISES`). A student's
workspace is cut from the library's own source: the docstring (the math, the shapes) and the
signature, with a body that raises ``NotImplementedError``; ``start --solutions`` writes the
library's answers instead (a teacher's key). The grader checks each function against its
defining property on examples hypothesis draws (gradients against centred finite
differences, learning rules against their definitions) and answers in one sentence; see
:mod:`~scratchnn.exercises.properties`. Grading needs hypothesis (``pip install
scratchnn[homework]``); the rest needs NumPy alone.
"""

from .registry import BY_NAME, EXERCISES, PARTS, Exercise
from .workspace import StudentImportError, WorkspaceError, active, start, use, use_in_worker


def check(folder, names=None, **options):
    """Grade a workspace: a list of (exercise, status, message, seconds, details); see
    :func:`scratchnn.exercises.grading.check`."""
    from .grading import check as grade_workspace
    return grade_workspace(folder, names, **options)


__all__ = ["EXERCISES", "BY_NAME", "PARTS", "Exercise", "start", "check", "use", "active",
           "use_in_worker", "WorkspaceError", "StudentImportError"]
