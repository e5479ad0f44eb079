#!/usr/bin/python3
"""Checks of kmdflow's gradient-flow geometries (-flow wasserstein|fisher_rao|wfr, -sigma, -reference,
-energy) against the math spec (shared/spec/math.md A.4, D.1, D.2 (the PDE form of G13), D.7, F.1, G14).

frkl      D.2: the PDE Fisher-Rao flow of sigma KL(rho | pi) alone (-energy none) is the geometric
          interpolation rho_T ~ rho_0^a pi^(1-a), a = e^(-sigma T), pointwise on the grid (1-D, 2-D,
          sigma = 1 and 0.5, pi and rho_0 written here with h5py; and a registry -reference).
pdediss   A.4/D.1/F.1: E(0) - E(T) = int D dt for fisher_rao, wfr (alpha != beta) and wasserstein with
          sigma > 0, in 1-D and 2-D, and E non-increasing.
g14       G14/D.7: FR of E_s, s = 1, d = 1, nu = 1, sigma = 0, |eta_0^(k)| ~ |k|^-1.5: slope -2 of log E.
conserve  mass of the PDE FR/WFR flows (drift < 1e-12); total particle weight (|sum w - 1| < 1e-13),
          positive weights and the total_weight/ess diagnostics for particle FR/WFR.
pdiss     particle FR/WFR: E(0) - E(T) = int dissipation dt and E monotone (1-D closed-form kernel and
          2-D Ewald).
pcompare  compare mode, FR and WFR, quantile start, 1-D s = 1: the weighted-particle energy follows the
          PDE energy with a gap O(1/N^2) (N = 50 and 100).
ranks     rank independence: particle FR/WFR output bitwise equal on 1..NP ranks (also N = 3, i.e. empty
          ranks), PDE FR/WFR/sigma output equal to 1e-12 relative.
badinput  bad flow input: exit status 2 (3 for a blown-up state), one 'kmdflow: error:' line naming the
          problem, no output file, .part or .xmf left.

Same command line as tests/pde_checks.py, whose helpers (check, path, simpson) are reused.
Exit status 0 = pass; every check prints the measured numbers.
"""
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pde_checks as base  # noqa: E402  (check, path, simpson, ARGS, FAILURES)
import particle_checks as pc  # noqa: E402  (run with a timeout)

check, path, simpson = base.check, base.path, base.simpson

TIGHT = ["-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-12", "-ts_atol", "1e-12"]
TIGHT13 = ["-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-13", "-ts_atol", "1e-13"]
FIXED_RK4 = ["-ts_type", "rk", "-ts_rk_type", "4", "-ts_adapt_type", "none"]
L = 2 * math.pi


def run(np_, opts, expect_rc=0, timeout=300):
    return pc.run(np_, opts + ["-quiet"], expect_rc=expect_rc, timeout=timeout)


def np_():
    return base.ARGS.np


def load(name, group="diagnostics"):
    """Diagnostics of group (and /pde/rho, /particles/w if present) of a complete output file."""
    with h5py.File(path(name), "r") as f:
        assert int(f.attrs["complete"][0]) == 1, f"{name} not marked complete"
        d = {k: f[group][k][()] for k in f[group]}
        for k in ("pde/rho", "pde/time", "particles/w", "particles/x", "particles/time"):
            if k in f:
                d[k] = f[k][()]
        if "compare" in f:
            d["compare"] = {k: f["compare"][k][()] for k in f["compare"]}
    return d


def grid(n, dim):
    axes = [np.arange(m) * L / m for m in n[:dim]]
    return np.meshgrid(*axes, indexing="ij")


def integral_check(t, e, diss, label, rich_tol=1e-9, panel_tol=1e-7):
    """E(0) - E(T) vs int D dt: Simpson on the output grid Richardson-extrapolated with the 2h grid
    (error O(h^6)), each two-interval panel with plain Simpson, and E non-increasing."""
    drop = e[0] - e[-1]
    s_h, s_2h = simpson(t, diss), simpson(t[::2], diss[::2])
    rich = s_h + (s_h - s_2h) / 15
    rel = abs(drop - rich) / drop
    check(rel < rich_tol, f"{label}: E(0)-E(T) = {drop:.12e} vs int D dt = {rich:.12e} (Simpson+Richardson), relative {rel:.1e} < {rich_tol:.0e}"
                          f" (plain Simpson {abs(drop - s_h) / drop:.1e})")
    h = t[2] - t[0]
    panel = (e[:-2:2] - e[2::2]) - h / 6 * (diss[:-2:2] + 4 * diss[1:-1:2] + diss[2::2])
    worst = np.max(np.abs(panel)) / drop
    check(worst < panel_tol, f"{label}: per-panel E(t_n)-E(t_n+2) vs Simpson of D (h = {h:g}): max error {worst:.1e} x drop < {panel_tol:.0e}")
    rise = np.max(np.diff(e))
    scale = np.max(np.abs(e))
    check(rise <= 1e-14 * scale and np.all(diss >= 0), f"{label}: E non-increasing over {len(t)} records (largest step change {rise:.1e}), D >= 0 (min {diss.min():.1e})")


