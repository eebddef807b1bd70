"""McCulloch–Pitts neurons (1943) reading a 7-segment display.

A McCulloch–Pitts unit takes binary inputs, has fixed weights and fires (1)
when its weighted sum reaches its threshold; nothing is learned. The display's
segments are ordered a, b, c, d, e, f, g::

     aaa
    f   b
    f   b
     ggg
    e   c
    e   c
     ddd
"""

import itertools

import numpy as np

from .checks import check_array

SEGMENTS = "abcdefg"

# Lit segments of each digit, as on a common 7-segment display (6 with its top bar,
# 7 as a, b, c, 9 with its bottom bar).
DIGIT_SEGMENTS = {
    0: "abcdef", 1: "bc", 2: "abdeg", 3: "abcdg", 4: "bcfg",
    5: "acdfg", 6: "acdefg", 7: "abc", 8: "abcdefg", 9: "abcdfg",
}


def encode(segments):
    """'abc' -> array([1, 1, 1, 0, 0, 0, 0]), in the order of SEGMENTS."""
    if not isinstance(segments, str):
        raise TypeError(f"segments must be a string of letters from {SEGMENTS!r}, got {type(segments).__name__}")
    unknown = set(segments) - set(SEGMENTS)
    if unknown:
        raise ValueError(f"unknown segments {sorted(unknown)}; use letters from {SEGMENTS!r}")
    return np.array([int(s in segments) for s in SEGMENTS])


def digit_pattern(digit):
    """The 7 binary inputs showing ``digit`` (0..9)."""
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)):
        raise TypeError(f"digit must be an int 0..9, got {type(digit).__name__} {digit!r}")
    if digit not in DIGIT_SEGMENTS:
        raise ValueError(f"digit must be 0..9, the digits a 7-segment display shows, got {digit!r}")
    return encode(DIGIT_SEGMENTS[int(digit)])


def _check_binary(x, name):
    """``x`` as an array of 0s and 1s (any shape), or a ValueError naming it."""
    x = np.asarray(x)
    check_array(x, name, ndim=None, allow_empty=True)
    if not np.isin(x, (0, 1)).all():
        raise ValueError(f"McCulloch–Pitts inputs must be 0 or 1; {name} holds {x[~np.isin(x, (0, 1))][0]}")
    return x


def all_patterns():
    """Every one of the 2^7 = 128 segment patterns, shape (128, 7)."""
    return np.array(list(itertools.product([0, 1], repeat=len(SEGMENTS))))


class MPLayer:
    """A layer of McCulloch–Pitts units: unit j fires when sum_i x_i W_ij >= theta_j.

    weights (n_in, n_units), thresholds (n_units,); inputs and outputs are 0/1.
    """

    def __init__(self, weights, thresholds, names=None):
        self.weights = np.asarray(weights)
        self.thresholds = np.asarray(thresholds)
        check_array(self.weights, "weights")
        n_units = self.weights.shape[1]
        check_array(self.thresholds, "thresholds", ndim=1)
        if self.thresholds.shape != (n_units,):
            raise ValueError(f"thresholds must have shape ({n_units},), one per unit (column of weights), "
                             f"got {self.thresholds.shape}")
        self.names = list(names) if names is not None else list(range(n_units))
        if len(self.names) != n_units:
            raise ValueError(f"names must give one name per unit ({n_units}), got {len(self.names)}")

    def __call__(self, x):
        """0/1 outputs: x (n_in,) -> (n_units,), or (N, n_in) -> (N, n_units)."""
        x = _check_binary(x, "x")
        if x.ndim not in (1, 2) or x.shape[-1] != self.weights.shape[0]:
            raise ValueError(f"x must be one pattern ({self.weights.shape[0]},) or a batch "
                             f"(N, {self.weights.shape[0]}) of binary inputs, got shape {x.shape}")
        return (x @ self.weights >= self.thresholds).astype(int)

    def n_params(self):
        """One weight per input per unit, plus one threshold per unit."""
        return self.weights.size + self.thresholds.size


