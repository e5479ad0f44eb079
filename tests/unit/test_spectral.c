/* test_spectral.c - unit tests of the distributed FFTs (src/spectral.c) against math spec A.1

   Every check is collective: each rank measures its local error, the maximum is reduced, and the
   rank holding the worst value says where it was. Grids are chosen so that 3 or 4 ranks leave some
   rank without points, which is where layout and collective-call mismatches show up. Exits with
   status 0 only when every check passed on every rank. */
#include <complex.h>
#include <math.h>
#include "kf_log.h"
#include "kf_rng.h"
#include "kf_spectral.h"
#include "kf_test.h"

#define TOL_COEF  1e-13 /* (a) coefficients of known modes */
#define TOL_ROUND 1e-14 /* (b) backward(forward(x)) */
#define TOL_DERIV 1e-12 /* (c) spectral derivative, relative to max |f'| */
#define TOL_PARS  1e-13 /* (d) Parseval, relative */

typedef struct {
  PetscInt  dim;
  PetscInt  n[KF_MAX_DIM];
  PetscReal L;
} Grid;

/* A cosine a cos(2 pi k.x/L + phi) of the test fields. */
typedef struct {
  PetscInt  k[KF_MAX_DIM];
  PetscReal a, phi;
} Mode;

#define MAX_MODES 8

static char gridname[64]; /* the label of the current grid in every check line */

/* (i mod n) in 0..n-1 for negative i too. */
static PetscInt Mod(PetscInt i, PetscInt n)
{
  return ((i % n) + n) % n;
}

/* Phase 2 pi k.g/n reduced mod 2 pi in integers, so that large k g add no rounding to the test data. */
static PetscReal Phase(const Grid *G, const PetscInt k[], const PetscInt g[])
{
  PetscReal t = 0;

  for (PetscInt j = 0; j < G->dim; j++) t += (PetscReal)Mod(k[j] * g[j], G->n[j]) / (PetscReal)G->n[j];
  return 2 * PETSC_PI * t;
}

/* Global grid index of local real-space entry (i0, i1, i2); unused axes have count 1, start 0. */
static void GridIndex(const KfSpectralLayout *lay, PetscInt i0, PetscInt i1, PetscInt i2, PetscInt g[])
{
  g[0] = lay->start[0] + i0;
  g[1] = lay->start[1] + i1;
  g[2] = lay->start[2] + i2;
}

#define FOR_POINTS(lay, i0, i1, i2, m) \
  for (PetscInt i0 = 0, m = 0; i0 < (lay)->count[0]; i0++) \
    for (PetscInt i1 = 0; i1 < (lay)->count[1]; i1++) \
      for (PetscInt i2 = 0; i2 < (lay)->count[2]; i2++, m++)

#define FOR_MODES(lay, i0, i1, i2, m) \
  for (PetscInt i0 = 0, m = 0; i0 < (lay)->kcount[0]; i0++) \
    for (PetscInt i1 = 0; i1 < (lay)->kcount[1]; i1++) \
      for (PetscInt i2 = 0; i2 < (lay)->kcount[2]; i2++, m++)

/* Array index of local mode (i0, i1, i2) on each axis. */
static void ModeIndex(const KfSpectralLayout *lay, PetscInt i0, PetscInt i1, PetscInt i2, PetscInt idx[])
{
  idx[0] = lay->kstart[0] + i0;
  idx[1] = lay->kstart[1] + i1;
  idx[2] = lay->kstart[2] + i2;
}

static PetscReal ModeWeight(const KfSpectralLayout *lay, const PetscInt idx[])
{
  return KfModeWeight(lay, idx[lay->dim - 1]);
}

/* Sum of the modes at the local grid points. */
static void FillModes(const Grid *G, const KfSpectralLayout *lay, PetscInt nm, const Mode modes[], PetscScalar x[])
{
  FOR_POINTS(lay, i0, i1, i2, m)
  {
    PetscInt g[KF_MAX_DIM];

    GridIndex(lay, i0, i1, i2, g);
    x[m] = 0;
    for (PetscInt q = 0; q < nm; q++) x[m] += modes[q].a * PetscCosReal(Phase(G, modes[q].k, g) + modes[q].phi);
  }
}

