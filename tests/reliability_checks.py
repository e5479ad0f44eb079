#!/usr/bin/python3
"""Reliability checks of kmdflow (docs/reliability.md): checkpoint/restart on other rank counts, SIGTERM/SIGUSR1,
SIGKILL at random moments, non-finite states, refused restarts.

restart   checkpoint on P ranks (-checkpoint_steps, and SIGUSR1/SIGTERM: exit 4), restart on other rank counts; the final
          output equals the uninterrupted run's: bitwise for fixed-step RK4 where the mode is bitwise rank-independent
          (particles; PDE and compare on the same rank count), to 1e-12 otherwise.
kill      >= 21 SIGKILLs at seeded random moments over pde/particles/compare runs, each followed by a restart from the last
          checkpoint (or from scratch if none was written yet); after each kill the checkpoint opens and is complete, the
          output path holds no file that looks complete; the final output equals the uninterrupted run's.
nonfinite a step size that blows up: exit 3 with t, quantity and hint; the last good checkpoint is kept; no output left.
refuse    restarts of another problem / build / mode and damaged checkpoints: exit 2 with a message saying what differs.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pde_checks as base  # noqa: E402

FIXED = ["-ts_type", "rk", "-ts_rk_type", "4", "-ts_adapt_type", "none"]
MODES = {
    "pde": ["-mode", "pde", "-dim", "2", "-n", "32", "-s", "1", "-init", "gaussians", "-target", "uniform",
            "-ts_max_time", "1", "-output_dt", "0.1", "-ts_dt", "0.005", "-quiet"] + FIXED,
    "particles": ["-mode", "particles", "-dim", "1", "-s", "1", "-init", "cos", "-particles", "3000",
                  "-ts_max_time", "1", "-output_dt", "0.1", "-ts_dt", "0.005", "-quiet"] + FIXED,
    "wfr": ["-mode", "particles", "-dim", "1", "-s", "1", "-init", "cos", "-particles", "2000", "-flow", "fisher_rao",
            "-resample_ess", "0.9", "-ts_max_time", "1", "-output_dt", "0.1", "-ts_dt", "0.005", "-quiet"] + FIXED,
    "compare": ["-mode", "compare", "-dim", "1", "-n", "128", "-s", "1", "-L", "1", "-init", "cos", "-particles", "1000",
                "-particle_init", "quantile", "-ts_max_time", "1", "-output_dt", "0.1", "-ts_dt", "0.005", "-quiet"] + FIXED,
}


def cmd(np_, opts):
    a = base.ARGS
    return [a.mpiexec, "-n", str(np_)] + a.mpiexec_flags.split() + [a.exe] + opts


def run(np_, opts, rc=0, tag="run"):
    return base.run(np_, opts, expect_rc=rc, tag=tag)


def datasets(name):
    out = {}
    with h5py.File(base.path(name), "r") as f:
        assert int(f.attrs["complete"][0]) == 1, f"{name} not marked complete"
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def same(a, b, tol):
    """Every dataset of output a equals b's: bitwise (tol = 0) or to tol relative to the dataset's max norm."""
    A, B = datasets(a), datasets(b)
    if sorted(A) != sorted(B):
        return False, f"datasets differ: {sorted(set(A) ^ set(B))}"
    worst = 0.0
    for k in A:
        if A[k].shape != B[k].shape:
            return False, f"{k}: shape {A[k].shape} vs {B[k].shape}"
        if tol == 0:
            if not np.array_equal(A[k], B[k], equal_nan=True):
                return False, f"{k} differs (max {np.nanmax(np.abs(A[k] - B[k])):.3e})"
        else:
            scale = max(1.0, float(np.nanmax(np.abs(A[k])))) if A[k].size else 1.0
            worst = max(worst, float(np.nanmax(np.abs(A[k] - B[k]))) / scale if A[k].size else 0.0)
    return worst <= tol, f"max relative difference {worst:.2e}"


def clean(prefix):
    for f in os.listdir(base.ARGS.workdir):
        if f.startswith(prefix):
            os.remove(base.path(f))


def restart():
    np0 = base.ARGS.np
    for mode, tol_other in (("pde", 1e-12), ("particles", 0), ("wfr", 0), ("compare", 1e-12)):
        opts = MODES[mode]
        run(np0, opts + ["-output", f"{mode}_ref.h5"], tag=f"{mode} reference")
        for np1 in sorted({np0, 1, np0 % 4 + 1}):
            clean(f"{mode}_a")
            run(np0, opts + ["-output", f"{mode}_a.h5", "-checkpoint_steps", "37", "-ts_max_time", "0.45"], tag=f"{mode} first part")
            run(np1, opts + ["-output", f"{mode}_a.h5", "-restart", f"{mode}_a.ckpt.h5"], tag=f"{mode} restart")
            tol = 0 if np1 == np0 else tol_other
            ok, why = same(f"{mode}_ref.h5", f"{mode}_a.h5", tol)
            base.check(ok, f"{mode}: checkpoint at step 37 on {np0} ranks, restart on {np1}: final output {'bitwise equal' if tol == 0 else 'equal to %g' % tol} ({why})")
    for sig in (signal.SIGUSR1, signal.SIGTERM):
        clean("sig")
        opts = MODES["particles"] + ["-output", "sig.h5"]
        p = subprocess.Popen(cmd(np0, opts), cwd=base.ARGS.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.2)
        ranks = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
        for r in ranks[:1]:  # one rank only: the others must learn of it and stop at the same step
            os.kill(int(r), sig)
        out, err = p.communicate(timeout=120)
        msg = [line for line in err.splitlines() if line.startswith("kmdflow:")]
        stopped = p.returncode == 4
        base.check(stopped or p.returncode == 0, f"{signal.Signals(sig).name} to one rank: exit {p.returncode} (4, or 0 if the run had finished), {msg[:1]}")
        if stopped:
            base.check(os.path.exists(base.path("sig.ckpt.h5")) and not os.path.exists(base.path("sig.h5")), "  checkpoint written, output not finalised")
            run(np0 % 3 + 1, opts + ["-restart", "sig.ckpt.h5"], tag="restart after signal")
            ok, why = same("particles_ref.h5", "sig.h5", 0)
            base.check(ok, f"  restart on {np0 % 3 + 1} ranks reaches the uninterrupted result bitwise ({why})")


def checkpoint_sane(name):
    """A checkpoint at its final name is complete and readable."""
    try:
        with h5py.File(base.path(name), "r") as f:
            return int(f.attrs["complete"][0]) == 1 and "format" in f.attrs
    except OSError:
        return False


def kill():
    rng = random.Random(20240607)
    np0 = base.ARGS.np
    kills, restarts = 0, 0
    t0 = time.time()
    for mode, kills_per_mode, tol in (("pde", 7, 0), ("particles", 7, 0), ("compare", 7, 0)):
        opts = MODES[mode] + ["-checkpoint_steps", "11"]
        ref = f"{mode}_kref.h5"
        start = time.time()
        run(np0, MODES[mode] + ["-output", ref], tag=f"{mode} reference")
        duration = time.time() - start
        clean(f"{mode}_k.")
        out = f"{mode}_k.h5"
        for i in range(kills_per_mode):
            restarting = os.path.exists(base.path(f"{mode}_k.ckpt.h5"))
            full = opts + ["-output", out] + (["-restart", f"{mode}_k.ckpt.h5"] if restarting else [])
            p = subprocess.Popen(cmd(np0, full), cwd=base.ARGS.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(rng.uniform(0.05, 0.95) * duration)
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            kills += 1
            restarts += restarting
            ck = f"{mode}_k.ckpt.h5"
            finished = os.path.exists(base.path(out))
            if finished:  # the run completed before the kill: the file must be complete and right
                ok, why = same(ref, out, tol)
                base.check(ok, f"{mode} kill {i + 1}: run had finished; output complete and equal ({why})")
                os.remove(base.path(out))
                continue
            sane = not os.path.exists(base.path(ck)) or checkpoint_sane(ck)
            base.check(sane, f"{mode} kill {i + 1} ({'restarted run' if restarting else 'fresh run'}): checkpoint {'intact' if os.path.exists(base.path(ck)) else 'not written yet'}; no complete-looking output")
        restarting = os.path.exists(base.path(f"{mode}_k.ckpt.h5"))
        run(np0 % 3 + 1, opts + ["-output", out] + (["-restart", f"{mode}_k.ckpt.h5"] if restarting else []), tag=f"{mode} final restart")
        ok, why = same(ref, out, tol if np0 % 3 + 1 == np0 or mode == "particles" else 1e-12)
        base.check(ok, f"{mode}: after {kills_per_mode} kills, the last checkpoint restarted on {np0 % 3 + 1} ranks reaches the uninterrupted result ({why})")
    print(f"kill summary: {kills} SIGKILLs, {restarts} of them during restarted runs, {time.time() - t0:.1f} s")
    base.check(kills >= 20, f"at least 20 kills ({kills})")


def nonfinite():
    clean("nf")
    opts = ["-mode", "pde", "-dim", "1", "-n", "64", "-s", "0.2", "-ts_dt", "1", "-ts_max_time", "8", "-output_dt", "1",
            "-checkpoint_steps", "1", "-output", "nf.h5"] + FIXED
    code, out, err = run(base.ARGS.np, opts, rc=None)
    msg = [line for line in err.splitlines() if line.startswith("kmdflow: error:")]
    m = msg[0] if msg else ""
    base.check(code == 3 and "non-finite" in m and "t = " in m and "-ts_dt" in m, f"blow-up: exit {code}, message: {m}")
    base.check(checkpoint_sane("nf.ckpt.h5"), "the last good checkpoint is kept and complete")
    with h5py.File(base.path("nf.ckpt.h5"), "r") as f:
        finite = bool(np.all(np.isfinite(f["grid/rho"][()])))
    base.check(finite, "the kept checkpoint holds a finite density")
    left = [f for f in os.listdir(base.ARGS.workdir) if f.startswith("nf.h5") or f.endswith(".part")]
    base.check(not left, f"no output file left behind ({left})")


def edit_checkpoint(src, dst, fn):
    shutil.copy(base.path(src), base.path(dst))
    with h5py.File(base.path(dst), "r+") as f:
        fn(f)


def refuse():
    np0 = base.ARGS.np
    opts = MODES["pde"]
    clean("rf")
    run(np0, opts + ["-output", "rf.h5", "-checkpoint_steps", "20", "-ts_max_time", "0.2"])

    def setattr_(name, value):
        def fn(f):
            f.attrs[name] = np.bytes_(value)
        return fn

    def delete(name):
        def fn(f):
            del f[name]
        return fn

    def nan(f):
        d = f["grid/rho"]
        a = d[()]
        a[3, 4] = np.nan
        d[...] = a

    edit_checkpoint("rf.ckpt.h5", "rf_rev.h5", setattr_("git_revision", "0123abc"))
    edit_checkpoint("rf.ckpt.h5", "rf_nan.h5", nan)
    edit_checkpoint("rf.ckpt.h5", "rf_nods.h5", delete("grid/rho"))
    raw = open(base.path("rf.ckpt.h5"), "rb").read()
    open(base.path("rf_trunc.h5"), "wb").write(raw[: len(raw) // 2])
    cases = [
        (["-n", "16"], "rf.ckpt.h5", ["-n was 32 in the checkpointed run, is 16 now"]),
        (["-s", "2"], "rf.ckpt.h5", ["-s was 1", "is 2 now"]),
        (["-ts_dt", "0.01"], "rf.ckpt.h5", ["-ts_dt"]),
        (["-seed", "5"], "rf.ckpt.h5", ["-seed 5 is given now"]),
        ([], "rf_rev.h5", ["another build", "0123abc"]),
        ([], "rf_nan.h5", ["NaN or Inf"]),
        ([], "rf_nods.h5", ["no dataset /grid/rho"]),
        ([], "rf_trunc.h5", ["rf_trunc.h5"]),
        ([], "rf.h5", ["not a kmdflow checkpoint"]),
    ]
    for extra, ck, words in cases:
        full = opts + extra + ["-output", "rf_out.h5", "-restart", ck]
        code, out, err = run(np0, full, rc=None)
        msg = [line for line in err.splitlines() if line.startswith("kmdflow: error:")]
        m = msg[0] if msg else "(none)"
        left = [f for f in os.listdir(base.ARGS.workdir) if f.startswith("rf_out")]
        base.check(code == 2 and all(w in m for w in words) and not left, f"restart {ck} {' '.join(extra)}: exit {code}, {m}")
    code, out, err = run(np0, ["-mode", "particles", "-dim", "2", "-particles", "64", "-output", "rf_out.h5", "-restart", "rf.ckpt.h5"], rc=None)
    base.check(code == 2 and "another -mode" in err, "restart of a pde checkpoint in particle mode: refused, naming the mode")
    run(np0, opts + ["-output", "rf_ok.h5", "-restart", "rf.ckpt.h5", "-ts_max_time", "0.5", "-quiet"], tag="allowed change")
    base.check(True, "a restart may change -ts_max_time, -output and the rank count")


CHECKS = {"restart": restart, "kill": kill, "nonfinite": nonfinite, "refuse": refuse}


def main():
    return base.run_checks(CHECKS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
