"""Input checks shared by every public entry point.

Each check names the argument, says what was wrong and what to do, and raises
``ValueError`` or ``TypeError`` (or :class:`NotFittedError`, a ``ValueError``).
A wrong answer that looks right is worse than an error, so bad input stops here.
"""

import numpy as np


class NotFittedError(ValueError):
    """A model was asked to predict before ``fit`` was called."""


class NonFiniteError(ValueError):
    """An array holds NaN or infinity where finite numbers are needed."""


class NumericalError(FloatingPointError):
    """A learning rule failed numerically: its weights or its error became NaN or
    infinite, or its error grew where the rule guarantees it cannot."""


def check_fitted(model, attribute):
    """Raise :class:`NotFittedError` unless ``model`` has ``attribute`` (set by ``fit``)."""
    if getattr(model, attribute, None) is None:
        raise NotFittedError(f"this {type(model).__name__} is not fitted yet; call fit(...) "
                             "before predict, score or transform")


def check_array(x, name, ndim=2, dtype=None, allow_empty=False, finite=True):
    """``x`` as a real-valued array of ``ndim`` dimensions (``None``: any), cast to ``dtype``.

    Rejects non-numeric and complex dtypes, the wrong number of dimensions, an
    empty array (unless ``allow_empty``) and NaN or infinity (unless ``finite`` is False).
    """
    try:
        x = np.asarray(x)
    except ValueError as err:          # ragged nested lists
        raise ValueError(f"{name} is not a rectangular array ({err})") from None
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) \
            or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        shape = {1: "(n,)", 2: "(n_samples, n_features)"}.get(ndim, f"{ndim}-D")
        raise ValueError(f"{name} must be {ndim}-D {shape}, got shape {x.shape}")
    if not allow_empty and x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}); pass at least one sample")
    given = x
    if dtype is not None:
        with np.errstate(over="ignore"):       # an overflowing cast is reported below
            x = x.astype(dtype, copy=False)
    elif x.dtype == bool or np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float64)
    if finite and not np.isfinite(x).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        if np.isfinite(given[where]):     # finite as given: the cast overflowed
            raise ValueError(f"{name} holds {given[where]} (at index {where}), too large for {x.dtype}; "
                             "scale the data down first")
        raise NonFiniteError(f"{name} contains NaN or infinity (first at index {where}); "
                             "clean or impute the data first")
    return x


def check_labels(labels, name, n_rows, n_classes=None):
    """Integer class labels, one per row: shape ``(n_rows,)``, values ``0 .. n_classes-1``.

    Floats that hold whole numbers are accepted; a column ``(n, 1)`` is refused,
    since comparing it with ``(n,)`` predictions would broadcast to an (n, n) grid.
    """
    labels = np.asarray(labels)
    if labels.shape != (n_rows,):
        hint = "; flatten it with labels.ravel()" if labels.size == n_rows else ""
        raise ValueError(f"{name} must have shape ({n_rows},), one label per row, got {labels.shape}{hint}")
    if labels.dtype.kind not in "iu":
        if (labels.dtype.kind == "f" and np.isfinite(labels).all() and np.all(labels == np.round(labels))
                and np.all(np.abs(labels) < 2**53)):
            labels = labels.astype(np.intp)
        else:
            bound = f"0..{n_classes - 1}" if n_classes else "0, 1, 2, ..."
            raise TypeError(f"{name} must be integer class labels {bound}, got dtype {labels.dtype}")
    if n_classes is not None and n_rows and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"{name}: label {bad} is out of range for {n_classes} classes "
                         f"(0..{n_classes - 1}); map the labels to 0..n_classes-1 first")
    return labels


def check_positive(value, name, integer=False, allow_zero=False):
    """A finite number > 0 (or >= 0 with ``allow_zero``); an int when ``integer``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        finite = np.isfinite(float(value))
    except OverflowError:               # an int beyond the range of floats
        finite = False
    if not finite or value < 0 or (value == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {need} number, got {value}")
    if integer and int(value) != value:
        raise TypeError(f"{name} must be a whole number, got {value}")
    return int(value) if integer else float(value)


def check_choice(value, name, choices):
    """``value`` if it is one of the strings ``choices``, else a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        options = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be {options}, got {value!r}")
    return value