class MPNetwork:
    """McCulloch–Pitts layers applied in order."""

    def __init__(self, layers, output_names):
        self.layers = list(layers)
        if not self.layers or not all(isinstance(layer, MPLayer) for layer in self.layers):
            raise TypeError("layers must be a non-empty list of MPLayer")
        for i, (a, b) in enumerate(zip(self.layers[:-1], self.layers[1:])):
            if a.weights.shape[1] != b.weights.shape[0]:
                raise ValueError(f"layers[{i}] has {a.weights.shape[1]} units but layers[{i + 1}] expects "
                                 f"{b.weights.shape[0]} inputs")
        self.output_names = list(output_names)
        if len(self.output_names) != self.layers[-1].weights.shape[1]:
            raise ValueError(f"output_names must name each of the {self.layers[-1].weights.shape[1]} "
                             f"output units, got {len(self.output_names)} names")

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def n_params(self):
        return sum(layer.n_params() for layer in self.layers)

    def recognise(self, x):
        """The name of the single firing output for one pattern x (n_in,), or None if none or
        several fire."""
        if np.ndim(x) != 1:
            raise ValueError(f"recognise takes one pattern, shape (n_in,), got shape {np.shape(x)}; "
                             "call the network itself on a batch")
        out = self(x)
        return self.output_names[int(np.argmax(out))] if out.sum() == 1 else None


def template_unit(pattern):
    """Weights and threshold of a unit that fires for ``pattern`` and for no other.

    Weight +1 on each lit segment, -1 on each unlit one, threshold = number of lit
    segments: the sum reaches it only when every lit segment is on (each adds 1)
    and no unlit one is (each would subtract 1).
    """
    pattern = _check_binary(pattern, "pattern")
    if pattern.ndim != 1 or pattern.size == 0:
        raise ValueError(f"pattern must be one non-empty binary pattern (n_in,), got shape {pattern.shape}")
    return np.where(pattern == 1, 1, -1), int(pattern.sum())


def one_layer_detector(digits=(6, 7, 8, 9)):
    """One unit per digit, each firing for exactly its digit's pattern (any digit set)."""
    if isinstance(digits, (str, bytes)) or not hasattr(digits, "__iter__"):
        raise TypeError(f"digits must be a sequence of digits 0..9, got {digits!r}")
    digits = tuple(digits)
    patterns = [digit_pattern(d) for d in digits]          # checks each digit
    if not digits or len(set(digits)) != len(digits):
        raise ValueError(f"digits must be distinct digits 0..9, at least one, got {digits}")
    columns, thresholds = zip(*(template_unit(p) for p in patterns))
    layer = MPLayer(np.stack(columns, axis=1), np.array(thresholds), names=digits)
    return MPNetwork([layer], output_names=digits)


def two_layer_detector():
    """The course's two-layer net for 6, 7, 8, 9 with two hidden units.

    Hidden unit 1 fires for f AND b, hidden unit 2 for e AND c, giving each digit a
    2-bit code: 6 -> (0, 1), 7 -> (0, 0), 8 -> (1, 1), 9 -> (1, 0). Each output unit
    is a template unit on that code (weights +-1, threshold = number of ones).
    """
    hidden_w = np.zeros((7, 2), dtype=int)
    for unit, (s1, s2) in enumerate(["fb", "ec"]):
        hidden_w[SEGMENTS.index(s1), unit] = 1
        hidden_w[SEGMENTS.index(s2), unit] = 1
    hidden = MPLayer(hidden_w, np.array([2, 2]), names=["f AND b", "e AND c"])
    digits = (6, 7, 8, 9)
    codes = hidden(np.stack([digit_pattern(d) for d in digits]))
    columns, thresholds = zip(*(template_unit(code) for code in codes))
    output = MPLayer(np.stack(columns, axis=1), np.array(thresholds), names=digits)
    return MPNetwork([hidden, output], output_names=digits)