# -------------------------------------------------------------------------------------------- frkl

def make_frkl_file():
    """fr.h5: smooth positive pi and rho_0 on the 1-D grid 64 and the 2-D grid 32 x 24 (not normalised:
    kmdflow scales every density to mean 1, and so does the check)."""
    with h5py.File(path("fr.h5"), "w") as f:
        for dim, n in ((1, (64,)), (2, (32, 24))):
            X = grid(n, dim)
            y = X[1] if dim > 1 else 0 * X[0]
            f[f"pi{dim}"] = np.exp(0.8 * np.cos(X[0]) + 0.5 * np.sin(2 * y + 0.3) * (dim > 1))
            f[f"rho{dim}"] = 1.7 + 0.6 * np.sin(X[0] + 0.4) * (np.cos(y) if dim > 1 else 1) + 0.2 * np.cos(3 * X[0])


def geometric(rho0, pi, a):
    r = rho0 ** a * pi ** (1 - a)
    return r / r.mean()


def frkl_compare(name, rho0, pi, sigma, label):
    d = load(name)
    rho, times = d["pde/rho"], d["pde/time"]
    err = eerr = 0.0
    for k, t in enumerate(times):
        ex = geometric(rho0, pi, math.exp(-sigma * t))
        err = max(err, np.max(np.abs(rho[k] - ex)) / np.max(ex))
        eerr = max(eerr, abs(d["energy"][k] - sigma * np.mean(ex * np.log(ex / pi))) / d["energy"][0])
    moved = np.max(np.abs(rho[-1] - rho0)) / np.max(rho0)
    check(err < 5e-12, f"FR of KL {label}: max_t max_x |rho - rho_0^a pi^(1-a)/Z| / max = {err:.1e} < 5e-12 "
                       f"(T = {times[-1]:g}, a(T) = {math.exp(-sigma * times[-1]):.3f}; the density moved by {moved:.2f} of its max)")
    check(eerr < 1e-11, f"FR of KL {label}: energy vs sigma KL(exact | pi): max difference {eerr:.1e} E(0) < 1e-11 E(0)")
    merr = np.max(np.abs(d["mass"] - 1))
    check(merr < 1e-12, f"FR of KL {label}: mass drift {merr:.1e} < 1e-12")


def frkl():
    """Math spec D.2 with F = 0: rho_T = rho_0^a pi^(1-a) / Z, a = e^(-sigma T) (Chopin-Crucinio-Korba),
    5dp at rtol = atol = 1e-12 (measured errors ~8e-13)."""
    make_frkl_file()
    with h5py.File(path("fr.h5"), "r") as f:
        data = {k: f[k][()] for k in f}
    for dim, n in ((1, "64"), (2, "32,24")):
        pi = data[f"pi{dim}"] / data[f"pi{dim}"].mean()
        rho0 = data[f"rho{dim}"] / data[f"rho{dim}"].mean()
        for sigma in (1.0, 0.5):
            name = f"frkl_{dim}d_{sigma}.h5"
            run(np_(), ["-dim", str(dim), "-n", n, "-energy", "none", "-sigma", repr(sigma), "-flow", "fisher_rao",
                        "-reference", f"file:fr.h5:pi{dim}", "-init", f"file:fr.h5:rho{dim}", "-ts_max_time", "3",
                        "-output_dt", "0.5", "-output", name] + TIGHT)
            frkl_compare(name, rho0, pi, sigma, f"{dim}-D n = {n}, sigma = {sigma:g}, -reference file")
    # a registry reference: pi = -reference gaussians, the same density kmdflow writes for -init gaussians
    run(np_(), ["-dim", "1", "-n", "64", "-init", "gaussians", "-ts_max_steps", "0", "-output", "frkl_pi.h5"])
    pi = load("frkl_pi.h5")["pde/rho"][0]
    run(np_(), ["-dim", "1", "-n", "64", "-energy", "none", "-sigma", "1", "-flow", "fisher_rao", "-reference", "gaussians",
                "-init", "cos", "-ts_max_time", "3", "-output_dt", "0.5", "-output", "frkl_reg.h5"] + TIGHT)
    frkl_compare("frkl_reg.h5", load("frkl_reg.h5")["pde/rho"][0], pi, 1.0, "1-D n = 64, sigma = 1, -reference gaussians -init cos")


# ----------------------------------------------------------------------------------------- pdediss

PDEDISS = [  # (label, options); T = 1, outputs every 0.01, 5dp at rtol = atol = 1e-13
    ("fisher_rao sigma=0.3 s=1", ["-s", "1", "-flow", "fisher_rao", "-sigma", "0.3", "-reference", "gaussians", "-init", "cos",
                                  "-target", "cos", "-target_cos_amp", "0.3"]),
    ("wfr alpha=2 beta=0.5 sigma=0.2 s=1.5", ["-s", "1.5", "-flow", "wfr", "-wfr_alpha", "2", "-wfr_beta", "0.5", "-sigma", "0.2",
                                              "-reference", "cos", "-init", "gaussians", "-init_gaussians_floor", "0.3"]),
    ("wasserstein sigma=0.1 s=1", ["-s", "1", "-sigma", "0.1", "-reference", "cos", "-init", "gaussians", "-init_gaussians_floor", "0.3"]),
]


