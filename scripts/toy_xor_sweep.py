#!/usr/bin/env python3
"""Sweeps what the paper leaves open for the XOR toy model at m = 12 (issue 13 part 6): p_on, learning rate,
steps, batch, initialisation scale and the hidden bias, one `tension toy xor --widths 12` run per setting, and
prints a Markdown table of what was tried and what the kept restart gives: held-out loss, largest loss over the
domain, off-diagonal / diagonal E+ + E-, and whether it is perfect (every domain loss < 1e-6) and diagonal
(off-diagonal under 1 %). Usage: toy_xor_sweep.py BUILD [RESTARTS] [OUT]"""
import json
import os
import subprocess
import sys
import time

build = sys.argv[1]
restarts = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
out = sys.argv[3] if len(sys.argv) > 3 else "out/toy-xor-sweep"

BASE = {"p_on": 0.05, "lr": 1e-3, "steps": 20000, "batch": 600, "init_scale": 1.0, "hidden_bias": "on"}
CHANGES = [{}]
CHANGES += [{"p_on": p} for p in (0.1, 0.2, 0.3, 0.5)]
CHANGES += [{"lr": lr} for lr in (3e-4, 3e-3, 1e-2)]
CHANGES += [{"steps": 100000}]
CHANGES += [{"batch": b} for b in (100, 3000)]
CHANGES += [{"init_scale": s} for s in (0.3, 3.0, 10.0)]
CHANGES += [{"hidden_bias": "off"}, {"p_on": 0.2, "init_scale": 3.0}, {"p_on": 0.2, "steps": 100000}]

rows = []
for k, change in enumerate(CHANGES):
    s = dict(BASE, **change)
    d = os.path.join(out, "run%02d" % k)
    cmd = [os.path.join(build, "tension"), "toy", "xor", "--widths", "12", "--restarts", str(restarts),
           "--p-on", str(s["p_on"]), "--lr", str(s["lr"]), "--steps", str(s["steps"]), "--batch", str(s["batch"]),
           "--init-scale", str(s["init_scale"]), "--hidden-bias", s["hidden_bias"], "--out", d]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    run = json.load(open(os.path.join(d, "run.json")))
    w = run["results"]["toy"]["xor"]["widths"][0]
    perfect = w["domain_loss_max"] < 1e-6
    diagonal = w["off_diagonal_ratio"] < 0.01
    rows.append((s, w, perfect, diagonal, wall))
    print(f"[{k + 1}/{len(CHANGES)}] {change or 'baseline'}: domain max {w['domain_loss_max']:.3g}, "
          f"off-diagonal {100 * w['off_diagonal_ratio']:.0f}% ({wall:.0f} s)", file=sys.stderr)

print(f"XOR m = 12, {restarts} restarts per setting, the restart with the lowest held-out loss kept\n")
print("| p_on | lr | steps | batch | init scale | b1 | held-out loss | domain loss max | off-diagonal / diagonal "
      "| perfect | diagonal |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for s, w, perfect, diagonal, _ in rows:
    print(f"| {s['p_on']} | {s['lr']:g} | {s['steps']:,} | {s['batch']} | {s['init_scale']:g} | {s['hidden_bias']} "
          f"| {w['heldout_loss']:.3g} | {w['domain_loss_max']:.3g} | {100 * w['off_diagonal_ratio']:.0f} % "
          f"| {'yes' if perfect else 'no'} | {'yes' if diagonal else 'no'} |")
