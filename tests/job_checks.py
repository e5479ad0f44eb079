#!/usr/bin/python3
"""Checks of jobs/ against a real SLURM cluster (scripts/slurm-local: slurmctld + slurmd on 127.0.0.1).

  start       install slurm/munge if missing (root), start the cluster in WORKDIR/slurm (fixture setup)
  run         sbatch jobs/run.sbatch on 2 tasks (PDE, particles): outputs complete, same fields as a 1-rank run
              of the same options file without SLURM (bash jobs/run.sbatch), job provenance in the attributes,
              -log_view beside the output with kmdflow's events; srun --mpi=pmix was the launcher
  scaling     jobs/scaling, particles strong and PDE weak on 1, 2, 4 ranks: CSV rows, table, PNG
  validation  jobs/validation (array of 3 compare runs + report job): CSV rows, slopes -1 (G11), PNG
  failures    a bad options file: job FAILED with kmdflow's exit status 2; a study whose runs fail: its report
              job FAILED and the CSV marks the runs; a failed array task: the validation report job FAILED
  preempt     USR1 to a running job: checkpoint, exit 4, requeue, -restart, complete output (needs -checkpoint)
  stop        stop the cluster; no process it started is left (fixture cleanup)
Exit status 0 = pass, 1 = fail, 77 = cannot run (said why).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

ARGS = None
FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def env():
    e = dict(os.environ)
    e["SLURM_CONF"] = os.path.join(ARGS.workdir, "slurm", "slurm.conf")
    e["KF_SLURM_DIR"] = os.path.join(ARGS.workdir, "slurm")
    e["KMDFLOW"] = ARGS.exe
    return e


def sh(cmd, check_rc=True, **kw):
    p = subprocess.run(cmd, env=kw.pop("env", env()), capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)
    if check_rc and p.returncode != 0:
        sys.stdout.write(p.stdout[-4000:] + p.stderr[-4000:])
        raise SystemExit(f"FAIL: {' '.join(map(str, cmd))} exited with {p.returncode}")
    return p


def root(*parts):
    return os.path.join(ARGS.root, *parts)


def work(*parts):
    d = os.path.join(ARGS.workdir, ARGS.check)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, *parts)


def job_field(jid, field):
    out = sh(["scontrol", "-o", "show", "job", str(jid)]).stdout
    m = re.search(rf"\b{field}=(\S+)", out)
    return m.group(1) if m else None


def wait(jid, timeout=400):
    """0 iff the job (every array task) COMPLETED (jobs/lib.sh kf_wait_job)."""
    return sh(["bash", "-c", f"source {root('jobs', 'lib.sh')}; kf_wait_job {jid} {timeout}"],
              check_rc=False, env=dict(env(), KF_ROOT=ARGS.root)).returncode


def sbatch(args):
    out = sh(["sbatch", "--parsable"] + args, cwd=work()).stdout.strip()
    return out.split(";")[0]


def write_opts(name, lines):
    path = work(name)
    with open(path, "w") as f:
        f.write("# written by tests/job_checks.py\n" + "\n".join(lines) + "\n")
    return path


PDE_OPTS = ["-mode pde", "-dim 2", "-n 64", "-s 1", "-init gaussians", "-target uniform", "-ts_max_time 0.4",
            "-output_dt 0.1", "-quiet"]
PARTICLE_OPTS = ["-mode particles", "-dim 1", "-s 1", "-init cos", "-particles 1000", "-ts_max_time 0.5",
                 "-output_dt 0.25", "-quiet"]


# ------------------------------------------------------------------ cluster


def start():
    if not shutil.which("slurmctld") or not shutil.which("munged"):
        if os.geteuid() != 0:
            print("FAIL  slurm is not installed and this is not root: apt-get install slurmctld slurmd slurm-client munge")
            return 1
        sh([root("scripts", "slurm-local"), "install"], timeout=900)
    p = sh([root("scripts", "slurm-local"), "start"], check_rc=False, timeout=120)
    sys.stdout.write(p.stdout + p.stderr)
    check(p.returncode == 0, "local SLURM cluster started")
    if p.returncode == 0:
        info = sh(["sinfo", "-h", "-o", "%t %c"]).stdout.split()
        check(info[0] == "idle" and int(info[1]) >= 4, f"node idle with >= 4 CPUs: {info}")
    return 1 if FAILURES else 0


def stop():
    d = os.path.join(ARGS.workdir, "slurm")
    pids = []
    if os.path.isfile(os.path.join(d, "pids")):
        with open(os.path.join(d, "pids")) as f:
            pids = [int(line.split()[1]) for line in f if line.strip()]
    p = sh([root("scripts", "slurm-local"), "stop"], check_rc=False, timeout=120)
    sys.stdout.write(p.stdout + p.stderr)
    check(p.returncode == 0, "slurm-local stop")
    time.sleep(1.5)  # init reaps the ended daemons
    left = [pid for pid in pids if os.path.exists(f"/proc/{pid}") and
            not open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"]
    check(not left, f"no daemon the cluster started is left (pids {pids}, alive: {left})")
    return 1 if FAILURES else 0


# ------------------------------------------------------------------ run.sbatch


def fields(path):
    with h5py.File(path, "r") as f:
        complete = int(f.attrs["complete"][0]) == 1
        data = {}
        f.visititems(lambda name, obj: data.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    return complete, data, attrs


def check_run(tag, opts, datasets):
    optsfile = write_opts(f"{tag}.opts", opts)
    out = work(f"{tag}-slurm.h5")
    jid = sbatch(["-n", "2", "-o", work(f"{tag}-%j.out"), root("jobs", "run.sbatch"), optsfile, out])
    ref = work(f"{tag}-local.h5")
    local_env = {k: v for k, v in env().items() if not k.startswith("SLURM_")}
    p = sh(["bash", root("jobs", "run.sbatch"), optsfile, ref], env=dict(local_env, KF_RANKS="1"), check_rc=False)
    check(p.returncode == 0 and "[kf-launch] mpiexec -n 1" in p.stderr, f"{tag}: bash jobs/run.sbatch without SLURM runs 1 rank through mpiexec")
    rc = wait(jid)
    log = open(work(f"{tag}-{jid}.out")).read()
    if not check(rc == 0, f"{tag}: job {jid} COMPLETED"):
        print(log[-3000:])
        return
    check(re.search(r"\[kf-launch\] srun --mpi=pmix -n 2 ", log) is not None, f"{tag}: launched by srun --mpi=pmix on 2 tasks")
    complete, data, attrs = fields(out)
    check(complete, f"{tag}: output marked complete")
    for name in datasets:
        check(name in data and np.all(np.isfinite(data[name])), f"{tag}: dataset {name} present and finite")
    check(str(attrs.get("slurm_job_id")) == jid, f"{tag}: attribute slurm_job_id = {attrs.get('slurm_job_id')} (job {jid})")
    check(attrs.get("slurm_job_nodelist") == "localhost", f"{tag}: attribute slurm_job_nodelist = {attrs.get('slurm_job_nodelist')}")
    check(int(np.ravel(attrs["ranks"])[0]) == 2 and int(np.ravel(attrs["threads"])[0]) == 1, f"{tag}: ranks 2, threads 1 recorded")
    check("-options_file" not in attrs["options"] and opts[0].split()[1] in attrs["options"], f"{tag}: options recorded")
    for a in ("kmdflow_version", "petsc_version", "mpi_version", "hdf5_version", "host"):
        check(a in attrs, f"{tag}: attribute {a}")
    lv = work(f"{tag}-slurm.log_view.txt")
    events = open(lv).read() if os.path.isfile(lv) else ""
    want = ["TSStep", "KfIOWrite"] + (["KfFFTForward", "KfFFTBackward"] if tag == "pde" else ["KfRingSum", "KfKernelSum", "KfRingShift"])
    for ev in want:
        check(re.search(rf"^{ev}\s+[1-9]", events, re.M) is not None, f"{tag}: -log_view beside the output shows {ev}")
    _, rdata, _ = fields(ref)
    worst = max(float(np.max(np.abs(np.asarray(data[k], float) - np.asarray(rdata[k], float)))) for k in datasets)
    check(worst <= 1e-10, f"{tag}: 2 ranks under SLURM = 1 rank without SLURM (max difference {worst:.2e})")


def run():
    check_run("pde", PDE_OPTS, ["pde/rho", "pde/time", "diagnostics/energy", "diagnostics/mass"])
    check_run("particles", PARTICLE_OPTS, ["particles/x", "particles/time", "diagnostics/energy"])
    return 1 if FAILURES else 0


# ------------------------------------------------------------------ studies


def read_csv(path):
    import csv
    with open(path) as f:
        return list(csv.DictReader(f))


def is_png(path):
    return os.path.isfile(path) and open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def scaling():
    for mode, kind, size in (("particles", "strong", "2048"), ("pde", "weak", "32")):
        d = work(f"{mode}-{kind}")
        p = sh([root("jobs", "scaling"), "-m", mode, "-k", kind, "-r", "1,2,4", "-s", size, "-t", "3", "-w", "-o", d],
               check_rc=False, cwd=work())
        if not check(p.returncode == 0, f"{mode} {kind}: runs and report job COMPLETED"):
            print(p.stdout[-2000:] + p.stderr[-2000:])
            continue
        rows = read_csv(os.path.join(d, f"scaling-{mode}-{kind}.csv"))
        check([r["ranks"] for r in rows] == ["1", "2", "4"] and all(r["status"] == "ok" for r in rows),
              f"{mode} {kind}: CSV has ranks 1, 2, 4, all ok")
        check(all(float(r["time_per_step_s"]) > 0 and float(r["model_time_per_step_s"]) > 0 for r in rows),
              f"{mode} {kind}: measured and model times per step")
        over = "1" if os.cpu_count() < 4 else "0"
        check(abs(float(rows[0]["efficiency"]) - 1) < 1e-12 and rows[2]["oversubscribed"] == over,
              f"{mode} {kind}: efficiency 1 at P = 1, P = 4 oversubscribed = {over} on {os.cpu_count()} cores")
        sizes = [int(r["size"]) for r in rows]
        expect = [int(size)] * 3 if kind == "strong" else [int(size) ** 2 * p for p in (1, 2, 4)]
        check(sizes == expect, f"{mode} {kind}: problem sizes {sizes} (expected {expect})")
        check(is_png(os.path.join(d, f"scaling-{mode}-{kind}.png")), f"{mode} {kind}: PNG written")
    return 1 if FAILURES else 0


VALIDATION = ["--N", "64,128,256", "--n", "128", "--particle-init", "quantile", "--times", "0,0.2"]


def validation():
    d = work("study")
    p = sh([root("jobs", "validation"), "-o", d, "-n", "2", "-w", "--"] + VALIDATION, check_rc=False, cwd=work())
    if not check(p.returncode == 0, "validation array and report job COMPLETED"):
        print(p.stdout[-2000:] + p.stderr[-2000:])
        return 1
    aid = p.stdout.split()[0]
    tasks = sorted(f for f in os.listdir(d) if f.startswith(f"task-{aid}_"))
    check(len(tasks) == 3, f"3 array task logs: {tasks}")
    rows = read_csv(os.path.join(d, "convergence.csv"))
    check(sorted({int(r["N"]) for r in rows}) == [64, 128, 256], "CSV has the runs N = 64, 128, 256")
    slopes = read_csv(os.path.join(d, "slopes.csv"))
    check(len(slopes) >= 4 and all(abs(float(s["slope"]) + 1) < 0.02 for s in slopes),
          f"quantile slopes -1 (G11): {[s['slope'] for s in slopes]}")
    check(is_png(os.path.join(d, "convergence.png")), "PNG written")
    return 1 if FAILURES else 0


def failures():
    bad = write_opts("bad.opts", PDE_OPTS + ["-n 63"])
    jid = sbatch(["-n", "2", "-o", work("bad-%j.out"), root("jobs", "run.sbatch"), bad, work("bad.h5")])
    rc = wait(jid)
    check(rc != 0 and job_field(jid, "JobState") == "FAILED" and job_field(jid, "ExitCode") == "2:0",
          f"bad options file: job FAILED with exit code 2 ({job_field(jid, 'JobState')}, {job_field(jid, 'ExitCode')})")
    check(not os.path.exists(work("bad.h5")), "bad options file: no output file left")
    d = work("study")
    p = sh([root("jobs", "scaling"), "-m", "pde", "-r", "1,2", "-s", "32", "-t", "2", "-a", "-no_such_option 1", "-w", "-o", d],
           check_rc=False, cwd=work())
    check(p.returncode != 0, "scaling study whose runs fail: jobs/scaling -w exits non-zero")
    ids = p.stdout.split()
    if check(len(ids) == 3, f"run and report job ids printed: {ids}"):
        check(all(job_field(i, "JobState") == "FAILED" for i in ids), "the runs and the report job are FAILED")
    rows = read_csv(os.path.join(d, "scaling-pde-strong.csv"))
    check(len(rows) == 2 and all(r["status"] != "ok" for r in rows), f"the CSV marks the failed runs: {[r['status'] for r in rows]}")
    d = work("validation")
    p = sh([root("jobs", "validation"), "-o", d, "-n", "1", "-w", "--"] + VALIDATION + ["--kmdflow-args=-no_such_option 1"],
           check_rc=False, cwd=work())
    ids = p.stdout.split()
    check(p.returncode != 0 and len(ids) == 2 and job_field(ids[1], "JobState") == "FAILED",
          f"validation with failing array tasks: report job FAILED ({[job_field(i, 'JobState') for i in ids]})")
    return 1 if FAILURES else 0


# ------------------------------------------------------------------ preemption


def preempt():
    helptext = sh([ARGS.exe, "-help"], check_rc=False).stdout
    if "-checkpoint" not in helptext or "-restart" not in helptext:
        print("NOT RUN: this kmdflow has no -checkpoint/-restart options (the reliability issue's checkpoint/restart "
              "has not landed in this branch); jobs/run.sbatch's preemption path (USR1 -> checkpoint, exit 4, "
              "requeue, -restart) is untested against the program.")
        return 77
    # fixed RK4 steps: adaptive steps grow as the flow settles and the run would end before the signal (~20 s here)
    opts = write_opts("long.opts", ["-mode pde", "-dim 2", "-n 128", "-s 1", "-init gaussians", "-target uniform",
                                   "-ts_type rk", "-ts_rk_type 4", "-ts_adapt_type none", "-ts_dt 0.004",
                                   "-ts_max_time 40", "-output_dt 1", "-quiet"])
    out = work("long.h5")
    jid = sbatch(["-n", "2", "-o", work("long-%j.out"), root("jobs", "run.sbatch"), opts, out])
    for _ in range(300):  # until the first records are written (the output is OUT.part until the run completes)
        if job_field(jid, "JobState") == "RUNNING" and (os.path.exists(out + ".part") or os.path.exists(out)):
            break
        time.sleep(0.2)
    time.sleep(2)
    sh(["scancel", "--batch", "--signal=USR1", jid])
    rc = wait(jid, 600)
    log = open(work(f"long-{jid}.out")).read()
    check("requeueing job" in log, "USR1: checkpoint written and the job requeued itself")
    check("restarting from it" in log, "the requeued job restarted from the checkpoint")
    check(rc == 0 and int(job_field(jid, "Restarts") or 0) >= 1, f"job COMPLETED after {job_field(jid, 'Restarts')} restart(s)")
    complete, data, attrs = fields(out)
    t = np.asarray(data["pde/time"])
    check(complete and abs(t[-1] - 40) < 1e-9 and np.all(np.diff(t) > 0), "one complete output with increasing times up to 40")
    return 1 if FAILURES else 0


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("check", choices=["start", "stop", "run", "scaling", "validation", "failures", "preempt"])
    ap.add_argument("--root", required=True)
    ap.add_argument("--exe", required=True)
    ap.add_argument("--workdir", required=True)
    ARGS = ap.parse_args()
    ARGS.workdir = os.path.abspath(ARGS.workdir)
    if ARGS.check not in ("start", "stop"):
        shutil.rmtree(work(), ignore_errors=True)
    if ARGS.check not in ("start", "stop") and sh(["scontrol", "ping"], check_rc=False).returncode != 0:
        print("FAIL  the test cluster is not running (the jobs_cluster_start fixture failed; see its output)")
        return 1
    rc = globals()[ARGS.check]()
    if rc == 0 and FAILURES:
        rc = 1
    print(("PASS " if rc == 0 else "FAILED " if rc == 1 else "NOT RUN ") + ARGS.check + (f": {FAILURES}" if FAILURES else ""))
    return rc


if __name__ == "__main__":
    sys.exit(main())