def pdediss():
    """Dissipation identity -dE/dt = beta int rho |grad V|^2 + alpha Var_rho(V) (math spec F.1) of the
    PDE, V = u + sigma log(rho/pi). Measured (Richardson) 1e-13..2e-10, panels 1e-11..1.3e-8."""
    for dim, n, extra in (("1", "128", []), ("2", "32", ["-init_gaussians_widths", "1"])):
        for k, (label, opts) in enumerate(PDEDISS):
            name = f"pdediss_{dim}d_{k}.h5"
            o = opts + (extra if "gaussians" in opts[opts.index("-init") + 1] else [])
            run(np_(), ["-dim", dim, "-n", n] + o + ["-ts_max_time", "1", "-output_dt", "0.01", "-output", name] + TIGHT13)
            d = load(name)
            integral_check(d["time"], d["energy"], d["dissipation"], f"PDE {dim}-D {label}")


# --------------------------------------------------------------------------------------------- g14

def g14():
    """Math spec G14/D.7: FR of E_1 (s = 1, d = 1, L = 2 pi, nu = 1, sigma = 0) from |eta_0^(k)| = |k|^-1.5
    (K = 169 modes, n = 512). Mode k decays as exp(-t/k^2), so E(t) = sum k^-5 exp(-2t/k^2)/2 ~ 1/(8 t^2):
    the sum is dominated by k* = sqrt(0.8 t), which is 4..28 for t in [20, 1000] (>> 1, so the sum is an
    integral, and << K = 169, so the cut-off removes at most (2t/K^2)^2/2 = 0.25 % of E). The amplitude
    0.01 keeps the nonlinear correction (measured: 0.4 % of E at amplitude 0.01, 4 % at 0.1, which moves
    the slope to -2.005) small. Also checks E against the linear prediction from the t = 0 spectrum."""
    run(np_(), ["-dim", "1", "-n", "512", "-s", "1", "-flow", "fisher_rao", "-init", "powerlaw", "-init_powerlaw_p", "1.5",
                "-init_powerlaw_amp", "0.01", "-ts_max_time", "1000", "-output_dt", "5", "-output", "g14.h5",
                "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-10", "-ts_atol", "1e-13"])
    d = load("g14.h5")
    t, e, r0 = d["time"], d["energy"], d["pde/rho"][0]
    win = (t >= 20) & (t <= 1000)
    s = np.polyfit(np.log(t[win]), np.log(e[win]), 1)[0]
    check(abs(s + 2) < 0.05, f"G14 FR s=1 p=1.5: log-log slope of E over t in [20, 1000] = {s:.4f} (predicted -(2s+2p-d)/(2s) = -2 +- 0.05)")
    n = len(r0)
    hat = np.fft.fft(r0) / n
    k = np.abs(np.fft.fftfreq(n, 1 / n))
    lam = np.zeros(n)
    lam[k > 0] = k[k > 0] ** -2.0
    lin = np.array([0.5 * np.sum(lam * np.abs(hat) ** 2 * np.exp(-2 * lam * tt)) for tt in t])
    dev = np.max(np.abs(e[win] / lin[win] - 1))
    check(dev < 1e-2, f"G14: E(t) vs linear theory sum lambda |eta_0^(k)|^2 e^(-2 lambda t)/2 over the window: max relative deviation {dev:.1e} < 1e-2")
    sl = np.polyfit(np.log(t[win]), np.log(lin[win]), 1)[0]
    print(f"      (linear theory alone gives slope {sl:.4f} on the same window)")
    check(np.all(np.diff(e) < 0), "G14: E strictly decreasing")


# ---------------------------------------------------------------------------------------- conserve

