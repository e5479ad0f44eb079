/* pde.c - right-hand side and diagnostics of the flows of F = [(1/2)||rho - nu||^2_{H^-s}] + sigma KL(rho | pi):
   d_t rho = beta div(rho grad V) - alpha rho (V - <V>_rho), V = [u] + sigma log(rho/pi), u = K_s * (rho - nu)
   (math spec A.4, D.1, D.7, F.1); beta = 1, alpha = 0 is the Wasserstein flow */
#include "kf_pde.h"
#include "kf_kernel.h"
#include "kf_log.h"
#include <complex.h>

const char *const KfPdeDiagNames[] = {"time", "energy", "mass", "rho_min", "rho_max", "dissipation"};

struct _p_KfPde {
  MPI_Comm                comm;
  KfSpectral              sp;
  const KfSpectralLayout *lay;
  PetscBool               dealias;
  PetscReal              *lambda;           /* lambda_s(k) per local mode, 0 at k = 0 */
  PetscReal              *kd[KF_MAX_DIM];   /* 2 pi k_j / L per local index on axis j, 0 at Nyquist */
  PetscBool              *keep[KF_MAX_DIM]; /* inside the 2/3 band on axis j */
  KfComplex              *nuhat, *rhohat, *uhat, *work, *acc;
  PetscScalar            *grad, *flux, *ureal;
  PetscReal               alpha, beta, sigma, kmd; /* kmd: 1 or 0, the weight of the KMD term */
  PetscScalar            *logpi, *dlogpi[KF_MAX_DIM]; /* log pi and its gradient on this rank's points (sigma > 0) */
  PetscReal              *stein; /* -flow stein: the Stein kernel's coefficients c_k per local mode (NULL otherwise) */
};

#define FOR_MODES(lay, m) \
  for (PetscInt i0 = 0, m = 0; i0 < (lay)->kcount[0]; i0++) \
    for (PetscInt i1 = 0; i1 < (lay)->kcount[1]; i1++) \
      for (PetscInt i2 = 0; i2 < (lay)->kcount[2]; i2++, m++)

