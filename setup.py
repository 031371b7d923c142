"""Ship the course with the package: the chapter and exercise notebooks go into the wheel as
``minivi/course/chapters`` and ``minivi/course/exercises`` (``python -m minivi init DIR`` copies them out).

Everything else is in pyproject.toml. In a checkout (and an editable install) the notebooks are read
from ``chapters/`` and ``exercises/`` directly.
"""
from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class build_py_with_course(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        for folder in ("chapters", "exercises"):
            target = Path(self.build_lib) / "minivi" / "course" / folder
            target.mkdir(parents=True, exist_ok=True)
            for nb in sorted((HERE / folder).glob("[0-9][0-9]_*.ipynb")):
                shutil.copyfile(nb, target / nb.name)
            for rec in sorted((HERE / folder).glob("results/*.json")):   # recorded long studies the chapters print
                (target / "results").mkdir(exist_ok=True)
                shutil.copyfile(rec, target / "results" / rec.name)


setup(cmdclass={"build_py": build_py_with_course})
