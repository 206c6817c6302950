"""bench/toy: the toy-model protocol of paper App. G (abs and XOR, m = 12, 10, 8, 6, 1,000 restarts x 20,000
Adam steps, batch 600) run by `tension toy`, against the plain Python PyTorch loop that trains one restart at a
time (nn.Linear, autograd, torch.optim.Adam, dense batches sampled as the paper's code does), timed here on a
few restarts and extrapolated to the protocol. Prints the medians and the ratio.
Usage: /usr/bin/python3 bench/toy.py BUILD_DIR [RESTARTS] [STEPS]   (defaults: the full protocol)"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

build = sys.argv[1]
RESTARTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
STEPS = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
WIDTHS = [12, 10, 8, 6]
B, N = 600, 6
PY_RESTARTS, PY_STEPS = 5, 1000
torch.set_num_threads(os.cpu_count())


def sample(task, gen):
    if task == "abs":  # x_i ~ U(-1, 1) with probability 0.01, else 0
        on = torch.rand(B, N, generator=gen) < 0.01
        return torch.where(on, torch.rand(B, N, generator=gen) * 2 - 1, torch.zeros(()))
    on = torch.rand(B, N, 1, generator=gen) < 0.05  # a pair is on with probability 0.05, then two fair coins
    return ((torch.rand(B, N, 2, generator=gen) < 0.5) & on).float().flatten(1)


def target(task, x):
    return x.abs() if task == "abs" else (x[:, 0::2] != x[:, 1::2]).float()


def python_restart(task, m, seed):
    """Seconds per step of one restart trained the plain way."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    l1 = torch.nn.Linear(N if task == "abs" else 2 * N, m, bias=task == "xor")
    l2 = torch.nn.Linear(m, N)
    opt = torch.optim.Adam(list(l1.parameters()) + list(l2.parameters()), lr=1e-3)
    imp = 0.9 ** torch.arange(N, dtype=torch.float32)
    t0 = time.perf_counter()
    for _ in range(PY_STEPS):
        x = sample(task, gen)
        f = torch.relu(l2(torch.relu(l1(x))))
        loss = ((f - target(task, x)) ** 2 * imp).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / PY_STEPS


py = {}
for task in ("abs", "xor"):
    py[task] = statistics.median(python_restart(task, m, s) for m in WIDTHS for s in range(PY_RESTARTS))

tension = {}
tmp = tempfile.mkdtemp(prefix="bench_toy_")
for task in ("abs", "xor"):
    out = os.path.join(tmp, task)
    # The released code's data settings, as the Python loop samples them.
    cmd = [os.path.join(build, "tension"), "toy", task, "--preset", "code", "--restarts", str(RESTARTS),
           "--steps", str(STEPS), "--out", out]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    run = json.load(open(os.path.join(out, "run.json")))
    train = sum(v for k, v in run["timings_s"].items() if k.endswith("_train"))
    tension[task] = (wall, train, run["results"]["toy"][task + "_code"])

restart_steps = len(WIDTHS) * RESTARTS * STEPS
print(f"toy protocol: 2 tasks x {len(WIDTHS)} widths x {RESTARTS} restarts x {STEPS} steps, batch {B}, "
      f"{torch.get_num_threads()} threads")
total_py = total_t = 0
for task in ("abs", "xor"):
    wall, train, res = tension[task]
    py_total = py[task] * restart_steps
    total_py += py_total
    total_t += wall
    print(f"  {task}: Python loop {1e3 * py[task]:.3f} ms/step (median of {len(WIDTHS) * PY_RESTARTS} restarts x "
          f"{PY_STEPS} steps) -> {py_total / 3600:.2f} h for the protocol; tension {wall:.1f} s "
          f"(training {train:.1f} s, {1e6 * train / restart_steps:.2f} us per restart-step); "
          f"ratio {py_total / wall:.0f}x")
    for w in res["widths"]:
        print(f"    m={w['m']:2d}: held-out loss {w['heldout_loss']:.3g}, domain loss max {w['domain_loss_max']:.3g}, "
              f"off-diagonal/diagonal {100 * w['off_diagonal_ratio']:.2f}%")
    for c in res["claims"]:
        print(f"    claim: {c['claim']}: {c['measured']} -> {'holds' if c['holds'] else 'does NOT hold'}")
print(f"  total: Python loop {total_py / 3600:.2f} h (extrapolated), tension {total_t:.1f} s "
      f"({total_t / 60:.1f} min); ratio {total_py / total_t:.0f}x")
