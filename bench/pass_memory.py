"""Memory of one long attribution pass (issue 18 §5): `tension attribute` of the default model (fmnist-cnn, its
trained weights), conv3:0..3 attributed to relu2, over N synthetic gratings (28x28 grey, generated on demand, so
the data take no memory of their own), into a fresh run store. Every 0.5 s it samples the process's VmRSS from
/proc/PID/status and the images stored so far (the store's `images` rows, read-only); then prints the RSS after
warm-up (10 % of the images), at 50 %, at the last sample, the peak, the slope after warm-up in MB per 10,000
images (least squares) and the pass's images/s. Flat memory: a slope near 0. Usage: pass_memory.py BUILD [N]"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

build = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
warm_up = 0.1


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def stored(db_path):
    # A fresh read-only connection per sample: no read transaction stays open to hold back the writer's checkpoints.
    if not os.path.exists(db_path):
        return 0
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=0.2)
        try:
            return db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # the schema not written yet, or the writer holding a lock a moment
        return None


def at(samples, images):
    """(seconds, images, RSS) of the first sample with at least `images` stored."""
    return next(s for s in samples if s[1] >= images)


def rate(s0, s1):
    return (s1[1] - s0[1]) / (s1[0] - s0[0])


with tempfile.TemporaryDirectory() as tmp:
    run = os.path.join(tmp, "run")
    data = f"synthetic:gratings?n={n}&size=28&channels=1"
    args = [os.path.join(build, "tension"), "attribute", "fmnist-cnn", data, "-l", "relu2", "--out", run,
            "--plan-cache", os.path.join(tmp, "plans")]
    for unit in range(4):
        args += ["-f", f"conv3:{unit}"]
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # LibTorch's threads do the parallel work, as in the tests
    print("$ " + " ".join(args), flush=True)
    with open(os.path.join(tmp, "log"), "w") as log:
        start = time.monotonic()
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        samples = []  # (seconds, images stored, RSS MB)
        while proc.poll() is None:
            r, k = rss_mb(proc.pid), stored(os.path.join(run, "store.sqlite"))
            if r is not None and k is not None:
                samples.append((time.monotonic() - start, k, r))
            time.sleep(0.5)
        wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(open(os.path.join(tmp, "log")).read())
    total = stored(os.path.join(run, "store.sqlite"))
    if total != n:
        raise SystemExit(f"the store holds {total} images, not {n}")

after = [(k, r) for _, k, r in samples if k >= warm_up * n]
mk, mr = sum(k for k, _ in after) / len(after), sum(r for _, r in after) / len(after)
slope = sum((k - mk) * (r - mr) for k, r in after) / sum((k - mk) ** 2 for k, _ in after)
first, last = next(s for s in samples if s[1] > 0), samples[-1]  # the first batch stored: planning is over
print(f"{n:,} images in {wall:.0f} s, {len(samples)} samples; the pass {rate(first, last):.0f} img/s after "
      f"{first[0]:.1f} s of start-up and planning ({rate(at(samples, warm_up * n), at(samples, 0.5 * n)):.0f} img/s "
      f"from 10 % to 50 %, {rate(at(samples, 0.5 * n), last):.0f} from 50 % on)")
print("| stored | RSS (MB) |")
print("|---|---|")
for frac in (warm_up, 0.5):
    print(f"| {frac:.0%} ({int(frac * n):,}) | {at(samples, frac * n)[2]:.1f} |")
print(f"| last sample ({last[1]:,}) | {last[2]:.1f} |")
print(f"| peak | {max(r for _, _, r in samples):.1f} |")
print(f"slope after warm-up: {slope * 10_000:+.3f} MB per 10,000 images")
