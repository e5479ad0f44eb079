#!/usr/bin/python3
"""Fuzz test of hostile input (docs/reliability.md): generated cases thrown at the real executable.

Cases (seeded, reproducible): random and misspelt options with out-of-range, non-numeric and absurd values, options files
full of junk, input density files (-init file:...) and restart checkpoints (-restart) that are truncated, corrupted, have
wrong shapes or types, NaNs, missing datasets or attributes. Each case runs in its own directory with a time limit, on 1 or
2 ranks. A case passes if it ends with exit status 0 (a legitimate run, with a complete output file) or 2/3 with exactly one
"kmdflow: error:" line and no PETSc traceback; never a signal, exit 1, a hang (time limit) or a leftover *.part file or
output file of a failed run. The counts are printed at the end.
"""
import argparse
import collections
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

BASE = {
    "pde": ["-mode", "pde", "-dim", "1", "-n", "16", "-ts_max_time", "0.05", "-output_dt", "0.025"],
    "particles": ["-mode", "particles", "-dim", "1", "-particles", "64", "-ts_max_time", "0.05", "-output_dt", "0.025"],
    "compare": ["-mode", "compare", "-dim", "1", "-n", "16", "-particles", "64", "-ts_max_time", "0.05", "-output_dt", "0.025"],
}
OPTIONS = ["mode", "dim", "n", "s", "L", "dealias", "init", "target", "output_dt", "seed", "fftw_planner", "fftw_threads",
           "quiet", "particles", "particle_init", "domain", "kernel", "kernel_h", "ring_leaf", "ewald_tol", "compare_s", "flow",
           "wfr_alpha", "wfr_beta", "sigma", "reference", "energy", "kde_h", "entropy_estimate", "fr_step", "resample_ess",
           "stein_h", "ts_type", "ts_rk_type", "ts_dt", "ts_max_time", "ts_max_steps", "ts_adapt_type", "ts_rtol", "ts_atol",
           "checkpoint", "checkpoint_dt", "checkpoint_steps", "restart", "init_cos_amp", "init_gaussians_widths",
           "memory_limit"]
VALUES = ["", "-1", "0", "1", "2", "3.5", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "abc", "1,2,3", "0x10",
          "999999999999", "4096", "65536", "-0", "1e5", "'", "%s%n%s", "a" * 3000, "file:", "file:nope.h5:x", "none",
          "wasserstein", "fisher_rao", "wfr", "stein", "gaussians", "uniform", "cos", "5dp", "4", "euler", "torus", " ",
          "1 2", "true", "false", "\u00e9\u00e8", "0.5", "1e-12"]


def mutate_name(rng, name):
    i = rng.randrange(len(name))
    kind = rng.randrange(3)
    if kind == 0:
        return name[:i] + name[i + 1:] or "x"
    if kind == 1:
        return name[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz_") + name[i:]
    j = min(len(name) - 1, i + 1)
    return name[:i] + name[j] + name[i] + name[j + 1:] if i != j else name + "s"


def write_bad_density(rng, path):
    """An HDF5 file for -init file:PATH:rho that is wrong in one of several ways; returns a description."""
    kind = rng.choice(["shape", "int", "nan", "missing", "3d", "empty", "string", "group", "truncated", "garbage", "inf", "neg"])
    with h5py.File(path, "w") as f:
        if kind == "shape":
            f["rho"] = np.ones(rng.choice([8, 15, 17, 32]))
        elif kind == "int":
            f["rho"] = np.ones(16, dtype=np.int32)
        elif kind in ("nan", "inf", "neg"):
            a = np.ones(16)
            a[rng.randrange(16)] = {"nan": np.nan, "inf": np.inf, "neg": -1.0}[kind]
            f["rho"] = a
        elif kind == "missing":
            f["other"] = np.ones(16)
        elif kind == "3d":
            f["rho"] = np.ones((2, 2, 16, 16))
        elif kind == "empty":
            f.create_dataset("rho", shape=(0,), dtype="f8")
        elif kind == "string":
            f["rho"] = np.bytes_("not numbers")
        elif kind == "group":
            f.create_group("rho")
        else:
            f["rho"] = np.ones(16)
    if kind == "truncated":
        raw = open(path, "rb").read()
        open(path, "wb").write(raw[: rng.randrange(1, len(raw))])
    elif kind == "garbage":
        open(path, "wb").write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096))))
    return "density " + kind


