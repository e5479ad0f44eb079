#!/usr/bin/python3
"""Run the small examples of docs/flows.md and make its figures (docs/img/flows-*.png).

usage: /usr/bin/python3 scripts/plot_flows.py [--outdir DIR] [--workdir DIR] [--ranks P] [--checks]

kmdflow is $KMDFLOW if set, else build/kmdflow of this repository. Every run is 1-D and takes seconds;
all of them together take about half a minute on 2 cores (--checks adds about as much again). The exact
command of every run is printed before it starts, and the numbers quoted in docs/flows.md are printed
after it (closed-form errors, fitted slopes, W1 / (L/(4N)), KDE errors; with --checks also the
dissipation identities, step counts and the rank independence of resampling).

Figures (each < 150 kB):
  flows-energy.png   energy vs time of the Wasserstein, Fisher-Rao and WFR flows from the same start,
                     without and with the entropy sigma KL(mu | pi): PDE (lines) and particles (markers)
  flows-fr-kl.png    Fisher-Rao flow of KL(mu | pi): density at a few times against the closed form of
                     math spec D.2, and the error against time for two TS tolerances
  flows-weights.png  Fisher-Rao particles: N w_i against X_i with the PDE's rho_t/rho_0, for the two entropy
                     estimates; the KDE error against the bandwidth h (O(h^2))
  flows-g14.png      Fisher-Rao flow of E_1 from a power-law start: log-log energy with the slopes of G14
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
    import matplotlib.ticker
except ImportError as exc:
    sys.exit(f"plot_flows.py: {exc}; run it with /usr/bin/python3 (numpy, h5py, matplotlib)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
L = 2 * math.pi  # every run uses the default period
COLORS = {"wasserstein": "C0", "fisher_rao": "C3", "wfr": "C2"}
LABELS = {"wasserstein": "Wasserstein", "fisher_rao": "Fisher-Rao", "wfr": "WFR"}


class Runner:
    def __init__(self, exe, workdir, ranks):
        self.exe, self.workdir, self.ranks = exe, workdir, ranks

    def __call__(self, name, *args, output=True):
        """Runs kmdflow with args (+ -output WORKDIR/name.h5 -quiet); returns (path or None, stdout)."""
        path = os.path.join(self.workdir, name + ".h5")
        cmd = ["mpiexec", "-n", str(self.ranks), self.exe, *map(str, args), "-quiet",
               "-output", path if output else "none"]
        print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"plot_flows.py: the run failed (exit {res.returncode}):\n{res.stdout}{res.stderr}")
        return (path if output else None), res.stdout


def steps_of(stdout):
    """The step count of the summary line 'time steps N to t = ...' (PDE or particle mode)."""
    for line in stdout.splitlines():
        if line.strip().startswith("time steps"):
            return int(line.split()[2])
    return -1


def interp(f, x):
    """The grid function f (1-D, period L) as its trigonometric interpolant (Nyquist mode dropped) at x."""
    n = len(f)
    c = np.fft.fft(f) / n
    c[n // 2] = 0
    k = np.fft.fftfreq(n, 1.0 / n)
    return np.real(np.exp(2j * np.pi * np.outer(x, k) / L) @ c)


def save(fig, outdir, name):
    path = os.path.join(outdir, name)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path} ({os.path.getsize(path) // 1024} kB)")


# ---------------------------------------------------------------- figure 1: energies of the three flows

def fig_energy(run, outdir):
    base = ["-mode", "compare", "-dim", 1, "-n", 128, "-s", 1, "-init", "gaussians", "-particles", 500,
            "-particle_init", "quantile", "-ts_max_time", 5, "-output_dt", 0.1]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9), constrained_layout=True)
    for ax, extra, title in [(axes[0], [], r"$\mathcal{E}_1(\mu)=\frac{1}{2}\Vert\mu-1\Vert^2_{\dot H^{-1}}$"),
                             (axes[1], ["-sigma", 0.5, "-reference", "cos"],
                              r"$\mathcal{E}_1(\mu)+0.5\,\mathrm{KL}(\mu\,|\,\pi_{\cos})$")]:
        for flow in ("wasserstein", "fisher_rao", "wfr"):
            tag = "energy_" + flow + ("_kl" if extra else "")
            path, out = run(tag, *base, "-flow", flow, *extra)
            with h5py.File(path, "r") as f:
                t = f["diagnostics/time"][:]
                ep = f["diagnostics/energy"][:]
                eq = f["particles/diagnostics/energy"][:]
            ax.semilogy(t, ep, color=COLORS[flow], label=LABELS[flow] + " PDE")
            ax.semilogy(t[::5], eq[::5], "o", ms=4, mfc="none", color=COLORS[flow], label=LABELS[flow] + " particles")
            print(f"   {tag}: E(0) = {ep[0]:.6e} E(5) = {ep[-1]:.6e} (PDE), {eq[0]:.6e} / {eq[-1]:.6e} (particles)")
        ax.set_xlabel("t")
        ax.set_ylabel("energy")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, ncol=1)
    fig.suptitle("1-D, s = 1, L = 2$\\pi$, init gaussians, uniform target; PDE n = 128, N = 500 quantile particles "
                 "(entropy of particles: KDE)", fontsize=9)
    save(fig, outdir, "flows-energy.png")


# ---------------------------------------------------------------- figure 2: Fisher-Rao flow of KL vs the closed form

def fig_fr_kl(run, outdir):
    pi_path, _ = run("pi_cos", "-dim", 1, "-n", 256, "-init", "cos", "-ts_max_steps", 0)
    with h5py.File(pi_path, "r") as f:
        pi = f["pde/rho"][0]  # the reference as kmdflow normalises it on the grid
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9), constrained_layout=True)
    x = np.arange(256) * L / 256
    for tol in ("1e-8", "1e-11"):
        path, out = run("frkl_" + tol, "-dim", 1, "-n", 256, "-flow", "fisher_rao", "-energy", "none", "-sigma", 1,
                        "-init", "gaussians", "-reference", "cos", "-ts_max_time", 3, "-output_dt", 0.05,
                        "-ts_rtol", tol, "-ts_atol", tol)
        with h5py.File(path, "r") as f:
            rho = f["pde/rho"][:]
            t = f["pde/time"][:]
            E = f["diagnostics/energy"][:]
            D = f["diagnostics/dissipation"][:]
        err = []
        for k, tk in enumerate(t):
            a = math.exp(-tk)
            c = rho[0] ** a * pi ** (1 - a)
            c /= c.mean()
            err.append(np.abs(rho[k] - c).max())
        err = np.array(err)
        print(f"   FR of KL, tolerance {tol}: {steps_of(out)} steps, max |rho - closed form| = {err.max():.2e}; "
              f"E(0) - E(3) = {E[0] - E[-1]:.10f}, Simpson integral of the dissipation = {simpson(D, t):.10f}")
        axes[1].semilogy(t[1:], err[1:], "o-", ms=3, label=f"-ts_rtol = -ts_atol = {tol} ({steps_of(out)} steps)")
        if tol == "1e-8":
            for k, tk in enumerate(t):
                if any(abs(tk - s) < 1e-9 for s in (0, 0.5, 1, 3)):
                    a = math.exp(-tk)
                    c = rho[0] ** a * pi ** (1 - a)
                    c /= c.mean()
                    line, = axes[0].plot(x, rho[k], label=f"t = {tk:g}")
                    axes[0].plot(x[::8], c[::8], "x", ms=4, color=line.get_color())
    axes[0].plot(x, pi, "k--", lw=1, label=r"$\pi$ (cos)")
    axes[0].set_xlabel("x")
    axes[0].set_ylabel(r"$\rho_t$")
    axes[0].set_title(r"PDE (lines) and $\rho_0^{e^{-\sigma t}}\pi^{1-e^{-\sigma t}}/Z$ (crosses), $\sigma=1$", fontsize=10)
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("t")
    axes[1].set_ylabel(r"max$_g$ |$\rho$ - closed form|")
    axes[1].set_title("error against the closed form (math spec D.2)", fontsize=10)
    axes[1].legend(fontsize=8)
    axes[1].grid(alpha=0.3)
    save(fig, outdir, "flows-fr-kl.png")


def simpson(y, x):
    """Composite Simpson rule on equispaced x with an even number of intervals (else trapezoid on the last one)."""
    n = len(x) - 1
    h = x[1] - x[0]
    m = n - (n % 2)
    s = h / 3 * (y[0] + y[m] + 4 * y[1:m:2].sum() + 2 * y[2:m - 1:2].sum())
    if m < n:
        s += 0.5 * h * (y[m] + y[n])
    return s


# ---------------------------------------------------------------- figure 3: weights of Fisher-Rao particles

def fig_weights(run, outdir):
    base = ["-mode", "compare", "-dim", 1, "-n", 256, "-flow", "fisher_rao", "-energy", "none", "-sigma", 1,
            "-reference", "cos", "-init", "gaussians", "-particle_init", "quantile", "-ts_max_time", 2]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9), constrained_layout=True)
    N = 400
    for est, extra, mk in [("weights", [], "o"), ("kde", [], "s"), ("kde", ["-kde_h", 0.4], "^")]:
        tag = f"w_{est}" + (f"_h{extra[1]}" if extra else "")
        path, _ = run(tag, *base, "-particles", N, "-entropy_estimate", est, *extra)
        with h5py.File(path, "r") as f:
            rho = f["pde/rho"][:]
            x = f["particles/x"][-1][:, 0]
            w = f["particles/w"][-1][:, 0]
            w1 = f["compare/w1"][:]
            gap = f["compare/energy_gap"][:]
        q = interp(rho[-1], x) / interp(rho[0], x)
        lab = {"weights": "-entropy_estimate weights", "kde": "kde, default h = N^(-1/5) = %.3f" % N ** -0.2}[est]
        if extra:
            lab = "kde, -kde_h 0.4"
        axes[0].plot(x[::4], N * w[::4], mk, ms=3.5, mfc="none", label=lab)
        print(f"   {tag}: max |log(N w_i) - log(rho_T/rho_0)(X_i)| = {np.abs(np.log(N * w) - np.log(q)).max():.3e}, "
              f"W1/(L/4N) at t = 0, 2: {w1[0] / (L / (4 * N)):.4f}, {w1[-1] / (L / (4 * N)):.4f}; "
              f"energy gap (particles - PDE) at t = 0, 2: {gap[0]:.3e}, {gap[-1]:.3e}")
    xs = np.linspace(0, L, 600, endpoint=False)
    axes[0].plot(xs, interp(rho[-1], xs) / interp(rho[0], xs), "k-", lw=1, label=r"PDE $\rho_T/\rho_0$")
    axes[0].set_xlabel(r"$X_i$")
    axes[0].set_ylabel(r"$N w_i$")
    axes[0].set_title(f"Fisher-Rao of KL(mu | cos), N = {N} quantile particles, t = 2", fontsize=10)
    axes[0].legend(fontsize=8)
    # KDE error against h at fixed N
    N = 800
    hs = [0.4, 0.2, 0.1, 0.05]
    errs = []
    for h in hs:
        path, _ = run(f"w_h{h}_N{N}", *base, "-particles", N, "-kde_h", h)
        with h5py.File(path, "r") as f:
            rho = f["pde/rho"][:]
            x = f["particles/x"][-1][:, 0]
            w = f["particles/w"][-1][:, 0]
            gap0 = f["compare/energy_gap"][0]
        q = interp(rho[-1], x) / interp(rho[0], x)
        errs.append(np.abs(np.log(N * w) - np.log(q)).max())
        print(f"   kde h = {h}, N = {N}: max log-weight error at t = 2 {errs[-1]:.3e}; KL estimate - KL at t = 0: {gap0:.3e}")
    path, _ = run(f"w_weights_N{N}", *base, "-particles", N, "-entropy_estimate", "weights")
    with h5py.File(path, "r") as f:
        rho = f["pde/rho"][:]
        x = f["particles/x"][-1][:, 0]
        w = f["particles/w"][-1][:, 0]
    q = interp(rho[-1], x) / interp(rho[0], x)
    ew = np.abs(np.log(N * w) - np.log(q)).max()
    print(f"   weights estimate, N = {N}: max log-weight error at t = 2 {ew:.3e}")
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    print(f"   fitted slope of the KDE error against h: {slope:.2f}")
    axes[1].loglog(hs, errs, "s-", label=f"-entropy_estimate kde (slope {slope:.2f})")
    axes[1].loglog(hs, [errs[0] * (h / hs[0]) ** 2 for h in hs], "k:", lw=1, label=r"$\propto h^2$")
    axes[1].axhline(ew, color="C0", ls="--", label="-entropy_estimate weights")
    axes[1].set_xticks(hs, [str(h) for h in hs])
    axes[1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].set_xlabel("-kde_h")
    axes[1].set_ylabel(r"max$_i$ |log $N w_i$ - log $(\rho_T/\rho_0)(X_i)$|")
    axes[1].set_title(f"error of the weights at t = 2, N = {N}", fontsize=10)
    axes[1].legend(fontsize=8)
    axes[1].grid(alpha=0.3, which="both")
    save(fig, outdir, "flows-weights.png")


# ---------------------------------------------------------------- figure 4: G14 power law

def fig_g14(run, outdir):
    fig, ax = plt.subplots(figsize=(6, 4.2), constrained_layout=True)
    for p, pred in [(1.5, -2.0), (1.0, -1.5)]:
        path, out = run(f"g14_p{p}", "-dim", 1, "-n", 512, "-s", 1, "-flow", "fisher_rao", "-init", "powerlaw",
                        "-init_powerlaw_p", p, "-ts_max_time", 1000, "-output_dt", 2)
        with h5py.File(path, "r") as f:
            t = f["diagnostics/time"][:]
            E = f["diagnostics/energy"][:]
        m = (t >= 20) & (t <= 1000)
        slope, icpt = np.polyfit(np.log(t[m]), np.log(E[m]), 1)
        print(f"   G14 p = {p}: {steps_of(out)} steps, fitted slope on [20, 1000] = {slope:.3f} (predicted {pred})")
        line, = ax.loglog(t[1:], E[1:], label=f"p = {p}: fit {slope:.3f}, predicted {pred}")
        tt = np.array([20, 1000.0])
        ax.loglog(tt, np.exp(icpt) * tt ** pred * 1.6, ":", color=line.get_color())
    ax.axvspan(20, 1000, color="0.9", zorder=0)
    ax.set_xlabel("t")
    ax.set_ylabel(r"$\mathcal{E}_1$")
    ax.set_title("Fisher-Rao flow of $\\mathcal{E}_1$, powerlaw start, n = 512 (G14: slope $-(2s+2p-d)/(2s)$)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    save(fig, outdir, "flows-g14.png")


# ---------------------------------------------------------------- --checks: the other numbers of docs/flows.md

def checks(run):
    print("== dissipation identities: E(0) - E(1) against the Simpson integral of the dissipation (output_dt 0.01)")
    common = ["-dim", 1, "-init", "gaussians", "-ts_max_time", 1, "-output_dt", 0.01, "-ts_rtol", 1e-10, "-ts_atol", 1e-10]
    for mode in ("pde", "particles"):
        for flow in ("wasserstein", "fisher_rao", "wfr"):
            for ent in ([], ["-sigma", 0.5, "-reference", "cos"]):
                extra = ["-wfr_alpha", 2, "-wfr_beta", 0.5] if flow == "wfr" and not ent else []
                if mode == "pde":  # n = 128 where the entropy's diffusion limits the step
                    m = ["-n", 128 if ent and flow != "fisher_rao" else 256]
                else:
                    m = ["-mode", "particles", "-particles", 400]
                path, _ = run(f"diss_{mode}_{flow}{'_kl' if ent else ''}", *common, *m, "-flow", flow, *extra, *ent)
                with h5py.File(path, "r") as f:
                    t = f["diagnostics/time"][:]
                    E = f["diagnostics/energy"][:]
                    D = f["diagnostics/dissipation"][:]
                dE, I = E[0] - E[-1], simpson(D, t)
                print(f"   {mode:9s} {flow:11s} sigma {0.5 if ent else 0}: E0-E1 = {dE:.9e}, int D = {I:.9e}, "
                      f"relative difference {abs(dE - I) / dE:.1e}, monotone {bool(np.all(np.diff(E) <= 0))}")
    print("== step counts to t = 1 (adaptive 5dp, tolerance 1e-8), init gaussians")
    for flow in ("wasserstein", "fisher_rao", "wfr"):
        for sg in (0, 1):
            row = []
            for n in (64, 128, 256):
                _, out = run("steps", "-dim", 1, "-n", n, "-flow", flow, "-sigma", sg, "-init", "gaussians", output=False)
                row.append(steps_of(out))
            for N in (200, 1000):
                _, out = run("steps", "-mode", "particles", "-dim", 1, "-particles", N, "-flow", flow, "-sigma", sg,
                             "-init", "gaussians", output=False)
                row.append(steps_of(out))
            print(f"   {flow:11s} sigma {sg}: PDE n = 64, 128, 256: {row[0]}, {row[1]}, {row[2]}; particles N = 200, 1000: {row[3]}, {row[4]}")
    print("== W1 / (L/(4N)) in compare mode, quantile particles, init gaussians, uniform target, t = 0, 1, ..., 5")
    for flow in ("wasserstein", "fisher_rao", "wfr"):
        for N in (250, 1000):
            path, _ = run(f"w1_{flow}_{N}", "-mode", "compare", "-dim", 1, "-n", 256, "-flow", flow, "-init", "gaussians",
                          "-particles", N, "-particle_init", "quantile", "-ts_max_time", 5, "-output_dt", 1)
            with h5py.File(path, "r") as f:
                r = f["compare/w1"][:] / (L / (4 * N))
                gap = f["compare/energy_gap"][:]
            print(f"   {flow:11s} N = {N:4d}: " + " ".join(f"{v:.4f}" for v in r) + f"; energy gap t = 0: {gap[0]:.3e}, t = 5: {gap[-1]:.3e}")
    print("== W1 at t = 2 of FR-of-KL quantile particles against N, for the two entropy estimates")
    frkl = ["-mode", "compare", "-dim", 1, "-n", 256, "-flow", "fisher_rao", "-energy", "none", "-sigma", 1,
            "-reference", "cos", "-init", "gaussians", "-particle_init", "quantile", "-ts_max_time", 2]
    for est in ("weights", "kde"):
        w1 = []
        for N in (200, 400, 800, 1600):
            path, _ = run(f"w1n_{est}_{N}", *frkl, "-particles", N, "-entropy_estimate", est)
            with h5py.File(path, "r") as f:
                w1.append(f["compare/w1"][-1])
        print(f"   {est:7s} N = 200, 400, 800, 1600: " + ", ".join(f"{v:.3e}" for v in w1))
    print("== -fr_step with Euler steps tau (particles), -entropy_estimate weights: log-weight error at t = 2")
    for step in ("exp", "md", "rk"):
        errs = []
        for tau in (0.5, 0.25, 0.1):
            path, _ = run(f"frstep_{step}_{tau}", *frkl, "-output_dt", 0.5, "-particles", 400, "-entropy_estimate", "weights",
                          "-fr_step", step, "-particles_ts_type", "euler", "-particles_ts_adapt_type", "none",
                          "-particles_ts_dt", tau)
            with h5py.File(path, "r") as f:
                rho = f["pde/rho"][:]
                x = f["particles/x"][-1][:, 0]
                w = f["particles/w"][-1][:, 0]
            q = interp(rho[-1], x) / interp(rho[0], x)
            errs.append(np.abs(np.log(400 * w) - np.log(q)).max())
        print(f"   -fr_step {step:3s} tau = 0.5, 0.25, 0.1: " + ", ".join(f"{e:.2e}" for e in errs))
    print("== fixed steps on the reaction: PDE FR of 10 KL near the minimiser, t <= 40 (sigma dt = 1.9, 2.1 Euler; 2.7, 2.9 RK4)")
    for rk, dt in (("1fe", 0.19), ("1fe", 0.21), ("4", 0.27), ("4", 0.29)):
        path, _ = run(f"stab_{rk}_{dt}", "-dim", 1, "-n", 256, "-flow", "fisher_rao", "-energy", "none", "-sigma", 10,
                      "-init", "cos", "-init_cos_amp", 0.3, "-reference", "cos", "-reference_cos_amp", 0.25,
                      "-ts_rk_type", rk, "-ts_adapt_type", "none", "-ts_dt", dt, "-ts_max_time", 40, "-output_dt", 10)
        with h5py.File(path, "r") as f:
            E = f["diagnostics/energy"][:]
        print(f"   -ts_rk_type {rk:3s} sigma dt = {10 * dt:.1f}: E at t = 0, 10, ..., 40: " + ", ".join(f"{e:.2e}" for e in E))
    print("== resampling: FR of KL, N = 300 iid, -resample_ess 0.7, on 1, 2 and 3 ranks")
    paths = []
    for P in (1, 2, 3):
        r = Runner(run.exe, run.workdir, P)
        path, out = r(f"resample_{P}", "-mode", "particles", "-dim", 1, "-particles", 300, "-flow", "fisher_rao", "-sigma", 1,
                      "-energy", "none", "-reference", "cos", "-init", "gaussians", "-resample_ess", 0.7, "-ts_max_time", 3)
        paths.append(path)
        print("   " + [l for l in out.splitlines() if "weights" in l][0].strip())
    files = [h5py.File(p, "r") for p in paths]
    for key in ("particles/x", "particles/w", "diagnostics/energy"):
        same = all(np.array_equal(files[0][key][:], g[key][:]) for g in files[1:])
        print(f"   {key}: bitwise identical on 1, 2, 3 ranks: {same}")
    for g in files:
        g.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=os.path.join(ROOT, "docs", "img"))
    ap.add_argument("--workdir", help="where the .h5 files go (default: a temporary directory, removed at the end)")
    ap.add_argument("--ranks", type=int, default=1, help="MPI ranks per run (default 1)")
    ap.add_argument("--checks", action="store_true", help="also run the numerical checks quoted in docs/flows.md")
    args = ap.parse_args()
    exe = os.environ.get("KMDFLOW") or os.path.join(ROOT, "build", "kmdflow")
    if not os.access(exe, os.X_OK):
        sys.exit(f"plot_flows.py: no kmdflow executable at {exe}; build it or set KMDFLOW")
    os.makedirs(args.outdir, exist_ok=True)
    tmp = None
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        workdir = args.workdir
    else:
        tmp = tempfile.TemporaryDirectory(prefix="kmdflow-flows-")
        workdir = tmp.name
    run = Runner(exe, workdir, args.ranks)
    fig_energy(run, args.outdir)
    fig_fr_kl(run, args.outdir)
    fig_weights(run, args.outdir)
    fig_g14(run, args.outdir)
    if args.checks:
        checks(run)
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