/* Uniform random values in [-1, 1) keyed by the global index, so every decomposition sees the same field. */
static void FillRandom(const KfSpectralLayout *lay, uint64_t stream, PetscScalar x[])
{
  FOR_POINTS(lay, i0, i1, i2, m)
  {
    PetscInt g[KF_MAX_DIM];

    GridIndex(lay, i0, i1, i2, g);
    x[m] = 2 * KfRngUniform(12345, stream, (uint64_t)((g[0] * lay->n[1] + g[1]) * lay->n[2] + g[2])) - 1;
  }
}

/*
  Expected coefficient at array index idx of sum_q a_q cos(2 pi k_q.x/L + phi_q): the cosine is
  a/2 e^{i phi} at +k and a/2 e^{-i phi} at -k; on the grid both are taken mod n, so a mode whose
  -k aliases onto +k (k = 0, Nyquist on every axis) collapses to a cos(phi).
*/
static KfComplex Expected(const Grid *G, PetscInt nm, const Mode modes[], const PetscInt idx[])
{
  KfComplex c = 0;

  for (PetscInt q = 0; q < nm; q++) {
    PetscBool plus = PETSC_TRUE, minus = PETSC_TRUE;

    for (PetscInt j = 0; j < G->dim; j++) {
      /* Compare wavenumbers as KfWavenumber maps them, i.e. the way the layout is read. */
      plus  = (PetscBool)(plus && KfWavenumber(idx[j], G->n[j]) == KfWavenumber(Mod(modes[q].k[j], G->n[j]), G->n[j]));
      minus = (PetscBool)(minus && KfWavenumber(idx[j], G->n[j]) == KfWavenumber(Mod(-modes[q].k[j], G->n[j]), G->n[j]));
    }
    if (plus) c += 0.5 * modes[q].a * cexp(I * modes[q].phi);
    if (minus) c += 0.5 * modes[q].a * cexp(-I * modes[q].phi);
  }
  return c;
}

/* Test modes for grid G: constant, low, mixed-sign, highest non-Nyquist, all-Nyquist, mixed Nyquist. */
static PetscInt MakeModes(const Grid *G, Mode modes[])
{
  PetscInt nm = 0;

  for (PetscInt q = 0; q < MAX_MODES; q++)
    for (PetscInt j = 0; j < KF_MAX_DIM; j++) modes[q].k[j] = 0;
  modes[nm].a = 0.7, modes[nm].phi = 0.0, nm++; /* k = 0 */
  modes[nm].k[0] = 1, modes[nm].a = 1.0, modes[nm].phi = 0.3, nm++;
  for (PetscInt j = 0; j < G->dim; j++) modes[nm].k[j] = (j % 2 ? 1 : -1) * PetscMin(j + 1, (G->n[j] - 1) / 2);
  modes[nm].a = 0.8, modes[nm].phi = -1.1, nm++;
  for (PetscInt j = 0; j < G->dim; j++) modes[nm].k[j] = (j % 2 ? -1 : 1) * ((G->n[j] - 1) / 2);
  modes[nm].a = 0.55, modes[nm].phi = 2.0, nm++;
  for (PetscInt j = 0; j < G->dim; j++) modes[nm].k[j] = G->n[j] / 2;
  modes[nm].a = 0.4, modes[nm].phi = 0.9, nm++;
  if (G->dim > 1) {
    modes[nm].k[0] = G->n[0] / 2, modes[nm].k[G->dim - 1] = -1, modes[nm].a = 0.3, modes[nm].phi = 0.5, nm++;
    modes[nm].k[G->dim - 1] = -1, modes[nm].a = 0.25, modes[nm].phi = -0.4, nm++; /* stored only as its conjugate */
  }
  return nm;
}