def conserve():
    """PDE FR and WFR (with and without sigma, 1-D and 2-D) conserve mass to 1e-12; particle FR and WFR
    keep sum w = 1 to 1e-13 (diagnostic total_weight and math.fsum of /particles/w), w > 0, and the
    ess diagnostic equals 1/sum w^2 (measured drifts are round-off, ~1e-16)."""
    pde_cases = [["-dim", "1", "-n", "128", "-flow", "fisher_rao", "-init", "gaussians", "-target", "cos"],
                 ["-dim", "1", "-n", "128", "-flow", "wfr", "-wfr_alpha", "3", "-wfr_beta", "0.5", "-sigma", "0.2", "-reference", "cos",
                  "-init", "gaussians", "-init_gaussians_floor", "0.3"],
                 ["-dim", "2", "-n", "32", "-flow", "fisher_rao", "-sigma", "0.5", "-reference", "gaussians", "-init", "cos", "-s", "1.5"],
                 ["-dim", "2", "-n", "32", "-flow", "wfr", "-init", "cos", "-init_cos_amp", "0.9", "-target", "gaussians"]]
    for k, c in enumerate(pde_cases):
        name = f"cons_pde{k}.h5"
        run(np_(), c + ["-ts_max_time", "5", "-output_dt", "0.5", "-output", name])
        d = load(name)
        drift = np.max(np.abs(d["mass"] - d["mass"][0]))
        rel = d["energy"][-1] / d["energy"][0]
        check(drift < 1e-12 and abs(d["mass"][0] - 1) < 1e-14,
              f"PDE {' '.join(c)}: mass drift {drift:.1e} < 1e-12 over t in [0, 5] (E(5)/E(0) = {rel:.2e})")
    part_cases = [["-dim", "1", "-s", "1", "-particles", "200", "-flow", "fisher_rao", "-init", "cos", "-init_cos_amp", "0.9"],
                  ["-dim", "1", "-s", "2", "-particles", "200", "-flow", "wfr", "-wfr_alpha", "3", "-wfr_beta", "0.5", "-init", "gaussians",
                   "-target", "cos"],
                  ["-dim", "2", "-s", "1.5", "-particles", "25", "-flow", "fisher_rao", "-init", "cos", "-target", "gaussians", "-n", "32"],
                  ["-dim", "2", "-s", "1.5", "-particles", "25", "-flow", "wfr", "-wfr_alpha", "2", "-init", "gaussians"]]
    for k, c in enumerate(part_cases):
        name = f"cons_p{k}.h5"
        run(np_(), ["-mode", "particles"] + c + ["-ts_max_time", "5", "-output_dt", "0.5", "-output", name])
        d = load(name)
        w = d["particles/w"][:, :, 0]
        tw = np.max(np.abs(d["total_weight"] - 1))
        fs = max(abs(math.fsum(row) - 1) for row in w)
        ess = np.max(np.abs(d["ess"] * np.sum(w * w, axis=1) - 1))
        spread = w[-1].max() / w[-1].min()
        check(tw < 1e-13 and fs < 1e-13, f"particles {' '.join(c)}: |total_weight - 1| = {tw:.1e}, |fsum(w) - 1| = {fs:.1e} < 1e-13 over t in [0, 5]")
        check(w.min() > 0 and np.all(w[0] == w[0, 0]) and spread > 1.5,
              f"particles {' '.join(c)}: weights start equal, stay > 0 (min {w.min():.2e}) and change (max/min at t = 5: {spread:.2f} > 1.5)")
        check(ess < 1e-12, f"particles {' '.join(c)}: ess diagnostic = 1/sum w^2 to {ess:.1e}")


# ------------------------------------------------------------------------------------------- pdiss

def pdiss():
    """Particle FR/WFR: dissipation identity (-dE/dt = beta sum w |grad V|^2 + alpha sum w (V - Vbar)^2) and
    monotone energy: 1-D (closed-form Bernoulli kernel, s = 1, N = 200) and 2-D (Ewald, s = 1.5, N = 32;
    s = 1 in 2-D has a log-singular kernel whose near-collisions the output grid does not resolve).
    Measured (Richardson) 4e-13..1e-11, panels 8e-11..1e-9."""
    cases = (("1-D FR s=1 N=200", ["-dim", "1", "-s", "1", "-particles", "200", "-flow", "fisher_rao", "-ts_max_time", "2", "-output_dt", "0.02"]),
             ("1-D WFR alpha=2 beta=0.5 s=1 N=200", ["-dim", "1", "-s", "1", "-particles", "200", "-flow", "wfr", "-wfr_alpha", "2",
                                                     "-wfr_beta", "0.5", "-ts_max_time", "1", "-output_dt", "0.01"]),
             ("2-D Ewald FR s=1.5 N=32", ["-dim", "2", "-s", "1.5", "-particles", "32", "-flow", "fisher_rao", "-ts_max_time", "1", "-output_dt", "0.01"]),
             ("2-D Ewald WFR alpha=2 beta=0.5 s=1.5 N=32", ["-dim", "2", "-s", "1.5", "-particles", "32", "-flow", "wfr", "-wfr_alpha", "2",
                                                            "-wfr_beta", "0.5", "-ts_max_time", "1", "-output_dt", "0.01"]))
    for k, (label, opts) in enumerate(cases):
        name = f"pdiss_{k}.h5"
        run(np_(), ["-mode", "particles", "-init", "cos"] + opts + TIGHT + ["-output", name])
        d = load(name)
        integral_check(d["time"], d["energy"], d["dissipation"], f"particles {label}")
        if "fisher_rao" in opts:
            moved = np.max(np.abs(d["particles/x"] - d["particles/x"][0]))
            check(moved == 0, f"particles {label}: positions fixed (max change {moved:.1e})")


# ---------------------------------------------------------------------------------------- pcompare

