#!/usr/bin/python3
"""Checks of kmdflow's compare mode (-mode compare) against the math spec (shared/spec/math.md C.2, C.6, G11).

cranks   rank independence: the compare output on np ranks against 1 rank: every particle-derived dataset
         bitwise equal, the PDE-derived ones (and hminus, hminus_band, hminus_iid, w1, energy_gap) to 1e-12.
chminus  H^-s distance against an independent direct double sum with the Bernoulli closed forms (A.3) and
         numpy's FFT of /pde/rho (Nyquist mode dropped); hminus_band, hminus_tail, hminus_iid against direct
         numpy sums; the -compare_s path (band + tail); consistency of the /compare series with the rest.
cw1      circle W1 against independent computations (equal-mass atoms at the exact quantiles of rho with the
         best cyclic shift; the circle formula with the CDF's exact antiderivative); the exact quantile facts
         W1 = L/(4N), hminus = L/(sqrt(12) N) (s = 1).
cg11     G11: quantile start, 1-D s = 1, L = 1: W1 and hminus at t = 1 fall like 1/N (slopes -1 +- 0.15).
cbad     bad compare-mode input: exit status 2, one 'kmdflow: error:' line naming the option, no file.

Same command line as tests/pde_checks.py; the run() with a time limit comes from tests/particle_checks.py.
Exit status 0 = pass; every check prints the measured numbers.
"""
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pde_checks as base  # noqa: E402  (check, path, ARGS, FAILURES)
import particle_checks as pchk  # noqa: E402  (run with a time limit)

check, path, run = base.check, base.path, pchk.run

COMPARE = ["-mode", "compare", "-quiet"]


def cload(name):
    """Every dataset of a finished compare-mode file, by path, plus the root attributes."""
    out = {}
    with h5py.File(path(name), "r") as f:
        assert int(f.attrs["complete"][0]) == 1, "output not marked complete"
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        out["attrs"] = dict(f.attrs)
    return out


# ------------------------------------------------------------------------------------- references

def kernel_1d(s, L):
    """K_s on the torus [0, L) for s = 1, 2 (math spec A.3 Bernoulli closed forms, K^(L)(x) = L^2s K^(1)(x/L))."""
    if s == 1:
        def k1(x):
            y = np.mod(np.asarray(x) / L, 1.0)
            return L**2 * ((y * y - y) / 2 + 1 / 12)
        return k1
    if s == 2:
        def k2(x):
            y = np.mod(np.asarray(x) / L, 1.0)
            return -(L**4) * (y**4 - 2 * y**3 + y**2 - 1 / 30) / 24
        return k2
    raise ValueError(f"no closed form for s = {s}")


def self_value_1d(s, L):
    """K_s(0) = (2 pi/L)^-2s 2 zeta(2s): L^2/12 (s = 1), L^4/720 (s = 2)."""
    return {1: L**2 / 12, 2: L**4 / 720}[s]


