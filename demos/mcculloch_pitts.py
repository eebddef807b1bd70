"""McCulloch–Pitts neurons recognising 6, 7, 8 and 9 on a 7-segment display: a one-layer
net of templates and a smaller two-layer net, checked on all 128 segment patterns.

    python -m demos.mcculloch_pitts [--out DIR]      # the course's networks; no seed is drawn
"""

import argparse

import numpy as np
from matplotlib.patches import Polygon

from demos._common import plt, print_numbers, save
from scratchnn.mcculloch_pitts import (SEGMENTS, all_patterns, digit_pattern, one_layer_detector,
                                       two_layer_detector)

# %% The course's settings
DIGITS = (6, 7, 8, 9)      # the digits to recognise

# %% 1. The data: every on/off pattern of the 7 segments a..g (2^7 = 128 of them)
patterns = all_patterns()
is_digit = np.array([any((p == digit_pattern(d)).all() for d in DIGITS) for p in patterns])

# %% 2. The model
# One layer: one template unit per digit, weight +1 on its lit segments and -1 on the others,
# threshold = number of lit segments, so it fires for exactly that pattern.
# Two layers: two hidden AND units (f AND b, e AND c) give each digit a 2-bit code, and
# four output units decode it.
def build_nets():
    return one_layer_detector(DIGITS), two_layer_detector()

# %% 3. Training: none; a McCulloch–Pitts unit's weights and threshold are designed by hand


# %% 4. Evaluation: each net on the four digits and on the other 124 patterns
def evaluate(one, two):
    out_one, out_two = one(patterns), two(patterns)
    digits, others = np.flatnonzero(is_digit), np.flatnonzero(~is_digit)
    return {
        "one_layer_params": one.n_params(),
        "two_layer_params": two.n_params(),
        # right = exactly one output fires, and it is the digit's own
        "one_layer_digits_correct": int(sum(out_one[i].sum() == 1 for i in digits)),
        "one_layer_silent_on_other_patterns": int(sum(out_one[i].sum() == 0 for i in others)),
        "two_layer_digits_correct": int(sum(two.recognise(digit_pattern(d)) == d for d in DIGITS)),
        # Two binary hidden units give only 4 codes, so every pattern maps to some digit.
        "two_layer_fires_on_other_patterns": int(out_two[others].any(axis=1).sum()),
        "two_layer_outputs_on_other_patterns": {str(d): int(c) for d, c in
                                                zip(DIGITS, out_two[others].sum(axis=0))},
        "other_patterns": len(others),
    }


# %% 5. Figures
# Segment centres and orientation on a display 1 wide and 2 high.
GEOMETRY = {"a": (0.5, 2.0, "h"), "b": (1.0, 1.5, "v"), "c": (1.0, 0.5, "v"),
            "d": (0.5, 0.0, "h"), "e": (0.0, 0.5, "v"), "f": (0.0, 1.5, "v"), "g": (0.5, 1.0, "h")}


def draw_display(ax, pattern, title=None, on="#d62728"):
    """A 7-segment display with the lit segments of ``pattern`` in colour."""
    half, w = 0.38, 0.09
    for segment, lit in zip(SEGMENTS, pattern):
        cx, cy, kind = GEOMETRY[segment]
        pts = [(-half, 0), (-half + w, w), (half - w, w), (half, 0), (half - w, -w), (-half + w, -w)]
        pts = [(cx + a, cy + b) if kind == "h" else (cx + b, cy + a) for a, b in pts]
        ax.add_patch(Polygon(pts, closed=True, color=on if lit else "#eeeeee"))
    ax.set(xlim=(-0.3, 1.3), ylim=(-0.3, 2.3), aspect="equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)


def digits_figure(one, two, out):
    fig, axes = plt.subplots(3, 4, figsize=(7.5, 6.8), gridspec_kw={"height_ratios": [2.2, 1, 1]})
    for col, d in enumerate(DIGITS):
        draw_display(axes[0, col], digit_pattern(d), title=f"digit {d}")
        for row, (net, label) in enumerate([(one, "one-layer"), (two, "two-layer")], start=1):
            ax = axes[row, col]
            ax.bar([str(n) for n in DIGITS], net(digit_pattern(d)),
                   color=["#2ca02c" if n == d else "#999999" for n in DIGITS])
            ax.set(ylim=(0, 1.2), yticks=[0, 1])
            if col == 0:
                ax.set_ylabel(f"{label}\noutput")
    fig.suptitle("McCulloch–Pitts networks on the four digits: which output fires")
    fig.tight_layout()
    return save(fig, out, "mp_digits.png")


def others_figure(one, two, out):
    """Digits 0-5 and two arbitrary patterns: what each net fires for them."""
    def fired(net, p):
        return ", ".join(str(n) for n, o in zip(net.output_names, net(p)) if o) or "none"
    others = patterns[~is_digit]
    examples = [digit_pattern(k) for k in range(6)] + [others[5], others[40]]
    fig, axes = plt.subplots(1, len(examples), figsize=(1.5 * len(examples), 2.8))
    for ax, p in zip(axes, examples):
        draw_display(ax, p, title=f"1-layer: {fired(one, p)}\n2-layer: {fired(two, p)}",
                     on="#1f77b4")
    fig.suptitle("Other patterns: the one-layer net stays silent, the two-layer net cannot", y=1.05)
    return save(fig, out, "mp_other_patterns.png")


# %% The whole study
def study(out="results"):
    """Both networks on every pattern, and their figures (deterministic: no seed)."""
    one, two = build_nets()
    return {"numbers": evaluate(one, two),
            "figures": [digits_figure(one, two, out), others_figure(one, two, out)]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results", help="folder for figures (default: results)")
    print_numbers("McCulloch–Pitts", study(parser.parse_known_args()[0].out)["numbers"])
