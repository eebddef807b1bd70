"""A student's workspace, cut from the library's own code, and the student's code put to use.

The answer to each exercise is the library's function as it stands (its source, through
:mod:`inspect`); the question is the same function with its body replaced by a stub that
raises ``NotImplementedError``. So the exercises and their solutions are one text and cannot
drift apart, and nothing in the library marks them.

A workspace is a folder::

    homework.json                    which exercises, which version of scratchnn
    README.md                        what to do, in the course's order
    part3_autoencoder/ex06_dense_backward.py     one exercise per file: imports, the stub

Each file imports what the library's answer uses, from the module the answer lives in, so
a student may use the same helpers (and the answer, copied in, runs as it does in the library).
"""

import ast
import contextlib
import importlib
import importlib.util
import inspect
import json
import sys
import textwrap
import traceback
import types
from pathlib import Path

from .registry import BY_NAME, EXERCISES, PART_FOLDERS, PARTS, Exercise

MANIFEST = "homework.json"
STUB = "raise NotImplementedError"


class WorkspaceError(ValueError):
    """A folder that is not a workspace, or one this version of scratchnn cannot use."""


class StudentImportError(ImportError):
    """A student's file that does not import: which file and line, and why."""


def version():
    from .. import __version__
    return __version__


# --------------------------------------------------------------------------- the library's answer


def library_object(exercise):
    """The library's function (or, for a method, its class and the plain function)."""
    module = importlib.import_module(exercise.module)
    owner, _, attribute = exercise.qualname.rpartition(".")
    holder = getattr(module, owner) if owner else module
    return holder, attribute, holder.__dict__[attribute] if owner else getattr(module, attribute)


def answer_function(exercise):
    _, _, function = library_object(exercise)
    return function


def answer_source(exercise):
    """The library's source of the answer, dedented, renamed to the exercise's name."""
    function = answer_function(exercise)
    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source)
    definition = tree.body[0]
    old = definition.name
    head = source.index(f"def {old}(")
    return source[:head] + f"def {exercise.name}(" + source[head + len(f"def {old}("):]


def docstring_lines(source):
    """The lines of the docstring of the first definition in ``source``, as written (None if
    it has none), and the definition's node."""
    definition = ast.parse(source).body[0]
    first = definition.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return source.splitlines()[first.lineno - 1:first.end_lineno], definition
    return None, definition


def stub_source(exercise):
    """The exercise as a student starts it: the answer's signature and docstring (for a method
    without one, its class's, which holds the math), and a body that raises."""
    source = answer_source(exercise)
    doc, definition = docstring_lines(source)
    if doc is None and exercise.is_method:
        holder, _, _ = library_object(exercise)
        doc, _ = docstring_lines(textwrap.dedent(inspect.getsource(holder)))
    header = source.splitlines()[:definition.body[0].lineno - 1]       # the def line(s)
    indent = " " * definition.body[0].col_offset
    return "\n".join(header + (doc or []) + [
        f'{indent}{STUB}("exercise {exercise.name} is not written yet: write its body here")',
    ]) + "\n"


def imports_for(exercise):
    """Import lines for every global name the answer uses, from the answer's own module."""
    function = answer_function(exercise)
    names, stack = set(), [function.__code__]
    while stack:                                   # the code and every nested code object
        code = stack.pop()
        names.update(code.co_names)
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    namespace = function.__globals__
    modules, members = [], []
    for name in sorted(names):
        if name not in namespace:
            continue                                # a builtin or an attribute's name
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            modules.append(f"import {value.__name__}" + (
                "" if value.__name__ == name else f" as {name}"))
        else:
            members.append(name)
    lines = sorted(modules)
    if members:
        joined = ", ".join(members)
        line = f"from {exercise.module} import {joined}"
        lines.append(line if len(line) <= 99 else
                     f"from {exercise.module} import (" + "\n    ".join(
                         textwrap.wrap(joined, 90)) + ")")
    return lines


# --------------------------------------------------------------------------- writing a workspace


def number(exercise):
    return EXERCISES.index(exercise) + 1


def relative_path(exercise):
    return Path(PART_FOLDERS[exercise.part]) / f"ex{number(exercise):02d}_{exercise.name}.py"