def corrupt_checkpoint(rng, src, dst):
    """A damaged copy of a valid checkpoint; returns a description."""
    shutil.copy(src, dst)
    kind = rng.choice(["truncate", "flip", "del_dataset", "del_attr", "attr_type", "nan", "shape", "dtype", "zero_attr",
                       "huge_attr", "neg_attr", "snapshot_missing", "snapshot_truncated"])
    if kind == "truncate":
        raw = open(src, "rb").read()
        open(dst, "wb").write(raw[: rng.randrange(0, len(raw))])
        return "checkpoint truncate"
    if kind == "flip":
        raw = bytearray(open(src, "rb").read())
        for _ in range(rng.randrange(1, 16)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        open(dst, "wb").write(bytes(raw))
        return "checkpoint flip"
    if kind.startswith("snapshot"):
        return "checkpoint " + kind  # handled by the caller (the output copy beside it)
    with h5py.File(dst, "r+") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        attrs = sorted(f.attrs)
        if kind == "del_dataset":
            del f[rng.choice(names)]
        elif kind == "del_attr":
            del f.attrs[rng.choice(attrs)]
        elif kind == "attr_type":
            a = rng.choice(attrs)
            f.attrs[a] = np.bytes_("x") if f.attrs[a].dtype.kind in "if" else np.array([1.5])
        elif kind in ("zero_attr", "huge_attr", "neg_attr"):
            numeric = [a for a in attrs if f.attrs[a].dtype.kind in "if"]
            a = rng.choice(numeric)
            f.attrs[a] = np.array([{"zero_attr": 0, "huge_attr": 1e300, "neg_attr": -7}[kind]], dtype=f.attrs[a].dtype if kind != "huge_attr" else "f8")
        elif kind == "nan":
            d = f[rng.choice(names)]
            a = d[()]
            a.flat[rng.randrange(a.size)] = rng.choice([np.nan, np.inf])
            d[...] = a
        elif kind in ("shape", "dtype"):
            n = rng.choice(names)
            shape = f[n].shape
            del f[n]
            f[n] = np.ones(tuple(s + 1 for s in shape)) if kind == "shape" else np.ones(shape, dtype=np.int64)
    return "checkpoint " + kind


class Fuzzer:
    def __init__(self, args):
        self.a = args
        self.checkpoints = {}

    def cmd(self, np_, opts):
        return [self.a.mpiexec, "-n", str(np_)] + self.a.mpiexec_flags.split() + [self.a.exe] + opts

    def make_checkpoints(self):
        """One valid checkpoint (with its output copy) per mode, to damage."""
        for mode, opts in BASE.items():
            d = os.path.join(self.a.workdir, "seed_" + mode)
            os.makedirs(d)
            subprocess.run(self.cmd(1, opts + ["-output", "o.h5", "-checkpoint_steps", "3", "-quiet"]), cwd=d, capture_output=True, timeout=120, check=True)
            self.checkpoints[mode] = d

    def case(self, i):
        rng = random.Random(self.a.seed * 100003 + i)
        mode = rng.choice(list(BASE))
        opts = list(BASE[mode]) + ["-output", "o.h5", "-quiet"]
        d = os.path.join(self.a.workdir, f"case{i:04d}")
        os.makedirs(d)
        kind = rng.choice(["option", "option", "misspelt", "combo", "options_file", "density", "restart", "restart"])
        desc = kind
        if kind == "option":
            name = rng.choice(OPTIONS)
            opts += [f"-{name}", rng.choice(VALUES)]
            desc = f"-{name} {opts[-1][:40]!r}"
        elif kind == "misspelt":
            name = mutate_name(rng, rng.choice(OPTIONS))
            opts += [f"-{name}", rng.choice(VALUES)]
            desc = f"misspelt -{name}"
        elif kind == "combo":
            for _ in range(rng.randrange(2, 5)):
                opts += [f"-{rng.choice(OPTIONS)}", rng.choice(VALUES)]
            desc = "combo " + " ".join(o[:20] for o in opts[len(BASE[mode]) + 3:])
        elif kind == "options_file":
            with open(os.path.join(d, "junk.txt"), "wb") as f:
                if rng.random() < 0.5:
                    f.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))))
                else:
                    for _ in range(rng.randrange(1, 20)):
                        f.write((f"-{rng.choice(OPTIONS + ['x', 'foo', '#', ''])} {rng.choice(VALUES)}\n").encode())
            opts += ["-options_file", "junk.txt"]
        elif kind == "density":
            desc = write_bad_density(rng, os.path.join(d, "bad.h5"))
            opts += [rng.choice(["-init", "-target"]) if mode != "particles" else "-init", "file:bad.h5:rho"]
        else:
            src = self.checkpoints[mode]
            desc = corrupt_checkpoint(rng, os.path.join(src, "o.ckpt.h5"), os.path.join(d, "o.ckpt.h5"))
            snap = os.path.join(src, "o.ckpt.output.h5")
            if desc.endswith("snapshot_truncated"):
                raw = open(snap, "rb").read()
                open(os.path.join(d, "o.ckpt.output.h5"), "wb").write(raw[: rng.randrange(len(raw))])
            elif not desc.endswith("snapshot_missing"):
                shutil.copy(snap, os.path.join(d, "o.ckpt.output.h5"))
            opts += ["-restart", "o.ckpt.h5", "-output", "r.h5"]
        np_ = 2 if i % 4 == 3 else 1
        t0 = time.time()
        try:
            p = subprocess.run(self.cmd(np_, opts), cwd=d, capture_output=True, timeout=self.a.timeout, errors="replace", text=True)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = "timeout", ""
        return self.judge(i, mode, desc, np_, d, rc, err, time.time() - t0)

    def judge(self, i, mode, desc, np_, d, rc, err, secs):
        lines = [line for line in err.splitlines() if line.startswith("kmdflow: error:")]
        leftovers = [f for f in os.listdir(d) if f.endswith(".part")]
        outputs = [f for f in ("o.h5", "r.h5") if os.path.exists(os.path.join(d, f))]
        problem = None
        if rc == "timeout":
            problem = "hang (time limit)"
        elif rc == 0:
            for f in outputs:
                with h5py.File(os.path.join(d, f), "r") as h:
                    if int(h.attrs["complete"][0]) != 1:
                        problem = f"{f} not complete"
            if not outputs:
                problem = "exit 0 without an output file"
        elif rc in (2, 3):
            if len(lines) != 1 or "PETSC ERROR" in err:
                problem = f"exit {rc} without exactly one clear message"
            elif outputs:
                problem = f"failed run left {outputs}"
        else:
            problem = f"exit status {rc}" + (" (signal)" if isinstance(rc, int) and (rc < 0 or rc > 128) else "")
        if leftovers:
            problem = (problem + "; " if problem else "") + f"left {leftovers}"
        if not problem:
            shutil.rmtree(d)
        return {"i": i, "mode": mode, "desc": desc, "np": np_, "rc": rc, "problem": problem, "secs": secs,
                "msg": lines[0] if lines else (err.strip().splitlines()[-1] if err.strip() else "")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", required=True)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--mpiexec-flags", default="")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--cases", type=int, default=320)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    if os.path.isdir(a.workdir):
        shutil.rmtree(a.workdir)
    os.makedirs(a.workdir)
    fz = Fuzzer(a)
    t0 = time.time()
    fz.make_checkpoints()
    with ThreadPoolExecutor(a.jobs) as pool:
        results = list(pool.map(fz.case, range(a.cases)))
    bad = [r for r in results if r["problem"]]
    codes = collections.Counter(str(r["rc"]) for r in results)
    kinds = collections.Counter(r["desc"].split()[0] if not r["desc"].startswith("-") else "option" for r in results)
    for r in bad:
        print(f"FAIL  case {r['i']} ({r['mode']}, np {r['np']}, {r['desc']}): {r['problem']}; {r['msg'][:300]}")
    print(f"fuzz: {len(results)} cases in {time.time() - t0:.0f} s; exit statuses {dict(sorted(codes.items()))}; "
          f"kinds {dict(sorted(kinds.items()))}; slowest {max(r['secs'] for r in results):.1f} s")
    print(f"fuzz: {len(results) - len(bad)} passed, {len(bad)} failed (crash, hang, exit 1, unclear message or leftover file)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
