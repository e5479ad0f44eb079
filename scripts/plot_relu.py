#!/usr/bin/python3
"""Run the example of docs/relu.md and make its figure (docs/img/relu-loss.png).

usage: /usr/bin/python3 scripts/plot_relu.py [--outdir DIR] [--workdir DIR] [--ranks P] [--dim D] [--students J]
                                             [--teacher K] [--tmax T]

kmdflow is $KMDFLOW if set, else build/kmdflow of this repository. The teacher (K directions uniform on S^d,
masses 1/K, numpy seed 1) is written to WORKDIR/teacher.h5 and read with -relu_teacher file:...; the students are
kmdflow's seeded draw (masses 1/(2J): half the teacher's mass). The default run (d = 2, J = 200, K = 400, T = 300)
takes about half a minute on 2 cores. The exact command is printed before it starts; the numbers quoted in
docs/relu.md (loss drop, fitted late-time slope, dissipation identity) are printed after it.

Figure relu-loss.png:
  left   loss F(t) against t (log-log) with the dissipation D(t), and the reference slope t^-(d+3+2r)/(d+1) of the
         LINEARISED analysis of math spec F.2 for r = -d/2 (the Sobolev regularity of a difference of finitely many
         atoms), anchored at the end of the run. It is a linearised prediction around a uniform teacher, not a
         theorem for this nonlinear finite-neuron run; the exponent proved in the paper behind F.2 is unknown here.
  right  the neurons at t = 0 and t = T on S^2 (Lambert azimuthal projections of the two hemispheres; d = 2 only):
         students with area proportional to their mass, teacher neurons as crosses.
"""
import argparse
import math
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np

try:
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as exc:
    sys.exit(f"plot_relu.py: {exc}; run it with /usr/bin/python3 (numpy, h5py, matplotlib)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kmdflow():
    exe = os.environ.get("KMDFLOW", os.path.join(ROOT, "build", "kmdflow"))
    if not os.access(exe, os.X_OK):
        sys.exit(f"plot_relu.py: {exe} is not an executable; build kmdflow or set KMDFLOW")
    return exe


def run(args, opts):
    cmd = ["mpiexec", "-n", str(args.ranks), kmdflow()] + opts
    print("+", " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, cwd=args.workdir, check=True, stdout=subprocess.DEVNULL)


def write_teacher(fname, d, K):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((K, d + 1))
    w /= np.linalg.norm(w, axis=1)[:, None]
    with h5py.File(fname, "w") as f:
        f["nu"] = np.hstack([w, np.full((K, 1), 1.0 / K)])
    return w


def simpson(t, f):
    h = t[1] - t[0]
    return h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())


def lambert(p):
    """Lambert azimuthal equal-area projection of unit vectors around +z (upper) or -z (lower hemisphere)."""
    z = np.abs(p[:, 2])
    r = np.sqrt(2 / (1 + z))
    return p[:, 0] * r, p[:, 1] * r


def sphere_panel(ax, theta, m, teacher, title):
    for sign, off in ((1, -1.6), (-1, 1.6)):
        up = theta[:, 2] * sign >= 0
        x, y = lambert(theta[up])
        ax.scatter(x + off, y, s=12 * len(m) * m[up], alpha=0.6, color="tab:blue", lw=0)  # area ~ mass, 12 pt^2 at m = 1/J
        tu = teacher[:, 2] * sign >= 0
        x, y = lambert(teacher[tu])
        ax.scatter(x + off, y, marker="x", s=8, color="tab:red", lw=0.6)
        ax.add_patch(plt.Circle((off, 0), math.sqrt(2), fill=False, lw=0.5, color="0.5"))
        ax.text(off, 1.55, "upper" if sign > 0 else "lower", ha="center", fontsize=7)
    ax.set_aspect("equal")
    ax.set_xlim(-3.1, 3.1)
    ax.set_ylim(-1.6, 1.8)
    ax.axis("off")
    ax.set_title(title, fontsize=9)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outdir", default=os.path.join(ROOT, "docs", "img"))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--dim", type=int, default=2)
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--teacher", type=int, default=400)
    ap.add_argument("--tmax", type=float, default=300)
    args = ap.parse_args()
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="plot_relu_")
    os.makedirs(args.workdir, exist_ok=True)
    os.makedirs(args.outdir, exist_ok=True)
    d, J, K, T = args.dim, args.students, args.teacher, args.tmax
    teacher = write_teacher(os.path.join(args.workdir, "teacher.h5"), d, K)
    run(args, ["-problem", "relu", "-dim", str(d), "-particles", str(J), "-relu_student_mass", "0.5",
               "-relu_teacher", "file:teacher.h5:nu", "-ts_max_time", f"{T:g}", "-output_dt", "1",
               "-ts_rtol", "1e-7", "-ts_atol", "1e-9", "-quiet", "-output", "relu.h5"])
    with h5py.File(os.path.join(args.workdir, "relu.h5"), "r") as f:
        t, F, D = (f["diagnostics"][k][()] for k in ("time", "loss", "dissipation"))
        theta, m = f["particles/x"][()], f["particles/w"][()][..., 0]

    r = -d / 2
    expo = (d + 3 + 2 * r) / (d + 1)
    late = t >= T / 6
    slope = np.polyfit(np.log(t[late]), np.log(F[late]), 1)[0]
    n = len(t) - 1 if (len(t) - 1) % 2 == 0 else len(t) - 2
    ident = abs((F[0] - F[n]) - simpson(t[: n + 1], D[: n + 1])) / (F[0] - F[n])
    print(f"loss F(0) = {F[0]:.4e} -> F(T) = {F[-1]:.4e} (ratio {F[-1] / F[0]:.2e}); student mass {m[0].sum():.4f} -> {m[-1].sum():.4f}")
    print(f"fitted slope of log F on t in [{T / 6:g}, {T:g}]: {slope:.3f}; linearised prediction -(d+3+2r)/(d+1) = {-expo:.3f} at r = -d/2")
    print(f"F(0) - F(T) against Simpson of D: relative difference {ident:.1e}")

    fig = plt.figure(figsize=(10, 3.6))
    ax = fig.add_subplot(1, 3 if d == 2 else 1, 1)
    pos = t > 0
    ax.loglog(t[pos], F[pos], color="tab:blue", label="loss $F(t)$")
    ax.loglog(t[pos], D[pos], color="tab:green", lw=0.8, label="dissipation $-dF/dt$")
    tref = np.array([T / 20, T])
    ax.loglog(tref, F[-1] * (tref / T) ** (-expo), "k--", lw=1,
              label=f"$t^{{-{expo:.2g}}}$: linearised rate of F.2, $r=-d/2$")
    ax.set_xlabel("t")
    ax.set_title(f"d = {d}, J = {J} students, K = {K} teacher neurons\nlate-time fitted slope {slope:.2f}", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    if d == 2:
        sphere_panel(fig.add_subplot(1, 3, 2), theta[0], m[0], teacher, "t = 0 (students: blue, area ~ mass)")
        sphere_panel(fig.add_subplot(1, 3, 3), theta[-1], m[-1], teacher, f"t = {T:g} (teacher: red crosses)")
    fig.tight_layout()
    out = os.path.join(args.outdir, "relu-loss.png")
    fig.savefig(out, dpi=100)
    print(f"wrote {out} ({os.path.getsize(out) // 1024} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
