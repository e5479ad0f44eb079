/* particles.c - the N-particle Wasserstein flow: dX_i/dt = -(1/N) sum_j grad K(X_i - X_j) + grad(K * nu)(X_i)
   (math spec A.4, B.6), all sums by the ring (src/ring.c), so every rank count gives the same bits */
#include <math.h>
#include "kf_io.h"
#include "kf_log.h"
#include "kf_particles.h"
#include "kf_rng.h"

typedef enum {
  KF_PINIT_IID,
  KF_PINIT_LATTICE
} KfParticleInit;
static const char *const KfParticleInits[] = {"iid", "lattice", "KfParticleInit", "KF_PINIT_", NULL};

struct _p_KfParticles {
  MPI_Comm        comm;
  const KfParams *p;
  KfKernel        kernel;
  KfDomain        domain;
  PetscReal       k0; /* K(0) if finite, else 0 */
  PetscBool       k0_finite;
  PetscInt        dim, nlocal, ldt;
  PetscInt64      N, start;
  KfRing          ring; /* the particles */
  Vec             X;
  PetscReal      *xt, *xs, *qs, *grad, *pot; /* SoA work arrays of the local block */
  /* target samples (nu = (1/M) sum delta_Y), distributed by their own ring */
  KfRing          sring;
  PetscInt64      M;
  PetscInt        mlocal;
  PetscReal      *ys, *qy, *sgrad, *spot;
  PetscReal       nu_energy; /* <nu, K * nu> */
  char            init[KF_SPEC_LEN], samples[KF_SPEC_LEN];
  KfParticleInit  pinit;
};

static PetscErrorCode SplitFileSpec(const char opt[], const char spec[], char path[], size_t len, const char **dataset)
{
  char *colon;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(path, spec + 5, len));
  colon = strrchr(path, ':');
  PetscCheck(colon && colon != path && colon[1], PETSC_COMM_WORLD, KF_ERR_INPUT, "%s %s: expected file:PATH:DATASET", opt, spec);
  *colon   = 0;
  *dataset = spec + 5 + (colon - path) + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The particle-mode options; -help lists them through the same calls. */
