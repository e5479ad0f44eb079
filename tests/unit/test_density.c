/* test_density.c - unit tests of the counter-based RNG (src/rng.c) and the density registry (src/density.c)

   Every check is collective: the worst local value is reduced and the rank that saw it says where.
   Exits with status 0 only when every check passed on every rank. */
#include <complex.h>
#include <math.h>
#include "kf_density.h"
#include "kf_log.h"
#include "kf_rng.h"
#include "kf_test.h"

#define TOL_MEAN 1e-14 /* mass 1 after normalisation */

typedef struct {
  PetscInt  dim;
  PetscInt  n[KF_MAX_DIM];
  PetscReal L;
} Grid;

static char label[96];

/* ------------------------------------------------------------------------------------------------ RNG */

#define RNG_DRAWS 1000000

/*
  The 10^6 draws are split cyclically over the ranks, so the statistics are those of the same
  numbers on any rank count. Thresholds are about 7 standard deviations: the draws are fixed
  numbers, so a pass is deterministic, and only a broken generator lands outside.
*/
static PetscErrorCode TestRng(void)
{
  PetscMPIInt rank, size;
  PetscReal   loc[6] = {0, 0, 0, 0, 0, 0}, glob[6], lo = 1, hi = 0, glo, ghi;
  PetscInt    bins[16] = {0}, gbins[16];
  PetscReal   chi2 = 0, mean, var, corr_lag, corr_stream, corr_seed;
  char        where[200];
  uint64_t    bits[8], bmin[8], bmax[8];
  PetscBool   distinct = PETSC_TRUE;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "rng", sizeof(label)));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  for (uint64_t c = (uint64_t)rank; c < RNG_DRAWS; c += (uint64_t)size) {
    const double u = KfRngUniform(42, 3, c), ulag = KfRngUniform(42, 3, c + 1), ustream = KfRngUniform(42, 4, c), useed = KfRngUniform(43, 3, c);

    lo = PetscMin(lo, u);
    hi = PetscMax(hi, u);
    loc[0] += u;
    loc[1] += u * u;
    loc[2] += (u - 0.5) * (ulag - 0.5);
    loc[3] += (u - 0.5) * (ustream - 0.5);
    loc[4] += (u - 0.5) * (useed - 0.5);
    if (u >= 0 && u < 1) bins[(int)(16 * u)]++;
    else loc[5] += 1;
  }
  PetscCallMPI(MPI_Allreduce(loc, glob, 6, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&lo, &glo, 1, MPIU_REAL, MPI_MIN, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&hi, &ghi, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(bins, gbins, 16, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));

  PetscCall(PetscSNPrintf(where, sizeof(where), "%.0f draws outside [0,1), min %.17g, max %.17g", (double)glob[5], (double)glo, (double)ghi));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "KfRngUniform in [0, 1)", (glob[5] > 0 || glo < 0 || ghi >= 1) ? 1 : 0, 0, where));
  mean = glob[0] / RNG_DRAWS;
  PetscCall(PetscSNPrintf(where, sizeof(where), "mean %.6f", (double)mean));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "mean of 1e6 draws = 0.5 +- 0.002", PetscAbsReal(mean - 0.5), 0.002, where));
  var = glob[1] / RNG_DRAWS - mean * mean;
  PetscCall(PetscSNPrintf(where, sizeof(where), "variance %.6f", (double)var));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "variance = 1/12 +- 0.001", PetscAbsReal(var - 1.0 / 12), 0.001, where));
  for (int b = 0; b < 16; b++) chi2 += PetscSqr(gbins[b] - RNG_DRAWS / 16.0) / (RNG_DRAWS / 16.0);
  PetscCall(PetscSNPrintf(where, sizeof(where), "chi^2 = %.2f with 15 degrees of freedom", (double)chi2));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "16-bin chi^2 (15 dof) < 50", chi2, 50, where));
  /* Correlations of neighbouring counters, streams and seeds: the generator promises independence. */
  corr_lag    = glob[2] / RNG_DRAWS * 12;
  corr_stream = glob[3] / RNG_DRAWS * 12;
  corr_seed   = glob[4] / RNG_DRAWS * 12;
  PetscCall(PetscSNPrintf(where, sizeof(where), "correlations: counter+1 %.5f, stream+1 %.5f, seed+1 %.5f", (double)corr_lag, (double)corr_stream, (double)corr_seed));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "|corr| of neighbour counter/stream/seed < 0.007", PetscMax(PetscAbsReal(corr_lag), PetscMax(PetscAbsReal(corr_stream), PetscAbsReal(corr_seed))), 0.007, where));

  /* Reproducible: a pure function of (seed, stream, counter), the same on every rank and every call. */
  for (int i = 0; i < 8; i++) bits[i] = KfRngBits((uint64_t)i, 2 * (uint64_t)i + 1, 1000 + (uint64_t)i);
  PetscCallMPI(MPI_Allreduce(bits, bmin, 8, MPI_UINT64_T, MPI_MIN, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(bits, bmax, 8, MPI_UINT64_T, MPI_MAX, PETSC_COMM_WORLD));
  {
    PetscBool same = PETSC_TRUE;

    for (int i = 0; i < 8; i++) same = (PetscBool)(same && bmin[i] == bmax[i] && bits[i] == KfRngBits((uint64_t)i, 2 * (uint64_t)i + 1, 1000 + (uint64_t)i));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "KfRngBits same on every rank and call", same ? 0 : 1, 0, "a value differs between ranks or calls"));
  }
  /* The uniform is the top 53 bits, so it is determined by KfRngBits too. */
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "KfRngUniform == top 53 bits of KfRngBits", KfRngUniform(7, 8, 9) == (double)(KfRngBits(7, 8, 9) >> 11) * 0x1.0p-53 ? 0 : 1, 0, "mismatch"));
  /* Changing any one of seed, stream, counter changes the value (also at 0, where a weak mix would not). */
  {
    const uint64_t base = KfRngBits(0, 0, 0);

    distinct = (PetscBool)(base != KfRngBits(1, 0, 0) && base != KfRngBits(0, 1, 0) && base != KfRngBits(0, 0, 1) && KfRngBits(1, 0, 0) != KfRngBits(0, 1, 0) && KfRngBits(0, 1, 0) != KfRngBits(0, 0, 1) &&
                           KfRngBits(1, 0, 0) != KfRngBits(0, 0, 1));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "seed, stream, counter each change the value", distinct ? 0 : 1, 0, "two argument triples give the same bits"));
  }
  /*
    Golden values (checked against an independent Python transcription of rng.c's SplitMix64
    rounds): every powerlaw density depends on these bits, so a change of the generator must be
    deliberate; update them only together with it.
  */
  {
    const uint64_t want[3] = {0x296777ef865f3686ULL, 0x244e94de3112591bULL, 0x4d1df1d85eba3f53ULL};
    const uint64_t got[3]  = {KfRngBits(1, 1, 0), KfRngBits(1, 2, 12345), KfRngBits(987654321, 7, 1ULL << 40)};

    PetscCall(PetscSNPrintf(where, sizeof(where), "got 0x%016llx 0x%016llx 0x%016llx", (unsigned long long)got[0], (unsigned long long)got[1], (unsigned long long)got[2]));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "golden values of KfRngBits", (got[0] == want[0] && got[1] == want[1] && got[2] == want[2]) ? 0 : 1, 0, where));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ densities */

