/* test_particles.c - the particle right-hand side and energy against an independent direct sum (math spec
   A.4, G8), for the paths that are not pure ring sums: Ewald in d = 2, 3 (ring over the short part plus
   structure factors of the long part) and targets given on a grid (field from the grid's modes).

   Oracle: every position gathered on every rank, then for each local particle a double loop over the full
   kernel KfKernelEval (for sobolev d >= 2: KfEwaldEval, which sums the long part pair by pair with its own
   phase tables, not through structure factors); the grid target's K * nu either by quadrature over the grid
   (periodised gaussian: the integrand is band-limited, so the trapezoid rule is exact) or by a direct DFT of
   the grid values and the multiplier lambda_s over all non-Nyquist modes (sobolev). */
#include <math.h>
#include <string.h>
#include "kf_density.h"
#include "kf_particles.h"
#include "kf_test.h"

typedef struct {
  const char *name;
  const char *opts; /* options of the case, "-name value ..." */
} Case;

static const Case cases[] = {
    {"ewald d=2 s=1 (log kernel), uniform nu", "-dim 2 -s 1 -particles 150"},
    {"ewald d=2 s=1.5, uniform nu", "-dim 2 -s 1.5 -particles 97 -L 1"},
    {"ewald d=3 s=1 (Coulomb), uniform nu", "-dim 3 -s 1 -particles 60"},
    {"ewald d=3 s=2.25, uniform nu", "-dim 3 -s 2.25 -particles 41 -ewald_tol 1e-10"},
    {"sobolev d=1 s=1, grid target cos", "-dim 1 -s 1 -particles 50 -target cos -n 32"},
    {"ewald d=2 s=1, grid target cos", "-dim 2 -s 1 -particles 70 -target cos -n 16"},
    {"periodic gaussian d=2, uniform nu (constant field)", "-dim 2 -kernel gaussian -kernel_h 0.8 -particles 80"},
    {"periodic gaussian d=2, grid target gaussians", "-dim 2 -kernel gaussian -kernel_h 0.8 -particles 80 -target gaussians -target_gaussians_widths 0.9 -n 32"},
};

/* K * nu at x and its gradient, independently of src/particles.c. */
typedef struct {
  KfKernel   k;
  PetscInt   dim, n, npts;
  PetscReal  L, c0;
  PetscBool  sobolev;
  PetscReal *nu;            /* grid values, normalised to mean 1 */
  PetscInt  *kv;            /* sobolev: all non-Nyquist modes */
  PetscReal *lre, *lim;     /* lambda_k nu^(k) */
  PetscInt   nk;
} Target;

static void GridPoint(const Target *T, PetscInt g, PetscReal y[])
{
  for (PetscInt c = T->dim - 1; c >= 0; c--, g /= T->n) y[c] = T->L * (PetscReal)(g % T->n) / (PetscReal)T->n;
}

