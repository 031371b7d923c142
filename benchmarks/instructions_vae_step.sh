#!/usr/bin/env bash
# Instructions per VAE step (batch 128), minivi vs the hand-derived NumPy step, counted by
# valgrind's callgrind: repeatable on a busy machine, where wall-clock timings are not.
# Per-step count = (count for 12 steps - count for 2 steps) / 10, which removes start-up.
# Takes a few minutes. Needs valgrind (Debian: apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")"
py=$(python -c 'import sys; print(sys.executable)')
count() {
  OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$py" _vae_steps.py "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
np2=$(count numpy 2); np12=$(count numpy 12); mv2=$(count minivi 2); mv12=$(count minivi 12)
python - "$np2" "$np12" "$mv2" "$mv12" <<'PY'
import sys
np2, np12, mv2, mv12 = map(int, sys.argv[1:])
a, b = (np12 - np2) / 10, (mv12 - mv2) / 10
print(f"instructions per VAE step: hand-derived NumPy {a / 1e6:.1f} M, minivi {b / 1e6:.1f} M, ratio {b / a:.3f}")
PY
