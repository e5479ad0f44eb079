/* sample.c - particle positions drawn from a density of the registry (kf_sample.h): the Knothe-Rosenblatt map
   (inverse CDF in 1-D) of uniform numbers (i.i.d.) or of a centred lattice (quantiles), and rejection from
   uniform proposals (optional, i.i.d. in d >= 2) */
#include <complex.h>
#include <float.h>
#include <math.h>
#include "kf_density.h"
#include "kf_fourier.h"
#include "kf_rng.h"
#include "kf_sample.h"
#include "kf_spectral.h"

#define KF_SAMPLE_MAX_POINTS ((PetscInt64)1 << 22) /* grid points held on every rank */
#define KF_SAMPLE_DROP DBL_EPSILON                 /* |rho^(k)| / rho^(0) at or below this: FFT round-off, dropped */
#define KF_SAMPLE_NEG_TOL 1e-12                    /* min rho below -this (the mean is 1): not a density */
#define KF_SAMPLE_MIN_ATTEMPTS 10000               /* rejection attempts per particle: max(this, 60 B) */
#define KF_SAMPLE_MAX_BOUND 1e4                    /* rejection refused when B is larger (acceptance < 1e-4) */
#define KF_SAMPLE_BLOCK 4096                       /* particles per batch of candidates */
#define KF_SAMPLE_MAX_ITERS 200                    /* Newton/bisection steps (bisection alone needs < 64) */
#define KF_SAMPLE_MAX_FINE ((PetscInt64)1 << 22)   /* refine = 8, 4 or 2: the largest with refine^d N <= this */

struct _p_KfSampler {
  MPI_Comm       comm;
  PetscInt       dim, n[KF_MAX_DIM];
  PetscInt       K[KF_MAX_DIM], W[KF_MAX_DIM]; /* retained band |k_j| <= K_j; box width W_j = 2 K_j + 1 */
  PetscInt       refine, ncoef;                /* fine-grid factor; retained modes in the half space */
  PetscReal      L;
  char           role[16], spec[KF_SPEC_LEN];
  PetscBool      uniform;
  KfSampleMethod method; /* of i.i.d. draws in d >= 2 */
  KfComplex     *c;      /* coefficients on the box: c[((k0 + K0) W1 + k1 + K1) W2 + k2 + K2], c(0) = 1, c(-k) = conj c(k) */
  PetscReal     *ipk;    /* 1/(pi k), k = 0..max K_j (entry 0 unused) */
  KfComplex     *marg;   /* the x_1 marginal: c(k, 0, 0), k = 1..K0 at marg[k - 1] */
  PetscReal     *Ftab;   /* CDF of the x_1 marginal at x = g L / n0, g = 0..n0 */
  KfFourier      four;   /* d >= 2: the retained half space, for rho(x) = 1 + sum_m 2 Re(a_m e^{2 pi i k_m.x/L}) */
  PetscReal     *amp;
  PetscReal     *Ucell;  /* d >= 2: U[g] >= max of rho over the closed grid cell g (row-major), or NULL */
  PetscReal      B, Bsum, Bgrid, margin, rhomin, rhomax, xmin[KF_MAX_DIM];
};

/* ------------------------------------------------------------------------------------------ helpers */

/* Values that round up to L (L u with u close to 1, or a root at the seam) become the largest double below L. */
static inline PetscReal Below(PetscReal x, PetscReal L)
{
  if (x >= L) return nextafter(L, 0.0);
  return x < 0 ? 0 : x;
}

static inline PetscInt BoxIndex(const KfSampler s, const PetscInt k[])
{
  return ((k[0] + s->K[0]) * s->W[1] + k[1] + s->K[1]) * s->W[2] + k[2] + s->K[2];
}

/* Half space "last nonzero wavenumber positive" (that of kf_spectral.h). */
/* ------------------------------------------------------------------------------------------ 1-D inversion */

/* The 1-D trigonometric polynomial rho(x) = c0 + sum_{k=1..K} 2 Re(c_k e^{2 pi i k x/L}) and its CDF. */
typedef struct {
  PetscInt         K;
  PetscReal        c0, L;
  const KfComplex *c;   /* c_k at c[k - 1] */
  const PetscReal *ipk; /* 1/(pi k) */
} Trig1;

/*
  F(x) = int_0^x rho dm_L = c0 x/L + sum_k (1/(pi k)) Im(c_k (e^{i k th} - 1)), th = 2 pi x/L, and rho(x).
  e^{i k th} by the complex recurrence, restarted from libm every 16 wavenumbers (error ~16 ulp).
*/
static void Trig1Eval(const Trig1 *t, PetscReal x, PetscReal *F, PetscReal *rho)
{
  const PetscReal th = 2 * PETSC_PI * x / t->L, c1 = cos(th), s1 = sin(th);
  PetscReal       co = 1, sn = 0, fs = 0, rs = 0;

  for (PetscInt k = 1; k <= t->K; k++) {
    const PetscReal cr = creal(t->c[k - 1]), ci = cimag(t->c[k - 1]);

    if (k % 16 == 1) {
      co = cos(k * th);
      sn = sin(k * th);
    } else {
      const PetscReal tmp = co * c1 - sn * s1;

      sn = sn * c1 + co * s1;
      co = tmp;
    }
    fs += (cr * sn + ci * (co - 1)) * t->ipk[k];
    rs += cr * co - ci * sn;
  }
  *F   = t->c0 * x / t->L + fs;
  *rho = t->c0 + 2 * rs;
}