/* The parameters KfDensityFill reads: the grid, L, seed; the rest keep KfParamsSetFromOptions' defaults. */
static PetscErrorCode MakeParams(const Grid *G, PetscInt seed, KfParams *p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(p, sizeof(*p)));
  p->mode    = KF_MODE_PDE;
  p->dim     = G->dim;
  p->s       = 1.0;
  p->L       = G->L;
  p->seed    = seed;
  p->npoints = 1;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
    p->n[j] = j < G->dim ? G->n[j] : 1;
    p->npoints *= p->n[j];
  }
  PetscCall(PetscStrncpy(p->init, "uniform", sizeof(p->init)));
  PetscCall(PetscStrncpy(p->target, "uniform", sizeof(p->target)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Position x_g = L g / n of local entry m (row-major over the local box). */
static void LocalPoint(const KfSpectralLayout *lay, PetscReal L, PetscInt m, PetscInt g[], PetscReal x[])
{
  const PetscInt c1 = lay->count[1], c2 = lay->count[2];

  g[0] = lay->start[0] + m / (c1 * c2);
  g[1] = lay->start[1] + (m / c2) % c1;
  g[2] = lay->start[2] + m % c2;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) x[j] = L * (PetscReal)g[j] / (PetscReal)lay->n[j];
}

/*
  Checks shared by every entry: finite, > 0, mean 1; the same field (to round-off) as a serial fill
  of the whole grid, i.e. independent of the decomposition. KfDensityFill reduces over
  PETSC_COMM_WORLD, so every rank makes its serial copy at the same time.
*/
static PetscErrorCode CheckCommon(KfSpectral sp, KfSpectral sps, const KfParams *p, const char role[], const char spec[], Vec rho, PetscReal *gmin, PetscReal *gmax)
{
  const KfSpectralLayout *lay;
  const PetscScalar      *a, *b;
  Vec                     full;
  PetscReal               loc[2] = {0, 0}, glob[2], mn = PETSC_MAX_REAL, mx = -PETSC_MAX_REAL;
  KfTestErr               e;
  char                    where[200];

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  PetscCall(KfDensityFill(sp, p, role, spec, rho));
  PetscCall(VecGetArrayRead(rho, &a));
  KfTestErrReset(&e);
  for (PetscInt i = 0; i < lay->nlocal; i++) {
    if (!PetscIsInfOrNanReal(a[i])) {
      loc[0] += a[i];
      mn = PetscMin(mn, a[i]);
      mx = PetscMax(mx, a[i]);
    } else loc[1] += 1;
  }
  PetscCallMPI(MPI_Allreduce(loc, glob, 2, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&mn, gmin, 1, MPIU_REAL, MPI_MIN, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&mx, gmax, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCall(PetscSNPrintf(where, sizeof(where), "%.0f non-finite values, min %.17g", (double)glob[1], (double)*gmin));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "finite and > 0", (glob[1] > 0 || !(*gmin > 0)) ? 1 : 0, 0, where));
  PetscCall(PetscSNPrintf(where, sizeof(where), "mean %.17g", (double)(glob[0] / lay->ntotal)));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "mean (mass w.r.t. m_L) = 1", PetscAbsReal(glob[0] / (PetscReal)lay->ntotal - 1), TOL_MEAN, where));

  /* Decomposition independence: compare with the serial field at the same global points. */
  PetscCall(KfSpectralCreateVec(sps, &full));
  PetscCall(KfDensityFill(sps, p, role, spec, full));
  PetscCall(VecGetArrayRead(full, &b));
  KfTestErrReset(&e);
  for (PetscInt i = 0; i < lay->nlocal; i++) {
    PetscInt  g[KF_MAX_DIM];
    PetscReal x[KF_MAX_DIM], want;

    LocalPoint(lay, p->L, i, g, x);
    want = b[(g[0] * lay->n[1] + g[1]) * lay->n[2] + g[2]];
    PetscCall(PetscSNPrintf(where, sizeof(where), "point (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "): %.17g here, %.17g serial", g[0], g[1], g[2], (double)a[i], (double)want));
    PetscCall(KfTestErrUpdate(&e, PetscAbsReal(a[i] - want) / PetscMax(1, PetscAbsReal(want)), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "same field as a serial fill (rel)", &e, 1e-13));
  PetscCall(VecRestoreArrayRead(full, &b));
  PetscCall(VecDestroy(&full));
  PetscCall(VecRestoreArrayRead(rho, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestUniform(KfSpectral sp, KfSpectral sps, const KfParams *p, Vec rho)
{
  PetscReal mn, mx;

  PetscFunctionBeginUser;
  PetscCall(CheckCommon(sp, sps, p, "init", "uniform", rho, &mn, &mx));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "uniform == 1", PetscMax(PetscAbsReal(mn - 1), PetscAbsReal(mx - 1)), 1e-15, "min/max"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  cos: 1 + amp * (mean-zero trigonometric polynomial scaled to |.| <= 1): min >= 1 - amp and
  max <= 1 + amp. Its spectrum lives on the axes (|k_j| <= cos_modes) and, in d >= 2, on the
  diagonal +-(1,...,1), as -help documents.
*/
static PetscErrorCode TestCos(KfSpectral sp, KfSpectral sps, const KfParams *p, Vec rho, PetscReal amp, PetscInt modes)
{
  const KfSpectralLayout *lay;
  PetscReal               mn, mx;
  char                    where[200], what[64];
  KfComplex              *hat;
  const PetscScalar      *a;
  KfTestErr               e;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  PetscCall(CheckCommon(sp, sps, p, "init", "cos", rho, &mn, &mx));
  PetscCall(PetscSNPrintf(where, sizeof(where), "min %.17g, max %.17g", (double)mn, (double)mx));
  PetscCall(PetscSNPrintf(what, sizeof(what), "1 - amp <= cos <= 1 + amp (amp %g)", (double)amp));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, what, PetscMax(0, PetscMax((1 - amp) - mn, mx - (1 + amp))), 1e-14, where));

  PetscCall(KfSpectralAllocModes(sp, &hat));
  PetscCall(VecGetArrayRead(rho, &a));
  PetscCall(KfSpectralForward(sp, a, hat));
  PetscCall(VecRestoreArrayRead(rho, &a));
  KfTestErrReset(&e);
  for (PetscInt i0 = 0, m = 0; i0 < lay->kcount[0]; i0++)
    for (PetscInt i1 = 0; i1 < lay->kcount[1]; i1++)
      for (PetscInt i2 = 0; i2 < lay->kcount[2]; i2++, m++) {
        const PetscInt k[KF_MAX_DIM] = {KfWavenumber(lay->kstart[0] + i0, lay->n[0]), KfWavenumber(lay->kstart[1] + i1, lay->n[1]), KfWavenumber(lay->kstart[2] + i2, lay->n[2])};
        PetscInt       nonzero = 0, kmaxabs = 0;
        PetscBool      diag = (PetscBool)(p->dim > 1), allowed;

        for (PetscInt j = 0; j < p->dim; j++) {
          nonzero += k[j] != 0;
          kmaxabs = PetscMax(kmaxabs, PetscAbsInt(k[j]));
          diag    = (PetscBool)(diag && k[j] == k[0] && PetscAbsInt(k[j]) == 1);
        }
        /* A Nyquist wavenumber n/2 stands for -n/2 too; either sign is on the axis. */
        allowed = (PetscBool)(nonzero == 0 || (nonzero == 1 && kmaxabs <= modes) || diag);
        if (!allowed) {
          PetscCall(PetscSNPrintf(where, sizeof(where), "k = (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ") |hat| = %.3e", k[0], k[1], k[2], cabs(hat[m])));
          PetscCall(KfTestErrUpdate(&e, cabs(hat[m]), where));
        }
      }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "cos: no modes off the axes and diagonal", &e, 1e-14));
  PetscCall(KfSpectralFreeModes(&hat));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Periodised N(c, sig^2) as a density w.r.t. m_L by Poisson summation: an independent route to the
   same function, with exact mass 1 (the k = 0 term). */
static PetscReal Theta(PetscReal y, PetscReal sig, PetscReal L)
{
  PetscReal v = 1;

  for (PetscInt k = 1; k <= 400; k++) {
    const PetscReal damp = PetscExpReal(-2 * PETSC_PI * PETSC_PI * sig * sig * k * k / (L * L));

    if (damp < 1e-18) break;
    v += 2 * damp * PetscCosReal(2 * PETSC_PI * k * y / L);
  }
  return v;
}

/*
  gaussians against floor + (1 - floor) * sum_g w_g/W prod_j Theta(x_j - c_gj). The reference has
  mass exactly 1 in the continuum; on the grid it is compared after dividing by its grid mean, as
  KfDensityFill normalises. Since floor > 0, a mixture whose mass is not 1 changes the ratio of
  floor to bumps and so the shape: the pointwise comparison checks the mixture's normalisation.
*/
static PetscErrorCode TestGaussians(KfSpectral sp, KfSpectral sps, const KfParams *p, Vec rho, PetscInt ng, const PetscReal centers[], const PetscReal widths[], PetscInt nw, const PetscReal weights[], PetscReal floor)
{
  const KfSpectralLayout *lay;
  PetscReal               mn, mx, wsum = 0, loc = 0, refmean, *ref;
  const PetscScalar      *a;
  KfTestErr               e;
  char                    where[200];

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  PetscCall(CheckCommon(sp, sps, p, "init", "gaussians", rho, &mn, &mx));
  for (PetscInt g = 0; g < ng; g++) wsum += weights[g];
  PetscCall(PetscMalloc1(PetscMax(lay->nlocal, 1), &ref));
  for (PetscInt i = 0; i < lay->nlocal; i++) {
    PetscInt  gi[KF_MAX_DIM];
    PetscReal x[KF_MAX_DIM], mix = 0;

    LocalPoint(lay, p->L, i, gi, x);
    for (PetscInt g = 0; g < ng; g++) {
      PetscReal prod = 1;

      for (PetscInt j = 0; j < p->dim; j++) prod *= Theta(x[j] - centers[g * p->dim + j], widths[nw == 1 ? 0 : g], p->L);
      mix += weights[g] / wsum * prod;
    }
    ref[i] = floor + (1 - floor) * mix;
    loc += ref[i];
  }
  PetscCallMPI(MPI_Allreduce(&loc, &refmean, 1, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  refmean /= (PetscReal)lay->ntotal;
  PetscCall(VecGetArrayRead(rho, &a));
  KfTestErrReset(&e);
  for (PetscInt i = 0; i < lay->nlocal; i++) {
    PetscInt  gi[KF_MAX_DIM];
    PetscReal x[KF_MAX_DIM], want = ref[i] / refmean;

    LocalPoint(lay, p->L, i, gi, x);
    PetscCall(PetscSNPrintf(where, sizeof(where), "point (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "): %.17g, reference %.17g", gi[0], gi[1], gi[2], (double)a[i], (double)want));
    PetscCall(KfTestErrUpdate(&e, PetscAbsReal(a[i] - want) / want, where));
  }
  PetscCall(VecRestoreArrayRead(rho, &a));
  PetscCall(PetscFree(ref));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "gaussians == periodised mixture of mass 1 (rel)", &e, 1e-12));
  PetscCall(PetscSNPrintf(where, sizeof(where), "min %.17g", (double)mn));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "gaussians >= floor / (grid mean of the mixture)", PetscMax(0, floor / refmean - mn), 1e-14, where));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  powerlaw: 1 + eta, eta real with |eta^(k)| proportional to |k|^-p for 0 < |k|_inf <= kmax and 0
  elsewhere, max |eta| = amp. Ratio test: |rho^(k)| |k|^p is the same constant over the band.
*/
static PetscErrorCode TestPowerlaw(KfSpectral sp, KfSpectral sps, const KfParams *p, const char role[], Vec rho, PetscReal pexp, PetscReal amp, PetscInt kmax)
{
  const KfSpectralLayout *lay;
  PetscReal               mn, mx, rmin = PETSC_MAX_REAL, rmax = 0, grmin, grmax, loc[2] = {0, 0}, glob[2];
  PetscInt                inband = 0, ginband, ninband_want = 1;
  KfComplex              *hat;
  const PetscScalar      *a;
  KfTestErr               eout, e0;
  char                    where[200], what[80];

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  PetscCall(CheckCommon(sp, sps, p, role, "powerlaw", rho, &mn, &mx));
  PetscCall(PetscSNPrintf(where, sizeof(where), "min %.17g max %.17g", (double)mn, (double)mx));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "powerlaw: max |rho - 1| = amp", PetscAbsReal(PetscMax(1 - mn, mx - 1) - amp), 1e-13, where));

  PetscCall(KfSpectralAllocModes(sp, &hat));
  PetscCall(VecGetArrayRead(rho, &a));
  PetscCall(KfSpectralForward(sp, a, hat));
  PetscCall(VecRestoreArrayRead(rho, &a));
  KfTestErrReset(&eout);
  KfTestErrReset(&e0);
  for (PetscInt i0 = 0, m = 0; i0 < lay->kcount[0]; i0++)
    for (PetscInt i1 = 0; i1 < lay->kcount[1]; i1++)
      for (PetscInt i2 = 0; i2 < lay->kcount[2]; i2++, m++) {
        const PetscInt k[KF_MAX_DIM] = {KfWavenumber(lay->kstart[0] + i0, lay->n[0]), KfWavenumber(lay->kstart[1] + i1, lay->n[1]), KfWavenumber(lay->kstart[2] + i2, lay->n[2])};
        PetscInt       kinf          = 0;
        PetscReal      k2            = 0;

        for (PetscInt j = 0; j < p->dim; j++) {
          kinf = PetscMax(kinf, PetscAbsInt(k[j]));
          k2 += (PetscReal)(k[j] * k[j]);
        }
        PetscCall(PetscSNPrintf(where, sizeof(where), "k = (%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ") hat = %.17g%+.17gi", k[0], k[1], k[2], creal(hat[m]), cimag(hat[m])));
        if (kinf == 0) PetscCall(KfTestErrUpdate(&e0, cabs(hat[m] - 1), where));
        else if (kinf <= kmax) {
          const PetscReal r = cabs(hat[m]) * PetscPowReal(k2, pexp / 2);

          rmin = PetscMin(rmin, r);
          rmax = PetscMax(rmax, r);
          /* Weighted so the count is over Z^d, comparable with the band's size. */
          inband += (PetscInt)KfModeWeight(lay, p->dim == 1 ? 0 : lay->kstart[p->dim - 1] + (p->dim == 2 ? i1 : i2));
        } else PetscCall(KfTestErrUpdate(&eout, cabs(hat[m]), where));
      }
  PetscCall(KfSpectralFreeModes(&hat));
  PetscCallMPI(MPI_Allreduce(&rmin, &grmin, 1, MPIU_REAL, MPI_MIN, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&rmax, &grmax, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&inband, &ginband, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  for (PetscInt j = 0; j < p->dim; j++) ninband_want *= 2 * kmax + 1;
  ninband_want -= 1;
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "powerlaw: rho^(0) = 1", &e0, 1e-14));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "powerlaw: no modes outside 0 < |k|_inf <= kmax", &eout, 1e-14));
  PetscCall(PetscSNPrintf(where, sizeof(where), "|rho^(k)| |k|^p in [%.17g, %.17g] over %" PetscInt_FMT " modes (want %" PetscInt_FMT ")", (double)grmin, (double)grmax, ginband, ninband_want));
  PetscCall(PetscSNPrintf(what, sizeof(what), "powerlaw: |rho^(k)| ~ |k|^-%g in band (spread)", (double)pexp));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, what, (ginband == ninband_want && grmax > 0) ? (grmax - grmin) / grmax : PETSC_INFINITY, 1e-10, where));

  /* A decomposition-independent checksum, for comparing logs of different rank counts by eye. */
  PetscCall(VecGetArrayRead(rho, &a));
  for (PetscInt i = 0; i < lay->nlocal; i++) {
    PetscInt  g[KF_MAX_DIM];
    PetscReal x[KF_MAX_DIM];

    LocalPoint(lay, p->L, i, g, x);
    loc[0] += a[i] * a[i];
    loc[1] += a[i] * (x[0] + 2 * x[1] + 3 * x[2]) / p->L; /* a ramp, not a Fourier mode, so it sees every mode */
  }
  PetscCall(VecRestoreArrayRead(rho, &a));
  PetscCallMPI(MPI_Allreduce(loc, glob, 2, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "info  %-34s powerlaw checksum: mean rho^2 %.10e, <rho, ramp> %.10e\n", label, (double)(glob[0] / lay->ntotal), (double)(glob[1] / lay->ntotal)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* init and target draw from different streams, and the seed changes the phases. */
static PetscErrorCode TestPowerlawStreams(KfSpectral sp, const KfParams *p)
{
  Vec       v[3];
  KfParams  q = *p;
  PetscReal d1, d2;

  PetscFunctionBeginUser;
  for (int i = 0; i < 3; i++) PetscCall(KfSpectralCreateVec(sp, &v[i]));
  q.seed = p->seed + 1;
  PetscCall(KfDensityFill(sp, p, "init", "powerlaw", v[0]));
  PetscCall(KfDensityFill(sp, p, "target", "powerlaw", v[1]));
  PetscCall(KfDensityFill(sp, &q, "init", "powerlaw", v[2]));
  PetscCall(VecAXPY(v[1], -1, v[0]));
  PetscCall(VecAXPY(v[2], -1, v[0]));
  PetscCall(VecNorm(v[1], NORM_INFINITY, &d1));
  PetscCall(VecNorm(v[2], NORM_INFINITY, &d2));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "powerlaw: init != target, seed matters", (d1 > 1e-3 && d2 > 1e-3) ? 0 : 1, 0, "a field did not change"));
  for (int i = 0; i < 3; i++) PetscCall(VecDestroy(&v[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetLabel(const Grid *G, const char what[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(label, sizeof(label), "d=%" PetscInt_FMT " n=%" PetscInt_FMT, G->dim, G->n[0]));
  for (PetscInt j = 1; j < G->dim; j++) {
    char ax[24];

    PetscCall(PetscSNPrintf(ax, sizeof(ax), "x%" PetscInt_FMT, G->n[j]));
    PetscCall(PetscStrlcat(label, ax, sizeof(label)));
  }
  PetscCall(PetscStrlcat(label, G->L == 1 ? " L=1 " : " L=2pi ", sizeof(label)));
  PetscCall(PetscStrlcat(label, what, sizeof(label)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RealList(const PetscReal v[], PetscInt n, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  buf[0] = 0;
  for (PetscInt i = 0; i < n; i++) {
    char one[40];

    PetscCall(PetscSNPrintf(one, sizeof(one), "%s%.17g", i ? "," : "", (double)v[i]));
    PetscCall(PetscStrlcat(buf, one, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunGrid(const Grid *G)
{
  KfSpectral              sp, sps;
  const KfSpectralLayout *lay;
  KfParams                p;
  Vec                     rho;
  PetscReal               centers[3 * KF_MAX_DIM], widths[3], weights[3] = {1, 0.6, 0};
  PetscInt                kmin = G->n[0];
  char                    buf[512];

  PetscFunctionBeginUser;
  PetscCall(MakeParams(G, 1, &p));
  PetscCall(KfSpectralCreate(PETSC_COMM_WORLD, G->dim, G->n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfSpectralCreate(PETSC_COMM_SELF, G->dim, G->n, KF_PLANNER_ESTIMATE, NULL, 1, &sps));
  PetscCall(KfSpectralGetLayout(sp, &lay));
  PetscCall(KfSpectralCreateVec(sp, &rho));
  for (PetscInt j = 1; j < G->dim; j++) kmin = PetscMin(kmin, G->n[j]);

  PetscCall(SetLabel(G, "uniform"));
  PetscCall(TestUniform(sp, sps, &p, rho));

  PetscCall(SetLabel(G, "cos"));
  PetscCall(TestCos(sp, sps, &p, rho, 0.5, 2));
  PetscCall(SetLabel(G, "cos amp=.9 modes=3"));
  PetscCall(PetscOptionsSetValue(NULL, "-init_cos_amp", "0.9"));
  PetscCall(PetscOptionsSetValue(NULL, "-init_cos_modes", "3"));
  PetscCall(TestCos(sp, sps, &p, rho, 0.9, 3));
  PetscCall(PetscOptionsClearValue(NULL, "-init_cos_amp"));
  PetscCall(PetscOptionsClearValue(NULL, "-init_cos_modes"));

  /* Defaults as -help documents them: centres 0.3L and 0.65L on every axis, width 0.08L, weights 1, 0.6, floor 0.1. */
  for (PetscInt j = 0; j < G->dim; j++) {
    centers[j]          = 0.3 * G->L;
    centers[G->dim + j] = 0.65 * G->L;
  }
  widths[0] = 0.08 * G->L;
  PetscCall(SetLabel(G, "gaussians"));
  PetscCall(TestGaussians(sp, sps, &p, rho, 2, centers, widths, 1, weights, 0.1));
  /* Three bumps of very different widths (one as wide as the torus), one on the seam x = 0. */
  for (PetscInt j = 0; j < G->dim; j++) {
    centers[j]              = 0.0;
    centers[G->dim + j]     = (0.45 + 0.1 * j) * G->L;
    centers[2 * G->dim + j] = 0.9 * G->L;
  }
  widths[0] = 0.05 * G->L, widths[1] = 1.0 * G->L, widths[2] = 0.2 * G->L;
  weights[0] = 2, weights[1] = 1, weights[2] = 0.5;
  PetscCall(RealList(centers, 3 * G->dim, buf, sizeof(buf)));
  PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_centers", buf));
  PetscCall(RealList(widths, 3, buf, sizeof(buf)));
  PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_widths", buf));
  PetscCall(RealList(weights, 3, buf, sizeof(buf)));
  PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_weights", buf));
  PetscCall(PetscOptionsSetValue(NULL, "-init_gaussians_floor", "0.25"));
  PetscCall(SetLabel(G, "gaussians x3"));
  PetscCall(TestGaussians(sp, sps, &p, rho, 3, centers, widths, 3, weights, 0.25));
  PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_centers"));
  PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_widths"));
  PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_weights"));
  PetscCall(PetscOptionsClearValue(NULL, "-init_gaussians_floor"));

  /* Defaults: p = 1.5, amp = 0.1, kmax = max(1, min(n)/3 - 1). */
  PetscCall(SetLabel(G, "powerlaw"));
  PetscCall(TestPowerlaw(sp, sps, &p, "init", rho, 1.5, 0.1, PetscMax(1, kmin / 3 - 1)));
  PetscCall(SetLabel(G, "powerlaw target"));
  PetscCall(TestPowerlaw(sp, sps, &p, "target", rho, 1.5, 0.1, PetscMax(1, kmin / 3 - 1)));
  if (kmin > 10) {
    PetscCall(PetscOptionsSetValue(NULL, "-init_powerlaw_p", "2.5"));
    PetscCall(PetscOptionsSetValue(NULL, "-init_powerlaw_amp", "0.7"));
    PetscCall(PetscOptionsSetValue(NULL, "-init_powerlaw_kmax", "5"));
    PetscCall(SetLabel(G, "powerlaw p=2.5 kmax=5"));
    PetscCall(TestPowerlaw(sp, sps, &p, "init", rho, 2.5, 0.7, 5));
    PetscCall(PetscOptionsClearValue(NULL, "-init_powerlaw_p"));
    PetscCall(PetscOptionsClearValue(NULL, "-init_powerlaw_amp"));
    PetscCall(PetscOptionsClearValue(NULL, "-init_powerlaw_kmax"));
  }
  PetscCall(SetLabel(G, "powerlaw streams"));
  PetscCall(TestPowerlawStreams(sp, &p));

  PetscCall(VecDestroy(&rho));
  PetscCall(KfSpectralDestroy(&sps));
  PetscCall(KfSpectralDestroy(&sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  /* n = 6 in 1-D and 4x6x8 leave some of 3-4 ranks without points. */
  const Grid grids[] = {
    {1, {64, 1, 1},  2 * PETSC_PI},
    {1, {6, 1, 1},   1.0         },
    {2, {16, 8, 1},  2 * PETSC_PI},
    {2, {32, 24, 1}, 1.0         },
    {3, {4, 6, 8},   2 * PETSC_PI},
    {3, {12, 12, 16}, 1.0        },
  };
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_density on %d rank%s\n", size, size > 1 ? "s" : ""));
  PetscCall(TestRng());
  for (size_t i = 0; i < sizeof(grids) / sizeof(grids[0]); i++) PetscCall(RunGrid(&grids[i]));
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  return KfTestMain(argc, argv, "Unit tests of the RNG and the density registry\n", RunAll);
}