def grid_modes(rho):
    """The trigonometric interpolant of 1-D grid values without the Nyquist mode: (wavenumbers k of the band
    0 < |k| < n/2, coefficients c_k = n^-1 FFT), by numpy, and the Nyquist coefficient that was dropped."""
    n = rho.shape[-1]
    c = np.fft.fft(rho) / n
    k = np.rint(np.fft.fftfreq(n) * n).astype(int)
    band = (k != 0) & (np.abs(k) < n // 2)
    return k[band], c[band], c[0].real, c[n // 2].real


def lam(k, s, L):
    return (2 * np.pi * np.abs(k) / L) ** (-2.0 * s)


def hminus2_direct(x, rho, s, L, include_nyquist=False):
    """||mu_N - rho||^2_{H^-s} = (1/N^2) sum_ij K(X_i - X_j) [diagonal K(0) included] - (2/N) sum_i (K*rho)(X_i)
    + <rho, K*rho>, with K*rho and <rho, K*rho> from numpy's FFT of the grid values (Nyquist dropped, or kept
    as a cosine to show the check's sensitivity)."""
    K = kernel_1d(s, L)
    N = len(x)
    k, c, _, cnyq = grid_modes(rho)
    lk = lam(k, s, L)
    pair = np.sum(K(x[:, None] - x[None, :])) / N**2
    krho = np.real(np.exp(2j * np.pi * np.outer(x, k) / L) @ (lk * c))
    rkr = np.sum(lk * np.abs(c) ** 2)
    if include_nyquist:
        n = rho.shape[-1]
        ln = lam(n // 2, s, L)
        krho = krho + ln * cnyq * np.cos(np.pi * n * x / L)
        rkr += ln * cnyq**2
    return pair - 2 * np.mean(krho) + rkr


def band_parts(x, rho, s, L):
    """Direct numpy sums over the grid's band for order s: sum lambda |mu_N^ - rho^|^2, the tail
    (K_s(0) - sum_band lambda)/N and the i.i.d. expectation sqrt((K_s(0) - sum_band lambda |rho^|^2)/N)."""
    N = len(x)
    k, c, _, _ = grid_modes(rho)
    lk = lam(k, s, L)
    mu = np.mean(np.exp(-2j * np.pi * np.outer(k, x) / L), axis=1)
    k0 = self_value_1d(s, L)
    band = np.sum(lk * np.abs(mu - c) ** 2)
    tail = (k0 - np.sum(lk)) / N
    iid = math.sqrt(max(0.0, k0 - np.sum(lk * np.abs(c) ** 2)) / N)
    return band, tail, iid


# ------------------------------------------------------------------------------------------ cranks

BITWISE = ("compare/time", "compare/energy_particles", "compare/hminus_tail")  # plus everything under particles/


def cranks():
    """The same compare run on 1 and on np ranks: /particles/* (positions, times, diagnostics),
    /compare/{time,energy_particles,hminus_tail} bitwise equal; every other dataset (PDE fields and
    diagnostics, hminus, hminus_band, hminus_iid, w1, energy_gap) to 1e-12 relative to its largest value.
    Cases: 1-D iid (gaussians init, cos target, s = 1), 2-D s = 1.5 n = 32 with 300 particles, and a 1-D
    run with np - 1 particles (a rank without particles) and -compare_s 1.5 (the band + tail path)."""
    P = base.ARGS.np
    cases = (["-dim", "1", "-n", "64", "-s", "1", "-L", "1", "-init", "gaussians", "-target", "cos", "-particles", "200",
              "-ts_max_time", "0.5", "-output_dt", "0.1"],
             ["-dim", "2", "-n", "32", "-s", "1.5", "-init", "cos", "-particles", "300", "-ts_max_time", "0.2", "-output_dt", "0.05"],
             ["-dim", "1", "-n", "16", "-s", "1", "-init", "cos", "-particles", str(max(1, P - 1)), "-compare_s", "1.5",
              "-ts_max_time", "0.5", "-output_dt", "0.25"])
    for i, c in enumerate(cases):
        opts = COMPARE + ["-seed", "11"] + c
        run(1, opts + ["-output", f"cr{i}_1.h5"], tag=f"case {i} on 1 rank")
        run(P, opts + ["-output", f"cr{i}_n.h5"], tag=f"case {i} on {P} ranks")
        a, b = cload(f"cr{i}_1.h5"), cload(f"cr{i}_n.h5")
        names = sorted(k for k in a if k != "attrs")
        check(names == sorted(k for k in b if k != "attrs"), f"ranks case {i}: the same {len(names)} datasets on 1 and {P} ranks")
        bit = [n for n in names if n.startswith("particles/") or n in BITWISE]
        differ = [n for n in bit if not (n in b and a[n].shape == b[n].shape and np.array_equal(a[n], b[n], equal_nan=True))]
        check(not differ, f"ranks {' '.join(c)}: {len(bit)} particle-derived datasets bitwise equal on 1 and {P} ranks"
                          + (f"; differ: {', '.join(differ)}" if differ else ""))
        worst, where = 0.0, ""
        for n in names:
            if n in bit:
                continue
            if n not in b or a[n].shape != b[n].shape:
                worst, where = math.inf, n + " (missing or shape)"
                break
            scale = max(np.max(np.abs(a[n])), 1e-300)
            err = np.max(np.abs(a[n] - b[n])) / scale
            if not err <= worst:
                worst, where = err, n
        check(worst <= 1e-12, f"ranks case {i}: {len(names) - len(bit)} PDE-derived datasets agree to {worst:.1e} <= 1e-12 "
                              f"relative (worst {where or '-'})")
        if c[1] == "1":
            ok = np.all(np.isfinite(a["compare/w1"]))
        else:
            ok = np.all(np.isnan(a["compare/w1"])) if "compare/w1" in a else True
        check(ok, f"ranks case {i}: /compare/w1 {'finite' if c[1] == '1' else 'absent or NaN'} in {c[1]}-D")


# ----------------------------------------------------------------------------------------- chminus

def chminus_case(label, name, opts, s, L, N, compare_s=None, uniform_target=False):
    P = base.ARGS.np
    run(P, COMPARE + opts + ["-output", name], tag=label)
    d = cload(name)
    x, rho = d["particles/x"][:, :, 0], d["pde/rho"]
    t = d["compare/time"]
    sc = s if compare_s is None else compare_s
    check(len(t) >= 3 and x.shape == (len(t), N) and rho.shape[0] == len(t),
          f"{label}: {len(t)} records of {N} positions and {rho.shape[1]} grid values")
    h2 = d["compare/hminus"] ** 2
    worst_rel = worst_band = worst_tail = worst_iid = sens = 0.0
    exact_scale = 0.0
    for r in range(len(t)):
        band, tail, iid = band_parts(x[r], rho[r], sc, L)
        worst_band = max(worst_band, abs(d["compare/hminus_band"][r] - band) / band)
        worst_tail = max(worst_tail, abs(d["compare/hminus_tail"][r] - tail) / (self_value_1d(sc, L) / N))
        worst_iid = max(worst_iid, abs(d["compare/hminus_iid"][r] - iid) / iid)
        if compare_s is None:
            ref = hminus2_direct(x[r], rho[r], s, L)
            worst_rel = max(worst_rel, abs(h2[r] - ref) / ref)
            sens = max(sens, abs(hminus2_direct(x[r], rho[r], s, L, include_nyquist=True) - ref) / ref)
            exact_scale = max(exact_scale, ref)
        else:
            worst_rel = max(worst_rel, abs(h2[r] - (d["compare/hminus_band"][r] + d["compare/hminus_tail"][r])) / h2[r])
    if compare_s is None:
        check(worst_rel < 1e-10, f"{label}: hminus^2 vs direct double sum (closed-form K_{s}, numpy FFT of rho): max relative "
                                 f"error {worst_rel:.1e} < 1e-10 over {len(t)} records (max hminus^2 {exact_scale:.3e})")
        if sens > 0:
            print(f"      (keeping rho's Nyquist mode in the reference would change it by {sens:.1e} relative)")
    else:
        check(worst_rel < 4e-16, f"{label}: -compare_s {compare_s} != s: hminus^2 = hminus_band + hminus_tail to {worst_rel:.1e} (< 4e-16)")
    check(worst_band < 1e-12, f"{label}: hminus_band vs direct numpy band sum (s' = {sc}): max relative error {worst_band:.1e} < 1e-12")
    check(worst_tail < 1e-13, f"{label}: hminus_tail vs (K(0) - sum_band lambda)/N (s' = {sc}): max error {worst_tail:.1e} K(0)/N < 1e-13")
    check(worst_iid < 1e-12, f"{label}: hminus_iid vs sqrt((K(0) - sum_band lambda |rho^|^2)/N): max relative error {worst_iid:.1e} < 1e-12")
    # the /compare series against the other groups (same time, same energies)
    same = (np.array_equal(t, d["pde/time"]) and np.array_equal(t, d["particles/time"]) and np.array_equal(t, d["diagnostics/time"])
            and np.array_equal(d["compare/energy_pde"], d["diagnostics/energy"])
            and np.array_equal(d["compare/energy_particles"], d["particles/diagnostics/energy"])
            and np.array_equal(d["compare/energy_gap"], d["compare/energy_particles"] - d["compare/energy_pde"]))
    check(same, f"{label}: /compare time, energy_pde, energy_particles, energy_gap equal the PDE and particle series bitwise")
    if uniform_target:
        K = kernel_1d(s, L)
        e = np.array([0.5 * np.sum(K(xr[:, None] - xr[None, :])) / N**2 for xr in x])
        err = np.max(np.abs(d["compare/energy_particles"] - e) / e)
        check(err < 1e-12, f"{label}: energy_particles = (1/2N^2) sum_ij K(X_i - X_j) (uniform target): max relative error {err:.1e} < 1e-12")
    return d


def chminus():
    """1-D, N = 50 i.i.d. particles, exact path (s' = s): s = 1, L = 1 (cos init, gaussians target of width
    0.06 L on n = 16: nu has a Nyquist mode of ~1e-2 that the particles' K * nu and the distance's nu^ must both
    leave out) and s = 2, L = 2 pi (gaussians init of width 0.08 L on n = 16, so that rho's Nyquist mode is not
    negligible; uniform target, so energy_particles is checked too); then s = 1 with -compare_s 2 (band + tail).
    Tolerance 1e-10 relative in hminus^2 (cancellation between terms of size K(0) ~ 1/12 and hminus^2 ~ 2e-3)."""
    N = 50
    common = ["-dim", "1", "-particles", str(N), "-seed", "4", "-output_dt", "0.25"]
    chminus_case("s=1 L=1", "ch_s1.h5", common + ["-s", "1", "-L", "1", "-n", "16", "-init", "cos", "-target", "gaussians",
                                                 "-target_gaussians_widths", "0.06", "-ts_max_time", "1"], 1, 1.0, N)
    chminus_case("s=2 L=2pi", "ch_s2.h5", common + ["-s", "2", "-n", "16", "-init", "gaussians", "-ts_max_time", "2"],
                 2, 2 * math.pi, N, uniform_target=True)
    chminus_case("s=1 L=1 compare_s=2", "ch_s1c2.h5", common + ["-s", "1", "-L", "1", "-n", "64", "-init", "cos", "-target", "gaussians",
                                                              "-compare_s", "2", "-ts_max_time", "1"], 1, 1.0, N, compare_s=2)


# --------------------------------------------------------------------------------------------- cw1

def interpolant(rho, L):
    """CDF F(x) = rho([0, x]) = (1/L) int_0^x rho and density of the trigonometric interpolant (Nyquist dropped),
    as vectorised functions of x in [0, L], from numpy's FFT (powers of e^{2 pi i x/L} by cumulative products)."""
    k, c, c0, _ = grid_modes(rho)
    kp, cp = k[k > 0], c[k > 0]  # the conjugate halves double the positive ones
    assert np.array_equal(kp, np.arange(1, len(kp) + 1))

    def powers(x):
        z = np.exp(2j * np.pi * np.asarray(x) / L)
        return np.cumprod(np.broadcast_to(z[:, None], (len(z), len(kp))), axis=1)

    def cdf(x):
        return c0 * x / L + 2 * np.real((powers(x) - 1) @ (cp / (2j * np.pi * kp)))

    def dens(x):
        return c0 + 2 * np.real(powers(x) @ cp)
    return cdf, dens


def quantile_atoms(rho, L, M):
    """x_i with F(x_i) = (i - 1/2)/M: vectorised bisection on [0, L] (F increases when rho > 0) down to
    L 2^-12, then Newton steps (F' = rho/L) kept inside the bracket, until they move by < 1e-15 L."""
    cdf, dens = interpolant(rho, L)
    u = (np.arange(M) + 0.5) / M
    lo, hi = np.zeros(M), np.full(M, L)
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        below = cdf(mid) < u
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    x = 0.5 * (lo + hi)
    for _ in range(20):
        step = (cdf(x) - u) * L / dens(x)
        x = np.clip(x - step, lo, hi)
        if np.max(np.abs(step)) < 1e-15 * L:
            break
    else:
        raise AssertionError("quantile Newton iteration did not converge")
    return x


def circle_w1_equal(a, b, L, chunk=512):
    """Circle W1 between two equal-weight lists of M points: min over the M cyclic shifts k of the mean arc
    distance between a_i and b_{i+k} (both sorted). For equal weights an optimal plan is a permutation
    (Birkhoff), and on the circle one that is a cyclic shift of the sorted orders."""
    from numpy.lib.stride_tricks import sliding_window_view
    a, b = np.sort(a), np.sort(b)
    M = len(a)
    win = sliding_window_view(np.concatenate([b, b[:-1]]), M)  # row k: b_k, ..., b_{k+M-1} (cyclically)
    best = math.inf
    for k0 in range(0, M, chunk):
        diff = np.abs(win[k0:k0 + chunk] - a[None, :])
        best = min(best, float(np.min(np.mean(np.minimum(diff, L - diff), axis=1))))
    return best


def circle_w1_exact(x, rho, L):
    """Circle W1 = min_m int_0^L |G - m| dx, G(x) = mu_N([0, x]) - F(x) (math spec C.6), evaluated exactly for the
    trigonometric interpolant: F and its antiderivative A(x) = int_0^x F in closed form from numpy's FFT, and on
    each piece between sorted particles G - m = c_j - m - F(x) is decreasing, so its one zero is found by
    bisection and int |G - m| follows from A. The median m (|{G > m}| = L/2) by bisection. An independent
    implementation (no Hermite interpolation, no grid nodes as breakpoints)."""
    k, ck, c0, _ = grid_modes(rho)
    kp, cp = k[k > 0], ck[k > 0]
    a = cp / (2j * np.pi * kp)

    def phases(y):
        return np.exp(2j * np.pi * np.multiply.outer(np.asarray(y, float), kp) / L)

    def F(y):
        return c0 * y / L + 2 * np.real((phases(y) - 1) @ a)

    def A(y):
        return c0 * y * y / (2 * L) + 2 * np.real((phases(y) - 1) @ (a * L / (2j * np.pi * kp)) - y * np.sum(a))

    N = len(x)
    z = np.concatenate([[0.0], np.sort(x), [L]])
    cnt = np.arange(N + 1) / N  # mu_N([0, x]) on (z_j, z_j+1)
    za, zb = z[:-1], z[1:]
    Fa, Fb, Aa, Ab = F(za), F(zb), A(za), A(zb)

    def parts(m):
        t = cnt - m
        lo, hi = za.copy(), zb.copy()
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            pos = t - F(mid) > 0
            lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
        xs = np.where(t - Fb >= 0, zb, np.where(t - Fa <= 0, za, 0.5 * (lo + hi)))  # G > m on [z_j, xs)
        Ax = A(xs)
        above = t * (xs - za) - (Ax - Aa)
        below = t * (zb - xs) - (Ab - Ax)
        return np.sum(xs - za), float(np.sum(above) - np.sum(below))

    G = np.concatenate([cnt - Fa, cnt - Fb])
    lo, hi = G.min(), G.max()
    for _ in range(100):
        m = 0.5 * (lo + hi)
        if parts(m)[0] > L / 2:
            lo = m
        else:
            hi = m
    return parts(0.5 * (lo + hi))[1]


def cw1():
    """W1 against independent computations: N = 12 i.i.d. particles, cos init (n = 64), L = 1 and L = 2 pi
    (with a cos target), t = 0, 0.5, 1.
    (a) atoms: rho becomes M = r N = 4800 atoms at its exact quantiles u_i = (i - 1/2)/M (bisection and Newton
    on the Fourier-series CDF), each particle r = 400 copies, and the circle W1 between the two equal-weight
    lists is the best cyclic shift. Per quantile cell, int |Q(u) - Q(u_i)| du <= (L/min rho)/(4 M^2), so
    W1(rho, atoms) <= L/(4 M min rho) <= L/(2 M min rho), and |w1 - W1(mu_N, atoms)| <= L/(2 M min rho) + H.
    (b) exact: circle_w1_exact (closed-form CDF antiderivative, exact roots), |w1 - W1| <= H + 1e-13 L, where
    H = (L/n)^4 max|rho'''|/384 bounds the C code's cubic Hermite error (breakpoints at most L/n apart;
    max|rho'''| <= 2 sum_k>0 |rho^_k| (2 pi k/L)^3). The measured differences are printed.
    Then the exact quantile facts (math spec C.2, uniform target, s = 1): uniform init, N = 10, L = 1 and 2 pi:
    w1 = L/(4N) and hminus = L/(sqrt(12) N) to 1e-12 relative at every output time."""
    P = base.ARGS.np
    N, r, n = 12, 400, 64
    M = N * r
    for L, extra in ((1.0, ["-L", "1"]), (2 * math.pi, ["-target", "cos", "-target_cos_amp", "0.3"])):
        name = f"w1_{'1' if L == 1 else '2pi'}.h5"
        run(P, COMPARE + ["-dim", "1", "-s", "1", "-n", str(n), "-init", "cos", "-particles", str(N), "-seed", "9",
                          "-ts_max_time", "1", "-output_dt", "0.5", "-output", name] + extra)
        d = cload(name)
        worst_a = worst_e = 0.0  # as fractions of the tolerance
        rep_a = rep_e = ""
        for t in range(len(d["compare/time"])):
            rho, x, w1 = d["pde/rho"][t], d["particles/x"][t, :, 0], d["compare/w1"][t]
            _, dens = interpolant(rho, L)
            rmin = float(np.min(dens(np.linspace(0, L, 64 * len(rho), endpoint=False))))
            assert rmin > 0
            k, ck, _, _ = grid_modes(rho)
            herm = (L / n) ** 4 * 2 * np.sum(np.abs(ck[k > 0]) * (2 * np.pi * k[k > 0] / L) ** 3) / 384
            atoms = circle_w1_equal(quantile_atoms(rho, L, M), np.repeat(x, r), L)
            exact = circle_w1_exact(x, rho, L)
            tol_a, tol_e = L / (2 * M * rmin) + herm, herm + 1e-13 * L
            ea, ee = abs(w1 - atoms), abs(w1 - exact)
            print(f"      L = {L:.4g} t = {d['compare/time'][t]:g}: w1 = {w1:.12f}; atoms {atoms:.12f} (diff {ea:.1e}, bound {tol_a:.1e}); "
                  f"exact {exact:.12f} (diff {ee:.1e}, bound {tol_e:.1e}); atoms vs exact {abs(atoms - exact):.1e}; min rho {rmin:.3f}")
            if ea / tol_a >= worst_a:
                worst_a, rep_a = ea / tol_a, f"{ea:.1e} <= {tol_a:.1e}"
            if ee / tol_e >= worst_e:
                worst_e, rep_e = ee / tol_e, f"{ee:.1e} <= {tol_e:.1e}"
        check(worst_a <= 1, f"W1 L = {L:.4g}, N = {N}: |w1 - W1(mu_N, {M} quantile atoms)| = {rep_a} (L/(2M min rho) + Hermite bound)")
        check(worst_e <= 1, f"W1 L = {L:.4g}, N = {N}: |w1 - exact circle W1| = {rep_e} (Hermite bound (L/n)^4 max|rho'''|/384 + 1e-13 L)")
    for L, lopt in ((1.0, "1"), (2 * math.pi, "6.283185307179586")):
        N = 10
        name = f"w1_q{lopt[:1]}.h5"
        run(P, COMPARE + ["-dim", "1", "-s", "1", "-L", lopt, "-n", "32", "-init", "uniform", "-particles", str(N), "-particle_init",
                          "quantile", "-ts_max_time", "1", "-output_dt", "0.25", "-output", name])
        d = cload(name)
        ew = np.max(np.abs(d["compare/w1"] * 4 * N / L - 1))
        eh = np.max(np.abs(d["compare/hminus"] * math.sqrt(12) * N / L - 1))
        check(ew < 1e-12 and eh < 1e-12, f"quantile start, uniform, N = {N}, L = {L:.4g}: w1 = L/(4N) to {ew:.1e} and "
                                          f"hminus = L/(sqrt(12) N) to {eh:.1e} relative (< 1e-12) at {len(d['compare/time'])} times")


# -------------------------------------------------------------------------------------------- cg11

def cg11():
    """G11 (math spec C.2, C.6): 1-D, s = 1, L = 1, cos init, uniform target, quantile start, n = 1024,
    N = 128, 256, 512, t in [0, 1]: the log-log slopes of w1 and hminus against N at t = 1 are -1 +- 0.15.
    The particles sit at the midpoint quantiles of rho_t, so w1 and hminus are also close to 1/(4N) and
    1/(sqrt(12) N): their deviations are the periodic midpoint rule's in the quantile variable (exponentially
    small in N) plus the time-stepping errors of both solvers (~2e-12 absolute seen); 1e-10 absolute is asked."""
    P = base.ARGS.np
    Ns = (128, 256, 512)
    w1, hm = [], []
    for N in Ns:
        name = f"g11_{N}.h5"
        run(P, COMPARE + ["-dim", "1", "-s", "1", "-L", "1", "-n", "1024", "-init", "cos", "-particles", str(N), "-particle_init", "quantile",
                          "-ts_max_time", "1", "-output_dt", "0.5", "-output", name])
        d = cload(name)
        assert abs(d["compare/time"][-1] - 1) < 1e-12
        w1.append(d["compare/w1"])
        hm.append(d["compare/hminus"])
        dw = np.max(np.abs(d["compare/w1"] - 1 / (4 * N)))
        dh = np.max(np.abs(d["compare/hminus"] - 1 / (math.sqrt(12) * N)))
        check(dw < 1e-10 and dh < 1e-10, f"G11 N = {N}: |w1 - 1/(4N)| = {dw:.1e}, |hminus - 1/(sqrt(12) N)| = {dh:.1e} at all times "
                                          f"(< 1e-10 absolute, {1e-10 * 4 * N:.0e} relative)")
    sw = np.polyfit(np.log(Ns), np.log([w[-1] for w in w1]), 1)[0]
    sh = np.polyfit(np.log(Ns), np.log([h[-1] for h in hm]), 1)[0]
    check(abs(sw + 1) <= 0.15, f"G11 slope of W1 vs N at t = 1: {sw:.6f} (-1 +- 0.15; W1 = {', '.join(f'{w[-1]:.4e}' for w in w1)})")
    check(abs(sh + 1) <= 0.15, f"G11 slope of H^-1 distance vs N at t = 1: {sh:.6f} (-1 +- 0.15; hminus = {', '.join(f'{h[-1]:.4e}' for h in hm)})")


# -------------------------------------------------------------------------------------------- cbad

CBAD = [  # (options, words the one-line message must contain); every case must exit with status 2
    (["-dim", "1", "-compare_s", "0.4"], ["-compare_s 0.4"]),
    (["-dim", "2", "-compare_s", "0.9"], ["-compare_s 0.9"]),
    (["-dim", "2", "-s", "1"], ["-s 1", "2 s' > d", "-compare_s"]),  # the default s' = s = 1 is not enough in 2-D
    (["-dim", "1", "-kernel", "gaussian"], ["-kernel gaussian", "sobolev"]),
    (["-dim", "1", "-domain", "free"], ["-domain free", "torus"]),
    (["-dim", "1", "-target_samples", "file:samples.h5:y"], ["-target_samples"]),
    (["-dim", "1", "-particles_ts_max_time", "2"], ["-particles_ts_max_time 2", "-ts_max_time 1"]),
]


def cbad_case(k, opts, words, timeout=20):
    out = f"cbad{k}."
    full = COMPARE + ["-n", "16", "-particles", "10", "-ts_max_time", "1", "-output", out + "h5"] + opts
    code, _, err = run(base.ARGS.np, full, expect_rc=None, timeout=timeout)
    lines = [l for l in err.splitlines() if l.startswith("kmdflow: error:")]
    msg = lines[0] if lines else "(no kmdflow: error line)"
    left = sorted(f for f in os.listdir(base.ARGS.workdir) if f.startswith(out))  # OUT.h5, OUT.h5.part, OUT.xmf, OUT-particles.xmf
    ok = code == 2 and len(lines) == 1 and all(w in msg for w in words) and not left and "PETSC ERROR" not in err
    status = f"killed after {timeout} s (hung)" if code is None else f"exit {code}"
    return ok, f"bad input {' '.join(opts)}: {status} (want 2), message: {msg}" + (f", left {left}" if left else "")


def cbad():
    """Every bad compare-mode input ends with exit status 2, exactly one 'kmdflow: error:' line naming the
    option, no PETSc traceback and no output (OUT.h5, OUT.h5.part, OUT.xmf, OUT-particles.xmf). Four at a time
    (Open MPI spends 1-2 s tearing down every job that exits non-zero)."""
    pchk.write_points("samples.h5", y=np.zeros((20, 1)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: cbad_case(case[0], *case[1]), enumerate(CBAD)))
    for ok, report in results:
        check(ok, report)


CHECKS = {"cranks": cranks, "chminus": chminus, "cw1": cw1, "cg11": cg11, "cbad": cbad}


def main():
    return base.run_checks(CHECKS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
