/* density.c - initial densities and targets: the registry, file input, checks, normalisation */
#include "kf_density.h"
#include "kf_io.h"
#include "kf_rng.h"
#include <complex.h>
#include <math.h>
#include <string.h>

typedef struct {
  KfSpectral              sp;
  const KfSpectralLayout *lay;
  const KfParams         *p;
  const char             *role;   /* init or target */
  const char             *prefix; /* init_ or target_ */
  PetscScalar            *rho; /* local values, KfSpectral real layout */
} DensityCtx;

typedef PetscErrorCode (*DensityFillFn)(DensityCtx *);

/* Calls f(ctx, x, value) for every local grid point x_g = L g / n. */
#define FOR_LOCAL_POINTS(lay, L, x, idx) \
  for (PetscInt i0 = 0, idx = 0; i0 < (lay)->count[0]; i0++) \
    for (PetscInt i1 = 0; i1 < (lay)->count[1]; i1++) \
      for (PetscInt i2 = 0; i2 < (lay)->count[2]; i2++, idx++) \
        if (((x)[0] = (L) * (PetscReal)((lay)->start[0] + i0) / (PetscReal)(lay)->n[0], (x)[1] = (L) * (PetscReal)((lay)->start[1] + i1) / (PetscReal)(lay)->n[1], \
             (x)[2] = (L) * (PetscReal)((lay)->start[2] + i2) / (PetscReal)(lay)->n[2], 1))

