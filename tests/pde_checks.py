#!/usr/bin/python3
"""Checks of kmdflow's PDE mode against exact solutions and independent references.

Each check runs the real executable under mpiexec, reads its HDF5 output with h5py and compares
with math spec (shared/spec/math.md) results: C.1/C.2 exact laws (G5, G6), time order (G4),
spectral convergence, the dissipation identity (G7), the s > 1 rate (G9), rank independence and
file round trips, and the refusal of bad input. Exit status 0 = pass; failures say what and by
how much.
"""
import argparse
import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

ARGS = None
FAILURES = []


def run(np_, opts, expect_rc=0, tag="run"):
    """Runs kmdflow on np_ ranks in the work directory; returns (rc, stdout, stderr)."""
    cmd = [ARGS.mpiexec, "-n", str(np_)] + ARGS.mpiexec_flags.split() + [ARGS.exe] + opts
    proc = subprocess.run(cmd, cwd=ARGS.workdir, capture_output=True, text=True, timeout=900)
    if expect_rc is not None and proc.returncode != expect_rc:
        sys.stdout.write(proc.stdout[-3000:])
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"FAIL {tag}: exit status {proc.returncode}, expected {expect_rc}: {' '.join(cmd)}")
    return proc.returncode, proc.stdout, proc.stderr


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        FAILURES.append(what)


def path(name):
    return os.path.join(ARGS.workdir, name)


def load(name):
    with h5py.File(path(name), "r") as f:
        assert int(f.attrs["complete"][0]) == 1, "output not marked complete"
        d = {k: f["diagnostics"][k][()] for k in f["diagnostics"]}
        d["rho"] = f["pde/rho"][()]
        d["ptime"] = f["pde/time"][()]
        d["attrs"] = dict(f.attrs)
    return d


FIXED_RK4 = ["-ts_type", "rk", "-ts_rk_type", "4", "-ts_adapt_type", "none"]
TIGHT = ["-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-13", "-ts_atol", "1e-13"]


def g5():
    """1-D, s = 1, uniform target: E(t)/E(0) = e^{-2t} exactly (math spec C.2), mass conserved."""
    run(ARGS.np, ["-dim", "1", "-n", "1024", "-s", "1", "-init", "gaussians", "-init_gaussians_floor", "0.05", "-ts_max_time", "3",
                  "-output_dt", "0.25", "-output", "g5.h5", "-quiet"] + TIGHT)
    d = load("g5.h5")
    t, e = d["time"], d["energy"]
    err = np.max(np.abs(e / e[0] - np.exp(-2 * t)))
    check(err < 1e-10, f"G5 max |E(t)/E(0) - exp(-2t)| = {err:.2e} < 1e-10 (t up to {t[-1]})")
    merr = np.max(np.abs(d["mass"] - 1))
    check(merr < 1e-12, f"G5 mass conserved: max |mass - 1| = {merr:.1e} < 1e-12")
    check(0.05 <= d["rho_min"][0] <= 0.1, f"G5 initial min density {d['rho_min'][0]:.3f} in [0.05, 0.1] (a hard case)")


def logistic(a, t):
    return a / (a + (1 - a) * math.exp(-t))


