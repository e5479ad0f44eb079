/* test_sample.c - unit tests of the particle sampler (src/sample.c)

   References that share no code with the sampler:
   - cos: the registry's formula (density.c, -help) integrated by hand. Its marginals and conditional CDFs
     are closed forms (the diagonal mode integrates to zero as soon as one coordinate is integrated out), and
     since its band lies inside the grid's, its trigonometric interpolant is the formula itself.
   - gaussians in 1-D: the CDF of the periodised mixture from erfc over the images.
   - any density, any grid (different bands per axis): conditional CDFs summed directly from the grid's
     coefficients by FFTW on the distributed grid (the sampler uses GSL on a replicated grid).
   - Fourier moments of i.i.d. samples (inversion and rejection) against rho^(k) from KfDensityFill +
     KfSpectralForward, within 5 standard errors; the draws are fixed numbers (seeded), so a pass is
     deterministic.
   - Rank independence: the positions gathered from all ranks against a sampler on PETSC_COMM_SELF that draws
     all N on one rank, bit for bit; a checksum line per case for comparing the logs of different rank counts.
   - Refusals: the error code and the reason in the message.
   Exits with status 0 only when every check passed on every rank. */
#include <complex.h>
#include <math.h>
#include <string.h>
#include "kf_density.h"
#include "kf_log.h"
#include "kf_rng.h"
#include "kf_sample.h"
#include "kf_spectral.h"
#include "kf_test.h"

#define TOL_CDF 1e-13 /* |F(X) - u| of inversion and of the Knothe-Rosenblatt map */
#define TOL_Z 5       /* z-score of Fourier moments */
#define SEED 20240611ULL

static char label[96];

typedef enum {
  DRAW_QUANTILE,
  DRAW_INVERSION, /* i.i.d. */
  DRAW_REJECTION  /* i.i.d. */
} DrawKind;
static const char *const DrawNames[] = {"quantile", "iid", "iid rejection"};

