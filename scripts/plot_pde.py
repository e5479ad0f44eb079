#!/usr/bin/python3
"""Plot a finished kmdflow PDE run: energy vs time, first and last density.

usage: /usr/bin/python3 scripts/plot_pde.py RUN.h5 [-o OUT.png]

Makes one PNG with three panels: the energy on a log axis (with the reference curves of math spec
C.1/C.2 when s = 1 and the target is uniform), the first and the last recorded density (1-D: lines
over x = L g/n; 2-D: images on one colour scale; 3-D: the slice x3 = L/2). Refuses files whose root
attribute `complete` is not 1: kmdflow sets it only after the last record is flushed, so anything
else is a crashed or still-running run whose data may be partial.
"""
import argparse
import math
import os
import sys

import numpy as np

try:
    import h5py
    import matplotlib

    matplotlib.use("Agg")  # no display needed; we only write a file
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MultipleLocator
except ImportError as exc:  # the python3 first on PATH may lack these; /usr/bin/python3 has them
    sys.exit(f"plot_pde.py: {exc}; run it with /usr/bin/python3 (numpy, h5py, matplotlib)")


class RunFileError(Exception):
    """A problem with the input file, reported as one line instead of a traceback."""


def attr(f, name, default=None):
    """A root attribute as a Python scalar/str/list; kmdflow stores ints as 1-element arrays and strings as bytes."""
    if name not in f.attrs:
        if default is not None:
            return default
        raise RunFileError(f"missing root attribute '{name}'")
    v = f.attrs[name]
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, str):
        return v
    a = np.asarray(v)
    if a.dtype.kind in "SO":
        return a.ravel()[0].decode(errors="replace") if isinstance(a.ravel()[0], bytes) else str(a.ravel()[0])
    return a.ravel().tolist() if a.size > 1 else a.ravel()[0].item()


def dataset(f, path):
    if path not in f:
        raise RunFileError(f"missing dataset {path}")
    return f[path]


def read_run(path):
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise RunFileError("no such file")
    except OSError as exc:
        raise RunFileError(f"not a readable HDF5 file ({exc})")
    with f:
        complete = attr(f, "complete", default=0)
        if complete != 1:
            raise RunFileError(f"the run is not complete (attribute complete = {complete}); kmdflow marks a file complete "
                               "only when the run finished, so this one crashed or is still running")
        d = int(attr(f, "d"))
        grid = attr(f, "grid")
        grid = [int(g) for g in (grid if isinstance(grid, list) else [grid])]
        run = {
            "d": d,
            "grid": grid,
            "s": float(attr(f, "s")),
            "L": float(attr(f, "L")),
            "init": attr(f, "init", default="?"),
            "target": attr(f, "target", default="?"),
            "ranks": attr(f, "ranks", default="?"),
            "time": np.asarray(dataset(f, "diagnostics/time"), dtype=float),
            "energy": np.asarray(dataset(f, "diagnostics/energy"), dtype=float),
            "rho_min": np.asarray(dataset(f, "diagnostics/rho_min"), dtype=float),
        }
        rho, ftime = dataset(f, "pde/rho"), np.asarray(dataset(f, "pde/time"), dtype=float)
        if rho.ndim != d + 1 or list(rho.shape[1:]) != grid or rho.shape[0] < 1:
            raise RunFileError(f"/pde/rho has shape {rho.shape}; expected (records, {', '.join(map(str, grid))})")
        if len(ftime) != rho.shape[0]:
            raise RunFileError(f"/pde/time has {len(ftime)} entries for {rho.shape[0]} records of /pde/rho")
        if len(run["energy"]) != len(run["time"]) or len(run["time"]) == 0:
            raise RunFileError("/diagnostics/time and /diagnostics/energy are empty or of different lengths")
        # Only the first and last records are read: a 3-D run file can be large.
        if d == 3:
            k = grid[2] // 2  # x3 = L (n3/2)/n3 = L/2 exactly for the even grids kmdflow accepts
            run["slice_x3"] = run["L"] * k / grid[2]
            first, last = rho[0, :, :, k], rho[-1, :, :, k]
        else:
            first, last = rho[0], rho[-1]
        run["rho"] = [(ftime[0], np.asarray(first, dtype=float)), (ftime[-1], np.asarray(last, dtype=float))]
    return run


def fmt_L(L):
    """2 pi prints as 2π, other periods as numbers."""
    return "2π" if abs(L - 2 * math.pi) < 1e-12 else f"{L:g}"