/*
  The root of F(x) = target in [lo, hi] (F(lo) <= target <= F(hi) expected), from the guess x: Newton steps
  (dF/dx = rho/L) kept inside the shrinking bracket, bisection when a step leaves it or does not halve the
  step before last (rtsafe). Stops when F(x) == target, when a Newton step is below 4 ulp of max(|x|,
  L/1000) (the step is then taken: its error is quadratically smaller), or when the bracket has collapsed.
*/
static PetscReal Trig1Invert(const Trig1 *t, PetscReal target, PetscReal lo, PetscReal hi, PetscReal x)
{
  PetscReal dxold = hi - lo, dx = dxold;

  if (!(x >= lo && x <= hi)) x = 0.5 * (lo + hi);
  for (PetscInt it = 0; it < KF_SAMPLE_MAX_ITERS; it++) {
    PetscReal F, rho, g, step, xn;

    Trig1Eval(t, x, &F, &rho);
    g = F - target;
    if (g == 0) return x;
    if (g < 0) lo = x;
    else hi = x;
    step = rho > 0 ? g * t->L / rho : PETSC_INFINITY;
    xn   = x - step;
    if (!(xn > lo && xn < hi) || 2 * PetscAbsReal(step) > PetscAbsReal(dxold)) {
      xn    = 0.5 * (lo + hi);
      dxold = dx;
      dx    = x - xn;
    } else {
      dxold = dx;
      dx    = step;
    }
    if (PetscAbsReal(dx) <= 4 * DBL_EPSILON * PetscMax(PetscAbsReal(x), 1e-3 * t->L)) return xn;
    if (!(hi - lo > 4 * DBL_EPSILON * PetscMax(PetscAbsReal(lo), 1e-3 * t->L))) return 0.5 * (lo + hi);
    x = xn;
  }
  return x;
}

/* X_1 = F_1^{-1}(u) for the x_1 marginal: bracket from the table of F_1 at the grid points, then Trig1Invert. */
static PetscReal InvertMarginal(const KfSampler s, PetscReal u)
{
  const PetscInt  n = s->n[0];
  const PetscReal h = s->L / n;
  const Trig1     t = {s->K[0], 1.0, s->L, s->marg, s->ipk};
  PetscInt        a = 0, b = n, g; /* largest g < n with Ftab[g] <= u */
  PetscReal       x0, dF;

  while (b - a > 1) {
    const PetscInt mid = a + (b - a) / 2;

    if (s->Ftab[mid] <= u) a = mid;
    else b = mid;
  }
  g  = a;
  dF = s->Ftab[g + 1] - s->Ftab[g];
  x0 = h * (g + (dF > 0 ? PetscMin(1, PetscMax(0, (u - s->Ftab[g]) / dF)) : 0.5));
  /* one cell of slack on each side: the table comes from an FFT, the root from the direct sum */
  return Trig1Invert(&t, u, h * PetscMax(0, g - 1), g + 2 >= n ? s->L : h * (g + 2), x0);
}

/* ------------------------------------------------------------------------------------------ creation */

/*
  The retained coefficients on the box: Nyquist indices excluded, the half space taken from the DFT and its
  conjugate put at -k (so rho is real whatever the FFT's round-off), everything divided by rho^(0), and
  modes at or below KF_SAMPLE_DROP dropped. The box is as small as the retained band.
*/
static PetscErrorCode BuildBox(KfSampler s, const KfComplex chat[])
{
  PetscInt64 N = 1;
  PetscReal  c00 = creal(chat[0]);
  PetscInt   k[KF_MAX_DIM], nbox = 1;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < s->dim; j++) N *= s->n[j];
  PetscCheck(c00 > 0, s->comm, PETSC_ERR_PLIB, "the density has mass %g after normalisation", (double)c00);
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) s->K[j] = 0;
  s->ncoef = 0;
  for (PetscInt64 i = 0; i < N; i++)
    if (KfGridWavenumbers(s->dim, s->n, i, k) && KfInHalfSpace(s->dim, k) && cabs(chat[i]) > KF_SAMPLE_DROP * c00) {
      s->ncoef++;
      for (PetscInt j = 0; j < s->dim; j++) s->K[j] = PetscMax(s->K[j], PetscAbsInt(k[j]));
    }
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
    s->W[j] = 2 * s->K[j] + 1;
    nbox *= s->W[j];
  }
  s->uniform = (PetscBool)(s->ncoef == 0);
  PetscCall(PetscCalloc1(nbox, &s->c));
  for (PetscInt64 i = 0; i < N; i++)
    if (KfGridWavenumbers(s->dim, s->n, i, k) && KfInHalfSpace(s->dim, k) && cabs(chat[i]) > KF_SAMPLE_DROP * c00) {
      const PetscInt mk[KF_MAX_DIM] = {-k[0], -k[1], -k[2]};

      s->c[BoxIndex(s, k)]  = chat[i] / c00;
      s->c[BoxIndex(s, mk)] = conj(chat[i] / c00);
    }
  k[0] = k[1] = k[2] = 0;
  s->c[BoxIndex(s, k)] = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The fine point x_g + sh h/refine lies in the closed cell g, and also in the closed cells g - e_j for every axis
  j with sh_j = 0 (it is on their upper face): v updates the maxima of all of them.
