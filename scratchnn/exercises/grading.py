"""Grading: each exercise against its defining properties, on examples hypothesis draws, with
one sentence of feedback a student can act on.

A grader (:mod:`scratchnn.exercises.properties`) takes the student's function and either
returns a short note of what passed or raises :class:`Failed` with one sentence: what was
compared, on the smallest input hypothesis found, the student's value against the expected
one, and a hint where the mistake is a known one. The helpers here build those sentences.

:func:`check` grades a workspace in a worker process, one exercise after another, so that a
function that loops or crashes is stopped and reported while the others are still graded.
"""

import contextlib
import io
import json
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np

from .registry import BY_NAME
from . import workspace

TIMEOUT = 30.0          # seconds one exercise may take before it is stopped


class Failed(AssertionError):
    """The student's function is wrong: the message says how, in one sentence."""


# --------------------------------------------------------------------------- drawing examples


def run_property(prop, *strategies, examples=30):
    """``prop(*drawn)`` on ``examples`` draws of ``strategies``, the same draws on every run;
    the first :class:`Failed` is shrunk by hypothesis to its smallest example and raised."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Flaky

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), print_blob=False,
              phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(st.tuples(*strategies))
    def test(drawn):
        prop(*drawn)

    try:
        with contextlib.redirect_stdout(io.StringIO()):     # hypothesis reports its example
            test()
    except Flaky as err:
        raise Failed("gives different answers for the same input when called twice (does it "
                     f"keep state between calls, or draw random numbers?): {err}") from None
    except Failed as err:
        err.__notes__ = []                  # hypothesis's own notes: the sentence says it all
        raise


def call(function, *args, inputs=""):
    """``function(*args)``, with any error it raises said as a failure on these inputs."""
    try:
        return function(*args)
    except Failed:
        raise
    except NotImplementedError as err:
        raise Failed(f"raised NotImplementedError ({err}): is its body still the stub?") from err
    except Exception as err:
        hint = ""
        if "matmul" in str(err) or "shapes" in str(err) and "aligned" in str(err):
            hint = " Hint: check the shapes of the matrix product (a missing transpose?)."
        raise Failed(f"raised {type(err).__name__}: {err}{inputs_text(inputs)}.{hint}") from err


def inputs_text(inputs):
    return f" for {inputs}" if inputs else ""


def shape_words(**arrays):
    """'x of shape (2, 4) and dout of shape (2, 3)'."""
    return " and ".join(f"{name} of shape {np.shape(a)}" for name, a in arrays.items())


def student_class(cls, attribute, function):
    """A subclass of the library's ``cls`` with the student's ``function`` as ``attribute``
    (special methods such as ``__call__`` are looked up on the class, so a subclass it is)."""
    return type(f"Your{cls.__name__}", (cls,), {attribute: function})


# --------------------------------------------------------------------------- comparing


def index_text(name, index):
    return f"{name}[{', '.join(str(int(i)) for i in index)}]" if index else name


def compare(what, yours, expected, inputs, reference="expected", name=None, hints=(),
            rtol=1e-6, atol=1e-9):
    """Raise :class:`Failed` unless ``yours`` matches ``expected``: shape first, then values,
    naming the element that differs most. ``hints``: ``(test(yours, expected), text)`` pairs;
    the first whose test holds is added (each names a known mistake)."""
    expected = np.asarray(expected, dtype=np.float64)
    if yours is None:
        raise Failed(f"{what} is None{inputs_text(inputs)}: return it (or set it)")
    try:
        mine = np.asarray(yours, dtype=np.float64)
    except (TypeError, ValueError):
        raise Failed(f"{what} is {type(yours).__name__}, not an array of numbers"
                     f"{inputs_text(inputs)}") from None
    if mine.shape != expected.shape:
        transposed = mine.ndim == 2 and mine.shape == expected.shape[::-1]
        raise Failed(f"{what} has shape {mine.shape}, expected {expected.shape}"
                     f"{inputs_text(inputs)}"
                     + (". Hint: it looks transposed: check the order of the matrix "
                        "product's operands (or a .T)" if transposed else
                        hint_for(hints, mine, expected)))
    if not np.isfinite(mine).all():
        index = tuple(np.argwhere(~np.isfinite(mine))[0])
        where = f" at {index_text(name or 'index', index)}" if index else ""
        raise Failed(f"{what} holds {mine[index]}{where}{inputs_text(inputs)}"
                     + hint_for(hints, mine, expected))
    if np.allclose(mine, expected, rtol=rtol, atol=atol):
        return
    index = np.unravel_index(np.argmax(np.abs(mine - expected)), mine.shape) if mine.ndim else ()
    short = {"finite differences": "numeric"}.get(reference, reference)
    where = f" at {index_text(name, index)}" if index and name else ""
    a, b = two_numbers(mine[index], expected[index])
    raise Failed(f"{what} differs from {reference}: yours {a}, {short} {b}{where}"
                 f"{inputs_text(inputs)}" + hint_for(hints, mine, expected))


def two_numbers(a, b):
    """Two numbers with just enough digits to tell them apart (4 at least, 12 at most)."""
    for digits in range(4, 13):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            break
    return f"{a:.{digits}g}", f"{b:.{digits}g}"


def hint_for(hints, mine, expected):
    for test, text in hints:
        try:
            if test(mine, expected):
                return f". Hint: {text() if callable(text) else text}"
        except (ValueError, TypeError, FloatingPointError):
            continue
    return ""


def close(a, b, rtol=1e-6, atol=1e-9):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def scaled(factor):
    """A hint test: yours is ``factor`` times the expected value (and that is not the same)."""
    return lambda mine, expected: (not close(factor * expected, expected)
                                   and close(mine, factor * expected))


def matches(other):
    """A hint test: yours equals ``other`` (a mistake's value), not the expected one."""
    return lambda mine, expected: (not close(other, expected)) and close(mine, other)


# --------------------------------------------------------------------------- grading a workspace


def grade(name, function):
    """Grade one student function in this process: ('pass', note, '') or ('fail', message,
    the traceback of the student's error behind it, if any)."""
    from .properties import GRADERS
    try:
        with np.errstate(all="ignore"):
            note = GRADERS[name](function)
    except Failed as err:
        cause = err.__cause__
        details = "".join(traceback.format_exception(cause)) if cause is not None else ""
        return "fail", str(err), details
    return "pass", note or "passed", ""


def worker(folder, names, verbose, memory_bytes, send):
    """Grade ``names`` one by one in this process, saying through ``send`` which begins and
    how it ended; :mod:`scratchnn.exercises.worker` runs it in a process of its own."""
    try:
        import resource                     # bound what a student's code may allocate
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ImportError, ValueError, OSError):
        pass
    for name in names:
        send(["start", name])
        start = time.perf_counter()
        details = ""
        try:
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                function = workspace.load(folder, BY_NAME[name])
                status, message, details = grade(name, function)
            if sink.getvalue():             # what the student's function printed
                printed = sink.getvalue()
                details += "printed:\n" + (printed if len(printed) < 4000 else
                                            printed[:4000] + "\n... (cut)\n")
        except workspace.StudentImportError as err:
            status, message = "fail", str(err)
        except MemoryError:
            status, message = "fail", "ran out of memory (is an array far larger than needed?)"
        except Exception as err:            # the grader itself broke on this function
            status, message = "error", f"the grader failed: {type(err).__name__}: {err}"
            details = traceback.format_exc()
        send(["done", name, status, message, time.perf_counter() - start,
              details if verbose else ""])
    send(["end"])


