"""The chapter-10 study in functions: the supervised baseline, M2 and M1+M2 trained on one labelled draw,
and the long study (every model at 100, 600 and 1,000 labels, and M1+M2 against the number of unlabelled
digits), which runs as a command because it does not fit in the chapter's 20 minutes:

    OPENBLAS_NUM_THREADS=1 python -m minivi.models.ssvae.study --jobs 2

Every function takes its data and an explicit ``rng`` (or seed) and returns test errors as plain floats, so
the chapter can loop over draws of the labelled set and report mean ± spread. Hyper-parameters (α of M1+M2,
the width of M2's z) are chosen on a validation split carved from the training digits, never on the test ones.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

import minivi as mv
from minivi.models.dlgm import DLGM, fit_dlgm

from .m1 import m1_features
from .m2 import M2, paper_alpha
from .training import classifier_error, error_rate, fit_classifier, fit_ssvae, labelled_subset


@dataclass
class Config:
    """Sizes of one run of the study (``SMOKE`` / ``FULL`` / ``LONG`` below)."""

    m1_hidden: tuple = (256,)
    m1_z: int = 32
    m1_epochs: int = 40
    m1_lr: float = 1e-3
    m2_hidden: tuple = (256,)
    m2_z: int = 16                        # the long study's choice on the validation split (from m2_zs)
    m2_epochs: int = 25
    top_hidden: tuple = (128,)
    top_z: int = 16
    top_epochs: int = 80
    baseline_epochs: int = 200
    lr: float = 3e-3                      # Adam's step for M2 and M1+M2's top model
    max_steps: int | None = None          # cap on steps per epoch (smoke mode)
    n_train: int | None = None            # use only the first n_train training digits (smoke mode)
    n_test: int | None = None
    alphas: tuple = (10.0, 30.0)          # α_b grid for M1+M2, tried on the validation split
    m2_zs: tuple = (4, 16)                # z widths for M2, tried on the validation split (long study)
    est_epochs: int = 30                  # section 3: enumeration vs the score function
    seeds: tuple = (0, 1, 2)              # draws of the labelled set
    labels: tuple = (100, 600, 1000)      # the long study's label curve
    sizes: tuple = (0, 1000, 4000, None)  # the long study's numbers of unlabelled digits (None: all the others)

    def as_dict(self) -> dict:
        return asdict(self)


#: smoke mode (CI), full mode (the chapter, under 20 minutes on 2 cores), the long study (the command above)
SMOKE = Config(m1_epochs=1, m2_epochs=1, top_epochs=2, baseline_epochs=20, max_steps=4, n_train=1500, n_test=500,
               m1_hidden=(64,), m2_hidden=(64,), top_hidden=(32,), m2_zs=(4, 8), est_epochs=2,
               sizes=(0, 300, None))
FULL = Config()
LONG = Config(m2_epochs=50, top_epochs=150)

VALIDATION = 1000                          # digits held out of the training split to choose hyper-parameters
RECORD = Path("chapters") / "results" / "10_study.json"   # from the repository root; the chapter reads results/
COMMAND = "OPENBLAS_NUM_THREADS=1 python -m minivi.models.ssvae.study --jobs 2"


# --- one model on one labelled draw ----------------------------------------------------------------
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


def train_m1(x, cfg: Config, rng, epochs: int | None = None) -> DLGM:
    """M1: a DLGM trained on the given digits (no labels)."""
    m1 = DLGM(x.shape[1], cfg.m1_hidden, (cfg.m1_z,), rng=mv.default_rng(int(rng.integers(2**31))))
    fit_dlgm(m1, x if cfg.max_steps is None else x[:cfg.max_steps * 100], cfg.m1_epochs if epochs is None else epochs,
             rng, lr=cfg.m1_lr, progress=False)
    return m1


def train_top(f_l, y_l, f_u, cfg: Config, rng, alpha: float, epochs: int | None = None, evaluate=None, **kw):
    """M1+M2's top model: M2 with a Gaussian likelihood on M1's features; returns (model, history)."""
    m = M2(f_l.shape[1], 10, cfg.top_z, cfg.top_hidden, likelihood="gaussian",
           rng=mv.default_rng(int(rng.integers(2**31))))
    h = fit_ssvae(m, f_l, y_l, f_u, cfg.top_epochs if epochs is None else epochs, rng, alpha=alpha, lr=cfg.lr,
                  binarize=None, max_steps=cfg.max_steps, evaluate=evaluate, **kw)
    return m, h


def validation_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(validation, rest) indices of the training split: ``VALIDATION`` digits (fewer in smoke mode) whose labels
    only score hyper-parameters, fixed by seed 123."""
    perm = np.random.default_rng(123).permutation(n)
    k = min(VALIDATION, n // 8)
    return perm[:k], perm[k:]


def validation_error(model: str, data, y, cfg: Config, rng, **kw) -> float:
    """Validation error of ``model`` ("M2" on pixels, or "M1+M2" on M1's features with ``alpha=``) trained on the
    rest of the training split with its own 10 labels per class (seed 99), the rest unlabelled."""
    val, tr = validation_split(len(data))
    idx = labelled_subset(y[tr], 10, np.random.default_rng(99))
    d, yt = data[tr], y[tr]
    if model == "M1+M2":
        m, _ = train_top(d[idx], yt[idx], d, cfg, rng, **kw)
    else:
        m, _ = train_m2(d[idx], yt[idx], d, cfg, rng, paper_alpha(len(tr), len(idx), len(tr) - len(idx)), **kw)
    return error_rate(m.classify(data[val]), y[val])


def draws(labels, per_class: int, seeds) -> list[np.ndarray]:
    """One balanced labelled set per seed: ``labelled_subset(labels, per_class, default_rng(seed))``."""
    return [labelled_subset(labels, per_class, np.random.default_rng(s)) for s in seeds]


def unlabelled_pool(labels, seeds) -> np.ndarray:
    """Indices of the training digits in none of the 100-label draws (section 5 takes its unlabelled ones here)."""
    return np.setdiff1d(np.arange(len(labels)), np.concatenate(draws(labels, 10, seeds)))


def mean_spread(values) -> str:
    """"mean ± sd (min-max)" of a list of errors, in percent."""
    v = 100 * np.asarray(values, dtype=float)
    sd = v.std(ddof=1) if len(v) > 1 else float("nan")
    return f"{v.mean():5.1f}% ± {sd:4.1f} (range {v.min():.1f}-{v.max():.1f}, {len(v)} draws)"


# --- the long study: independent runs, in parallel processes ---------------------------------------
_DATA: dict = {}


def _init(data: dict) -> None:
    _DATA.update(data)


def _run(task: tuple) -> tuple:
    """One independent run of the long study: (key, test or validation error(s))."""
    kind, key, cfg, seed, args = task
    d, rng = _DATA, np.random.default_rng(seed)
    x, y, xt, yt = d["x"], d["y"], d["x_test"], d["y_test"]
    if kind == "val_top":                                  # M1+M2 with α = args on the validation split
        return key, validation_error("M1+M2", d["features"], y, cfg, rng, alpha=args, progress=False)
    if kind == "val_m2":                                   # M2 with z width = args on the validation split
        return key, validation_error("M2", x, y, replace(cfg, m2_z=args), rng, progress=False)
    n_l, s = args[:2]
    idx = labelled_subset(y, n_l // 10, np.random.default_rng(s))
    if kind == "baseline":
        return key, baseline_error(x[idx], y[idx], xt, yt, cfg, rng)
    if kind == "M1 + MLP":
        f, ft = d["features"], d["features_test"]
        return key, baseline_error(f[idx], y[idx], ft, yt, cfg, rng)
    if kind == "M2":
        m2, _ = train_m2(x[idx], y[idx], x, cfg, rng, paper_alpha(len(x), n_l, len(x) - n_l), progress=False)
        return key, error_rate(m2.classify(xt), yt)
    if kind == "M1+M2":
        f, ft = d["features"], d["features_test"]
        top, _ = train_top(f[idx], y[idx], f, cfg, rng, args[2], progress=False)
        return key, error_rate(top.classify(ft), yt)
    if kind == "size":                                     # M1 and M1+M2 with n_u unlabelled digits
        n_u, alpha = args[2], args[3]
        idxs = draws(y, 10, cfg.seeds)
        pool = unlabelled_pool(y, cfg.seeds)
        n_u = len(pool) if n_u is None else min(n_u, len(pool))
        unl = np.random.default_rng(3000 + n_u).choice(pool, n_u, replace=False)
        seen = np.concatenate([np.concatenate(idxs), unl])             # M1's digits at this size
        m1_steps, top_steps = cfg.m1_epochs * len(x) // 100, cfg.top_epochs * len(x) // 100
        m1 = train_m1(x[seen], cfg, rng, epochs=max(1, m1_steps // max(1, len(seen) // 100)))
        f, ft = m1_features(m1, x), m1_features(m1, xt)
        errs = []
        for i in idxs:
            f_u = f[np.concatenate([i, unl])]                          # its labelled digits + the n_u others
            top, _ = train_top(f[i], y[i], f_u, cfg, rng, alpha, epochs=max(1, top_steps // max(1, len(f_u) // 100)),
                               progress=False)
            errs.append(error_rate(top.classify(ft), yt))
        return key, errs
    raise ValueError(f"unknown task {kind!r}")


def _map(tasks, data, jobs: int, log) -> dict:
    out = {}
    if jobs <= 1:
        _init(data)
        for t in tasks:
            k, v = _run(t)
            out[k] = v
            log(f"  {k}: {v}")
        return out
    import multiprocessing as mp

    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_init, initargs=(data,)) as ex:
        for k, v in ex.map(_run, tasks):
            out[k] = v
            log(f"  {k}: {v}")
    return out


def run_study(x, y, x_test, y_test, cfg: Config = LONG, jobs: int = 1, seed: int = 0, log=print) -> dict:
    """The long study on the given split. Returns a dict of results:

    - ``validation``: M1+M2's validation error for each α, M2's for each z width, and the choices;
    - ``curve``: for 100, 600 and 1,000 labels (``cfg.labels``), every model's test error over ``cfg.seeds``;
    - ``by_size``: M1+M2's test errors at 100 labels against the number of unlabelled digits (M1 retrained on
      them, the same number of steps at every size).

    ``jobs`` > 1 runs the independent trainings in that many processes (set OPENBLAS_NUM_THREADS=1)."""
    t0 = time.time()
    rng = np.random.default_rng(seed)
    m1 = train_m1(x, cfg, rng)                             # M1 on every training digit, no labels
    data = {"x": x, "y": y, "x_test": x_test, "y_test": y_test,
            "features": m1_features(m1, x), "features_test": m1_features(m1, x_test)}
    log(f"M1 trained ({time.time() - t0:.0f} s); validation runs:")
    tasks = [("val_top", ("alpha", a), cfg, 10 + i, a) for i, a in enumerate(cfg.alphas)]
    tasks += [("val_m2", ("z", z), cfg, 20 + i, z) for i, z in enumerate(cfg.m2_zs)]
    val = _map(tasks, data, jobs, log)
    alpha = min(cfg.alphas, key=lambda a: val["alpha", a])
    z = min(cfg.m2_zs, key=lambda z: val["z", z])
    cfg = replace(cfg, m2_z=z)
    log(f"chosen: alpha_b = {alpha} for M1+M2, z width {z} for M2; the runs:")
    tasks = [("size", ("size", n), cfg, 4000 + i, (100, None, n, alpha)) for i, n in enumerate(cfg.sizes)]
    for n_l in cfg.labels:
        for s in cfg.seeds:
            for j, kind in enumerate(("M2", "M1+M2", "baseline", "M1 + MLP")):
                tasks.append((kind, (kind, n_l, s), cfg, 1000 * n_l + 10 * s + j, (n_l, s, alpha)))
    res = _map(tasks, data, jobs, log)
    curve = {n_l: {k: [res[k, n_l, s] for s in cfg.seeds] for k in ("baseline", "M1 + MLP", "M2", "M1+M2")}
             for n_l in cfg.labels}
    pool = len(unlabelled_pool(y, cfg.seeds))
    by_size = {(pool if n is None else n): res["size", n] for n in cfg.sizes}
    return {"validation": {"alpha_top": {str(a): val["alpha", a] for a in cfg.alphas},
                           "m2_z": {str(zz): val["z", zz] for zz in cfg.m2_zs}, "chosen_alpha": alpha, "chosen_z": z},
            "curve": curve, "by_size": by_size, "minutes": (time.time() - t0) / 60, "jobs": jobs}


# --- the record ------------------------------------------------------------------------------------
def machine() -> str:
    return f"{platform.node() or 'unknown host'}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def save_record(path, results: dict, cfg: Config, command: str, data: str = "arrays given to run_study") -> None:
    """Write the long study's numbers with the date, the machine, the data and the command that made them."""
    record = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
              "data": data, "command": command, "config": cfg.as_dict(), "results": results}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1, default=float))


def load_record(path=RECORD) -> dict | None:
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m minivi.models.ssvae.study",
                                 description="Chapter 10's long study: baseline, M1 + MLP, M2 and M1+M2 at 100, 600 "
                                             "and 1,000 labels over 3 draws, and M1+M2 against the number of "
                                             "unlabelled digits; writes a JSON record the chapter prints.")
    ap.add_argument("--jobs", type=int, default=1, help="processes for the independent runs (default 1)")
    ap.add_argument("--out", default=str(RECORD), help=f"where to write the record (default {RECORD})")
    ap.add_argument("--smoke", action="store_true", help="tiny settings, to check the command runs")
    a = ap.parse_args(argv)
    cfg = SMOKE if a.smoke else LONG
    x, y = mv.data.load_mnist(split="train")
    xt, yt = mv.data.load_mnist(split="test")
    if cfg.n_train:
        x, y, xt, yt = x[:cfg.n_train], y[:cfg.n_train], xt[:cfg.n_test], yt[:cfg.n_test]
    results = run_study(x, y, xt, yt, cfg, jobs=a.jobs, log=lambda s: print(s, flush=True))
    command = COMMAND if not a.smoke else " ".join(["python -m minivi.models.ssvae.study"] + sys.argv[1:])
    save_record(a.out, results, cfg, command, data=str(mv.data.mnist_info()))
    print(f"wrote {a.out} ({results['minutes']:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
