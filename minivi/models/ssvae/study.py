"""The chapter-10 study in functions: the supervised baseline, M2 and M1+M2 trained on one labelled draw,
the estimator comparison for y, and the recorded numbers of the long study.

Every function takes its data and an explicit ``rng`` and returns test errors as plain floats, so the
chapter can loop over draws of the labelled set and report mean ± spread.
"""
from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import minivi as mv
from minivi.models.dlgm import DLGM, fit_dlgm

from .m1 import m1_features
from .m2 import M2
from .training import classifier_error, error_rate, fit_classifier, fit_ssvae, labelled_subset


@dataclass
class Config:
    """Sizes of one run of the study (``smoke`` / ``full`` / ``long`` below)."""

    m1_hidden: tuple = (256,)
    m1_z: int = 32
    m1_epochs: int = 15
    m2_hidden: tuple = (256,)
    m2_z: int = 16
    m2_epochs: int = 8
    top_hidden: tuple = (128,)
    top_z: int = 16
    top_epochs: int = 10
    baseline_epochs: int = 200
    lr: float = 1e-3
    max_steps: int | None = None          # cap on steps per epoch (smoke mode)
    n_train: int | None = None            # use only the first n_train training digits (smoke mode)
    alphas: tuple = (3.0, 10.0, 30.0)     # the α grid tried on the validation split (M1+M2)

    def as_dict(self) -> dict:
        return asdict(self)


#: smoke mode (CI), full mode (the chapter, under 20 minutes on 2 cores), the long study (MINIVI_CH10_STUDY=1)
SMOKE = Config(m1_epochs=1, m2_epochs=1, top_epochs=2, baseline_epochs=20, max_steps=4, n_train=1500,
               m1_hidden=(64,), m2_hidden=(64,), top_hidden=(32,), alphas=(10.0, 30.0))
FULL = Config()
LONG = Config(m1_epochs=100, m2_epochs=50, top_epochs=60)


def baseline_error(x_l, y_l, x_test, y_test, cfg: Config, rng) -> float:
    """The supervised MLP (784-500-10, an L2 penalty) on the labelled digits alone: test error."""
    net = fit_classifier(x_l, y_l, cfg.baseline_epochs, rng, hidden=(500,))
    return classifier_error(net, x_test, y_test)


def train_m2(x_l, y_l, x_u, cfg: Config, rng, alpha: float, epochs: int | None = None, evaluate=None, **kw):
    """M2 on binarised pixels (dynamic binarisation); returns (model, history)."""
    m = M2(x_l.shape[1], 10, cfg.m2_z, cfg.m2_hidden, rng=mv.default_rng(int(rng.integers(2**31))))
    h = fit_ssvae(m, x_l, y_l, x_u, cfg.m2_epochs if epochs is None else epochs, rng, alpha=alpha, lr=cfg.lr,
                  max_steps=cfg.max_steps, evaluate=evaluate, **kw)
    return m, h


def train_m1(x, cfg: Config, rng) -> DLGM:
    """M1: a DLGM trained on every training digit (no labels)."""
    m1 = DLGM(x.shape[1], cfg.m1_hidden, (cfg.m1_z,), rng=mv.default_rng(int(rng.integers(2**31))))
    fit_dlgm(m1, x if cfg.max_steps is None else x[:cfg.max_steps * 100], cfg.m1_epochs, rng, lr=cfg.lr)
    return m1


def train_top(f_l, y_l, f_u, cfg: Config, rng, alpha: float, epochs: int | None = None, evaluate=None, **kw):
    """M1+M2's top model: M2 with a Gaussian likelihood on M1's features; returns (model, history)."""
    m = M2(f_l.shape[1], 10, cfg.top_z, cfg.top_hidden, likelihood="gaussian",
           rng=mv.default_rng(int(rng.integers(2**31))))
    h = fit_ssvae(m, f_l, y_l, f_u, cfg.top_epochs if epochs is None else epochs, rng, alpha=alpha, lr=cfg.lr,
                  binarize=None, max_steps=cfg.max_steps, evaluate=evaluate, **kw)
    return m, h


def draws(labels, per_class: int, seeds) -> list[np.ndarray]:
    """One balanced labelled set per seed: ``labelled_subset(labels, per_class, default_rng(seed))``."""
    return [labelled_subset(labels, per_class, np.random.default_rng(s)) for s in seeds]


def mean_spread(values) -> str:
    """"mean ± sd (min-max)" of a list of errors, in percent."""
    v = 100 * np.asarray(values, dtype=float)
    sd = v.std(ddof=1) if len(v) > 1 else float("nan")
    return f"{v.mean():5.1f}% ± {sd:4.1f} (range {v.min():.1f}-{v.max():.1f}, {len(v)} draws)"


def machine() -> str:
    import os

    return f"{platform.node() or 'unknown host'}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def save_record(path, results: dict, cfg: Config, command: str) -> None:
    """Write the long study's numbers with the date, the machine and the command that made them."""
    record = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
              "command": command, "config": cfg.as_dict(), "results": results}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1, default=float))


def load_record(path) -> dict | None:
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else None
