/* particles.c - the N-particle Wasserstein flow: dX_i/dt = -(1/N) sum_j grad K(X_i - X_j) + grad(K * nu)(X_i)
   (math spec A.4, B.6), all sums by the ring (src/ring.c), so every rank count gives the same bits */
#include <complex.h>
#include <math.h>
#include "kf_birthdeath.h"
#include "kf_density.h"
#include "kf_fourier.h"
#include "kf_gauss.h"
#include "kf_io.h"
#include "kf_log.h"
#include "kf_particles.h"
#include "kf_rkhs.h"
#include "kf_rng.h"
#include "kf_sample.h"

typedef enum {
  KF_PINIT_IID,
  KF_PINIT_QUANTILE,
  KF_PINIT_LATTICE
} KfParticleInit;
static const char *const KfParticleInits[] = {"iid", "quantile", "lattice", "KfParticleInit", "KF_PINIT_", NULL};

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
  PetscReal      *ys, *qy;
  /* the target's field grad(K * nu) and potential K * nu at the particles (samples or grid target) */
  PetscBool       field;
  PetscReal      *sgrad, *spot;
  PetscReal       nu_energy; /* <nu, K * nu> */
  /* long-range modes of the kernel (Ewald in d >= 2): K = tile part + sum_m lrcoef_m 2 cos(2 pi k_m.r/L) */
  KfFourier        lr;
  const PetscReal *lrcoef;
  PetscReal       *sx, *sy, *amp; /* structure factors of particles and samples; amplitudes (2 nk each) */
  /* target on a grid: K * nu = tconst + sum_m 2 Re(tamp_m e^{2 pi i k_m.x/L}) */
  KfFourier       tf;
  PetscReal      *tamp, tconst;
  char            init[KF_SPEC_LEN], samples[KF_SPEC_LEN];
  KfParticleInit  pinit;
  /* Fisher-Rao and WFR (math spec D.4 W, F.1): weighted particles; the state rows hold nc values: x (Wasserstein),
     w (Fisher-Rao: the positions stay in xfix) or (x, w) (WFR) */
  PetscBool       weighted;
  PetscInt        nc;
  PetscReal      *xfix;
  PetscReal      *vwork; /* per-particle V_i and reduction terms */
  /* the entropy sigma KL(mu | pi) (math spec D.3 K3): log rho ~ log of the density estimate sum_j w_j K_h(x - X_j) */
  PetscReal       kmd;      /* 1 or 0 (-energy none) */
  PetscReal       kde_h, kde_norm; /* bandwidth; K_h = kde_norm * exp(-|r|^2/(2h^2)) (periodised) has int K_h dm_L = 1 */
  KfKernel        kde;
  KfFourier       pif;      /* pi = pi0 + sum_m 2 Re(piamp_m e^{2 pi i k_m.x/L}) */
  PetscReal      *piamp, pi0;
  PetscReal      *epot, *egrad; /* per particle: log rho~ - log pi and its gradient (SoA, ldt) */
  PetscReal      *kpot, *kgrad, *ppot, *pgrad; /* work: estimate and pi at the particles */
  PetscBool       pi_fixed; /* Fisher-Rao: pi and grad pi at the fixed positions are in ppot/pgrad already */
  PetscReal      *lrho0; /* -entropy_estimate weights (Fisher-Rao): log rho_0 at the fixed positions; rho_t(X_i) = N w_i rho_0(X_i) */
  PetscReal       resample_ess; /* resample when ESS < resample_ess N (0: never) */
  KfKernel        stein;        /* -flow stein: the kernel k of SVGD */
  PetscReal      *svel, *sq, *sg; /* its velocities (SoA, ldt), charges and gradient work */
  PetscInt        frstep;       /* -fr_step: KF_FRSTEP_RK (state w), _MD or _EXP (state r = log(N w) up to a constant) */
  PetscInt        nresample;
  PetscBool       bd; /* -fr_particles birth_death: equal weights, the reaction by jumps after each step (math spec D.4 BD) */
  KfBirthDeathStats bds;
  PetscBool       bd_warned;
  /* free space (-domain free): normal -init and -reference, and a linear external potential f(x) = b.x in the energy */
  KfGaussian      ginit, gref;
  PetscBool       ginit_set;
  PetscReal       potb[KF_MAX_DIM];
  PetscBool       potential;
  /* -fr_rkhs_lambda > 0: the kernelized Fisher-Rao flow (math spec E row 4), direction xi = (K_mu + lambda)^-1 K_mu V */
  PetscReal       rkhs_lambda, rkhs_h, rkhs_rtol;
  PetscInt        rkhs_maxit;
  KfKernel        rkhs_kernel;
  KfRkhs          rkhs;
  PetscReal      *xi, xibar;
};

static PetscErrorCode Sums(KfParticles, const PetscScalar[], PetscBool, PetscBool);
static PetscErrorCode FirstVariation(KfParticles, PetscReal *);

/* The stream of the counter-based generator used by resampling (draws of -init use streams 0..d-1). */
#define KF_STREAM_RESAMPLE 0x7265736dULL

static const char *const KfEntropyEstimates[] = {"kde", "weights", "KfEntropyEstimate", "KF_ENTROPY_", NULL};

typedef enum {
  KF_FRSTEP_RK,
  KF_FRSTEP_MD,
  KF_FRSTEP_EXP
} KfFRStep;
static const char *const KfFRSteps[] = {"rk", "md", "exp", "KfFRStep", "KF_FRSTEP_", NULL};

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
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-particle_init", "How particles are drawn from -init: iid (counter-based, keyed by seed and id), quantile (deterministic: inverse CDF of (i + 1/2)/N; d >= 2: a lattice of N = m^d quantiles through the Knothe-Rosenblatt map) or lattice (uniform -init only: the equispaced lattice, N = m^d)", KfParticleInits, *pinit, pinit));
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
  PetscCheck(n * P->dim <= PETSC_MAX_INT, P->comm, KF_ERR_INPUT, "-particles %s: N x d must fit the %d-bit PetscInt of this PETSc build (N <= %" PetscInt_FMT " in d = %" PetscInt_FMT ")", KF_NUM(n), (int)(8 * sizeof(PetscInt)), (PetscInt)(PETSC_MAX_INT / P->dim), P->dim);
  P->N     = (PetscInt64)n;
  P->pinit = (KfParticleInit)pinit;
  PetscCall(KfRingCreate(P->comm, P->dim, P->N, leaf, &P->ring));
  PetscCall(KfRingGetLocal(P->ring, &P->nlocal, &P->start));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every rank agrees on the refusal of non-finite input (a local check would leave the other ranks in collectives). */
