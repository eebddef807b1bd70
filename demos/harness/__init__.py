"""What serves the report, apart from the course: one module per study.

A study script in ``demos/`` is the homework a student reads, top to bottom. The module
of the same name here runs it over seeds and presets, declares the rows of its table
(:mod:`demos.schema`), writes its prose from the measured numbers and holds the tuned
presets and ablations. ``python -m demos`` and :mod:`demos.report` use these modules; a
student never needs to open them to follow the course.

Adding a study (tests/test_report.py writes one and sees it in the report):

1. ``demos/NAME.py``, the study script: its settings first, then the data, the model,
   training, evaluation and figures in ``# %%`` cells, and a ``study(...)`` function that runs
   the story for one seed and returns what it measured.
2. ``demos/harness/NAME.py``, this side of it, which defines:

   ``TITLE``
       the report's heading, numbered in the course's order ("5. A perceptron on Iris").
   ``ROWS``
       the table, a list of :class:`demos.schema.Row`: the dotted key of a number in the
       results, its label, its format, the course's figure (or ``NotReported``) and any
       figure from elsewhere with its :class:`~demos.schema.Source`. A label may name a
       setting, ``"student {settings.student}: test accuracy"``, filled from the numbers (and a
       row's ``course_for`` may name more); where that setting differs from the course's, the
       course's figure is shown as the course's for its own setting. A study whose rows do that
       defines ``COURSE_NUMBERS``: the course's values of those settings, under the same keys.
   ``run(out, quick, seed, seeds=None)``
       runs the study (over ``seeds`` seeds from ``seed``; ``quick``: small and fast) and
       returns ``{"numbers": dict, "figures": [(file name in out, caption)], "text": str}``.
       Every number a row or a sentence shows is in ``numbers``, which go to results.json
       (JSON: numbers, strings, lists, dicts; a number over seeds as a
       :func:`demos.schema.spread`).
   ``describe(numbers)``
       the text, from the numbers alone, so that the report can write it again from
       results.json: a plain opening paragraph (what was done, the main figure against the
       course's, the lesson), a blank line, then the details.

   And where they apply: ``COURSE_DATASET`` (the dataset the course's figures are of),
   ``NOTES`` (``{dataset: [paragraphs under the table]}``) and ``SHORT_NAME`` (the README's
   table). The presets (``--preset tuned``, ``ablation``) are run for the MNIST studies only
   (``NEEDS_MNIST`` below); such a study also defines ``rows_for(preset)`` (or ``TUNED_ROWS``
   and ``ABLATION_ROWS``) and ``describe_ablation(numbers)``.
3. One entry in ``STUDIES`` of :mod:`demos.report`, in the course's order (and, for a study
   of MNIST, in ``NEEDS_MNIST``: its ``run`` then takes the options of
   :func:`demos._common.mnist_options` instead of ``seeds``).

The committed sample (``demos/sample/``) holds no run of a new study until the sample is
refreshed by a full run (the README says how); until then tests/test_sample.py checks the
studies the sample holds and warns that it is stale.
"""


def and_list(items, word="and"):
    """['a', 'b', 'c'] -> 'a, b and c', for prose."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]
