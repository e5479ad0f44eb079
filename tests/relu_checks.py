#!/usr/bin/python3
"""Checks of -problem relu, the shallow ReLU teacher-student network on S^d as a WFR flow (math spec F.2, G15;
docs/relu.md). The kernel itself (kappa against Monte Carlo, quadrature, kappa' against differences) is
tests/unit/test_relu.c.

closed    J = 1 student, K = 1 teacher (from a file, direction not normalised): the state reduces to c = theta.theta*
          and m with dc/dt = beta nu kappa'(c) (1 - c^2), dm/dt = -alpha m (m kappa(1) - nu kappa(c)), integrated here by
          RK4 with 1000 steps per unit time (error ~1e-14: the rates are O(0.1)); c(t), m(t) and the loss 1/2 (m^2 kappa(1) - 2 m nu kappa(c) + nu^2 kappa(1))
          must match; also |theta| = 1 after every output (the post-step projection).
diss      dF/dt = -beta sum m |grad_S V|^2 - alpha sum m V^2 (theta_m with (2, 1) and (0.5, 3), d = 2 and 4) and the
          (a, w) form (unbalanced): F(0) - F(T) = int D dt (Simpson + Richardson), centred differences of the
          recorded loss against -D at two output spacings (error O(h^2)), F non-increasing.
balance   -relu_param aw, RK4 with fixed steps dt and dt/2: a^2 - |w|^2 conserved to O(dt^4) (order measured from the
          drift at the two steps); balanced (a, w) runs reproduce the (theta, m) runs (theta = w/|w|, m = a|w|/J, time
          rescaled by J) to integrator accuracy, again with the order measured.
ranks     every dataset of the output bitwise equal on 1..NP ranks (J = 37 with -ring_leaf 4: uneven blocks; J = 3:
          empty ranks; theta_m and aw; a teacher file).
badinput  d out of range, J <= 0, malformed teacher files, negative teacher masses, bad option combinations: exit
          status 2 with one 'kmdflow: error:' line naming the problem, and no output file left (flow_checks.bad_case;
          a later -dim overrides its -dim 2).

Same command line as tests/pde_checks.py. Exit status 0 = pass; every check prints the measured numbers.
"""
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pde_checks as base  # noqa: E402  (check, path, simpson, run_checks)
import particle_checks as pc  # noqa: E402  (run with a timeout)
import flow_checks as fc  # noqa: E402  (bad_case: exit status, one error line, no output left)

check, path, simpson = base.check, base.path, base.simpson

RELU = ["-problem", "relu"]
TIGHT = ["-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-12", "-ts_atol", "1e-12"]
RK4 = ["-ts_type", "rk", "-ts_rk_type", "4", "-ts_adapt_type", "none"]


def run(np_, opts, expect_rc=0, timeout=300):
    return pc.run(np_, RELU + opts + ["-quiet"], expect_rc=expect_rc, timeout=timeout)


def np_():
    return base.ARGS.np


def load(name):
    with h5py.File(path(name), "r") as f:
        assert int(f.attrs["complete"][0]) == 1, f"{name} not marked complete"
        d = {k: f["diagnostics"][k][()] for k in f["diagnostics"]}
        d["theta"] = f["particles/x"][()]
        d["m"] = f["particles/w"][()][..., 0]
        d["ptime"] = f["particles/time"][()]
    return d


def kappa(d, c):
    c = np.clip(c, -1.0, 1.0)
    return (np.sqrt((1 - c) * (1 + c)) + (np.pi - np.arccos(c)) * c) / (2 * np.pi * (d + 1))


def kappa1(d, c):
    c = np.clip(c, -1.0, 1.0)
    return (np.pi - np.arccos(c)) / (2 * np.pi * (d + 1))


# ------------------------------------------------------------------------------------------ closed

