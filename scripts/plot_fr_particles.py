#!/usr/bin/python3
"""The figure of docs/fr-particles.md: (left) birth-death and weighted Fisher-Rao particles against the PDE in compare
mode, H^-1 distance at T = 1 vs N with the N^-1/2 line (math spec G16); (right) free-space Gaussians, Fisher-Rao of
sigma KL + int b.x with the entropy-exact step: weighted means and variances against the closed form of D.2 (G13).

  KMDFLOW=build/kmdflow /usr/bin/python3 scripts/plot_fr_particles.py [--outdir docs/img] [--workdir DIR] [--ranks P]
"""
import argparse
import math
import os
import subprocess
import tempfile

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(args, opts):
    cmd = ["mpiexec", "-n", str(args.ranks), os.path.abspath(os.environ.get("KMDFLOW", os.path.join(ROOT, "build", "kmdflow")))] + opts + ["-quiet"]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=args.workdir, check=True, stdout=subprocess.DEVNULL)


def g16(args, ax):
    common = ["-dim", "1", "-n", "128", "-s", "1", "-L", "1", "-init", "cos", "-flow", "fisher_rao", "-ts_max_time", "1", "-output_dt", "1"]
    Ns, seeds = [100, 400, 1600, 6400], [1, 2, 3, 4]
    rms = {"birth_death": [], "weights": []}
    for N in Ns:
        for scheme in rms:
            step = ["-ts_dt", "0.02", "-particles_ts_dt", "0.02"] + (["-particles_ts_type", "euler", "-fr_step", "md"] if scheme == "weights" else [])
            h2 = 0.0
            for s in seeds:
                out = f"g16_{scheme}_{N}_{s}.h5"
                run(args, ["-mode", "compare"] + common + ["-particles", str(N), "-seed", str(s), "-fr_particles", scheme, "-output", out] + step)
                with h5py.File(os.path.join(args.workdir, out), "r") as f:
                    h2 += f["compare/hminus"][-1] ** 2
            rms[scheme].append(math.sqrt(h2 / len(seeds)))
    for scheme, mark in (("birth_death", "o-"), ("weights", "s-")):
        ax.loglog(Ns, rms[scheme], mark, label=f"{scheme.replace('_', '-')} particles")
        print(f"G16 {scheme}: RMS H^-1 at T = 1:", ", ".join(f"N={n}: {v:.3e}" for n, v in zip(Ns, rms[scheme])),
              f"slope {np.polyfit(np.log(Ns), np.log(rms[scheme]), 1)[0]:.3f}")
    ref = rms["birth_death"][0] * (np.array(Ns) / Ns[0]) ** -0.5
    ax.loglog(Ns, ref, "k--", lw=0.8, label=r"$N^{-1/2}$")
    ax.set_xlabel("N")
    ax.set_ylabel(r"RMS $\|\mu_N(T)-\rho_T\|_{\dot H^{-1}}$ (4 seeds)")
    ax.set_title("G16: Fisher–Rao particles vs PDE (d = 1, s = 1, T = 1)")
    ax.legend()


def g13(args, ax):
    m0, v0, mp, vp, b = np.zeros(2), np.full(2, 2.0), np.array([1.0, -0.5]), np.array([0.5, 1.0]), np.array([0.5, 0.2])
    run(args, ["-mode", "particles", "-domain", "free", "-dim", "2", "-flow", "fisher_rao", "-energy", "none", "-sigma", "1",
               "-init", "normal", "-init_normal_var", "2", "-reference", "normal", "-reference_normal_mean", "1,-0.5",
               "-reference_normal_var", "0.5,1", "-potential_linear", "0.5,0.2", "-entropy_estimate", "weights", "-fr_step", "exp",
               "-ts_type", "euler", "-ts_adapt_type", "none", "-ts_dt", "0.25", "-ts_max_time", "4", "-output_dt", "0.25",
               "-particles", "20000", "-output", "g13.h5"])
    with h5py.File(os.path.join(args.workdir, "g13.h5"), "r") as f:
        t, x, w = f["particles/time"][()], f["particles/x"][()], f["particles/w"][()][:, :, 0]
    mean = np.einsum("rn,rnc->rc", w, x)
    var = np.einsum("rn,rnc->rc", w, (x - mean[:, None, :]) ** 2)
    tt = np.linspace(0, t[-1], 200)
    a = np.exp(-tt)[:, None]
    vt = 1 / (a / v0 + (1 - a) / vp)
    mt = vt * (a * m0 / v0 + (1 - a) * (mp - vp * b) / vp)
    for c, col in enumerate(("C0", "C1")):
        ax.plot(tt, mt[:, c], "-", color=col, lw=1, label=f"mean$_{c + 1}$ (D.2)")
        ax.plot(t, mean[:, c], "o", color=col, ms=3, label=f"weighted mean$_{c + 1}$")
        ax.plot(tt, vt[:, c], "--", color=col, lw=1, label=f"variance$_{c + 1}$ (D.2)")
        ax.plot(t, var[:, c], "s", color=col, ms=3, mfc="none", label=f"weighted variance$_{c + 1}$")
    print(f"G13 at T = {t[-1]:g}: weighted mean {mean[-1]}, exact {mt[-1]}; variance {var[-1]}, exact {vt[-1]}")
    ax.set_xlabel("t")
    ax.set_title(r"G13: FR of KL(μ|N(m,V)) + ∫b·x dμ in $\mathbb{R}^2$, N = 20000")
    ax.legend(fontsize=7, ncol=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outdir", default=os.path.join(ROOT, "docs", "img"))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--ranks", type=int, default=1)
    args = ap.parse_args()
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory()
        args.workdir = tmp.name
    os.makedirs(args.workdir, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    g16(args, axes[0])
    g13(args, axes[1])
    fig.tight_layout()
    os.makedirs(args.outdir, exist_ok=True)
    out = os.path.join(args.outdir, "fr_particles.png")
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
