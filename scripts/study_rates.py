#!/usr/bin/python3
"""study_rates.py - energy decay of the PDE and of the particles against time, fitted against the math spec.

Reads one or several finished `kmdflow -mode compare` files (or, with --run, makes them first) and fits:

  s = 1 (semilog): the decay rate r of E ~ e^{-r t} on a window [t0, t1].
      uniform target: r = 2, exactly for d = 1 (C.2, G5: E(t) = E(0) e^{-2t}); any d: the C.1 item 4 bound
      E(t) <= E(0) e^{-2t}/(m0 + (1 - m0) e^{-t})^2, m0 = min rho_0, is drawn. Particles: E_N - E_min with
      E_min = zeta(2) (2 pi N/L)^-2 decays exactly as e^{-2t} in 1-D (C.2).
      target nu >= nu_min > 0: C.1 item 5 bound E(t) <= E(0) e^{-2 min(m0, nu_min) t}. Ours (not in the spec):
      linearising about nu, E ~ C e^{-2 nu_min t} t^{-3/2}, so the rate fitted on [t0, t1] (default [T/2, T])
      is 2 nu_min + (3/2) ln(t1/t0)/(t1 - t0), tending to 2 nu_min.
  s > 1 (log-log): the slope of log E against log t in the observability window of C.3/G9, i.e. the times
      at which the dominant mode k*(t) = (2 t (2 pi/L)^{2-2s})^{1/(2s-2)} lies in [k_lo, k_hi]
      (default k_lo = 4, k_hi = min(n/3, kmax)/4, for particles also <= N/8). Prediction for a powerlaw
      start |eta^(k)| ~ |k|^-p: -(2s+2p-d)/(2s-2) (C.3, G9). i.i.d. particles carry sampling noise with a
      flat spectrum (p = 0), whose decay -(2s-d)/(2s-2) dominates late (ours: C.3 with p = 0).
      C.3 is derived for nu = 1: for other targets the fit is reported with the C.3 value as a reference only.
  Particle energies are taken above the lattice floor E_min = zeta(2s) (2 pi N/L)^{-2s} (C.2, C.4), exact for
  nu = 1 and, for s = 1, for any smooth nu > 0 up to O(N^-2); otherwise fitted only while
  E_N - E_min > (floor factor) E_min.

Usually called through scripts/study-rates (see --help there).
"""
import argparse
import math
import os
import shlex
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study_common as sc  # noqa: E402

PROG = "study-rates"
TWO_PI = 2 * math.pi