static PetscErrorCode ModeString(const PetscInt idx[], PetscInt dim, KfComplex got, KfComplex want, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "index (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ")[d=%" PetscInt_FMT "] got %.15g%+.15gi want %.15g%+.15gi", idx[0], idx[1], idx[2], dim, creal(got), cimag(got), creal(want), cimag(want)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (e) The slabs tile the grid and the mode boxes tile the stored spectrum; reports empty ranks. */
static PetscErrorCode CheckLayout(MPI_Comm comm, const Grid *G, KfSpectral sp)
{
  const KfSpectralLayout *lay;
  PetscMPIInt             size, rank;
  PetscInt                mine[4], *all, nempty = 0, nlast, expect_modes;
  PetscInt64              sums[2], lsum[2];
  PetscBool               ok = PETSC_TRUE;
  char                    where[160] = "";
  Vec                     v;
  PetscInt                vlocal, vglobal;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(KfSpectralGetLayout(sp, &lay));
  /* Shape of the layout: dimension, the grid, the half space in d >= 2 only. */
  ok = (PetscBool)(lay->dim == G->dim && lay->halfspace == (G->dim >= 2));
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) ok = (PetscBool)(ok && lay->n[j] == (j < G->dim ? G->n[j] : 1));
  PetscCall(KfTestCheckTrue(comm, gridname, "layout: dim, n, halfspace", ok, "layout header"));

  /* Axes other than the first are not distributed; the last Fourier axis holds 0..n/2 with the half space. */
  ok    = PETSC_TRUE;
  nlast = G->dim >= 2 ? G->n[G->dim - 1] / 2 + 1 : G->n[0];
  for (PetscInt j = 1; j < KF_MAX_DIM; j++) {
    const PetscInt nk = (j == G->dim - 1) ? nlast : (j < G->dim ? G->n[j] : 1);

    if (lay->start[j] || lay->count[j] != (j < G->dim ? G->n[j] : 1) || lay->kstart[j] || lay->kcount[j] != nk) {
      ok = PETSC_FALSE;
      PetscCall(PetscSNPrintf(where, sizeof(where), "axis %" PetscInt_FMT ": start %" PetscInt_FMT " count %" PetscInt_FMT " kstart %" PetscInt_FMT " kcount %" PetscInt_FMT, j, lay->start[j], lay->count[j], lay->kstart[j], lay->kcount[j]));
    }
  }
  if (lay->nlocal != lay->count[0] * lay->count[1] * lay->count[2] || lay->nmodes != lay->kcount[0] * lay->kcount[1] * lay->kcount[2]) {
    ok = PETSC_FALSE;
    PetscCall(PetscSNPrintf(where, sizeof(where), "nlocal %" PetscInt_FMT " nmodes %" PetscInt_FMT " disagree with the boxes", lay->nlocal, lay->nmodes));
  }
  PetscCall(KfTestCheckTrue(comm, gridname, "layout: undistributed axes, sizes", ok, where));

  /* The first-axis ranges must be contiguous, in rank order, and cover 0..n0-1 (real and Fourier). */
  mine[0] = lay->start[0], mine[1] = lay->count[0], mine[2] = lay->kstart[0], mine[3] = lay->kcount[0];
  PetscCall(PetscMalloc1(4 * size, &all));
  PetscCallMPI(MPI_Allgather(mine, 4, MPIU_INT, all, 4, MPIU_INT, comm));
  ok = PETSC_TRUE;
  for (PetscInt part = 0; part < 2; part++) {
    PetscInt next = 0;

    for (PetscMPIInt r = 0; r < size; r++) {
      const PetscInt s = all[4 * r + 2 * part], c = all[4 * r + 2 * part + 1];

      if (c < 0 || (c > 0 && s != next)) {
        ok = PETSC_FALSE;
        PetscCall(PetscSNPrintf(where, sizeof(where), "%s range of rank %d: start %" PetscInt_FMT " count %" PetscInt_FMT ", expected start %" PetscInt_FMT, part ? "Fourier" : "real", r, s, c, next));
      }
      if (c > 0) next = s + c;
      if (!part && c == 0) nempty++;
    }
    if (next != G->n[0]) {
      ok = PETSC_FALSE;
      PetscCall(PetscSNPrintf(where, sizeof(where), "%s ranges end at %" PetscInt_FMT ", not n0 = %" PetscInt_FMT, part ? "Fourier" : "real", next, G->n[0]));
    }
  }
  PetscCall(PetscFree(all));
  PetscCall(KfTestCheckTrue(comm, gridname, "layout: first axis tiles 0..n0-1", ok, where));

  /* Totals: every point and every stored mode exactly once. */
  expect_modes = 1;
  for (PetscInt j = 0; j < G->dim; j++) expect_modes *= (j == G->dim - 1) ? nlast : G->n[j];
  lsum[0] = lay->nlocal, lsum[1] = lay->nmodes;
  PetscCallMPI(MPI_Allreduce(lsum, sums, 2, MPIU_INT64, MPI_SUM, comm));
  PetscCall(PetscSNPrintf(where, sizeof(where), "sum nlocal %" PetscInt64_FMT " (ntotal %" PetscInt64_FMT "), sum nmodes %" PetscInt64_FMT " (want %" PetscInt_FMT ")", sums[0], lay->ntotal, sums[1], expect_modes));
  PetscCall(KfTestCheckTrue(comm, gridname, "layout: totals of points and modes", (PetscBool)(sums[0] == lay->ntotal && sums[1] == expect_modes), where));

  PetscCall(KfSpectralCreateVec(sp, &v));
  PetscCall(VecGetLocalSize(v, &vlocal));
  PetscCall(VecGetSize(v, &vglobal));
  PetscCall(VecDestroy(&v));
  PetscCall(PetscSNPrintf(where, sizeof(where), "Vec sizes %" PetscInt_FMT "/%" PetscInt_FMT, vlocal, vglobal));
  PetscCall(KfTestCheckTrue(comm, gridname, "KfSpectralCreateVec matches the layout", (PetscBool)(vlocal == lay->nlocal && vglobal == lay->ntotal), where));
  if (nempty) PetscCall(PetscPrintf(comm, "note  %-26s %" PetscInt_FMT " of %d ranks hold no grid points\n", gridname, nempty, size));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (a) Known modes land at the right indices with the right values; (d) Parseval on the same field. */
