#!/usr/bin/python3
"""Gathers a scaling study written by jobs/scaling into a CSV, a markdown table and a plot.

Reads DIR/study.json and, for every rank count P of the study, the run's HDF5 output and PETSc -log_view
file (written by jobs/run.sbatch). Time per step is TSStep's time (max over ranks) / its count. Strong
scaling: speedup T_1/T_P and efficiency T_1/(P T_P); weak scaling (work per rank fixed): efficiency T_1/T_P
and scaled speedup P T_1/T_P. Beside each measurement it puts the performance model's prediction
(shared/guide/performance.md), calibrated on the 1-rank run:
  particles (ring):  T_P = E [n^2/R' + (P-1) max(n^2/R', alpha + 8(d+1) n/beta)] + (T_1 - E t_ring,1) n/N_1
                     E = ring sums per step, n = N/P, R = interactions/s of one rank (from the 1-rank run),
                     R' = R min(1, cores/P) (ranks beyond the cores share them);
  PDE (FFT):         T_P = (T_1 - F t_fft,1) w_P + F [t_fft,1 w_P + (P-1) alpha + 16 (M/P)(P-1)/P / beta],
                     F = FFTs per step, M = grid points (one all-to-all transpose of complex data per FFT),
                     w_P = (work per rank relative to the 1-rank run) x max(1, P/cores).
alpha and beta come from --machine (the JSON of scripts/perf-report) or the guide's figures.
Exit status 0 when every run is there and complete, 1 otherwise (the missing ones are listed; the CSV and
plot are still written from the runs that finished).
"""
import argparse
import csv
import json
import os
import sys

import h5py

PROG = "scaling-report"
GUIDE_MACHINE = {"alpha_s": 0.12e-6, "beta_Bps": 16e9, "source": "performance guide (0.12 us, 16 GB/s)"}
COLUMNS = ["mode", "kind", "ranks", "threads", "size", "steps", "time_per_step_s", "speedup", "efficiency",
           "model_time_per_step_s", "model_efficiency", "fft_s_per_step", "ring_s_per_step", "ring_shift_s_per_step",
           "oversubscribed", "status"]


def say(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


def log_view_events(path):
    """{event: (count, max time in s)} from a PETSc -log_view ASCII file."""
    events = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and (parts[0].startswith("Kf") or parts[0] in ("TSStep", "TSFunctionEval")):
                try:
                    events[parts[0]] = (int(parts[1]), float(parts[3]))
                except ValueError:
                    pass
    return events


def run_files(study, p):
    stem = os.path.join(study["dir"], f"{study['mode']}-{study['kind']}-p{p}")
    return stem + ".h5", stem + ".log_view.txt"


def problem_size(study, p):
    """Particles: N; PDE: grid points. Strong: fixed; weak: proportional to P."""
    base = study["size"]
    if study["mode"] == "particles":
        return base * (p if study["kind"] == "weak" else 1)
    points = base ** study["dim"]
    return points * (p if study["kind"] == "weak" else 1)


def measure(study, p):
    h5, lv = run_files(study, p)
    row = {"mode": study["mode"], "kind": study["kind"], "ranks": p, "threads": study["threads"],
           "size": problem_size(study, p), "steps": study["steps"],
           "oversubscribed": int(p * study["threads"] > study["cores"])}
    if not (os.path.isfile(h5) and os.path.isfile(lv)):
        row["status"] = "missing"
        return row, None
    with h5py.File(h5, "r") as f:
        complete = "complete" in f.attrs and int(f.attrs["complete"][0]) == 1
    ev = log_view_events(lv)
    if not complete or "TSStep" not in ev:
        row["status"] = "incomplete"
        return row, None
    steps = ev["TSStep"][0]
    row["steps"] = steps
    row["time_per_step_s"] = ev["TSStep"][1] / steps
    fft = sum(ev.get(k, (0, 0.0))[1] for k in ("KfFFTForward", "KfFFTBackward"))
    row["fft_s_per_step"] = fft / steps
    row["ring_s_per_step"] = ev.get("KfRingSum", (0, 0.0))[1] / steps
    row["ring_shift_s_per_step"] = ev.get("KfRingShift", (0, 0.0))[1] / steps
    row["status"] = "ok"
    return row, ev


def particle_model(study, ev1, t1, p, machine):
    d, n1 = study["dim"], problem_size(study, 1)
    nsum, tring = ev1["KfRingSum"]
    tkern = ev1.get("KfKernelSum", ev1["KfRingSum"])[1]
    steps = ev1["TSStep"][0]
    evals = nsum / steps
    rate = n1 * n1 * nsum / tkern  # interactions/s of one rank
    rate_p = rate * min(1.0, study["cores"] / p)
    n = problem_size(study, p) / p
    other = (t1 - tring / steps) * n / n1
    comm = machine["alpha_s"] + 8 * (d + 1) * n / machine["beta_Bps"]
    return evals * (n * n / rate_p + (p - 1) * max(n * n / rate_p, comm)) + other


def pde_model(study, ev1, t1, p, machine):
    steps = ev1["TSStep"][0]
    nfft = ev1["KfFFTForward"][0] + ev1["KfFFTBackward"][0]
    tfft = (ev1["KfFFTForward"][1] + ev1["KfFFTBackward"][1]) / nfft
    per_step = nfft / steps
    m = problem_size(study, p)
    work = (m / p) / problem_size(study, 1) * max(1.0, p / study["cores"])
    transpose = 0.0 if p == 1 else (p - 1) * machine["alpha_s"] + 16 * (m / p) * (p - 1) / p / machine["beta_Bps"]
    return (t1 - per_step * tfft) * work + per_step * (tfft * work + transpose)


def analyse(study, machine):
    rows, missing, ev1 = [], [], None
    for p in study["ranks"]:
        row, ev = measure(study, p)
        if p == 1:
            ev1 = ev
        if row["status"] != "ok":
            missing.append(f"P={p} ({row['status']}: {run_files(study, p)[0]})")
        rows.append(row)
    one = next((r for r in rows if r["ranks"] == 1 and r["status"] == "ok"), None)
    if one is None:
        return rows, missing
    t1 = one["time_per_step_s"]
    model = particle_model if study["mode"] == "particles" else pde_model
    for r in rows:
        p = r["ranks"]
        if r["status"] == "ok":
            tp = r["time_per_step_s"]
            r["speedup"] = t1 / tp * (p if study["kind"] == "weak" else 1)
            r["efficiency"] = r["speedup"] / p
        mp = model(study, ev1, t1, p, machine)
        r["model_time_per_step_s"] = mp
        r["model_efficiency"] = t1 / mp / (1 if study["kind"] == "weak" else p)
    return rows, missing


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.6g}" if isinstance(r.get(k), float) else r.get(k, "")) for k in COLUMNS})


