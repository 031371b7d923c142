"""Run N VAE steps of one implementation (used by instructions_vae_step.sh under callgrind)."""
import sys

import numpy as np

import minivi as mv
from bench_vae_step import D, Z, init_params, minivi_step, numpy_step

which, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
p0 = init_params(rng)
x0 = (rng.random((128, D)) < 0.3).astype(np.float32)
e0 = rng.standard_normal((128, Z)).astype(np.float32)
if which == "numpy":
    p = {k: v.copy() for k, v in p0.items()}
    for _ in range(n):
        numpy_step(p, x0, e0)
else:
    p = {k: mv.tensor(v, requires_grad=True) for k, v in p0.items()}
    x, e = mv.tensor(x0), mv.tensor(e0)
    for _ in range(n):
        minivi_step(p, x, e)