static PetscErrorCode CheckModes(MPI_Comm comm, const Grid *G, KfSpectral sp, PetscScalar *x, PetscScalar *x0, KfComplex *xhat)
{
  const KfSpectralLayout *lay;
  Mode                    modes[MAX_MODES];
  PetscInt                nm = MakeModes(G, modes);
  KfTestErr               e, eunt;
  char                    where[160];

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  FillModes(G, lay, nm, modes, x);
  PetscCall(PetscArraycpy(x0, x, lay->nlocal));
  PetscCall(KfSpectralForward(sp, x, xhat));
  KfTestErrReset(&e);
  FOR_MODES(lay, i0, i1, i2, m)
  {
    PetscInt  idx[KF_MAX_DIM];
    KfComplex want;

    ModeIndex(lay, i0, i1, i2, idx);
    want = Expected(G, nm, modes, idx);
    PetscCall(ModeString(idx, G->dim, xhat[m], want, where, sizeof(where)));
    PetscCall(KfTestErrUpdate(&e, cabs(xhat[m] - want), where));
  }
  PetscCall(KfTestCheck(comm, gridname, "(a) forward: coefficients of known modes", &e, TOL_COEF));

  /* The forward transform takes a const input: it must not have been used as scratch. */
  KfTestErrReset(&eunt);
  for (PetscInt i = 0; i < lay->nlocal; i++) PetscCall(KfTestErrUpdate(&eunt, PetscAbsScalar(x[i] - x0[i]), "input entry"));
  PetscCall(KfTestCheck(comm, gridname, "forward leaves its input untouched", &eunt, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (b) backward(forward(x)) == x, backward leaves xhat alone; (d) Parseval with the half-space weights. */
static PetscErrorCode CheckRoundTripParseval(MPI_Comm comm, const Grid *G, KfSpectral sp, PetscScalar *x, PetscScalar *y, KfComplex *xhat, KfComplex *xhat0, PetscBool random)
{
  const KfSpectralLayout *lay;
  Mode                    modes[MAX_MODES];
  KfTestErr               e;
  char                    where[160], what[64];
  PetscReal               loc[2] = {0, 0}, glob[2], mean2, rel;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  if (random) FillRandom(lay, 7, x);
  else FillModes(G, lay, MakeModes(G, modes), modes, x);
  PetscCall(KfSpectralForward(sp, x, xhat));
  PetscCall(PetscArraycpy(xhat0, xhat, lay->nmodes));
  PetscCall(KfSpectralBackward(sp, xhat, y));
  KfTestErrReset(&e);
  FOR_POINTS(lay, i0, i1, i2, m)
  {
    PetscInt g[KF_MAX_DIM];

    GridIndex(lay, i0, i1, i2, g);
    PetscCall(PetscSNPrintf(where, sizeof(where), "point (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ") got %.17g want %.17g", g[0], g[1], g[2], (double)y[m], (double)x[m]));
    PetscCall(KfTestErrUpdate(&e, PetscAbsScalar(y[m] - x[m]), where));
  }
  PetscCall(PetscSNPrintf(what, sizeof(what), "(b) backward(forward(x)) == x, %s field", random ? "random" : "modes"));
  PetscCall(KfTestCheck(comm, gridname, what, &e, TOL_ROUND));

  KfTestErrReset(&e);
  for (PetscInt m = 0; m < lay->nmodes; m++) PetscCall(KfTestErrUpdate(&e, cabs(xhat[m] - xhat0[m]), "a mode changed"));
  PetscCall(KfTestCheck(comm, gridname, "backward leaves xhat untouched", &e, 0));

  /* Parseval: mean_g x^2 = sum over Z^d-representatives |xhat|^2; the half space counts pairs twice. */
  FOR_MODES(lay, i0, i1, i2, m)
  {
    PetscInt idx[KF_MAX_DIM];

    ModeIndex(lay, i0, i1, i2, idx);
    loc[0] += ModeWeight(lay, idx) * (creal(xhat[m]) * creal(xhat[m]) + cimag(xhat[m]) * cimag(xhat[m]));
  }
  for (PetscInt i = 0; i < lay->nlocal; i++) loc[1] += PetscRealPart(x[i] * x[i]);
  PetscCallMPI(MPI_Allreduce(loc, glob, 2, MPIU_REAL, MPI_SUM, comm));
  mean2 = glob[1] / (PetscReal)lay->ntotal;
  rel   = PetscAbsReal(glob[0] - mean2) / mean2;
  KfTestErrReset(&e);
  PetscCall(PetscSNPrintf(where, sizeof(where), "sum w|xhat|^2 = %.17g, mean x^2 = %.17g", (double)glob[0], (double)mean2));
  PetscCall(KfTestErrUpdate(&e, rel, where));
  PetscCall(PetscSNPrintf(what, sizeof(what), "(d) Parseval with KfModeWeight, %s field", random ? "random" : "modes"));
  PetscCall(KfTestCheck(comm, gridname, what, &e, TOL_PARS));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  (c) f = sin(2 pi k.x/L + phi) + b cos(2 pi (n/2) x_0/L): d_j f via the multiplier i 2 pi k_j/L read
  off the layout (0 at the Nyquist index, spec A.1). The Nyquist cosine's true derivative vanishes at
  every grid point, so the zeroed multiplier is exact there too. k uses the highest non-Nyquist
  wavenumber with mixed signs, where a wrong index -> wavenumber map would flip the sign.
*/
static PetscErrorCode CheckDerivative(MPI_Comm comm, const Grid *G, KfSpectral sp, PetscScalar *x, PetscScalar *y, KfComplex *xhat, KfComplex *work)
{
  const KfSpectralLayout *lay;
  PetscInt                k[KF_MAX_DIM] = {0, 0, 0}, nyq[KF_MAX_DIM] = {0, 0, 0};
  const PetscReal         phi = 0.37, b = 0.6, w = 2 * PETSC_PI / G->L;
  char                    where[160], what[64];

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  for (PetscInt j = 0; j < G->dim; j++) k[j] = (j % 2 ? -1 : 1) * ((G->n[j] - 1) / 2);
  nyq[0] = G->n[0] / 2;
  FOR_POINTS(lay, i0, i1, i2, m)
  {
    PetscInt g[KF_MAX_DIM];

    GridIndex(lay, i0, i1, i2, g);
    x[m] = PetscSinReal(Phase(G, k, g) + phi) + b * PetscCosReal(Phase(G, nyq, g));
  }
  PetscCall(KfSpectralForward(sp, x, xhat));
  for (PetscInt j = 0; j < G->dim; j++) {
    KfTestErr e;
    PetscReal scale = PetscMax(1.0, PetscAbsReal(w * k[j]));

    FOR_MODES(lay, i0, i1, i2, m)
    {
      PetscInt idx[KF_MAX_DIM];

      ModeIndex(lay, i0, i1, i2, idx);
      work[m] = (2 * idx[j] == G->n[j]) ? 0 : I * w * (PetscReal)KfWavenumber(idx[j], G->n[j]) * xhat[m];
    }
    PetscCall(KfSpectralBackward(sp, work, y));
    KfTestErrReset(&e);
    FOR_POINTS(lay, i0, i1, i2, m)
    {
      PetscInt  g[KF_MAX_DIM];
      PetscReal want;

      GridIndex(lay, i0, i1, i2, g);
      want = w * k[j] * PetscCosReal(Phase(G, k, g) + phi);
      PetscCall(PetscSNPrintf(where, sizeof(where), "point (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ") got %.17g want %.17g", g[0], g[1], g[2], (double)y[m], (double)want));
      PetscCall(KfTestErrUpdate(&e, PetscAbsScalar(y[m] - want) / scale, where));
    }
    PetscCall(PetscSNPrintf(what, sizeof(what), "(c) d/dx%" PetscInt_FMT " of sin, k = %" PetscInt_FMT " (rel)", j + 1, k[j]));
    PetscCall(KfTestCheck(comm, gridname, what, &e, TOL_DERIV));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunGrid(MPI_Comm comm, const Grid *G)
{
  KfSpectral              sp;
  const KfSpectralLayout *lay;
  PetscScalar            *x, *x0, *y;
  KfComplex              *xhat, *xhat0, *work;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(gridname, sizeof(gridname), "d=%" PetscInt_FMT " n=%" PetscInt_FMT, G->dim, G->n[0]));
  for (PetscInt j = 1; j < G->dim; j++) {
    char ax[24];

    PetscCall(PetscSNPrintf(ax, sizeof(ax), "x%" PetscInt_FMT, G->n[j]));
    PetscCall(PetscStrlcat(gridname, ax, sizeof(gridname)));
  }
  PetscCall(PetscStrlcat(gridname, G->L == 1 ? " L=1" : " L=2pi", sizeof(gridname)));
  PetscCall(KfSpectralCreate(comm, G->dim, G->n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfSpectralGetLayout(sp, &lay));
  /* Empty ranks still get valid (non-NULL) buffers, as the transforms dereference nothing there. */
  PetscCall(PetscMalloc3(PetscMax(lay->nlocal, 1), &x, PetscMax(lay->nlocal, 1), &x0, PetscMax(lay->nlocal, 1), &y));
  PetscCall(KfSpectralAllocModes(sp, &xhat));
  PetscCall(KfSpectralAllocModes(sp, &xhat0));
  PetscCall(KfSpectralAllocModes(sp, &work));

  PetscCall(CheckLayout(comm, G, sp));
  PetscCall(CheckModes(comm, G, sp, x, x0, xhat));
  PetscCall(CheckRoundTripParseval(comm, G, sp, x, y, xhat, xhat0, PETSC_FALSE));
  PetscCall(CheckRoundTripParseval(comm, G, sp, x, y, xhat, xhat0, PETSC_TRUE));
  PetscCall(CheckDerivative(comm, G, sp, x, y, xhat, work));

  PetscCall(KfSpectralFreeModes(&xhat));
  PetscCall(KfSpectralFreeModes(&xhat0));
  PetscCall(KfSpectralFreeModes(&work));
  PetscCall(PetscFree3(x, x0, y));
  PetscCall(KfSpectralDestroy(&sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  /* 1-D n = 6 and 3-D 2x4x4 leave ranks 3-4 empty; 6x4 does so in 2-D. */
  const Grid grids[] = {
    {1, {64, 1, 1}, 2 * PETSC_PI},
    {1, {6, 1, 1},  1.0         },
    {2, {16, 8, 1}, 2 * PETSC_PI},
    {2, {6, 4, 1},  1.0         },
    {3, {4, 6, 8},  2 * PETSC_PI},
    {3, {2, 4, 4},  1.0         },
  };
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_spectral on %d rank%s\n", size, size > 1 ? "s" : ""));
  for (size_t i = 0; i < sizeof(grids) / sizeof(grids[0]); i++) PetscCall(RunGrid(PETSC_COMM_WORLD, &grids[i]));
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  return KfTestMain(argc, argv, "Unit tests of the distributed FFTs (spectral.c)\n", RunAll);
}