def exercise_file(exercise, solution=False):
    """The text of one exercise's file: what it is, how it is graded, imports, the function."""
    where = (f"The library's own answer (a teacher's key), copied from {exercise.where}."
             if solution else f"Write the body of {exercise.name}: the library's own is "
                              f"{exercise.where}, for when you are done.")
    note = textwrap.wrap(exercise.note, 90, initial_indent="Given: ", subsequent_indent="  ")
    graded = textwrap.wrap(exercise.graded, 90, initial_indent="Graded: ",
                           subsequent_indent="  ")
    head = [f'"""Exercise {number(exercise)} of {len(EXERCISES)}, part {exercise.part} '
            f'({PARTS[exercise.part]}): {exercise.qualname}.', "", *textwrap.wrap(where, 92), "",
            *graded, *([""] + note if note else []), "",
            f"Check it: python -m scratchnn.exercises check DIR {exercise.name}", '"""']
    body = answer_source(exercise) if solution else stub_source(exercise)
    imports = imports_for(exercise)
    return "\n".join(head) + "\n\n" + ("\n".join(imports) + "\n\n\n" if imports else "\n") + body


def choose(part=None, names=()):
    """The exercises a teacher asked for: by name, or a part, or all, in the course's order."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        import difflib
        near = difflib.get_close_matches(unknown[0], BY_NAME, n=3)
        raise WorkspaceError(f"no exercise named {unknown[0]!r}"
                             + (f"; did you mean {' or '.join(near)}?" if near else "")
                             + " (python -m scratchnn.exercises list shows them all)")
    if part is not None and part not in PARTS:
        raise WorkspaceError(f"the course has parts {', '.join(map(str, PARTS))}, not {part!r}")
    return [e for e in EXERCISES if (not names or e.name in names)
            and (part is None or e.part == part)]


def start(folder, part=None, names=(), solutions=False, force=False):
    """Write a workspace into ``folder`` (new, or one started before with this version):
    a file per exercise chosen. A file already there is kept unless ``force``; returns
    (written, kept) lists of exercises."""
    folder = Path(folder)
    chosen = choose(part, names)
    manifest = read_manifest(folder) if (folder / MANIFEST).exists() else None
    if manifest is not None and manifest["solutions"] != solutions and not force:
        kind = "a teacher's key (--solutions)" if manifest["solutions"] else "a student's workspace"
        raise WorkspaceError(f"{folder} is {kind}; write the other kind elsewhere, or pass --force")
    written, kept = [], []
    for exercise in chosen:
        path = folder / relative_path(exercise)
        if path.exists() and not force:
            kept.append(exercise)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(exercise_file(exercise, solution=solutions))
        written.append(exercise)
    listed = [] if manifest is None else manifest["exercises"]
    listed = [e.name for e in EXERCISES if e.name in set(listed) | {x.name for x in chosen}]
    (folder / MANIFEST).write_text(json.dumps(
        {"scratchnn": version(), "solutions": solutions, "exercises": listed}, indent=1) + "\n")
    (folder / "README.md").write_text(workspace_readme(folder, [BY_NAME[n] for n in listed]))
    return written, kept


def workspace_readme(folder, exercises):
    lines = ["# Homework: the course, written by you", "",
             "Each file holds one function of scratchnn with its docstring and an empty body. "
             "Write the body, then let the grader check it:", "", "```bash",
             f"python -m scratchnn.exercises check {folder}            # every exercise here",
             f"python -m scratchnn.exercises check {folder} NAME...    # some of them", "```",
             "", "Once a part is done, run its study with your code in place of the library's:",
             "", "```bash", f"python -m demos distillation --with {folder}", "```", ""]
    for part in sorted({e.part for e in exercises}):
        lines += [f"## Part {part}: {PARTS[part]}", ""]
        lines += [f"{number(e)}. `{relative_path(e)}`: {e.qualname}. Graded: {e.graded}."
                  for e in exercises if e.part == part]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading a workspace


def read_manifest(folder):
    """The workspace's manifest, after checking it is one, of this version of scratchnn."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise WorkspaceError(f"{folder} is not a folder; create a workspace with: "
                             f"python -m scratchnn.exercises start {folder}")
    if not path.is_file():
        raise WorkspaceError(f"{folder} is not a scratchnn homework workspace (it has no "
                             f"{MANIFEST}); create one with: python -m scratchnn.exercises "
                             f"start {folder}")
    try:
        manifest = json.loads(path.read_text())
        made_by, listed = manifest["scratchnn"], list(manifest["exercises"])
        manifest["solutions"] = bool(manifest.get("solutions", False))
    except (ValueError, KeyError, TypeError) as err:
        what = f"it lacks the entry {err}" if isinstance(err, KeyError) else str(err)
        raise WorkspaceError(f"{path} is damaged ({what}); delete it and run python -m "
                             f"scratchnn.exercises start {folder} again (with --part or the "
                             "names you had): your exercise files are kept") from None
    if made_by != version():
        raise WorkspaceError(
            f"{folder} was written by scratchnn {made_by}, and this is scratchnn {version()}: its "
            "exercises may differ. Start a new workspace (python -m scratchnn.exercises start "
            f"NEWDIR) and copy your function bodies into it, or install scratchnn {made_by}")
    unknown = [n for n in listed if n not in BY_NAME]
    if unknown:
        raise WorkspaceError(f"{path} lists exercises this version does not have: {unknown}")
    return manifest