def parser():
    ap = argparse.ArgumentParser(
        prog=PROG, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Energy of the PDE and of the particles against time from kmdflow compare runs: semilog "
                    "rate for s = 1 (C.1, C.2, G5), log-log slope for s > 1 (C.3, G9), fitted vs predicted.",
        epilog="""examples:
  scripts/study-rates out/c1.h5 out/c2.h5                   # analyse finished compare runs
  scripts/study-rates --run --s 1,2 -o out/rates            # run 1-D compare runs (L = 2 pi, powerlaw p = 1.5), analyse
  scripts/study-rates --run --s 3 --T 10000 --particle-init quantile,iid -o out/rates-s3
outputs in DIR (default out/rates): rates.csv and rates.md (one row per file and series), rates-NAME.png
(energy and local slope per file); with --run also runs/NAME.{h5,log}.
environment: KMDFLOW (default build/kmdflow), MPIEXEC (default mpiexec).""")
    ap.add_argument("files", nargs="*", help="finished -mode compare HDF5 files")
    ap.add_argument("-o", "--outdir", default=os.path.join(sc.ROOT, "out", "rates"), help="output directory (default out/rates)")
    ap.add_argument("--p", type=float, help="spectral exponent p of rho_0 - nu (default: -init_powerlaw_p of a powerlaw start, 1.5 if not given)")
    ap.add_argument("--kwin", help="k_lo,k_hi of the s > 1 window in units of the dominant mode k* (default 4,auto)")
    ap.add_argument("--twin", help="t0,t1: fit window in time (overrides --kwin; default for s = 1: 0.2T,T for nu = 1, else T/2,T)")
    ap.add_argument("--floor-factor", type=float, default=10.0, help="s > 1, non-uniform target: fit particles only where E_N - E_min > this x E_min (default 10)")
    r = ap.add_argument_group("--run: make the compare runs first (d = 1)")
    r.add_argument("--run", action="store_true", help="run one compare run per s and particle init, then analyse them with the files")
    r.add_argument("--s", default="1,2", help="Sobolev orders (default 1,2)")
    r.add_argument("--L", type=float, default=TWO_PI, help="period (default 2 pi; see math spec A.5 for L = 1)")
    r.add_argument("--n", type=int, default=512, help="PDE grid (default 512)")
    r.add_argument("--N", type=int, default=1000, help="particles (default 1000)")
    r.add_argument("--particle-init", default="quantile", help="quantile, iid or both (default quantile)")
    r.add_argument("--init", default="powerlaw", help="initial density (default powerlaw)")
    r.add_argument("--init-args", default="-init_powerlaw_p 1.5 -init_powerlaw_amp 0.1", help='its options (default "-init_powerlaw_p 1.5 -init_powerlaw_amp 0.1")')
    r.add_argument("--target", default="uniform", help="target density (default uniform)")
    r.add_argument("--target-args", default="", help='its options, e.g. "-target_cos_amp 0.5 -target_cos_modes 1"')
    r.add_argument("--T", help="final times: one for all, or s=T pairs, e.g. 1=8,2=1000 (default: until k* = k_hi, at most --tmax; s = 1: 8)")
    r.add_argument("--tmax", type=float, default=1e4, help="cap of the automatic final time (default 1e4)")
    r.add_argument("--records", type=int, default=100, help="output records per run (default 100; W1 costs ~0.1 ms per particle and record)")
    r.add_argument("--seed", type=int, default=1, help="-seed (powerlaw phases and i.i.d. draws; default 1)")
    r.add_argument("--ranks", type=int, default=2, help="MPI ranks (default 2)")
    r.add_argument("--kmdflow-args", default="", help="extra kmdflow options for every run")
    return ap


# ------------------------------------------------------------------ helpers


def _opt(r, key, default=None):
    v = r["options"].get(key)
    return default if v is None or v == "" else v


def powerlaw_p(r, override=None):
    """p of |eta^(k)| ~ |k|^-p: override, else -init_powerlaw_p of a powerlaw start (default 1.5), else None."""
    if override is not None:
        return override
    if r["init"] == "powerlaw":
        return float(_opt(r, "-init_powerlaw_p", 1.5))
    return None


