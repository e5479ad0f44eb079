#!/usr/bin/python3
"""Checks of kmdflow's particle mode (-mode particles) against the math spec (shared/spec/math.md).

pg7   G7 / A.4: E(t_b) - E(t_a) = -int_a^b mean_v2 dt (the particle energy law) and E monotone.
pg10  G10 / C.4: the 1-D s = 2, L = 1 lattice is stationary and a small cosine mode q of the
      displacement decays at omega_q = (sin^-2(pi q/N) - 1/3) / (4 N^2).
pmmd  B.6: the Gaussian-kernel MMD flow toward samples: energy equals MMD^2/2 computed here,
      decreases to << E(0), and the particles take the samples' mean and spread.
pbad  bad particle-mode input: exit status 2, one 'kmdflow: error:' line naming the option, no file.

Same command line as tests/pde_checks.py, whose check()/path()/simpson() helpers are reused.
Exit status 0 = pass; every failure prints the measured numbers.
"""
import math
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pde_checks as base  # noqa: E402  (run-independent helpers: check, path, simpson)

check, path, simpson = base.check, base.path, base.simpson

TIGHT = ["-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-12", "-ts_atol", "1e-12"]
PARTICLES = ["-mode", "particles", "-quiet"]


def run(np_, opts, expect_rc=0, timeout=120, tag="run"):
    """Runs kmdflow on np_ ranks in the work directory; returns (rc, stdout, stderr), rc None if it
    hung. A run that outlives timeout gets SIGTERM (mpiexec passes it on to the ranks), then SIGKILL."""
    a = base.ARGS
    cmd = [a.mpiexec, "-n", str(np_)] + a.mpiexec_flags.split() + [a.exe] + opts
    proc = subprocess.Popen(cmd, cwd=a.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.terminate()  # mpiexec forwards SIGTERM to the ranks (each has its own process group)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        rc = None
    if expect_rc is not None and rc != expect_rc:
        sys.stdout.write(out[-3000:])
        sys.stderr.write(err[-3000:])
        raise SystemExit(f"FAIL {tag}: exit status {rc} (None = killed after {timeout} s), expected {expect_rc}: {' '.join(cmd)}")
    return rc, out, err


def pload(name):
    """Diagnostics, positions and output times of a finished particle-mode file."""
    with h5py.File(path(name), "r") as f:
        assert int(f.attrs["complete"][0]) == 1, "output not marked complete"
        d = {k: f["diagnostics"][k][()] for k in f["diagnostics"]}
        d["x"] = f["particles/x"][()]
        d["ptime"] = f["particles/time"][()]
    return d


def write_points(name, **datasets):
    with h5py.File(path(name), "w") as f:
        for k, v in datasets.items():
            f[k] = np.asarray(v, dtype=np.float64)


def make_mmd_files():
    """mmd.h5: 100 particles x ~ N(0, 0.5^2 I) and 150 samples y ~ N((0.8, -0.4), 0.5^2 I), fixed seed.
    The blobs overlap, so the Gaussian-kernel flow (h = 1) does not stall (math spec B.6 caveat i)."""
    rng = np.random.default_rng(7)
    y = rng.normal([0.8, -0.4], 0.5, size=(150, 2))
    x = rng.normal([0.0, 0.0], 0.5, size=(100, 2))
    write_points("mmd.h5", x=x, y=y)
    return x, y


MMD_OPTS = ["-dim", "2", "-domain", "free", "-kernel", "gaussian", "-kernel_h", "1", "-particles", "100",
            "-init", "file:mmd.h5:x", "-target_samples", "file:mmd.h5:y"]


# ---------------------------------------------------------------------------------------------- pg7

def energy_law(name, label):
    """Compares the energy drop with the integrated mean_v2 = (1/N) sum |V_i|^2 (math spec A.4:
    dE/dt = -(1/N) sum |V_i|^2; G7). Simpson on the fine output grid is Richardson-extrapolated with
    the 2h grid (error O(h^6)); each 2-interval panel is also checked with plain Simpson."""
    d = pload(name)
    t, e, v2 = d["time"], d["energy"], d["mean_v2"]
    drop = e[0] - e[-1]
    s_h, s_2h = simpson(t, v2), simpson(t[::2], v2[::2])
    rich = s_h + (s_h - s_2h) / 15
    rel = abs(drop - rich) / drop
    check(rel < 1e-9, f"G7 {label}: E(0)-E(T) = {drop:.12e} vs int mean_v2 dt = {rich:.12e} (Simpson+Richardson), "
                      f"relative {rel:.1e} < 1e-9 (plain Simpson {abs(drop - s_h) / drop:.1e})")
    h = t[2] - t[0]
    panel = (e[:-2:2] - e[2::2]) - h / 6 * (v2[:-2:2] + 4 * v2[1:-1:2] + v2[2::2])
    worst = np.max(np.abs(panel)) / drop
    check(worst < 1e-7, f"G7 {label}: per-panel E(t_n)-E(t_n+2) vs Simpson over [t_n, t_n+2] (h = {h:g}): max error {worst:.1e} x drop < 1e-7")
    rise = np.max(np.diff(e))
    check(rise <= 1e-14 * e[0], f"G7 {label}: energy non-increasing over {len(t)} records (largest step change {rise:.1e})")


def pg7():
    """G7 for particles: two 1-D Sobolev torus cases (s = 1, 1.5, L = 2 pi, iid uniform init) and the
    2-D free Gaussian-kernel flow toward samples, all with 5dp at rtol = atol = 1e-12."""
    make_mmd_files()
    cases = (("1-D sobolev s=1", ["-dim", "1", "-s", "1", "-init", "uniform", "-particles", "200", "-ts_max_time", "1", "-output_dt", "0.01"]),
             ("1-D sobolev s=1.5", ["-dim", "1", "-s", "1.5", "-init", "uniform", "-particles", "200", "-ts_max_time", "2", "-output_dt", "0.01"]),
             ("2-D gaussian MMD", MMD_OPTS + ["-ts_max_time", "4", "-output_dt", "0.02"]))
    for k, (label, opts) in enumerate(cases):
        name = f"pg7_{k}.h5"
        run(base.ARGS.np, PARTICLES + opts + TIGHT + ["-output", name])
        energy_law(name, label)


# --------------------------------------------------------------------------------------------- pg10

G10_N = 16
G10_EPS = 1e-7


def lattice_rate(q, n=G10_N):
    """Math spec C.4, s = 2, L = 1: decay rate of displacement mode q of the n-particle lattice."""
    return (1 / math.sin(math.pi * q / n) ** 2 - 1 / 3) / (4 * n * n)


def g10_lattice():
    """-particle_init lattice: x_i = (i + 1/2)/N; stationary: mean_v2 <= 1e-28 (|V| <= 1e-14) at every
    record and positions unchanged up to t = 1000 (~0.65/omega_min)."""
    N = G10_N
    run(base.ARGS.np, PARTICLES + ["-dim", "1", "-s", "2", "-L", "1", "-particle_init", "lattice", "-init", "uniform",
                                   "-particles", str(N), "-ts_rk_type", "4", "-ts_dt", "5", "-ts_max_time", "1000",
                                   "-output_dt", "100", "-output", "pg10_lat.h5"])
    d = pload("pg10_lat.h5")
    x = d["x"][:, :, 0]
    lat = (np.arange(N) + 0.5) / N
    off = np.max(np.abs(x[0] - lat))
    check(off < 1e-15, f"G10 lattice init: max |x_i - (i+1/2)/N| = {off:.1e} < 1e-15")
    v2 = np.max(d["mean_v2"])
    check(v2 <= 1e-28, f"G10 lattice stationary: max mean_v2 = {v2:.1e} <= 1e-28 (|V| <= 1e-14)")
    moved = np.max(np.abs(x - x[0]))
    check(moved <= 1e-15, f"G10 lattice stationary: max position change up to t = {d['time'][-1]:g}: {moved:.1e} <= 1e-15")


def g10_mode(q):
    """Displacement eps cos(2 pi q i/N) (eps = 1e-7, so the (eps N)^2 ~ 3e-12 nonlinear correction is
    negligible): the mode amplitude, fitted over t in [0, 2/omega_q] (decay by e^2) from /particles/x,
    decays at omega_q to 1e-6 relative (fixed RK4 with omega dt = 0.005: (omega dt)^4/120 ~ 5e-12;
    round-off of positions ~ 0.5 against eps limits it to ~1e-8), and no other mode grows above
    1e-6 eps (the lattice Jacobian is circulant)."""
    N, eps = G10_N, G10_EPS
    w = lattice_rate(q)
    T = 2 / w
    i = np.arange(N)
    lat = (i + 0.5) / N
    c = np.cos(2 * np.pi * q * i / N)
    write_points(f"pg10_q{q}_init.h5", x=(lat + eps * c)[:, None])
    name = f"pg10_q{q}.h5"
    run(base.ARGS.np, PARTICLES + ["-dim", "1", "-s", "2", "-L", "1", "-particles", str(N), "-init", f"file:pg10_q{q}_init.h5:x",
                                   "-ts_rk_type", "4", "-ts_dt", repr(T / 400), "-ts_max_time", repr(T),
                                   "-output_dt", repr(T / 20), "-output", name])
    d = pload(name)
    disp = d["x"][:, :, 0] - lat
    amp = disp @ c / (c @ c)
    rate = -np.polyfit(d["ptime"], np.log(amp), 1)[0]
    rel = abs(rate - w) / w
    check(rel < 1e-6, f"G10 N={N} q={q}: fitted decay rate {rate:.10e} vs omega_q = {w:.10e}, relative {rel:.1e} < 1e-6 "
                      f"(amplitude ratio {amp[-1] / amp[0]:.4f} over t = {T:.1f})")
    rest = np.max(np.abs(disp - np.outer(amp, c))) / eps
    check(rest < 1e-6, f"G10 N={N} q={q}: other modes stay below {rest:.1e} eps < 1e-6 eps")


def pg10():
    """G10: 1-D particle lattice, s = 2, L = 1, N = 16: stationarity, then the decay rates of modes
    q = N/2 (slowest, omega = 1/(6N^2)), N/4 and 1 against math spec C.4."""
    assert abs(lattice_rate(G10_N // 2) - 1 / (6 * G10_N**2)) < 1e-18
    g10_lattice()
    for q in (G10_N // 2, G10_N // 4, 1):
        g10_mode(q)


# --------------------------------------------------------------------------------------------- pmmd

def gaussian_mmd_energy(x, y, h):
    """(1/2) MMD^2 with k = exp(-|r|^2/(2h^2)), both measures empirical, diagonals included (B.6)."""
    def kmean(a, b):
        return np.mean(np.exp(-np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1) / (2 * h * h)))
    return 0.5 * (kmean(x, x) - 2 * kmean(x, y) + kmean(y, y))


def pmmd():
    """MMD flow, Gaussian kernel h = 1, 2-D free space, 100 particles toward 150 samples (math spec B.6):
    the energy diagnostic equals (1/2)MMD^2 computed here from /particles/x (to 1e-12 E(0)) and the
    centroid diagnostics equal the particle mean; E is non-increasing, E(200) < 1e-3 E(0); the
    particle mean ends within 1% of its initial distance to the sample mean, and the particle spread
    per axis within 5% of the samples'."""
    x0, y = make_mmd_files()
    run(base.ARGS.np, PARTICLES + MMD_OPTS + ["-ts_max_time", "200", "-output_dt", "10", "-ts_rtol", "1e-10", "-ts_atol", "1e-10",
                                             "-output", "pmmd.h5"])
    d = pload("pmmd.h5")
    e, x = d["energy"], d["x"]
    check(np.array_equal(x[0], x0), "MMD: /particles/x[0] is the -init file bit for bit")
    ref = np.array([gaussian_mmd_energy(xk, y, 1.0) for xk in x])
    err = np.max(np.abs(e - ref)) / e[0]
    check(err < 1e-12, f"MMD: energy diagnostic vs (1/2)MMD^2 from the positions: max difference {err:.1e} E(0) < 1e-12 E(0)")
    cen = np.stack([d["centroid_1"], d["centroid_2"]], axis=1)
    cerr = np.max(np.abs(cen - x.mean(axis=1)))
    check(cerr < 1e-14, f"MMD: centroid_1/2 diagnostics equal the particle mean to {cerr:.1e} < 1e-14")
    rise = np.max(np.diff(e))
    check(rise <= 1e-14 * e[0], f"MMD: energy non-increasing over {len(e)} records (largest step change {rise:.1e})")
    ratio = e[-1] / e[0]
    check(ratio < 1e-3, f"MMD: E(T)/E(0) = {e[-1]:.3e}/{e[0]:.3e} = {ratio:.1e} < 1e-3")
    ybar = y.mean(axis=0)
    d0, d1 = np.linalg.norm(cen[0] - ybar), np.linalg.norm(cen[-1] - ybar)
    check(d1 < 0.01 * d0, f"MMD: |particle mean - sample mean| from {d0:.3e} to {d1:.3e} (< 1% of the start)")
    spread = np.max(np.abs(x[-1].std(axis=0) / y.std(axis=0) - 1))
    check(spread < 0.05, f"MMD: particle std per axis within {spread:.1%} of the samples' std (< 5%)")


# --------------------------------------------------------------------------------------------- pbad

def make_bad_files():
    """bad.h5: datasets for N = 10 particles in 2-D (and M = 20 samples) with one defect each."""
    def with_value(shape, row, col, value):
        a = np.zeros(shape)
        a[row, col] = value
        return a
    write_points("bad.h5", ok=np.zeros((10, 2)), cols3=np.zeros((10, 3)), rows11=np.zeros((11, 2)), flat=np.zeros(10),
                 nan=with_value((10, 2), 3, 1, np.nan), inf=with_value((10, 2), 7, 0, np.inf),
                 s_cols3=np.zeros((20, 3)), s_nan=with_value((20, 2), 5, 0, np.nan), s_inf=with_value((20, 2), 19, 1, -np.inf))
    with h5py.File(path("bad.h5"), "a") as f:
        f["ints"] = np.zeros((10, 2), dtype=np.int32)


PBAD_DEFAULTS = {"-dim": "2", "-domain": "free", "-kernel": "gaussian", "-init": "uniform", "-particles": "10"}

PBAD = [  # (options, words the one-line message must contain); every case must exit with status 2
    (["-particles", "0"], ["-particles 0"]),
    (["-particles", "-5"], ["-particles -5"]),
    (["-particles", "2.5"], ["-particles 2.5", "integer"]),
    (["-init", "file:bad.h5:cols3"], ["-init file:bad.h5:cols3", "shape 10 x 3"]),
    (["-init", "file:bad.h5:rows11"], ["-init file:bad.h5:rows11", "shape 11 x 2"]),
    (["-init", "file:bad.h5:flat"], ["-init file:bad.h5:flat", "shape 10"]),
    (["-init", "file:bad.h5:ints"], ["-init file:bad.h5:ints", "float64"]),
    (["-init", "file:bad.h5:nan"], ["-init file:bad.h5:nan", "non-finite"]),
    (["-init", "file:bad.h5:inf"], ["-init file:bad.h5:inf", "non-finite"]),
    (["-init", "file:missing.h5:ok"], ["-init file:missing.h5", "does not exist"]),
    (["-init", "file:bad.h5:nosuch"], ["-init file:bad.h5:nosuch", "no dataset nosuch"]),
    (["-target_samples", "file:bad.h5:s_cols3"], ["-target_samples file:bad.h5:s_cols3", "M x 2"]),
    (["-target_samples", "file:bad.h5:s_nan"], ["-target_samples file:bad.h5:s_nan", "non-finite"]),
    (["-target_samples", "file:bad.h5:s_inf"], ["-target_samples file:bad.h5:s_inf", "non-finite"]),
    (["-target_samples", "file:missing.h5:y"], ["-target_samples file:missing.h5", "does not exist"]),
    (["-target_samples", "file:bad.h5:nosuch"], ["-target_samples file:bad.h5:nosuch", "no dataset nosuch"]),
    (["-kernel_h", "0"], ["-kernel_h 0", "> 0"]),
    (["-kernel_h", "-1"], ["-kernel_h -1", "> 0"]),
    (["-kernel", "riesz", "-kernel_q", "2"], ["-kernel_q 2", "(0, 2)"]),
    (["-kernel", "riesz", "-kernel_q", "0"], ["-kernel_q 0", "(0, 2)"]),
    (["-kernel", "imq", "-kernel_c", "0"], ["-kernel_c 0"]),
    (["-kernel", "riesz", "-domain", "torus"], ["-kernel riesz", "-domain torus"]),
    (["-kernel", "nosuch"], ["-kernel nosuch", "gaussian"]),
    (["-particels", "10"], ["unknown option -particels", "did you mean -particles"]),
    (["-particle_init", "bogus"], ["-particle_init bogus", "lattice"]),
    (["-particle_init", "lattice"], ["-particle_init lattice", "-particles 10"]),
    (["-particle_init", "lattice", "-dim", "3", "-particles", "16"], ["-particle_init lattice", "-particles 16"]),
]


def bad_case(k, opts, words, timeout=15):
    """Runs bad-input case k with its own output name; returns (passed, one-line report)."""
    out = f"pbad{k}."
    full = PARTICLES + opts + [w for key, v in PBAD_DEFAULTS.items() if key not in opts for w in (key, v)]
    full += ["-ts_max_time", "0.1", "-output", out + "h5"]
    code, _, err = run(base.ARGS.np, full, expect_rc=None, timeout=timeout)
    lines = [l for l in err.splitlines() if l.startswith("kmdflow: error:")]
    msg = lines[0] if lines else "(no kmdflow: error line)"
    left = sorted(f for f in os.listdir(base.ARGS.workdir) if f.startswith(out))  # OUT.h5, OUT.h5.part, OUT.xmf
    ok = code == 2 and len(lines) == 1 and all(w in msg for w in words) and not left and "PETSC ERROR" not in err
    status = f"killed after {timeout} s (hung)" if code is None else f"exit {code}"
    return ok, f"bad input {' '.join(opts)}: {status} (want 2), message: {msg}" + (f", left {left}" if left else "")


def pbad():
    """Every bad particle-mode input ends with exit status 2, exactly one 'kmdflow: error:' line naming
    the option (and the problem), no PETSc traceback, and no OUT.h5, OUT.h5.part or OUT.xmf. Cases run
    three at a time: Open MPI spends 1-2 s tearing down every job that exits non-zero."""
    make_bad_files()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda case: bad_case(case[0], *case[1]), enumerate(PBAD)))
    for ok, report in results:
        check(ok, report)


CHECKS = {"pg7": pg7, "pg10": pg10, "pmmd": pmmd, "pbad": pbad}


def main():
    return base.run_checks(CHECKS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
