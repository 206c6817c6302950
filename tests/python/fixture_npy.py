"""Writes .npy files with numpy (the independent reference for tension's NPY reader) and a checker that
re-reads files written by tension. Usage: fixture_npy.py OUTDIR"""
import os
import sys

import numpy as np

out = os.path.join(sys.argv[1], "npy")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
a = rng.standard_normal((3, 4, 5)).astype(np.float32)
np.save(os.path.join(out, "f32.npy"), a)
np.save(os.path.join(out, "f64_fortran.npy"), np.asfortranarray(a.astype(np.float64)))
np.save(os.path.join(out, "i64_big.npy"), np.arange(12, dtype=">i8").reshape(3, 4))
np.save(os.path.join(out, "u8.npy"), (np.arange(10) * 25).astype(np.uint8))
np.save(os.path.join(out, "scalar_f32.npy"), np.float32(2.5))
with open(os.path.join(out, "truncated.npy"), "wb") as f:
    f.write(open(os.path.join(out, "f32.npy"), "rb").read()[:200])