def g6():
    """2-D and 3-D, s = 1, uniform target: int rho_t^2 = int rho_0 L_t(rho_0) (C.1), mass, energy bound."""
    for dim, n, dt in (("2", "128", "0.01"), ("3", "48", "0.01")):
        name = f"g6_{dim}d.h5"
        run(ARGS.np, ["-dim", dim, "-n", n, "-s", "1", "-init", "cos", "-ts_max_time", "3", "-output_dt", "0.5",
                      "-ts_dt", dt, "-output", name, "-quiet"] + FIXED_RK4)
        d = load(name)
        rho0 = d["rho"][0]
        worst = 0.0
        for k, t in enumerate(d["ptime"]):
            lhs = np.mean(d["rho"][k] ** 2)
            rhs = np.mean(rho0 * logistic(rho0, t))
            worst = max(worst, abs(lhs - rhs) / rhs)
        check(worst < 1e-9, f"G6 {dim}-D int rho_t^2 = int rho_0 L_t(rho_0): max relative error {worst:.2e} < 1e-9")
        merr = np.max(np.abs(d["mass"] - 1))
        check(merr < 1e-12, f"G6 {dim}-D mass conserved: {merr:.1e} < 1e-12")
        m0, t, e = d["rho_min"][0], d["time"], d["energy"]
        bound = e[0] * np.exp(-2 * t) / (m0 + (1 - m0) * np.exp(-t)) ** 2
        check(np.all(e <= bound * (1 + 1e-12)), f"G6 {dim}-D energy bound E(t) <= E(0)e^-2t/(m0+(1-m0)e^-t)^2 at all outputs")
        lo = logistic(m0, t[-1])
        check(d["rho_min"][-1] >= lo - 1e-3, f"G6 {dim}-D min density {d['rho_min'][-1]:.6f} >= L_t(min rho_0) = {lo:.6f} (grid min, 1e-3 slack)")


def slope(x, y):
    return np.polyfit(np.log(x), np.log(y), 1)[0]


def g4():
    """Global error of fixed-step RK of order p behaves like dt^p (slopes within 0.1)."""
    base = ["-dim", "1", "-n", "128", "-s", "1", "-init", "cos", "-init_cos_amp", "0.8", "-ts_max_time", "1",
            "-output_dt", "1", "-quiet", "-ts_type", "rk", "-ts_adapt_type", "none"]
    run(ARGS.np, base + ["-ts_rk_type", "5dp", "-ts_dt", "0.001", "-output", "g4_ref.h5"])
    ref = load("g4_ref.h5")["rho"][-1]
    for rk, p, dts in (("1fe", 1, (0.02, 0.01, 0.005)), ("2a", 2, (0.04, 0.02, 0.01)), ("4", 4, (0.2, 0.1, 0.05))):
        errs = []
        for dt in dts:
            name = f"g4_{rk}_{dt}.h5"
            run(ARGS.np, base + ["-ts_rk_type", rk, "-ts_dt", str(dt), "-output", name])
            errs.append(np.max(np.abs(load(name)["rho"][-1] - ref)))
        s = slope(dts, errs)
        check(abs(s - p) < 0.1, f"G4 RK {rk}: error slope {s:.3f} vs order {p} (errors {', '.join(f'{e:.1e}' for e in errs)})")


def spectral():
    """Exponential convergence in n: the deviation from the exact law E(T)/E(0) = e^{-2T} falls by
    more than a fixed factor per doubling until round-off."""
    errs = []
    ns = (16, 24, 32, 48, 64, 96)
    for n in ns:
        name = f"spec_{n}.h5"
        run(ARGS.np, ["-dim", "1", "-n", str(n), "-s", "1", "-init", "gaussians", "-ts_max_time", "1",
                      "-output_dt", "1", "-output", name, "-quiet"] + TIGHT)
        d = load(name)
        errs.append(abs(d["energy"][-1] / d["energy"][0] - math.exp(-2 * d["time"][-1])))
    print("      errors: " + ", ".join(f"n={n}: {e:.1e}" for n, e in zip(ns, errs)))
    keep = [(n, e) for n, e in zip(ns, errs) if e > 1e-13]
    c = -np.polyfit([n for n, _ in keep], np.log([e for _, e in keep]), 1)[0]
    check(len(keep) >= 4 and c > 0.2, f"spectral convergence: fitted error ~ exp(-c n) with c = {c:.2f} > 0.2 over n = 16..{keep[-1][0]}")
    check(errs[4] / errs[0] < 1e-5, f"spectral convergence: error(64)/error(16) = {errs[4] / errs[0]:.1e} < 1e-5 (4th order would give 4e-3)")
    check(errs[-1] < 1e-11, f"spectral convergence: n = {ns[-1]} error {errs[-1]:.1e} < 1e-11")


