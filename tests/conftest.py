"""Shared test set-up: float64 helpers, GPU skipping, the offline MNIST location."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MINIVI_FAST", "1")
import matplotlib  # noqa: E402

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if (SHARED_DATA / "mnist").is_dir():  # the offline MNIST files beside the checkout (CI, this project's machines)
    os.environ.setdefault("MINIVI_DATA", str(SHARED_DATA))


def pytest_collection_modifyitems(config, items):
    from minivi.autodiff.backend import cupy_available

    if cupy_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
