"""McCulloch–Pitts neurons recognising 6, 7, 8 and 9 on a 7-segment display.

    python -m demos.mcculloch_pitts [--out DIR]
"""

import sys

import numpy as np
from matplotlib.patches import Polygon

from demos._common import command_line, plt, save
from demos.schema import Row
from scratchnn.mcculloch_pitts import (SEGMENTS, all_patterns, digit_pattern, one_layer_detector,
                                       two_layer_detector)

TITLE = "1. McCulloch–Pitts neurons on a 7-segment display"
DIGITS = (6, 7, 8, 9)

ROWS = [
    Row("one_layer_params", "parameters, one-layer net", "int", course=32),
    Row("two_layer_params", "parameters, two-layer net", "int", course=28),
    Row("one_layer_digits_correct", "one-layer: digits 6-9 it fires for alone (of 4)", "int"),
    Row("one_layer_silent_on_other_patterns", "one-layer: other patterns it is silent on (of 124)",
        "int"),
    Row("two_layer_digits_correct", "two-layer: digits 6-9 recognised (of 4)", "int"),
    Row("two_layer_fires_on_other_patterns", "two-layer: other patterns that fire an output "
        "(of 124)", "int"),
]

# Segment centres and orientation on a display 1 wide and 2 high.
_SEGMENT_GEOMETRY = {"a": (0.5, 2.0, "h"), "b": (1.0, 1.5, "v"), "c": (1.0, 0.5, "v"),
                     "d": (0.5, 0.0, "h"), "e": (0.0, 0.5, "v"), "f": (0.0, 1.5, "v"),
                     "g": (0.5, 1.0, "h")}


def draw_display(ax, pattern, title=None, on="#d62728"):
    """Draw a 7-segment display with the lit segments of ``pattern`` in colour."""
    half, w = 0.38, 0.09
    for segment, lit in zip(SEGMENTS, pattern):
        cx, cy, kind = _SEGMENT_GEOMETRY[segment]
        if kind == "h":
            pts = [(cx - half, cy), (cx - half + w, cy + w), (cx + half - w, cy + w), (cx + half, cy),
                   (cx + half - w, cy - w), (cx - half + w, cy - w)]
        else:
            pts = [(cx, cy - half), (cx + w, cy - half + w), (cx + w, cy + half - w), (cx, cy + half),
                   (cx - w, cy + half - w), (cx - w, cy - half + w)]
        ax.add_patch(Polygon(pts, closed=True, color=on if lit else "#eeeeee"))
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-0.3, 2.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)


def _fired(net, pattern):
    out = net(pattern)
    names = [str(n) for n, o in zip(net.output_names, out) if o]
    return ", ".join(names) if names else "none"


def run(out="results", quick=False, seed=0, seeds=None):
    """Deterministic: no seed is drawn (``quick``, ``seed`` and ``seeds`` are accepted and unused)."""
    one, two = one_layer_detector(DIGITS), two_layer_detector()
    patterns = all_patterns()
    out_one, out_two = one(patterns), two(patterns)
    is_digit = np.array([any((p == digit_pattern(d)).all() for d in DIGITS) for p in patterns])

    # The one-layer net fires exactly once on each digit and never on the other 124 patterns.
    one_correct = int(sum(out_one[i].sum() == 1 for i in np.flatnonzero(is_digit)))
    one_silent = int(sum(out_one[i].sum() == 0 for i in np.flatnonzero(~is_digit)))
    two_correct = int(sum(two.recognise(digit_pattern(d)) == d for d in DIGITS))
    # Two binary hidden units give only 4 codes: every pattern maps to one of the 4 outputs.
    two_counts = {str(d): int(c) for d, c in zip(DIGITS, out_two[~is_digit].sum(axis=0))}

    fig, axes = plt.subplots(3, 4, figsize=(7.5, 6.8), gridspec_kw={"height_ratios": [2.2, 1, 1]})
    for col, d in enumerate(DIGITS):
        p = digit_pattern(d)
        draw_display(axes[0, col], p, title=f"digit {d}")
        for row, (net, label) in enumerate([(one, "one-layer"), (two, "two-layer")], start=1):
            ax = axes[row, col]
            ax.bar([str(n) for n in DIGITS], net(p), color=["#2ca02c" if n == d else "#999999"
                                                         for n in DIGITS])
            ax.set_ylim(0, 1.2)
            ax.set_yticks([0, 1])
            if col == 0:
                ax.set_ylabel(f"{label}\noutput")
    fig.suptitle("McCulloch–Pitts networks on the four digits: which output fires")
    fig.tight_layout()
    figures = [(save(fig, out, "mp_digits.png"),
                "The four digits and the outputs of the one-layer (32 parameters) and two-layer "
                "(28 parameters) networks.")]

    # What the two-layer net says about patterns that are not 6-9: a few examples.
    others = [p for p, d in zip(patterns, is_digit) if not d]
    examples = [digit_pattern(k) for k in (0, 1, 2, 3, 4, 5)] + [others[5], others[40]]
    fig, axes = plt.subplots(1, len(examples), figsize=(1.5 * len(examples), 2.8))
    for ax, p in zip(axes, examples):
        draw_display(ax, p, title=f"1-layer: {_fired(one, p)}\n2-layer: {_fired(two, p)}",
                     on="#1f77b4")
    fig.suptitle("Other patterns: the one-layer net stays silent, the two-layer net cannot", y=1.05)
    figures.append((save(fig, out, "mp_other_patterns.png"),
                    "Digits 0-5 and two arbitrary patterns: what each network fires."))

    numbers = {
        "one_layer_params": one.n_params(),
        "two_layer_params": two.n_params(),
        "one_layer_digits_correct": one_correct,
        "one_layer_silent_on_other_patterns": one_silent,
        "two_layer_digits_correct": two_correct,
        "two_layer_fires_on_other_patterns": int(out_two[~is_digit].any(axis=1).sum()),
        "two_layer_outputs_on_other_patterns": two_counts,
        "other_patterns": int((~is_digit).sum()),
    }
    return {"numbers": numbers, "figures": figures, "text": describe(numbers)}


def describe(n):
    """The study's prose, computed from its numbers."""
    others = n["other_patterns"]
    silent = ("no output for any of the" if n["one_layer_silent_on_other_patterns"] == others else
              f"no output for only {n['one_layer_silent_on_other_patterns']} of the")
    two_fires = n["two_layer_fires_on_other_patterns"]
    return (
        "Each one-layer unit is a template: weight +1 on the segments of its digit, -1 on the "
        "others, threshold = number of lit segments, so it fires for that pattern alone. It "
        f"fires exactly one output for {n['one_layer_digits_correct']} of the 4 digits 6, 7, 8, 9 "
        f"and {silent} {others} other patterns, with {n['one_layer_params']} parameters. The "
        "two-layer net codes each digit in two hidden bits (f AND b, e AND c) and decodes them, "
        f"with {n['two_layer_params']} parameters: right on {n['two_layer_digits_correct']} of "
        "the 4 digits, but four codes leave none for 'no digit', so "
        f"{two_fires} of the {others} other patterns fire an output too (counts per output: "
        f"{n['two_layer_outputs_on_other_patterns']}).")


def main(argv=None):
    return command_line(sys.modules[__name__], argv=argv)


if __name__ == "__main__":
    main()