static PetscErrorCode Draw(KfSampler s, DrawKind kind, PetscInt64 N, PetscInt64 start, PetscInt nlocal, PetscReal x[])
{
  PetscFunctionBeginUser;
  if (kind == DRAW_QUANTILE)
    PetscCall(KfSamplerDrawQuantile(s, N, start, nlocal, x));
  else {
    PetscCall(KfSamplerSetIIDMethod(s, kind == DRAW_REJECTION ? KF_SAMPLE_REJECTION : KF_SAMPLE_INVERSION));
    PetscCall(KfSamplerDrawIID(s, SEED, N, start, nlocal, x));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------ setup */

static PetscErrorCode MakeParams(PetscInt dim, const PetscInt n[], PetscReal L, KfParams *p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(p, sizeof(*p)));
  p->mode    = KF_MODE_PARTICLES;
  p->dim     = dim;
  p->s       = 1.0;
  p->L       = L;
  p->seed    = 1;
  p->npoints = 1;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
    p->n[j] = j < dim ? n[j] : 1;
    p->npoints *= p->n[j];
  }
  PetscCall(PetscStrncpy(p->init, "uniform", sizeof(p->init)));
  PetscCall(PetscStrncpy(p->target, "uniform", sizeof(p->target)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetLabel(PetscInt dim, const PetscInt n[], PetscReal L, const char what[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(label, sizeof(label), "d=%" PetscInt_FMT " n=%" PetscInt_FMT, dim, n[0]));
  for (PetscInt j = 1; j < dim; j++) {
    char ax[24];

    PetscCall(PetscSNPrintf(ax, sizeof(ax), "x%" PetscInt_FMT, n[j]));
    PetscCall(PetscStrlcat(label, ax, sizeof(label)));
  }
  PetscCall(PetscStrlcat(label, L == 1 ? " L=1 " : " L=2pi ", sizeof(label)));
  PetscCall(PetscStrlcat(label, what, sizeof(label)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Block split of ids 0..N-1 over the ranks (uneven, empty ranks when N < size), as the ring does. */
static PetscErrorCode Split(MPI_Comm comm, PetscInt64 N, PetscInt64 *start, PetscInt *nlocal)
{
  PetscMPIInt rank, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  *nlocal = (PetscInt)(N / size + (rank < N % size));
  *start  = rank * (N / size) + PetscMin(rank, N % size);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------ references */

/* The registry's cos density (density.c): 1 + A [sum_m sum_j cos(w m x_j + 0.3 m + 0.7 j)/m + (d > 1) 0.5 cos(w sum x + 0.5)]. */
typedef struct {
  PetscInt  d, modes;
  PetscReal L, A;
} CosRef;

static void CosRefInit(CosRef *c, PetscInt d, PetscReal amp, PetscInt modes, PetscReal L)
{
  PetscReal wsum = 0;

  for (PetscInt m = 1; m <= modes; m++) wsum += d / (PetscReal)m;
  if (d > 1) wsum += 0.5;
  c->d     = d;
  c->modes = modes;
  c->L     = L;
  c->A     = amp / wsum;
}

/* Density of the marginal of x_0..x_{j-1} (j = d: the density itself). */
static PetscReal CosMarginal(const CosRef *c, PetscInt j, const PetscReal x[])
{
  const PetscReal w = 2 * PETSC_PI / c->L;
  PetscReal       v = 1, S = 0;

  for (PetscInt m = 1; m <= c->modes; m++)
    for (PetscInt i = 0; i < j; i++) v += c->A * cos(w * m * x[i] + 0.3 * m + 0.7 * i) / m;
  if (j == c->d && c->d > 1) {
    for (PetscInt i = 0; i < c->d; i++) S += x[i];
    v += c->A * 0.5 * cos(w * S + 0.5);
  }
  return v;
}

/* CDF of x_j given x_0..x_{j-1}, at t: int_0^t rho_{0..j}(x_<j, s) ds/L divided by rho_{0..j-1}(x_<j). */
static PetscReal CosConditionalCDF(const CosRef *c, PetscInt j, const PetscReal x[], PetscReal t)
{
  const PetscReal w = 2 * PETSC_PI / c->L, marg = CosMarginal(c, j, x);
  PetscReal       v = t / c->L * marg;

  for (PetscInt m = 1; m <= c->modes; m++) v += c->A * (sin(w * m * t + 0.3 * m + 0.7 * j) - sin(0.3 * m + 0.7 * j)) / (2 * PETSC_PI * m * m);
  if (j == c->d - 1 && c->d > 1) {
    PetscReal S = 0;

    for (PetscInt i = 0; i < j; i++) S += x[i];
    v += c->A * 0.5 * (sin(w * (S + t) + 0.5) - sin(w * S + 0.5)) / (2 * PETSC_PI);
  }
  return v / marg;
}

/* Phi(a) - Phi(b), a >= b, without cancellation in either tail. */
static PetscReal PhiDiff(PetscReal a, PetscReal b)
{
  if (b > 0) return 0.5 * (erfc(b / PETSC_SQRT2) - erfc(a / PETSC_SQRT2));
  return 0.5 * (erfc(-a / PETSC_SQRT2) - erfc(-b / PETSC_SQRT2));
}

/* CDF on [0, L) of floor + (1 - floor) * sum_g w_g/W periodised N(c_g, sig^2) (density w.r.t. m_L). */
static PetscReal GaussCDF(PetscReal x, PetscReal L, PetscInt ng, const PetscReal c[], const PetscReal wt[], PetscReal sig, PetscReal floor)
{
  PetscReal W = 0, mix = 0;

  for (PetscInt g = 0; g < ng; g++) W += wt[g];
  for (PetscInt g = 0; g < ng; g++) {
    PetscReal v = 0;

    for (PetscInt m = -8; m <= 8; m++) v += PhiDiff((x - c[g] + m * L) / sig, (-c[g] + m * L) / sig);
    mix += wt[g] / W * v;
  }
  return floor * x / L + (1 - floor) * mix;
}

/* rho^(k) of KfDensityFill's field via KfSpectralForward on the distributed grid (the documented convention). */
static PetscErrorCode GridCoefficient(KfSpectral sp, Vec rho, const PetscInt k[], KfComplex *val)
{
  const KfSpectralLayout *lay;
  KfComplex              *hat;
  const PetscScalar      *a;
  PetscReal               loc[2]         = {0, 0}, glob[2];
  PetscInt                kk[KF_MAX_DIM] = {k[0], k[1], k[2]};
  PetscBool               conjugate      = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  if (lay->halfspace && kk[lay->dim - 1] < 0) {
    for (PetscInt j = 0; j < lay->dim; j++) kk[j] = -kk[j];
    conjugate = PETSC_TRUE;
  }
  PetscCall(KfSpectralAllocModes(sp, &hat));
  PetscCall(VecGetArrayRead(rho, &a));
  PetscCall(KfSpectralForward(sp, a, hat));
  PetscCall(VecRestoreArrayRead(rho, &a));
  for (PetscInt i0 = 0, m = 0; i0 < lay->kcount[0]; i0++)
    for (PetscInt i1 = 0; i1 < lay->kcount[1]; i1++)
      for (PetscInt i2 = 0; i2 < lay->kcount[2]; i2++, m++) {
        const PetscInt w[KF_MAX_DIM] = {KfWavenumber(lay->kstart[0] + i0, lay->n[0]), KfWavenumber(lay->kstart[1] + i1, lay->n[1]), KfWavenumber(lay->kstart[2] + i2, lay->n[2])};

        if (w[0] == kk[0] && (lay->dim < 2 || w[1] == kk[1]) && (lay->dim < 3 || w[2] == kk[2])) {
          loc[0] = creal(hat[m]);
          loc[1] = cimag(hat[m]);
        }
      }
  PetscCall(KfSpectralFreeModes(&hat));
  PetscCallMPI(MPI_Allreduce(loc, glob, 2, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  *val = glob[0] + I * (conjugate ? -glob[1] : glob[1]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------ tests */

/* Uniform: quantiles are exactly L (i + 1/2)/m per axis (the lattice), i.i.d. draws exactly L KfRngUniform(seed, c, id). */
static PetscErrorCode TestUniform(PetscInt dim, PetscInt nn, PetscReal L, const char spec[], PetscInt m)
{
  const PetscInt n[KF_MAX_DIM] = {nn, nn, nn};
  KfParams       p;
  KfSampler      s;
  PetscInt64     N = 1, start;
  PetscInt       nlocal, bad_q = 0, bad_i = 0;
  PetscReal     *x;
  char           where[200];

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < dim; c++) N *= m;
  PetscCall(SetLabel(dim, n, L, strcmp(spec, "uniform") ? "cos amp=0 (a constant grid)" : spec));
  PetscCall(MakeParams(dim, n, L, &p));
  PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", spec, &s));
  PetscCall(Split(PETSC_COMM_WORLD, N, &start, &nlocal));
  PetscCall(PetscMalloc1(PetscMax(1, nlocal * dim), &x));
  PetscCall(KfSamplerDrawQuantile(s, N, start, nlocal, x));
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscInt64 id = start + i;

    for (PetscInt c = dim - 1; c >= 0; c--, id /= m)
      if (x[i * dim + c] != L * ((PetscReal)(id % m) + 0.5) / m) bad_q++;
  }
  PetscCall(PetscSNPrintf(where, sizeof(where), "%" PetscInt_FMT " coordinates differ", bad_q));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "quantile == L (i + 1/2)/m exactly (the lattice)", (PetscReal)bad_q, 0, where));
  PetscCall(KfSamplerDrawIID(s, SEED, N, start, nlocal, x));
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt c = 0; c < dim; c++)
      if (x[i * dim + c] != L * KfRngUniform(SEED, (uint64_t)c, (uint64_t)(start + i))) bad_i++;
  PetscCall(PetscSNPrintf(where, sizeof(where), "%" PetscInt_FMT " coordinates differ", bad_i));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "iid == L KfRngUniform(seed, c, id) exactly", (PetscReal)bad_i, 0, where));
  PetscCall(PetscFree(x));
  PetscCall(KfSamplerDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 1-D cos: F(X_i) = (i + 1/2)/N for quantiles and F(X_i) = KfRngUniform(seed, 0, i) for i.i.d. draws, F in closed form. */
static PetscErrorCode TestCos1D(PetscInt nn, PetscReal L, PetscReal amp, PetscInt modes, PetscInt64 N)
{
  const PetscInt n[KF_MAX_DIM] = {nn, 1, 1};
  KfParams       p;
  KfSampler      s;
  CosRef         ref;
  PetscInt64     start;
  PetscInt       nlocal;
  PetscReal     *x;
  KfTestErr      eq, ei;
  char           where[200], buf[32], what[80];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(what, sizeof(what), "cos amp=%g modes=%" PetscInt_FMT, (double)amp, modes));
  PetscCall(SetLabel(1, n, L, what));
  PetscCall(MakeParams(1, n, L, &p));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%.17g", (double)amp));
  PetscCall(PetscOptionsSetValue(NULL, "-init_cos_amp", buf));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt_FMT, modes));
  PetscCall(PetscOptionsSetValue(NULL, "-init_cos_modes", buf));
  PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", "cos", &s));
  CosRefInit(&ref, 1, amp, modes, L);
  PetscCall(Split(PETSC_COMM_WORLD, N, &start, &nlocal));
  PetscCall(PetscMalloc1(PetscMax(1, nlocal), &x));
  PetscCall(KfSamplerDrawQuantile(s, N, start, nlocal, x));
  KfTestErrReset(&eq);
  for (PetscInt i = 0; i < nlocal; i++) {
    const PetscReal u = ((PetscReal)(start + i) + 0.5) / (PetscReal)N, F = CosConditionalCDF(&ref, 0, x + i, x[i]);

    PetscCall(PetscSNPrintf(where, sizeof(where), "i = %" PetscInt64_FMT ": X = %.17g, F(X) = %.17g, want %.17g", start + i, (double)x[i], (double)F, (double)u));
    PetscCall(KfTestErrUpdate(&eq, PetscAbsReal(F - u) + (x[i] >= 0 && x[i] < L ? 0 : 1), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "quantile: |F(X_i) - (i+1/2)/N|", &eq, TOL_CDF));
  PetscCall(KfSamplerDrawIID(s, SEED, N, start, nlocal, x));
  KfTestErrReset(&ei);
  for (PetscInt i = 0; i < nlocal; i++) {
    const PetscReal u = KfRngUniform(SEED, 0, (uint64_t)(start + i)), F = CosConditionalCDF(&ref, 0, x + i, x[i]);

    PetscCall(PetscSNPrintf(where, sizeof(where), "id %" PetscInt64_FMT ": X = %.17g, F(X) = %.17g, u = %.17g", start + i, (double)x[i], (double)F, (double)u));
    PetscCall(KfTestErrUpdate(&ei, PetscAbsReal(F - u) + (x[i] >= 0 && x[i] < L ? 0 : 1), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "iid: |F(X) - KfRngUniform(seed, 0, id)|", &ei, TOL_CDF));
  PetscCall(PetscFree(x));
  PetscCall(KfSamplerDestroy(&s));
  PetscCall(PetscOptionsClearValue(NULL, "-init_cos_amp"));
  PetscCall(PetscOptionsClearValue(NULL, "-init_cos_modes"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 1-D gaussians (the registry's defaults, or 3 bumps with one on the seam): quantiles against the erfc CDF. */
static PetscErrorCode TestGaussians1D(PetscInt nn, PetscReal L, PetscBool three, PetscInt64 N)
{
  const PetscInt n[KF_MAX_DIM] = {nn, 1, 1};
  KfParams       p;
  KfSampler      s;
  PetscInt64     start;
  PetscInt       nlocal, ng = 2;
  PetscReal     *x, c[3] = {0.3 * L, 0.65 * L, 0}, wt[3] = {1, 0.6, 0}, sig = 0.08 * L, floor = 0.1;
  KfTestErr      e;
  char           where[200], buf[128];

  PetscFunctionBeginUser;
  PetscCall(SetLabel(1, n, L, three ? "gaussians x3" : "gaussians"));
  PetscCall(MakeParams(1, n, L, &p));
  if (three) {
    ng   = 3;
    c[0] = 0, c[1] = 0.45 * L, c[2] = 0.9 * L;
    wt[0] = 2, wt[1] = 1, wt[2] = 0.5;
    sig   = 0.05 * L;
    floor = 0.02;
    PetscCall(PetscSNPrintf(buf, sizeof(buf), "%.17g,%.17g,%.17g", (double)c[0], (double)c[1], (double)c[2]));
    PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_centers", buf));
    PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_weights", "2,1,0.5"));
    PetscCall(PetscSNPrintf(buf, sizeof(buf), "%.17g", (double)sig));
    PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_widths", buf));
    PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_floor", "0.02"));
  }
  PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", "gaussians", &s));
  PetscCall(Split(PETSC_COMM_WORLD, N, &start, &nlocal));
  PetscCall(PetscMalloc1(PetscMax(1, nlocal), &x));
  PetscCall(KfSamplerDrawQuantile(s, N, start, nlocal, x));
  KfTestErrReset(&e);
  for (PetscInt i = 0; i < nlocal; i++) {
    const PetscReal u = ((PetscReal)(start + i) + 0.5) / (PetscReal)N, F = GaussCDF(x[i], L, ng, c, wt, sig, floor);

    PetscCall(PetscSNPrintf(where, sizeof(where), "i = %" PetscInt64_FMT ": X = %.17g, F(X) = %.17g, want %.17g", start + i, (double)x[i], (double)F, (double)u));
    PetscCall(KfTestErrUpdate(&e, PetscAbsReal(F - u) + (x[i] >= 0 && x[i] < L ? 0 : 1), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "quantile: |F(X_i) - (i+1/2)/N|, F by erfc", &e, TOL_CDF));
  PetscCall(PetscFree(x));
  PetscCall(KfSamplerDestroy(&s));
  if (three) {
    PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_centers"));
    PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_weights"));
    PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_widths"));
    PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_floor"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* d >= 2 cos quantiles: every coordinate of the Knothe-Rosenblatt image solves its conditional CDF = u_j. */
static PetscErrorCode TestKnotheRosenblatt(PetscInt dim, PetscInt nn, PetscReal L, PetscReal amp, PetscInt m)
{
  const PetscInt n[KF_MAX_DIM] = {nn, nn, nn};
  KfParams       p;
  KfSampler      s;
  CosRef         ref;
  PetscInt64     N = 1, start;
  PetscInt       nlocal;
  PetscReal     *x;
  KfTestErr      e;
  char           where[200], buf[32];

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < dim; c++) N *= m;
  PetscCall(SetLabel(dim, n, L, "cos quantile"));
  PetscCall(MakeParams(dim, n, L, &p));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%.17g", (double)amp));
  PetscCall(PetscOptionsSetValue(NULL, "-init_cos_amp", buf));
  PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", "cos", &s));
  CosRefInit(&ref, dim, amp, 2, L);
  PetscCall(Split(PETSC_COMM_WORLD, N, &start, &nlocal));
  PetscCall(PetscMalloc1(PetscMax(1, nlocal * dim), &x));
  PetscCall(KfSamplerDrawQuantile(s, N, start, nlocal, x));
  KfTestErrReset(&e);
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscInt64 id = start + i, idx[KF_MAX_DIM];

    for (PetscInt c = dim - 1; c >= 0; c--, id /= m) idx[c] = id % m;
    for (PetscInt c = 0; c < dim; c++) {
      const PetscReal u = ((PetscReal)idx[c] + 0.5) / (PetscReal)m, F = CosConditionalCDF(&ref, c, x + i * dim, x[i * dim + c]);

      PetscCall(PetscSNPrintf(where, sizeof(where), "id %" PetscInt64_FMT " axis %" PetscInt_FMT ": X = %.17g, F = %.17g, u = %.17g", start + i, c, (double)x[i * dim + c], (double)F, (double)u));
      PetscCall(KfTestErrUpdate(&e, PetscAbsReal(F - u) + (x[i * dim + c] >= 0 && x[i * dim + c] < L ? 0 : 1), where));
    }
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "Knothe-Rosenblatt: |F_j(X_j | X_<j) - u_j|", &e, TOL_CDF));
  PetscCall(PetscFree(x));
  PetscCall(KfSamplerDestroy(&s));
  PetscCall(PetscOptionsClearValue(NULL, "-init_cos_amp"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Knothe-Rosenblatt for any density, on grids with a different band per axis: the conditional CDFs summed
  directly from all the grid's coefficients (KfSpectralForward on the distributed grid, gathered; Nyquist
  indices left out), F_j(t | x_<j) = sum_{k: k_i = 0, i > j} c(k) prod_{i<j} e^{i k_i th_i} I_{k_j}(t) / (the same
  sum with k_j = 0), I_0(t) = t/L, I_k(t) = (e^{2 pi i k t/L} - 1)/(2 pi i k).
*/
static PetscErrorCode TestKnotheRosenblattGrid(PetscInt dim, const PetscInt n[], PetscReal L, const char spec[], DrawKind kind, PetscInt m)
{
  const KfSpectralLayout *lay;
  KfParams                p;
  KfSampler               s;
  KfSpectral              sp;
  Vec                     rho;
  KfComplex              *hat, *full;
  const PetscScalar      *a;
  PetscInt64              N = 1, start, ntot = 1;
  PetscInt                nlocal;
  PetscReal              *x;
  KfComplex              *fac[KF_MAX_DIM];
  KfTestErr               e;
  char                    where[200], what[80];

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < dim; c++) N *= m;
  for (PetscInt c = 0; c < KF_MAX_DIM; c++) PetscCall(PetscMalloc1(n[c], &fac[c]));
  PetscCall(PetscSNPrintf(what, sizeof(what), "%s %s", spec, DrawNames[kind]));
  PetscCall(SetLabel(dim, n, L, what));
  PetscCall(MakeParams(dim, n, L, &p));
  PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", spec, &s));
  /* all coefficients c(k) on every rank, full index space (k mod n), from the distributed r2c/c2c transform */
  PetscCall(KfSpectralCreate(PETSC_COMM_WORLD, dim, p.n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfSpectralGetLayout(sp, &lay));
  PetscCall(KfSpectralCreateVec(sp, &rho));
  PetscCall(KfDensityFill(sp, &p, "init", spec, rho));
  for (PetscInt j = 0; j < dim; j++) ntot *= p.n[j];
  PetscCall(PetscCalloc1(ntot, &full));
  PetscCall(KfSpectralAllocModes(sp, &hat));
  PetscCall(VecGetArrayRead(rho, &a));
  PetscCall(KfSpectralForward(sp, a, hat));
  PetscCall(VecRestoreArrayRead(rho, &a));
  /* each full-array entry is written by exactly one rank: stored modes, and on the r2c half space the
     conjugates of those strictly inside it (0 < k_last < n/2) */
  for (PetscInt i0 = 0, q = 0; i0 < lay->kcount[0]; i0++)
    for (PetscInt i1 = 0; i1 < lay->kcount[1]; i1++)
      for (PetscInt i2 = 0; i2 < lay->kcount[2]; i2++, q++) {
        const PetscInt g[KF_MAX_DIM] = {lay->kstart[0] + i0, lay->kstart[1] + i1, lay->kstart[2] + i2};
        PetscInt64     idx = 0, midx = 0;

        for (PetscInt j = 0; j < dim; j++) {
          idx  = idx * p.n[j] + g[j];
          midx = midx * p.n[j] + (p.n[j] - g[j]) % p.n[j];
        }
        full[idx] = hat[q];
        if (lay->halfspace && g[dim - 1] > 0 && 2 * g[dim - 1] < p.n[dim - 1]) full[midx] = conj(hat[q]);
      }
  PetscCall(KfSpectralFreeModes(&hat));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, (PetscReal *)full, (PetscMPIInt)(2 * ntot), MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(Split(PETSC_COMM_WORLD, N, &start, &nlocal));
  PetscCall(PetscMalloc1(PetscMax(1, nlocal * dim), &x));
  PetscCall(Draw(s, kind, N, start, nlocal, x));
  KfTestErrReset(&e);
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscInt64 id = start + i, idx[KF_MAX_DIM];

    for (PetscInt c = dim - 1; c >= 0; c--, id /= m) idx[c] = id % m;
    for (PetscInt j = 0; j < dim; j++) {
      const PetscReal u = kind == DRAW_QUANTILE ? ((PetscReal)idx[j] + 0.5) / (PetscReal)m : KfRngUniform(SEED, (uint64_t)j, (uint64_t)(start + i)), t = x[i * dim + j];
      KfComplex       num = 0, den = 0;

      /* per-axis factors by grid index: e^{i k th_c} for c < j, I_k(t) on axis j */
      for (PetscInt c = 0; c <= j; c++)
        for (PetscInt gi = 0; gi < p.n[c]; gi++) {
          const PetscInt kc = KfWavenumber(gi, p.n[c]);

          if (c < j)
            fac[c][gi] = cexp(2 * PETSC_PI * I * kc * x[i * dim + c] / L);
          else
            fac[c][gi] = kc ? (cexp(2 * PETSC_PI * I * kc * t / L) - 1) / (2 * PETSC_PI * I * kc) : t / L;
        }
      for (PetscInt64 q = 0; q < ntot; q++) {
        PetscInt   gi[KF_MAX_DIM] = {0, 0, 0};
        PetscBool  skip           = PETSC_FALSE;
        PetscInt64 qq             = q;
        KfComplex  ph             = 1;

        for (PetscInt c = dim - 1; c >= 0; c--) {
          gi[c] = (PetscInt)(qq % p.n[c]);
          qq /= p.n[c];
          if (2 * gi[c] == p.n[c] || (c > j && gi[c] != 0)) skip = PETSC_TRUE;
        }
        if (skip) continue;
        for (PetscInt c = 0; c < j; c++) ph *= fac[c][gi[c]];
        num += full[q] * ph * fac[j][gi[j]];
        if (!gi[j]) den += full[q] * ph;
      }
      PetscCall(PetscSNPrintf(where, sizeof(where), "id %" PetscInt64_FMT " axis %" PetscInt_FMT ": X = %.17g, F = %.17g, u = %.17g", start + i, j, (double)t, (double)creal(num / den), (double)u));
      PetscCall(KfTestErrUpdate(&e, PetscAbsReal(creal(num / den) - u) + (t >= 0 && t < L ? 0 : 1), where));
    }
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, kind == DRAW_QUANTILE ? "KR map: F_j(X_j | X_<j) = u_j, F from FFTW coefficients" : "iid: F_j(X_j | X_<j) = KfRngUniform(seed, j, id), F by FFTW", &e, 1e-12));
  for (PetscInt c = 0; c < KF_MAX_DIM; c++) PetscCall(PetscFree(fac[c]));
  PetscCall(PetscFree(x));
  PetscCall(PetscFree(full));
  PetscCall(VecDestroy(&rho));
  PetscCall(KfSpectralDestroy(&sp));
  PetscCall(KfSamplerDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  i.i.d. draws: the empirical Fourier moments (1/N) sum_i e^{-2 pi i k.X_i/L} against rho^(k) from the
  distributed grid, for every k with |k|_inf <= 2 in the half space, as z-scores (empirical variances).
*/
static PetscErrorCode TestMoments(PetscInt dim, const PetscInt n[], PetscReal L, const char spec[], DrawKind kind, PetscInt64 N)
{
  KfParams       p;
  KfSampler      s;
  KfSpectral     sp;
  Vec            rho;
  PetscInt64     start;
  PetscInt       nlocal, kk[KF_MAX_DIM], nmodes = 0;
  PetscReal     *x, zmax = 0, B;
  PetscLogDouble t0, t1;
  char           where[200] = "", what[80], desc[512];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(what, sizeof(what), "%s %s", spec, DrawNames[kind]));
  PetscCall(SetLabel(dim, n, L, what));
  PetscCall(MakeParams(dim, n, L, &p));
  PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", spec, &s));
  PetscCall(KfSpectralCreate(PETSC_COMM_WORLD, dim, p.n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfSpectralCreateVec(sp, &rho));
  PetscCall(KfDensityFill(sp, &p, "init", spec, rho));
  PetscCall(Split(PETSC_COMM_WORLD, N, &start, &nlocal));
  PetscCall(PetscMalloc1(PetscMax(1, nlocal * dim), &x));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscTime(&t0));
  PetscCall(Draw(s, kind, N, start, nlocal, x));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscTime(&t1));
  for (kk[0] = dim > 1 ? -2 : 1; kk[0] <= (dim > 1 ? 2 : 4); kk[0]++)
    for (kk[1] = dim > 1 ? -2 : 0; kk[1] <= (dim > 1 ? 2 : 0); kk[1]++)
      for (kk[2] = dim > 2 ? -2 : 0; kk[2] <= (dim > 2 ? 2 : 0); kk[2]++) {
        PetscBool half   = PETSC_FALSE;
        PetscReal loc[4] = {0, 0, 0, 0}, glob[4], mc, ms, vc, vs, zc, zs;
        KfComplex want   = 0;

        for (PetscInt j = dim - 1; j >= 0; j--)
          if (kk[j]) {
            half = (PetscBool)(kk[j] > 0);
            break;
          }
        if (!half) continue;
        for (PetscInt i = 0; i < nlocal; i++) {
          PetscReal th = 0;

          for (PetscInt c = 0; c < dim; c++) th += 2 * PETSC_PI * kk[c] * x[i * dim + c] / L;
          loc[0] += cos(th);
          loc[1] += sin(th);
          loc[2] += cos(th) * cos(th);
          loc[3] += sin(th) * sin(th);
        }
        PetscCallMPI(MPI_Allreduce(loc, glob, 4, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
        PetscCall(GridCoefficient(sp, rho, kk, &want));
        mc = glob[0] / N;
        ms = glob[1] / N;
        vc = glob[2] / N - mc * mc;
        vs = glob[3] / N - ms * ms;
        zc = PetscAbsReal(mc - creal(want)) / PetscSqrtReal(vc / N);
        zs = PetscAbsReal(-ms - cimag(want)) / PetscSqrtReal(vs / N);
        nmodes++;
        if (PetscMax(zc, zs) > zmax) {
          zmax = PetscMax(zc, zs);
          PetscCall(PetscSNPrintf(where, sizeof(where), "k = (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "): moment %.6f%+.6fi, rho^(k) %.6f%+.6fi", kk[0], kk[1], kk[2], (double)mc, (double)-ms, (double)creal(want), (double)cimag(want)));
        }
      }
  PetscCall(PetscSNPrintf(what, sizeof(what), "Fourier moments |k|_inf <= %d (%" PetscInt_FMT " modes): max z", dim > 1 ? 2 : 4, nmodes));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, what, zmax, TOL_Z, where));
  PetscCall(KfSamplerGetBounds(s, &B, NULL, NULL));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "info  %-34s %" PetscInt64_FMT " draws in %.3f s (bound B = %.4g, max z %.2f)\n", label, N, t1 - t0, (double)B, (double)zmax));
  PetscCall(KfSamplerDescribe(s, desc, sizeof(desc)));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "info  %-34s %s\n", label, desc));
  PetscCall(PetscFree(x));
  PetscCall(VecDestroy(&rho));
  PetscCall(KfSpectralDestroy(&sp));
  PetscCall(KfSamplerDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The positions of every id are the same bits on any number of ranks: the block-distributed draws, gathered,
  against a sampler on PETSC_COMM_SELF that draws all N ids on each rank (in 3 uneven pieces, so that also
  the batching differs). Also every coordinate in [0, L).
*/
static PetscErrorCode TestRankIndependence(PetscInt dim, PetscInt nn, PetscReal L, const char spec[], DrawKind kind, PetscInt64 N)
{
  const PetscInt n[KF_MAX_DIM] = {nn, nn, nn};
  KfParams       p;
  KfSampler      s, sself;
  PetscInt64     start;
  PetscInt       nlocal, bad = 0, outside = 0;
  PetscMPIInt    size, *counts, *displs, cnt;
  PetscReal     *x, *all, *ref;
  char           where[200], what[80];
  PetscInt64     cut[4] = {0, N / 7, N / 2 + 3, N};

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(what, sizeof(what), "%s %s", spec, DrawNames[kind]));
  PetscCall(SetLabel(dim, n, L, what));
  PetscCall(MakeParams(dim, n, L, &p));
  PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", spec, &s));
  PetscCall(KfSamplerCreate(PETSC_COMM_SELF, &p, "init", spec, &sself));
  PetscCall(Split(PETSC_COMM_WORLD, N, &start, &nlocal));
  PetscCall(PetscMalloc3(PetscMax(1, nlocal * dim), &x, N * dim, &all, N * dim, &ref));
  PetscCall(Draw(s, kind, N, start, nlocal, x));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  cnt = (PetscMPIInt)(nlocal * dim);
  PetscCallMPI(MPI_Allgather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, PETSC_COMM_WORLD));
  displs[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCallMPI(MPI_Allgatherv(x, cnt, MPIU_REAL, all, counts, displs, MPIU_REAL, PETSC_COMM_WORLD));
  for (int piece = 0; piece < 3; piece++) {
    const PetscInt nb = (PetscInt)(cut[piece + 1] - cut[piece]);

    PetscCall(Draw(sself, kind, N, cut[piece], nb, ref + cut[piece] * dim));
  }
  where[0] = 0;
  for (PetscInt64 i = 0; i < N * dim; i++) {
    if (memcmp(&all[i], &ref[i], sizeof(PetscReal))) {
      if (!bad) PetscCall(PetscSNPrintf(where, sizeof(where), "id %" PetscInt64_FMT " axis %" PetscInt64_FMT ": %.17g distributed, %.17g on one rank", i / dim, i % dim, (double)all[i], (double)ref[i]));
      bad++;
    }
    if (!(all[i] >= 0 && all[i] < L)) outside++;
  }
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "same bits as one rank (count of differing coordinates)", (PetscReal)bad, 0, where));
  {
    PetscReal b[3], bs[3];
    uint64_t  h = 14695981039346656037ULL; /* FNV-1a of the bits: compare the logs of different rank counts */

    PetscCall(KfSamplerGetBounds(s, &b[0], &b[1], &b[2]));
    PetscCall(KfSamplerGetBounds(sself, &bs[0], &bs[1], &bs[2]));
    PetscCall(PetscSNPrintf(where, sizeof(where), "B %.17g / %.17g, min %.17g / %.17g, max %.17g / %.17g", (double)b[0], (double)bs[0], (double)b[1], (double)bs[1], (double)b[2], (double)bs[2]));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "bound, fine-grid min and max: same bits as one rank", memcmp(b, bs, sizeof(b)) ? 1 : 0, 0, where));
    for (PetscInt64 i = 0; i < N * dim; i++) {
      uint64_t bits;

      memcpy(&bits, &all[i], sizeof(bits));
      for (int byte = 0; byte < 8; byte++) h = (h ^ ((bits >> (8 * byte)) & 0xff)) * 1099511628211ULL;
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "info  %-34s checksum of the positions 0x%016llx, B = %.17g\n", label, (unsigned long long)h, (double)b[0]));
  }
  PetscCall(PetscSNPrintf(where, sizeof(where), "%" PetscInt_FMT " coordinates outside [0, L)", outside));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "every coordinate in [0, L)", (PetscReal)outside, 0, where));
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree3(x, all, ref));
  PetscCall(KfSamplerDestroy(&sself));
  PetscCall(KfSamplerDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Keeps the message of the first (initial) error, so that a refusal can be checked for its reason. */
static char err_msg[512];

static PetscErrorCode CaptureError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL && mess) (void)PetscStrncpy(err_msg, mess, sizeof(err_msg));
  return n;
}

