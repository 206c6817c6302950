"""bench/startup: whole-process times of the commands a new user runs first, on torchvision googlenet traced at
224 (the tests' seeded, He-initialised one): `tension layers`, and `tension attribute` of 20 centre units of
inception3b on inception3a for 1 and for 256 Fashion-MNIST images, with a cold plan cache and a warm one; against
the same commands of an earlier tension binary (OLD: e.g. built from the commit before the fast start, which has
no plan cache) and against what a Python user waits for at least (import torch, torch.jit.load of the same file,
one forward and backward). Medians of REPS runs; ratios against the Python baseline and against OLD.

Usage: /usr/bin/python3 bench/startup.py BUILD [OLD_TENSION] [REPS]
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from fixture_torchvision import googlenet  # noqa: E402

build = sys.argv[1]
new = os.path.join(build, "tension")
old = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 3

tmp = tempfile.mkdtemp(prefix="tension-startup-")
model_file = os.path.join(tmp, "googlenet.pt")
with torch.no_grad():
    torch.jit.trace(googlenet().eval(), torch.rand(1, 3, 224, 224)).save(model_file)
env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
features = [a for u in range(20) for a in ("-f", f"inception3b:{u}")]


def timed(cmd, before=None):
    """Median whole-process seconds of cmd over REPS runs; before() runs untimed ahead of each."""
    times = []
    for _ in range(REPS):
        if before:
            before()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


python_baseline = timed([sys.executable, "-c", (
    "import torch\n"
    f"m = torch.jit.load({model_file!r})\n"
    "x = torch.rand(1, 3, 224, 224, requires_grad=True)\n"
    "m(x).sum().backward()\n")])


def attribute(binary, images, cache):
    out = os.path.join(tmp, "run")
    cmd = [binary, "attribute", model_file, "fashion-mnist:test", *features, "-l", "inception3a", "--out", out,
           "--limit", str(images)]
    if cache is not None:
        cmd += ["--plan-cache", cache]
    return cmd, lambda: shutil.rmtree(out, ignore_errors=True)


def cold(binary, images):
    cache = os.path.join(tmp, "cache")
    cmd, clear_run = attribute(binary, images, cache)

    def clear():
        clear_run()
        shutil.rmtree(cache, ignore_errors=True)
    return timed(cmd, clear)


def warm(binary, images):
    """Median whole-process seconds with the plan cached, and the pass's own seconds (run.json)."""
    cache = os.path.join(tmp, "cache")
    cmd, clear_run = attribute(binary, images, cache)
    clear_run()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(tmp, "run", "run.json")) as f:
        pass_seconds = json.load(f)["timings_s"]["pass"]
    return timed(cmd, clear_run), pass_seconds


rows = [("tension layers", timed([new, "layers", model_file]),
         timed([old, "layers", model_file]) if old else None)]
for images in (1, 256):
    old_time = None
    if old:
        cmd, clear_run = attribute(old, images, None)
        old_time = timed(cmd, clear_run)
    rows.append((f"attribute, {images} image(s), cold cache", cold(new, images), old_time))
    t_warm, pass_seconds = warm(new, images)
    rows.append((f"attribute, {images} image(s), warm cache", t_warm, old_time))
    rows.append((f"  of which the pass itself", pass_seconds, None))

print(f"googlenet traced at 224, 20 units of inception3b on inception3a; medians of {REPS} runs, whole process")
print(f"  Python: import torch + jit.load + forward + backward: {python_baseline:6.2f} s")
for name, t, t_old in rows:
    line = f"  {name:38s} {t:6.2f} s  {t / python_baseline:5.2f}x the Python baseline"
    if t_old is not None:
        line += f"   before: {t_old:6.2f} s ({t_old / python_baseline:5.2f}x), {t_old / t:5.1f}x faster now"
    print(line)
shutil.rmtree(tmp, ignore_errors=True)
