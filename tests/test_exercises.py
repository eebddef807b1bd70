"""The course as homework: workspaces cut from the library's own code, the grader's commands and
feedback, and the student's code running the course. (The hints are tested one mistake at a
time in test_exercise_mutants.py.)"""

import ast
import inspect
import json
import textwrap

import pytest

import scratchnn
from scratchnn import exercises
from scratchnn.exercises import EXERCISES, BY_NAME
from scratchnn.exercises.__main__ import main
from scratchnn.exercises.workspace import (StudentImportError, WorkspaceError, answer_function,
                                           load, relative_path, started, stub_source)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    """A teacher's key: every exercise, with the library's answers."""
    folder = tmp_path_factory.mktemp("key")
    exercises.start(folder, solutions=True)
    return folder


def body(source):
    """The statements of a function's body, docstring left out, as source text."""
    definition = ast.parse(textwrap.dedent(source)).body[0]
    statements = definition.body
    if isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
        statements = statements[1:]
    return [ast.unparse(s) for s in statements]


# --------------------------------------------------------------------------- one source of truth


def test_the_exercises_follow_the_course_and_cover_what_the_homework_asks():
    assert 15 <= len(EXERCISES) <= 20
    assert [e.part for e in EXERCISES] == sorted(e.part for e in EXERCISES)
    for name in ("template_unit", "two_layer_detector", "adaline_online_step",
                 "madaline_mri_step", "dense_forward", "dense_backward", "relu", "tanh",
                 "sigmoid", "softmax_cross_entropy", "weighted_mse", "l2_penalty", "sgd_step",
                 "adam_step", "train_step", "pixel_importance_weights", "lloyd_step",
                 "adjusted_rand_score", "distill_logit_mse", "soft_target_loss"):
        assert name in BY_NAME, name


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_each_solution_is_the_librarys_own_code_and_each_stub_its_signature_and_docstring(
        exercise, key):
    library = answer_function(exercise)
    path = key / relative_path(exercise)
    solution = [n for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]
    assert [n.name for n in solution] == [exercise.name]
    assert body(ast.get_source_segment(path.read_text(), solution[0])) == \
        body(inspect.getsource(library))
    stub = ast.parse(stub_source(exercise)).body[0]
    library_def = ast.parse(textwrap.dedent(inspect.getsource(library))).body[0]
    assert ast.unparse(stub.args) == ast.unparse(library_def.args)
    doc = ast.get_docstring(stub)
    assert doc and (doc == inspect.getdoc(library) or library.__doc__ is None)
    with pytest.raises(NotImplementedError, match=f"exercise {exercise.name} is not written yet"):
        namespace = {}
        exec(compile(ast.Module([stub], []), "stub", "exec"), namespace)
        namespace[exercise.name](*[None] * len(stub.args.args))


# --------------------------------------------------------------------------- the commands