/* ierr must be KF_ERR_INPUT and the message must contain `reason`; the message goes to the log. */
static PetscErrorCode CheckRefusal(PetscErrorCode ierr, const char what[], const char reason[])
{
  PetscBool found = PETSC_FALSE;

  PetscFunctionBeginUser;
  found = (PetscBool)(ierr == KF_ERR_INPUT && strstr(err_msg, reason) != NULL);
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, what, found ? 0 : 1, 0, ierr ? err_msg : "accepted"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "info  %-34s message: %s\n", label, ierr ? err_msg : "(none)"));
  err_msg[0] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Inputs that must be refused with KF_ERR_INPUT (collectively), for the stated reason, leaving no sampler
  behind; and the same density accepted once the grid resolves it.
*/
static PetscErrorCode TestRefusals(void)
{
  PetscErrorCode ierr;
  KfParams       p;
  KfSampler      s;
  PetscReal      x[4];

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "refusals", sizeof(label)));

  /* A narrow bump on a small floor: positive grid values, a Gibbs-negative interpolant on a coarse grid. */
  PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_widths", "0.02"));
  PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_floor", "0.001"));
  for (PetscInt dim = 1; dim <= 2; dim++) {
    const PetscInt n[KF_MAX_DIM] = {16, 16, 16}, nfine[KF_MAX_DIM] = {256, 256, 1};
    char           what[80];

    PetscCall(MakeParams(dim, n, 1.0, &p));
    s = (KfSampler)(uintptr_t)1;
    PetscCall(PetscPushErrorHandler(CaptureError, NULL));
    ierr = KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", "gaussians", &s);
    PetscCall(PetscPopErrorHandler());
    PetscCall(PetscSNPrintf(what, sizeof(what), "d=%" PetscInt_FMT " n=16: negative interpolant refused", dim));
    PetscCall(CheckRefusal(ierr, what, "-init gaussians: the trigonometric interpolant of the density is negative near x = "));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "no sampler left after the refusal", s ? 1 : 0, 0, "handle not NULL"));
    if (!ierr) PetscCall(KfSamplerDestroy(&s));
    PetscCall(MakeParams(dim, nfine, 1.0, &p));
    PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", "gaussians", &s));
    PetscCall(KfSamplerDestroy(&s));
    PetscCall(PetscSNPrintf(what, sizeof(what), "d=%" PetscInt_FMT " n=%" PetscInt_FMT ": the same density accepted", dim, nfine[0]));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, what, 0, 0, ""));
  }
  PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_widths"));
  PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_floor"));

  /* Quantiles in d = 2 need N = m^2. */
  {
    const PetscInt n[KF_MAX_DIM] = {16, 16, 1};

    PetscCall(MakeParams(2, n, 1.0, &p));
    PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "init", "cos", &s));
    PetscCall(PetscPushErrorHandler(CaptureError, NULL));
    ierr = KfSamplerDrawQuantile(s, 1000, 0, 2, x);
    PetscCall(PetscPopErrorHandler());
    PetscCall(CheckRefusal(ierr, "d=2 quantile with N = 1000 (not m^2) refused", "-particles 1000 is not of the form m^2"));
    PetscCall(KfSamplerDestroy(&s));
  }
  /* Grids too large to hold on every rank: refused before anything is allocated. */
  {
    const PetscInt n[KF_MAX_DIM] = {4096, 2048, 1};

    PetscCall(MakeParams(2, n, 1.0, &p));
    s = (KfSampler)(uintptr_t)1;
    PetscCall(PetscPushErrorHandler(CaptureError, NULL));
    ierr = KfSamplerCreate(PETSC_COMM_WORLD, &p, "target", "cos", &s);
    PetscCall(PetscPopErrorHandler());
    PetscCall(CheckRefusal(ierr, "grid of 2^23 points refused", "-n: drawing particles from -target cos holds the whole grid"));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "no sampler left after the refusal", s ? 1 : 0, 0, "handle not NULL"));
    PetscCall(KfSamplerCreate(PETSC_COMM_WORLD, &p, "target", "uniform", &s)); /* needs no grid */
    PetscCall(KfSamplerDrawIID(s, SEED, 1, 0, 1, x));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "uniform on the same grid accepted", x[1] == KfRngUniform(SEED, 1, 0) ? 0 : 1, 0, "wrong draw"));
    PetscCall(KfSamplerDestroy(&s));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  const PetscInt n1[KF_MAX_DIM] = {64, 1, 1}, n1g[KF_MAX_DIM] = {256, 1, 1}, n2[KF_MAX_DIM] = {32, 32, 1}, n2g[KF_MAX_DIM] = {64, 64, 1}, n3[KF_MAX_DIM] = {16, 16, 16};
  PetscMPIInt    size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_sample on %d rank%s\n", size, size > 1 ? "s" : ""));
  PetscCall(TestUniform(1, 64, 2 * PETSC_PI, "uniform", 1001));
  PetscCall(TestUniform(1, 6, 1.0, "uniform", 3));
  PetscCall(TestUniform(2, 16, 1.0, "uniform", 31));
  PetscCall(TestUniform(3, 8, 2 * PETSC_PI, "uniform", 10));
  /* through the grid: a constant field has no coefficient above round-off, so it is sampled as uniform */
  PetscCall(PetscOptionsSetValue(NULL, "-init_cos_amp", "0"));
  PetscCall(TestUniform(1, 48, 2 * PETSC_PI, "cos", 777));
  PetscCall(TestUniform(2, 12, 1.0, "cos", 20));
  PetscCall(TestUniform(3, 6, 2 * PETSC_PI, "cos", 7));
  PetscCall(PetscOptionsClearValue(NULL, "-init_cos_amp"));

  PetscCall(TestCos1D(64, 2 * PETSC_PI, 0.5, 2, 5000));
  PetscCall(TestCos1D(32, 1.0, 0.9, 3, 4999));
  PetscCall(TestCos1D(8, 1.0, 1.0, 3, 1000)); /* touches zero; the band fills the grid */
  PetscCall(TestGaussians1D(256, 2 * PETSC_PI, PETSC_FALSE, 4000));
  PetscCall(TestGaussians1D(256, 1.0, PETSC_TRUE, 4000));

  PetscCall(TestKnotheRosenblatt(2, 32, 2 * PETSC_PI, 0.5, 40));
  PetscCall(TestKnotheRosenblatt(2, 16, 1.0, 0.95, 23));
  PetscCall(TestKnotheRosenblatt(3, 16, 1.0, 0.9, 12));
  {
    const PetscInt na[KF_MAX_DIM] = {64, 12, 1}, nb[KF_MAX_DIM] = {12, 48, 1}, nc[KF_MAX_DIM] = {12, 16, 10}, nd[KF_MAX_DIM] = {8, 16, 12};

    PetscCall(TestKnotheRosenblattGrid(2, na, 2 * PETSC_PI, "gaussians", DRAW_QUANTILE, 30));
    PetscCall(TestKnotheRosenblattGrid(2, nb, 1.0, "powerlaw", DRAW_QUANTILE, 30));
    PetscCall(TestKnotheRosenblattGrid(2, na, 1.0, "gaussians", DRAW_INVERSION, 30));
    PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_widths", "0.15")); /* resolved on the coarse axes */
    PetscCall(TestKnotheRosenblattGrid(3, nc, 1.0, "gaussians", DRAW_QUANTILE, 9));
    PetscCall(TestKnotheRosenblattGrid(3, nc, 1.0, "gaussians", DRAW_INVERSION, 9));
    PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_widths"));
    PetscCall(TestKnotheRosenblattGrid(3, nd, 2 * PETSC_PI, "powerlaw", DRAW_QUANTILE, 9));
  }

  PetscCall(TestMoments(1, n1, 2 * PETSC_PI, "cos", DRAW_INVERSION, 20000));
  PetscCall(TestMoments(1, n1g, 1.0, "gaussians", DRAW_INVERSION, 20000));
  PetscCall(TestMoments(2, n2, 1.0, "cos", DRAW_INVERSION, 20000));
  PetscCall(TestMoments(2, n2, 1.0, "cos", DRAW_REJECTION, 20000));
  PetscCall(TestMoments(2, n2g, 2 * PETSC_PI, "gaussians", DRAW_INVERSION, 20000));
  PetscCall(TestMoments(2, n2g, 2 * PETSC_PI, "gaussians", DRAW_REJECTION, 20000));
  PetscCall(TestMoments(3, n3, 1.0, "cos", DRAW_INVERSION, 20000));
  PetscCall(TestMoments(3, n3, 1.0, "cos", DRAW_REJECTION, 20000));
  PetscCall(TestMoments(3, n3, 2 * PETSC_PI, "gaussians", DRAW_INVERSION, 20000));

  PetscCall(TestRankIndependence(1, 64, 2 * PETSC_PI, "cos", DRAW_INVERSION, 3001));
  PetscCall(TestRankIndependence(1, 128, 1.0, "gaussians", DRAW_QUANTILE, 2000));
  PetscCall(TestRankIndependence(1, 64, 1.0, "powerlaw", DRAW_QUANTILE, 5));
  PetscCall(TestRankIndependence(2, 64, 1.0, "gaussians", DRAW_INVERSION, 3000));
  PetscCall(TestRankIndependence(2, 64, 1.0, "gaussians", DRAW_REJECTION, 3000));
  PetscCall(TestRankIndependence(2, 32, 2 * PETSC_PI, "gaussians", DRAW_QUANTILE, 45 * 45));
  PetscCall(TestRankIndependence(2, 32, 1.0, "powerlaw", DRAW_REJECTION, 1000));
  PetscCall(TestRankIndependence(3, 16, 1.0, "cos", DRAW_REJECTION, 2000));
  PetscCall(TestRankIndependence(3, 16, 1.0, "powerlaw", DRAW_INVERSION, 2000));
  PetscCall(TestRankIndependence(3, 16, 2 * PETSC_PI, "gaussians", DRAW_QUANTILE, 12 * 12 * 12));

  PetscCall(TestRefusals());
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  return KfTestMain(argc, argv, "Unit tests of the particle sampler\n", RunAll);
}