def closed():
    d, nu, alpha, beta = 2, 0.7, 2.0, 1.0
    wstar = np.array([[0.3, -0.4, 1.2]])
    tstar = wstar[0] / np.linalg.norm(wstar[0])
    with h5py.File(path("teacher1.h5"), "w") as f:
        f["nu"] = np.hstack([wstar, [[nu]]])
    T, dt_out = 6.0, 0.5
    run(np_(), ["-dim", str(d), "-particles", "1", "-relu_teacher", "file:teacher1.h5:nu", "-relu_student_mass", "0.4", "-seed", "5",
                "-ts_max_time", str(T), "-output_dt", str(dt_out), "-output", "closed.h5"] + TIGHT)
    r = load("closed.h5")
    th, m = r["theta"][:, 0, :], r["m"][:, 0]
    c = th @ tstar
    k1 = kappa(d, 1.0)

    def f(y):
        cc, mm = y
        return np.array([beta * nu * kappa1(d, cc) * (1 - cc * cc), -alpha * mm * (mm * k1 - nu * kappa(d, cc))])

    y, h, ref = np.array([c[0], m[0]]), 1.0 / 1000, [np.array([c[0], m[0]])]
    for _ in range(len(r["time"]) - 1):
        for _ in range(int(round(dt_out / h))):
            a1 = f(y); a2 = f(y + h / 2 * a1); a3 = f(y + h / 2 * a2); a4 = f(y + h * a3)
            y = y + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4)
        ref.append(y.copy())
    ref = np.array(ref)
    loss = 0.5 * (ref[:, 1] ** 2 * k1 - 2 * ref[:, 1] * nu * kappa(d, ref[:, 0]) + nu * nu * k1)
    loss0 = 0.5 * (m[0] ** 2 * k1 - 2 * m[0] * nu * kappa(d, c[0]) + nu * nu * k1)
    e0 = abs(r["loss"][0] - loss0) / loss0
    check(e0 < 1e-14, f"closed J = K = 1: F(0) = {r['loss'][0]:.15e} vs 1/2 (m^2 k(1) - 2 m nu k(c) + nu^2 k(1)) = {loss0:.15e}, relative {e0:.1e} < 1e-14")
    ec, em = np.max(np.abs(c - ref[:, 0])), np.max(np.abs(m - ref[:, 1]))
    el = np.max(np.abs(r["loss"] - loss)) / loss0
    check(ec < 1e-9 and em < 1e-9, f"closed J = K = 1: c(t) = theta.theta* and m(t) follow the (c, m) ODE to t = {T:g}: max errors {ec:.1e}, {em:.1e} < 1e-9 "
                                   f"(c {c[0]:.4f} -> {c[-1]:.6f}, m {m[0]:.3f} -> {m[-1]:.6f}, nu = {nu})")
    check(el < 1e-8, f"closed J = K = 1: loss(t) = the closed form along the ODE: max error {el:.1e} x F(0) < 1e-8 (F drops {loss0:.3e} -> {r['loss'][-1]:.3e})")
    norm = np.max(np.abs(np.linalg.norm(th, axis=1) - 1))
    check(norm < 1e-15, f"closed: |theta| = 1 at every output (post-step projection): max deviation {norm:.1e}")


# -------------------------------------------------------------------------------------------- diss

def dissipation_case(tag, opts, h):
    run(np_(), opts + ["-ts_max_time", "2", "-output_dt", str(h), "-output", f"diss_{tag}.h5"] + TIGHT)
    return load(f"diss_{tag}.h5")


def diss():
    common = ["-particles", "40", "-relu_teacher_neurons", "5", "-seed", "3"]
    cases = [("wfr21_d2", ["-dim", "2"] + common, "theta_m, (alpha, beta) = (2, 1), d = 2"),
             ("wfr053_d4", ["-dim", "4", "-wfr_alpha", "0.5", "-wfr_beta", "3"] + common, "theta_m, (alpha, beta) = (0.5, 3), d = 4"),
             ("aw_d3", ["-dim", "3", "-relu_param", "aw", "-relu_aw_scale", "1.4"] + common, "aw, unbalanced (s = 1.4), d = 3")]
    for tag, opts, label in cases:
        errs = []
        for h in (0.02, 0.01):
            r = dissipation_case(f"{tag}_{h}", opts, h)
            t, F, D = r["time"], r["loss"], r["dissipation"]
            fd = (F[2:] - F[:-2]) / (t[2:] - t[:-2])
            errs.append(np.max(np.abs(fd + D[1:-1])) / np.max(D))
        drop = F[0] - F[-1]
        s_h, s_2h = simpson(t, D), simpson(t[::2], D[::2])
        rich = s_h + (s_h - s_2h) / 15
        rel = abs(drop - rich) / drop
        check(rel < 1e-9, f"diss {label}: F(0) - F(T) = {drop:.12e} vs int D dt = {rich:.12e}, relative {rel:.1e} < 1e-9")
        order = math.log2(errs[0] / errs[1])
        check(errs[1] < 1e-4 and 1.8 < order < 2.2, f"diss {label}: centred differences of F vs -D: max error {errs[0]:.2e} (h = 0.02), {errs[1]:.2e} (h = 0.01) x max D; order {order:.2f} (2 expected)")
        rise = np.max(np.diff(F))
        check(rise <= 0 and np.all(D >= 0), f"diss {label}: F non-increasing over {len(t)} records (largest change {rise:.1e}), D >= 0; F {F[0]:.4e} -> {F[-1]:.4e}")


