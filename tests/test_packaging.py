"""Installing as users do: the wheel ships the course, `init` copies it, a missing extra is named."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.name for p in (REPO / "chapters").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted(p.name for p in (REPO / "exercises").glob("[0-9][0-9]_*.ipynb"))
RESULTS = sorted(p.name for p in (REPO / "chapters" / "results").glob("*.json"))   # long studies' records


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("setuptools")
    out, src = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):  # a clean copy: the
        if (REPO / name).exists():                                                  # build leaves no files here
            shutil.copy(REPO / name, src / name)
    for folder in ("minivi", "chapters", "exercises"):
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(out), str(src)], capture_output=True, text=True, timeout=300, cwd=src)
    if res.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {res.stderr.strip().splitlines()[-1:]}")
    return next(out.glob("minivi-*.whl"))


def test_the_wheel_ships_chapters_and_exercises(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert CHAPTERS and {f"minivi/course/chapters/{n}" for n in CHAPTERS} <= names
    assert EXERCISES and {f"minivi/course/exercises/{n}" for n in EXERCISES} <= names
    assert {f"minivi/course/chapters/results/{n}" for n in RESULTS} <= names
    assert not any(n.startswith(("solutions/", "minivi/course/solutions")) for n in names)  # answers stay out


def test_an_installed_copy_finds_its_course_and_init_copies_it(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)  # what `pip install` puts in site-packages
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import minivi.chapters as c; print(c.find_chapters()[0])"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert res.returncode == 0, res.stderr
    assert Path(res.stdout.strip()) == site / "minivi" / "course" / "chapters" / CHAPTERS[0]
    res = subprocess.run([sys.executable, "-m", "minivi", "init", "work"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "work" / "chapters").glob("*.ipynb")) == CHAPTERS
    assert sorted(p.name for p in (tmp_path / "work" / "chapters" / "results").glob("*")) == RESULTS
    assert sorted(p.name for p in (tmp_path / "work" / "exercises").iterdir()) == EXERCISES


def test_init_keeps_a_learners_work(tmp_path):
    from minivi.course import init_course

    first = init_course(tmp_path / "w")
    assert len(first) == len(CHAPTERS) + len(EXERCISES) + len(RESULTS)
    mine = tmp_path / "w" / "exercises" / EXERCISES[0]
    mine.write_text("my answers")
    assert init_course(tmp_path / "w") == [] and mine.read_text() == "my answers"
    assert mine in init_course(tmp_path / "w", force=True) and mine.read_text() != "my answers"
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file"):
        init_course(tmp_path / "f")


@pytest.mark.parametrize("module", ["nbclient", "nbformat"])
def test_a_missing_extra_is_named(monkeypatch, module):
    from minivi.chapters import execute_notebook

    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'minivi\[notebooks\]'"):
        execute_notebook(REPO / "chapters" / CHAPTERS[0], fast=True)


def test_gpu_extras_use_prebuilt_cupy_wheels():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["gpu-cuda12"][0].startswith("cupy-cuda12x") and extras["gpu-cuda13"][0].startswith("cupy-cuda13x")
    for module in ("nbconvert", "latex2mathml", "nbclient", "nbformat", "ipykernel"):
        assert any(req.startswith(module) for req in extras["notebooks"]), module
