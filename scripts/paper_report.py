#!/usr/bin/python3
"""paper_report.py - the d = 1 experiments of math spec C.5, reconstructed, in one command, with a report.

OUR reconstruction, not the paper's: [P2] (Chizat, Colombo, Colombo, Fernandez-Real, arXiv 2603.01977) says only
that it has "numerical experiments in dimension d = 1 using both PDE and particle methods"; its data, s values,
N, grid and plots are unknown ([U] in the math spec). C.5 proposes the set-up used here:

  L = 2 pi, s in {1, 1.5, 2, 3}, nu in {1, 1 + cos(x)/2}, rho_0 = 1 + a sum_k k^-p cos(k x + phi_k) (kmdflow's
  powerlaw density; or the cos density), PDE and particles (quantile and i.i.d. starts) via kmdflow -mode compare,
  energy semilog for s = 1 and log-log for s > 1 with the C.1/C.3 predictions overlaid,

plus the particle-vs-PDE distances against N (G11: s = 1; G12: i.i.d., s = 2) through study_convergence.
Writes DIR/report.md with PNG figures and tables of fitted vs predicted exponents. Usually called through
scripts/paper-report (see --help there).
"""
import argparse
import json
import math
import os
import platform
import shlex
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study_common as sc  # noqa: E402
import study_convergence as scv  # noqa: E402
import study_rates as sr  # noqa: E402

PROG = "paper-report"
TWO_PI = 2 * math.pi

SIZES = {
    # quick: a few minutes on 2 cores; full: the C.5 sizes (hours on 2 cores; meant for a cluster node)
    "quick": {"n": 512, "N": 1000, "tmax": 1e4, "records": 80, "conv_N": [250, 500, 1000, 2000], "conv_seeds": [1, 2, 3],
              "conv_n": 256, "g12_seeds": list(range(1, 17))},
    "full": {"n": 2048, "N": 10000, "tmax": 1e5, "records": 150, "conv_N": [1000, 2000, 4000, 8000, 16000],
             "conv_seeds": [1, 2, 3, 4, 5, 6, 7, 8], "conv_n": 1024, "g12_seeds": list(range(1, 33))},
}

TARGETS = {
    "uniform": ("uniform", [], "ν ≡ 1"),
    # cos density with one mode in 1-D: 1 + a cos(2 pi x/L + 0.3) = 1 + cos(x + 0.3)/2 for L = 2 pi, a = 1/2:
    # the C.5 target rotated by 0.3 (immaterial against a random-phase rho_0)
    "cos": ("cos", ["-target_cos_amp", "0.5", "-target_cos_modes", "1"], "ν = 1 + ½ cos(x + 0.3)"),
}