# ----------------------------------------------------------------------------------------- balance

def balance():
    common = ["-dim", "2", "-particles", "30", "-relu_teacher_neurons", "4", "-relu_teacher_mass", "6", "-relu_student_mass", "3", "-seed", "7",
              "-ts_max_time", "2", "-output_dt", "0.5"]
    drift, gap = [], []
    for dt in ("0.04", "0.02"):
        run(np_(), common + RK4 + ["-ts_dt", dt, "-relu_param", "aw", "-relu_aw_scale", "1.3", "-output", f"bal_{dt}.h5"])
        drift.append(float(np.max(load(f"bal_{dt}.h5")["balance_drift"])))
        run(np_(), common + RK4 + ["-ts_dt", dt, "-relu_param", "aw", "-output", f"aw_{dt}.h5"])
        run(np_(), common + RK4 + ["-ts_dt", dt, "-output", f"tm_{dt}.h5"])
        a, b = load(f"aw_{dt}.h5"), load(f"tm_{dt}.h5")
        gap.append(max(float(np.max(np.abs(a["theta"] - b["theta"]))), float(np.max(np.abs(a["m"] - b["m"]) / np.max(b["m"]))),
                       float(np.max(np.abs(a["loss"] - b["loss"]) / b["loss"][0]))))
    p = math.log2(drift[0] / drift[1])
    check(drift[1] < 1e-8 and 3.6 < p < 4.4, f"balance (aw, s = 1.3, a^2 - |w|^2 = 30 m_j (s^2 - 1/s^2) = {3 * (1.3 ** 2 - 1 / 1.3 ** 2):.3f}): RK4 max drift to t = 2: "
                                             f"{drift[0]:.2e} (dt = 0.04), {drift[1]:.2e} (dt = 0.02); order {p:.2f} (4 expected)")
    q = math.log2(gap[0] / gap[1])
    check(gap[1] < 1e-7 and 3.5 < q < 4.5, f"balance: balanced (a, w) vs (theta, m) runs: max difference of theta, m, loss {gap[0]:.2e} (dt = 0.04), {gap[1]:.2e} (dt = 0.02); order {q:.2f} (4 expected)")
    run(np_(), common + TIGHT + ["-relu_param", "aw", "-output", "aw_tight.h5"])
    run(np_(), common + TIGHT + ["-output", "tm_tight.h5"])
    a, b = load("aw_tight.h5"), load("tm_tight.h5")
    g = max(float(np.max(np.abs(a["theta"] - b["theta"]))), float(np.max(np.abs(a["m"] - b["m"]) / np.max(b["m"]))))
    check(g < 1e-9, f"balance: the same with adaptive 5dp (rtol = atol = 1e-12): max difference {g:.1e} < 1e-9")


# ------------------------------------------------------------------------------------------- ranks