static PetscErrorCode FillUniform(DensityCtx *c)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < c->lay->nlocal; i++) c->rho[i] = 1.0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 1 + amp * (weighted sum of cosines)/(sum of weights): min >= 1 - amp, so positive for amp < 1. */
static PetscErrorCode FillCos(DensityCtx *c)
{
  PetscReal amp = 0.5, x[KF_MAX_DIM], w = 2 * PETSC_PI / c->p->L, wsum = 0;
  PetscInt  modes = 2, d = c->p->dim;

  PetscFunctionBeginUser;
  PetscOptionsBegin(PETSC_COMM_WORLD, c->prefix, "cos density: 1 + amp * sum_m sum_j cos(2 pi m x_j / L + phase)/m (+ a diagonal mode in d >= 2)", "kmdflow");
  PetscCall(KfOptionsReal(PetscOptionsObject, "-cos_amp", "Relative amplitude; min density = 1 - amp", amp, 0.0, 1.0, PETSC_FALSE, &amp, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-cos_modes", "Highest mode index m", modes, 1, 1 << 20, &modes, NULL));
  PetscOptionsEnd();
  for (PetscInt m = 1; m <= modes; m++) wsum += d / (PetscReal)m;
  if (d > 1) wsum += 0.5;
  FOR_LOCAL_POINTS(c->lay, c->p->L, x, idx)
  {
    PetscReal v = 0, diag = 0;

    for (PetscInt m = 1; m <= modes; m++)
      for (PetscInt j = 0; j < d; j++) v += PetscCosReal(w * m * x[j] + 0.3 * m + 0.7 * j) / m;
    for (PetscInt j = 0; j < d; j++) diag += x[j];
    if (d > 1) v += 0.5 * PetscCosReal(w * diag + 0.5);
    c->rho[idx] = 1.0 + amp * v / wsum;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define KF_MAX_GAUSSIANS 64

/* floor + (1 - floor) * mixture, each Gaussian periodised over enough images for round-off. */
static PetscErrorCode FillGaussians(DensityCtx *c)
{
  const PetscInt d = c->p->dim;
  const PetscReal L = c->p->L;
  PetscReal centers[KF_MAX_DIM * KF_MAX_GAUSSIANS], widths[KF_MAX_GAUSSIANS], weights[KF_MAX_GAUSSIANS], floor = 0.1, x[KF_MAX_DIM], wsum = 0;
  PetscInt  nc = 2 * d, nw = 1, nwt = 2, ng, images;
  PetscBool set;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < d; j++) {
    centers[j]     = 0.3 * L;
    centers[d + j] = 0.65 * L;
  }
  widths[0]  = 0.08 * L;
  weights[0] = 1.0;
  weights[1] = 0.6;
  PetscOptionsBegin(PETSC_COMM_WORLD, c->prefix, "gaussians density: floor + (1 - floor) * periodised Gaussian mixture", "kmdflow");
  PetscCall(KfOptionsRealList(PetscOptionsObject, "-gaussians_centers", "Centres, d numbers each, in [0, L)", "0.3L,...,0.65L,...", KF_MAX_DIM * KF_MAX_GAUSSIANS, centers, &nc, &set));
  PetscCheck(nc % d == 0 && nc > 0, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%sgaussians_centers: %" PetscInt_FMT " numbers given; need d = %" PetscInt_FMT " per centre", c->prefix, nc, d);
  ng = nc / d;
  PetscCheck(ng <= KF_MAX_GAUSSIANS, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%sgaussians_centers: %" PetscInt_FMT " centres given; at most %d are accepted", c->prefix, ng, KF_MAX_GAUSSIANS);
  if (set) {
    nwt = ng;
    for (PetscInt g = 0; g < ng; g++) weights[g] = 1.0;
  }
  PetscCall(KfOptionsRealList(PetscOptionsObject, "-gaussians_widths", "Standard deviations: one for all or one per centre (> 0, <= L)", "0.08L", KF_MAX_GAUSSIANS, widths, &nw, NULL));
  PetscCall(KfOptionsRealList(PetscOptionsObject, "-gaussians_weights", "Weights, one per centre (> 0)", "1,0.6", KF_MAX_GAUSSIANS, weights, &nwt, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-gaussians_floor", "Fraction of the mass spread uniformly", floor, 0.0, 1.0, PETSC_FALSE, &floor, NULL));
  PetscOptionsEnd();
  PetscCheck(nw == 1 || nw == ng, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%sgaussians_widths: %" PetscInt_FMT " values for %" PetscInt_FMT " centres; give 1 or %" PetscInt_FMT, c->prefix, nw, ng, ng);
  PetscCheck(nwt == ng, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%sgaussians_weights: %" PetscInt_FMT " values for %" PetscInt_FMT " centres", c->prefix, nwt, ng);
  for (PetscInt g = 0; g < ng; g++) {
    PetscReal wd = widths[nw == 1 ? 0 : g];

    PetscCheck(wd > 0 && wd <= L, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%sgaussians_widths %s: must be in (0, L = %s]", c->prefix, KF_NUM(wd), KF_NUM(L));
    PetscCheck(weights[g] > 0, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%sgaussians_weights %s: must be > 0", c->prefix, KF_NUM(weights[g]));
    wsum += weights[g];
  }
  images = 1 + (PetscInt)PetscCeilReal(9.0 * (nw == 1 ? widths[0] : L) / L);
  FOR_LOCAL_POINTS(c->lay, L, x, idx)
  {
    PetscReal mix = 0;

    for (PetscInt g = 0; g < ng; g++) {
      const PetscReal sig = widths[nw == 1 ? 0 : g];
      PetscReal       prod = 1;

      for (PetscInt j = 0; j < d; j++) {
        PetscReal sum = 0;

        for (PetscInt m = -images; m <= images; m++) {
          PetscReal r = x[j] - centers[g * d + j] + m * L;
          sum += PetscExpReal(-r * r / (2 * sig * sig));
        }
        prod *= sum * L / (PetscSqrtReal(2 * PETSC_PI) * sig); /* density w.r.t. m_L */
      }
      mix += weights[g] / wsum * prod;
    }
    c->rho[idx] = floor + (1 - floor) * mix;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Phase of mode k, odd in k so that the synthesised field is real. */
static PetscReal PowerlawPhase(const PetscInt k[], PetscInt d, PetscInt seed, PetscInt stream, const PetscInt n[])
{
  PetscInt sign = 0;
  uint64_t code = 0;

  for (PetscInt j = 0; j < d && !sign; j++) sign = k[j] > 0 ? 1 : (k[j] < 0 ? -1 : 0);
  for (PetscInt j = 0; j < d; j++) code = code * (uint64_t)(2 * n[j] + 1) + (uint64_t)(sign * k[j] + n[j]);
  return sign * 2 * PETSC_PI * KfRngUniform((uint64_t)seed, (uint64_t)stream, code);
}

/* 1 + eta, eta with |eta^(k)| ~ |k|^{-p} and random phases for 0 < |k|_inf <= kmax, scaled to max|eta| = amp. */
static PetscErrorCode FillPowerlaw(DensityCtx *c)
{
  const KfSpectralLayout *lay = c->lay;
  PetscReal               p = 1.5, amp = 0.1, maxabs = 0, glob;
  PetscInt                kmax = c->p->n[0], stream = !strcmp(c->role, "init") ? 1 : 2;
  KfComplex              *hat;

  PetscFunctionBeginUser;
  for (PetscInt j = 1; j < c->p->dim; j++) kmax = PetscMin(kmax, c->p->n[j]);
  kmax = PetscMax(1, kmax / 3 - 1);
  PetscOptionsBegin(PETSC_COMM_WORLD, c->prefix, "powerlaw density: 1 + eta with |eta^(k)| ~ |k|^-p, random phases (-seed)", "kmdflow");
  PetscCall(KfOptionsReal(PetscOptionsObject, "-powerlaw_p", "Spectral decay exponent p", p, -10.0, 10.0, PETSC_FALSE, &p, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-powerlaw_amp", "max |eta| (min density = 1 - amp)", amp, 0.0, 1.0, PETSC_FALSE, &amp, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-powerlaw_kmax", "Highest |k|_inf in the spectrum (default: min(n)/3 - 1)", kmax, 1, 1 << 29, &kmax, NULL));
  PetscOptionsEnd();
  for (PetscInt j = 0; j < c->p->dim; j++) PetscCheck(2 * kmax < c->p->n[j], PETSC_COMM_WORLD, KF_ERR_INPUT, "-%spowerlaw_kmax %" PetscInt_FMT ": must be < n/2 = %" PetscInt_FMT, c->prefix, kmax, c->p->n[j] / 2);
  PetscCall(KfSpectralAllocModes(c->sp, &hat));
  for (PetscInt i0 = 0, m = 0; i0 < lay->kcount[0]; i0++)
    for (PetscInt i1 = 0; i1 < lay->kcount[1]; i1++)
      for (PetscInt i2 = 0; i2 < lay->kcount[2]; i2++, m++) {
        PetscInt  k[KF_MAX_DIM] = {KfWavenumber(lay->kstart[0] + i0, lay->n[0]), KfWavenumber(lay->kstart[1] + i1, lay->n[1]), KfWavenumber(lay->kstart[2] + i2, lay->n[2])};
        PetscInt  kinf = 0;
        PetscReal k2 = 0;

        for (PetscInt j = 0; j < c->p->dim; j++) {
          kinf = PetscMax(kinf, PetscAbsInt(k[j]));
          k2 += (PetscReal)k[j] * k[j];
        }
        hat[m] = 0;
        if (kinf > 0 && kinf <= kmax) hat[m] = PetscPowReal(k2, -p / 2) * cexp(I * PowerlawPhase(k, c->p->dim, c->p->seed, stream, lay->n));
      }
  PetscCall(KfSpectralBackward(c->sp, hat, c->rho));
  PetscCall(KfSpectralFreeModes(&hat));
  for (PetscInt i = 0; i < lay->nlocal; i++) maxabs = PetscMax(maxabs, PetscAbsReal(c->rho[i]));
  PetscCallMPI(MPI_Allreduce(&maxabs, &glob, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  for (PetscInt i = 0; i < lay->nlocal; i++) c->rho[i] = 1.0 + (glob > 0 ? amp * c->rho[i] / glob : 0);
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  const char   *name;
  DensityFillFn fill;
} DensityEntry;

static const DensityEntry registry[] = {
  {"uniform",   FillUniform  },
  {"cos",       FillCos      },
  {"gaussians", FillGaussians},
  {"powerlaw",  FillPowerlaw },
};

static PetscErrorCode FillFromFile(DensityCtx *c, const char spec[])
{
  char path[KF_SPEC_LEN], *dset;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(path, spec + 5, sizeof(path)));
  dset = strrchr(path, ':');
  PetscCheck(dset && dset != path && dset[1], PETSC_COMM_WORLD, KF_ERR_INPUT, "-%s %s: expected file:PATH:DATASET", c->role, spec);
  *dset++ = 0;
  PetscCall(KfIOReadGrid(PETSC_COMM_WORLD, path, dset, c->lay, c->rho, c->role));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Finite, nonnegative, positive mass; then scaled to mean 1 (mass 1 for the normalised measure). */
static PetscErrorCode CheckAndNormalise(DensityCtx *c, const char spec[], Vec rho)
{
  PetscReal loc[2] = {0, PETSC_MAX_REAL}, glob[2], sum; /* non-finite count, min */

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < c->lay->nlocal; i++) {
    if (PetscIsInfOrNanReal(c->rho[i])) loc[0] += 1; /* subnormal values are fine */
    else loc[1] = PetscMin(loc[1], c->rho[i]);
  }
  glob[0] = loc[0];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &glob[0], 1, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&loc[1], &glob[1], 1, MPIU_REAL, MPI_MIN, PETSC_COMM_WORLD));
  PetscCheck(glob[0] == 0, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%s %s: %.0f non-finite values (NaN or Inf); a density must be finite", c->role, spec, (double)glob[0]);
  PetscCheck(glob[1] >= 0, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%s %s: negative values (min %s); a density must be >= 0", c->role, spec, KF_NUM(glob[1]));
  PetscCall(VecRestoreArray(rho, &c->rho));
  PetscCall(VecSum(rho, &sum));
  PetscCheck(sum > 0, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%s %s: all values are zero; a density needs positive mass", c->role, spec);
  PetscCall(VecScale(rho, (PetscReal)c->lay->ntotal / sum));
  PetscCall(VecGetArray(rho, &c->rho));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AcceptedNames(char buf[], size_t len)
{
  PetscFunctionBeginUser;
  buf[0] = 0;
  for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
    PetscCall(PetscStrlcat(buf, registry[i].name, len));
    PetscCall(PetscStrlcat(buf, ", ", len));
  }
  PetscCall(PetscStrlcat(buf, "file:PATH:DATASET", len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfDensityFill(KfSpectral sp, const KfParams *p, const char role[], const char spec[], Vec rho)
{
  DensityCtx c;
  char       prefix[32], accepted[256];
  PetscBool  isfile, found = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s_", role));
  c.sp     = sp;
  c.p      = p;
  c.role   = role;
  c.prefix = prefix;
  PetscCall(KfSpectralGetLayout(sp, &c.lay));
  PetscCall(VecGetArray(rho, &c.rho));
  PetscCall(PetscStrbeginswith(spec, "file:", &isfile));
  if (isfile) {
    PetscCall(FillFromFile(&c, spec));
    found = PETSC_TRUE;
  }
  for (size_t i = 0; !found && i < sizeof(registry) / sizeof(registry[0]); i++) {
    PetscCall(PetscStrcmp(spec, registry[i].name, &found));
    if (found) PetscCall(registry[i].fill(&c));
  }
  PetscCall(AcceptedNames(accepted, sizeof(accepted)));
  PetscCheck(found, PETSC_COMM_WORLD, KF_ERR_INPUT, "-%s %s: unknown density; accepted: %s", role, spec, accepted);
  PetscCall(CheckAndNormalise(&c, spec, rho));
  PetscCall(VecRestoreArray(rho, &c.rho));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Fills a scratch vector with every entry so that each one registers (and -help prints) its options. */
PetscErrorCode KfDensityHelp(KfSpectral sp, const KfParams *p, const char role[])
{
  Vec scratch;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralCreateVec(sp, &scratch));
  for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) PetscCall(KfDensityFill(sp, p, role, registry[i].name, scratch));
  PetscCall(VecDestroy(&scratch));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfDensityCoefficients(const KfParams *p, const char role[], const char spec[], KfComplex **chat)
{
  KfSpectral         sp;
  Vec                rho;
  const PetscScalar *v;
  PetscInt64         N = 1;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < p->dim; j++) N *= p->n[j];
  PetscCall(KfSpectralCreate(PETSC_COMM_SELF, p->dim, p->n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfSpectralCreateVec(sp, &rho));
  PetscCall(KfDensityFill(sp, p, role, spec, rho));
  PetscCall(PetscMalloc1(N, chat));
  PetscCall(VecGetArrayRead(rho, &v));
  for (PetscInt64 i = 0; i < N; i++) (*chat)[i] = v[i];
  PetscCall(VecRestoreArrayRead(rho, &v));
  PetscCall(VecDestroy(&rho));
  PetscCall(KfSpectralDestroy(&sp));
  PetscCall(KfSpectralSerialDFT(p->dim, p->n, *chat, PETSC_TRUE));
  for (PetscInt64 i = 0; i < N; i++) (*chat)[i] /= (PetscReal)N;
  PetscFunctionReturn(PETSC_SUCCESS);
}