static PetscErrorCode CheckFiniteRows(MPI_Comm comm, const char opt[], const char spec[], PetscInt n, PetscInt d, const PetscReal rows[], PetscInt64 start)
{
  PetscInt64 bad = INT64_MAX;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n * d && bad == INT64_MAX; i++)
    if (!isfinite(rows[i])) bad = start + i / d;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT64, MPI_MIN, comm));
  PetscCheck(bad == INT64_MAX, comm, KF_ERR_INPUT, "%s %s: non-finite value in row %" PetscInt64_FMT, opt, spec, bad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The equispaced lattice ((g + 1/2) L/m)^d, N = m^d, in row-major id order. */
static PetscErrorCode LatticePositions(KfParticles P, PetscScalar x[])
{
  const PetscInt m  = (PetscInt)PetscFloorReal(PetscPowReal((PetscReal)P->N, 1.0 / P->dim) + 0.5);
  PetscInt64     mm = 1;
  PetscBool      uniform;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(P->p->init, "uniform", &uniform));
  PetscCheck(uniform, P->comm, KF_ERR_INPUT, "-particle_init lattice: the lattice samples -init uniform only, not -init %s; use -particle_init quantile or iid", P->p->init);
  for (PetscInt c = 0; c < P->dim; c++) mm *= m;
  PetscCheck(mm == P->N, P->comm, KF_ERR_INPUT, "-particle_init lattice: -particles %" PetscInt64_FMT " is not of the form m^%" PetscInt_FMT, P->N, P->dim);
  for (PetscInt i = 0; i < P->nlocal; i++) {
    PetscInt64 id = P->start + i;

    for (PetscInt c = P->dim - 1; c >= 0; c--, id /= m) x[i * P->dim + c] = P->p->L * ((PetscReal)(id % m) + 0.5) / m;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Draws from a registry density of -init (kf_sample.h); the uniform i.i.d. case keeps its direct formula. */
static PetscErrorCode DrawPositions(KfParticles P, PetscScalar x[])
{
  KfSampler S;
  PetscBool uniform;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(P->p->init, "uniform", &uniform));
  if (uniform && P->pinit == KF_PINIT_IID) {
    for (PetscInt i = 0; i < P->nlocal; i++)
      for (PetscInt c = 0; c < P->dim; c++) x[i * P->dim + c] = P->p->L * KfRngUniform((uint64_t)P->p->seed, (uint64_t)c, (uint64_t)(P->start + i));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (P->domain == KF_DOMAIN_FREE && !strcmp(P->p->init, "normal")) {
    PetscCheck(P->pinit == KF_PINIT_IID, P->comm, KF_ERR_INPUT, "-init normal: only -particle_init iid in free space");
    PetscCall(KfGaussianFromOptions(P->comm, P->dim, "init", &P->ginit));
    KfGaussianDraw(&P->ginit, (uint64_t)P->p->seed, P->start, P->nlocal, x);
    P->ginit_set = PETSC_TRUE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(P->domain == KF_DOMAIN_TORUS, P->comm, KF_ERR_INPUT, "-init %s: drawing from a density needs -domain torus; in free space use -init normal (N(m, diag(v))), uniform (i.i.d. in the cube [0, L)^d) or file:PATH:DATASET", P->p->init);
  PetscCall(KfSamplerCreate(P->comm, P->p, "init", P->p->init, &S));
  if (P->pinit == KF_PINIT_IID) PetscCall(KfSamplerDrawIID(S, (uint64_t)P->p->seed, P->N, P->start, P->nlocal, x));
  else PetscCall(KfSamplerDrawQuantile(S, P->N, P->start, P->nlocal, x));
  PetscCall(KfSamplerDestroy(&S));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Positions from -init: a file of N x d points, the lattice, or draws from a density (rows nlocal x d). */
static PetscErrorCode InitPositions(KfParticles P, PetscReal x[])
{
  PetscBool isfile;

  PetscFunctionBeginUser;
  PetscCall(PetscStrbeginswith(P->p->init, "file:", &isfile));
  if (isfile && P->p->mode != KF_MODE_COMPARE) { /* compare mode: a density on a grid, shared with the PDE */
    char        path[PETSC_MAX_PATH_LEN];
    const char *dset;

    PetscCall(SplitFileSpec("-init", P->p->init, path, sizeof(path), &dset));
    PetscCall(KfIOReadRows(P->comm, path, dset, P->N, P->dim, P->start, P->nlocal, x, "init"));
  } else if (P->pinit == KF_PINIT_LATTICE) PetscCall(LatticePositions(P, x));
  else PetscCall(DrawPositions(P, x));
  PetscCall(CheckFiniteRows(P->comm, "-init", P->p->init, P->nlocal, P->dim, x, P->start));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The ODE state: rows of nc values per particle, weights starting at 1/N. */
static PetscErrorCode InitState(KfParticles P)
{
  PetscReal   *pos;
  PetscScalar *u;
  const PetscInt d = P->dim, nc = P->nc;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(1, P->nlocal * d), &pos));
  PetscCall(InitPositions(P, pos));
  PetscCall(VecCreateMPI(P->comm, P->nlocal * nc, (PetscInt)(P->N * nc), &P->X));
  PetscCall(VecGetArray(P->X, &u));
  for (PetscInt i = 0; i < P->nlocal; i++) {
    if (nc > 1 || !P->weighted)
      for (PetscInt c = 0; c < d; c++) u[i * nc + c] = pos[i * d + c];
    if (P->weighted) u[i * nc + nc - 1] = P->frstep == KF_FRSTEP_RK ? 1.0 / (PetscReal)P->N : 0.0;
  }
  PetscCall(VecRestoreArray(P->X, &u));
  if (P->p->flow == KF_FLOW_FISHER_RAO && P->weighted) P->xfix = pos;
  else PetscCall(PetscFree(pos));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Where positions and weights sit in a state array u: positions rows with stride *ld (the fixed ones in Fisher-Rao). */
static const PetscReal *StatePositions(KfParticles P, const PetscScalar u[], PetscInt *ld)
{
  *ld = P->xfix ? P->dim : P->nc;
  return P->xfix ? P->xfix : u;
}

/*
  The weights of the state u into qs: w_i itself, or with log-weights w_i = e^{r_i - m} / sum_j e^{r_j - m}
  (m = max r, an exact reduction; the sum by the ring's fixed tree), the same bits on any number of ranks. Collective.
*/
static PetscErrorCode LoadWeights(KfParticles P, const PetscScalar u[])
{
  const PetscInt n = P->nlocal, nc = P->nc;
  PetscReal      m = -PETSC_MAX_REAL, Z;

  PetscFunctionBeginUser;
  if (!P->weighted) PetscFunctionReturn(PETSC_SUCCESS);
  if (P->frstep == KF_FRSTEP_RK) {
    for (PetscInt i = 0; i < n; i++) P->qs[i] = u[i * nc + nc - 1];
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt i = 0; i < n; i++) m = PetscMax(m, u[i * nc + nc - 1]);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &m, 1, MPIU_REAL, MPI_MAX, P->comm));
  for (PetscInt i = 0; i < n; i++) P->qs[i] = PetscExpReal(u[i * nc + nc - 1] - m);
  PetscCall(KfRingReduce(P->ring, 1, P->qs, &Z));
  for (PetscInt i = 0; i < n; i++) P->qs[i] /= Z;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Wrap(PetscReal x, PetscReal L)
{
  PetscReal y = x - L * PetscFloorReal(x / L);

  return y >= L ? 0 : y; /* x slightly below 0 rounds to L */
}

/* Row-major positions (stride ld) into the SoA target and source blocks (wrapped on the torus); padding lanes at 0. */
static void LoadBlock(KfParticles P, const PetscScalar x[], PetscInt ld, PetscReal xt[], PetscReal xs[])
{
  for (PetscInt c = 0; c < P->dim; c++) {
    for (PetscInt i = 0; i < P->nlocal; i++) {
      const PetscReal v = P->domain == KF_DOMAIN_TORUS ? Wrap(x[i * ld + c], P->p->L) : x[i * ld + c];

      xt[c * P->ldt + i] = v;
      if (xs) xs[c * P->nlocal + i] = v;
    }
    for (PetscInt i = P->nlocal; i < P->ldt; i++) xt[c * P->ldt + i] = 0;
  }
}

/* sum_m 2 c_m |S_m|^2: the long-range part of sum_{i,j} q_i q_j K(Y_i - Y_j) (self pairs included). */
static PetscReal ModeEnergy(KfFourier F, const PetscReal c[], const PetscReal S[])
{
  PetscInt  nk;
  PetscReal e = 0;

  (void)KfFourierGetList(F, &nk, NULL);
  for (PetscInt m = 0; m < nk; m++) e += 2 * c[m] * (S[2 * m] * S[2 * m] + S[2 * m + 1] * S[2 * m + 1]);
  return e;
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
  PetscCall(CheckFiniteRows(P->comm, "-target_samples", P->samples, P->mlocal, P->dim, rows, mstart));
  for (PetscInt i = 0; i < P->mlocal; i++) {
    P->qy[i] = 1.0 / (PetscReal)P->M;
    for (PetscInt c = 0; c < P->dim; c++) {
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
  if (P->lr) {
    PetscCall(KfFourierStructure(P->lr, P->mlocal, P->mlocal, P->ys, 1.0 / (PetscReal)P->M, P->sy));
    P->nu_energy += ModeEnergy(P->lr, P->lrcoef, P->sy);
  }
  PetscCall(PetscFree3(yt, g, P->spot));
  PetscCall(PetscFree(rows));
  P->field = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetupLongRange(KfParticles P)
{
  PetscInt        nk;
  const PetscInt *kv;

  PetscFunctionBeginUser;
  PetscCall(KfKernelGetLongRange(P->kernel, &nk, &kv, &P->lrcoef));
  if (!nk) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KfFourierCreate(P->comm, P->dim, P->p->L, nk, kv, &P->lr));
  PetscCall(PetscMalloc3(2 * nk, &P->sx, 2 * nk, &P->sy, 2 * nk, &P->amp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  A torus target other than samples: its coefficients nu^(k) from the grid (-n) by one serial DFT on every rank
  (KfDensityCoefficients: the same bits everywhere), times the kernel's c_k. Modes whose amplitude is below 2^-52 of the largest are
  dropped (they move no velocity by more than round-off); the Nyquist modes are not part of the interpolant.
*/
static PetscErrorCode SetupGridTarget(KfParticles P)
{
  KfComplex *chat;
  PetscInt   nk, kept = 0, *kv;
  PetscReal *a, a0, c0, amax = 0;
  PetscInt   kz[KF_MAX_DIM] = {0, 0, 0};

  PetscFunctionBeginUser;
  PetscCall(KfKernelFourierCoefficient(P->kernel, kz, &c0));
  if (!strcmp(P->p->target, "uniform")) { /* nu^ = delta_0 */
    P->tconst    = c0;
    P->nu_energy = c0;
    P->field     = (PetscBool)(c0 != 0);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(KfDensityCoefficients(P->p, "target", P->p->target, &chat));
  PetscCall(KfSpectralHalfModes(P->dim, P->p->n, chat, &nk, &kv, &a));
  a0 = creal(chat[0]);
  PetscCall(PetscFree(chat));
  for (PetscInt m = 0; m < nk; m++) {
    PetscReal ck;

    PetscCall(KfKernelFourierCoefficient(P->kernel, kv + m * P->dim, &ck));
    a[2 * m] *= ck / a0; /* renormalised so that nu^(0) = 1 */
    a[2 * m + 1] *= ck / a0;
    amax = PetscMax(amax, PetscHypotReal(a[2 * m], a[2 * m + 1]));
  }
  for (PetscInt m = 0; m < nk; m++) {
    if (PetscHypotReal(a[2 * m], a[2 * m + 1]) <= amax * PETSC_MACHINE_EPSILON) continue;
    for (PetscInt c = 0; c < P->dim; c++) kv[kept * P->dim + c] = kv[m * P->dim + c];
    a[2 * kept]     = a[2 * m];
    a[2 * kept + 1] = a[2 * m + 1];
    kept++;
  }
  PetscCall(KfFourierCreate(P->comm, P->dim, P->p->L, kept, kv, &P->tf));
  PetscCall(PetscMalloc1(2 * PetscMax(kept, 1), &P->tamp));
  PetscCall(PetscArraycpy(P->tamp, a, 2 * kept));
  P->tconst    = c0;
  P->nu_energy = c0;
  for (PetscInt m = 0; m < kept; m++) { /* <nu, K*nu> = sum_k c_k |nu^(k)|^2 = c0 + sum_m 2 |a_m|^2 / c_m */
    PetscReal ck;

    PetscCall(KfKernelFourierCoefficient(P->kernel, kv + m * P->dim, &ck));
    P->nu_energy += 2 * (a[2 * m] * a[2 * m] + a[2 * m + 1] * a[2 * m + 1]) / ck;
  }
  P->field = PETSC_TRUE;
  PetscCall(PetscFree2(kv, a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log rho_0 at the (fixed) particles from the -init density's modes on the grid. */
static PetscErrorCode InitialLogDensity(KfParticles P)
{
  KfComplex *chat;
  PetscInt   nk, *kv, bad = 0;
  PetscReal *a, *xt, *rho;
  KfFourier  F;

  PetscFunctionBeginUser;
  if (P->domain == KF_DOMAIN_FREE) {
    PetscCheck(P->ginit_set, P->comm, KF_ERR_INPUT, "-entropy_estimate weights: in free space needs rho_0 known, -init normal (not -init %s)", P->p->init);
    PetscCall(PetscMalloc1(PetscMax(1, P->nlocal), &P->lrho0));
    for (PetscInt i = 0; i < P->nlocal; i++) P->lrho0[i] = KfGaussianLogDensity(&P->ginit, P->xfix + i * P->dim, NULL);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(strncmp(P->p->init, "file:", 5) || P->p->mode == KF_MODE_COMPARE, P->comm, KF_ERR_INPUT, "-entropy_estimate weights: needs rho_0 as a density (-init NAME), not positions from -init %s", P->p->init);
  PetscCall(KfDensityCoefficients(P->p, "init", P->p->init, &chat));
  PetscCall(KfSpectralHalfModes(P->dim, P->p->n, chat, &nk, &kv, &a));
  PetscCall(PetscMalloc1(PetscMax(1, P->nlocal), &P->lrho0));
  PetscCall(PetscMalloc2(PetscMax(1, P->nlocal * P->dim), &xt, PetscMax(1, P->nlocal), &rho));
  for (PetscInt i = 0; i < P->nlocal; i++) {
    rho[i] = creal(chat[0]);
    for (PetscInt c = 0; c < P->dim; c++) xt[c * P->nlocal + i] = Wrap(P->xfix[i * P->dim + c], P->p->L);
  }
  PetscCall(KfFourierCreate(P->comm, P->dim, P->p->L, nk, kv, &F));
  PetscCall(KfFourierField(F, a, P->nlocal, P->nlocal, xt, NULL, rho));
  for (PetscInt i = 0; i < P->nlocal; i++) {
    if (!(rho[i] > 0)) bad++;
    P->lrho0[i] = PetscLogReal(rho[i] / creal(chat[0]));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_SUM, P->comm));
  PetscCall(KfFourierDestroy(&F));
  PetscCall(PetscFree2(kv, a));
  PetscCall(PetscFree(chat));
  PetscCall(PetscFree2(xt, rho));
  PetscCheck(!bad, P->comm, KF_ERR_INPUT, "-init %s: rho_0 <= 0 at %" PetscInt_FMT " particles; the entropy needs rho_0 > 0", P->p->init, bad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* pi's modes on the grid (-reference, torus). */
static PetscErrorCode SetupTorusReference(KfParticles P)
{
  KfComplex *chat;
  PetscInt   nk, *kv;
  PetscReal *a;

  PetscFunctionBeginUser;
  PetscCall(KfDensityCoefficients(P->p, "reference", P->p->reference, &chat));
  PetscCall(KfSpectralHalfModes(P->dim, P->p->n, chat, &nk, &kv, &a));
  P->pi0 = creal(chat[0]);
  PetscCall(PetscFree(chat));
  if (nk) {
    PetscCall(KfFourierCreate(P->comm, P->dim, P->p->L, nk, kv, &P->pif));
    PetscCall(PetscMalloc1(2 * nk, &P->piamp));
    PetscCall(PetscArraycpy(P->piamp, a, 2 * nk));
  }
  PetscCall(PetscFree2(kv, a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -kde_h and -entropy_estimate (1: weights); the bandwidth's default and range depend on the domain. */
static PetscErrorCode EntropyOptions(KfParticles P, PetscInt *est)
{
  const PetscBool torus = (PetscBool)(P->domain == KF_DOMAIN_TORUS);
  PetscReal       scale = torus ? P->p->L / (2 * PETSC_PI) : 1, hmax = torus ? P->p->L / 4 : 1e6;

  PetscFunctionBeginUser;
  if (!torus && P->ginit_set)
    for (PetscInt c = 0; c < P->dim; c++) scale = c ? PetscMax(scale, PetscSqrtReal(P->ginit.var[c])) : PetscSqrtReal(P->ginit.var[c]);
  P->kde_h = scale * PetscPowReal((PetscReal)P->N, -1.0 / (P->dim + 4));
  PetscOptionsBegin(P->comm, NULL, "Entropy of particles", "kmdflow");
  PetscCall(KfOptionsReal(PetscOptionsObject, "-kde_h", "Bandwidth h of the density estimate sum_j w_j K_h(x - X_j) in the entropy (default c N^(-1/(d+4)): c = L/2pi on the torus (h <= L/4), the largest standard deviation of -init normal in free space)", P->kde_h, 0, hmax, PETSC_TRUE, &P->kde_h, NULL));
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-entropy_estimate", "log rho at the particles: kde (log of the density estimate) or weights (-flow fisher_rao: log(N w_i) + log rho_0(X_i), exact for fixed positions drawn from -init)", KfEntropyEstimates, 0, est));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -sigma > 0: the smoothing kernel of the density estimate (-kde_h) and the reference pi (-reference: a registry density
   on the torus grid, or -reference normal in free space). */
static PetscErrorCode SetupEntropy(KfParticles P)
{
  const PetscInt d = P->dim;
  PetscInt       est = 0;

  PetscFunctionBeginUser;
  PetscCall(EntropyOptions(P, &est));
  PetscCheck(est == 0 || P->p->flow == KF_FLOW_FISHER_RAO, P->comm, KF_ERR_INPUT, "-entropy_estimate weights: only with -flow fisher_rao (the positions must stay where they were drawn from -init)");
  PetscCheck(est == 0 || !P->bd, P->comm, KF_ERR_INPUT, "-entropy_estimate weights with -fr_particles birth_death: the estimate log(N w_i) + log rho_0 needs weights; use -entropy_estimate kde");
  if (P->domain == KF_DOMAIN_TORUS) PetscCall(SetupTorusReference(P));
  else {
    PetscCheck(!strcmp(P->p->reference, "normal"), P->comm, KF_ERR_INPUT, "-reference %s: in free space the entropy's reference must be a probability density on R^d: -reference normal (with -reference_normal_mean, -reference_normal_var)", P->p->reference);
    PetscCall(KfGaussianFromOptions(P->comm, d, "reference", &P->gref));
  }
  if (est == 1) PetscCall(InitialLogDensity(P));
  PetscCall(KfKernelCreateGaussian(d, P->domain, P->p->L, P->kde_h, &P->kde));
  if (P->domain == KF_DOMAIN_TORUS) P->kde_norm = PetscPowReal(P->p->L / (PetscSqrtReal(2 * PETSC_PI) * P->kde_h), (PetscReal)d);
  else P->kde_norm = PetscPowReal(2 * PETSC_PI * P->kde_h * P->kde_h, -0.5 * d);
  PetscCall(PetscCalloc6(P->ldt, &P->epot, d * P->ldt, &P->egrad, P->ldt, &P->kpot, d * P->ldt, &P->kgrad, P->ldt, &P->ppot, d * P->ldt, &P->pgrad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Systematic resampling, the same on any number of ranks: weights become exact integers (w 2^62, truncated), their
  prefix sums are exact (MPI_Exscan of int64), the offset u comes from (seed, KF_STREAM_RESAMPLE, count), and new
  particle j copies the source i whose integer interval holds (j + u) T/N (T the integer total). Sources map to
  contiguous target ranges, sent to their owners with one MPI_Alltoallv. All weights become 1/N.
*/
static PetscErrorCode Resample(KfParticles P, PetscScalar u[])
{
  const PetscInt  nc = P->nc, d = P->dim, n = P->nlocal;
  const PetscBool fr = (PetscBool)(P->xfix != NULL);
  PetscMPIInt     size, rank, *scount, *sdisp, *rcount, *rdisp;
  PetscInt64      lsum = 0, off = 0, T, *starts;
  PetscReal      *send, *recv;
  __int128        U;
  PetscInt64      j0, j1;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(P->comm, &size));
  PetscCall(LoadWeights(P, u));
  for (PetscInt i = 0; i < n; i++) lsum += (PetscInt64)ldexp(P->qs[i], 62);
  PetscCallMPI(MPI_Exscan(&lsum, &off, 1, MPIU_INT64, MPI_SUM, P->comm));
  PetscCallMPI(MPI_Allreduce(&lsum, &T, 1, MPIU_INT64, MPI_SUM, P->comm));
  PetscCallMPI(MPI_Comm_rank(P->comm, &rank));
  if (!rank) off = 0; /* MPI_Exscan leaves rank 0's result undefined */
  U = (__int128)(KfRngUniform((uint64_t)P->p->seed, KF_STREAM_RESAMPLE, (uint64_t)P->nresample) * 0x1p20);
  /* target j (at (j + u) T/N, u = U 2^-20) is in source i's interval [c, c + W) iff j0(c) <= j < j0(c + W),
     j0(c) = ceil((c N 2^20 - U T) / (T 2^20)); all in 128-bit integers (c N 2^20 < 2^62 2^40 2^20) */
#define FIRST_TARGET(c) ((PetscInt64)(((__int128)(c) * P->N * ((__int128)1 << 20) - U * T + (__int128)T * ((__int128)1 << 20) - 1) / ((__int128)T * ((__int128)1 << 20))))
  PetscCall(PetscMalloc2(size + 1, &starts, 4 * size, &scount));
  sdisp  = scount + size;
  rcount = scount + 2 * size;
  rdisp  = scount + 3 * size;
  PetscCallMPI(MPI_Allgather(&P->start, 1, MPIU_INT64, starts, 1, MPIU_INT64, P->comm));
  starts[size] = P->N;
  j0 = PetscMax(0, FIRST_TARGET(off));
  j1 = PetscMin(P->N, FIRST_TARGET(off + lsum));
  PetscCall(PetscMalloc2(PetscMax(1, (j1 - j0) * d), &send, PetscMax(1, n * d), &recv));
  {
    PetscInt64 c = off, j = j0;
    PetscInt   ld;
    const PetscReal *x = StatePositions(P, u, &ld);

    for (PetscInt i = 0; i < n; i++) {
      const PetscInt64 w = (PetscInt64)ldexp(P->qs[i], 62), jend = PetscMin(P->N, FIRST_TARGET(c + w));

      for (; j < jend; j++)
        for (PetscInt k = 0; k < d; k++) send[(j - j0) * d + k] = x[i * ld + k];
      c += w;
    }
  }
  for (PetscMPIInt r = 0; r < size; r++) {
    const PetscInt64 a = PetscMax(j0, starts[r]), b = PetscMin(j1, starts[r + 1]);

    scount[r] = (PetscMPIInt)(b > a ? (b - a) * d : 0);
    sdisp[r]  = (PetscMPIInt)(b > a ? (a - j0) * d : 0);
  }
  PetscCallMPI(MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, P->comm));
  rdisp[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) rdisp[r] = rdisp[r - 1] + rcount[r - 1];
  PetscCheck(rdisp[size - 1] + rcount[size - 1] == n * d, PETSC_COMM_SELF, PETSC_ERR_PLIB, "resampling delivered %d values for %d", rdisp[size - 1] + rcount[size - 1], (int)(n * d));
  PetscCallMPI(MPI_Alltoallv(send, scount, sdisp, MPIU_REAL, recv, rcount, rdisp, MPIU_REAL, P->comm));
#undef FIRST_TARGET
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt k = 0; k < d; k++) {
      if (fr) P->xfix[i * d + k] = recv[i * d + k];
      else u[i * nc + k] = recv[i * d + k];
    }
    u[i * nc + nc - 1] = P->frstep == KF_FRSTEP_RK ? 1.0 / (PetscReal)P->N : 0.0;
  }
  P->nresample++;
  P->pi_fixed = PETSC_FALSE; /* the fixed positions moved */
  PetscCall(PetscFree2(send, recv));
  PetscCall(PetscFree2(starts, scount));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After each accepted step: resample when the effective sample size 1/sum w^2 falls below resample_ess N. */
static PetscErrorCode ResamplePostStep(TS ts)
{
  KfParticles  P;
  Vec          X;
  PetscScalar *u;
  PetscReal    sum[2];

  PetscFunctionBeginUser;
  PetscCall(TSGetApplicationContext(ts, &P));
  PetscCall(TSGetSolution(ts, &X));
  PetscCall(VecGetArray(X, &u));
  PetscCall(LoadWeights(P, u));
  for (PetscInt i = 0; i < P->nlocal; i++) {
    const PetscReal w = P->qs[i];

    P->vwork[i]             = w * w;
    P->vwork[P->nlocal + i] = w;
  }
  PetscCall(KfRingReduce(P->ring, 2, P->vwork, sum));
  if (sum[1] * sum[1] / sum[0] < P->resample_ess * (PetscReal)P->N) {
    PetscCall(Resample(P, u));
    PetscCall(VecRestoreArray(X, &u));
    PetscCall(TSRestartStep(ts)); /* the FSAL stage of the last step no longer belongs to this state */
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecRestoreArray(X, &u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  After each accepted step of length tau: the birth-death jumps with rates alpha (V_i - mean V) of the state reached
  (a splitting: transport by the integrator, reaction by jumps). Keyed by the step number, so restarts draw the same.
*/
static PetscErrorCode BirthDeathPostStep(TS ts)
{
  KfParticles  P;
  Vec          X;
  PetscScalar *u;
  PetscReal    t, tprev, vbar, *rate;
  PetscInt     step;
  PetscInt64   before;

  PetscFunctionBeginUser;
  PetscCall(TSGetApplicationContext(ts, &P));
  PetscCall(TSGetSolution(ts, &X));
  PetscCall(TSGetTime(ts, &t));
  PetscCall(TSGetPrevTime(ts, &tprev));
  PetscCall(TSGetStepNumber(ts, &step));
  PetscCall(VecGetArray(X, &u));
  PetscCall(Sums(P, u, PETSC_TRUE, (PetscBool)(P->kmd > 0)));
  PetscCall(FirstVariation(P, &vbar));
  rate = P->vwork + 2 * P->nlocal;
  for (PetscInt i = 0; i < P->nlocal; i++) rate[i] = P->p->alpha * (P->vwork[i] - vbar);
  before = P->bds.kills + P->bds.duplications;
  PetscCall(KfBirthDeathStep(P->comm, P->ring, P->N, P->dim, P->nc, u, rate, t - tprev, (uint64_t)P->p->seed, (uint64_t)step, P->vwork + 3 * P->nlocal, &P->bds));
  PetscCall(VecRestoreArray(X, &u));
  if (P->bds.max_rate_tau > 0.1 && !P->bd_warned) {
    PetscCall(PetscPrintf(P->comm, "kmdflow warning: birth-death step at t = %g has tau max|rate| = %.3g > 0.1; the jumps are O(tau) accurate only below that (smaller -ts_dt)\n", (double)t, (double)P->bds.max_rate_tau));
    P->bd_warned = PETSC_TRUE;
  }
  if (P->bds.kills + P->bds.duplications > before) PetscCall(TSRestartStep(ts)); /* the FSAL stage belongs to the old state */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesSetUpTS(KfParticles P, TS ts)
{
  PetscFunctionBeginUser;
  if (P->frstep == KF_FRSTEP_EXP) {
    PetscBool euler, fixed;
    TSAdapt   adapt;

    PetscCall(PetscObjectTypeCompare((PetscObject)ts, TSEULER, &euler));
    PetscCall(TSGetAdapt(ts, &adapt));
    PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &fixed));
    PetscCheck(euler && fixed, P->comm, KF_ERR_INPUT, "-fr_step exp: the entropy-exact step is taken by -ts_type euler with -ts_adapt_type none and a fixed -ts_dt");
  }
  if (P->bd) {
    PetscBool set;
    TSAdapt   adapt;

    /* the jumps' accuracy is set by tau max|rate| (math spec D.5): fixed steps of -ts_dt unless asked otherwise */
    PetscCall(PetscOptionsHasName(NULL, NULL, "-ts_adapt_type", &set));
    PetscCall(TSGetAdapt(ts, &adapt));
    if (!set) PetscCall(TSAdaptSetType(adapt, TSADAPTNONE));
    PetscCall(TSSetApplicationContext(ts, P));
    PetscCall(TSSetPostStep(ts, BirthDeathPostStep));
  }
  if (P->resample_ess <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(TSSetApplicationContext(ts, P));
  PetscCall(TSSetPostStep(ts, ResamplePostStep));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt KfParticlesResampleCount(KfParticles P)
{
  return P->nresample;
}

/* -potential_linear b: an external potential f(x) = b.x in the energy (free space; on the torus it is not periodic). */
static PetscErrorCode SetupPotential(KfParticles P)
{
  PetscInt  n = 0;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscOptionsBegin(P->comm, NULL, "External potential", "kmdflow");
  PetscCall(KfOptionsRealList(PetscOptionsObject, "-potential_linear", "The energy gains int f dmu with f(x) = b.x (-domain free): d numbers b_1,..,b_d", "0", KF_MAX_DIM, P->potb, &n, &set));
  PetscOptionsEnd();
  if (!set) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(n == P->dim, P->comm, KF_ERR_INPUT, "-potential_linear: %" PetscInt_FMT " values given for -dim %" PetscInt_FMT "; give d values", n, P->dim);
  PetscCheck(P->domain == KF_DOMAIN_FREE, P->comm, KF_ERR_INPUT, "-potential_linear: a linear potential is not periodic; it needs -domain free");
  P->potential = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* f(X_i) of -potential_linear at local particle i (positions in the target block xt). */
static PetscReal Potential(KfParticles P, PetscInt i)
{
  PetscReal f = 0;

  for (PetscInt c = 0; P->potential && c < P->dim; c++) f += P->potb[c] * P->xt[c * P->ldt + i];
  return f;
}

static const char *const KfFRParticles[] = {"weights", "birth_death", "KfFRParticles", "KF_FRPARTICLES_", NULL};

/* -fr_particles (flows with a Fisher-Rao part): weighted particles or equal weights with birth-death jumps. */
static PetscErrorCode ReadReactionScheme(MPI_Comm comm, const KfParams *p, PetscBool *bd)
{
  PetscInt scheme = 0;

  PetscFunctionBeginUser;
  *bd = PETSC_FALSE;
  if (p->flow != KF_FLOW_FISHER_RAO && p->flow != KF_FLOW_WFR) PetscFunctionReturn(PETSC_SUCCESS);
  PetscOptionsBegin(comm, NULL, "Fisher-Rao particles", "kmdflow");
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-fr_particles", "The Fisher-Rao part on particles: weights (w_i evolve, math spec D.4 W) or birth_death (equal weights; after each step particle i dies or duplicates with probability 1 - exp(-tau alpha |V_i - mean V|), D.4 BD)", KfFRParticles, 0, &scheme));
  PetscOptionsEnd();
  *bd = (PetscBool)(scheme == 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -fr_step and -resample_ess (weighted particles only). */
static PetscErrorCode ReadWeightOptions(KfParticles P)
{
  PetscFunctionBeginUser;
  if (!P->weighted) PetscFunctionReturn(PETSC_SUCCESS);
  PetscOptionsBegin(P->comm, NULL, "Weighted particles", "kmdflow");
  if (P->p->flow == KF_FLOW_FISHER_RAO) PetscCall(KfOptionsEnum(PetscOptionsObject, "-fr_step", "Fisher-Rao weights: rk (the ODE for w with the -ts_type integrator), md (the ODE for log w: with -ts_type euler the mirror-descent step) or exp (the entropy-exact step, -sigma > 0, -ts_type euler with a fixed -ts_dt)", KfFRSteps, KF_FRSTEP_RK, &P->frstep));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-fr_rkhs_lambda", "Kernelized Fisher-Rao (> 0): the weights follow xi = (K_mu + lambda)^-1 K_mu V, the RKHS regression of V (Gaussian kernel of width -fr_rkhs_h), instead of V (0: off)", P->rkhs_lambda, 0, 1e12, PETSC_FALSE, &P->rkhs_lambda, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-fr_rkhs_h", "Width of the Gaussian kernel of the RKHS regression (default L/20 on the torus, 1 in free space)", P->rkhs_h, 0, 1e6, PETSC_TRUE, &P->rkhs_h, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-fr_rkhs_rtol", "Relative residual at which conjugate gradients stop", P->rkhs_rtol, 0, 0.1, PETSC_TRUE, &P->rkhs_rtol, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-fr_rkhs_maxit", "Most conjugate-gradient iterations per solve", P->rkhs_maxit, 1, 1 << 20, &P->rkhs_maxit, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-resample_ess", "Resample (systematic, the same on any number of ranks) when the effective sample size 1/sum w^2 drops below this fraction of N (0: never)", 0.0, 0.0, 1.0, PETSC_FALSE, &P->resample_ess, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -fr_rkhs_lambda > 0: the regression kernel and its solver. */
static PetscErrorCode SetupRkhs(KfParticles P)
{
  PetscFunctionBeginUser;
  if (!(P->rkhs_lambda > 0)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(P->domain == KF_DOMAIN_FREE || P->rkhs_h <= P->p->L, P->comm, KF_ERR_INPUT, "-fr_rkhs_h %s: at most L = %s on the torus", KF_NUM(P->rkhs_h), KF_NUM(P->p->L));
  PetscCall(KfKernelCreateGaussian(P->dim, P->domain, P->p->L, P->rkhs_h, &P->rkhs_kernel));
  PetscCall(KfRkhsCreate(P->ring, P->rkhs_kernel, P->nlocal, P->ldt, P->rkhs_lambda, P->rkhs_rtol, P->rkhs_maxit, &P->rkhs));
  PetscCall(PetscCalloc1(P->ldt, &P->xi));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Fisher-Rao direction after FirstVariation: V itself, or its RKHS regression xi (and sum_i w_i xi_i). */
static PetscErrorCode ReactionDirection(KfParticles P)
{
  PetscReal *wxi = P->vwork + 2 * P->nlocal;

  PetscFunctionBeginUser;
  if (!P->rkhs) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KfRkhsSolve(P->rkhs, P->xt, P->xs, P->qs, P->vwork, P->xi));
  for (PetscInt i = 0; i < P->nlocal; i++) wxi[i] = P->qs[i] * P->xi[i];
  PetscCall(KfRingReduce(P->ring, 1, wxi, &P->xibar));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After SetupEntropy: the options that contradict each other. */
static PetscErrorCode CheckWeightOptions(KfParticles P)
{
  PetscFunctionBeginUser;
  PetscCheck(P->frstep != KF_FRSTEP_EXP || P->p->sigma > 0, P->comm, KF_ERR_INPUT, "-fr_step exp: the entropy-exact step needs the entropy, -sigma > 0");
  PetscCheck(!(P->rkhs_lambda > 0 && P->frstep == KF_FRSTEP_EXP), P->comm, KF_ERR_INPUT, "-fr_rkhs_lambda with -fr_step exp: the entropy-exact step follows V, not its regression; use -fr_step rk or md");
  PetscCheck(!(P->resample_ess > 0 && P->lrho0), P->comm, KF_ERR_INPUT, "-resample_ess %s with -entropy_estimate weights: the estimate needs the positions drawn from -init, which resampling replaces; use -entropy_estimate kde", KF_NUM(P->resample_ess));
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
  PetscCall(ReadReactionScheme(comm, p, &P->bd));
  P->weighted = (PetscBool)(p->flow != KF_FLOW_WASSERSTEIN && p->flow != KF_FLOW_STEIN && !P->bd);
  P->nc       = !P->weighted ? P->dim : p->flow == KF_FLOW_FISHER_RAO ? 1 : P->dim + 1;
  P->kmd      = p->kmd ? 1.0 : 0.0;
  PetscCall(ReadOptions(P));
  PetscCall(SetupPotential(P));
  PetscCheck(!P->samples[0] || !strcmp(p->target, "uniform"), comm, KF_ERR_INPUT, "-target %s and -target_samples %s: give the target one way, not both", p->target, P->samples);
  PetscCheck(P->domain == KF_DOMAIN_TORUS || !strcmp(p->target, "uniform"), comm, KF_ERR_INPUT, "-target %s: a density on a grid needs -domain torus; in free space give the target as -target_samples", p->target);
  P->ldt = PetscMax(KF_KERNEL_WIDTH, (P->nlocal + KF_KERNEL_WIDTH - 1) / KF_KERNEL_WIDTH * KF_KERNEL_WIDTH);
  PetscCall(PetscCalloc5(P->dim * P->ldt, &P->xt, P->dim * PetscMax(1, P->nlocal), &P->xs, PetscMax(1, P->nlocal), &P->qs, P->dim * P->ldt, &P->grad, P->ldt, &P->pot));
  PetscCall(PetscMalloc1(4 * PetscMax(1, P->nlocal), &P->vwork));
  for (PetscInt i = 0; i < P->nlocal; i++) P->qs[i] = 1.0 / (PetscReal)P->N;
  P->rkhs_h     = P->domain == KF_DOMAIN_TORUS ? P->p->L / 20 : 1;
  P->rkhs_rtol  = 1e-10;
  P->rkhs_maxit = 1000;
  PetscCall(ReadWeightOptions(P));
  PetscCall(InitState(P));
  PetscCall(SetupLongRange(P));
  PetscCall(SetupSamples(P));
  if (P->domain == KF_DOMAIN_TORUS && !P->sring) PetscCall(SetupGridTarget(P));
  if (P->field) PetscCall(PetscCalloc2(P->dim * P->ldt, &P->sgrad, P->ldt, &P->spot));
  if (p->sigma > 0) PetscCall(SetupEntropy(P));
  if (p->flow == KF_FLOW_STEIN) {
    PetscCheck(P->domain == KF_DOMAIN_TORUS, comm, KF_ERR_INPUT, "-flow stein: needs -domain torus (pi is a density on the grid)");
    PetscCall(KfKernelCreateGaussian(P->dim, KF_DOMAIN_TORUS, p->L, p->stein_h, &P->stein));
    PetscCall(PetscCalloc3(P->dim * P->ldt, &P->svel, P->ldt, &P->sq, P->dim * P->ldt, &P->sg));
  }
  PetscCall(SetupRkhs(P));
  PetscCall(CheckWeightOptions(P));
  *out = P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesDestroy(KfParticles *P)
{
  PetscFunctionBeginUser;
  if (!*P) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree5((*P)->xt, (*P)->xs, (*P)->qs, (*P)->grad, (*P)->pot));
  PetscCall(PetscFree((*P)->vwork));
  if ((*P)->kde) PetscCall(PetscFree6((*P)->epot, (*P)->egrad, (*P)->kpot, (*P)->kgrad, (*P)->ppot, (*P)->pgrad));
  PetscCall(KfKernelDestroy(&(*P)->kde));
  if ((*P)->stein) PetscCall(PetscFree3((*P)->svel, (*P)->sq, (*P)->sg));
  PetscCall(KfKernelDestroy(&(*P)->stein));
  PetscCall(KfRkhsDestroy(&(*P)->rkhs));
  PetscCall(KfKernelDestroy(&(*P)->rkhs_kernel));
  PetscCall(PetscFree((*P)->xi));
  PetscCall(KfFourierDestroy(&(*P)->pif));
  PetscCall(PetscFree((*P)->piamp));
  PetscCall(PetscFree((*P)->lrho0));
  PetscCall(PetscFree((*P)->xfix));
  if ((*P)->field) PetscCall(PetscFree2((*P)->sgrad, (*P)->spot));
  if ((*P)->sring) {
    PetscCall(PetscFree((*P)->ys));
    PetscCall(PetscFree((*P)->qy));
  }
  if ((*P)->lr) PetscCall(PetscFree3((*P)->sx, (*P)->sy, (*P)->amp));
  PetscCall(KfFourierDestroy(&(*P)->lr));
  PetscCall(KfFourierDestroy(&(*P)->tf));
  PetscCall(PetscFree((*P)->tamp));
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

/* Adds the long-range modes of charges with structure factor S to grad (and pot) at the local particles. */
static PetscErrorCode AddLongRange(KfParticles P, const PetscReal S[], PetscReal grad[], PetscReal pot[])
{
  PetscInt nk;

  PetscFunctionBeginUser;
  PetscCall(KfFourierGetList(P->lr, &nk, NULL));
  for (PetscInt m = 0; m < 2 * nk; m++) P->amp[m] = P->lrcoef[m / 2] * S[m];
  PetscCall(KfFourierField(P->lr, P->amp, P->nlocal, P->ldt, P->xt, grad, pot));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The target's field at the local particles: samples (ring + modes) or a grid target (modes + constant). */
static PetscErrorCode TargetField(KfParticles P, PetscBool with_pot)
{
  PetscReal *pot = with_pot ? P->spot : NULL;

  PetscFunctionBeginUser;
  if (P->sring) {
    PetscCall(KfRingSum(P->sring, P->kernel, P->nlocal, P->ldt, P->xt, P->ys, P->qy, P->sgrad, pot));
    if (P->lr) PetscCall(AddLongRange(P, P->sy, P->sgrad, pot));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscArrayzero(P->sgrad, P->dim * P->ldt));
  for (PetscInt i = 0; pot && i < P->ldt; i++) pot[i] = P->tconst;
  if (P->tf) PetscCall(KfFourierField(P->tf, P->tamp, P->nlocal, P->ldt, P->xt, P->sgrad, pot));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log pi and grad log pi at the local particles into ppot, pgrad; *bad counts particles where pi <= 0 (the torus
   reference between grid points). */
static PetscErrorCode ReferenceAtParticles(KfParticles P, PetscInt *bad)
{
  const PetscInt n = P->nlocal, ld = P->ldt, d = P->dim;

  PetscFunctionBeginUser;
  if (P->domain == KF_DOMAIN_FREE) {
    for (PetscInt i = 0; i < n; i++) {
      PetscReal x[KF_MAX_DIM], g[KF_MAX_DIM];

      for (PetscInt c = 0; c < d; c++) x[c] = P->xt[c * ld + i];
      P->ppot[i] = KfGaussianLogDensity(&P->gref, x, g);
      for (PetscInt c = 0; c < d; c++) P->pgrad[c * ld + i] = g[c];
    }
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscArrayzero(P->pgrad, d * ld));
  for (PetscInt i = 0; i < ld; i++) P->ppot[i] = P->pi0;
  if (P->pif) PetscCall(KfFourierField(P->pif, P->piamp, n, ld, P->xt, P->pgrad, P->ppot));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal pi = P->ppot[i];

    if (!(pi > 0)) {
      (*bad)++;
      continue;
    }
    P->ppot[i] = PetscLogReal(pi);
    for (PetscInt c = 0; c < d; c++) P->pgrad[c * ld + i] /= pi;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The entropy's terms at the particles (needs LoadBlock and the weights in qs): epot = log rho~(X_i) - log pi(X_i) and
  egrad = grad of it, rho~ = sum_j w_j K_h(X_i - X_j) by a second ring pass (or the exact log(N w_i) + log rho_0(X_i)).
  A non-positive pi or estimate is a collective error (the estimate is positive unless it underflows: h far below the
  particle spacing).
*/
static PetscErrorCode Entropy(KfParticles P)
{
  const PetscInt n = P->nlocal, ld = P->ldt, d = P->dim;
  PetscInt       bad = 0;

  PetscFunctionBeginUser;
  if (P->lrho0) PetscCall(PetscArrayzero(P->kgrad, d * ld));
  else PetscCall(KfRingSum(P->ring, P->kde, n, ld, P->xt, P->xs, P->qs, P->kgrad, P->kpot));
  if (!P->pi_fixed) {
    PetscCall(ReferenceAtParticles(P, &bad));
    P->pi_fixed = (PetscBool)(P->xfix != NULL);
  }
  for (PetscInt i = 0; i < n; i++) {
    if (!(P->lrho0 ? P->qs[i] > 0 : P->kpot[i] > 0)) {
      bad++;
      continue;
    }
    P->epot[i] = (P->lrho0 ? PetscLogReal((PetscReal)P->N * P->qs[i]) + P->lrho0[i] : PetscLogReal(P->kde_norm * P->kpot[i])) - P->ppot[i];
    for (PetscInt c = 0; c < d; c++) P->egrad[c * ld + i] = (P->lrho0 ? 0 : P->kgrad[c * ld + i] / P->kpot[i]) - P->pgrad[c * ld + i];
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_SUM, P->comm));
  PetscCheck(!bad, P->comm, KF_ERR_NONFINITE, "the entropy term: the density estimate or the reference pi is not positive at %" PetscInt_FMT " particles (pi <= 0 between grid points, or weights that underflowed)", bad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  SVGD (math spec E, row 5) for F = sigma KL(mu | pi): v_i = sigma (1/N) sum_j [k(X_i - X_j) grad log pi(X_j) - grad k(X_i - X_j)],
  by d ring passes with the charges d_c log pi(X_j)/N (potentials) and one with 1/N (gradients). Needs Entropy() (pi at the particles).
*/
static PetscErrorCode SteinVelocity(KfParticles P)
{
  const PetscInt n = P->nlocal, ld = P->ldt, d = P->dim;

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < d; c++) {
    for (PetscInt i = 0; i < n; i++) P->sq[i] = P->pgrad[c * ld + i] / (PetscReal)P->N; /* grad log pi(X_j)/N */
    PetscCall(KfRingSum(P->ring, P->stein, n, ld, P->xt, P->xs, P->sq, P->sg, P->svel + c * ld));
  }
  PetscCall(KfRingSum(P->ring, P->stein, n, ld, P->xt, P->xs, P->qs, P->sg, NULL));
  for (PetscInt c = 0; c < d; c++)
    for (PetscInt i = 0; i < n; i++) P->svel[c * ld + i] = P->p->sigma * (P->svel[c * ld + i] - P->sg[c * ld + i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad (and pot) of the particle sums (charges: the weights) and, with a target, sgrad/spot of its field, for the state u;
   without with_kmd (a right-hand side under -energy none) those KMD sums are skipped and zero. */
static PetscErrorCode Sums(KfParticles P, const PetscScalar u[], PetscBool with_pot, PetscBool with_kmd)
{
  PetscInt         ld;
  const PetscReal *x = StatePositions(P, u, &ld);

  PetscFunctionBeginUser;
  LoadBlock(P, x, ld, P->xt, P->xs);
  PetscCall(LoadWeights(P, u));
  if (with_kmd) {
    PetscCall(KfRingSum(P->ring, P->kernel, P->nlocal, P->ldt, P->xt, P->xs, P->qs, P->grad, with_pot ? P->pot : NULL));
    if (P->lr) {
      if (P->weighted) PetscCall(KfFourierStructureWeighted(P->lr, P->nlocal, P->ldt, P->xt, P->qs, P->sx));
      else PetscCall(KfFourierStructure(P->lr, P->nlocal, P->ldt, P->xt, 1.0 / (PetscReal)P->N, P->sx));
      PetscCall(AddLongRange(P, P->sx, P->grad, with_pot ? P->pot : NULL));
    }
    if (P->field) PetscCall(TargetField(P, with_pot));
  } else { /* -energy none: the KMD terms carry weight 0 in the velocity and V */
    PetscCall(PetscArrayzero(P->grad, P->dim * P->ldt));
    PetscCall(PetscArrayzero(P->pot, P->ldt));
    if (P->field) {
      PetscCall(PetscArrayzero(P->sgrad, P->dim * P->ldt));
      PetscCall(PetscArrayzero(P->spot, P->ldt));
    }
  }
  if (P->kde) PetscCall(Entropy(P));
  if (P->stein) PetscCall(SteinVelocity(P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Velocity(KfParticles P, PetscInt i, PetscInt c)
{
  if (P->stein) return P->svel[c * P->ldt + i];
  const PetscReal v = P->kmd * (-P->grad[c * P->ldt + i] + (P->field ? P->sgrad[c * P->ldt + i] : 0));

  return (P->kde ? v - P->p->sigma * P->egrad[c * P->ldt + i] : v) - (P->potential ? P->potb[c] : 0);
}

/* V_i = dE/dmu at particle i (pot - target potential) into vwork[0..n), and sum_i w_i V_i; needs Sums(.., TRUE). */
static PetscErrorCode FirstVariation(KfParticles P, PetscReal *vbar)
{
  const PetscInt n = P->nlocal;
  PetscReal     *V = P->vwork, *wV = P->vwork + n;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n; i++) {
    V[i]  = P->kmd * (P->pot[i] - (P->field ? P->spot[i] : 0)) + (P->kde ? P->p->sigma * P->epot[i] : 0) + Potential(P, i);
    wV[i] = P->qs[i] * V[i];
  }
  PetscCall(KfRingReduce(P->ring, 1, wV, vbar));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  d/dt of particle i's weight entry: rk: dw_i/dt = -alpha w_i (V_i - Vbar); md: dr_i/dt = -alpha (V_i - Vbar) for r = log w
  (forward Euler on r is the mirror-descent step of math spec D.5); exp: the entropy-exact step of D.5 as an Euler
  increment, (r_new - r_i)/tau with r_new = a r^_i - (1 - a)/sigma (V_i - sigma r^_i), a = e^{-alpha sigma tau},
  r^_i = log(N w_i): exact for any tau when F is linear in mu.
*/
static PetscReal WeightRate(KfParticles P, TS ts, const PetscScalar u[], PetscInt i, PetscReal vbar)
{
  const PetscReal alpha = P->p->alpha, sigma = P->p->sigma, r = u[i * P->nc + P->nc - 1];
  const PetscReal dir = P->rkhs ? P->xi[i] - P->xibar : P->vwork[i] - vbar; /* V or its regression, centred */
  PetscReal       tau, a, rhat;

  if (P->frstep == KF_FRSTEP_RK) return -alpha * P->qs[i] * dir;
  if (P->frstep == KF_FRSTEP_MD || !ts) return -alpha * dir;
  (void)TSGetTimeStep(ts, &tau);
  a    = PetscExpReal(-alpha * sigma * tau);
  rhat = PetscLogReal((PetscReal)P->N * P->qs[i]);
  return (a * rhat - (1 - a) / sigma * (P->vwork[i] - sigma * rhat) - r) / tau;
}

/* dx_i/dt = -beta grad V(X_i), dw_i/dt = -alpha w_i (V_i - sum_j w_j V_j) (math spec F.1; beta = 1, alpha = 0: Wasserstein). */
PetscErrorCode KfParticlesRHSFunction(TS ts, PetscReal t, Vec X, Vec F, void *ctx)
{
  KfParticles        P = (KfParticles)ctx;
  const PetscInt     nc = P->nc;
  const PetscScalar *x;
  PetscScalar       *f;
  PetscReal          vbar = 0;

  PetscFunctionBeginUser;
  if (P->bd && P->p->beta == 0) { /* Fisher-Rao by jumps alone: nothing moves between them */
    PetscCall(VecZeroEntries(F));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscLogEventBegin(KF_EVENT_PARTICLE_RHS, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(Sums(P, x, P->weighted, (PetscBool)(P->kmd > 0)));
  if (P->weighted) PetscCall(FirstVariation(P, &vbar));
  if (P->weighted) PetscCall(ReactionDirection(P));
  PetscCall(VecGetArray(F, &f));
  for (PetscInt i = 0; i < P->nlocal; i++) {
    if (!P->xfix)
      for (PetscInt c = 0; c < P->dim; c++) f[i * nc + c] = P->p->beta * Velocity(P, i, c);
    if (P->weighted) f[i * nc + nc - 1] = WeightRate(P, ts, x, i, vbar);
  }
  PetscCall(VecRestoreArray(F, &f));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(PetscLogEventEnd(KF_EVENT_PARTICLE_RHS, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  E_off = (1/2) sum_{i != j} w_i w_j K(X_i - X_j) - sum_i w_i (K * nu)(X_i) + <nu, K * nu>/2 (math spec A.4; w_i = 1/N
  without weights), E = E_off + (1/2) sum_i w_i^2 K(0) where K(0) is finite (energy_kmd; 0 for -energy none), plus
  sigma sum_i w_i (log rho~ - log pi)(X_i) with the entropy; the dissipation -dE/dt =
  beta sum_i w_i |grad V_i|^2 + alpha sum_i w_i (V_i - Vbar)^2 (math spec F.1). Per-particle terms, then one
  reproducible reduction.
*/
PetscErrorCode KfParticlesDiagnostics(KfParticles P, PetscReal t, Vec X, KfParticleDiag *dg)
{
  const PetscInt     n = P->nlocal, d = P->dim, ncomp = 7 + d;
  const PetscScalar *x;
  const PetscReal   *pos;
  PetscReal         *v, sum[7 + KF_MAX_DIM], vbar = 0;
  PetscInt           ld;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(Sums(P, x, PETSC_TRUE, PETSC_TRUE)); /* energy_kmd is recorded whatever -energy says */
  if (P->weighted || P->bd) PetscCall(FirstVariation(P, &vbar));
  if (P->weighted) PetscCall(ReactionDirection(P));
  pos = StatePositions(P, x, &ld);
  PetscCall(PetscMalloc1(PetscMax(1, ncomp * n), &v));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal w = P->qs[i];
    PetscReal       v2 = 0;

    for (PetscInt c = 0; c < d; c++) v2 += PetscSqr(Velocity(P, i, c));
    v[i]         = 0.5 * w * (P->pot[i] - w * P->k0) - w * (P->field ? P->spot[i] : 0);
    v[n + i]     = v2 * w;
    v[2 * n + i] = 0.5 * w * w;
    v[3 * n + i] = w;
    v[4 * n + i] = P->weighted || P->bd ? w * (P->vwork[i] - vbar) * (P->rkhs ? P->xi[i] - P->xibar : P->vwork[i] - vbar) : 0;
    if (P->stein) { /* -dE/dt with the KDE's grad V = sigma egrad: an estimate (SVGD is not the gradient flow of that E) */
      v[4 * n + i] = 0;
      for (PetscInt c = 0; c < d; c++) v[4 * n + i] -= w * P->p->sigma * P->egrad[c * P->ldt + i] * Velocity(P, i, c);
    }
    v[5 * n + i] = P->kde ? w * P->epot[i] : 0;
    for (PetscInt c = 0; c < d; c++) v[(6 + c) * n + i] = pos[i * ld + c] * w;
    v[(6 + d) * n + i] = w * Potential(P, i);
  }
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(KfRingReduce(P->ring, ncomp, v, sum));
  PetscCall(PetscFree(v));
  dg->time         = t;
  dg->energy_off   = P->kmd * (sum[0] + 0.5 * P->nu_energy) + P->p->sigma * sum[5] + sum[6 + d];
  dg->energy_kmd   = sum[0] + 0.5 * P->nu_energy + (P->k0_finite ? P->k0 * sum[2] : 0);
  dg->energy       = dg->energy_off + (P->k0_finite ? P->kmd * P->k0 * sum[2] : 0);
  dg->mean_v2      = sum[1];
  dg->total_weight = sum[3];
  dg->ess          = 1.0 / (2 * sum[2]);
  dg->dissipation  = P->stein ? sum[4] : (P->xfix ? 0 : P->p->beta * sum[1]) + P->p->alpha * sum[4];
  for (PetscInt c = 0; c < d; c++) dg->centroid[c] = sum[6 + c] / sum[3];
  dg->birth_death  = P->bd;
  dg->bd_events    = (PetscReal)(P->bds.kills + P->bds.duplications);
  dg->bd_expected  = P->bds.expected;
  PetscCall(PetscLogEventEnd(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesOutputPositions(KfParticles P, Vec X, PetscReal out[])
{
  const PetscScalar *u;
  const PetscReal   *x;
  PetscInt           ld;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(X, &u));
  x = StatePositions(P, u, &ld);
  for (PetscInt i = 0; i < P->nlocal; i++)
    for (PetscInt c = 0; c < P->dim; c++) out[i * P->dim + c] = P->domain == KF_DOMAIN_TORUS ? Wrap(x[i * ld + c], P->p->L) : x[i * ld + c];
  PetscCall(VecRestoreArrayRead(X, &u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParticlesOutputWeights(KfParticles P, Vec X, PetscReal out[])
{
  const PetscScalar *u;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(X, &u));
  PetscCall(LoadWeights(P, u));
  for (PetscInt i = 0; i < P->nlocal; i++) out[i] = P->qs[i];
  PetscCall(VecRestoreArrayRead(X, &u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool KfParticlesWeighted(KfParticles P)
{
  return P->weighted;
}

PetscErrorCode KfParticlesDescribe(KfParticles P, char buf[], size_t len)
{
  char kd[256];

  PetscFunctionBeginUser;
  PetscCall(KfKernelDescribe(P->kernel, kd, sizeof(kd)));
  PetscCall(PetscSNPrintf(buf, len, "N = %" PetscInt64_FMT " particles (%s), kernel %s, target %s%s", P->N, P->p->init, kd, P->sring ? "samples " : P->domain == KF_DOMAIN_TORUS ? "" : "none (nu = 0)", P->sring ? P->samples : P->domain == KF_DOMAIN_TORUS ? P->p->target : ""));
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
  { /* the options of weighted particles and of the entropy, with their defaults */
    struct _p_KfParticles Q;
    PetscReal             h = p->L / (2 * PETSC_PI);
    PetscInt              est = 0;

    PetscCall(PetscMemzero(&Q, sizeof(Q)));
    Q.comm     = comm;
    Q.p        = p;
    Q.weighted = PETSC_TRUE;
    KfGaussian            g;

    Q.rkhs_h     = p->L / 20;
    Q.rkhs_rtol  = 1e-10;
    Q.rkhs_maxit = 1000;
    PetscCall(ReadReactionScheme(comm, p, &Q.bd));
    PetscCall(ReadWeightOptions(&Q));
    Q.dim = p->dim;
    PetscCall(SetupPotential(&Q));
    PetscCall(KfGaussianFromOptions(comm, p->dim, "init", &g));
    PetscCall(KfGaussianFromOptions(comm, p->dim, "reference", &g));
    PetscOptionsBegin(comm, NULL, "Entropy of particles", "kmdflow");
    PetscCall(KfOptionsReal(PetscOptionsObject, "-kde_h", "Bandwidth h of the density estimate in the entropy (default (L/2pi) N^(-1/(d+4)); h <= L/4)", h, 0, p->L / 4, PETSC_TRUE, &h, NULL));
    PetscCall(KfOptionsEnum(PetscOptionsObject, "-entropy_estimate", "log rho at the particles: kde or weights (-flow fisher_rao)", KfEntropyEstimates, 0, &est));
    PetscOptionsEnd();
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- checkpoints (src/checkpoint.c): the state outside the TS Vec ---- */

/* The positions kept outside the state (Fisher-Rao: rows nlocal x d; NULL otherwise) and the resampling counter, which keys the
   resampling draws. */
PetscErrorCode KfParticlesGetExtraState(KfParticles P, PetscReal **xfix, KfParticleCounters *c)
{
  PetscFunctionBeginUser;
  *xfix              = P->xfix;
  c->nresample       = P->nresample;
  c->bd[0]           = (PetscReal)P->bds.kills;
  c->bd[1]           = (PetscReal)P->bds.duplications;
  c->bd[2]           = P->bds.expected;
  c->bd[3]           = P->bds.max_rate_tau;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After a restart wrote the state and the fixed positions: the counters, and no cached values at the old fixed positions. */
PetscErrorCode KfParticlesSetExtraState(KfParticles P, const KfParticleCounters *c)
{
  PetscFunctionBeginUser;
  P->nresample        = c->nresample;
  P->bds.kills        = (PetscInt64)c->bd[0];
  P->bds.duplications = (PetscInt64)c->bd[1];
  P->bds.expected     = c->bd[2];
  P->bds.max_rate_tau = c->bd[3];
  P->pi_fixed         = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
