#!/usr/bin/python3
"""study_convergence.py - particles vs PDE: distance against the number of particles N (math spec C.6, G11, G12).

Runs `kmdflow -mode compare` over a grid of N (and optionally of PDE grids n), for quantile and/or i.i.d.
initial particles (several seeds for i.i.d.), gathers /compare/* of every run into one CSV, and fits the
log-log slope of each distance against N at the chosen times:

  H^-s distance (/compare/hminus)   quantile start, s = 1, d = 1: L/(sqrt(12) N), slope -1 (C.2, G11)
                                    i.i.d. start: slope -1/2 at fixed t (G12); at t = 0 its RMS over seeds is
                                    the C.6 expectation /compare/hminus_iid
  circle W1 (/compare/w1, d = 1)     quantile start, s = 1: L/(4N), slope -1 (G11)
                                    i.i.d. start: slope -1/2 at t = 0 (G11), moving toward -1 as it decays to L/(4N)

Usually called through scripts/study-convergence (see --help there). Modes:
  (default)       plan, run every missing run serially, collect
  --plan          write DIR/plan.json (and freeze random densities) and print the run count (for a job array)
  --run-one I     run entry I of the plan (0-based; e.g. $SLURM_ARRAY_TASK_ID); creates the plan if needed
  --collect       gather the finished runs of DIR/plan.json into DIR/convergence.csv, fit, plot
  --list          print the planned runs
"""
import argparse
import json
import math
import os
import shlex
import sys
from fractions import Fraction

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study_common as sc  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

PROG = "study-convergence"

DEFAULTS = {
    "dim": 1, "s": 1.0, "L": 1.0, "init": "cos", "init_args": "", "target": "uniform", "target_args": "",
    "n": [256], "N": [250, 500, 1000, 2000, 4000], "particle_init": ["quantile", "iid"], "seeds": [1, 2, 3, 4],
    "times": [0.0, 0.5, 2.0], "kmdflow_args": "", "freeze": "auto", "density_seed": 1,
}

COLUMNS = ["N", "n", "dim", "s", "L", "particle_init", "seed", "t", "hminus", "hminus_band", "hminus_tail",
           "hminus_iid", "w1", "energy_pde", "energy_particles", "energy_gap", "energy_floor", "wall_s", "run"]