def pcompare():
    """Compare mode, 1-D, s = 1, L = 2 pi, -init cos, quantile start, FR and WFR (alpha = beta = 1):
    E_particles - E_pde = C(t)/N^2 + o(N^-2). Measured N^2 x gap: 1.645 (= pi^2/6 = L^2/24, the lattice
    offset of C.2) at t = 0 rising to 1.94 (FR) / 1.72 (WFR) at t = 4, and gap(50)/gap(100) = 4.00."""
    for flow in ("fisher_rao", "wfr"):
        gaps = {}
        for N in (50, 100):
            name = f"pcmp_{flow}_{N}.h5"
            run(np_(), ["-mode", "compare", "-dim", "1", "-n", "256", "-s", "1", "-flow", flow, "-init", "cos", "-particles", str(N),
                        "-particle_init", "quantile", "-ts_max_time", "4", "-output_dt", "0.5", "-output", name] + TIGHT)
            c = load(name)["compare"]
            gaps[N] = c["energy_particles"] - c["energy_pde"]
            check(np.array_equal(c["energy_gap"], gaps[N]), f"compare {flow} N={N}: /compare/energy_gap = energy_particles - energy_pde")
            scaled = gaps[N] * N * N
            check(np.all(scaled > 1.5) and np.all(scaled < 2.5),
                  f"compare {flow} N={N}: N^2 (E_particles - E_pde) in [{scaled.min():.4f}, {scaled.max():.4f}] within (1.5, 2.5) "
                  f"(E_pde from {c['energy_pde'][0]:.3e} to {c['energy_pde'][-1]:.3e})")
        ratio = gaps[50] / gaps[100]
        check(np.all(np.abs(ratio - 4) < 0.02), f"compare {flow}: gap(N=50)/gap(N=100) in [{ratio.min():.4f}, {ratio.max():.4f}], 4 +- 0.02 (O(1/N^2))")


# ------------------------------------------------------------------------------------------- ranks

RANK_PDE = [["-dim", "2", "-n", "24,16", "-flow", "fisher_rao", "-sigma", "0.5", "-reference", "gaussians", "-init", "cos", "-s", "1.5"]
            + FIXED_RK4 + ["-ts_dt", "0.02"],
            ["-dim", "1", "-n", "96", "-flow", "wfr", "-wfr_alpha", "2", "-wfr_beta", "0.5", "-sigma", "0.2", "-reference", "cos",
             "-init", "gaussians", "-init_gaussians_floor", "0.3", "-ts_rtol", "1e-10", "-ts_atol", "1e-10"],
            ["-dim", "3", "-n", "4,8,6", "-sigma", "0.3", "-reference", "cos", "-reference_cos_amp", "0.8", "-init", "cos",
             "-init_cos_amp", "0.3", "-target", "cos"] + FIXED_RK4 + ["-ts_dt", "0.01"],
            ["-dim", "2", "-n", "16", "-energy", "none", "-sigma", "1", "-flow", "wfr", "-reference", "gaussians", "-init", "cos"]]
RANK_PART = [["-dim", "1", "-s", "1", "-particles", "101", "-flow", "fisher_rao", "-init", "cos"],
             ["-dim", "1", "-s", "1.5", "-particles", "101", "-flow", "wfr", "-wfr_alpha", "2", "-wfr_beta", "0.5", "-init", "gaussians",
              "-target", "cos"],
             ["-dim", "2", "-s", "1", "-particles", "20", "-flow", "fisher_rao", "-init", "cos", "-ring_leaf", "4"],
             ["-dim", "2", "-s", "1.5", "-particles", "20", "-flow", "wfr", "-init", "cos", "-ring_leaf", "4", "-target", "gaussians", "-n", "16"],
             ["-dim", "1", "-s", "1", "-particles", "3", "-flow", "wfr", "-init", "cos"]]


def datasets(f):
    names = []
    f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
    return sorted(names)


def check_same_on_ranks(stem, nranks, label):
    """STEM1.h5 .. STEM<nranks>.h5, one run per rank count: every dataset bitwise equal to the 1-rank file's, none
    missing or extra. Returns the 1-rank file's dataset names."""
    with h5py.File(path(f"{stem}1.h5"), "r") as a:
        names = datasets(a)
        ref = {n: a[n][()] for n in names}
    for p in range(2, nranks + 1):
        with h5py.File(path(f"{stem}{p}.h5"), "r") as b:
            bad = [n for n in names if n not in b or not np.array_equal(ref[n], b[n][()])] + [n for n in datasets(b) if n not in ref]
        check(not bad, f"{label}: {p} vs 1 rank: {len(names)} datasets bitwise equal" + (f"; differ: {bad}" if bad else ""))
    return names