def x_axis(ax, which, L):
    """Coordinates in x units; multiples of π/2 when L = 2π."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    if abs(L - 2 * math.pi) < 1e-12:
        names = {0: "0", 1: "π/2", 2: "π", 3: "3π/2", 4: "2π"}
        axis.set_major_locator(MultipleLocator(math.pi / 2))
        axis.set_major_formatter(FuncFormatter(lambda v, _: names.get(int(round(v / (math.pi / 2))), "")))


def plot_energy(ax, run):
    t, e = run["time"], run["energy"]
    pos = e > 0  # a log axis cannot show E = 0 (e.g. init equal to target)
    if pos.any():
        ax.semilogy(t[pos], e[pos], "o-", color="C0", ms=3, lw=1.5, label="E(t) (kmdflow)")
    else:
        ax.plot(t, e, "o-", color="C0", ms=3, label="E(t) = 0")
    if run["s"] == 1.0 and run["target"] == "uniform" and pos.any() and pos[0]:
        tt = np.linspace(t[0], t[-1], 200)
        e0 = e[0]
        # Spec C.2: exact for d = 1; in higher d the asymptotic rate, between E and the C.1 bound.
        note = " (exact for d = 1)" if run["d"] == 1 else ""
        ax.semilogy(tt, e0 * np.exp(-2 * (tt - t[0])), "--", color="C3", lw=1.2, label=r"$E(0)\,e^{-2t}$" + note)
        m0 = run["rho_min"][0]
        if 0 < m0 <= 1:
            et = np.exp(-(tt - t[0]))
            bound = e0 * et ** 2 / (m0 + (1 - m0) * et) ** 2
            ax.semilogy(tt, bound, ":", color="C2", lw=1.8,
                        label=r"bound C.1: $E(0)\,e^{-2t}/(m_0+(1-m_0)e^{-t})^2$" + f", $m_0$ = {m0:.3g}")
    ax.set_xlabel("t")
    ax.set_ylabel("energy E")
    ax.set_title("energy")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")


def plot_densities(fig, axes, run):
    d, L, grid = run["d"], run["L"], run["grid"]
    vals = np.concatenate([r.ravel() for _, r in run["rho"]])
    lo, hi = float(vals.min()), float(vals.max())
    for ax, (t, rho), which in zip(axes, run["rho"], ("first", "last")):
        if d == 1:
            x = L * np.arange(grid[0]) / grid[0]
            ax.plot(x, rho, "-", color="C0", lw=1.5, marker="." if grid[0] <= 64 else None)
            pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
            ax.set_ylim(lo - pad, hi + pad)  # same scale for both, so the change is visible
            ax.set_xlim(0, L)
            ax.set_xlabel("x")
            ax.set_ylabel("ρ")
            ax.grid(True, alpha=0.3)
            x_axis(ax, "x", L)
        else:
            h0, h1 = L / grid[0], L / grid[1]
            # rho[g1, g2]: x1 runs along the horizontal axis; pixel g is centred on x = L g / n.
            # Each image has its own colour scale: a flow toward nu flattens rho, and a shared
            # scale would show the last density as one flat colour.
            im = ax.imshow(rho.T, origin="lower", extent=(-h0 / 2, L - h0 / 2, -h1 / 2, L - h1 / 2),
                           cmap="viridis", interpolation="nearest", aspect="equal")
            fig.colorbar(im, ax=ax, shrink=0.85, label="ρ")
            ax.set_xlabel("x1")
            ax.set_ylabel("x2")
            x_axis(ax, "x", L)
            x_axis(ax, "y", L)
        title = f"{which} density, t = {t:.4g}"
        if d == 3:
            title += f"\nslice x3 = L/2 = {run['slice_x3']:.4g}"
        title += f"\nmin {rho.min():.4g}, max {rho.max():.4g}"
        ax.set_title(title, fontsize=10)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Plot a finished kmdflow PDE run (energy, first and last density) to one PNG.")
    ap.add_argument("run", help="kmdflow output file (HDF5)")
    ap.add_argument("-o", "--output", help="PNG to write (default: the input path with .png)")
    args = ap.parse_args(argv)
    out = args.output or os.path.splitext(args.run)[0] + ".png"
    try:
        run = read_run(args.run)
    except RunFileError as exc:
        print(f"plot_pde.py: {args.run}: {exc}", file=sys.stderr)
        return 1

    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2) if run["d"] > 1 else (16, 4.8), constrained_layout=True)
    plot_energy(axes[0], run)
    plot_densities(fig, axes[1:], run)
    grid = " x ".join(map(str, run["grid"]))
    fig.suptitle(f"kmdflow PDE: d = {run['d']}, grid {grid}, s = {run['s']:g}, L = {fmt_L(run['L'])}"
                 f"   (init {run['init']}, target {run['target']}, {run['ranks']} ranks)", fontsize=12)
    try:
        fig.savefig(out, dpi=110)
    except OSError as exc:
        print(f"plot_pde.py: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    print(f"plot_pde.py: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