def simpson(t, f):
    h = t[1] - t[0]
    return h / 3 * (f[0] + 4 * np.sum(f[1:-1:2]) + 2 * np.sum(f[2:-1:2]) + f[-1])


def g7():
    """dE/dt = -int rho |grad u|^2 (math spec A.4): energy drop vs Simpson-integrated dissipation."""
    for dim, n, s, init in (("1", "256", "2", "powerlaw"), ("2", "64", "1.5", "gaussians"), ("2", "64", "0.75", "cos")):
        name = f"g7_{dim}d_s{s}.h5"
        run(ARGS.np, ["-dim", dim, "-n", n, "-s", s, "-init", init, "-ts_max_time", "1", "-output_dt", "0.01",
                      "-output", name, "-quiet"] + TIGHT)
        d = load(name)
        t, e, diss = d["time"], d["energy"], d["dissipation"]
        drop = e[0] - e[-1]
        integral = simpson(t, diss)
        rel = abs(drop - integral) / drop
        check(rel < 1e-6, f"G7 {dim}-D s={s}: E(0)-E(T) = {drop:.8e} vs int D dt = {integral:.8e}, relative {rel:.1e} < 1e-6")
        check(np.all(np.diff(e) <= 1e-15 * e[0]), f"G7 {dim}-D s={s}: energy non-increasing")


def g9():
    """s = 2, |eta_0^(k)| ~ |k|^-1.5, 1-D: log-log slope of E is -(2s+2p-d)/(2s-2) = -3 in the window."""
    run(ARGS.np, ["-dim", "1", "-n", "512", "-s", "2", "-init", "powerlaw", "-init_powerlaw_p", "1.5",
                  "-init_powerlaw_amp", "0.1", "-ts_max_time", "800", "-output_dt", "4", "-output", "g9.h5", "-quiet",
                  "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-10", "-ts_atol", "1e-12"])
    d = load("g9.h5")
    t, e = d["time"], d["energy"]
    win = (t >= 40) & (t <= 800)
    s = slope(t[win], e[win])
    check(abs(s + 3) < 0.1, f"G9 s=2 p=1.5: log-log slope of E over t in [40, 800] = {s:.3f} (predicted -3 +- 0.1)")


def compare_files(a, b, tol=1e-12):
    """Every dataset of a and b agree to tol relative to the dataset's max magnitude."""
    worst = 0.0
    with h5py.File(path(a), "r") as fa, h5py.File(path(b), "r") as fb:
        names = []
        fa.visit(lambda n: names.append(n) if isinstance(fa[n], h5py.Dataset) else None)
        for n in names:
            x, y = fa[n][()], fb[n][()]
            if x.shape != y.shape:
                return float("inf"), n
            scale = max(np.max(np.abs(x)), 1e-300)
            worst = max(worst, np.max(np.abs(x - y)) / scale)
        return worst, len(names)


def ranks():
    """The output file of np ranks equals the 1-rank file (relative difference <= 1e-12)."""
    cases = (["-dim", "1", "-n", "96", "-init", "gaussians", "-s", "1.5"],
             ["-dim", "2", "-n", "24,16", "-init", "powerlaw", "-s", "1", "-dealias"],
             ["-dim", "3", "-n", "4,8,6", "-init", "cos", "-target", "gaussians", "-s", "2"])
    for k, case in enumerate(cases):
        common = case + ["-ts_max_time", "0.5", "-output_dt", "0.1", "-quiet"] + FIXED_RK4 + ["-ts_dt", "0.01"]
        run(1, common + ["-output", f"ranks{k}_np1.h5"])
        run(ARGS.np, common + ["-output", f"ranks{k}_np{ARGS.np}.h5"])
        worst, n = compare_files(f"ranks{k}_np1.h5", f"ranks{k}_np{ARGS.np}.h5")
        check(worst <= 1e-12, f"ranks: {' '.join(case)} on {ARGS.np} ranks vs 1 rank: {n} datasets, max relative difference {worst:.1e} <= 1e-12")


