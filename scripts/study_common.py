#!/usr/bin/python3
"""Shared helpers of the study scripts (study_convergence.py, study_rates.py, paper_report.py).

Not a command: imported by the scripts next to it. Finds the kmdflow executable ($KMDFLOW, else
$KF_BUILD_DIR/kmdflow, else <repo>/build/kmdflow), runs it under $MPIEXEC (default mpiexec), reads
finished compare-mode files (refusing any whose `complete` attribute is not 1), fits slopes, and
evaluates the closed forms of the math spec that the studies compare with (lattice energy floor
zeta(2s) (2 pi N / L)^{-2s} of C.2/C.4, the C.3 exponent and observability window).
"""
import csv
import math
import os
import shlex
import subprocess
import sys
import time

import numpy as np

import plot_pde  # noqa: E402  (scripts/ is on sys.path: the scripts run from it)

try:
    import h5py
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt  # noqa: F401  (re-exported for the scripts)
except ImportError as exc:  # the python3 first on PATH may lack these; /usr/bin/python3 has them
    sys.exit(f"{os.path.basename(sys.argv[0])}: {exc}; run it with /usr/bin/python3 (numpy, h5py, matplotlib)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class StudyError(Exception):
    """A failure reported as one line (plus a log excerpt) and exit status 1, not a traceback."""


def die(prog, exc):
    print(f"{prog}: error: {exc}", file=sys.stderr)
    return 1


def say(prog, msg):
    print(f"== {prog}: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- running kmdflow


def kmdflow_path():
    """$KMDFLOW, else $KF_BUILD_DIR/kmdflow, else <repo>/build/kmdflow (the build of scripts/lib.sh)."""
    exe = os.environ.get("KMDFLOW")
    if not exe:
        exe = os.path.join(os.environ.get("KF_BUILD_DIR") or os.path.join(ROOT, "build"), "kmdflow")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        raise StudyError(f"no kmdflow executable at {exe}: build it (cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && "
                         "cmake --build build -j) or set KMDFLOW=/path/to/kmdflow")
    return os.path.abspath(exe)


def mpi_prefix(ranks):
    """$MPIEXEC (default mpiexec; may carry options, e.g. 'srun --mpi=pmix') -n RANKS."""
    return shlex.split(os.environ.get("MPIEXEC", "mpiexec")) + ["-n", str(int(ranks))]


def mpi_env():
    """As kf_mpi_env in scripts/lib.sh: Open MPI may run as root and oversubscribe."""
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    return env


def run_kmdflow(args, output, log, ranks, prog):
    """Runs kmdflow ARGS -output OUTPUT on RANKS ranks, stdout+stderr to LOG. Returns the wall time.
    A non-zero exit status or a missing/incomplete output file raises StudyError with the log's tail."""
    cmd = mpi_prefix(ranks) + [kmdflow_path()] + list(args) + ["-output", output]
    os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
    t0 = time.time()
    with open(log, "w") as f:
        f.write("# " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        f.flush()
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, env=mpi_env())
    wall = time.time() - t0
    if rc != 0 or not os.path.isfile(output):
        with open(log) as f:
            tail = "".join(f.readlines()[-12:])
        why = f"exit status {rc}" if rc != 0 else "no output file"
        raise StudyError(f"kmdflow run failed ({why}); log {log}:\n{tail.rstrip()}\ncommand: "
                         + " ".join(shlex.quote(c) for c in cmd))
    return wall


# ---------------------------------------------------------------- reading files


def _attr(f, name, default=None):
    """plot_pde.attr (one decoder of kmdflow's root attributes), with the study's error type."""
    try:
        return plot_pde.attr(f, name, default)
    except plot_pde.RunFileError as e:
        raise StudyError(f"{f.filename}: {e}") from None


def parse_options(text):
    """The `options` attribute ('-dim 1 -n 256 -quiet ...') as {'-dim': '1', '-n': '256', '-quiet': ''}."""
    toks = shlex.split(text or "")
    out, i = {}, 0
    while i < len(toks):
        key = toks[i]
        val = ""
        if i + 1 < len(toks) and not _is_option(toks[i + 1]):
            val = toks[i + 1]
            i += 1
        out[key] = val
        i += 1
    return out


def _is_option(tok):
    if not tok.startswith("-") or len(tok) < 2:
        return False
    try:
        float(tok)
        return False  # a negative number is a value
    except ValueError:
        return True


def read_compare(path):
    """A finished compare-mode file as a dict of numpy arrays and attributes."""
    try:
        f = h5py.File(path, "r")
    except (FileNotFoundError, OSError) as exc:
        raise StudyError(f"{path}: cannot open ({exc})")
    with f:
        if _attr(f, "complete", 0) != 1:
            raise StudyError(f"{path}: not a finished run (attribute complete != 1)")
        if "compare" not in f:
            raise StudyError(f"{path}: no /compare group: not a -mode compare file")
        r = {"path": path, "d": int(_attr(f, "d")), "s": float(_attr(f, "s")), "L": float(_attr(f, "L")),
             "init": _attr(f, "init", "?"), "target": _attr(f, "target", "?"), "ranks": _attr(f, "ranks", "?"),
             "options_text": _attr(f, "options", "")}
        g = _attr(f, "grid")
        r["grid"] = [int(x) for x in (g if isinstance(g, list) else [g])]
        r["options"] = parse_options(r["options_text"])
        r["compare"] = {k: np.asarray(f["compare"][k], dtype=float) for k in f["compare"]}
        r["pde"] = {k: np.asarray(f["diagnostics"][k], dtype=float) for k in f["diagnostics"]}
        r["part"] = {k: np.asarray(f["particles/diagnostics"][k], dtype=float) for k in f["particles/diagnostics"]}
        r["N"] = int(f["particles/x"].shape[1])
    opt = r["options"]
    r["particle_init"] = opt.get("-particle_init", "iid")
    r["seed"] = int(opt.get("-seed", "1"))
    r["compare_s"] = float(opt.get("-compare_s", r["s"]))
    return r


def density_min(r, which="init"):
    """min of the initial density from the PDE diagnostics (which = 'init'); None if unknown."""
    if which == "init":
        return float(r["pde"]["rho_min"][0])
    return None


# ---------------------------------------------------------------- math spec closed forms


def zeta(a):
    """Riemann zeta(a), a > 1 (Euler-Maclaurin after 64 terms; relative error < 1e-15)."""
    if a <= 1:
        raise ValueError("zeta(a) needs a > 1")
    M = 64
    s = sum(k ** -a for k in range(1, M))
    # tail sum_{k >= M} k^-a = M^{1-a}/(a-1) + M^-a/2 + a M^{-a-1}/12 - a(a+1)(a+2) M^{-a-3}/720 + ...
    s += M ** (1 - a) / (a - 1) + 0.5 * M ** -a + a * M ** (-a - 1) / 12 - a * (a + 1) * (a + 2) * M ** (-a - 3) / 720
    s += a * (a + 1) * (a + 2) * (a + 3) * (a + 4) * M ** (-a - 5) / 30240
    return s


def lattice_energy(N, s, L, d=1):
    """E_min = zeta(2s) (2 pi N / L)^{-2s}: energy of N equispaced particles against the uniform target (d = 1;
    math spec C.2, C.4); the minimum of the particle energy for nu = 1."""
    if d != 1:
        return float("nan")
    return zeta(2 * s) * (2 * math.pi * N / L) ** (-2 * s)


def c3_exponent(s, p, d=1):
    """C.3 / G9: E(t) ~ t^{-(2s+2p-d)/(2s-2)} for s > 1 and |eta_0^(k)| ~ |k|^-p."""
    return -(2 * s + 2 * p - d) / (2 * s - 2)


def kstar(t, s, L):
    """Dominant mode at time t (C.3): (2 t (2 pi / L)^{2-2s})^{1/(2s-2)}; for L = 2 pi, (2t)^{1/(2s-2)}."""
    return (2 * np.asarray(t, dtype=float) * (2 * math.pi / L) ** (2 - 2 * s)) ** (1.0 / (2 * s - 2))


def time_of_kstar(k, s, L):
    """Inverse of kstar."""
    return k ** (2 * s - 2) / (2 * (2 * math.pi / L) ** (2 - 2 * s))


# ---------------------------------------------------------------- fits


def fit_line(x, y):
    """Least squares y = a + b x; returns (b, a, standard error of b) (nan if fewer than 2 points)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return float("nan"), float("nan"), float("nan")
    A = np.vstack([np.ones_like(x), x]).T
    coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    a, b = coef
    if len(x) > 2:
        resid = y - (a + b * x)
        se = math.sqrt(float(resid @ resid) / (len(x) - 2) / float(((x - x.mean()) ** 2).sum()))
    else:
        se = float("nan")
    return float(b), float(a), se


def fit_loglog(x, y):
    """Slope of log y against log x (positive data only)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = (x > 0) & (y > 0)
    return fit_line(np.log(x[ok]), np.log(y[ok]))


def fmt(v, spec=".3f"):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return format(v, spec)


def write_csv(path, rows, columns):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    os.replace(tmp, path)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def fmt_L(L):
    return "2π" if abs(L - 2 * math.pi) < 1e-9 else f"{L:g}"


def savefig(fig, path, dpi=90):
    """PNG written atomically; small enough to commit (line plots at 90 dpi are ~50-120 kB)."""
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=dpi)
    os.replace(tmp, path)