def is_stub(function_node):
    """True if a function's body is still the stub: a docstring at most, then the raise."""
    body = list(function_node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    call = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(call, ast.Name) and call.id == "NotImplementedError"


def started(folder, exercise):
    """Whether the student has written the exercise: its file exists and its body is no stub."""
    path = Path(folder) / relative_path(exercise)
    if not path.is_file():
        return False
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError:
        return True                         # written, and broken: load() will say where
    nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == exercise.name]
    return bool(nodes) and not is_stub(nodes[-1])


def load(folder, exercise):
    """The student's function for ``exercise``, from its own file, imported afresh."""
    path = Path(folder) / relative_path(exercise)
    if not path.is_file():
        raise StudentImportError(f"{relative_path(exercise)} is missing from {folder}; write it "
                                 f"again with: python -m scratchnn.exercises start {folder} "
                                 f"{exercise.name}")
    name = f"scratchnn_homework.{exercise.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        source = path.read_text()
        code = compile(source, str(path), "exec")
        sys.modules[name] = module
        exec(code, module.__dict__)
    except SyntaxError as err:
        sys.modules.pop(name, None)
        raise StudentImportError(f"{relative_path(exercise)} does not import: {err.msg} at line "
                                 f"{err.lineno}: {(err.text or '').strip()}") from None
    except Exception as err:
        sys.modules.pop(name, None)
        line = next((frame.lineno for frame in reversed(traceback.extract_tb(err.__traceback__))
                     if frame.filename == str(path)), "?")
        raise StudentImportError(f"{relative_path(exercise)} does not import: "
                                 f"{type(err).__name__} at line {line}: {err}") from None
    function = module.__dict__.get(exercise.name)
    if not callable(function):
        raise StudentImportError(f"{relative_path(exercise)} defines no function "
                                 f"{exercise.name}; keep its name (the grader looks for it)")
    return function


# --------------------------------------------------------------------------- the student's code in use


_ACTIVE = {"folder": None, "undo": []}


def install(exercise, function):
    """Put ``function`` in the library's place for ``exercise``: on its class for a method;
    for a function, in every loaded module that holds the library's (``from x import f``
    included). Returns how to undo it."""
    holder, attribute, original = library_object(exercise)
    if exercise.is_method:
        setattr(holder, attribute, function)
        return [(holder, attribute, original)]
    undo = []
    for module in list(sys.modules.values()):
        space = getattr(module, "__dict__", None)
        if not isinstance(space, dict):
            continue
        for key, value in list(space.items()):
            if value is original:
                setattr(module, key, function)
                undo.append((module, key, original))
    return undo


@contextlib.contextmanager
def use(folder, names=None):
    """``with use(DIR) as mine:`` runs the library with the student's code of every exercise
    the workspace holds and the student has started (``names``: only those), and the
    library's own everywhere else; ``mine`` lists the exercises in use. A student's file
    that does not import is an error, before anything runs."""
    manifest = read_manifest(folder)
    chosen = [BY_NAME[n] for n in manifest["exercises"] if names is None or n in names]
    functions = {e.name: load(folder, e) for e in chosen if started(folder, e)}
    if _ACTIVE["folder"] is not None:
        raise WorkspaceError(f"a workspace is already in use ({_ACTIVE['folder']}); one at a time")
    undo = []
    try:
        for name, function in functions.items():
            undo += install(BY_NAME[name], function)
        _ACTIVE.update(folder=str(folder), undo=undo, names=list(functions))
        yield list(functions)
    finally:
        for holder, key, original in reversed(undo):
            setattr(holder, key, original)
        _ACTIVE.update(folder=None, undo=[], names=[])


def active():
    """The folder and exercises of the workspace in use, or None (for worker processes)."""
    if _ACTIVE["folder"] is None:
        return None
    return {"folder": _ACTIVE["folder"], "exercises": list(_ACTIVE["names"])}


def use_in_worker(state):
    """A process pool's initializer: the parent's workspace in this worker too. A forked
    worker has it already; a spawned one (macOS, Windows) installs it afresh."""
    if state is None or _ACTIVE["folder"] is not None:
        return
    context = use(state["folder"], state["exercises"])
    context.__enter__()          # for the worker's lifetime


__all__ = ["Exercise", "WorkspaceError", "StudentImportError", "start", "read_manifest", "use",
           "load", "started", "active", "use_in_worker"]