def readback():
    """A file written on np ranks reads back on 1 rank (h5py and kmdflow -init file:), and a grid
    written by h5py reads into kmdflow on np ranks."""
    run(ARGS.np, ["-dim", "2", "-n", "32,16", "-init", "gaussians", "-ts_max_time", "0.3", "-output", "rb_a.h5", "-quiet"])
    a = load("rb_a.h5")
    check(a["rho"].shape == (11, 32, 16), f"readback: /pde/rho shape {a['rho'].shape} == (11, 32, 16)")
    check(int(a["attrs"]["ranks"][0]) == ARGS.np, "readback: ranks attribute records the writer's rank count")
    check(len(a["time"]) == len(a["ptime"]) == 11, "readback: one diagnostics entry per output time, t = 0 included")
    run(1, ["-dim", "2", "-n", "32,16", "-init", "file:rb_a.h5:/pde/rho", "-ts_max_time", "0", "-output", "rb_b.h5", "-quiet"])
    b = load("rb_b.h5")
    diff = np.max(np.abs(b["rho"][0] - a["rho"][-1]))
    check(diff < 1e-14, f"readback: last record of a {ARGS.np}-rank file read on 1 rank: max difference {diff:.1e}")
    x = np.arange(32)[:, None] * 2 * np.pi / 32
    y = np.arange(16)[None, :] * 2 * np.pi / 16
    grid = 2.0 + np.sin(x) * np.cos(2 * y)  # mean 2: kmdflow normalises it to mass 1
    with h5py.File(path("rb_grid.h5"), "w") as f:
        f["g"] = grid
    run(ARGS.np, ["-dim", "2", "-n", "32,16", "-init", "file:rb_grid.h5:g", "-ts_max_time", "0", "-output", "rb_c.h5", "-quiet"])
    c = load("rb_c.h5")
    diff = np.max(np.abs(c["rho"][0] - grid / 2))
    check(diff < 1e-14, f"readback: h5py grid read on {ARGS.np} ranks and normalised: max difference {diff:.1e}")