def fmt(x, spec):
    return format(x, spec) if isinstance(x, (int, float)) else "–"


def table(study, rows, machine):
    what = "N" if study["mode"] == "particles" else "grid points"
    lines = [f"{study['kind'].capitalize()} scaling, {study['mode']} mode, d = {study['dim']}, "
             f"{study['threads']} thread(s) per rank, {study['cores']} cores; {what} per run in the table; "
             f"model: alpha, beta from {machine['source']}.", "",
             f"| ranks | {what} | time/step (ms) | model (ms) | speedup | efficiency | model efficiency | note |",
             "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        t, m = r.get("time_per_step_s"), r.get("model_time_per_step_s")
        note = ("oversubscribed" if r["oversubscribed"] else "") + ("" if r["status"] == "ok" else f" {r['status']}")
        lines.append(f"| {r['ranks']} | {r['size']} | {fmt(t * 1e3 if t else None, '.2f')} | "
                     f"{fmt(m * 1e3 if m else None, '.2f')} | {fmt(r.get('speedup'), '.2f')} | "
                     f"{fmt(r.get('efficiency'), '.2f')} | {fmt(r.get('model_efficiency'), '.2f')} | {note.strip()} |")
    return "\n".join(lines) + "\n"


def plot(study, rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    ok = [r for r in rows if r["status"] == "ok"]
    mod = [r for r in rows if "model_time_per_step_s" in r]
    ranks = [r["ranks"] for r in rows]
    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2))
    t1 = next((r["time_per_step_s"] for r in ok if r["ranks"] == 1), None)
    ax[0].loglog([r["ranks"] for r in ok], [r["time_per_step_s"] * 1e3 for r in ok], "o-", label="measured")
    ax[0].loglog([r["ranks"] for r in mod], [r["model_time_per_step_s"] * 1e3 for r in mod], "s--", label="model")
    if t1:
        ideal = [t1 * 1e3 / (p if study["kind"] == "strong" else 1) for p in ranks]
        ax[0].loglog(ranks, ideal, "k:", label="ideal")
    ax[0].set_ylabel("time per step (ms)")
    ax[1].plot([r["ranks"] for r in ok], [r["speedup"] for r in ok], "o-", label="measured")
    ax[1].plot([r["ranks"] for r in mod], [r["model_efficiency"] * r["ranks"] for r in mod], "s--", label="model")
    ax[1].plot(ranks, ranks, "k:", label="ideal")
    ax[1].set_ylabel("speedup" if study["kind"] == "strong" else "scaled speedup P T1/TP")
    ax[2].plot([r["ranks"] for r in ok], [r["efficiency"] for r in ok], "o-", label="measured")
    ax[2].plot([r["ranks"] for r in mod], [r["model_efficiency"] for r in mod], "s--", label="model")
    ax[2].axhline(1.0, color="k", ls=":", label="ideal")
    ax[2].set_ylim(0, 1.2)
    ax[2].set_ylabel("parallel efficiency")
    for a in ax:
        a.set_xlabel("MPI ranks")
        a.set_xticks(ranks)
        a.set_xticklabels([str(p) for p in ranks])
        a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if max(ranks) * study["threads"] > study["cores"]:
            a.axvspan(study["cores"] / study["threads"] * 1.2, max(ranks) * 1.05, color="0.9", zorder=0,
                      label=f"oversubscribed (> {study['cores']} cores)")
        a.legend(fontsize=8)
    size = "N" if study["mode"] == "particles" else "grid"
    fig.suptitle(f"{study['kind']} scaling, {study['mode']} mode (d = {study['dim']}, {size} {study['size_label']}, "
                 f"{study['threads']} thread/rank) on {study['host']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="study directory written by jobs/scaling")
    ap.add_argument("--machine", help="JSON with alpha_s and beta_Bps (scripts/perf-report writes machine.json)")
    args = ap.parse_args(argv)
    with open(os.path.join(args.dir, "study.json")) as f:
        study = json.load(f)
    study["dir"] = os.path.abspath(args.dir)
    machine = dict(GUIDE_MACHINE)
    if args.machine:
        with open(args.machine) as f:
            machine.update(json.load(f))
        machine["source"] = args.machine
    rows, missing = analyse(study, machine)
    base = os.path.join(study["dir"], f"scaling-{study['mode']}-{study['kind']}")
    write_csv(base + ".csv", rows)
    md = table(study, rows, machine)
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    if any(r["status"] == "ok" for r in rows):
        plot(study, rows, base + ".png")
    say(f"wrote {base}.csv, .md" + (", .png" if any(r['status'] == 'ok' for r in rows) else ""))
    if missing:
        say(f"{len(missing)} of {len(rows)} runs failed or did not finish: " + "; ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