def ranks():
    with h5py.File(path("teacher_r.h5"), "w") as f:
        rng = np.random.default_rng(11)
        f["nu"] = np.hstack([rng.standard_normal((9, 4)), rng.uniform(0.05, 0.3, (9, 1))])
    cases = [("tm37", ["-dim", "3", "-particles", "37", "-ring_leaf", "4", "-relu_teacher", "file:teacher_r.h5:nu"]),
             ("aw37", ["-dim", "3", "-particles", "37", "-ring_leaf", "4", "-relu_param", "aw", "-relu_aw_scale", "1.2", "-relu_teacher_neurons", "6"]),
             ("tm3", ["-dim", "2", "-particles", "3", "-relu_teacher_neurons", "2"])]
    for tag, opts in cases:
        for p in range(1, np_() + 1):
            run(p, opts + ["-ts_max_time", "1", "-output_dt", "0.25", "-output", f"{tag}_r{p}.h5"])
        fc.check_same_on_ranks(f"{tag}_r", np_(), f"ranks {tag} ({' '.join(opts)})")


# ---------------------------------------------------------------------------------------- badinput

def make_bad_files():
    good = np.array([[0.0, 0.0, 1.0, 0.5], [1.0, 0.0, 0.0, 0.5]])
    with h5py.File(path("tbad.h5"), "w") as f:
        f["shape"] = good[:, :3]
        neg = good.copy(); neg[1, 3] = -0.1
        f["neg"] = neg
        zero = good.copy(); zero[1, :3] = 0
        f["zero"] = zero
        nan = good.copy(); nan[0, 1] = np.nan
        f["nan"] = nan
        f["int"] = np.ones((2, 4), dtype=np.int32)
    with open(path("text.h5"), "w") as f:
        f.write("0 0 1 0.5\n")


BAD = [(["-dim", "0"], ["-dim", "[1, 64]"]),
       (["-dim", "65"], ["-dim", "[1, 64]"]),
       (["-particles", "0"], ["-particles"]),
       (["-particles", "-5"], ["-particles"]),
       (["-particles", "2.5"], ["-particles", "integer"]),
       (["-relu_teacher_neurons", "0"], ["-relu_teacher_neurons"]),
       (["-relu_teacher", "file:tbad.h5:shape"], ["-relu_teacher", "shape"]),
       (["-relu_teacher", "file:tbad.h5:neg"], ["-relu_teacher", "row 1", "negative mass"]),
       (["-relu_teacher", "file:tbad.h5:zero"], ["-relu_teacher", "row 1", "direction 0"]),
       (["-relu_teacher", "file:tbad.h5:nan"], ["-relu_teacher", "non-finite", "row 0"]),
       (["-relu_teacher", "file:tbad.h5:int"], ["-relu_teacher", "float64"]),
       (["-relu_teacher", "file:tbad.h5:missing"], ["-relu_teacher", "no dataset"]),
       (["-relu_teacher", "file:text.h5:nu"], ["-relu_teacher", "text.h5"]),
       (["-relu_teacher", "file:nofile.h5:nu"], ["-relu_teacher", "nofile.h5"]),
       (["-relu_teacher", "file:tbad.h5"], ["-relu_teacher", "file:PATH:DATASET"]),
       (["-relu_teacher", "gaussian"], ["-relu_teacher", "random or file"]),
       (["-relu_teacher_mass", "-1"], ["-relu_teacher_mass"]),
       (["-relu_student_mass", "0"], ["-relu_student_mass"]),
       (["-relu_param", "ab"], ["-relu_param", "theta_m, aw"]),
       (["-relu_param", "aw", "-wfr_alpha", "3"], ["-relu_param aw", "(2, 1)"]),
       (["-relu_aw_scale", "2"], ["-relu_aw_scale", "aw"]),
       (["-mode", "pde"], ["-problem relu", "-mode pde"]),
       (["-flow", "wasserstein"], ["-flow wasserstein", "wfr"]),
       (["-sigma", "1"], ["-sigma"]),
       (["-relu_teacher_neuron", "3"], ["-relu_teacher_neuron", "did you mean -relu_teacher_neurons"]),
       (["-kernel", "gaussian"], ["-kernel"])]


def badinput():
    make_bad_files()
    with ThreadPoolExecutor(max_workers=min(6, max(3, 12 // np_()))) as pool:
        results = list(pool.map(lambda case: fc.bad_case(case[0], RELU + ["-particles", "10"] + case[1][0], 2, case[1][1]), enumerate(BAD)))
    for ok, report in results:
        check(ok, report)


CHECKS = {"closed": closed, "diss": diss, "balance": balance, "ranks": ranks, "badinput": badinput}


def main():
    return base.run_checks(CHECKS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