def ranks():
    """Every rank count 1..NP: particle FR/WFR files bitwise equal to the 1-rank file (every dataset,
    /particles/w included; N = 3 leaves ranks empty at NP = 4); PDE FR/WFR/sigma files equal to 1e-12
    relative per dataset (FFT sums differ in rounding between layouts). The adaptive PDE case runs at
    rtol = atol = 1e-10: at the default 1e-8 its steps sit at the explicit stability limit of the
    beta sigma Laplacian (dt ~ 3.3/(beta sigma k_max^2)), where accept/reject decisions flip on round-off
    and the files then differ at the tolerance level (~1e-8) on different rank counts."""
    counts = list(range(1, np_() + 1))
    for k, c in enumerate(RANK_PDE):
        for p in counts:
            run(p, c + ["-ts_max_time", "0.4", "-output_dt", "0.1", "-output", f"rk_pde{k}_{p}.h5"])
        for p in counts[1:]:
            worst, n = base.compare_files(f"rk_pde{k}_1.h5", f"rk_pde{k}_{p}.h5")
            check(worst <= 1e-12, f"ranks PDE {' '.join(c)}: {p} vs 1 rank: {n} datasets, max relative difference {worst:.1e} <= 1e-12")
    for k, c in enumerate(RANK_PART):
        for p in counts:
            run(p, ["-mode", "particles"] + c + ["-ts_max_time", "0.5", "-output_dt", "0.1", "-output", f"rk_p{k}_{p}.h5"])
        names = check_same_on_ranks(f"rk_p{k}_", counts[-1], f"ranks particles {' '.join(c)}")
        assert "particles/w" in names and "diagnostics/total_weight" in names


# ---------------------------------------------------------------------------------------- badinput

def make_bad_files():
    with h5py.File(path("flowbad.h5"), "w") as f:
        z = np.ones((16, 16))
        z[3, 5] = 0
        f["zero"] = z
        neg = np.ones((16, 16))
        neg[7, 2] = -0.1
        f["neg"] = neg


BLOWUP = ["-ts_type", "rk", "-ts_rk_type", "4", "-ts_adapt_type", "none"]
BAD = [  # (options, expected exit status, words the one-line message must contain)
    (["-sigma", "-1"], 2, ["-sigma -1", "out of range", "[0, 1e+06]"]),
    (["-sigma", "nan"], 2, ["-sigma nan", "not a finite number"]),
    (["-flow", "wfr", "-wfr_alpha", "0"], 2, ["-wfr_alpha 0", "(0, 1e+06]"]),
    (["-flow", "wfr", "-wfr_beta", "-1"], 2, ["-wfr_beta -1", "(0, 1e+06]"]),
    (["-flow", "fr"], 2, ["-flow fr", "wasserstein, fisher_rao, wfr"]),
    (["-energy", "none"], 2, ["-energy none", "-sigma"]),
    (["-energy", "kmdd"], 2, ["-energy kmdd", "kmd, none"]),
    (["-wfr_alpha", "2"], 2, ["-wfr_alpha", "not used"]),
    (["-flow", "fisher_rao", "-wfr_beta", "2"], 2, ["-wfr_beta", "not used"]),
    (["-reference", "cos"], 2, ["-reference", "not used"]),
    (["-sigma", "1", "-reference", "file:flowbad.h5:zero"], 2, ["-reference file:flowbad.h5:zero", "vanishes", "pi > 0"]),
    (["-sigma", "1", "-reference", "file:flowbad.h5:neg"], 2, ["-reference", "negative values"]),
    (["-sigma", "1", "-reference", "cos", "-reference_cos_amp", "1.5"], 2, ["-reference_cos_amp 1.5", "[0, 1]"]),
    (["-sigma", "1", "-reference", "nosuch"], 2, ["-reference nosuch", "unknown density"]),
    (["-sigma", "0.5", "-init", "file:flowbad.h5:zero"], 2, ["-init file:flowbad.h5:zero", "vanishes", "-sigma 0.5"]),
    (["-mode", "particles", "-particles", "10", "-domain", "free", "-kernel", "gaussian", "-init", "uniform", "-flow", "wfr", "-sigma", "0.1"], 2,
     ["-reference uniform", "in free space", "-reference normal"]),
    (["-flow", "wfr", "-sigma", "1"] + BLOWUP + ["-ts_dt", "100", "-ts_max_time", "400", "-output_dt", "100"], 3, ["rho <= 0", "-ts_dt"]),
    (["-flow", "fisher_rao", "-s", "0.3", "-init_cos_amp", "0.9"] + BLOWUP + ["-ts_dt", "50", "-ts_max_time", "5000", "-output_dt", "1000"], 3,
     ["non-finite density", "-ts_dt 50"]),
    (["-mode", "particles", "-particles", "20", "-flow", "fisher_rao", "-s", "1.5"] + BLOWUP + ["-ts_dt", "1000", "-ts_max_time", "1e5",
                                                                                             "-output_dt", "1e4"], 3, ["non-finite", "-ts_dt 1000"]),
]