def make_bad_files():
    with h5py.File(path("bad_shape.h5"), "w") as f:
        f["g"] = np.ones((8, 8))
        f["ints"] = np.ones((16, 16), dtype=np.int32)
        neg = np.ones((16, 16))
        neg[3, 4] = -0.5
        f["neg"] = neg
        nan = np.ones((16, 16))
        nan[1, 1] = np.nan
        f["nan"] = nan
        f["zero"] = np.zeros((16, 16))
        f["ok"] = np.ones((16, 16))
    with open(path("not_hdf5.h5"), "w") as f:
        f.write("this is not an HDF5 file\n")
    raw = open(path("bad_shape.h5"), "rb").read()
    with open(path("truncated.h5"), "wb") as f:
        f.write(raw[: len(raw) // 3])


BAD = [  # (options, expected exit status, words the one-line message must contain)
    (["-s", "0"], 2, ["-s 0", "out of range", "(0, 64]"]),
    (["-s", "-1.5"], 2, ["-s -1.5", "(0, 64]"]),
    (["-s", "abc"], 2, ["-s abc", "not a finite number"]),
    (["-dim", "4"], 2, ["-dim 4", "[1, 3]"]),
    (["-dim", "0"], 2, ["-dim 0", "[1, 3]"]),
    (["-n", "2"], 2, ["-n 2", "even integers >= 4"]),
    (["-n", "17"], 2, ["-n 17", "even"]),
    (["-n", "16,8,8,8"], 2, ["-n", "more than 3"]),
    (["-L", "0"], 2, ["-L 0", "(0, 1e+06]"]),
    (["-L", "-6"], 2, ["-L -6", "(0, 1e+06]"]),
    (["-init", "file:.:g"], 2, ["file:.", "not an HDF5 file"]),
    (["-output_dt", "-1"], 2, ["-output_dt -1", ">= 0"]),
    (["-mode", "particle"], 2, ["-mode particle", "accepted values"]),
    (["-sss", "1"], 2, ["unknown option -sss", "did you mean -s"]),
    (["-ts_max_tme", "1"], 2, ["unknown option -ts_max_tme", "did you mean -ts_max_time"]),
    (["-init", "gauss"], 2, ["-init gauss", "unknown density", "gaussians"]),
    (["-init_cos_amp", "1.5"], 2, ["-init_cos_amp 1.5", "[0, 1]"]),
    (["-init", "file:missing.h5:g"], 2, ["missing.h5", "does not exist"]),
    (["-init", "file:not_hdf5.h5:g"], 2, ["not_hdf5.h5", "not an HDF5 file"]),
    (["-init", "file:truncated.h5:g"], 2, ["truncated.h5"]),
    (["-init", "file:bad_shape.h5:nope"], 2, ["no dataset nope"]),
    (["-init", "file:bad_shape.h5:g"], 2, ["shape 8 x 8", "16 x 16"]),
    (["-init", "file:bad_shape.h5:ints"], 2, ["not float64"]),
    (["-init", "file:bad_shape.h5:neg"], 2, ["negative values"]),
    (["-init", "file:bad_shape.h5:nan"], 2, ["non-finite"]),
    (["-init", "file:bad_shape.h5:zero"], 2, ["all values are zero"]),
    (["-target", "file:bad_shape.h5:neg"], 2, ["-target", "negative values"]),
    (["-init", "file:bad_shape.h5"], 2, ["file:PATH:DATASET"]),
    (["-output", "no/such/dir/x.h5"], 2, ["-output no/such/dir/x.h5", "cannot create"]),
    (["-dim", "1", "-n", "64", "-s", "0.2", "-ts_type", "rk", "-ts_rk_type", "4", "-ts_adapt_type", "none",
      "-ts_dt", "1", "-ts_max_time", "4", "-output_dt", "1"], 3, ["non-finite density", "-ts_dt 1", "5dp"]),
    (["-dealias", "3"], 2, ["-dealias 3", "expected a boolean"]),
    (["-quiet", "maybe"], 2, ["-quiet maybe", "expected a boolean"]),
    (["-n", "16.5"], 2, ["-n 16.5"]),
    (["-seed", "x"], 2, ["-seed x", "integer"]),
    (["-ts_veiw"], 2, ["unknown option -ts_veiw", "did you mean -ts_view"]),
    (["-init", "gaussians", "-init_gaussians_centers", ",".join(["1"] * 140)], 2, ["-init_gaussians_centers", "70 centres", "at most 64"]),
    (["-init", "gaussians", "-init_gaussians_widths", "0.01", "-init_gaussians_floor", "0", "-dealias"], 2,
     ["-init gaussians", "2/3-rule projection", "-dealias 0"]),
]


def badinput():
    """Every bad input ends with exit status 2 (3 for a blown-up state), a one-line message naming
    the problem, and no output file left behind."""
    make_bad_files()
    for opts, rc, words in BAD:
        for f in ("bad_out.h5", "bad_out.h5.part", "bad_out.xmf"):
            if os.path.exists(path(f)):
                os.remove(path(f))
        full = ["-dim", "2", "-n", "16", "-ts_max_time", "0.1", "-output", "bad_out.h5", "-quiet"] + opts
        if "-output" in opts:
            full = ["-dim", "2", "-n", "16", "-ts_max_time", "0.1", "-quiet"] + opts
        code, out, err = run(ARGS.np, full, expect_rc=None)
        lines = [l for l in err.splitlines() if l.startswith("kmdflow: error:")]
        msg = lines[0] if lines else "(no kmdflow: error line)"
        left = [f for f in os.listdir(ARGS.workdir) if f.startswith("bad_out")]
        ok = code == rc and len(lines) == 1 and all(w in msg for w in words) and not left and "PETSC ERROR" not in err
        check(ok, f"bad input {' '.join(opts)}: exit {code} (want {rc}), message: {msg}" + (f", left {left}" if left else ""))



RK_ORDERS = {"1fe": 1, "2a": 2, "2b": 2, "3": 3, "3bs": 3, "4": 4, "5f": 5, "5dp": 5, "5bs": 5, "6vr": 6, "7vr": 7, "8vr": 8}
EMBEDDED = ("2a", "3bs", "5f", "5dp", "5bs", "6vr", "7vr", "8vr")  # the PETSc 3.18 tableaus with an error estimate


def rktypes():
    """Every explicit RK scheme of PETSc (fixed step and, where embedded, adaptive), SSP and Euler
    reproduce the exact law E(1)/E(0) = e^{-2} (1-D, s = 1) to their order's accuracy."""
    base = ["-dim", "1", "-n", "64", "-s", "1", "-init", "gaussians", "-init_gaussians_floor", "0.3", "-ts_max_time", "1",
            "-output_dt", "0.5", "-quiet"]

    def error(opts, name):
        run(ARGS.np, base + opts + ["-output", name])
        d = load(name)
        return abs(d["energy"][-1] / d["energy"][0] - math.exp(-2 * d["time"][-1])), d

    dt = 0.05
    for rk, p in RK_ORDERS.items():
        err, _ = error(["-ts_type", "rk", "-ts_rk_type", rk, "-ts_adapt_type", "none", "-ts_dt", str(dt)], f"rk_{rk}.h5")
        bound = max(2 * dt ** p, 1e-13)
        check(err < bound, f"RK {rk} (order {p}), fixed dt = {dt}: error {err:.1e} < {bound:.0e}")
    for rk in RK_ORDERS:
        opts = ["-ts_type", "rk", "-ts_rk_type", rk, "-ts_adapt_type", "basic", "-ts_rtol", "1e-10", "-ts_atol", "1e-10"]
        if rk in EMBEDDED:
            err, d = error(opts, f"rka_{rk}.h5")
            check(err < 1e-8 and abs(d["time"][-1] - 1) < 1e-14, f"RK {rk} adaptive (rtol 1e-10): error {err:.1e} < 1e-8, ends at t = {d['time'][-1]}")
        else:
            code, _, err = run(ARGS.np, base + opts + ["-output", "rka_none.h5"], expect_rc=None)
            check(code == 2 and "has no embedded error estimate" in err and not os.path.exists(path("rka_none.h5")),
                  f"RK {rk} adaptive is refused (no embedded estimate): exit {code}, one-line message")
    for extra, bound in ((["-ts_type", "euler", "-ts_dt", "0.01"], 2e-2), (["-ts_type", "ssp", "-ts_ssp_type", "rks3", "-ts_dt", "0.02"], 1e-4),
                         (["-ts_type", "ssp", "-ts_ssp_type", "rk104", "-ts_dt", "0.05"], 1e-6),
                         (["-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_adapt_type", "dsp", "-ts_rtol", "1e-10", "-ts_atol", "1e-10"], 1e-8)):
        err, _ = error(extra, "rk_extra.h5")
        check(err < bound, f"{' '.join(extra)}: error {err:.1e} < {bound:.0e}")


def fftwopts():
    """FFTW threads, planner rigour and wisdom files change speed, not answers; -dealias keeps the
    state inside the 2/3 band; the XDMF sidecar is valid XML pointing at the right dataset."""
    common = ["-dim", "2", "-n", "32,24", "-init", "powerlaw", "-s", "1.5", "-ts_max_time", "0.4", "-output_dt", "0.2", "-quiet",
              "-dealias"] + FIXED_RK4 + ["-ts_dt", "0.02"]
    run(ARGS.np, common + ["-output", "fo_est.h5"])
    run(ARGS.np, common + ["-output", "fo_thr.h5", "-fftw_threads", "2"])
    run(ARGS.np, common + ["-output", "fo_mea.h5", "-fftw_planner", "measure", "-fftw_wisdom", "wisdom.txt"])
    check(os.path.getsize(path("wisdom.txt")) > 0, "fftw: -fftw_wisdom wrote a wisdom file")
    run(ARGS.np, common + ["-output", "fo_wis.h5", "-fftw_planner", "patient", "-fftw_wisdom", "wisdom.txt"])
    for other in ("fo_thr.h5", "fo_mea.h5", "fo_wis.h5"):
        worst, n = compare_files("fo_est.h5", other)
        check(worst <= 1e-12, f"fftw: {other} equals the default-plan run: max relative difference {worst:.1e}")
    rho = load("fo_est.h5")["rho"][-1]
    hat = np.fft.fft2(rho) / rho.size
    k1 = np.abs(np.fft.fftfreq(32, 1 / 32))[:, None]
    k2 = np.abs(np.fft.fftfreq(24, 1 / 24))[None, :]
    outside = (3 * k1 >= 32) | (3 * k2 >= 24)
    leak = np.max(np.abs(hat[outside]))
    check(leak < 1e-14, f"dealias: largest Fourier coefficient outside the 2/3 band at the end: {leak:.1e} < 1e-14")
    import xml.etree.ElementTree as ET
    root = ET.parse(path("fo_est.xmf")).getroot()
    grids = root.findall(".//Grid[@GridType='Uniform']")
    items = [e.text for e in root.iter("DataItem") if e.get("Format") == "HDF"]
    times = [float(g.find("Time").get("Value")) for g in grids]
    check(len(grids) == 3 and all(t.endswith("fo_est.h5:/pde/rho") for t in items) and times == [0.0, 0.2, 0.4],
          f"xdmf: {len(grids)} time steps at {times}, data {items[0] if items else None}")


def viewopts():
    """Options PETSc reads only at the end of a solve are accepted; -ts_max_steps 0 records t = 0 once;
    a run killed while writing leaves no file that looks complete."""
    _, out, _ = run(ARGS.np, ["-dim", "1", "-n", "16", "-ts_max_time", "0.5", "-output", "v.h5", "-ts_view", "-quiet"])
    check("TS Object" in out, "-ts_view accepted and printed the TS")
    _, out, _ = run(ARGS.np, ["-dim", "1", "-n", "16", "-ts_max_steps", "0", "-output", "z.h5", "-quiet"])
    d = load("z.h5")
    check(list(d["time"]) == [0.0] and d["rho"].shape == (1, 16) and "-ts_max_steps 0" in out,
          f"-ts_max_steps 0: outputs at {list(d['time'])}, rho shape {d['rho'].shape}")
    _, out, _ = run(ARGS.np, ["-dim", "1", "-n", "16", "-ts_max_time", "0.3", "-output_dt", "0.1", "-ts_max_steps", "2",
                              "-ts_adapt_type", "none", "-ts_dt", "0.1", "-output", "m.h5", "-quiet"])
    d = load("m.h5")
    check(np.allclose(d["time"], [0, 0.1, 0.2]) and "-ts_max_steps 2 reached" in out,
          f"-ts_max_steps 2 with dt = output_dt = 0.1: outputs at {list(d['time'])}")


def pload(name):
    with h5py.File(path(name), "r") as f:
        assert int(f.attrs["complete"][0]) == 1, "output not marked complete"
        return {"x": f["particles/x"][()], "t": f["particles/time"][()], "E": f["diagnostics/energy"][()],
                "v2": f["diagnostics/mean_v2"][()], "c": f["diagnostics/centroid_1"][()]}


def pg3():
    """Math spec G3: 1-D, s = 1, uniform target, particles: X^n = X* + R(-dt)^n (X^0 - X*) for explicit RK."""
    L, N = 2 * math.pi, 500
    for rk, dt, R in (("1fe", 0.3, lambda h: 1 - h), ("4", 0.9, lambda h: 1 - h + h**2 / 2 - h**3 / 6 + h**4 / 24)):
        run(ARGS.np, ["-mode", "particles", "-dim", "1", "-s", "1", "-init", "uniform", "-particles", str(N), "-seed", "5",
                      "-ts_type", "rk", "-ts_rk_type", rk, "-ts_adapt_type", "none", "-ts_dt", str(dt),
                      "-ts_max_time", str(10 * dt), "-output_dt", str(5 * dt), "-output", f"g3_{rk}.h5", "-quiet"])
        d = pload(f"g3_{rk}.h5")
        x0 = d["x"][0, :, 0]
        order = np.argsort(x0)
        xbar = x0.mean()
        xstar = np.empty(N)
        xstar[order] = xbar + (np.arange(1, N + 1) - 0.5) / N * L - L / 2
        err = 0.0
        for k, t in enumerate(d["t"]):
            n = round(t / dt)
            want = xstar + R(dt) ** n * (x0 - xstar)  # R(h) here is the stability polynomial at -h
            diff = (d["x"][k, :, 0] - want + L / 2) % L - L / 2
            err = max(err, np.abs(diff).max())
        check(err < 1e-13 * L, f"G3 rk {rk} dt {dt}: max |X^n - X* - R^n (X^0 - X*)| = {err:.2e} < {1e-13 * L:.1e}")
        cdrift = np.abs(d["c"] - d["c"][0]).max()
        check(cdrift < 1e-13, f"G3 rk {rk}: centroid drift {cdrift:.1e} < 1e-13")


def pranks():
    """Math spec G8: the whole particle output is bitwise identical on 1 and on ARGS.np ranks."""
    cases = [["-dim", "1", "-s", "2", "-particles", "333", "-ts_rk_type", "4", "-ts_adapt_type", "none", "-ts_dt", "0.05"],
             ["-dim", "2", "-domain", "free", "-kernel", "gaussian", "-kernel_h", "0.7", "-particles", "150"],
             ["-dim", "3", "-domain", "free", "-kernel", "riesz", "-particles", "77", "-ring_leaf", "8"],
             ["-dim", "2", "-s", "1", "-particles", "90", "-ring_leaf", "8", "-target", "cos", "-n", "16"],
             ["-dim", "3", "-s", "1.5", "-particles", "30", "-ring_leaf", "4", "-ewald_tol", "1e-8", "-ts_max_time", "0.2"]]
    for i, c in enumerate(cases):
        base = ["-mode", "particles", "-init", "uniform", "-ts_max_time", "0.5", "-output_dt", "0.1", "-quiet"] + c
        run(1, base + ["-output", f"pr{i}_1.h5"])
        run(ARGS.np, base + ["-output", f"pr{i}_n.h5"])
        with h5py.File(path(f"pr{i}_1.h5"), "r") as a, h5py.File(path(f"pr{i}_n.h5"), "r") as b:
            names = ["particles/x", "particles/time"] + ["diagnostics/" + k for k in a["diagnostics"]]
            same = all(np.array_equal(a[n][()], b[n][()]) for n in names)
            check(same, f"G8 {' '.join(c)}: {len(names)} datasets bitwise equal on 1 and {ARGS.np} ranks")


CHECKS = {"pg3": pg3, "pranks": pranks, "viewopts": viewopts, "g4": g4, "g5": g5, "g6": g6, "g7": g7, "g9": g9, "spectral": spectral, "ranks": ranks,
          "readback": readback, "badinput": badinput, "rktypes": rktypes, "fftwopts": fftwopts}


def run_checks(checks, doc):
    """The command line shared by every *_checks.py: CHECK --np P --exe ... --workdir DIR; runs one check
    in a fresh DIR and returns the exit status (1 if any check failed)."""
    global ARGS
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("check", choices=sorted(checks))
    ap.add_argument("--np", type=int, default=1)
    ap.add_argument("--exe", required=True)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--mpiexec-flags", default="")
    ap.add_argument("--workdir", required=True)
    ARGS = ap.parse_args()
    if os.path.isdir(ARGS.workdir):
        shutil.rmtree(ARGS.workdir)
    os.makedirs(ARGS.workdir)
    checks[ARGS.check]()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


def main():
    return run_checks(CHECKS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