static PetscErrorCode SetupTables(KfPde pde, const KfParams *p)
{
  const KfSpectralLayout *lay = pde->lay;
  const PetscReal         w   = 2 * PETSC_PI / p->L;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
    PetscCall(PetscMalloc2(lay->kcount[j], &pde->kd[j], lay->kcount[j], &pde->keep[j]));
    for (PetscInt i = 0; i < lay->kcount[j]; i++) {
      const PetscInt idx = lay->kstart[j] + i, k = KfWavenumber(idx, lay->n[j]);

      pde->kd[j][i]   = (lay->n[j] > 1 && 2 * idx == lay->n[j]) ? 0.0 : w * k;
      pde->keep[j][i] = (PetscBool)(3 * PetscAbsInt(k) < lay->n[j] || lay->n[j] == 1);
    }
  }
  PetscCall(PetscMalloc1(PetscMax(lay->nmodes, 1), &pde->lambda));
  FOR_MODES(lay, m)
  {
    const PetscInt k[KF_MAX_DIM] = {KfWavenumber(lay->kstart[0] + i0, lay->n[0]), KfWavenumber(lay->kstart[1] + i1, lay->n[1]), KfWavenumber(lay->kstart[2] + i2, lay->n[2])};
    PetscReal      k2            = 0;

    for (PetscInt j = 0; j < KF_MAX_DIM; j++) k2 += w * w * (PetscReal)k[j] * k[j];
    pde->lambda[m] = k2 > 0 ? PetscPowReal(k2, -p->s) : 0.0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* out = i k_j in (add: out += i k_j in) */
static void Derivative(KfPde, PetscInt, const KfComplex[], KfComplex[], PetscBool);

/* log pi and grad log pi = grad pi / pi (spectral gradient of pi) at this rank's grid points. */
static PetscErrorCode SetupReference(KfPde pde, Vec pi)
{
  const PetscInt     n = pde->lay->nlocal;
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(n, 1), &pde->logpi));
  PetscCall(VecGetArrayRead(pi, &a));
  for (PetscInt i = 0; i < n; i++) pde->logpi[i] = PetscLogReal(a[i]);
  PetscCall(KfSpectralForward(pde->sp, a, pde->rhohat));
  for (PetscInt j = 0; j < pde->lay->dim; j++) {
    PetscCall(PetscMalloc1(PetscMax(n, 1), &pde->dlogpi[j]));
    Derivative(pde, j, pde->rhohat, pde->work, PETSC_FALSE);
    PetscCall(KfSpectralBackward(pde->sp, pde->work, pde->dlogpi[j]));
    for (PetscInt i = 0; i < n; i++) pde->dlogpi[j][i] /= a[i];
  }
  PetscCall(VecRestoreArrayRead(pi, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coefficients c_k of the Stein kernel (periodised gaussian of width -stein_h): (K * f)^ = c_k f^ w.r.t. m_L. */
static PetscErrorCode SetupStein(KfPde pde, const KfParams *p)
{
  const KfSpectralLayout *lay = pde->lay;
  KfKernel                k;

  PetscFunctionBeginUser;
  PetscCall(KfKernelCreateGaussian(p->dim, KF_DOMAIN_TORUS, p->L, p->stein_h, &k));
  PetscCall(PetscMalloc1(PetscMax(lay->nmodes, 1), &pde->stein));
  FOR_MODES(lay, m)
  {
    const PetscInt kv[KF_MAX_DIM] = {KfWavenumber(lay->kstart[0] + i0, lay->n[0]), KfWavenumber(lay->kstart[1] + i1, lay->n[1]), KfWavenumber(lay->kstart[2] + i2, lay->n[2])};

    PetscCall(KfKernelFourierCoefficient(k, kv, &pde->stein[m]));
  }
  PetscCall(KfKernelDestroy(&k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* flux = K * flux (the Stein kernel's convolution w.r.t. m_L), in place on this rank's points. */
static PetscErrorCode SteinSmooth(KfPde pde, PetscScalar flux[])
{
  PetscFunctionBeginUser;
  PetscCall(KfSpectralForward(pde->sp, flux, pde->work));
  for (PetscInt m = 0; m < pde->lay->nmodes; m++) pde->work[m] *= pde->stein[m];
  PetscCall(KfSpectralBackward(pde->sp, pde->work, flux));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfPdeCreate(KfSpectral sp, const KfParams *p, Vec nu, Vec pi, KfPde *out)
{
  KfPde              pde;
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&pde));
  pde->sp      = sp;
  pde->dealias = p->dealias;
  pde->alpha   = p->alpha;
  pde->beta    = p->beta;
  pde->sigma   = p->sigma;
  pde->kmd     = p->kmd ? 1.0 : 0.0;
  PetscCall(PetscObjectGetComm((PetscObject)nu, &pde->comm));
  PetscCall(KfSpectralGetLayout(sp, &pde->lay));
  PetscCall(SetupTables(pde, p));
  PetscCall(KfSpectralAllocModes(sp, &pde->nuhat));
  PetscCall(KfSpectralAllocModes(sp, &pde->rhohat));
  PetscCall(KfSpectralAllocModes(sp, &pde->uhat));
  PetscCall(KfSpectralAllocModes(sp, &pde->work));
  PetscCall(KfSpectralAllocModes(sp, &pde->acc));
  PetscCall(PetscMalloc3(PetscMax(pde->lay->nlocal, 1), &pde->grad, PetscMax(pde->lay->nlocal, 1), &pde->flux, PetscMax(pde->lay->nlocal, 1), &pde->ureal));
  PetscCall(VecGetArrayRead(nu, &a));
  PetscCall(KfSpectralForward(sp, a, pde->nuhat));
  PetscCall(VecRestoreArrayRead(nu, &a));
  if (pde->sigma > 0) PetscCall(SetupReference(pde, pi));
  if (p->flow == KF_FLOW_STEIN) PetscCall(SetupStein(pde, p));
  *out = pde;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfPdeDestroy(KfPde *pde)
{
  PetscFunctionBeginUser;
  if (!*pde) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) PetscCall(PetscFree2((*pde)->kd[j], (*pde)->keep[j]));
  PetscCall(PetscFree((*pde)->lambda));
  PetscCall(KfSpectralFreeModes(&(*pde)->nuhat));
  PetscCall(KfSpectralFreeModes(&(*pde)->rhohat));
  PetscCall(KfSpectralFreeModes(&(*pde)->uhat));
  PetscCall(KfSpectralFreeModes(&(*pde)->work));
  PetscCall(KfSpectralFreeModes(&(*pde)->acc));
  PetscCall(PetscFree3((*pde)->grad, (*pde)->flux, (*pde)->ureal));
  PetscCall(PetscFree((*pde)->logpi));
  PetscCall(PetscFree((*pde)->stein));
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) PetscCall(PetscFree((*pde)->dlogpi[j]));
  PetscCall(PetscFree(*pde));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt KfPdeFFTsPerRHS(KfPde pde)
{
  PetscInt n = 1;

  if (pde->beta > 0) n += 1 + pde->lay->dim * (2 + (pde->sigma > 0) + 2 * (pde->stein != NULL));
  if (pde->alpha > 0 && pde->kmd > 0) n += 1;
  return n;
}

/* rhohat = F[rho], uhat = lambda (rhohat - nuhat) (0 without the KMD term) */
static PetscErrorCode Potential(KfPde pde, const PetscScalar rho[])
{
  PetscFunctionBeginUser;
  PetscCall(KfSpectralForward(pde->sp, rho, pde->rhohat));
  for (PetscInt m = 0; m < pde->lay->nmodes; m++) pde->uhat[m] = pde->kmd * pde->lambda[m] * (pde->rhohat[m] - pde->nuhat[m]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void Derivative(KfPde pde, PetscInt j, const KfComplex in[], KfComplex out[], PetscBool add)
{
  const PetscReal *kd = pde->kd[j];

  FOR_MODES(pde->lay, m)
  {
    const PetscInt  idx[KF_MAX_DIM] = {i0, i1, i2};
    const PetscReal k               = kd[idx[j]];
    const KfComplex v               = CMPLX(-k * cimag(in[m]), k * creal(in[m])); /* not I*k*in: avoids __muldc3 */

    out[m] = add ? out[m] + v : v;
  }
}

static void Mask(KfPde pde, KfComplex a[])
{
  FOR_MODES(pde->lay, m) if (!(pde->keep[0][i0] && pde->keep[1][i1] && pde->keep[2][i2])) a[m] = 0;
}

/* grad_j V at this rank's points into pde->grad: [d_j u] + sigma (d_j rho / rho - d_j log pi); needs Potential(). */
static PetscErrorCode GradV(KfPde pde, PetscInt j, const PetscScalar rho[])
{
  const PetscInt n = pde->lay->nlocal;

  PetscFunctionBeginUser;
  Derivative(pde, j, pde->uhat, pde->work, PETSC_FALSE);
  PetscCall(KfSpectralBackward(pde->sp, pde->work, pde->grad));
  if (pde->sigma > 0) {
    Derivative(pde, j, pde->rhohat, pde->work, PETSC_FALSE);
    PetscCall(KfSpectralBackward(pde->sp, pde->work, pde->flux));
    for (PetscInt i = 0; i < n; i++) pde->grad[i] += pde->sigma * (pde->flux[i] / rho[i] - pde->dlogpi[j][i]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* acc = F[div(rho grad V)]: the transport part (rho grad log rho = grad rho, so no division by rho). */
static PetscErrorCode Transport(KfPde pde, const PetscScalar rho[])
{
  const PetscInt n = pde->lay->nlocal;

  PetscFunctionBeginUser;
  PetscCall(PetscArrayzero(pde->acc, pde->lay->nmodes));
  for (PetscInt j = 0; j < pde->lay->dim; j++) {
    Derivative(pde, j, pde->uhat, pde->work, PETSC_FALSE);
    PetscCall(KfSpectralBackward(pde->sp, pde->work, pde->grad));
    for (PetscInt i = 0; i < n; i++) pde->flux[i] = rho[i] * pde->grad[i];
    if (pde->sigma > 0) {
      Derivative(pde, j, pde->rhohat, pde->work, PETSC_FALSE);
      PetscCall(KfSpectralBackward(pde->sp, pde->work, pde->grad));
      for (PetscInt i = 0; i < n; i++) pde->flux[i] += pde->sigma * (pde->grad[i] - rho[i] * pde->dlogpi[j][i]);
    }
    if (pde->stein) { /* Stein: the velocity is -K * (rho grad V), the flux rho times it */
      PetscCall(SteinSmooth(pde, pde->flux));
      for (PetscInt i = 0; i < n; i++) pde->flux[i] *= rho[i];
    }
    PetscCall(KfSpectralForward(pde->sp, pde->flux, pde->work));
    Derivative(pde, j, pde->work, pde->acc, PETSC_TRUE);
  }
  if (pde->dealias) Mask(pde, pde->acc);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  V = [u] + sigma log(rho/pi) at this rank's points into pde->ureal, and the global means <V>_rho and <V^2>_rho
  (rho-weighted, divided by the mass). The entropy needs rho > 0: a state with rho <= 0 is a collective error.
*/
static PetscErrorCode PotentialV(KfPde pde, const PetscScalar rho[], PetscReal *vbar, PetscReal *v2bar)
{
  const PetscInt n = pde->lay->nlocal;
  PetscReal      loc[4] = {0, 0, 0, 0}, glob[4];

  PetscFunctionBeginUser;
  if (pde->kmd > 0) PetscCall(KfSpectralBackward(pde->sp, pde->uhat, pde->ureal));
  else PetscCall(PetscArrayzero(pde->ureal, n));
  for (PetscInt i = 0; i < n; i++) {
    if (pde->sigma > 0) {
      if (!(rho[i] > 0)) loc[3] += 1;
      else pde->ureal[i] += pde->sigma * (PetscLogReal(rho[i]) - pde->logpi[i]);
    }
    loc[0] += rho[i];
    loc[1] += rho[i] * pde->ureal[i];
    loc[2] += rho[i] * pde->ureal[i] * pde->ureal[i];
  }
  PetscCallMPI(MPI_Allreduce(loc, glob, 4, MPIU_REAL, MPI_SUM, pde->comm));
  PetscCheck(glob[3] == 0, pde->comm, KF_ERR_NONFINITE, "the density reached %s <= 0 at %.0f grid points: the entropy sigma log(rho/pi) needs rho > 0; use a smaller -ts_dt or tighter -ts_rtol/-ts_atol (or a smaller -wfr_beta)", "rho", (double)glob[3]);
  *vbar  = glob[1] / glob[0];
  *v2bar = glob[2] / glob[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfPdeRHSFunction(TS ts, PetscReal t, Vec U, Vec F, void *ctx)
{
  KfPde              pde = (KfPde)ctx;
  const PetscInt     n = pde->lay->nlocal;
  const PetscScalar *rho;
  PetscScalar       *f;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_PDE_RHS, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(U, &rho));
  PetscCall(Potential(pde, rho));
  PetscCall(VecGetArray(F, &f));
  if (pde->beta > 0) {
    PetscCall(Transport(pde, rho));
    PetscCall(KfSpectralBackward(pde->sp, pde->acc, f));
    for (PetscInt i = 0; i < n && pde->beta != 1; i++) f[i] *= pde->beta;
  } else PetscCall(PetscArrayzero(f, n));
  if (pde->alpha > 0) {
    PetscReal vbar, v2bar;

    PetscCall(PotentialV(pde, rho, &vbar, &v2bar));
    for (PetscInt i = 0; i < n; i++) f[i] -= pde->alpha * rho[i] * (pde->ureal[i] - vbar);
  }
  if (pde->dealias && pde->alpha > 0) { /* the reaction term leaves the 2/3 band too */
    PetscCall(KfSpectralForward(pde->sp, f, pde->work));
    Mask(pde, pde->work);
    PetscCall(KfSpectralBackward(pde->sp, pde->work, f));
  }
  PetscCall(VecRestoreArray(F, &f));
  PetscCall(VecRestoreArrayRead(U, &rho));
  PetscCall(PetscLogFlops(2.0 * pde->lay->dim * (2.0 * pde->lay->nmodes + n)));
  PetscCall(PetscLogEventEnd(KF_EVENT_PDE_RHS, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfPdeProject(KfPde pde, Vec rho)
{
  PetscScalar *a;

  PetscFunctionBeginUser;
  if (!pde->dealias) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetArray(rho, &a));
  PetscCall(KfSpectralForward(pde->sp, a, pde->work));
  Mask(pde, pde->work);
  PetscCall(KfSpectralBackward(pde->sp, pde->work, a));
  PetscCall(VecRestoreArray(rho, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  E = [1/2 sum_k lambda |rhohat - nuhat|^2] + sigma int rho log(rho/pi) dm_L; dissipation -dE/dt =
  beta int rho |grad V|^2 dm_L + alpha (<V^2>_rho - <V>_rho^2) mass (math spec A.4, D.1, F.1).
*/
PetscErrorCode KfPdeDiagnostics(KfPde pde, PetscReal t, Vec U, KfPdeDiag *diag)
{
  const KfSpectralLayout *lay = pde->lay;
  const PetscScalar      *rho;
  PetscReal               loc[4] = {0, 0, 0, 0}, glob[4]; /* energy, transport dissipation, mass, entropy sums */

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(U, &rho));
  PetscCall(Potential(pde, rho));
  FOR_MODES(lay, m)
  {
    const KfComplex e     = pde->rhohat[m] - pde->nuhat[m];
    const PetscInt  ilast = lay->dim == 3 ? lay->kstart[2] + i2 : lay->kstart[1] + i1;

    (void)i0;
    loc[0] += 0.5 * pde->kmd * KfModeWeight(lay, ilast) * pde->lambda[m] * (creal(e) * creal(e) + cimag(e) * cimag(e));
  }
  for (PetscInt j = 0; j < lay->dim && pde->beta > 0; j++) {
    PetscCall(GradV(pde, j, rho));
    if (pde->stein) { /* int (rho d_j V) K * (rho d_j V) dm_L */
      for (PetscInt i = 0; i < lay->nlocal; i++) pde->flux[i] = rho[i] * pde->grad[i];
      PetscCall(PetscArraycpy(pde->ureal, pde->flux, lay->nlocal));
      PetscCall(SteinSmooth(pde, pde->flux));
      for (PetscInt i = 0; i < lay->nlocal; i++) loc[1] += pde->ureal[i] * pde->flux[i];
    } else
      for (PetscInt i = 0; i < lay->nlocal; i++) loc[1] += rho[i] * pde->grad[i] * pde->grad[i];
  }
  for (PetscInt i = 0; i < lay->nlocal; i++) {
    loc[2] += rho[i];
    if (pde->sigma > 0) loc[3] += rho[i] > 0 ? rho[i] * (PetscLogReal(rho[i]) - pde->logpi[i]) : (rho[i] < 0 ? NAN : 0);
  }
  PetscCallMPI(MPI_Allreduce(loc, glob, 4, MPIU_REAL, MPI_SUM, pde->comm));
  diag->time        = t;
  diag->energy      = glob[0] + pde->sigma * glob[3] / (PetscReal)lay->ntotal;
  diag->dissipation = pde->beta * glob[1] / (PetscReal)lay->ntotal;
  diag->mass        = glob[2] / (PetscReal)lay->ntotal;
  if (pde->alpha > 0) {
    PetscReal vbar, v2bar;

    PetscCall(PotentialV(pde, rho, &vbar, &v2bar));
    diag->dissipation += pde->alpha * (v2bar - vbar * vbar) * diag->mass;
  }
  PetscCall(VecRestoreArrayRead(U, &rho));
  PetscCall(VecMin(U, NULL, &diag->rho_min));
  PetscCall(VecMax(U, NULL, &diag->rho_max));
  PetscCall(PetscLogEventEnd(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