static PetscErrorCode TargetSetUp(const KfParams *p, KfKernel k, Target *T)
{
  KfSpectral         sp;
  Vec                v;
  const PetscScalar *a;
  PetscInt           kz[3] = {0, 0, 0};
  PetscReal          mean = 0;
  char               desc[256];

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(T, sizeof(*T)));
  T->k   = k;
  T->dim = p->dim;
  T->L   = p->L;
  T->n   = p->n[0];
  PetscCall(KfKernelDescribe(k, desc, sizeof(desc)));
  T->sobolev = (PetscBool)!strncmp(desc, "sobolev", 7);
  PetscCall(KfKernelFourierCoefficient(k, kz, &T->c0));
  if (!strcmp(p->target, "uniform")) PetscFunctionReturn(PETSC_SUCCESS);
  T->npts = 1;
  for (PetscInt c = 0; c < T->dim; c++) T->npts *= T->n;
  PetscCall(KfSpectralCreate(PETSC_COMM_SELF, T->dim, p->n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfSpectralCreateVec(sp, &v));
  PetscCall(KfDensityFill(sp, p, "target", p->target, v));
  PetscCall(PetscMalloc1(T->npts, &T->nu));
  PetscCall(VecGetArrayRead(v, &a));
  for (PetscInt g = 0; g < T->npts; g++) mean += (T->nu[g] = a[g]) / (PetscReal)T->npts;
  PetscCall(VecRestoreArrayRead(v, &a));
  for (PetscInt g = 0; g < T->npts; g++) T->nu[g] /= mean;
  PetscCall(VecDestroy(&v));
  PetscCall(KfSpectralDestroy(&sp));
  if (!T->sobolev) PetscFunctionReturn(PETSC_SUCCESS);
  /* direct DFT over every mode with |k_c| < n/2 */
  PetscCall(PetscMalloc3(T->npts * T->dim, &T->kv, T->npts, &T->lre, T->npts, &T->lim));
  for (PetscInt m = 0, idx; m < T->npts; m++) {
    PetscInt  kk[3], skip = 0, g2 = m;
    PetscReal re = 0, im = 0, lam, y[3];

    for (PetscInt c = T->dim - 1; c >= 0; c--, g2 /= T->n) {
      idx   = g2 % T->n;
      kk[c] = idx <= T->n / 2 ? idx : idx - T->n;
      if (2 * idx == T->n) skip = 1;
    }
    if (skip) continue;
    for (PetscInt g = 0; g < T->npts; g++) {
      PetscReal th = 0;

      GridPoint(T, g, y);
      for (PetscInt c = 0; c < T->dim; c++) th += 2 * PETSC_PI * (PetscReal)kk[c] * y[c] / T->L;
      re += T->nu[g] * cos(th) / (PetscReal)T->npts;
      im -= T->nu[g] * sin(th) / (PetscReal)T->npts;
    }
    PetscCall(KfKernelFourierCoefficient(k, kk, &lam));
    for (PetscInt c = 0; c < T->dim; c++) T->kv[T->nk * T->dim + c] = kk[c];
    T->lre[T->nk] = lam * re;
    T->lim[T->nk] = lam * im;
    T->nk++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TargetDestroy(Target *T)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(T->nu));
  if (T->kv) PetscCall(PetscFree3(T->kv, T->lre, T->lim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (K * nu)(x) and its gradient. */
static PetscErrorCode TargetEval(const Target *T, const PetscReal x[], PetscReal *pot, PetscReal grad[])
{
  PetscFunctionBeginUser;
  *pot = T->c0;
  for (PetscInt c = 0; c < T->dim; c++) grad[c] = 0;
  if (T->sobolev && T->nk) {
    for (PetscInt m = 0; m < T->nk; m++) {
      PetscReal th = 0;

      for (PetscInt c = 0; c < T->dim; c++) th += 2 * PETSC_PI * (PetscReal)T->kv[m * T->dim + c] * x[c] / T->L;
      *pot += T->lre[m] * cos(th) - T->lim[m] * sin(th);
      for (PetscInt c = 0; c < T->dim; c++) grad[c] -= 2 * PETSC_PI * (PetscReal)T->kv[m * T->dim + c] / T->L * (T->lre[m] * sin(th) + T->lim[m] * cos(th));
    }
  } else if (T->nu) {
    *pot = 0;
    for (PetscInt g = 0; g < T->npts; g++) {
      PetscReal y[3], r[3], K, gk[3];

      GridPoint(T, g, y);
      for (PetscInt c = 0; c < T->dim; c++) r[c] = x[c] - y[c];
      PetscCall(KfKernelEval(T->k, r, &K, gk));
      *pot += K * T->nu[g] / (PetscReal)T->npts;
      for (PetscInt c = 0; c < T->dim; c++) grad[c] += gk[c] * T->nu[g] / (PetscReal)T->npts;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* <nu, K * nu> by the same oracle: the mean of K * nu over the grid. */
static PetscErrorCode TargetEnergy(const Target *T, PetscReal *e)
{
  PetscFunctionBeginUser;
  *e = T->c0;
  if (!T->nu) PetscFunctionReturn(PETSC_SUCCESS);
  *e = 0;
  for (PetscInt g = 0; g < T->npts; g++) {
    PetscReal y[3], pot, grad[3];

    GridPoint(T, g, y);
    PetscCall(TargetEval(T, y, &pot, grad));
    *e += pot * T->nu[g] / (PetscReal)T->npts;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetOptions(const char opts[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsInsertString(NULL, "-mode particles -init uniform -seed 3 -quiet"));
  PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunCase(MPI_Comm comm, const Case *C)
{
  KfParams           p;
  KfParticles        P;
  KfKernel           k;
  Target             T;
  KfParticleDiag     dg;
  Vec                X, F, Xall;
  VecScatter         sc;
  const PetscScalar *x, *xa, *f;
  PetscInt64         N, start;
  PetscInt           nl, d;
  PetscReal          vmax = 0, eloc = 0, eref, enu, vtol;
  KfTestErr          ev;

  PetscFunctionBeginUser;
  PetscCall(SetOptions(C->opts));
  PetscCall(KfParamsSetFromOptions(comm, &p));
  d = p.dim;
  PetscCall(KfParticlesCreate(comm, &p, &P));
  PetscCall(KfKernelCreate(comm, &p, &k));
  PetscCall(TargetSetUp(&p, k, &T));
  PetscCall(KfParticlesGetState(P, &X));
  PetscCall(KfParticlesGetLocal(P, &N, &start, &nl));
  PetscCall(VecDuplicate(X, &F));
  PetscCall(KfParticlesRHSFunction(NULL, 0, X, F, P));
  PetscCall(KfParticlesDiagnostics(P, 0, X, &dg));
  PetscCall(VecScatterCreateToAll(X, &sc, &Xall));
  PetscCall(VecScatterBegin(sc, X, Xall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, X, Xall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArrayRead(Xall, &xa));
  PetscCall(VecGetArrayRead(F, &f));
  KfTestErrReset(&ev);
  for (PetscInt i = 0; i < nl; i++) {
    PetscReal v[3] = {0, 0, 0}, tp, tg[3], epair = 0;
    char      where[64];

    for (PetscInt64 j = 0; j < N; j++) {
      PetscReal r[3], K, g[3];

      if (j == start + i) continue;
      for (PetscInt c = 0; c < d; c++) r[c] = x[i * d + c] - xa[j * d + c];
      PetscCall(KfKernelEval(k, r, &K, g));
      for (PetscInt c = 0; c < d; c++) v[c] -= g[c] / (PetscReal)N;
      epair += K;
    }
    PetscCall(TargetEval(&T, &x[i * d], &tp, tg));
    eloc += epair / (2.0 * (PetscReal)N * (PetscReal)N) - tp / (PetscReal)N;
    for (PetscInt c = 0; c < d; c++) {
      v[c] += tg[c];
      vmax = PetscMax(vmax, PetscAbsReal(v[c]));
    }
    PetscCall(PetscSNPrintf(where, sizeof(where), "particle %" PetscInt64_FMT, start + i));
    for (PetscInt c = 0; c < d; c++) PetscCall(KfTestErrUpdate(&ev, PetscAbsReal(f[i * d + c] - v[c]), where));
  }
  PetscCall(VecRestoreArrayRead(F, &f));
  PetscCall(VecRestoreArrayRead(Xall, &xa));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &vmax, 1, MPIU_REAL, MPI_MAX, comm));
  PetscCallMPI(MPI_Allreduce(&eloc, &eref, 1, MPIU_REAL, MPI_SUM, comm));
  PetscCall(TargetEnergy(&T, &enu));
  eref += 0.5 * enu;
  vtol = 1e-11 * vmax;
  PetscCall(KfTestCheck(comm, C->name, "velocities = direct sum (abs, tol 1e-11 max|V|)", &ev, vtol));
  PetscCall(KfTestCheckValue(comm, C->name, "off-diagonal energy = direct sum (abs)", PetscAbsReal(dg.energy_off - eref), 1e-11 * PetscMax(1, PetscAbsReal(eref)), "energy"));
  PetscCall(TargetDestroy(&T));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&Xall));
  PetscCall(VecDestroy(&F));
  PetscCall(KfKernelDestroy(&k));
  PetscCall(KfParticlesDestroy(&P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  PetscFunctionBeginUser;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) PetscCall(RunCase(PETSC_COMM_WORLD, &cases[i]));
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  return KfTestMain(argc, argv, "Particle RHS and energy against direct sums\n", RunAll);
}