def start_worker(folder, names, verbose, memory_bytes):
    """A worker process (``python -m scratchnn.exercises.worker``), whatever the caller's own
    main module, and a queue of what it says, line by line (None when it is gone)."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [package_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    process = subprocess.Popen(
        [sys.executable, "-m", "scratchnn.exercises.worker", str(folder), json.dumps(names),
         "1" if verbose else "0", str(int(memory_bytes))], stdout=subprocess.PIPE,
        stderr=None if verbose else subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env,
        text=True)
    said = queue.Queue()

    def read():
        for line in process.stdout:
            said.put(json.loads(line))
        said.put(None)
    threading.Thread(target=read, daemon=True).start()
    return process, said


def check(folder, names=None, timeout=TIMEOUT, verbose=False, memory_bytes=4 * 2**30):
    """Grade the exercises ``names`` of the workspace ``folder`` (default: all it holds).

    Returns a list of (exercise, status, message, seconds, details) in the course's order;
    status is 'pass', 'fail', 'not started', 'timeout', 'crashed' or 'error' (a fault of the
    grader). The exercises run in a worker process; one that takes longer than ``timeout``
    seconds is stopped, one that kills its process is reported, and the rest are graded in a
    new worker.
    """
    import importlib.util
    if importlib.util.find_spec("hypothesis") is None:     # the worker draws its examples
        raise ImportError("the grader needs hypothesis, which is not installed")
    manifest = workspace.read_manifest(folder)
    chosen = workspace.choose(names=tuple(names)) if names else \
        [BY_NAME[n] for n in manifest["exercises"]]
    missing = [e.name for e in chosen if e.name not in manifest["exercises"]]
    if missing:
        raise workspace.WorkspaceError(
            f"{folder} has no exercise {missing[0]!r} (it holds {', '.join(manifest['exercises'])});"
            f" add it with: python -m scratchnn.exercises start {folder} {missing[0]}")
    results = {e.name: (e, "fail", f"{workspace.relative_path(e)} is missing from {folder}; "
                        f"python -m scratchnn.exercises start {folder} {e.name} writes it again",
                        0.0, "") for e in chosen
               if not (Path(folder) / workspace.relative_path(e)).is_file()}
    results.update({e.name: (e, "not started", "not started", 0.0, "") for e in chosen
                    if e.name not in results and not workspace.started(folder, e)})
    waiting = [e.name for e in chosen if e.name not in results]
    while waiting:
        process, said = start_worker(folder, waiting, verbose, memory_bytes)
        current, started_at = None, time.perf_counter()
        while True:
            limit = timeout if current else timeout + 60     # the worker's own start included
            try:
                message = said.get(timeout=max(0.0, limit - (time.perf_counter() - started_at)))
            except queue.Empty:
                process.kill()
                name = current or waiting[0]
                results[name] = (BY_NAME[name], "timeout",
                                 f"stopped after {timeout:g} s: does it loop forever, or work "
                                 "on arrays far larger than the inputs?", timeout, "")
                break
            if message is None:             # the worker is gone, in the middle of an exercise
                name = current or waiting[0]
                results[name] = (BY_NAME[name], "crashed",
                                 f"its process died (exit code {process.wait()}): does it call "
                                 "exit(), or crash the interpreter?",
                                 time.perf_counter() - started_at, "")
                break
            if message[0] == "start":
                current, started_at = message[1], time.perf_counter()
            elif message[0] == "done":
                _, name, status, text, seconds, details = message
                results[name] = (BY_NAME[name], status, text, seconds, details)
                current = None
            else:
                break
        process.wait()
        waiting = [n for n in waiting if n not in results]
    return [results[e.name] for e in chosen]