def test_list_names_every_exercise_its_part_and_what_it_is_graded_on(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for exercise in EXERCISES:
        assert exercise.name in out and exercise.where in out
    assert "Part 4: Teacher, student and knowledge distillation" in out
    assert "graded on: dx, dW and db against centred finite differences" in out


def test_start_writes_a_part_and_never_overwrites_a_students_work(tmp_path, capsys):
    folder = tmp_path / "hw"
    assert main(["start", str(folder), "--part", "1"]) == 0
    manifest = json.loads((folder / "homework.json").read_text())
    assert manifest == {"scratchnn": scratchnn.__version__, "solutions": False,
                        "exercises": ["template_unit", "two_layer_detector"]}
    mine = folder / relative_path(BY_NAME["template_unit"])
    mine.write_text(mine.read_text().replace(
        '    raise NotImplementedError("exercise template_unit is not written yet: write its body '
        'here")', "    return np.where(pattern == 1, 1, -1), int(pattern.sum())"))
    written = mine.read_text()
    assert main(["start", str(folder), "--part", "1"]) == 0
    assert mine.read_text() == written                   # kept
    assert "Kept, as they were already there (--force overwrites them)" in capsys.readouterr().out
    assert main(["start", str(folder), "adam_step"]) == 0            # a teacher adds one
    assert json.loads((folder / "homework.json").read_text())["exercises"] == [
        "template_unit", "two_layer_detector", "adam_step"]
    assert mine.read_text() == written
    assert main(["start", str(folder), "--part", "1", "--force"]) == 0
    assert mine.read_text() != written
    assert main(["start", str(folder), "--solutions"]) == 2          # not over a student's
    assert "a student's workspace" in capsys.readouterr().err


def test_the_key_passes_every_exercise_within_a_minute(key, capsys):
    import time
    start = time.perf_counter()
    assert main(["check", str(key)]) == 0
    seconds = time.perf_counter() - start
    out = capsys.readouterr().out
    assert f"{len(EXERCISES)} passed" in out and "Every exercise passed." in out
    assert seconds < 60


def test_a_new_workspace_is_not_started_not_a_failure_storm(tmp_path, capsys):
    exercises.start(tmp_path, part=4)
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.count("not started") == 3 + 1 and "FAIL" not in out and "Traceback" not in out
    assert "3 not started" in out


def write_body(folder, name, code):
    """Replace an exercise's stub by ``code`` (the body, indented by four spaces)."""
    exercise = BY_NAME[name]
    path = folder / relative_path(exercise)
    stub = (f'    raise NotImplementedError("exercise {name} is not written yet: write its body '
            'here")')
    path.write_text(path.read_text().replace(stub, textwrap.indent(textwrap.dedent(code), "    ")))
    return path


def test_a_failure_is_one_sentence_with_the_smallest_example_and_a_hint(tmp_path, capsys):
    exercises.start(tmp_path, names=("dense_backward", "relu"))
    write_body(tmp_path, "dense_backward", """\
        x = _cached(self, "_x")
        self.grads["W"] = x.T @ dout
        self.grads["b"] = dout.mean(axis=0)
        return dout @ self.params["W"].T
        """)
    write_body(tmp_path, "relu", "return np.maximum(x, 0), (x > 0).astype(x.dtype)")
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "pass         7 relu" in out
    assert ("Dense.backward: db (b's gradient) differs from finite differences: yours" in
            " ".join(out.split()))
    assert "numeric" in out and "at b[0] for x of shape (2, 1)" in " ".join(out.split())
    assert "Hint: db is N = 2 times too small" in " ".join(out.split())
    assert "Traceback" not in out and "1 passed, 1 failed" in out
    assert main(["check", str(tmp_path), "dense_backward", "--verbose"]) == 1
    # --verbose: no student error behind this one (a wrong value, not an exception)
    assert "Traceback" not in capsys.readouterr().out
    exercises.start(tmp_path, names=("relu",), force=True)         # a new stub, then
    write_body(tmp_path, "relu", "return np.maximum(x, 0), x.reshape(-1, 2)")
    assert main(["check", str(tmp_path), "relu"]) == 1
    out = capsys.readouterr().out
    assert "raised ValueError: cannot reshape" in out and "Traceback" not in out
    assert main(["check", str(tmp_path), "relu", "--verbose"]) == 1
    out = capsys.readouterr().out
    assert "| Traceback (most recent call last):" in out and "ex07_relu.py" in out


def test_a_stub_that_loops_or_crashes_is_stopped_and_the_others_still_run(tmp_path, capsys):
    exercises.start(tmp_path, names=("relu", "tanh", "sigmoid"))
    write_body(tmp_path, "relu", "while True:\n    pass")
    write_body(tmp_path, "tanh", "import os\nos._exit(3)")
    write_body(tmp_path, "sigmoid", """\
        out = (1 + np.tanh(x * 0.5)) * 0.5
        return out, out * (1 - out)""")
    assert main(["check", str(tmp_path), "--timeout", "3"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "STOPPED 7 relu stopped after 3 s: does it loop forever" in out
    assert "CRASHED 8 tanh its process died (exit code 3)" in out
    assert "pass 9 sigmoid" in out


def test_a_student_file_that_does_not_import_is_named_with_its_line(tmp_path, capsys):
    exercises.start(tmp_path, names=("tanh", "sigmoid"))
    path = write_body(tmp_path, "tanh", "return np.tanh(x), 1 - np.tanh(x) **")
    write_body(tmp_path, "sigmoid", "return undefined_name")
    path.write_text(path.read_text())
    assert main(["check", str(tmp_path)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "**" in text)
    assert f"ex08_tanh.py does not import: invalid syntax at line {line}" in out
    assert "raised NameError: name 'undefined_name' is not defined" in out
    broken = tmp_path / relative_path(BY_NAME["sigmoid"])
    broken.write_text(broken.read_text() + "\nraise RuntimeError('at import')\n")
    with pytest.raises(StudentImportError, match=r"ex09_sigmoid.py does not import: RuntimeError "
                                                 r"at line \d+: at import"):
        load(tmp_path, BY_NAME["sigmoid"])


def test_bad_folders_names_and_versions_are_told_plainly(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "is not a scratchnn homework workspace (it has no homework.json)" in \
        capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["start", str(tmp_path), "dense_backwards"]) == 2
    assert "no exercise named 'dense_backwards'; did you mean dense_backward" in \
        capsys.readouterr().err
    exercises.start(tmp_path, names=("relu",))
    assert main(["check", str(tmp_path), "tanh"]) == 2
    assert "has no exercise 'tanh'" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "homework.json").read_text())
    (tmp_path / "homework.json").write_text(json.dumps({**manifest, "scratchnn": "0.1.0"}))
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "written by scratchnn 0.1.0, and this is scratchnn" in err and "start a new" in \
        err.lower()
    (tmp_path / "homework.json").write_text("{")
    assert main(["check", str(tmp_path)]) == 2
    assert "is damaged" in capsys.readouterr().err


# --------------------------------------------------------------------------- the student's code runs the course


def test_use_puts_the_students_code_in_place_and_takes_it_out(tmp_path):
    from scratchnn.layers import Dense
    from scratchnn import losses, train
    exercises.start(tmp_path, names=("dense_backward", "softmax_cross_entropy", "tanh"))
    write_body(tmp_path, "dense_backward", "return 'mine'")
    write_body(tmp_path, "softmax_cross_entropy", "return 'mine too'")
    library_backward, library_loss = Dense.backward, losses.softmax_cross_entropy
    with exercises.use(tmp_path) as mine:
        assert mine == ["dense_backward", "softmax_cross_entropy"]         # tanh: not started
        assert exercises.active() == {"folder": str(tmp_path), "exercises": mine}
        assert Dense.backward(None, None) == "mine"
        for module in (losses, train, scratchnn):      # wherever the library's function was
            if hasattr(module, "softmax_cross_entropy"):
                assert module.softmax_cross_entropy(None, None) == "mine too"
    assert Dense.backward is library_backward and losses.softmax_cross_entropy is library_loss
    assert scratchnn.softmax_cross_entropy is library_loss and exercises.active() is None
    assert not started(tmp_path, BY_NAME["tanh"])


def test_with_the_key_the_distillation_study_gives_the_librarys_numbers_bit_for_bit(key):
    import demos.distillation as kd
    from tests.test_study_distillation import SMALL, tiny_mnist

    def numbers():
        n, _ = kd.study(SMALL, 0, data=tiny_mnist(), quick=True, figures=False, verbose=False)
        for model in ("teacher", "student"):
            n[model].pop("seconds_per_epoch")
        return n

    library, library_step = numbers(), kd.train_step
    with exercises.use(key) as mine:
        assert len(mine) == len(EXERCISES)
        assert kd.train_step is not library_step            # the key's copy, not the library
        theirs = numbers()
    assert theirs == library


def test_a_students_wrong_backward_really_trains_the_study(tmp_path):
    """Not the library's code in disguise: a student's backward that forgets the bias's
    gradient is what the study runs, and the first step says so."""
    import demos.distillation as kd
    from tests.test_study_distillation import SMALL, tiny_mnist
    exercises.start(tmp_path, names=("dense_backward",))
    write_body(tmp_path, "dense_backward", """\
        x = _cached(self, "_x")
        self.grads["W"] = x.T @ dout
        return dout @ self.params["W"].T""")
    with exercises.use(tmp_path), pytest.raises(ValueError, match="left no gradient for "
                                                                  "parameter 'b'"):
        kd.study(SMALL, 0, data=tiny_mnist(), quick=True, figures=False, verbose=False)


def test_the_madaline_study_uses_the_students_rule_in_its_worker_processes(tmp_path):
    from demos._common import map_seeds
    exercises.start(tmp_path, names=("madaline_mri_step",))
    write_body(tmp_path, "madaline_mri_step", "return 0.0")     # a rule that never learns
    with exercises.use(tmp_path):
        errors = map_seeds(_errors_after_fit, [(s,) for s in range(2)])
    library = map_seeds(_errors_after_fit, [(s,) for s in range(2)])
    assert all(len(set(e)) == 1 for e in errors)     # the workers ran a rule that never learns
    assert errors != library


def _errors_after_fit(seed):
    from scratchnn.adaline import Madaline
    from scratchnn.datasets import make_moons
    x, y = make_moons(60, noise=0.1, rng=seed)
    model = Madaline(n_hidden=3, rule="MRI", lr=0.1, max_epochs=5, rng=seed).fit(x, 2 * y - 1)
    return model.errors_


def test_one_workspace_at_a_time(key):
    with exercises.use(key):
        with pytest.raises(WorkspaceError, match="already in use"):
            with exercises.use(key):
                pass


def test_without_hypothesis_the_grader_says_what_to_install(tmp_path, capsys, monkeypatch):
    import importlib.util
    exercises.start(tmp_path, names=("relu",))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "hypothesis" else real(name, *a))
    assert main(["check", str(tmp_path)]) == 2
    assert "pip install 'scratchnn[homework]'" in capsys.readouterr().err


def test_the_mcculloch_pitts_study_builds_its_nets_with_the_students_units(tmp_path):
    """A study must build what it measures when it runs, not when it is imported: else a
    student's code would be said to run while the library's did."""
    from demos.harness import mcculloch_pitts
    exercises.start(tmp_path, names=("template_unit",))
    write_body(tmp_path, "template_unit", "return np.where(pattern == 1, 1, 0), int(pattern.sum())")
    library = mcculloch_pitts.run(str(tmp_path / "lib"))["numbers"]
    with exercises.use(tmp_path):
        theirs = mcculloch_pitts.run(str(tmp_path / "mine"))["numbers"]
    assert library["one_layer_silent_on_other_patterns"] == 124
    assert theirs["one_layer_silent_on_other_patterns"] < 124     # zero weights: supersets fire


def test_a_deleted_exercise_file_is_said_to_be_missing_not_unstarted(tmp_path, capsys):
    exercises.start(tmp_path, names=("relu", "tanh"))
    (tmp_path / relative_path(BY_NAME["tanh"])).unlink()
    assert main(["check", str(tmp_path)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "ex08_tanh.py is missing from" in out and f"start {tmp_path} tanh writes it again" in out
