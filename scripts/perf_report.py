#!/usr/bin/python3
"""Writes OUT/performance.md from what scripts/perf-report measured (not a command of its own).

Usage: perf_report.py OUT BENCH_LOGS
  OUT         machine.json, logs/layouts.txt, scaling-*/ of scripts/perf-report
  BENCH_LOGS  scripts/bench's folder: table-*.md and the RESULT lines (results*.txt)
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time


def results(path):
    """RESULT lines -> list of {key: value}."""
    rows = []
    if os.path.isfile(path):
        for line in open(path):
            if line.startswith("RESULT "):
                rows.append(dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv))
    return rows


def read(path, missing="(not measured: see the logs)\n"):
    return open(path).read() if os.path.isfile(path) else missing


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def layouts(path):
    """logs/layouts.txt rows 'ranks threads rep t2d t3d' -> {(r, t): (median 2d, median 3d, n)}."""
    acc = {}
    for line in open(path):
        r, t, _, t2, t3 = line.split()
        acc.setdefault((int(r), int(t)), ([], []))
        acc[(int(r), int(t))][0].append(float(t2))
        acc[(int(r), int(t))][1].append(float(t3))
    return {k: (statistics.median(a), statistics.median(b), a, b) for k, (a, b) in acc.items()}


def targets(logs, lay):
    lines = ["| target | measured | status |", "|---|---|---|"]
    for r in results(os.path.join(logs, "results-ring.txt")):
        if int(float(r["n"])) >= 8192:
            e = float(r["eff"])
            lines.append(f"| ring efficiency ≥ 0.90 at N/P = {r['n']} ({r['kernel']}, d = {r['d']}) | {e:.3f} | "
                         f"{'PASS' if e >= 0.9 else 'MISS'} |")
    for r in results(os.path.join(logs, "results.txt")):
        if r["ranks"] == "2" and r["threads"] == "1":
            q = float(r["ratio"])
            lines.append(f"| PDE step ≤ 1.25 × its FFTs, d = {r['d']} {r['grid']}, 2 ranks × 1 thread | {q:.2f} | "
                         f"{'PASS' if q <= 1.25 else 'MISS'} |")
    if (2, 1) in lay and (1, 2) in lay:
        a, b = lay[(2, 1)], lay[(1, 2)]
        faster = "2 × 1" if a[0] + a[1] <= b[0] + b[1] else "1 × 2"
        lines.append(f"| 2 ranks × 1 thread and 1 rank × 2 threads measured, faster one is the default | "
                     f"2-D {a[0]:.2f} vs {b[0]:.2f} ms, 3-D {a[1]:.1f} vs {b[1]:.1f} ms per step | faster: {faster} "
                     f"({'matches' if faster == '2 × 1' else 'DIFFERS FROM'} jobs/run.sbatch's default, one rank per core) |")
    return "\n".join(lines) + "\n"


def main():
    out, logs = sys.argv[1], sys.argv[2]
    m = json.load(open(os.path.join(out, "machine.json")))
    lay = layouts(os.path.join(out, "logs", "layouts.txt"))
    cores = m["cores"]
    doc = [f"# kmdflow performance report\n",
           f"Measured {time.strftime('%Y-%m-%d')} on {platform.node()}: {cpu_name()}, {cores} cores, "
           f"{platform.system()} {platform.release()}. Written by `scripts/perf-report`; every figure below was "
           "measured by that command on this machine. Multi-rank figures on a shared machine vary by tens of "
           "per cent between runs: compare ratios measured in one run. Load average when the report was written "
           f"(1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {cores} cores; above about "
           f"{cores} other processes shared the cores and the multi-rank figures are not the code's.\n",
           "## Targets\n", targets(logs, lay),
           "## Machine\n",
           "| figure | value | how |", "|---|---|---|",
           f"| peak DP FMA rate, one core | {m['fma_gflops_core']:.1f} GFLOP/s | 16 independent {read(os.path.join(out, 'logs', 'machine-1.log')).split('isa ')[1].split(',')[0]} FMA chains |",
           f"| peak DP FMA rate, all {cores} cores at once | {m['fma_gflops_all']:.1f} GFLOP/s | same, one rank per core |",
           f"| memory bandwidth (triad a = b + s·c), one core | {m['triad_gbs_core']:.1f} GB/s | 3 × 160 MB arrays, 24 B per element |",
           f"| memory bandwidth, all cores | {m['triad_gbs_all']:.1f} GB/s | one rank per core, summed |",
           f"| MPI latency (half round trip, 8 B) | {m['alpha_s'] * 1e6:.3f} µs | ranks 0 and 1, MPI_Send/Recv |",
           f"| MPI bandwidth (4 MiB messages) | {m['beta_Bps'] / 1e9:.2f} GB/s | same |", "",
           "The scaling models below use this latency and bandwidth (`machine.json`).\n",
           "## Particle mode: kernel tile against its in-core ceiling\n", read(os.path.join(logs, "table-kernel.md")),
           "\n## Particle mode: ring efficiency\n", read(os.path.join(logs, "table-ring.md")),
           "\n## PDE mode: FFT efficiency, step / FFT ratio and hybrid ranks × threads layouts\n",
           read(os.path.join(logs, "table-pde.md")),
           "\n## PDE layout of a node: 2 ranks × 1 thread against 1 rank × 2 threads\n",
           "Whole `kmdflow` runs through `jobs/run.sbatch` (`KF_RANKS`, `KF_THREADS`), fixed RK4 steps, time per step "
           "= TSStep time / steps from `-log_view`; median of 3 repeats (all repeats in brackets).\n",
           "| ranks × threads | 2-D 512², ms/step | 3-D 128³, ms/step |", "|---|---:|---:|"]
    for (r, t), (a, b, aa, bb) in sorted(lay.items(), reverse=True):
        doc.append(f"| {r} × {t} | {a:.2f} ({', '.join(f'{x:.2f}' for x in aa)}) | {b:.1f} ({', '.join(f'{x:.1f}' for x in bb)}) |")
    doc.append("")
    doc.append("## Scaling\n")
    doc.append(f"Ranks 1, 2, 4 on {cores} cores: points with more ranks than cores are oversubscribed (shaded in the "
               "plots); their efficiency measures the sharing of cores, not the code. Strong: fixed problem. Weak: "
               "N/P or grid points per rank fixed. Model: the ring model (particles) and the FFT + all-to-all model "
               "(PDE) of the performance guide, calibrated on the 1-rank run, with this machine's latency and bandwidth.\n")
    for mode in ("particles", "pde"):
        for kind in ("strong", "weak"):
            name = f"scaling-{mode}-{kind}"
            doc.append(f"### {mode}, {kind}\n")
            doc.append(read(os.path.join(out, name, name + ".md")))
            if os.path.isfile(os.path.join(out, name + ".png")):
                doc.append(f"![{mode} {kind} scaling]({name}.png)\n")
    with open(os.path.join(out, "performance.md"), "w") as f:
        f.write("\n".join(doc))


if __name__ == "__main__":
    main()