def parser():
    ap = argparse.ArgumentParser(
        prog=PROG, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the d = 1 experiments of math spec C.5 (our reconstruction, not the paper's) with kmdflow "
                    "-mode compare and write DIR/report.md with figures and fitted vs predicted exponents.",
        epilog="""sizes:
  --quick (default)  n = 512, N = 1000, T <= 1e4, G11/G12 sweeps N = 250..2000 x 3 (16) seeds: 4-7 minutes on 2 cores
  --full             the C.5 sizes: n = 2048, N = 10^4, T <= 1e5, sweeps N = 1000..16000 x 8 (32) seeds: many hours on
                     2 cores (the s = 3 particle runs dominate); meant for a cluster node (--ranks, MPIEXEC=srun)
final times (L = 2 pi, math spec A.5): s = 1: 12 (24 for the cos target); s > 1: until the dominant mode k* = (2t)^{1/(2s-2)} reaches
  min(n/3, kmax)/4, at most --tmax (s = 1.5: 26, s = 2: 1100, s = 3: 1e4 with --quick).
finished runs are reused (same options) unless --force, so the report can be rewritten cheaply.
environment: KMDFLOW (default build/kmdflow), MPIEXEC (default mpiexec).""")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small sizes (default)")
    g.add_argument("--full", action="store_true", help="the C.5 sizes")
    ap.add_argument("-o", "--outdir", default=os.path.join(sc.ROOT, "report"), help="report directory (default <repo>/report)")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks per run (default 2)")
    ap.add_argument("--s", default="1,1.5,2,3", help="Sobolev orders (default 1,1.5,2,3)")
    ap.add_argument("--targets", default="uniform,cos", help="uniform and/or cos (= 1 + cos(x)/2) (default both)")
    ap.add_argument("--init", choices=("powerlaw", "cos"), default="powerlaw", help="rho_0 (default powerlaw)")
    ap.add_argument("--p", type=float, default=1.5, help="powerlaw exponent p (default 1.5)")
    ap.add_argument("--amp", type=float, default=0.1, help="powerlaw amplitude max|rho_0 - 1| (default 0.1; cos start: 0.5)")
    ap.add_argument("--seed", type=int, default=1, help="-seed: powerlaw phases and i.i.d. draws (default 1)")
    ap.add_argument("--n", type=int, help="PDE grid (overrides the size preset)")
    ap.add_argument("--N", type=int, help="particles (overrides the size preset)")
    ap.add_argument("--tmax", type=float, help="cap of the final times (overrides the size preset)")
    ap.add_argument("--records", type=int, help="output records per run for s > 1 (overrides the preset; W1 costs ~0.1 ms per particle and record)")
    ap.add_argument("--no-convergence", action="store_true", help="skip the G11/G12 sweeps against N")
    ap.add_argument("--force", action="store_true", help="rerun finished runs")
    return ap


# ------------------------------------------------------------------ runs


def final_time(s, n, tmax, target="uniform"):
    """s = 1: 12 for nu = 1 (E falls by e^-24), 24 otherwise (the rate tends to 2 nu_min only like 3/(2t));
    s > 1: until the dominant mode reaches min(n/3, kmax)/4, at most tmax."""
    if s == 1:
        return 12.0 if target == "uniform" else 24.0
    return sr.auto_T(s, TWO_PI, n, tmax)


def init_args(args):
    if args.init == "powerlaw":
        return ["-init", "powerlaw", "-init_powerlaw_p", repr(args.p), "-init_powerlaw_amp", repr(args.amp)]
    return ["-init", "cos", "-init_cos_amp", repr(0.5 if args.amp == 0.1 else args.amp)]


def plan_runs(args, size):
    runs = []
    for tname in args.targets:
        for s in args.s:
            for pinit in ("quantile", "iid"):
                T = final_time(s, size["n"], size["tmax"], tname)
                records = 48 if s == 1 else size["records"]
                a = ["-mode", "compare", "-dim", "1", "-L", repr(TWO_PI), "-n", str(size["n"]), "-s", repr(s)] + init_args(args) + \
                    ["-target", TARGETS[tname][0]] + TARGETS[tname][1] + \
                    ["-particles", str(size["N"]), "-particle_init", pinit, "-seed", str(args.seed),
                     "-ts_max_time", repr(T), "-output_dt", repr(T / records), "-quiet"]
                runs.append({"name": f"s{s:g}-{tname}-{pinit}", "s": s, "target": tname, "pinit": pinit, "T": T, "args": a})
    return runs


def run_cached(run, outdir, ranks, force):
    """Runs unless DIR/runs/NAME.h5 exists from a run with the same arguments. Returns (path, wall time)."""
    h5 = os.path.join(outdir, "runs", run["name"] + ".h5")
    meta = h5[:-3] + ".json"
    if not force and os.path.isfile(h5) and os.path.isfile(meta):
        with open(meta) as f:
            m = json.load(f)
        if m.get("args") == run["args"]:
            return h5, m.get("wall", float("nan")), True
    sc.say(PROG, f"running {run['name']} (T = {run['T']:g})")
    wall = sc.run_kmdflow(run["args"], h5, h5[:-3] + ".log", ranks, PROG)
    with open(meta, "w") as f:
        json.dump({"args": run["args"], "wall": wall, "ranks": ranks}, f)
    sc.say(PROG, f"{run['name']}: {wall:.1f} s")
    return h5, wall, False


def convergence(args, size, outdir, name, s, target, pinits, times, metric_note, seeds=None):
    p = dict(scv.DEFAULTS)
    tspec = TARGETS[target]
    ia = init_args(args)
    p.update({"dim": 1, "s": s, "L": TWO_PI, "init": ia[1], "init_args": " ".join(shlex.quote(x) for x in ia[2:]),
              "target": tspec[0], "target_args": " ".join(tspec[1]), "n": [size["conv_n"]], "N": size["conv_N"],
              "particle_init": pinits, "seeds": seeds or size["conv_seeds"], "times": times, "kmdflow_args": "",
              "freeze": "auto", "density_seed": args.seed})
    d = os.path.join(outdir, name)
    plan = scv.make_plan(p)
    old = scv.load_plan(d)
    same = old is not None and all(old["params"].get(k) == v for k, v in plan["params"].items() if k not in ("N", "seeds", "n"))
    if (old is not None and not same) or args.force:  # runs of the same name are valid only for the same study
        for run in (old or plan)["runs"]:
            for f in scv.run_paths(d, run):
                if os.path.exists(f):
                    os.remove(f)
        if os.path.isdir(os.path.join(d, "densities")):
            for f in os.listdir(os.path.join(d, "densities")):
                os.remove(os.path.join(d, "densities", f))
    scv.save_plan(d, plan)
    wall = 0.0
    for i in range(len(plan["runs"])):
        wall += scv.run_one(d, plan, i, args.ranks)
    fits = scv.collect(d, plan)
    rows = sc.read_csv(os.path.join(d, "convergence.csv"))
    wall = sum({r["run"]: float(r["wall_s"]) for r in rows}.values())
    return {"dir": d, "fits": fits, "params": p, "png": os.path.join(d, "convergence.png"), "wall": wall,
            "runs": len(plan["runs"]), "note": metric_note}


# ------------------------------------------------------------------ figures


STYLE = {"pde": ("-", 1.8), "quantile": ("--", 1.4), "iid": (":", 1.8)}
TCOL = {"uniform": "C0", "cos": "C3"}


def fig_energy(results, ss, targets, path, slopes=False):
    fig, axes = sc.plt.subplots(1, len(ss), figsize=(3.7 * len(ss), 3.7), constrained_layout=True, squeeze=False)
    for ax, s in zip(axes[0], ss):
        done_pde = set()
        for res in results:
            if res["s"] != s:
                continue
            for f, (label, kind, t, E, floor) in zip(res["fits"], res["info"]["series"]):
                if kind == "pde" and res["target"] in done_pde:
                    continue
                if kind == "pde":
                    done_pde.add(res["target"])
                ls, lw = STYLE[kind]
                col = TCOL[res["target"]]
                ok = np.isfinite(E) & (E > 0) & (E > sr.valid_floor(res["r"], floor, 10.0))
                lab = f"{TARGETS[res['target']][2]}, {'PDE' if kind == 'pde' else kind}"
                if slopes:
                    tt, sl = sr.local_slope(t, E, s, ok)
                    ax.plot(tt, sl, ls, color=col, lw=lw, label=lab)
                    if math.isfinite(f["predicted"]) and kind != "iid":
                        ax.hlines(f["predicted"], f["t0"], f["t1"], colors="k", linestyles="-", lw=0.8, alpha=0.5)
                    if kind == "iid" and math.isfinite(f["predicted"]) and s > 1:
                        ax.hlines(f["predicted"], f["t0"], f["t1"], colors="0.5", linestyles="-.", lw=0.8)
                else:
                    tt = t[ok] if s == 1 else t[ok & (t > 0)]
                    EE = E[ok] if s == 1 else E[ok & (t > 0)]
                    (ax.semilogy if s == 1 else ax.loglog)(tt, EE, ls, color=col, lw=lw, label=lab)
                    if kind == "pde" and math.isfinite(f["predicted"]) and f["points"] >= 2:
                        w = ok & (t >= f["t0"]) & (t <= f["t1"])
                        tm = t[w]
                        if s == 1:
                            tl = np.linspace(tm.min(), tm.max(), 20)
                            ec = E[w][0] * 3
                            ax.semilogy(tl, ec * np.exp(-f["predicted"] * (tl - tm.min())), "-", color="k", lw=0.8, alpha=0.6)
                        else:
                            tl = np.geomspace(tm.min(), tm.max(), 20)
                            ec = E[w][0] * 3
                            ax.loglog(tl, ec * (tl / tm.min()) ** f["predicted"], "-", color="k", lw=0.8, alpha=0.6)
        ax.set_title(f"s = {s:g}" + ("  (semilog)" if s == 1 and not slopes else ""), fontsize=10)
        ax.set_xlabel("t")
        ax.grid(True, which="both", alpha=0.25)
        if slopes:
            if s == 1:
                ax.set_ylim(0, 4)
                ax.set_ylabel("local rate −d ln E/dt")
            else:
                ax.set_xscale("log")
                ax.set_ylim(-8 if s < 2 else -5, 0.5)
                ax.set_ylabel("local slope d ln E/d ln t")
        else:
            ax.set_ylabel("energy (particles: E_N − E_min)")
    axes[0][0].legend(fontsize=6.5, loc="lower left")
    what = ("local decay rate (s = 1) and log-log slope (s > 1); black: predicted (C.2/C.3; ours for the cos target), grey dash-dot: "
            "i.i.d. noise slope (ours)") if slopes else "energy (quantile particles coincide with the PDE); thin black: predicted law, offset ×3"
    fig.suptitle(f"d = 1, L = 2π: PDE (solid), quantile particles (dashed), i.i.d. particles (dotted) — {what}", fontsize=9)
    sc.savefig(fig, path, dpi=80)
    sc.plt.close(fig)


def fig_distance(results, ss, path, N):
    fig, axes = sc.plt.subplots(2, len(ss), figsize=(3.7 * len(ss), 5.6), constrained_layout=True, squeeze=False, sharex="col")
    for j, s in enumerate(ss):
        for res in results:
            if res["s"] != s:
                continue
            c = res["r"]["compare"]
            t = c["time"]
            col = TCOL[res["target"]]
            ls = "--" if res["pinit"] == "quantile" else ":"
            keep = t > 0 if s > 1 else np.ones_like(t, dtype=bool)
            lab = f"{TARGETS[res['target']][2]}, {res['pinit']}"
            axes[0][j].plot(t[keep], c["hminus"][keep], ls, color=col, lw=1.6, label=lab)
            if "w1" in c:
                axes[1][j].plot(t[keep], c["w1"][keep], ls, color=col, lw=1.6, label=lab)
        axes[1][j].axhline(TWO_PI / (4 * N), color="k", lw=0.8, alpha=0.6)
        axes[1][j].text(0.98, TWO_PI / (4 * N) * 1.2, "L/(4N)", transform=axes[1][j].get_yaxis_transform(), ha="right", fontsize=7)
        if s == 1:
            v = TWO_PI / (math.sqrt(12) * N)
            axes[0][j].axhline(v, color="k", lw=0.8, alpha=0.6)
            axes[0][j].text(0.98, v * 1.2, "L/(√12 N)", transform=axes[0][j].get_yaxis_transform(), ha="right", fontsize=7)
        for i in range(2):
            ax = axes[i][j]
            ax.set_yscale("log")
            if s > 1:
                ax.set_xscale("log")
            ax.grid(True, which="both", alpha=0.25)
        axes[0][j].set_title(f"s = {s:g}", fontsize=10)
        axes[1][j].set_xlabel("t")
    axes[0][0].set_ylabel("$\\|\\mu_N-\\rho\\|_{H^{-s}}$")
    axes[1][0].set_ylabel("circle $W_1(\\mu_N,\\rho)$")
    axes[0][0].legend(fontsize=6.5, loc="upper right")
    fig.suptitle(f"particles vs PDE, N = {N}: dashed quantile start, dotted i.i.d. start", fontsize=9)
    sc.savefig(fig, path, dpi=80)
    sc.plt.close(fig)


# ------------------------------------------------------------------ report


def version_line(r0):
    import h5py
    with h5py.File(r0, "r") as f:
        g = lambda k: (f.attrs[k].decode() if isinstance(f.attrs[k], bytes) else str(f.attrs[k])) if k in f.attrs else "?"
        petsc = g("petsc_version").replace("Petsc Release Version ", "").strip().rstrip(",")
        return f"kmdflow {g('kmdflow_version')} ({g('git_revision')}), {' '.join(g('build').split())}; PETSc {petsc}, {g('fftw_version')}"


def exponent_table(results):
    head = ["s", "ν", "series", "fit window", "fitted", "late half", "predicted", "E in modes 1–3 (t0 → t1)", "source of the prediction"]
    rows, seen = [], set()
    for res in results:
        for f in res["fits"]:
            key = (res["s"], res["target"], f["kind"])
            if key in seen:
                continue
            seen.add(key)
            win = f"t ∈ [{sc.fmt(f['t0'], '.3g')}, {sc.fmt(f['t1'], '.3g')}]"
            if res["s"] != 1 and math.isfinite(f.get("k0", float("nan"))):
                win += f", k* ∈ [{f['k0']:.2g}, {f['k1']:.2g}]"
            q = "rate " if res["s"] == 1 else "slope "
            extra = f"; max dev. from e^-2t {f['max_dev_from_exp2t']:.0e}" if "max_dev_from_exp2t" in f else ""
            rows.append([f"{res['s']:g}", TARGETS[res["target"]][2], "PDE" if f["kind"] == "pde" else f"particles, {f['kind']}",
                         win, f"{q}**{sc.fmt(f['fitted'])}** ± {sc.fmt(f['fitted_se'], '.1g')}{extra}", sc.fmt(f.get("fitted_late")), sr.pred_text(f),
                         sr.low_text(f), f["source"]])
    return sc.md_table(head, rows)


def write_report(args, size, results, conv, outdir, t_total, sizes_name):
    ss = args.s
    N, n = size["N"], size["n"]
    r0 = results[0]["path"]
    lines = []
    A = lines.append
    A("# kmdflow: the d = 1 experiments of math spec C.5 (our reconstruction)")
    A("")
    A("> **Not the paper's experiments.** Paper 2 (Chizat, Colombo, Colombo, Fernández-Real, arXiv 2603.01977) "
      "states only that it includes \"numerical experiments in dimension d = 1 using both PDE and particle methods\"; "
      "its initial data, targets, s values, N, grids and plots are unknown (math spec §C.5, tag [U]). What follows is "
      "the replication *proposed* in §C.5, run with kmdflow's compare mode, and the predictions are those derived in "
      "the math spec (§C.1–C.4, §C.6) or, where marked *ours*, in this report.")
    A("")
    A(f"Generated by `scripts/paper-report{' --full' if sizes_name == 'full' else ''}` on {time.strftime('%Y-%m-%d')} "
      f"({platform.node() or 'host'}, {os.cpu_count()} cores, {args.ranks} MPI ranks per run): "
      f"{(sum(r['wall'] for r in results) + sum(c['wall'] for c in conv)) / 60:.1f} min of kmdflow wall time "
      f"({len(results) + sum(c['runs'] for c in conv)} runs; this invocation {t_total / 60:.1f} min, finished runs are reused). "
      f"{version_line(r0)}.")
    A("")
    A("## Set-up")
    A("")
    init = (f"`powerlaw`: ρ₀ = 1 + a η/max|η|, |η̂(k)| = |k|^-{args.p:g}, random phases (seed {args.seed}), "
            f"a = {args.amp:g}, k ≤ n/3 − 1") if args.init == "powerlaw" else "`cos`: 1 + a[cos(x+0.3) + cos(2x+0.6)/2]/1.5"
    A(f"- Torus L = 2π (math spec §A.5: the reference period for rate experiments), d = 1, s ∈ {{{', '.join(f'{s:g}' for s in ss)}}}.")
    A(f"- Initial density {init}.")
    A("- Targets: ν ≡ 1, and ν = 1 + ½ cos(x + 0.3) (`-target cos -target_cos_amp 0.5 -target_cos_modes 1`; kmdflow's "
      "`cos` density puts a phase 0.3 on its first mode, so this is the §C.5 target 1 + ½ cos x rotated by 0.3, "
      "which changes nothing against a random-phase ρ₀).")
    A(f"- PDE: n = {n} grid points, pseudo-spectral, adaptive Dormand–Prince 5(4) (kmdflow's default, rtol = atol = 1e-8). "
      f"Particles: N = {N}, quantile start (X_i = F₀⁻¹((i − ½)/N)) and i.i.d. start, same ρ₀ and ν, exact pair sums, "
      "same stepper. Both in one `kmdflow -mode compare` run per (s, ν, start).")
    Ts = "; ".join(f"s = {s:g}: T = {final_time(s, n, size['tmax']):g}" + (" (24 for the cos target)" if s == 1 else "") for s in ss)
    A(f"- Final times: {Ts}. Time-scale pitfall (§A.5): for s > 1 the mode k decays at the rate (2π|k|/L)^(2−2s), "
      "so the power law of §C.3 appears only once the dominant mode k*(t) = (2t)^(1/(2s−2)) is well above 1, and "
      "must stop before k* reaches the grid's band (n/3) or, for particles, the particle spacing. For s = 3 that "
      "window opens at t ≈ 130 (k* = 4) and k* is only 12 at t = 10⁴ (21 at 10⁵); with L = 1 every time would be "
      "(2π)^(2s−2) ≈ 1.6·10³ (s = 3) times longer. Adaptive stepping keeps the cost at a few thousand steps.")
    chk = [res for res in results if res["s"] == 1 and res["target"] != "uniform"]
    chk = "; measured here: E_N(T)/E_min − 1 = " + ", ".join(
        f"{res['r']['compare']['energy_particles'][-1] / sc.lattice_energy(N, 1.0, TWO_PI) - 1:.1e} ({res['pinit']})" for res in chk) if chk else ""
    A("- Particle energies are shown and fitted above the lattice floor E_min = ζ(2s)(2πN/L)^(−2s) (§C.2, §C.4): "
      "the exact minimum for ν ≡ 1; for s = 1 and a smooth ν > 0 also the equilibrium energy up to a relative O(N⁻²) "
      f"(ours: the Cramér–von Mises sawtooth of §C.2, cell by cell{chk}); for s > 1 and ν ≠ 1 only a leading-order floor (measured: the quantile particles settle 0.5 E_min above it for s = 2), so those fits stop where E_N − E_min < 10 E_min.")
    A("")
    A("Commands (each run's full command line is the first line of its log in `runs/`):")
    A("")
    A("```")
    ex = results[0]
    A("mpiexec -n %d kmdflow %s -output runs/%s.h5" % (args.ranks, " ".join(ex["args"]), ex["name"]))
    A("```")
    A("")
    A("## Energy decay")
    A("")
    A("![energy](fig-energy.png)")
    A("")
    A("![local slopes](fig-slopes.png)")
    A("")
    A("Predictions:")
    A("")
    A("- **s = 1, ν ≡ 1** (§C.2, G5): E(t) = E(0) e^(−2t) exactly in 1-D, for the PDE and for the particles "
      "(E_N − E_min = (E_N(0) − E_min) e^(−2t), any start), within the C.1 bound E(0)e^(−2t)/(m₀+(1−m₀)e^(−t))². "
      "Fitted: the decay rate on t ∈ [0.2T, T] and the largest relative deviation from e^(−2t).")
    A("- **s = 1, ν ≥ ν_min > 0** (§C.1 item 5): E(t) ≤ E(0) e^(−2 min(m₀, ν_min) t). *Ours:* linearising the "
      "1-D dynamics about ν (displacement Ψ of the quantiles, ∂_tΨ = −νΨ + ⟨νΨ⟩ with ⟨Ψ⟩ = 0), the slowest part "
      "concentrates where ν is smallest, and the mean-zero constraint cancels its leading Laplace term, so "
      "E ≈ C e^(−2ν_min t) t^(−3/2): the local rate is 2ν_min + 3/(2t), and the rate fitted on [t₀, t₁] = [T/2, T] "
      "is 2ν_min + (3/2) ln(t₁/t₀)/(t₁ − t₀). Here ν_min = ½ (asymptotic rate 1).")
    A("- **s > 1, ν ≡ 1** (§C.3, G9): E(t) ~ t^(−(2s+2p−d)/(2s−2)) for |η̂₀(k)| ~ |k|^(−p): with p = %g, d = 1: %s. "
      "Fitted on the window k*(t) ∈ [4, min(n/3, k_max)/4] (particles also k* ≤ N/8). *Ours:* i.i.d. particles carry "
      "a sampling noise with a flat spectrum (E|μ̂_N(k) − ρ̂(k)|² ≈ 1/N, p = 0), whose slope −(2s−d)/(2s−2) (%s) is "
      "shallower and wins once the noise dominates (one realisation: the few modes near k* carry χ² fluctuations, "
      "hence the wiggles of its local slope)." % (
          args.p, ", ".join(f"s = {s:g}: {sc.c3_exponent(s, args.p):.3g}" for s in ss if s > 1),
          ", ".join(f"s = {s:g}: {-(2 * s - 1) / (2 * s - 2):.3g}" for s in ss if s > 1)))
    A("- **s > 1, ν = 1 + ½cos**: §C.3 is derived for ν ≡ 1 (\"tight for uniform ν\"); there is no prediction. The "
      "table lists the ν ≡ 1 exponent as a reference and the share of the PDE energy in the lowest modes 0 < |k| ≤ 3 "
      "at the window's ends: when it is large, the energy is not carried by the dominant mode k*(t) of §C.3 and the "
      "power law is not expected in that window. 'late half' is the slope on the later half (in log t) of the window.")
    A("")
    A("### Fitted vs predicted exponents")
    A("")
    A(exponent_table(results))
    A("")
    A("## Particles vs PDE")
    A("")
    A("![distances](fig-distance.png)")
    A("")
    A(f"The H^-s distance (exact, through the particle energy) and the circle W₁ between the particles and the PDE "
      f"density at every output time, N = {N}. For s = 1 the quantile particles are the midpoint quantiles of the PDE's "
      f"characteristics (§C.2): W₁ = L/(4N) = {TWO_PI / (4 * N):.3e} and H^-1 = L/(√12 N) = {TWO_PI / (math.sqrt(12) * N):.3e} "
      "at all times, for either target. The i.i.d. distances start at the §C.6 expectation and, for s = 1, decay like e^(−t) "
      "toward the quantile values.")
    A("")
    if conv:
        A("### Rates in N (G11, G12)")
        A("")
        for c in conv:
            rel = os.path.relpath(c["png"], outdir)
            A(f"**{c['note']}** ({c['runs']} runs, {c['wall']:.0f} s; data in `{os.path.relpath(c['dir'], outdir)}/`)")
            A("")
            A(f"![{c['note']}]({rel})")
            A("")
            A(scv.fits_table(c["fits"], c["params"]))
            A("")
        A("Predicted slopes: quantile start, s = 1: −1, with the exact values L/(4N) (W₁) and L/(√12 N) (H^-1) "
          "(§C.2, G11); i.i.d. start: −1/2 (G11 for W₁ at t = 0, G12 for H^-s at fixed t), the root mean square over "
          "seeds matching the §C.6 expectation at t = 0 (column 'RMS / i.i.d. expectation'). At t > 0 with s = 1 the "
          "i.i.d. W₁ moves from N^(−1/2) toward the L/(4N) floor (G11), so its fitted slope steepens.")
        A("")
    A("## Runs")
    A("")
    rows = [[res["name"], f"{res['s']:g}", res["target"], res["pinit"], f"{res['T']:g}", f"{res['wall']:.1f}"] for res in results]
    A(sc.md_table(["run", "s", "ν", "start", "T", "wall (s)"], rows))
    A("")
    A("Files: `runs/NAME.h5` (compare-mode output, see docs/compare.md), `runs/NAME.log`, `exponents.csv` (all fits), "
      "the figures above, and the convergence studies' directories.")
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    args = parser().parse_args(argv)
    args.outdir = os.path.abspath(args.outdir)
    sizes_name = "full" if args.full else "quick"
    size = dict(SIZES[sizes_name])
    for k in ("n", "N", "tmax", "records"):
        if getattr(args, k) is not None:
            size[k] = getattr(args, k)
    try:
        args.s = [float(x) for x in args.s.split(",") if x]
        args.targets = [x for x in args.targets.split(",") if x]
        for tname in args.targets:
            if tname not in TARGETS:
                raise sc.StudyError(f"--targets {tname}: expected uniform or cos")
        t_start = time.time()
        os.makedirs(os.path.join(args.outdir, "runs"), exist_ok=True)
        sc.kmdflow_path()
        results = []
        for run in plan_runs(args, size):
            path, wall, cached = run_cached(run, args.outdir, args.ranks, args.force)
            r = sc.read_compare(path)
            fits, info = sr.analyse(r, p=args.p if args.init == "powerlaw" else None, name=run["name"])
            results.append(dict(run, path=path, wall=wall, r=r, fits=fits, info=info))
        conv = []
        if not args.no_convergence:
            for tname in args.targets:
                conv.append(convergence(args, size, args.outdir, f"g11-{tname}", 1.0, tname, ["quantile", "iid"], [0.0, 1.0],
                                        f"G11: s = 1, {TARGETS[tname][2]}, quantile and i.i.d., t = 0 and 1"))
            if "uniform" in args.targets:
                conv.append(convergence(args, size, args.outdir, "g12-uniform", 2.0, "uniform", ["iid"], [0.0, 10.0],
                                        "G12: s = 2, ν ≡ 1, i.i.d., t = 0 and 10", seeds=size["g12_seeds"]))
        fig_energy(results, args.s, args.targets, os.path.join(args.outdir, "fig-energy.png"))
        fig_energy(results, args.s, args.targets, os.path.join(args.outdir, "fig-slopes.png"), slopes=True)
        fig_distance(results, args.s, os.path.join(args.outdir, "fig-distance.png"), size["N"])
        allfits = [dict(f, run=res["name"]) for res in results for f in res["fits"]]
        sc.write_csv(os.path.join(args.outdir, "exponents.csv"), allfits, ["run"] + sr.COLUMNS)
        write_report(args, size, results, conv, args.outdir, time.time() - t_start, sizes_name)
        print(exponent_table(results))
        sc.say(PROG, f"wrote {args.outdir}/report.md ({(time.time() - t_start) / 60:.1f} min)")
        return 0
    except sc.StudyError as exc:
        return sc.die(PROG, exc)


if __name__ == "__main__":
    sys.exit(main())