def int_list(text):
    try:
        v = [int(float(x)) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'")
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got '{text}'")
    return v


def float_list(text):
    try:
        v = [float(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got '{text}'")
    if not v or min(v) < 0:
        raise argparse.ArgumentTypeError(f"expected numbers >= 0, got '{text}'")
    return sorted(set(v))


def str_list(text):
    v = [x for x in text.replace(" ", "").split(",") if x]
    for x in v:
        if x not in ("quantile", "iid", "lattice"):
            raise argparse.ArgumentTypeError(f"particle init '{x}': expected quantile, iid or lattice")
    return v


def parser():
    ap = argparse.ArgumentParser(
        prog=PROG, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Particles vs PDE (kmdflow -mode compare): distance against N, fitted and predicted slopes "
                    "(math spec C.6, G11, G12).",
        epilog="""examples:
  scripts/study-convergence                                   # defaults: 1-D, s=1, L=1, cos -> uniform
  scripts/study-convergence -o out/conv-s2 --s 2 --L 6.283185307179586 --particle-init iid --times 0,1
  scripts/study-convergence -o out/conv-pl --init powerlaw --init-args "-init_powerlaw_p 1.5"
SLURM job array (one run per task; the plan fixes the runs, so --collect needs no study options):
  scripts/study-convergence -o out/conv --plan --N 1000,2000,4000,8000      # prints the number of runs R
  sbatch --array=0-$((R-1)) --ntasks=2 --wrap 'MPIEXEC=srun scripts/study-convergence -o out/conv --run-one $SLURM_ARRAY_TASK_ID'
  scripts/study-convergence -o out/conv --collect
environment: KMDFLOW (executable; default build/kmdflow), MPIEXEC (default mpiexec, e.g. "srun").
outputs in DIR: plan.json, runs/NAME.{h5,log,csv}, convergence.csv (one row per run and output time),
  slopes.csv and slopes.md (fits), convergence.png (convergence-n<n>.png for several grids).""")
    m = ap.add_mutually_exclusive_group()
    m.add_argument("--plan", action="store_true", help="write DIR/plan.json, freeze random densities, print the run count")
    m.add_argument("--run-one", type=int, metavar="I", help="run entry I (0-based) of the plan")
    m.add_argument("--collect", action="store_true", help="gather finished runs into the CSV, fit and plot")
    m.add_argument("--list", action="store_true", help="print the planned runs and their state")
    ap.add_argument("-o", "--outdir", default=os.path.join(sc.ROOT, "out", "convergence"), help="study directory (default out/convergence)")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks per run (default 2)")
    g = ap.add_argument_group("study (fixed in plan.json; later calls must agree or leave them out)")
    g.add_argument("--N", type=int_list, help="particle numbers (default 250,500,1000,2000,4000)")
    g.add_argument("--n", type=int_list, help="PDE grid(s) per axis (default 256)")
    g.add_argument("--dim", type=int, choices=(1, 2, 3), help="dimension (default 1; W1 only in 1-D; quantile needs N = m^d)")
    g.add_argument("--s", type=float, help="Sobolev order s (default 1)")
    g.add_argument("--L", type=float, help="period L (default 1)")
    g.add_argument("--init", help="initial density spec (default cos)")
    g.add_argument("--init-args", help='its -init_* options, e.g. "-init_cos_amp 0.3"')
    g.add_argument("--target", help="target density spec (default uniform)")
    g.add_argument("--target-args", help='its -target_* options, e.g. "-target_cos_amp 0.5 -target_cos_modes 1"')
    g.add_argument("--particle-init", type=str_list, help="quantile,iid (default both)")
    g.add_argument("--seeds", type=int_list, help="seeds of the i.i.d. runs (default 1,2,3,4; quantile uses the first)")
    g.add_argument("--times", type=float_list, help="times at which distances are fitted (default 0,0.5,2; T = max)")
    g.add_argument("--kmdflow-args", help='extra options for every run, e.g. "-compare_s 1.5 -ts_rtol 1e-10"')
    g.add_argument("--freeze", choices=("auto", "yes", "no"),
                   help="write -init/-target to a grid file once and use file:... in every run, so that -seed changes "
                        "only the particle draws (auto: when init or target is powerlaw, whose phases follow -seed)")
    g.add_argument("--density-seed", type=int, help="-seed of the frozen densities (default 1)")
    ap.add_argument("--force", action="store_true", help="rerun runs that already finished")
    ap.add_argument("--partial", action="store_true", help="--collect: use the finished runs, ignore missing ones")
    ap.add_argument("--delete-h5", action="store_true", help="delete each run's HDF5 file after extracting its CSV")
    return ap


# ------------------------------------------------------------------ plan


def study_params(args, stored=None):
    """Study parameters from the command line; with a stored plan, given options must agree with it."""
    keys = list(DEFAULTS)
    given = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    if stored is not None:
        diff = [k for k, v in given.items() if stored.get(k) != v]
        if diff:
            raise sc.StudyError(f"{args.outdir}/plan.json was made with other values of: "
                                + ", ".join(f"--{k.replace('_', '-')} ({stored.get(k)!r} there, {given[k]!r} here)" for k in diff)
                                + "; use another -o DIR, or leave these options out")
        return dict(stored)
    p = dict(DEFAULTS)
    p.update(given)
    return p


def output_step(times):
    """The largest step dt with every requested time a multiple of it (times as exact fractions)."""
    fr = [Fraction(t).limit_denominator(10 ** 6) for t in times if t > 0]
    if not fr:
        return None
    g = fr[0]
    for f in fr[1:]:
        g = Fraction(math.gcd(g.numerator * f.denominator, f.numerator * g.denominator), g.denominator * f.denominator)
    if max(fr) / g > 10 ** 5:
        raise sc.StudyError(f"--times {times}: no common output step with at most 1e5 records")
    return float(g)


def needs_freeze(p):
    if p["freeze"] == "yes":
        return True
    if p["freeze"] == "no":
        return False
    return p["init"] == "powerlaw" or p["target"] == "powerlaw"


def density_file(outdir, role, n):
    return os.path.join(outdir, "densities", f"{role}-n{n}.h5")


def make_plan(p):
    if p["dim"] != 1 and "quantile" in p["particle_init"]:
        for N in p["N"]:
            m = round(N ** (1.0 / p["dim"]))
            if m ** p["dim"] != N:
                raise sc.StudyError(f"--N {N}: quantile particles in {p['dim']}-D need N = m^{p['dim']}")
    runs = []
    for n in p["n"]:
        for pinit in p["particle_init"]:
            for N in p["N"]:
                for seed in (p["seeds"] if pinit == "iid" else p["seeds"][:1]):
                    runs.append({"index": len(runs), "name": f"{pinit}-N{N}-n{n}-seed{seed}", "N": N, "n": n,
                                 "particle_init": pinit, "seed": seed})
    return {"params": p, "runs": runs}


def load_plan(outdir):
    path = os.path.join(outdir, "plan.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def save_plan(outdir, plan):
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "plan.json")
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(plan, f, indent=1)
    os.replace(tmp, path)  # concurrent array tasks write the same content: harmless


def resolve_plan(args, create=True):
    stored = load_plan(args.outdir)
    if stored is not None:
        study_params(args, stored["params"])  # raises if the command line disagrees
        return stored
    if not create:
        raise sc.StudyError(f"{args.outdir}/plan.json does not exist: run --plan (or the plain command) first")
    plan = make_plan(study_params(args))
    save_plan(args.outdir, plan)
    return plan


# ------------------------------------------------------------------ runs


def freeze_densities(outdir, p, n, ranks):
    """-init/-target written once on the grid n (a PDE run to t = 0) so every run sees the same densities."""
    specs = {}
    for role in ("init", "target"):
        spec, extra = p[role], shlex.split(p[f"{role}_args"])
        if not needs_freeze(p) or spec == "uniform" or spec.startswith("file:"):
            specs[role] = (spec, extra)
            continue
        path = density_file(outdir, role, n)
        if not os.path.isfile(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path[:-3]}.tmp{os.getpid()}.h5"
            args = ["-mode", "pde", "-dim", str(p["dim"]), "-n", str(n), "-L", repr(p["L"]), "-s", repr(p["s"]),
                    "-init", spec] + [a.replace("-target_", "-init_", 1) for a in extra] + \
                   ["-seed", str(p["density_seed"]), "-ts_max_time", "0", "-quiet"]
            sc.say(PROG, f"freezing the {role} density '{spec}' on n = {n} -> {path}")
            sc.run_kmdflow(args, tmp, tmp[:-3] + ".log", ranks, PROG)
            os.replace(tmp, path)
            for ext in (".xmf", ".log"):
                if os.path.exists(tmp[:-3] + ext):
                    os.remove(tmp[:-3] + ext)
        specs[role] = (f"file:{os.path.abspath(path)}:/pde/rho", [])
    return specs


def run_args(p, run, specs):
    T = max(p["times"])
    a = ["-mode", "compare", "-dim", str(p["dim"]), "-n", str(run["n"]), "-s", repr(p["s"]), "-L", repr(p["L"]),
         "-init", specs["init"][0]] + specs["init"][1] + ["-target", specs["target"][0]] + specs["target"][1] + \
        ["-particles", str(run["N"]), "-particle_init", run["particle_init"], "-seed", str(run["seed"]),
         "-ts_max_time", repr(T), "-quiet"]
    dt = output_step(p["times"])
    if dt is not None:
        a += ["-output_dt", repr(dt)]
    return a + shlex.split(p["kmdflow_args"])


def run_paths(outdir, run):
    base = os.path.join(outdir, "runs", run["name"])
    return base + ".h5", base + ".log", base + ".csv"


def rows_of_file(path, p, run, wall):
    r = sc.read_compare(path)
    c = r["compare"]
    floor = sc.lattice_energy(r["N"], r["s"], r["L"], r["d"]) if p["target"] == "uniform" else float("nan")
    rows = []
    for i, t in enumerate(c["time"]):
        rows.append({"N": r["N"], "n": r["grid"][0], "dim": r["d"], "s": r["s"], "L": r["L"],
                     "particle_init": run["particle_init"], "seed": run["seed"], "t": float(t),
                     "hminus": float(c["hminus"][i]), "hminus_band": float(c["hminus_band"][i]),
                     "hminus_tail": float(c["hminus_tail"][i]), "hminus_iid": float(c["hminus_iid"][i]),
                     "w1": float(c["w1"][i]) if "w1" in c else float("nan"),
                     "energy_pde": float(c["energy_pde"][i]), "energy_particles": float(c["energy_particles"][i]),
                     "energy_gap": float(c["energy_gap"][i]), "energy_floor": floor, "wall_s": round(wall, 3),
                     "run": run["name"]})
    return rows


def run_one(outdir, plan, i, ranks, force=False, delete_h5=False):
    runs = plan["runs"]
    if not 0 <= i < len(runs):
        raise sc.StudyError(f"--run-one {i}: the plan has runs 0..{len(runs) - 1}")
    run, p = runs[i], plan["params"]
    h5, log, csvp = run_paths(outdir, run)
    if os.path.isfile(csvp) and not force:
        sc.say(PROG, f"run {i} ({run['name']}) already done")
        return 0.0
    for f in (h5, csvp):
        if os.path.exists(f):
            os.remove(f)
    specs = freeze_densities(outdir, p, run["n"], ranks)
    sc.say(PROG, f"run {i + 1}/{len(runs)}: {run['name']} on {ranks} rank(s)")
    wall = sc.run_kmdflow(run_args(p, run, specs), h5, log, ranks, PROG)
    rows = rows_of_file(h5, p, run, wall)
    sc.write_csv(csvp, rows, COLUMNS)
    if delete_h5:
        for ext in (".h5", ".xmf", "-particles.xmf"):
            f = h5[:-3] + ext
            if os.path.exists(f):
                os.remove(f)
    return wall


# ------------------------------------------------------------------ analysis


def prediction(metric, pinit, p, t):
    """(predicted slope or None, source) for a distance against N."""
    if pinit == "iid":
        if metric == "hminus":
            return -0.5, "G12 (C.6)"
        if t == 0:
            return -0.5, "G11"
        return -0.5, "G11: -1/2 at t=0, toward -1 as W1 decays to L/(4N)"
    if pinit == "quantile" and p["dim"] == 1 and p["s"] == 1:
        return -1.0, "G11 (C.2)"
    return None, "none in the spec"


def absolute_prediction(metric, pinit, p, N):
    """The exact values of the quantile start (1-D, s = 1): L/(sqrt 12 N) and L/(4N) (C.2, C.6)."""
    if pinit != "quantile" or p["dim"] != 1 or p["s"] != 1:
        return None
    N = np.asarray(N, float)
    return p["L"] / (math.sqrt(12) * N) if metric == "hminus" else p["L"] / (4 * N)


def aggregate(rows, n, t, pinit, metric):
    """Per N: value (RMS over seeds for hminus, mean for w1), spread (std over seeds), seeds, mean hminus_iid."""
    out = []
    sel = [r for r in rows if int(r["n"]) == n and r["particle_init"] == pinit and abs(float(r["t"]) - t) <= 1e-9 * max(1.0, t)]
    for N in sorted({int(r["N"]) for r in sel}):
        v = np.array([float(r[metric]) for r in sel if int(r["N"]) == N])
        iid = np.array([float(r["hminus_iid"]) for r in sel if int(r["N"]) == N])
        if not np.all(np.isfinite(v)):
            continue
        val = math.sqrt(float(np.mean(v ** 2))) if metric == "hminus" else float(np.mean(v))
        out.append((N, val, float(np.std(v)) if len(v) > 1 else 0.0, len(v), float(np.mean(iid))))
    return out


def seed_slope_error(rows, n, t, pinit, metric):
    """Standard error of the slope from the scatter of the per-seed slopes (each seed is an independent sweep over
    N); the regression error of the seed-averaged curve underestimates it when few modes dominate (large s)."""
    sel = [r for r in rows if int(r["n"]) == n and r["particle_init"] == pinit and abs(float(r["t"]) - t) <= 1e-9 * max(1.0, t)]
    slopes = []
    for seed in sorted({int(r["seed"]) for r in sel}):
        pts = sorted((int(r["N"]), float(r[metric])) for r in sel if int(r["seed"]) == seed)
        if len(pts) >= 2:
            slopes.append(sc.fit_loglog([a for a, _ in pts], [b for _, b in pts])[0])
    slopes = [x for x in slopes if math.isfinite(x)]
    if len(slopes) < 2:
        return float("nan")
    return float(np.std(slopes, ddof=1) / math.sqrt(len(slopes)))


def pooled_iid_ratio(rows, n, t, pinit):
    """sqrt(mean of (hminus/hminus_iid)^2) over every run (all N and seeds) at time t, and its standard error:
    1 at t = 0 if the particles are i.i.d. draws from rho_0 (C.6: hminus_iid^2 is the expected squared distance).
    kmdflow keys the draws by (seed, particle id), so the runs of one seed are nested in N and correlated: the
    error is taken from the scatter between seeds of their means over N."""
    sel = [r for r in rows if int(r["n"]) == n and r["particle_init"] == pinit and abs(float(r["t"]) - t) <= 1e-9 * max(1.0, t)]
    per_seed = {}
    for r in sel:
        if float(r["hminus_iid"]) > 0:
            per_seed.setdefault(int(r["seed"]), []).append((float(r["hminus"]) / float(r["hminus_iid"])) ** 2)
    q = np.array([np.mean(v) for v in per_seed.values()])
    if len(q) < 2:
        return float("nan"), float("nan")
    m = float(np.mean(q))
    return math.sqrt(m), float(np.std(q, ddof=1) / math.sqrt(len(q)) / (2 * math.sqrt(m)))


def analyse(outdir, plan, rows):
    p = plan["params"]
    metrics = ["hminus"] + (["w1"] if p["dim"] == 1 else [])
    fits = []
    for n in p["n"]:
        for t in p["times"]:
            for pinit in p["particle_init"]:
                for metric in metrics:
                    agg = aggregate(rows, n, t, pinit, metric)
                    if len(agg) < 2:
                        continue
                    N = [a[0] for a in agg]
                    y = [a[1] for a in agg]
                    slope, icpt, se = sc.fit_loglog(N, y)
                    if max(a[3] for a in agg) > 1:
                        se = seed_slope_error(rows, n, t, pinit, metric)
                    pred, src = prediction(metric, pinit, p, t)
                    exact = absolute_prediction(metric, pinit, p, N)
                    ratio = float(np.mean(np.array(y) / exact)) if exact is not None else float("nan")
                    ratio_iid = pooled_iid_ratio(rows, n, t, pinit) if metric == "hminus" and pinit == "iid" else (float("nan"), float("nan"))
                    fits.append({"n": n, "t": t, "particle_init": pinit, "metric": metric, "N_min": min(N),
                                 "N_max": max(N), "points": len(N), "seeds": max(a[3] for a in agg),
                                 "slope": slope, "slope_se": se, "predicted": pred if pred is not None else float("nan"),
                                 "source": src, "value_over_exact": ratio, "rms_over_iid_expectation": ratio_iid[0],
                                 "rms_over_iid_expectation_se": ratio_iid[1],
                                 "agg": agg, "intercept": icpt})
    return fits


def fits_table(fits, p):
    head = ["n", "t", "start", "distance", "N range", "seeds", "fitted slope ± s.e.", "predicted", "source",
            "measured / exact", "RMS / i.i.d. expectation (pooled)"]
    name = {"hminus": f"H^-{p['s']:g}" if "-compare_s" not in p["kmdflow_args"] else "H^-s'", "w1": "W1"}
    rows = []
    for f in fits:
        rows.append([f["n"], f"{f['t']:g}", f["particle_init"], name[f["metric"]], f"{f['N_min']}–{f['N_max']}",
                     f["seeds"], f"{sc.fmt(f['slope'])} ± {sc.fmt(f['slope_se'])}", sc.fmt(f["predicted"], ".2f"),
                     f["source"], sc.fmt(f["value_over_exact"], ".4f"),
                     sc.fmt(f["rms_over_iid_expectation"], ".3f") + ("" if not math.isfinite(f["rms_over_iid_expectation"])
                                                                     else f" ± {f['rms_over_iid_expectation_se']:.3f}")])
    return sc.md_table(head, rows)


def plot(outdir, plan, fits, n, path):
    p = plan["params"]
    times = p["times"]
    ncol = min(len(times), 4)
    nrow = math.ceil(len(times) / ncol)
    fig, axes = sc.plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 4.2 * nrow), squeeze=False, constrained_layout=True)
    colors = {("quantile", "hminus"): "C0", ("quantile", "w1"): "C1", ("iid", "hminus"): "C2", ("iid", "w1"): "C3",
              ("lattice", "hminus"): "C4", ("lattice", "w1"): "C5"}
    label = {"hminus": f"$H^{{-{p['s']:g}}}$", "w1": "$W_1$"}
    for ax, t in zip(axes.ravel(), times):
        iid_ref, lo = None, math.inf
        for f in [f for f in fits if f["n"] == n and f["t"] == t]:
            c = colors[(f["particle_init"], f["metric"])]
            N = np.array([a[0] for a in f["agg"]], float)
            y = np.array([a[1] for a in f["agg"]])
            err = np.array([a[2] for a in f["agg"]])
            mk = "o" if f["metric"] == "hminus" else "s"
            ax.errorbar(N, y, yerr=err if err.any() else None, fmt=mk, color=c, ms=4, capsize=2,
                        label=f"{label[f['metric']]} {f['particle_init']}: fit {sc.fmt(f['slope'], '.2f')}"
                              + (f" (pred {f['predicted']:.2g})" if math.isfinite(f["predicted"]) else ""))
            NN = np.geomspace(N.min(), N.max(), 50)
            ax.loglog(NN, np.exp(f["intercept"]) * NN ** f["slope"], "-", color=c, lw=1, alpha=0.8)
            exact = absolute_prediction(f["metric"], f["particle_init"], p, NN)
            if exact is not None:
                ax.loglog(NN, exact, "--", color="k", lw=0.8, alpha=0.6)
            elif math.isfinite(f["predicted"]):
                gm = math.exp(np.mean(np.log(y)))
                ax.loglog(NN, gm * (NN / math.exp(np.mean(np.log(N)))) ** f["predicted"], "--", color=c, lw=0.9, alpha=0.6)
            if f["particle_init"] == "iid" and f["metric"] == "hminus" and t == 0:
                iid_ref = (N, np.array([a[4] for a in f["agg"]]))
            lo = min(lo, float(y.min()))
        if iid_ref is not None:
            ax.loglog(iid_ref[0], iid_ref[1], ":", color="0.35", lw=1.5, label="i.i.d. expectation (C.6)")
        if math.isfinite(lo):
            ax.set_ylim(bottom=lo / 12)  # room for the legend below the data
        ax.set_xscale("log")
        ax.set_yscale("log")
        Ns = sorted({a[0] for f in fits if f["n"] == n and f["t"] == t for a in f["agg"]})
        if Ns:
            ax.xaxis.set_major_locator(FixedLocator(Ns))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("N (particles)")
        ax.set_ylabel("distance particles – PDE")
        ax.set_title(f"t = {t:g}", fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7, loc="lower left")
    for ax in axes.ravel()[len(times):]:
        ax.axis("off")
    extra = "; dashed black: exact L/(√12 N), L/(4N)" if p["dim"] == 1 and p["s"] == 1 else ""
    fig.suptitle(f"particles vs PDE: d = {p['dim']}, s = {p['s']:g}, L = {sc.fmt_L(p['L'])}, n = {n}, "
                 f"init {p['init']}, target {p['target']}   (solid: fit; dashed: predicted slope{extra})", fontsize=10)
    sc.savefig(fig, path)
    sc.plt.close(fig)


def collect(outdir, plan, partial=False):
    rows, missing = [], []
    for run in plan["runs"]:
        _, _, csvp = run_paths(outdir, run)
        if os.path.isfile(csvp):
            rows += sc.read_csv(csvp)
        else:
            missing.append(f"{run['index']} ({run['name']})")
    if missing and not partial:
        raise sc.StudyError(f"{len(missing)} of {len(plan['runs'])} runs have not finished: " + ", ".join(missing[:12])
                            + (" ..." if len(missing) > 12 else "") + "; run them (--run-one I) or use --partial")
    if not rows:
        raise sc.StudyError("no finished runs to collect")
    sc.write_csv(os.path.join(outdir, "convergence.csv"), rows, COLUMNS)
    fits = analyse(outdir, plan, rows)
    p = plan["params"]
    fcols = ["n", "t", "particle_init", "metric", "N_min", "N_max", "points", "seeds", "slope", "slope_se",
             "predicted", "source", "value_over_exact", "rms_over_iid_expectation", "rms_over_iid_expectation_se"]
    sc.write_csv(os.path.join(outdir, "slopes.csv"), fits, fcols)
    table = fits_table(fits, p)
    with open(os.path.join(outdir, "slopes.md"), "w") as f:
        f.write(table + "\n")
    pngs = []
    for n in p["n"]:
        path = os.path.join(outdir, "convergence.png" if len(p["n"]) == 1 else f"convergence-n{n}.png")
        plot(outdir, plan, fits, n, path)
        pngs.append(path)
    print(table)
    walls = sorted({(r["run"], float(r["wall_s"])) for r in rows})
    sc.say(PROG, f"{len(walls)} runs, {sum(w for _, w in walls):.1f} s of kmdflow wall time; wrote "
           f"{outdir}/convergence.csv, slopes.csv, slopes.md, " + ", ".join(os.path.basename(x) for x in pngs))
    return fits


def main(argv=None):
    args = parser().parse_args(argv)
    args.outdir = os.path.abspath(args.outdir)
    try:
        if args.collect:
            plan = resolve_plan(args, create=False)
            collect(args.outdir, plan, args.partial)
            return 0
        plan = resolve_plan(args)
        if args.list:
            for run in plan["runs"]:
                state = "done" if os.path.isfile(run_paths(args.outdir, run)[2]) else "todo"
                print(f"{run['index']:4d}  {state}  {run['name']}")
            return 0
        if args.plan:
            p = plan["params"]
            for n in p["n"]:
                freeze_densities(args.outdir, p, n, args.ranks)
            print(len(plan["runs"]))
            sc.say(PROG, f"{len(plan['runs'])} runs planned in {args.outdir}/plan.json; run them with --run-one 0..{len(plan['runs']) - 1}, then --collect")
            return 0
        if args.run_one is not None:
            run_one(args.outdir, plan, args.run_one, args.ranks, args.force, args.delete_h5)
            return 0
        for i in range(len(plan["runs"])):
            run_one(args.outdir, plan, i, args.ranks, args.force, args.delete_h5)
        collect(args.outdir, plan)
        return 0
    except sc.StudyError as exc:
        return sc.die(PROG, exc)


if __name__ == "__main__":
    sys.exit(main())