*/
static void CellMax(const KfSampler s, PetscReal U[], PetscInt64 g, const PetscInt sh[], PetscReal v)
{
  const PetscInt d = s->dim;
  PetscInt       gi[KF_MAX_DIM] = {0, 0, 0};
  PetscInt64     gg             = g;

  for (PetscInt j = d - 1; j >= 0; j--) {
    gi[j] = (PetscInt)(gg % s->n[j]);
    gg /= s->n[j];
  }
  for (PetscInt mask = 0; mask < (1 << d); mask++) {
    PetscInt64 idx = 0;
    PetscBool  ok  = PETSC_TRUE;

    for (PetscInt j = 0; j < d; j++) {
      const PetscInt down = (mask >> j) & 1;

      if (down && sh[j]) ok = PETSC_FALSE;
      idx = idx * s->n[j] + (down ? (gi[j] + s->n[j] - 1) % s->n[j] : gi[j]);
    }
    if (ok) U[idx] = PetscMax(U[idx], v);
  }
}

/*
  rho on a grid `refine` times finer per axis, as refine^d copies of the grid shifted by s_j h_j/refine, each
  one backward DFT of the phase-shifted coefficients; the shifts are spread over the ranks. min and max are
  exact reductions of values that do not depend on the rank that computed them, so they (and B) have the
  same bits on any number of ranks. Also the place of the minimum, for the error message.
*/
static PetscErrorCode FineGridRange(KfSampler s)
{
  const PetscInt d = s->dim, r = s->refine;
  PetscInt64     N = 1, nshift = 1;
  PetscMPIInt    rank, size;
  KfComplex     *z, *ph[KF_MAX_DIM];
  PetscReal      lmin = PETSC_MAX_REAL, lmax = -PETSC_MAX_REAL, lx[KF_MAX_DIM] = {0, 0, 0}, *U = NULL;
  struct {
    double v;
    int    r;
  } loc, glob;

  PetscFunctionBeginUser;
  if (s->uniform) {
    s->rhomin = s->rhomax = 1;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt j = 0; j < d; j++) {
    N *= s->n[j];
    nshift *= r;
  }
  PetscCallMPI(MPI_Comm_rank(s->comm, &rank));
  PetscCallMPI(MPI_Comm_size(s->comm, &size));
  PetscCall(PetscMalloc1(N, &z));
  if (d > 1) {
    PetscCall(PetscMalloc1(N, &U));
    for (PetscInt64 g = 0; g < N; g++) U[g] = -PETSC_MAX_REAL;
  }
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) PetscCall(PetscMalloc1(s->W[j], &ph[j]));
  for (PetscInt64 q = rank; q < nshift; q += size) {
    PetscInt sh[KF_MAX_DIM] = {0, 0, 0}, k[KF_MAX_DIM];
    PetscInt64 qq = q;

    for (PetscInt j = d - 1; j >= 0; j--, qq /= r) sh[j] = (PetscInt)(qq % r);
    for (PetscInt j = 0; j < KF_MAX_DIM; j++)
      for (PetscInt kk = -s->K[j]; kk <= s->K[j]; kk++) {
        const PetscReal phi = j < d ? 2 * PETSC_PI * (PetscReal)(kk * sh[j]) / (PetscReal)(r * s->n[j]) : 0;

        ph[j][kk + s->K[j]] = cos(phi) + I * sin(phi);
      }
    PetscCall(PetscArrayzero(z, N));
    for (k[0] = -s->K[0]; k[0] <= s->K[0]; k[0]++)
      for (k[1] = -s->K[1]; k[1] <= s->K[1]; k[1]++)
        for (k[2] = -s->K[2]; k[2] <= s->K[2]; k[2]++) {
          const KfComplex cv = s->c[BoxIndex(s, k)];
          PetscInt64      idx = 0;

          if (cv == 0) continue;
          for (PetscInt j = 0; j < d; j++) idx = idx * s->n[j] + (k[j] + s->n[j]) % s->n[j];
          z[idx] = cv * ph[0][k[0] + s->K[0]] * ph[1][k[1] + s->K[1]] * ph[2][k[2] + s->K[2]];
        }
    PetscCall(KfSpectralSerialDFT(d, s->n, z, PETSC_FALSE));
    for (PetscInt64 g = 0; g < N; g++) {
      const PetscReal v = creal(z[g]);

      if (v < lmin) {
        PetscInt64 gg = g;

        lmin = v;
        for (PetscInt j = d - 1; j >= 0; j--) {
          lx[j] = s->L * (PetscReal)(r * (gg % s->n[j]) + sh[j]) / (PetscReal)(r * s->n[j]);
          gg /= s->n[j];
        }
      }
      lmax = PetscMax(lmax, v);
      if (U) CellMax(s, U, g, sh, v);
    }
  }
  PetscCall(PetscFree(z));
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) PetscCall(PetscFree(ph[j]));
  loc.v = lmin;
  loc.r = rank;
  PetscCallMPI(MPI_Allreduce(&loc, &glob, 1, MPI_DOUBLE_INT, MPI_MINLOC, s->comm));
  PetscCallMPI(MPI_Allreduce(&lmax, &s->rhomax, 1, MPIU_REAL, MPI_MAX, s->comm));
  s->rhomin = glob.v;
  PetscCallMPI(MPI_Bcast(lx, KF_MAX_DIM, MPIU_REAL, glob.r, s->comm));
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) s->xmin[j] = lx[j];
  if (U) {
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, U, (PetscMPIInt)N, MPIU_REAL, MPI_MAX, s->comm));
    s->Ucell = U;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  B >= max rho, two rigorous bounds: 1 + sum_{k != 0} |rho^(k)|, and the fine-grid maximum M_h divided by
  1 - w^2/2, w = pi sum_j K_j/(refine n_j): at a maximum x* of rho, t -> rho(x* + t delta) (delta the offset to
  the nearest fine point) is a trigonometric sum of frequencies <= w, so by Bernstein's inequality its second
  derivative is at most w^2 max rho, and rho(x* + delta) >= max rho (1 - w^2/2). Used when w^2/2 <= 1/2.