def bad_case(k, opts, rc, words, timeout=60):
    out = f"fbad{k}."
    full = ["-dim", "2", "-n", "16", "-ts_max_time", "0.1"] + opts + ["-output", out + "h5"]
    code, _, err = run(np_(), full, expect_rc=None, timeout=timeout)
    lines = [ln for ln in err.splitlines() if ln.startswith("kmdflow: error:")]
    msg = lines[0] if lines else "(no kmdflow: error line)"
    left = sorted(f for f in os.listdir(base.ARGS.workdir) if f.startswith(out))
    ok = code == rc and len(lines) == 1 and all(w in msg for w in words) and not left and "PETSC ERROR" not in err
    status = f"killed after {timeout} s (hung)" if code is None else f"exit {code}"
    return ok, f"bad input {' '.join(opts)}: {status} (want {rc}), {len(lines)} error line(s): {msg}" + (f", left {left}" if left else "")


def badinput():
    """Every bad flow input: the expected exit status, exactly one 'kmdflow: error:' line naming the
    problem, no PETSc traceback, no OUT.h5, OUT.h5.part or OUT.xmf. Several cases at a time: Open MPI
    idles 2-3 s tearing down every job that exits non-zero (6 at a time on 1-2 ranks, 3 on 4)."""
    make_bad_files()
    with ThreadPoolExecutor(max_workers=min(6, max(3, 12 // np_()))) as pool:
        results = list(pool.map(lambda case: bad_case(case[0], *case[1]), enumerate(BAD)))
    for ok, report in results:
        check(ok, report)


# ------------------------------------------------------------------------------ particle entropy, steps

FRKL_PART = ["-mode", "compare", "-dim", "1", "-n", "256", "-s", "1", "-flow", "fisher_rao", "-energy", "none", "-sigma", "1",
             "-reference", "gaussians", "-init", "cos", "-particle_init", "quantile", "-ts_max_time", "2", "-output_dt", "1"] + TIGHT


def frsteps():
    """Fisher-Rao of sigma KL with weighted particles against the PDE in compare mode (math spec D.5):
    -entropy_estimate weights with -fr_step exp is exact in time (the same particle state for tau = 0.5
    and 0.1, and the distance to the PDE is the O(1/N) of the quantile start); -fr_step md (mirror descent)
    and rk (Euler on w) are first order in tau; with -fr_step exp the distance halves when N doubles."""
    dist = {}
    for step in ("exp", "md", "rk"):
        for tau in ("0.5", "0.1"):
            name = f"frs_{step}_{tau}.h5"
            run(np_(), FRKL_PART + ["-particles", "2000", "-entropy_estimate", "weights", "-fr_step", step, "-particles_ts_type", "euler",
                                    "-particles_ts_adapt_type", "none", "-particles_ts_dt", tau, "-output", name])
            d = load(name, "particles/diagnostics")
            dist[(step, tau)] = (d["compare"]["hminus"][-1], d["particles/w"][-1])
    w5, w1 = dist[("exp", "0.5")][1], dist[("exp", "0.1")][1]
    rel = np.max(np.abs(w5 - w1)) / np.max(w1)
    check(rel < 1e-12, f"-fr_step exp: weights at t = 2 with tau = 0.5 and 0.1 agree to {rel:.1e} (< 1e-12: exact in time)")
    h = dist[("exp", "0.1")][0]
    check(h < 2e-3, f"-fr_step exp: H^-1 distance to the PDE at t = 2 is {h:.3e} < 2e-3 (N = 2000 quantile start; O(1/N), see the W1 check)")
    for step in ("md", "rk"):
        a, b = dist[(step, "0.5")][0], dist[(step, "0.1")][0]
        check(3.5 < a / b < 6.5, f"-fr_step {step}: H^-1 distance {a:.3e} (tau 0.5) / {b:.3e} (tau 0.1) = {a / b:.2f}, first order (5 +- 1.5)")
    hs = []
    for N in (1000, 2000):
        name = f"frs_N{N}.h5"
        run(np_(), FRKL_PART + ["-particles", str(N), "-entropy_estimate", "weights", "-fr_step", "exp", "-particles_ts_type", "euler",
                                "-particles_ts_adapt_type", "none", "-particles_ts_dt", "0.5", "-output", name])
        hs.append(load(name)["compare"]["w1"][-1])
    check(1.8 < hs[0] / hs[1] < 2.2, f"-fr_step exp: W1 at t = 2 for N = 1000, 2000: {hs[0]:.3e}, {hs[1]:.3e}, ratio {hs[0] / hs[1]:.3f} (2 +- 0.2: O(1/N))")


def kde():
    """Particle entropy by kernel density estimation (math spec D.3, K3): Fisher-Rao of sigma KL in compare mode;
    the distance to the PDE at t = 2 shrinks as N grows with the default bandwidth h ~ N^(-1/5) (bias O(h^2)),
    and the energy decreases; weights stay positive and sum to 1."""
    w1 = []
    for N in (500, 4000):
        name = f"kde_{N}.h5"
        run(np_(), FRKL_PART + ["-particles", str(N), "-output", name])
        d = load(name, "particles/diagnostics")
        w1.append(d["compare"]["w1"][-1])
        e = d["energy"]
        check(np.all(np.diff(e) < 0), f"kde N={N}: particle energy (sigma KL estimate) decreasing: {e[0]:.4f} -> {e[-1]:.4f}")
        check(abs(d["total_weight"][-1] - 1) < 1e-13 and np.min(d["particles/w"]) > 0, f"kde N={N}: weights positive, total {d['total_weight'][-1]:.15f}")
    ratio = w1[0] / w1[1]
    check(ratio > 1.8, f"kde: W1 to the PDE at t = 2: N = 500 {w1[0]:.3e}, N = 4000 {w1[1]:.3e}, ratio {ratio:.2f} > 1.8 (h^2 ~ N^-0.4: 2.3)")


def resample():
    """-resample_ess: systematic resampling is the same on any number of ranks (every dataset bitwise equal on
    1..NP ranks, N = 301 WFR), happens (ESS back at N), keeps the total weight 1, and the energy keeps decreasing."""
    opts = ["-mode", "particles", "-dim", "1", "-s", "1", "-flow", "wfr", "-particles", "301", "-init", "cos", "-target", "gaussians",
            "-resample_ess", "0.9", "-ts_max_time", "1", "-output_dt", "0.1"]
    for p in range(1, np_() + 1):
        run(p, opts + ["-output", f"rs_{p}.h5"])
    d = load("rs_1.h5")
    check(np.any(np.diff(d["ess"]) > 0) and np.max(d["ess"][1:]) > 0.99 * 301, f"resample: ESS {np.round(d['ess'], 1).tolist()} drops below 0.9 N and returns to N")
    check(np.max(np.abs(d["total_weight"] - 1)) < 1e-13, "resample: total weight 1 to 1e-13")
    check(np.all(np.diff(d["energy"]) < 0), "resample: energy decreasing across resampling")
    check_same_on_ranks("rs_", np_(), "resample")


def stein():
    """Stein flow (SVGD, math spec E row 5) of sigma KL: in 1-D the particle velocity at quantile nodes is a midpoint
    rule in the quantile variable, spectrally accurate for the smooth periodic integrand, so quantile particles stay on
    the PDE's quantiles: W1 = L/(4N) to 1e-9 at every output (N = 250) and the energies agree to the KDE bias; the KL of
    the PDE decreases with a non-negative dissipation; particle output bitwise identical on 1..NP ranks; -flow stein with
    the KMD energy is refused."""
    opts = ["-mode", "compare", "-dim", "1", "-n", "128", "-s", "1", "-flow", "stein", "-energy", "none", "-sigma", "1",
            "-reference", "gaussians", "-init", "cos", "-particle_init", "quantile", "-ts_max_time", "2", "-output_dt", "0.2"] + TIGHT
    run(np_(), opts + ["-particles", "250", "-output", "stein.h5"])
    d = load("stein.h5")
    c = d["compare"]
    dev = np.max(np.abs(c["w1"] - L / (4 * 250)))
    check(dev < 1e-9, f"stein: |W1 - L/(4N)| <= {dev:.1e} < 1e-9 at every output (quantile particles on the PDE's quantiles)")
    check(np.all(np.diff(d["energy"]) < 0) and np.all(d["dissipation"] >= 0), f"stein PDE: KL decreasing {d['energy'][0]:.4f} -> {d['energy'][-1]:.4f}, dissipation >= 0")
    gap = np.max(np.abs(c["energy_particles"] - c["energy_pde"]))
    check(gap < 1e-2, f"stein: |E_particles (KDE) - E_pde| <= {gap:.2e} < 1e-2")
    run(np_(), ["-dim", "2", "-n", "32", "-flow", "stein", "-energy", "none", "-sigma", "1", "-reference", "gaussians", "-init", "cos",
                "-ts_max_time", "1", "-output_dt", "0.01", "-ts_rtol", "1e-11", "-ts_atol", "1e-11", "-output", "stein_pde.h5"])
    p2 = load("stein_pde.h5")
    integral_check(p2["time"], p2["energy"], p2["dissipation"], "stein PDE 2-D (dissipation int rho grad V . K*(rho grad V); n = 32 discretisation)", rich_tol=1e-6, panel_tol=1e-5)
    popts = ["-mode", "particles", "-dim", "2", "-flow", "stein", "-energy", "none", "-sigma", "0.5", "-reference", "cos", "-init", "gaussians",
             "-particles", "40", "-n", "16", "-ring_leaf", "4", "-ts_max_time", "0.3", "-output_dt", "0.1"]
    for p in range(1, np_() + 1):
        run(p, popts + ["-output", f"stein_r{p}.h5"])
    check_same_on_ranks("stein_r", np_(), "stein particles 2-D")
    ok, msg = bad_case(99, ["-flow", "stein", "-sigma", "1"], 2, ["-flow stein", "-energy none"])
    check(ok, msg)


CHECKS = {"frkl": frkl, "pdediss": pdediss, "g14": g14, "conserve": conserve, "pdiss": pdiss, "pcompare": pcompare,
          "ranks": ranks, "badinput": badinput, "frsteps": frsteps, "kde": kde, "resample": resample, "stein": stein}


def main():
    return base.run_checks(CHECKS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