static PetscErrorCode ParticleOptions(MPI_Comm comm, PetscReal *n, PetscInt *pinit, char samples[], size_t len, PetscInt *leaf)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(comm, NULL, "Particle mode", "kmdflow");
  PetscCall(KfOptionsReal(PetscOptionsObject, "-particles", "Number of particles N (>= 1)", *n, 1, 1e15, PETSC_FALSE, n, NULL));
  PetscCheck(*n == PetscFloorReal(*n), comm, KF_ERR_INPUT, "-particles %s: expected an integer >= 1", KF_NUM(*n));
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-particle_init", "How particles are drawn from -init: iid (counter-based, keyed by seed and id) or lattice (equispaced, N = m^d)", KfParticleInits, *pinit, pinit));
  PetscCall(PetscOptionsString("-target_samples", "Target nu as M samples: file:PATH:DATASET with an M x d float64 array (they join the ring as charges -1/M)", "kmdflow", samples, samples, len, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-ring_leaf", "Particles per leaf of the reproducible summation tree (0: chosen from N only)", *leaf, 0, 1 << 24, leaf, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadOptions(KfParticles P)
{
  PetscInt  pinit = KF_PINIT_IID, leaf = 0;
  PetscReal n     = 1000;

  PetscFunctionBeginUser;
  PetscCall(ParticleOptions(P->comm, &n, &pinit, P->samples, sizeof(P->samples), &leaf));
  P->N     = (PetscInt64)n;
  P->pinit = (KfParticleInit)pinit;
  PetscCall(KfRingCreate(P->comm, P->dim, P->N, leaf, &P->ring));
  PetscCall(KfRingGetLocal(P->ring, &P->nlocal, &P->start));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Positions drawn from -init (only the uniform density for now, or a file of N x d points). */
static PetscErrorCode InitPositions(KfParticles P)
{
  const PetscReal L = P->p->L;
  PetscScalar    *x;
  PetscBool       isfile, uniform;

  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(P->comm, P->nlocal * P->dim, (PetscInt)(P->N * P->dim), &P->X));
  PetscCall(VecGetArray(P->X, &x));
  PetscCall(PetscStrbeginswith(P->p->init, "file:", &isfile));
  PetscCall(PetscStrcmp(P->p->init, "uniform", &uniform));
  if (isfile) {
    char        path[PETSC_MAX_PATH_LEN];
    const char *dset;

    PetscCall(SplitFileSpec("-init", P->p->init, path, sizeof(path), &dset));
    PetscCall(KfIOReadRows(P->comm, path, dset, P->N, P->dim, P->start, P->nlocal, x, "init"));
  } else if (P->pinit == KF_PINIT_LATTICE) {
    const PetscInt m = (PetscInt)PetscFloorReal(PetscPowReal((PetscReal)P->N, 1.0 / P->dim) + 0.5);
    PetscInt64     mm = 1;

    for (PetscInt c = 0; c < P->dim; c++) mm *= m;
    PetscCheck(mm == P->N, P->comm, KF_ERR_INPUT, "-particle_init lattice: -particles %" PetscInt64_FMT " is not a %" PetscInt_FMT "-th power", P->N, P->dim);
    for (PetscInt i = 0; i < P->nlocal; i++) {
      PetscInt64 id = P->start + i;

      for (PetscInt c = P->dim - 1; c >= 0; c--, id /= m) x[i * P->dim + c] = L * ((PetscReal)(id % m) + 0.5) / m;
    }
  } else {
    PetscCheck(uniform, P->comm, KF_ERR_INPUT, "-init %s: particle mode draws from -init uniform or -init file:PATH:DATASET (an N x d array) so far", P->p->init);
    for (PetscInt i = 0; i < P->nlocal; i++)
      for (PetscInt c = 0; c < P->dim; c++) x[i * P->dim + c] = L * KfRngUniform((uint64_t)P->p->seed, (uint64_t)c, (uint64_t)(P->start + i));
  }
  for (PetscInt i = 0; i < P->nlocal * P->dim; i++) PetscCheck(isfinite(x[i]), PETSC_COMM_SELF, KF_ERR_INPUT, "-init %s: non-finite position of particle %" PetscInt64_FMT, P->p->init, P->start + i / P->dim);
  PetscCall(VecRestoreArray(P->X, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Wrap(PetscReal x, PetscReal L)
{
  PetscReal y = x - L * PetscFloorReal(x / L);

  return y >= L ? 0 : y; /* x slightly below 0 rounds to L */
}

/* Row-major positions into the SoA target and source blocks (wrapped on the torus); padding lanes at 0. */
static void LoadBlock(KfParticles P, const PetscScalar x[], PetscReal xt[], PetscReal xs[])
{
  for (PetscInt c = 0; c < P->dim; c++) {
    for (PetscInt i = 0; i < P->nlocal; i++) {
      const PetscReal v = P->domain == KF_DOMAIN_TORUS ? Wrap(x[i * P->dim + c], P->p->L) : x[i * P->dim + c];

      xt[c * P->ldt + i] = v;
      if (xs) xs[c * P->nlocal + i] = v;
    }
    for (PetscInt i = P->nlocal; i < P->ldt; i++) xt[c * P->ldt + i] = 0;
  }
}

static PetscErrorCode SetupSamples(KfParticles P)
{
  char        path[PETSC_MAX_PATH_LEN];
  const char *dset;
  PetscInt64  mstart;
  PetscReal  *rows, *yt, *g;
  PetscInt    ldm;

  PetscFunctionBeginUser;
  if (!P->samples[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(!strncmp(P->samples, "file:", 5), P->comm, KF_ERR_INPUT, "-target_samples %s: expected file:PATH:DATASET", P->samples);
  PetscCall(SplitFileSpec("-target_samples", P->samples, path, sizeof(path), &dset));
  PetscCall(KfIORowCount(P->comm, path, dset, P->dim, "target_samples", &P->M));
  PetscCall(KfRingCreate(P->comm, P->dim, P->M, 0, &P->sring));
  PetscCall(KfRingGetLocal(P->sring, &P->mlocal, &mstart));
  PetscCall(PetscMalloc1(P->dim * PetscMax(1, P->mlocal), &rows));
  PetscCall(PetscMalloc1(P->dim * PetscMax(1, P->mlocal), &P->ys));
  PetscCall(PetscMalloc1(PetscMax(1, P->mlocal), &P->qy));
  PetscCall(KfIOReadRows(P->comm, path, dset, P->M, P->dim, mstart, P->mlocal, rows, "target_samples"));
  for (PetscInt i = 0; i < P->mlocal; i++) {
    P->qy[i] = 1.0 / (PetscReal)P->M;
    for (PetscInt c = 0; c < P->dim; c++) {
      PetscCheck(isfinite(rows[i * P->dim + c]), PETSC_COMM_SELF, KF_ERR_INPUT, "-target_samples %s: non-finite value in row %" PetscInt64_FMT, P->samples, mstart + i);
      P->ys[c * P->mlocal + i] = P->domain == KF_DOMAIN_TORUS ? Wrap(rows[i * P->dim + c], P->p->L) : rows[i * P->dim + c];
    }
  }
  /* <nu, K * nu> once: the samples against themselves */
  ldm = (P->mlocal + KF_KERNEL_WIDTH - 1) / KF_KERNEL_WIDTH * KF_KERNEL_WIDTH;
  PetscCall(PetscCalloc3(P->dim * PetscMax(ldm, 1), &yt, P->dim * PetscMax(ldm, 1), &g, PetscMax(ldm, 1), &P->spot));
  for (PetscInt c = 0; c < P->dim; c++) PetscCall(PetscArraycpy(yt + c * ldm, P->ys + c * P->mlocal, P->mlocal));
  PetscCall(KfRingSum(P->sring, P->kernel, P->mlocal, ldm, yt, P->ys, P->qy, g, P->spot));
  for (PetscInt i = 0; i < P->mlocal; i++) P->spot[i] *= P->qy[i];
  PetscCall(KfRingReduce(P->sring, 1, P->spot, &P->nu_energy));
  PetscCall(PetscFree3(yt, g, P->spot));
  PetscCall(PetscFree(rows));
  PetscCall(PetscMalloc2(P->dim * P->ldt, &P->sgrad, P->ldt, &P->spot));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesCreate(MPI_Comm comm, const KfParams *p, KfParticles *out)
{
  KfParticles P;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&P));
  P->comm = comm;
  P->p    = p;
  P->dim  = p->dim;
  PetscCall(KfKernelCreate(comm, p, &P->kernel));
  PetscCall(KfKernelGetDomain(P->kernel, &P->domain));
  PetscCall(KfKernelSelfValue(P->kernel, &P->k0, &P->k0_finite));
  PetscCall(ReadOptions(P));
  PetscCheck(P->domain == KF_DOMAIN_FREE || !strcmp(p->target, "uniform"), comm, KF_ERR_INPUT, "-target %s: particle mode on the torus supports -target uniform and -target_samples so far", p->target);
  P->ldt = PetscMax(KF_KERNEL_WIDTH, (P->nlocal + KF_KERNEL_WIDTH - 1) / KF_KERNEL_WIDTH * KF_KERNEL_WIDTH);
  PetscCall(PetscCalloc5(P->dim * P->ldt, &P->xt, P->dim * PetscMax(1, P->nlocal), &P->xs, PetscMax(1, P->nlocal), &P->qs, P->dim * P->ldt, &P->grad, P->ldt, &P->pot));
  for (PetscInt i = 0; i < P->nlocal; i++) P->qs[i] = 1.0 / (PetscReal)P->N;
  PetscCall(InitPositions(P));
  PetscCall(SetupSamples(P));
  *out = P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesDestroy(KfParticles *P)
{
  PetscFunctionBeginUser;
  if (!*P) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree5((*P)->xt, (*P)->xs, (*P)->qs, (*P)->grad, (*P)->pot));
  if ((*P)->sring) {
    PetscCall(PetscFree2((*P)->sgrad, (*P)->spot));
    PetscCall(PetscFree((*P)->ys));
    PetscCall(PetscFree((*P)->qy));
  }
  PetscCall(KfRingDestroy(&(*P)->sring));
  PetscCall(KfRingDestroy(&(*P)->ring));
  PetscCall(VecDestroy(&(*P)->X));
  PetscCall(KfKernelDestroy(&(*P)->kernel));
  PetscCall(PetscFree(*P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesGetState(KfParticles P, Vec *X)
{
  PetscFunctionBeginUser;
  *X = P->X;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesGetLocal(KfParticles P, PetscInt64 *N, PetscInt64 *start, PetscInt *nlocal)
{
  PetscFunctionBeginUser;
  if (N) *N = P->N;
  if (start) *start = P->start;
  if (nlocal) *nlocal = P->nlocal;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad (and pot) of the particle sums and, with samples, sgrad/spot of the sample sums, for the positions x. */
static PetscErrorCode Sums(KfParticles P, const PetscScalar x[], PetscBool with_pot)
{
  PetscFunctionBeginUser;
  LoadBlock(P, x, P->xt, P->xs);
  PetscCall(KfRingSum(P->ring, P->kernel, P->nlocal, P->ldt, P->xt, P->xs, P->qs, P->grad, with_pot ? P->pot : NULL));
  if (P->sring) PetscCall(KfRingSum(P->sring, P->kernel, P->nlocal, P->ldt, P->xt, P->ys, P->qy, P->sgrad, with_pot ? P->spot : NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Velocity(KfParticles P, PetscInt i, PetscInt c)
{
  return -P->grad[c * P->ldt + i] + (P->sring ? P->sgrad[c * P->ldt + i] : 0);
}

PetscErrorCode KfParticlesRHSFunction(TS ts, PetscReal t, Vec X, Vec F, void *ctx)
{
  KfParticles        P = (KfParticles)ctx;
  const PetscScalar *x;
  PetscScalar       *f;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_PARTICLE_RHS, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(Sums(P, x, PETSC_FALSE));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(VecGetArray(F, &f));
  for (PetscInt i = 0; i < P->nlocal; i++)
    for (PetscInt c = 0; c < P->dim; c++) f[i * P->dim + c] = Velocity(P, i, c);
  PetscCall(VecRestoreArray(F, &f));
  PetscCall(PetscLogEventEnd(KF_EVENT_PARTICLE_RHS, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  E_off = 1/(2N^2) sum_{i != j} K(X_i - X_j) - (1/N) sum_i (K * nu)(X_i) + <nu, K * nu>/2 (math spec A.4),
  E = E_off + K(0)/(2N) where K(0) is finite. Per-particle terms, then one reproducible reduction.
*/
PetscErrorCode KfParticlesDiagnostics(KfParticles P, PetscReal t, Vec X, KfParticleDiag *dg)
{
  const PetscInt     n = P->nlocal, d = P->dim, ncomp = 2 + d;
  const PetscScalar *x;
  PetscReal         *v, sum[2 + KF_MAX_DIM];

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(Sums(P, x, PETSC_TRUE));
  PetscCall(PetscMalloc1(PetscMax(1, ncomp * n), &v));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal v2 = 0;

    for (PetscInt c = 0; c < d; c++) v2 += PetscSqr(Velocity(P, i, c));
    v[i]     = 0.5 * P->qs[i] * (P->pot[i] - P->qs[i] * P->k0) - P->qs[i] * (P->sring ? P->spot[i] : 0);
    v[n + i] = v2 * P->qs[i];
    for (PetscInt c = 0; c < d; c++) v[(2 + c) * n + i] = x[i * d + c] * P->qs[i];
  }
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(KfRingReduce(P->ring, ncomp, v, sum));
  PetscCall(PetscFree(v));
  dg->time       = t;
  dg->energy_off = sum[0] + 0.5 * P->nu_energy;
  dg->energy     = dg->energy_off + (P->k0_finite ? P->k0 / (2.0 * (PetscReal)P->N) : 0);
  dg->mean_v2    = sum[1];
  for (PetscInt c = 0; c < d; c++) dg->centroid[c] = sum[2 + c];
  PetscCall(PetscLogEventEnd(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesOutputPositions(KfParticles P, Vec X, PetscReal out[])
{
  const PetscScalar *x;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(X, &x));
  for (PetscInt i = 0; i < P->nlocal * P->dim; i++) out[i] = P->domain == KF_DOMAIN_TORUS ? Wrap(x[i], P->p->L) : x[i];
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesDescribe(KfParticles P, char buf[], size_t len)
{
  char kd[256];

  PetscFunctionBeginUser;
  PetscCall(KfKernelDescribe(P->kernel, kd, sizeof(kd)));
  PetscCall(PetscSNPrintf(buf, len, "N = %" PetscInt64_FMT " particles (%s), kernel %s, target %s%s", P->N, P->p->init, kd, P->sring ? "samples " : P->domain == KF_DOMAIN_TORUS ? "uniform" : "none (nu = 0)", P->sring ? P->samples : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesHelp(MPI_Comm comm, const KfParams *p)
{
  PetscInt  pinit = KF_PINIT_IID, leaf = 0;
  PetscReal n     = 1000;
  char      samples[KF_SPEC_LEN] = "";

  PetscFunctionBeginUser;
  PetscCall(ParticleOptions(comm, &n, &pinit, samples, sizeof(samples), &leaf));
  PetscCall(KfKernelHelp(comm, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}