*/
static PetscErrorCode Bounds(KfSampler s)
{
  PetscInt  k[KF_MAX_DIM];
  PetscReal sum = 0, w = 0;

  PetscFunctionBeginUser;
  for (k[0] = -s->K[0]; k[0] <= s->K[0]; k[0]++)
    for (k[1] = -s->K[1]; k[1] <= s->K[1]; k[1]++)
      for (k[2] = -s->K[2]; k[2] <= s->K[2]; k[2]++) sum += cabs(s->c[BoxIndex(s, k)]);
  s->Bsum = sum * (1 + 1e-12);
  for (PetscInt j = 0; j < s->dim; j++) w += PETSC_PI * (PetscReal)s->K[j] / (PetscReal)(s->refine * s->n[j]);
  s->Bgrid = 0.5 * w * w <= 0.5 ? s->rhomax * (1 + 1e-12) / (1 - 0.5 * w * w) + 1e-14 : PETSC_INFINITY;
  s->B     = s->uniform ? 1.0 : PetscMin(s->Bsum, s->Bgrid);
  /*
    Cell bounds: at a maximum x* of rho over a closed grid cell, the derivative vanishes along every axis on
    which x* is inside the cell, and on the others x* lies on a fine grid line; so the same Bernstein argument
    with delta_j = 0 on the latter axes gives max over the cell <= (max of the fine points of the cell) +
    w^2/2 max rho. Only used to reject candidates early, which never changes a decision.
  */
  s->margin = 0.5 * w * w * s->B * (1 + 1e-12) + 1e-14;
  if (s->Ucell && 0.5 * w * w <= 0.5) {
    PetscInt64 N = 1;

    for (PetscInt j = 0; j < s->dim; j++) N *= s->n[j];
    for (PetscInt64 g = 0; g < N; g++) s->Ucell[g] = PetscMin(s->Ucell[g] * (1 + 1e-12) + s->margin, s->B);
  } else PetscCall(PetscFree(s->Ucell));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The x_1 marginal: its coefficients, and its CDF at the grid points from one backward DFT of rho^(k)/(2 pi i k). */
static PetscErrorCode MarginalTable(KfSampler s)
{
  const PetscInt n = s->n[0], K = s->K[0];
  KfComplex     *z;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(K, 1), &s->marg));
  PetscCall(PetscMalloc1(n + 1, &s->Ftab));
  PetscCall(PetscCalloc1(n, &z));
  for (PetscInt kk = 1; kk <= K; kk++) {
    const PetscInt  k[KF_MAX_DIM] = {kk, 0, 0};
    const KfComplex h             = s->c[BoxIndex(s, k)] / (2 * PETSC_PI * I * (PetscReal)kk);

    s->marg[kk - 1] = s->c[BoxIndex(s, k)];
    z[kk]           = h;
    z[n - kk]       = conj(h);
  }
  PetscCall(KfSpectralSerialDFT(1, &n, z, PETSC_FALSE));
  for (PetscInt g = 0; g < n; g++) s->Ftab[g] = (PetscReal)g / (PetscReal)n + creal(z[g]) - creal(z[0]);
  s->Ftab[0] = 0;
  s->Ftab[n] = 1;
  PetscCall(PetscFree(z));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* d >= 2: the retained half space as a KfFourier list with amplitudes rho^(k_m). */
