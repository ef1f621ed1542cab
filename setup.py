"""What the wheel holds; the metadata, dependencies and extras are in ``pyproject.toml``.

Packages are discovered, never listed by hand: every package under ``src/`` plus the Gradio
demo (folder ``demo/``, installed as ``mindlens_demo``; pyproject.toml cannot map a renamed
folder while discovering). The repository files the library reads at run time (the default
config, the notebooks the pipeline executes, the DAGs and plugins ``mindlens airflow`` points
Airflow at, the Label Studio config, the curated examples) are copied into
``mindlens/_resources`` of a built wheel; ``mindlens.config.RESOURCE_ROOT`` finds them there
when no source checkout is around. An editable install reads them from the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# Folders (relative to the repository root) the installed library reads; keep in step with
# the users of mindlens.config.RESOURCE_ROOT.
RESOURCES = ("configs", "notebooks", "dags", "plugins", "label_studio", "data/curated")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


class BuildWithResources(build_py):
    """``build_py`` that also copies :data:`RESOURCES` into ``mindlens/_resources``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # the checkout is there to read
            return
        target = Path(self.build_lib) / "mindlens" / "_resources"
        for name in RESOURCES:
            shutil.copytree(ROOT / name, target / name, ignore=_SKIP, dirs_exist_ok=True)


setup(
    packages=[*find_packages("src"), "mindlens_demo"],
    package_dir={"": "src", "mindlens_demo": "demo"},
    cmdclass={"build_py": BuildWithResources},
)