def spectrum_kmax(r):
    n = min(r["grid"])
    if r["init"] == "powerlaw":
        return int(_opt(r, "-init_powerlaw_kmax", max(1, n // 3 - 1)))
    return n // 3


_density_cache = {}


def target_density(r, ranks=1):
    """The target on the run's grid: ones for uniform, else from a kmdflow run to t = 0 with -init <target>
    (the target is not stored in the file; docs/output.md)."""
    if r["target"] == "uniform":
        return np.ones(r["grid"])
    extra = [(k.replace("-target_", "-init_", 1), v) for k, v in r["options"].items() if k.startswith("-target_")]
    key = (r["target"], tuple(extra), tuple(r["grid"]), r["L"], r["seed"])
    if key not in _density_cache:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "nu.h5")
            args = ["-mode", "pde", "-dim", str(r["d"]), "-n", ",".join(map(str, r["grid"])), "-L", repr(r["L"]),
                    "-init", r["target"], "-seed", str(r["seed"]), "-ts_max_time", "0", "-quiet"]
            for k, v in extra:
                args += [k] + ([v] if v != "" else [])
            sc.run_kmdflow(args, out, os.path.join(tmp, "nu.log"), ranks, PROG)
            with sc.h5py.File(out, "r") as f:
                _density_cache[key] = np.asarray(f["pde/rho"][0], dtype=float)
    return _density_cache[key]


def target_min(r):
    return float(np.min(target_density(r)))


def low_mode_share(r, t, kcut=3):
    """Share of the PDE energy (1/2) sum lambda |rho^ - nu^|^2 carried by 0 < |k| <= kcut at the record nearest t
    (1-D): shows whether the dominant-mode picture of C.3 applies (it needs the energy at k ~ k*(t), not at k = 1)."""
    if r["d"] != 1 or not math.isfinite(t):
        return float("nan")
    with sc.h5py.File(r["path"], "r") as f:
        times = np.asarray(f["pde/time"])
        i = int(np.argmin(np.abs(times - t)))
        rho = np.asarray(f["pde/rho"][i], dtype=float)
    n = rho.size
    h = np.fft.rfft(rho - target_density(r)) / n
    k = np.arange(h.size, dtype=float)
    e = np.zeros_like(k)
    e[1:] = (2 * math.pi * k[1:] / r["L"]) ** (-2 * r["s"]) * np.abs(h[1:]) ** 2
    if n % 2 == 0:
        e[-1] = 0  # Nyquist
    tot = e.sum()
    return float(e[1:kcut + 1].sum() / tot) if tot > 0 else float("nan")


def series_of(r):
    """[(label, kind, t, E, floor)]: the PDE energy, and the particle energy above the lattice floor."""
    c = r["compare"]
    t = c["time"]
    emin = sc.lattice_energy(r["N"], r["s"], r["L"], r["d"])
    if not math.isfinite(emin):
        emin = 0.0
    return [("PDE", "pde", t, c["energy_pde"], 0.0),
            (f"particles ({r['particle_init']}, N = {r['N']})", r["particle_init"], t, c["energy_particles"] - emin, emin)]


def valid_floor(r, floor, floor_factor):
    """Below this a particle energy above E_min is not trusted.
    1-D, uniform target: E_min is exact (the lattice minimum), so only round-off (~1e-16 K(0) per pair sum,
    docs/particles.md) limits E_N - E_min. 1-D, s = 1, any smooth target nu > 0: the equilibrium
    F_nu(X_i) = (i - 1/2)/N + c (C.2) has E = (1/(24 N^2)) L^2 (1 + O(N^-2)) = E_min (1 + O(N^-2)) (the
    Cramer-von Mises sawtooth, cell by cell; measured: within 3e-9 E_min for N = 1000, nu = 1 + cos/2), so
    E_N - E_min is good down to ~E_min/N^2. Points are kept 10x above these levels. Otherwise (s > 1,
    non-uniform nu) the floor depends on nu and the fit stops at floor_factor x E_min."""
    if floor <= 0:
        return 0.0
    if r["d"] == 1 and (r["target"] == "uniform" or r["s"] == 1):
        k0 = 2 * sc.zeta(2 * r["s"]) * (2 * math.pi / r["L"]) ** (-2 * r["s"])
        return 10 * (1e-13 * k0 + (0.0 if r["target"] == "uniform" else floor / r["N"] ** 2))
    return floor_factor * floor


def parse_pair(text, name):
    try:
        a, b = text.split(",")
        return float(a), (None if b.strip() in ("", "auto") else float(b))
    except ValueError:
        raise sc.StudyError(f"{name} {text}: expected two comma-separated numbers (the second may be 'auto')")


# ------------------------------------------------------------------ analysis


def analyse(r, p=None, kwin=None, twin=None, floor_factor=10.0, name=None):
    """Fits for the series of one compare file. Returns (fits, info) where info carries what the plot needs."""
    s, L, d, N, T = r["s"], r["L"], r["d"], r["N"], float(r["compare"]["time"][-1])
    m0 = float(r["pde"]["rho_min"][0])
    uniform = r["target"] == "uniform"
    numin = target_min(r)
    pp = powerlaw_p(r, p)
    info = {"s": s, "L": L, "d": d, "N": N, "T": T, "m0": m0, "nu_min": numin, "uniform": uniform, "p": pp,
            "name": name or os.path.splitext(os.path.basename(r["path"]))[0], "series": series_of(r), "windows": {}}
    fits = []
    for label, kind, t, E, floor in info["series"]:
        fit = {"file": info["name"], "s": s, "L": L, "n": r["grid"][0], "N": N, "target": r["target"], "init": r["init"],
               "p": pp if pp is not None else float("nan"), "series": label, "kind": kind}
        ok = np.isfinite(E) & (E > 0) & (E > valid_floor(r, floor, floor_factor))
        if s == 1:
            t0, t1 = ((0.2 if uniform else 0.5) * T, T) if twin is None else twin
            w = ok & (t >= t0 - 1e-12) & (t <= t1 + 1e-12)
            b, _, se = sc.fit_line(t[w], np.log(E[w]))
            fit.update(quantity="rate r in E ~ exp(-r t)", fitted=-b, fitted_se=se, t0=float(t[w].min()) if w.any() else float("nan"),
                       t1=float(t[w].max()) if w.any() else float("nan"), points=int(w.sum()))
            if uniform:
                fit.update(predicted=2.0, source="C.2/G5: E(t) = E(0) e^{-2t} (d = 1)" if d == 1 else "C.1 bound: rate -> 2")
                if d == 1 and w.any():
                    i0 = np.argmax(ok)
                    rel = E[ok] / (E[i0] * np.exp(-2 * (t[ok] - t[i0]))) - 1
                    fit["max_dev_from_exp2t"] = float(np.max(np.abs(rel)))
            elif w.sum() >= 2:
                # ours: linearising about nu, E ~ C exp(-2 nu_min t) t^{-3/2} (the mean-zero constraint removes the
                # t^{-1/2} term of the Laplace integral), so the rate fitted on [t0, t1] is
                # 2 nu_min + (3/2) ln(t1/t0)/(t1 - t0)
                a0, a1 = fit["t0"], fit["t1"]
                fit.update(predicted=2 * numin + 1.5 * math.log(a1 / a0) / (a1 - a0),
                           source=f"ours: E ~ e^(-2 nu_min t) t^(-3/2), nu_min = {numin:.3g} (asymptotic rate {2 * numin:.3g}); "
                                  f"C.1.5 bound: rate >= 2 min(m0, nu_min) = {2 * min(m0, numin):.3g}")
            else:
                fit.update(predicted=float("nan"), source="window empty")
            info["windows"][kind] = (fit["t0"], fit["t1"])
        else:
            kmax = spectrum_kmax(r)
            klo, khi = (4.0, None) if kwin is None else kwin
            if khi is None:
                khi = min(min(r["grid"]) / 3, kmax) / 4
                if kind != "pde":
                    khi = min(khi, N / 8)
            if twin is None:
                t0, t1 = sc.time_of_kstar(klo, s, L), sc.time_of_kstar(khi, s, L)
            else:
                t0, t1 = twin
            w = ok & (t > 0) & (t >= t0 * (1 - 1e-12)) & (t <= t1 * (1 + 1e-12))
            b, _, se = sc.fit_loglog(t[w], E[w])
            tw = t[w]
            if len(tw) >= 4:  # the later half of the window (in log t): shows whether the slope has settled
                wl = w & (t >= math.sqrt(tw.min() * tw.max()))
                fit["fitted_late"] = sc.fit_loglog(t[wl], E[wl])[0]
            fit.update(quantity="slope of log E vs log t", fitted=b, fitted_se=se,
                       t0=float(tw.min()) if len(tw) else float("nan"), t1=float(tw.max()) if len(tw) else float("nan"),
                       points=int(w.sum()), k0=float(sc.kstar(tw.min(), s, L)) if len(tw) else float("nan"),
                       k1=float(sc.kstar(tw.max(), s, L)) if len(tw) else float("nan"))
            if kind == "iid":
                ref, src = -(2 * s - d) / (2 * s - 2), "i.i.d. noise, flat spectrum: C.3 with p = 0 (ours)"
            elif pp is not None:
                ref, src = sc.c3_exponent(s, pp, d), f"C.3/G9, p = {pp:g}"
            else:
                ref, src = float("nan"), "no power-law spectrum (give --p)"
            fit["reference"] = ref
            if uniform:
                fit.update(predicted=ref, source=src)
            else:
                # C.3 is derived for nu = 1 ("tight for uniform nu"); nothing is predicted for other targets
                fit.update(predicted=float("nan"),
                           source=f"none for non-uniform nu (C.3 is for nu = 1); {src}: {sc.fmt(ref)} shown for reference")
            info["windows"][kind] = (fit["t0"], fit["t1"])
            if kind == "pde":
                fit["low_share_t0"] = low_mode_share(r, fit["t0"])
                fit["low_share_t1"] = low_mode_share(r, fit["t1"])
            if len(tw) < 4:
                fit["source"] += f"; window not reached (k* in [{klo:g}, {khi:g}] is t in [{t0:.3g}, {t1:.3g}], run to T = {T:g})"
        fits.append(fit)
    return fits, info


def local_slope(t, E, s, ok):
    """-(d ln E/dt) for s = 1, d ln E/d ln t for s > 1 (centred differences on the points that pass ok)."""
    t, E = t[ok], E[ok]
    if s == 1:
        if len(t) < 3:
            return t, np.full_like(t, np.nan)
        return t, -np.gradient(np.log(E), t)
    pos = t > 0
    t, E = t[pos], E[pos]
    if len(t) < 3:
        return t, np.full_like(t, np.nan)
    return t, np.gradient(np.log(E), np.log(t))


def plot_file(r, fits, info, path, floor_factor=10.0):
    s, L = info["s"], info["L"]
    fig, (ax, bx) = sc.plt.subplots(1, 2, figsize=(11.5, 4.3), constrained_layout=True)
    colors = {"pde": "C0", "quantile": "C1", "iid": "C2", "lattice": "C4"}
    for (label, kind, t, E, floor), f in zip(info["series"], fits):
        ok = np.isfinite(E) & (E > 0)
        okf = ok & (E > valid_floor(r, floor, floor_factor))
        c = colors.get(kind, "C5")
        (ax.semilogy if s == 1 else ax.loglog)(t[ok] if s == 1 else t[ok & (t > 0)], E[ok] if s == 1 else E[ok & (t > 0)],
                                               "-", color=c, lw=1.6, label=label + (" − E_min" if floor > 0 else ""))
        tt, sl = local_slope(t, E, s, okf)
        bx.plot(tt, sl, "-", color=c, lw=1.2, label=f"{label}: fit {sc.fmt(f['fitted'])} (pred {sc.fmt(f['predicted'])})")
        if math.isfinite(f.get("t0", float("nan"))):
            if kind == "pde":
                ax.axvspan(f["t0"], f["t1"], color=c, alpha=0.07)
                bx.axvspan(f["t0"], f["t1"], color=c, alpha=0.07)
            if not math.isfinite(f["predicted"]) and math.isfinite(f.get("reference", float("nan"))):
                bx.hlines(f["reference"], f["t0"], f["t1"], colors=c, linestyles=":", lw=1.0, alpha=0.7)
            if math.isfinite(f["predicted"]):
                bx.hlines(f["predicted"], f["t0"], f["t1"], colors=c, linestyles="--", lw=1.2)
                # the predicted law through the middle of the fitted data
                w = okf & (t >= f["t0"]) & (t <= f["t1"])
                if w.sum() >= 2:
                    tm = t[w]
                    if s == 1:
                        tc = 0.5 * (tm.min() + tm.max())
                        ec = math.exp(np.interp(tc, tm, np.log(E[w])))
                        tl = np.linspace(tm.min(), tm.max(), 50)
                        ax.semilogy(tl, ec * np.exp(-f["predicted"] * (tl - tc)), "--", color="k", lw=0.9, alpha=0.7)
                    else:
                        tc = math.exp(0.5 * (math.log(tm.min()) + math.log(tm.max())))
                        ec = math.exp(np.interp(math.log(tc), np.log(tm), np.log(E[w])))
                        tl = np.geomspace(tm.min(), tm.max(), 50)
                        ax.loglog(tl, ec * (tl / tc) ** f["predicted"], "--", color="k", lw=0.9, alpha=0.7)
        if floor > 0:
            ax.axhline(floor, color=c, ls=":", lw=1, alpha=0.8, label=f"E_min (lattice) = {floor:.2e}")
    if s == 1:
        t = info["series"][0][2]
        E = info["series"][0][3]
        tl = np.linspace(0, t[-1], 200)
        m0, e0 = info["m0"], E[0]
        if info["uniform"] and 0 < m0 <= 1:
            ax.semilogy(tl, e0 * np.exp(-2 * tl) / (m0 + (1 - m0) * np.exp(-tl)) ** 2, ":", color="C3", lw=1.5,
                        label=f"C.1 bound, m0 = {m0:.3g}")
        elif not info["uniform"]:
            rb = 2 * min(m0, info["nu_min"])
            ax.semilogy(tl, e0 * np.exp(-rb * tl), ":", color="C3", lw=1.5, label=f"C.1.5 bound e^(-{rb:.3g} t)")
        ax.set_xlabel("t")
        bx.set_xlabel("t")
        bx.set_ylabel("local rate  −d ln E/dt")
        bx.set_ylim(0, 4)
    else:
        bx.set_xscale("log")
        bx.set_xlabel("t")
        bx.set_ylabel("local slope  d ln E / d ln t")
        preds = [f[k] for f in fits for k in ("predicted", "reference") if math.isfinite(f.get(k, float("nan")))]
        lo = min(preds + [-1]) * 2.2
        bx.set_ylim(lo, 0.5)
        ax.set_xlabel("t")
        sec = bx.secondary_xaxis("top", functions=(lambda x: sc.kstar(np.maximum(x, 1e-300), s, L),
                                                     lambda k: sc.time_of_kstar(np.maximum(k, 1e-300), s, L)))
        sec.set_xlabel("dominant mode k*(t)", fontsize=8)
    ax.set_ylabel("energy")
    ax.grid(True, which="both", alpha=0.25)
    bx.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="lower left")
    bx.legend(fontsize=7, loc="lower left" if s > 1 else "upper right")
    tgt = r["target"] if info["uniform"] else f"{r['target']} (min {info['nu_min']:.3g})"
    fig.suptitle(f"{info['name']}: d = {info['d']}, s = {s:g}, L = {sc.fmt_L(L)}, n = {r['grid'][0]}, N = {info['N']}, "
                 f"init {r['init']}" + (f" (p = {info['p']:g})" if info["p"] is not None else "") + f", target {tgt}"
                 + "   shaded: fit window (PDE), dashed: prediction", fontsize=9)
    sc.savefig(fig, path)
    sc.plt.close(fig)


COLUMNS = ["file", "s", "L", "n", "N", "target", "init", "p", "series", "quantity", "t0", "t1", "k0", "k1", "points",
           "fitted", "fitted_se", "fitted_late", "predicted", "reference", "source", "max_dev_from_exp2t", "low_share_t0", "low_share_t1"]


def pred_text(f):
    if math.isfinite(f.get("predicted", float("nan"))):
        return sc.fmt(f["predicted"])
    if math.isfinite(f.get("reference", float("nan"))):
        return f"— (ref. {sc.fmt(f['reference'])})"
    return "—"


def low_text(f):
    a, b = f.get("low_share_t0", float("nan")), f.get("low_share_t1", float("nan"))
    if not (math.isfinite(a) and math.isfinite(b)):
        return ""
    return f"{100 * a:.0f}% → {100 * b:.0f}%"


def table(fits):
    head = ["run", "s", "target", "series", "window", "fitted", "late half", "predicted", "E in modes 1–3 (t0 → t1)", "source"]
    rows = []
    for f in fits:
        win = f"t ∈ [{sc.fmt(f['t0'], '.3g')}, {sc.fmt(f['t1'], '.3g')}]"
        if f["s"] != 1 and math.isfinite(f.get("k0", float("nan"))):
            win += f", k* ∈ [{f['k0']:.3g}, {f['k1']:.3g}]"
        what = "rate " if f["s"] == 1 else "slope "
        dev = f" (max dev. from e^-2t: {f['max_dev_from_exp2t']:.1e})" if "max_dev_from_exp2t" in f else ""
        rows.append([f["file"], f"{f['s']:g}", f["target"], f["series"], win,
                     what + f"{sc.fmt(f['fitted'])} ± {sc.fmt(f['fitted_se'], '.2g')}" + dev, sc.fmt(f.get("fitted_late")), pred_text(f), low_text(f),
                     f["source"]])
    return sc.md_table(head, rows)


# ------------------------------------------------------------------ runs


def round2(x):
    """x rounded up to two significant digits (final times like 1100 rather than 1071.4)."""
    e = 10 ** (math.floor(math.log10(x)) - 1)
    return math.ceil(x / e - 1e-9) * e


def auto_T(s, L, n, tmax):
    """s = 1: 8 (E falls by e^-16); s > 1: until the dominant mode k* reaches the PDE window's upper end
    min(n/3, kmax)/4 (C.3), capped at tmax (A.5: with L = 1 the times are (2 pi)^{2s-2} longer)."""
    if s == 1:
        return 8.0
    khi = min(n / 3, n // 3 - 1) / 4
    return float(min(round2(1.2 * sc.time_of_kstar(khi, s, L)), tmax))


def final_times(text, ss, L, n, tmax):
    out = {s: auto_T(s, L, n, tmax) for s in ss}
    if text:
        if "=" not in text:
            return {s: float(text) for s in ss}
        for part in text.split(","):
            k, v = part.split("=")
            out[float(k)] = float(v)
    return out


def make_runs(args):
    ss = [float(x) for x in args.s.split(",") if x]
    pinits = [x for x in args.particle_init.split(",") if x]
    Ts = final_times(args.T, ss, args.L, args.n, args.tmax)
    files = []
    for s in ss:
        for pinit in pinits:
            T = Ts[s]
            name = f"s{s:g}-{pinit}"
            h5 = os.path.join(args.outdir, "runs", name + ".h5")
            a = ["-mode", "compare", "-dim", "1", "-n", str(args.n), "-s", repr(s), "-L", repr(args.L),
                 "-init", args.init] + shlex.split(args.init_args) + ["-target", args.target] + shlex.split(args.target_args) + \
                ["-particles", str(args.N), "-particle_init", pinit, "-seed", str(args.seed), "-ts_max_time", repr(T),
                 "-output_dt", repr(T / args.records), "-quiet"] + shlex.split(args.kmdflow_args)
            sc.say(PROG, f"running {name}: T = {T:g}, n = {args.n}, N = {args.N} on {args.ranks} rank(s)")
            wall = sc.run_kmdflow(a, h5, h5[:-3] + ".log", args.ranks, PROG)
            sc.say(PROG, f"{name}: {wall:.1f} s")
            files.append(h5)
    return files


def analyse_files(files, outdir, p=None, kwin=None, twin=None, floor_factor=10.0, names=None, quiet=False):
    allfits, pngs = [], []
    os.makedirs(outdir, exist_ok=True)
    for i, path in enumerate(files):
        r = sc.read_compare(path)
        name = names[i] if names else None
        fits, info = analyse(r, p, kwin, twin, floor_factor, name)
        png = os.path.join(outdir, f"rates-{info['name']}.png")
        plot_file(r, fits, info, png, floor_factor)
        pngs.append(png)
        allfits += fits
    sc.write_csv(os.path.join(outdir, "rates.csv"), allfits, COLUMNS)
    md = table(allfits)
    with open(os.path.join(outdir, "rates.md"), "w") as f:
        f.write(md + "\n")
    if not quiet:
        print(md)
        sc.say(PROG, f"wrote {outdir}/rates.csv, rates.md, " + ", ".join(os.path.basename(x) for x in pngs))
    return allfits, pngs


def main(argv=None):
    args = parser().parse_args(argv)
    args.outdir = os.path.abspath(args.outdir)
    try:
        kwin = parse_pair(args.kwin, "--kwin") if args.kwin else None
        twin = parse_pair(args.twin, "--twin") if args.twin else None
        if twin is not None and twin[1] is None:
            twin = (twin[0], math.inf)
        files = list(args.files)
        if args.run:
            files += make_runs(args)
        if not files:
            raise sc.StudyError("no input: give compare-mode files, or --run")
        analyse_files(files, args.outdir, args.p, kwin, twin, args.floor_factor)
        return 0
    except sc.StudyError as exc:
        return sc.die(PROG, exc)


if __name__ == "__main__":
    sys.exit(main())
