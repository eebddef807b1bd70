"""Every Python block of the README runs as it stands, so the README cannot rot."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_its_tutorials():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                 # files it writes (loss.png, the model) go here
    exec(compile(BLOCKS[index], f"README.md block {index + 1}", "exec"), {"__name__": "readme"})


def test_the_homework_section_runs_and_shows_what_the_grader_prints(tmp_path, monkeypatch,
                                                                     capsys):
    import shlex
    import subprocess
    import sys

    section = README.read_text().split("## Do the course as homework")[1].split("\n## ")[0]
    commands = [line.split("#")[0].strip() for line in
                re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0].splitlines()]
    codes = [subprocess.run([sys.executable, *shlex.split(c)[1:]], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120).returncode
             for c in commands if c]
    assert codes == [0, 0, 1]               # list, start, check of a workspace not written yet
    assert (tmp_path / "hw" / "homework.json").is_file()
    example = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    shown = re.findall(r"```text\n(.*?)```", section, flags=re.S)[0]
    work = tmp_path / "student"
    work.mkdir()
    monkeypatch.chdir(work)
    capsys.readouterr()
    exec(compile(example, "README.md homework block", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert " ".join(shown.split()) in " ".join(printed.split())
