/* pde.c - right-hand side and diagnostics of d_t rho = div(rho grad u), u = K_s * (rho - nu) */
#include "kf_pde.h"
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
  PetscScalar            *grad, *flux;
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

PetscErrorCode KfPdeCreate(KfSpectral sp, const KfParams *p, Vec nu, KfPde *out)
{
  KfPde              pde;
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&pde));
  pde->sp      = sp;
  pde->dealias = p->dealias;
  PetscCall(PetscObjectGetComm((PetscObject)nu, &pde->comm));
  PetscCall(KfSpectralGetLayout(sp, &pde->lay));
  PetscCall(SetupTables(pde, p));
  PetscCall(KfSpectralAllocModes(sp, &pde->nuhat));
  PetscCall(KfSpectralAllocModes(sp, &pde->rhohat));
  PetscCall(KfSpectralAllocModes(sp, &pde->uhat));
  PetscCall(KfSpectralAllocModes(sp, &pde->work));
  PetscCall(KfSpectralAllocModes(sp, &pde->acc));
  PetscCall(PetscMalloc2(PetscMax(pde->lay->nlocal, 1), &pde->grad, PetscMax(pde->lay->nlocal, 1), &pde->flux));
  PetscCall(VecGetArrayRead(nu, &a));
  PetscCall(KfSpectralForward(sp, a, pde->nuhat));
  PetscCall(VecRestoreArrayRead(nu, &a));
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
  PetscCall(PetscFree2((*pde)->grad, (*pde)->flux));
  PetscCall(PetscFree(*pde));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt KfPdeFFTsPerRHS(KfPde pde)
{
  return 2 * pde->lay->dim + 2;
}

/* rhohat = F[rho], uhat = lambda (rhohat - nuhat) */
static PetscErrorCode Potential(KfPde pde, const PetscScalar rho[])
{
  PetscFunctionBeginUser;
  PetscCall(KfSpectralForward(pde->sp, rho, pde->rhohat));
  for (PetscInt m = 0; m < pde->lay->nmodes; m++) pde->uhat[m] = pde->lambda[m] * (pde->rhohat[m] - pde->nuhat[m]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* out = i k_j in (add: out += i k_j in) */
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
  PetscCall(PetscArrayzero(pde->acc, pde->lay->nmodes));
  for (PetscInt j = 0; j < pde->lay->dim; j++) {
    Derivative(pde, j, pde->uhat, pde->work, PETSC_FALSE);
    PetscCall(KfSpectralBackward(pde->sp, pde->work, pde->grad));
    for (PetscInt i = 0; i < n; i++) pde->flux[i] = rho[i] * pde->grad[i];
    PetscCall(KfSpectralForward(pde->sp, pde->flux, pde->work));
    Derivative(pde, j, pde->work, pde->acc, PETSC_TRUE);
  }
  PetscCall(VecRestoreArrayRead(U, &rho));
  if (pde->dealias) Mask(pde, pde->acc);
  PetscCall(VecGetArray(F, &f));
  PetscCall(KfSpectralBackward(pde->sp, pde->acc, f));
  PetscCall(VecRestoreArray(F, &f));
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

/* E = 1/2 sum_k lambda |rhohat - nuhat|^2 over Z^d; dissipation = int rho |grad u|^2 dm_L. */
PetscErrorCode KfPdeDiagnostics(KfPde pde, PetscReal t, Vec U, KfPdeDiag *diag)
{
  const KfSpectralLayout *lay = pde->lay;
  const PetscScalar      *rho;
  PetscReal               loc[3] = {0, 0, 0}, glob[3]; /* energy, dissipation, mass sums */

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(U, &rho));
  PetscCall(Potential(pde, rho));
  FOR_MODES(lay, m)
  {
    const KfComplex e     = pde->rhohat[m] - pde->nuhat[m];
    const PetscInt  ilast = lay->dim == 3 ? lay->kstart[2] + i2 : lay->kstart[1] + i1;

    (void)i0;
    loc[0] += 0.5 * KfModeWeight(lay, ilast) * pde->lambda[m] * (creal(e) * creal(e) + cimag(e) * cimag(e));
  }
  for (PetscInt j = 0; j < lay->dim; j++) {
    Derivative(pde, j, pde->uhat, pde->work, PETSC_FALSE);
    PetscCall(KfSpectralBackward(pde->sp, pde->work, pde->grad));
    for (PetscInt i = 0; i < lay->nlocal; i++) loc[1] += rho[i] * pde->grad[i] * pde->grad[i];
  }
  for (PetscInt i = 0; i < lay->nlocal; i++) loc[2] += rho[i];
  PetscCall(VecRestoreArrayRead(U, &rho));
  PetscCallMPI(MPI_Allreduce(loc, glob, 3, MPIU_REAL, MPI_SUM, pde->comm));
  diag->time        = t;
  diag->energy      = glob[0];
  diag->dissipation = glob[1] / (PetscReal)lay->ntotal;
  diag->mass        = glob[2] / (PetscReal)lay->ntotal;
  PetscCall(VecMin(U, NULL, &diag->rho_min));
  PetscCall(VecMax(U, NULL, &diag->rho_max));
  PetscCall(PetscLogEventEnd(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