static PetscErrorCode FourierList(KfSampler s)
{
  PetscInt *kl, k[KF_MAX_DIM], m = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(1, s->ncoef * s->dim), &kl));
  PetscCall(PetscMalloc1(PetscMax(1, 2 * s->ncoef), &s->amp));
  for (k[0] = -s->K[0]; k[0] <= s->K[0]; k[0]++)
    for (k[1] = -s->K[1]; k[1] <= s->K[1]; k[1]++)
      for (k[2] = -s->K[2]; k[2] <= s->K[2]; k[2]++) {
        const KfComplex cv = s->c[BoxIndex(s, k)];

        if (cv == 0 || !KfInHalfSpace(s->dim, k)) continue;
        for (PetscInt j = 0; j < s->dim; j++) kl[m * s->dim + j] = k[j];
        s->amp[2 * m]     = creal(cv);
        s->amp[2 * m + 1] = cimag(cv);
        m++;
      }
  PetscCheck(m == s->ncoef, PETSC_COMM_SELF, PETSC_ERR_PLIB, "half space has %" PetscInt_FMT " modes, expected %" PetscInt_FMT, m, s->ncoef);
  PetscCall(KfFourierCreate(s->comm, s->dim, s->L, m, kl, &s->four));
  PetscCall(PetscFree(kl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PointString(const KfSampler s, const PetscReal x[], char buf[], size_t len)
{
  PetscFunctionBeginUser;
  if (s->dim == 1) PetscCall(PetscSNPrintf(buf, len, "%.6g", (double)x[0]));
  else if (s->dim == 2) PetscCall(PetscSNPrintf(buf, len, "(%.6g, %.6g)", (double)x[0], (double)x[1]));
  else PetscCall(PetscSNPrintf(buf, len, "(%.6g, %.6g, %.6g)", (double)x[0], (double)x[1], (double)x[2]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSamplerCreate(MPI_Comm comm, const KfParams *p, const char role[], const char spec[], KfSampler *out)
{
  KfSampler  s;
  KfComplex *chat;
  PetscInt64 N = 1;
  PetscInt   kmax = 1;
  char       where[96];
  PetscBool  isuniform;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCheck(p->dim >= 1 && p->dim <= KF_MAX_DIM, comm, PETSC_ERR_ARG_OUTOFRANGE, "sampler in d = %" PetscInt_FMT ": need 1..3", p->dim);
  for (PetscInt j = 0; j < p->dim; j++) {
    PetscCheck(p->n[j] >= 2, comm, PETSC_ERR_ARG_OUTOFRANGE, "sampler grid n = %" PetscInt_FMT ": need >= 2 points per axis", p->n[j]);
    N *= p->n[j];
  }
  PetscCall(PetscStrcmp(spec, "uniform", &isuniform));
  PetscCheck(isuniform || N <= KF_SAMPLE_MAX_POINTS, comm, KF_ERR_INPUT, "-n: drawing particles from -%s %s holds the whole grid on every rank: %" PetscInt64_FMT " points is more than 2^22 = %" PetscInt64_FMT "; use a coarser -n", role, spec, N, KF_SAMPLE_MAX_POINTS);
  PetscCall(PetscNew(&s));
  s->comm = comm;
  s->dim  = p->dim;
  s->L    = p->L;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) s->n[j] = j < p->dim ? p->n[j] : 1;
  for (s->refine = 8; s->refine > 2; s->refine /= 2) {
    PetscInt64 fine = N;

    for (PetscInt j = 0; j < p->dim; j++) fine *= s->refine;
    if (fine <= KF_SAMPLE_MAX_FINE) break;
  }
  PetscCall(PetscStrncpy(s->role, role, sizeof(s->role)));
  PetscCall(PetscStrncpy(s->spec, spec, sizeof(s->spec)));

  if (isuniform) { /* the registry's uniform is 1 everywhere: no grid needed, nor a limit on -n */
    for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
      s->K[j] = 0;
      s->W[j] = 1;
    }
    PetscCall(PetscCalloc1(1, &s->c));
    s->c[0]    = 1;
    s->uniform = PETSC_TRUE;
    s->rhomin = s->rhomax = 1;
  } else {
    PetscCall(KfDensityCoefficients(p, s->role, s->spec, &chat));
    PetscCall(BuildBox(s, chat));
    PetscCall(PetscFree(chat));
    PetscCall(FineGridRange(s));
    PetscCall(PointString(s, s->xmin, where, sizeof(where)));
    if (!(s->rhomin >= -KF_SAMPLE_NEG_TOL)) {
      const PetscReal mn = s->rhomin;
      const PetscInt  r  = s->refine;

      PetscCall(KfSamplerDestroy(&s));
      SETERRQ(comm, KF_ERR_INPUT, "-%s %s: the trigonometric interpolant of the density is negative near x = %s (min %s on a %" PetscInt_FMT "x finer grid); use a smoother density or a finer -n", role, spec, where, KF_NUM(mn), r);
    }
  }
  PetscCall(Bounds(s));
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) kmax = PetscMax(kmax, s->K[j]);
  PetscCall(PetscMalloc1(kmax + 1, &s->ipk));
  s->ipk[0] = 0;
  for (PetscInt k = 1; k <= kmax; k++) s->ipk[k] = 1.0 / (PETSC_PI * (PetscReal)k);
  if (!s->uniform) {
    PetscCall(MarginalTable(s));
    if (s->dim > 1) PetscCall(FourierList(s));
  }
  *out = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSamplerDestroy(KfSampler *s)
{
  PetscFunctionBeginUser;
  if (!*s) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KfFourierDestroy(&(*s)->four));
  PetscCall(PetscFree((*s)->amp));
  PetscCall(PetscFree((*s)->c));
  PetscCall(PetscFree((*s)->ipk));
  PetscCall(PetscFree((*s)->marg));
  PetscCall(PetscFree((*s)->Ftab));
  PetscCall(PetscFree((*s)->Ucell));
  PetscCall(PetscFree(*s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSamplerGetBounds(KfSampler s, PetscReal *B, PetscReal *rhomin, PetscReal *rhomax)
{
  PetscFunctionBeginUser;
  if (B) *B = s->B;
  if (rhomin) *rhomin = s->rhomin;
  if (rhomax) *rhomax = s->rhomax;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSamplerDescribe(KfSampler s, char buf[], size_t len)
{
  char grid[64], band[64];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(grid, sizeof(grid), "%" PetscInt_FMT, s->n[0]));
  PetscCall(PetscSNPrintf(band, sizeof(band), "%" PetscInt_FMT, s->K[0]));
  for (PetscInt j = 1; j < s->dim; j++) {
    char ax[24];

    PetscCall(PetscSNPrintf(ax, sizeof(ax), "x%" PetscInt_FMT, s->n[j]));
    PetscCall(PetscStrlcat(grid, ax, sizeof(grid)));
    PetscCall(PetscSNPrintf(ax, sizeof(ax), ",%" PetscInt_FMT, s->K[j]));
    PetscCall(PetscStrlcat(band, ax, sizeof(band)));
  }
  if (s->uniform) PetscCall(PetscSNPrintf(buf, len, "-%s %s: uniform (no mode above round-off on the %s grid)", s->role, s->spec, grid));
  else
    PetscCall(PetscSNPrintf(buf, len, "-%s %s: interpolant on the %s grid without Nyquist modes, %" PetscInt_FMT " mode pairs, |k_j| <= (%s); on a %" PetscInt_FMT "x finer grid min %.4g, max %.4g; rejection bound %.4g", s->role, s->spec, grid, s->ncoef, band, s->refine, (double)s->rhomin,
                            (double)s->rhomax, (double)s->B));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------ draws */

static PetscErrorCode CheckRange(PetscInt64 N, PetscInt64 start, PetscInt nlocal)
{
  PetscFunctionBeginUser;
  PetscCheck(N >= 0 && start >= 0 && nlocal >= 0 && start + nlocal <= N, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "ids %" PetscInt64_FMT "..%" PetscInt64_FMT " are not within 0..N-1 = %" PetscInt64_FMT, start, start + nlocal - 1, N - 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The grid cell of x (row-major index). */
static inline PetscInt64 CellOf(const KfSampler s, const PetscReal x[])
{
  PetscInt64 idx = 0;

  for (PetscInt j = 0; j < s->dim; j++) idx = idx * s->n[j] + PetscMin(s->n[j] - 1, (PetscInt)(x[j] * s->n[j] / s->L));
  return idx;
}

/*
  Rejection for the ids start + i, i < nb, of one batch; x row-major. A candidate whose cell bound U is at or
  below v B is rejected without evaluating rho (the decision rho(x) <= U <= v B is the same). The others are
  evaluated together by KfFourierField, whose value at a point does not depend on the other points.
  *failed: the smallest id left without a point, or INT64_MAX.
*/
static PetscErrorCode RejectBatch(KfSampler s, uint64_t seed, PetscInt64 start, PetscInt nb, PetscInt64 maxatt, PetscReal xs[], PetscReal pot[], PetscReal vv[], PetscInt pend[], PetscInt ev[], PetscReal x[], PetscInt64 *failed)
{
  const PetscInt d  = s->dim;
  const uint64_t sd = (uint64_t)(d + 1);
  PetscInt       np = nb;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < nb; i++) pend[i] = i;
  for (PetscInt64 a = 0; np > 0 && a < maxatt; a++) {
    PetscInt keep = 0, ne = 0;

    for (PetscInt j = 0; j < np; j++) {
      const uint64_t  id = (uint64_t)(start + pend[j]);
      const PetscReal v  = KfRngUniform(seed, (uint64_t)a * sd + (uint64_t)d, id);
      PetscReal       xc[KF_MAX_DIM];

      for (PetscInt c = 0; c < d; c++) xc[c] = Below(s->L * KfRngUniform(seed, (uint64_t)a * sd + (uint64_t)c, id), s->L);
      if (s->Ucell && v * s->B >= s->Ucell[CellOf(s, xc)]) {
        pend[keep++] = pend[j];
        continue;
      }
      for (PetscInt c = 0; c < d; c++) xs[c * KF_SAMPLE_BLOCK + ne] = xc[c];
      pot[ne] = 0;
      vv[ne]  = v;
      ev[ne]  = pend[j];
      ne++;
    }
    PetscCall(KfFourierField(s->four, s->amp, ne, KF_SAMPLE_BLOCK, xs, NULL, pot));
    for (PetscInt e = 0; e < ne; e++) {
      if (vv[e] * s->B < 1 + pot[e])
        for (PetscInt c = 0; c < d; c++) x[ev[e] * d + c] = xs[c * KF_SAMPLE_BLOCK + e];
      else pend[keep++] = ev[e];
    }
    np = keep;
  }
  *failed = INT64_MAX;
  for (PetscInt j = 0; j < np; j++) *failed = PetscMin(*failed, start + pend[j]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* e^{i k th} at e[k + K], k = -K..K, each from libm. */
static void Phases(PetscInt K, PetscReal th, KfComplex e[])
{
  e[K] = 1;
  for (PetscInt k = 1; k <= K; k++) {
    const PetscReal c = cos(k * th), sn = sin(k * th);

    e[K + k] = c + I * sn;
    e[K - k] = c - I * sn;
  }
}

/* X_j from the conditional CDF with coefficients b_k, k = 0..K (b_0 the marginal density of the earlier coordinates). */
static PetscReal InvertConditional(const KfSampler s, PetscInt K, const KfComplex b[], PetscReal u)
{
  const Trig1 t = {K, creal(b[0]), s->L, b + 1, s->ipk};

  if (K == 0 || !(t.c0 > 0)) return s->L * u; /* no dependence on x_j, or a fibre without mass */
  return Trig1Invert(&t, u * t.c0, 0, s->L, s->L * u);
}

/*
  Scratch of the Knothe-Rosenblatt map. What depends on X_1 only (and on X_1, X_2 only) is kept for the next
  point with the same u_1 (and u_2): quantile lattices repeat them over m^2 (and m) consecutive ids. The kept
  values are those a fresh computation would give, so this never changes a bit.
*/
typedef struct {
  KfComplex *e0, *e1, *b2, *a, *b3;
  PetscReal  u0, u1, x0, x1;
  PetscBool  have0, have1;
} KRWork;

static PetscErrorCode KRWorkCreate(const KfSampler s, KRWork *w)
{
  const PetscInt *K = s->K, *W = s->W;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(w, sizeof(*w)));
  PetscCall(PetscMalloc5(W[0], &w->e0, W[1], &w->e1, K[1] + 1, &w->b2, W[1] * (K[2] + 1), &w->a, K[2] + 1, &w->b3));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KRWorkDestroy(KRWork *w)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree5(w->e0, w->e1, w->b2, w->a, w->b3));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Knothe-Rosenblatt map T(u) of kf_sample.h, d >= 2. */
static void KnotheRosenblatt(const KfSampler s, const PetscReal u[], PetscReal x[], KRWork *w)
{
  const PetscInt *K = s->K, *W = s->W;

  if (!(w->have0 && u[0] == w->u0)) {
    w->x0    = InvertMarginal(s, u[0]);
    w->u0    = u[0];
    w->have0 = PETSC_TRUE;
    w->have1 = PETSC_FALSE;
    Phases(K[0], 2 * PETSC_PI * w->x0 / s->L, w->e0);
    /* x_2 | x_1: b_{k2} = sum_{k1} c(k1, k2, 0) e^{i k1 th1}, k2 >= 0 */
    for (PetscInt k2 = 0; k2 <= K[1]; k2++) {
      KfComplex acc = 0;

      for (PetscInt i1 = 0; i1 < W[0]; i1++) acc += s->c[(i1 * W[1] + k2 + K[1]) * W[2] + K[2]] * w->e0[i1];
      w->b2[k2] = acc;
    }
    /* for x_3 | x_1, x_2: a(k2, k3) = sum_{k1} c(k1, k2, k3) e^{i k1 th1}, k3 >= 0 */
    if (s->dim == 3)
      for (PetscInt i2 = 0; i2 < W[1]; i2++)
        for (PetscInt k3 = 0; k3 <= K[2]; k3++) {
          KfComplex acc = 0;

          for (PetscInt i1 = 0; i1 < W[0]; i1++) acc += s->c[(i1 * W[1] + i2) * W[2] + k3 + K[2]] * w->e0[i1];
          w->a[i2 * (K[2] + 1) + k3] = acc;
        }
  }
  x[0] = w->x0;
  if (!(w->have1 && u[1] == w->u1)) {
    w->x1    = InvertConditional(s, K[1], w->b2, u[1]);
    w->u1    = u[1];
    w->have1 = PETSC_TRUE;
    if (s->dim == 3) {
      /* b_{k3} = sum_{k2} a(k2, k3) e^{i k2 th2} */
      Phases(K[1], 2 * PETSC_PI * w->x1 / s->L, w->e1);
      for (PetscInt k3 = 0; k3 <= K[2]; k3++) {
        KfComplex acc = 0;

        for (PetscInt i2 = 0; i2 < W[1]; i2++) acc += w->a[i2 * (K[2] + 1) + k3] * w->e1[i2];
        w->b3[k3] = acc;
      }
    }
  }
  x[1] = w->x1;
  if (s->dim == 3) x[2] = InvertConditional(s, K[2], w->b3, u[2]);
}

PetscErrorCode KfSamplerDrawQuantile(KfSampler s, PetscInt64 N, PetscInt64 start, PetscInt nlocal, PetscReal x[])
{
  const PetscInt  d = s->dim;
  const PetscReal L = s->L;

  PetscFunctionBeginUser;
  PetscCall(CheckRange(N, start, nlocal));
  if (d == 1) {
    for (PetscInt i = 0; i < nlocal; i++) {
      const PetscReal id = (PetscReal)(start + i);

      x[i] = s->uniform ? L * (id + 0.5) / (PetscReal)N : Below(InvertMarginal(s, (id + 0.5) / (PetscReal)N), L);
    }
  } else {
    const PetscInt64 m = (PetscInt64)PetscFloorReal(PetscPowReal((PetscReal)N, 1.0 / d) + 0.5);
    PetscInt64       mm = 1;
    KRWork           w;

    for (PetscInt c = 0; c < d; c++) mm *= m;
    PetscCheck(mm == N, s->comm, KF_ERR_INPUT, "-particle_init quantile in d = %" PetscInt_FMT ": -particles %" PetscInt64_FMT " is not of the form m^%" PetscInt_FMT " (the quantiles are the image of an m^d lattice)", d, N, d);
    if (!s->uniform) PetscCall(KRWorkCreate(s, &w));
    for (PetscInt i = 0; i < nlocal; i++) {
      PetscInt64 id = start + i;
      PetscInt64 idx[KF_MAX_DIM];
      PetscReal  u[KF_MAX_DIM] = {0, 0, 0}, y[KF_MAX_DIM] = {0, 0, 0};

      for (PetscInt c = d - 1; c >= 0; c--, id /= m) idx[c] = id % m;
      if (s->uniform) {
        for (PetscInt c = 0; c < d; c++) x[i * d + c] = L * ((PetscReal)idx[c] + 0.5) / m;
        continue;
      }
      for (PetscInt c = 0; c < d; c++) u[c] = ((PetscReal)idx[c] + 0.5) / (PetscReal)m;
      KnotheRosenblatt(s, u, y, &w);
      for (PetscInt c = 0; c < d; c++) x[i * d + c] = Below(y[c], L);
    }
    if (!s->uniform) PetscCall(KRWorkDestroy(&w));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSamplerDrawIID(KfSampler s, uint64_t seed, PetscInt64 N, PetscInt64 start, PetscInt nlocal, PetscReal x[])
{
  const PetscInt  d = s->dim;
  const PetscReal L = s->L;

  PetscFunctionBeginUser;
  PetscCall(CheckRange(N, start, nlocal));
  if (s->uniform) {
    for (PetscInt i = 0; i < nlocal; i++)
      for (PetscInt c = 0; c < d; c++) x[i * d + c] = Below(L * KfRngUniform(seed, (uint64_t)c, (uint64_t)(start + i)), L);
  } else if (d == 1) {
    for (PetscInt i = 0; i < nlocal; i++) x[i] = Below(InvertMarginal(s, KfRngUniform(seed, 0, (uint64_t)(start + i))), L);
  } else if (s->method == KF_SAMPLE_INVERSION) {
    KRWork w;

    PetscCall(KRWorkCreate(s, &w));
    for (PetscInt i = 0; i < nlocal; i++) {
      PetscReal u[KF_MAX_DIM] = {0, 0, 0}, y[KF_MAX_DIM] = {0, 0, 0};

      for (PetscInt c = 0; c < d; c++) u[c] = KfRngUniform(seed, (uint64_t)c, (uint64_t)(start + i));
      KnotheRosenblatt(s, u, y, &w);
      for (PetscInt c = 0; c < d; c++) x[i * d + c] = Below(y[c], L);
    }
    PetscCall(KRWorkDestroy(&w));
  } else {
    const PetscInt64 maxatt = (PetscInt64)PetscMax(KF_SAMPLE_MIN_ATTEMPTS, PetscCeilReal(60 * s->B));
    PetscInt64       failed = INT64_MAX, gfailed;
    PetscReal       *xs, *pot, *vv;
    PetscInt        *pend, *ev;

    PetscCheck(s->B <= KF_SAMPLE_MAX_BOUND, s->comm, KF_ERR_INPUT, "-%s %s: too peaked for rejection from uniform proposals (max rho <= %s, acceptance rate %s); use -particle_init quantile or a smoother density", s->role, s->spec, KF_NUM(s->B), KF_NUM(1 / s->B));
    PetscCall(PetscMalloc5(d * KF_SAMPLE_BLOCK, &xs, KF_SAMPLE_BLOCK, &pot, KF_SAMPLE_BLOCK, &vv, KF_SAMPLE_BLOCK, &pend, KF_SAMPLE_BLOCK, &ev));
    for (PetscInt i0 = 0; i0 < nlocal && failed == INT64_MAX; i0 += KF_SAMPLE_BLOCK) PetscCall(RejectBatch(s, seed, start + i0, PetscMin(KF_SAMPLE_BLOCK, nlocal - i0), maxatt, xs, pot, vv, pend, ev, x + i0 * d, &failed));
    PetscCall(PetscFree5(xs, pot, vv, pend, ev));
    PetscCallMPI(MPI_Allreduce(&failed, &gfailed, 1, MPIU_INT64, MPI_MIN, s->comm));
    PetscCheck(gfailed == INT64_MAX, s->comm, KF_ERR_INPUT, "-%s %s: rejection sampling found no point for particle %" PetscInt64_FMT " in %" PetscInt64_FMT " attempts (acceptance rate %s)", s->role, s->spec, gfailed, maxatt, KF_NUM(1 / s->B));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSamplerSetIIDMethod(KfSampler s, KfSampleMethod method)
{
  PetscFunctionBeginUser;
  PetscCheck(method == KF_SAMPLE_INVERSION || method == KF_SAMPLE_REJECTION, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "unknown sampling method %d", (int)method);
  s->method = method;
  PetscFunctionReturn(PETSC_SUCCESS);
}
