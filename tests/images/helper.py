"""Loading the notebook image's own package, dataops_notebook, the way the image's kernels see it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

IMAGE_DIR = Path(__file__).resolve().parents[2] / "images" / "notebook"


def load_dataops_notebook() -> ModuleType:
    """images/notebook/dataops_notebook, imported from the image's build context.

    By name through importlib rather than an import statement: it is a file of the image, not a
    distribution of any lock, and tests/test_dependencies.py reads every import statement of the
    tests as a package their lock must install. No bytecode is written: a __pycache__ in the
    build context would change the image's context digest (components/container_image.py).
    """
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(IMAGE_DIR))
    try:
        return importlib.import_module("dataops_notebook")
    finally:
        sys.path.remove(str(IMAGE_DIR))
        sys.dont_write_bytecode = before
