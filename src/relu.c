/* relu.c - the mean-field shallow ReLU teacher-student problem on S^d as a Wasserstein-Fisher-Rao flow of neurons
   (math spec F.2, G15; docs/relu.md): arc-cosine interaction sums by the ring (KfRingApply), so every rank count
   gives the same bits */
#include <math.h>
#include <string.h>
#include <petscts.h>
#include "kf_io.h"
#include "kf_log.h"
#include "kf_relu.h"
#include "kf_ring.h"
#include "kf_rng.h"
#include "kf_run.h"
#include "kf_stepper.h"

typedef enum {
  KF_RELU_THETA_M,
  KF_RELU_AW
} KfReluParam;
static const char *const KfReluParams[] = {"theta_m", "aw", "KfReluParam", "KF_RELU_", NULL};

/* Streams of the counter-based generator: component e of student / teacher neuron id draws from stream base + e. */
#define KF_STREAM_STUDENT 0x72656c7500000000ULL
#define KF_STREAM_TEACHER 0x7465616300000000ULL

/* The options of -problem relu as given (defaults filled in), shared by the run and -help. */
typedef struct {
  PetscInt  param;
  PetscReal J, K; /* students (-particles), random teacher neurons */
  PetscReal student_mass, teacher_mass, alpha, beta, aw_scale;
  PetscInt  leaf;
  char      teacher[KF_SPEC_LEN];
} ReluOptions;

typedef struct {
  PetscReal time, loss, dissipation, mass, balance_drift;
} ReluDiag;

typedef struct {
  MPI_Comm        comm;
  const KfParams *p;
  ReluOptions     o;
  PetscInt        d, D, nc; /* sphere S^d in R^D, D = d + 1; state rows of nc = D + 1 values: (theta, m) or (w, a) */
  PetscInt64      J, K, start, tstart;
  PetscInt        nlocal, klocal, ldt;
  KfRing          ring, tring; /* students (charges m_j), teacher (charges nu_k) */
  Vec             X;
  PetscReal      *xt;        /* D x ldt: unit directions of the local students, the targets of both ring passes */
  PetscReal      *xs, *qs;   /* D x nlocal: the same as sources; their masses */
  PetscReal      *ts, *tq;   /* D x klocal: the local teacher directions; nu_k */
  PetscReal      *acc, *tacc; /* (D + 1) x ldt: sum q kappa'(c) theta' (D rows), sum q kappa(c), unscaled */
  PetscReal      *Vmu, *Vnu, *G; /* per local student: int kappa dmu, int kappa dnu, grad_S V (D x ldt) */
  PetscReal      *b0;        /* aw: a^2 - |w|^2 at t = 0 */
  PetscReal       teacher_energy; /* <nu, kappa nu> = sum_kl nu_k nu_l kappa(theta*_k.theta*_l) */
  /* the run */
  KfStepper      st;
  KfIO           io;
  PetscInt       nout;
  ReluDiag       first, last;
  PetscReal     *rows, *mass; /* output directions (nlocal x D) and masses of this rank */
  PetscLogDouble t_start;
} KfRelu;

PetscReal KfReluKappa(PetscInt d, PetscReal c)
{
  c = PetscMin(1.0, PetscMax(-1.0, c));
  return (PetscSqrtReal((1 - c) * (1 + c)) + (PETSC_PI - PetscAcosReal(c)) * c) / (2 * PETSC_PI * (PetscReal)(d + 1));
}

PetscReal KfReluKappaPrime(PetscInt d, PetscReal c)
{
  c = PetscMin(1.0, PetscMax(-1.0, c));
  return (PETSC_PI - PetscAcosReal(c)) / (2 * PETSC_PI * (PetscReal)(d + 1));
}

/* ---- the interaction: one leaf of neurons (sources) against the local students (targets) ---- */

typedef struct {
  PetscInt         D, nt, ldt;
  const PetscReal *xt;
} ReluTargets;

/*
  out[e*ldt + i] += sum_j q_j (pi - arccos c_ij) theta_j,e and out[D*ldt + i] += sum_j q_j (sqrt(1 - c^2) + (pi - arccos c) c),
  c_ij = theta_i.theta_j: 2 pi (d + 1) times the kappa' and kappa sums (the factor is applied once, after the ring).
  Targets outer, sources inner in order, scalar code: each target's bits depend on it and the leaf only (KfRingApply).
*/
static void ReluLeaf(void *ctx, PetscInt ns, PetscInt lds, const PetscReal xs[], const PetscReal qs[], PetscReal out[])
{
  const ReluTargets *T = (const ReluTargets *)ctx;
  const PetscInt     D = T->D, ldt = T->ldt;

  for (PetscInt i = 0; i < T->nt; i++) {
    PetscReal g[KF_RELU_MAX_DIM + 1], pot = 0;

    for (PetscInt e = 0; e < D; e++) g[e] = 0;
    for (PetscInt j = 0; j < ns; j++) {
      PetscReal c = 0, kp, qkp;

      for (PetscInt e = 0; e < D; e++) c += T->xt[e * ldt + i] * xs[e * lds + j];
      c   = PetscMin(1.0, PetscMax(-1.0, c));
      kp  = PETSC_PI - PetscAcosReal(c);
      pot += qs[j] * (PetscSqrtReal((1 - c) * (1 + c)) + kp * c);
      qkp = qs[j] * kp;
      for (PetscInt e = 0; e < D; e++) g[e] += qkp * xs[e * lds + j];
    }
    for (PetscInt e = 0; e < D; e++) out[e * ldt + i] += g[e];
    out[D * ldt + i] += pot;
  }
}

/* Unit direction and mass of local student i from its state row: (theta, m), or (w, a) with theta = w/|w|, m = a|w|/J. */
static PetscReal LoadRow(const KfRelu *R, const PetscScalar row[], PetscReal theta[])
{
  PetscReal r2 = 0, r;

  for (PetscInt e = 0; e < R->D; e++) r2 += row[e] * row[e];
  r = PetscSqrtReal(r2);
  for (PetscInt e = 0; e < R->D; e++) theta[e] = row[e] / r;
  return R->o.param == KF_RELU_AW ? row[R->D] * r / (PetscReal)R->J : row[R->D];
}

/*
  V(theta_i) = Vmu_i - Vnu_i and grad_S V(theta_i) = (I - theta theta^T) int kappa'(theta.theta') theta' d(mu - nu) at the
  local students of state u (RK stages may leave the sphere: the directions are normalised first, so the right-hand
  side depends on theta/|theta| only). Two ring passes: students, teacher. Collective.
*/
static PetscErrorCode ReluSums(KfRelu *R, const PetscScalar u[])
{
  const PetscInt  D = R->D, ldt = R->ldt, n = R->nlocal, len = (D + 1) * ldt;
  const PetscReal scale = 1.0 / (2 * PETSC_PI * (PetscReal)(R->d + 1));
  ReluTargets     T = {D, n, ldt, R->xt};

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n; i++) {
    PetscReal theta[KF_RELU_MAX_DIM + 1];

    R->qs[i] = LoadRow(R, u + i * R->nc, theta);
    for (PetscInt e = 0; e < D; e++) R->xt[e * ldt + i] = R->xs[e * n + i] = theta[e];
  }
  PetscCall(KfRingApply(R->ring, len, ReluLeaf, &T, R->xs, R->qs, R->acc));
  PetscCall(KfRingApply(R->tring, len, ReluLeaf, &T, R->ts, R->tq, R->tacc));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal dot = 0;

    R->Vmu[i] = scale * R->acc[D * ldt + i];
    R->Vnu[i] = scale * R->tacc[D * ldt + i];
    for (PetscInt e = 0; e < D; e++) {
      R->G[e * ldt + i] = scale * (R->acc[e * ldt + i] - R->tacc[e * ldt + i]);
      dot += R->G[e * ldt + i] * R->xt[e * ldt + i];
    }
    for (PetscInt e = 0; e < D; e++) R->G[e * ldt + i] -= dot * R->xt[e * ldt + i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  theta_m: dtheta/dt = -beta grad_S V, dm/dt = -alpha m V (math spec F.2, unbalanced WFR).
  aw: gradient flow of J F(a, w) (time rescaled by J): da/dt = -|w| V, dw/dt = -a (theta V + grad_S V), theta = w/|w|;
  it conserves a^2 - |w|^2 and, balanced (a = |w|), is the theta_m flow with (alpha, beta) = (2, 1).
*/
static PetscErrorCode ReluRHS(TS ts, PetscReal t, Vec X, Vec F, void *ctx)
{
  KfRelu            *R = (KfRelu *)ctx;
  const PetscInt     D = R->D, nc = R->nc, ldt = R->ldt;
  const PetscScalar *u;
  PetscScalar       *f;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_PARTICLE_RHS, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &u));
  PetscCall(ReluSums(R, u));
  PetscCall(VecGetArray(F, &f));
  for (PetscInt i = 0; i < R->nlocal; i++) {
    const PetscReal V = R->Vmu[i] - R->Vnu[i];

    if (R->o.param == KF_RELU_THETA_M) {
      for (PetscInt e = 0; e < D; e++) f[i * nc + e] = -R->o.beta * R->G[e * ldt + i];
      f[i * nc + D] = -R->o.alpha * u[i * nc + D] * V;
    } else {
      PetscReal r2 = 0, a = u[i * nc + D];

      for (PetscInt e = 0; e < D; e++) r2 += u[i * nc + e] * u[i * nc + e];
      for (PetscInt e = 0; e < D; e++) f[i * nc + e] = -a * (R->xt[e * ldt + i] * V + R->G[e * ldt + i]);
      f[i * nc + D] = -PetscSqrtReal(r2) * V;
    }
  }
  PetscCall(VecRestoreArray(F, &f));
  PetscCall(VecRestoreArrayRead(X, &u));
  PetscCall(PetscLogEventEnd(KF_EVENT_PARTICLE_RHS, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  theta_m: back onto the sphere after every accepted step (the projection method: the step leaves the sphere by
  O(dt^{p+1}) only, the same order as its local error, so the order p of the integrator is kept). The right-hand side
  depends on theta/|theta| only, so the stage an FSAL scheme keeps for the next step is still valid: no restart.
*/
static PetscErrorCode NormalizePostStep(TS ts)
{
  KfRelu      *R;
  Vec          X;
  PetscScalar *u;

  PetscFunctionBeginUser;
  PetscCall(TSGetApplicationContext(ts, &R));
  PetscCall(TSGetSolution(ts, &X));
  PetscCall(VecGetArray(X, &u));
  for (PetscInt i = 0; i < R->nlocal; i++) {
    PetscReal theta[KF_RELU_MAX_DIM + 1];

    (void)LoadRow(R, u + i * R->nc, theta);
    for (PetscInt e = 0; e < R->D; e++) u[i * R->nc + e] = theta[e];
  }
  PetscCall(VecRestoreArray(X, &u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  F = (1/2) sum_ij m_i m_j kappa_ij - sum_ik m_i nu_k kappa_ik + (1/2) <nu, kappa nu>; the dissipation -dF/dt =
  beta sum m |grad_S V|^2 + alpha sum m V^2 (theta_m), or (1/J) sum ((a^2 + |w|^2) V^2 + a^2 |grad_S V|^2) (aw: equal to
  the former with (2, 1) when balanced); the balance drift max_j |(a_j^2 - |w_j|^2)(t) - (a_j^2 - |w_j|^2)(0)|.
  Sums by the ring's fixed tree, the drift by an exact max: the same bits on any number of ranks. Collective.
*/
static PetscErrorCode ReluDiagnostics(KfRelu *R, PetscReal t, ReluDiag *dg)
{
  const PetscInt     n = R->nlocal, D = R->D, nc = R->nc, ldt = R->ldt;
  const PetscScalar *u;
  PetscReal         *v, sum[4], drift = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(R->X, &u));
  PetscCall(ReluSums(R, u));
  PetscCall(PetscMalloc1(PetscMax(1, 3 * n), &v));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal m = R->qs[i], V = R->Vmu[i] - R->Vnu[i];
    PetscReal       g2 = 0;

    for (PetscInt e = 0; e < D; e++) g2 += PetscSqr(R->G[e * ldt + i]);
    v[i]     = m * (0.5 * R->Vmu[i] - R->Vnu[i]);
    v[n + i] = R->o.beta * m * g2 + R->o.alpha * m * V * V;
    if (R->o.param == KF_RELU_AW) {
      PetscReal r2 = 0, a = u[i * nc + D];

      for (PetscInt e = 0; e < D; e++) r2 += u[i * nc + e] * u[i * nc + e];
      v[n + i] = ((a * a + r2) * V * V + a * a * g2) / (PetscReal)R->J;
      drift    = PetscMax(drift, PetscAbsReal(a * a - r2 - R->b0[i]));
    }
    v[2 * n + i] = m;
  }
  PetscCall(VecRestoreArrayRead(R->X, &u));
  PetscCall(KfRingReduce(R->ring, 3, v, sum));
  PetscCall(PetscFree(v));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &drift, 1, MPIU_REAL, MPI_MAX, R->comm));
  dg->time          = t;
  dg->loss          = sum[0] + 0.5 * R->teacher_energy;
  dg->dissipation   = sum[1];
  dg->mass          = sum[2];
  dg->balance_drift = drift;
  PetscCall(PetscLogEventEnd(KF_EVENT_DIAG, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- setup ---- */

/* The -problem relu options; -help lists them through the same calls. */
static PetscErrorCode ReluOptionsRead(MPI_Comm comm, ReluOptions *o)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(comm, NULL, "ReLU teacher-student on S^d (-problem relu)", "kmdflow");
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-relu_param", "Student parametrisation: theta_m (neurons theta_j on S^d with masses m_j: the WFR flow) or aw (network weights (a_j, w_j) of f = (1/J) sum a_j max(w_j.x, 0): gradient flow, time rescaled by J)", KfReluParams, o->param, &o->param));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-particles", "Number J of student neurons (>= 1)", o->J, 1, 1e12, PETSC_FALSE, &o->J, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-relu_student_mass", "Total student mass sum_j m_j at t = 0 (m_j = mass/J; directions drawn uniformly on S^d from -seed)", o->student_mass, 0, 1e6, PETSC_TRUE, &o->student_mass, NULL));
  PetscCall(PetscOptionsString("-relu_teacher", "Teacher nu: random (K directions uniform on S^d from -seed, equal masses) or file:PATH:DATASET (HDF5, K x (d+2) float64 rows: direction in R^{d+1} (normalised on reading), mass >= 0)", "kmdflow", o->teacher, o->teacher, sizeof(o->teacher), NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-relu_teacher_neurons", "Number K of random teacher neurons (>= 1)", o->K, 1, 1e12, PETSC_FALSE, &o->K, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-relu_teacher_mass", "Total mass of the random teacher (nu_k = mass/K)", o->teacher_mass, 0, 1e6, PETSC_TRUE, &o->teacher_mass, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-wfr_alpha", "Rate alpha of the Fisher-Rao (mass) part: dm/dt = -alpha m V (theta_m; aw implies 2)", o->alpha, 0, 1e6, PETSC_FALSE, &o->alpha, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-wfr_beta", "Rate beta of the Wasserstein (transport) part: dtheta/dt = -beta grad_S V (theta_m; aw implies 1)", o->beta, 0, 1e6, PETSC_FALSE, &o->beta, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-relu_aw_scale", "aw: initial a_j = s sqrt(J m_j), w_j = sqrt(J m_j) theta_j / s (s = 1: balanced, the theta_m flow; else a^2 - |w|^2 = J m_j (s^2 - 1/s^2))", o->aw_scale, 0, 1e3, PETSC_TRUE, &o->aw_scale, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-ring_leaf", "Neurons per leaf of the reproducible summation tree (0: chosen from J only)", o->leaf, 0, 1 << 24, &o->leaf, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void ReluOptionsDefault(ReluOptions *o)
{
  PetscMemzero(o, sizeof(*o));
  o->param        = KF_RELU_THETA_M;
  o->J            = 100;
  o->K            = 4;
  o->student_mass = 1;
  o->teacher_mass = 1;
  o->alpha        = 2;
  o->beta         = 1;
  o->aw_scale     = 1;
  strcpy(o->teacher, "random");
}

/* The options of the torus problem that would be silently ignored here, and the combinations that contradict. */
static PetscErrorCode ReluCheckOptions(KfRelu *R)
{
  const KfParams *p = R->p;
  PetscBool       flow_set, rate_set[2];

  PetscFunctionBeginUser;
  PetscCheck(R->o.J == PetscFloorReal(R->o.J), R->comm, KF_ERR_INPUT, "-particles %s: expected an integer >= 1", KF_NUM(R->o.J));
  PetscCheck(R->o.K == PetscFloorReal(R->o.K), R->comm, KF_ERR_INPUT, "-relu_teacher_neurons %s: expected an integer >= 1", KF_NUM(R->o.K));
  PetscCheck(R->o.J * (R->d + 2) <= PETSC_MAX_INT, R->comm, KF_ERR_INPUT, "-particles %s: J x (d + 2) must fit the %d-bit PetscInt of this PETSc build", KF_NUM(R->o.J), (int)(8 * sizeof(PetscInt)));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-flow", &flow_set));
  PetscCheck(!flow_set || p->flow == KF_FLOW_WFR, R->comm, KF_ERR_INPUT, "-flow %s: -problem relu is a Wasserstein-Fisher-Rao flow (-flow wfr); set its rates with -wfr_alpha and -wfr_beta", KfFlows[p->flow]);
  PetscCheck(p->sigma == 0 && p->kmd, R->comm, KF_ERR_INPUT, "-sigma/-energy: -problem relu flows the teacher-student loss alone (no entropy, no KMD energy)");
  PetscCall(PetscOptionsHasName(NULL, NULL, "-wfr_alpha", &rate_set[0]));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-wfr_beta", &rate_set[1]));
  PetscCheck(R->o.param != KF_RELU_AW || ((!rate_set[0] || R->o.alpha == 2) && (!rate_set[1] || R->o.beta == 1)), R->comm, KF_ERR_INPUT, "-wfr_alpha %s -wfr_beta %s with -relu_param aw: gradient flow of the weights (a, w) is the WFR flow with (alpha, beta) = (2, 1); other rates need -relu_param theta_m", KF_NUM(R->o.alpha), KF_NUM(R->o.beta));
  PetscCheck(R->o.param == KF_RELU_AW || R->o.aw_scale == 1, R->comm, KF_ERR_INPUT, "-relu_aw_scale %s: only for -relu_param aw", KF_NUM(R->o.aw_scale));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A standard normal from (seed, stream, id) by Box-Muller: the same on any decomposition. */
static PetscReal Gaussian(uint64_t seed, uint64_t stream, PetscInt64 id)
{
  const PetscReal u1 = KfRngUniform(seed, stream, 2 * (uint64_t)id), u2 = KfRngUniform(seed, stream, 2 * (uint64_t)id + 1);

  return PetscSqrtReal(-2 * PetscLogReal(1 - u1)) * PetscCosReal(2 * PETSC_PI * u2);
}

/* Directions uniform on S^d (normalised Gaussian vectors) of ids start.., SoA with leading dimension ld. */
static void DrawSphere(PetscInt D, uint64_t seed, uint64_t stream, PetscInt64 start, PetscInt n, PetscInt ld, PetscReal x[])
{
  for (PetscInt i = 0; i < n; i++) {
    PetscReal r2 = 0;

    for (PetscInt e = 0; e < D; e++) {
      x[e * ld + i] = Gaussian(seed, stream + (uint64_t)e, start + i);
      r2 += x[e * ld + i] * x[e * ld + i];
    }
    for (PetscInt e = 0; e < D; e++) x[e * ld + i] /= PetscSqrtReal(r2);
  }
}

/* Teacher rows (direction, mass) from file:PATH:DATASET into ts/tq; refuses non-finite values, zero directions and
   negative masses (collectively, naming the first bad row). */
static PetscErrorCode ReadTeacherFile(KfRelu *R, const char path[], const char dset[])
{
  const PetscInt D = R->D;
  PetscReal     *rows;
  PetscInt64     bad[3] = {INT64_MAX, INT64_MAX, INT64_MAX}; /* non-finite, zero direction, negative mass */

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(1, R->klocal * (D + 1)), &rows));
  PetscCall(KfIOReadRows(R->comm, path, dset, R->K, D + 1, R->tstart, R->klocal, rows, "relu_teacher"));
  for (PetscInt k = 0; k < R->klocal; k++) {
    const PetscReal *row = rows + k * (D + 1);
    PetscReal        r2  = 0;
    PetscBool        finite = PETSC_TRUE;

    for (PetscInt e = 0; e <= D; e++) finite = (PetscBool)(finite && isfinite(row[e]));
    for (PetscInt e = 0; e < D; e++) r2 += row[e] * row[e];
    if (!finite) bad[0] = PetscMin(bad[0], R->tstart + k);
    else if (!(r2 > 0)) bad[1] = PetscMin(bad[1], R->tstart + k);
    else if (row[D] < 0) bad[2] = PetscMin(bad[2], R->tstart + k);
    for (PetscInt e = 0; e < D && finite && r2 > 0; e++) R->ts[e * PetscMax(1, R->klocal) + k] = row[e] / PetscSqrtReal(r2);
    R->tq[k] = row[D];
  }
  PetscCall(PetscFree(rows));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, bad, 3, MPIU_INT64, MPI_MIN, R->comm));
  PetscCheck(bad[0] == INT64_MAX, R->comm, KF_ERR_INPUT, "-relu_teacher file:%s:%s: non-finite value in row %" PetscInt64_FMT, path, dset, bad[0]);
  PetscCheck(bad[1] == INT64_MAX, R->comm, KF_ERR_INPUT, "-relu_teacher file:%s:%s: row %" PetscInt64_FMT " has direction 0; the first d + 1 = %" PetscInt_FMT " columns must be a nonzero vector", path, dset, bad[1], D);
  PetscCheck(bad[2] == INT64_MAX, R->comm, KF_ERR_INPUT, "-relu_teacher file:%s:%s: row %" PetscInt64_FMT " has a negative mass (last column); teacher masses must be >= 0", path, dset, bad[2]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* nu: its ring, directions and masses, and <nu, kappa nu> (a ring pass of the teacher over itself). */
static PetscErrorCode SetupTeacher(KfRelu *R)
{
  const PetscInt D = R->D;
  PetscBool      isfile, israndom;
  char           path[PETSC_MAX_PATH_LEN] = "";
  const char    *dset = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscStrbeginswith(R->o.teacher, "file:", &isfile));
  PetscCall(PetscStrcmp(R->o.teacher, "random", &israndom));
  PetscCheck(isfile || israndom, R->comm, KF_ERR_INPUT, "-relu_teacher %s: expected random or file:PATH:DATASET", R->o.teacher);
  if (isfile) {
    char *colon;

    PetscCall(PetscStrncpy(path, R->o.teacher + 5, sizeof(path)));
    colon = strrchr(path, ':');
    PetscCheck(colon && colon != path && colon[1], R->comm, KF_ERR_INPUT, "-relu_teacher %s: expected file:PATH:DATASET", R->o.teacher);
    *colon = 0;
    dset   = colon + 1;
    PetscCall(KfIORowCount(R->comm, path, dset, D + 1, "relu_teacher", &R->K));
  } else R->K = (PetscInt64)R->o.K;
  PetscCall(KfRingCreate(R->comm, D, R->K, 0, &R->tring));
  PetscCall(KfRingGetLocal(R->tring, &R->klocal, &R->tstart));
  PetscCall(PetscMalloc2(D * PetscMax(1, R->klocal), &R->ts, PetscMax(1, R->klocal), &R->tq));
  if (isfile) PetscCall(ReadTeacherFile(R, path, dset));
  else {
    DrawSphere(D, (uint64_t)R->p->seed, KF_STREAM_TEACHER, R->tstart, R->klocal, PetscMax(1, R->klocal), R->ts);
    for (PetscInt k = 0; k < R->klocal; k++) R->tq[k] = R->o.teacher_mass / (PetscReal)R->K;
  }
  { /* <nu, kappa nu>: the teacher's own neurons as targets */
    const PetscInt ldk = PetscMax(1, R->klocal), kl = R->klocal;
    PetscReal     *xt, *out, *v, sum;
    ReluTargets    T;

    PetscCall(PetscMalloc3(D * ldk, &xt, (D + 1) * ldk, &out, PetscMax(1, kl), &v));
    for (PetscInt e = 0; e < D; e++)
      for (PetscInt k = 0; k < kl; k++) xt[e * ldk + k] = R->ts[e * PetscMax(1, kl) + k];
    T = (ReluTargets){D, kl, ldk, xt};
    PetscCall(KfRingApply(R->tring, (D + 1) * ldk, ReluLeaf, &T, R->ts, R->tq, out));
    for (PetscInt k = 0; k < kl; k++) v[k] = R->tq[k] * out[D * ldk + k] / (2 * PETSC_PI * (PetscReal)(R->d + 1));
    PetscCall(KfRingReduce(R->tring, 1, v, &sum));
    R->teacher_energy = sum;
    PetscCall(PetscFree3(xt, out, v));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Students: directions uniform on S^d, m_j = mass/J; aw: a_j = s sqrt(J m_j), w_j = sqrt(J m_j) theta_j / s. */
static PetscErrorCode SetupStudents(KfRelu *R)
{
  const PetscInt D = R->D, n = R->nlocal, nc = R->nc;
  const PetscReal m = R->o.student_mass / (PetscReal)R->J, s = R->o.aw_scale, amp = PetscSqrtReal((PetscReal)R->J * m);
  PetscReal     *theta;
  PetscScalar   *u;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(D * PetscMax(1, n), &theta));
  DrawSphere(D, (uint64_t)R->p->seed, KF_STREAM_STUDENT, R->start, n, PetscMax(1, n), theta);
  PetscCall(VecCreateMPI(R->comm, n * nc, (PetscInt)(R->J * nc), &R->X));
  PetscCall(VecGetArray(R->X, &u));
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt e = 0; e < D; e++) u[i * nc + e] = theta[e * PetscMax(1, n) + i] * (R->o.param == KF_RELU_AW ? amp / s : 1);
    u[i * nc + D] = R->o.param == KF_RELU_AW ? s * amp : m;
    if (R->o.param == KF_RELU_AW) R->b0[i] = PetscSqr(s * amp) - PetscSqr(amp / s);
  }
  PetscCall(VecRestoreArray(R->X, &u));
  PetscCall(PetscFree(theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReluSetup(KfRelu *R)
{
  const PetscInt D = R->p->dim + 1;

  PetscFunctionBeginUser;
  ReluOptionsDefault(&R->o);
  PetscCall(ReluOptionsRead(R->comm, &R->o));
  R->d  = R->p->dim;
  R->D  = D;
  R->nc = D + 1;
  PetscCall(ReluCheckOptions(R));
  if (R->o.param == KF_RELU_AW) {
    R->o.alpha = 2;
    R->o.beta  = 1;
  }
  R->J = (PetscInt64)R->o.J;
  PetscCall(KfRingCreate(R->comm, D, R->J, R->o.leaf, &R->ring));
  PetscCall(KfRingGetLocal(R->ring, &R->nlocal, &R->start));
  R->ldt = PetscMax(1, R->nlocal);
  PetscCall(PetscCalloc5(D * R->ldt, &R->xt, D * R->ldt, &R->xs, R->ldt, &R->qs, (D + 1) * R->ldt, &R->acc, (D + 1) * R->ldt, &R->tacc));
  PetscCall(PetscCalloc4(R->ldt, &R->Vmu, R->ldt, &R->Vnu, D * R->ldt, &R->G, R->ldt, &R->b0));
  PetscCall(PetscMalloc2(D * R->ldt, &R->rows, R->ldt, &R->mass));
  PetscCall(SetupTeacher(R));
  PetscCall(SetupStudents(R));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- the run ---- */

/* The max norm (an exact reduction) makes adaptive steps independent of the rank count (as in the other modes). */
static const char *const KfReluDiagNames[] = {"time", "loss", "dissipation", "mass", "balance_drift"};

static PetscErrorCode ReluRecord(void *ctx, PetscReal t)
{
  KfRelu            *R = (KfRelu *)ctx;
  const PetscInt     D = R->D;
  ReluDiag           dg;
  PetscInt           step;
  PetscReal          v[5];
  const PetscScalar *u;

  PetscFunctionBeginUser;
  PetscCall(ReluDiagnostics(R, t, &dg));
  PetscCall(KfStepperCheckFinite(&R->st, (PetscBool)(isfinite(dg.loss) && isfinite(dg.dissipation) && isfinite(dg.mass)), t, "neuron state (directions or masses)"));
  PetscCall(TSGetStepNumber(R->st.ts, &step));
  if (!R->nout) R->first = dg;
  R->last = dg;
  R->nout++;
  if (!R->p->quiet) {
    PetscCall(PetscPrintf(R->comm, "%4" PetscInt_FMT " t = %-10.6g step %6" PetscInt_FMT "  loss = %.12e  dissipation = %.6e  mass = %.12f", R->nout - 1, (double)t, step, (double)dg.loss, (double)dg.dissipation, (double)dg.mass));
    if (R->o.param == KF_RELU_AW) PetscCall(PetscPrintf(R->comm, "  balance drift = %.3e", (double)dg.balance_drift));
    PetscCall(PetscPrintf(R->comm, "\n"));
  }
  if (!R->io) PetscFunctionReturn(PETSC_SUCCESS);
  v[0] = dg.time; v[1] = dg.loss; v[2] = dg.dissipation; v[3] = dg.mass; v[4] = dg.balance_drift;
  PetscCall(KfIOAppendSeries(R->io, "/diagnostics", R->o.param == KF_RELU_AW ? 5 : 4, KfReluDiagNames, v));
  PetscCall(VecGetArrayRead(R->X, &u));
  for (PetscInt i = 0; i < R->nlocal; i++) { /* the xt/qs of ReluDiagnostics: this state's directions and masses */
    for (PetscInt e = 0; e < D; e++) R->rows[i * D + e] = R->xt[e * R->ldt + i];
    R->mass[i] = R->qs[i];
  }
  PetscCall(VecRestoreArrayRead(R->X, &u));
  PetscCall(KfIOAppendParticles(R->io, "/particles/x", "/particles/time", t, R->rows));
  PetscCall(KfIOAppendParticleValues(R->io, "/particles/w", R->mass));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReluDescribe(KfRelu *R)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(R->comm, "kmdflow relu: d = %" PetscInt_FMT " (S^%" PetscInt_FMT " in R^%" PetscInt_FMT "), J = %" PetscInt64_FMT " students (%s, mass %s), teacher %s with K = %" PetscInt64_FMT " neurons", R->d, R->d, R->D, R->J, KfReluParams[R->o.param], KF_NUM(R->o.student_mass), R->o.teacher, R->K));
  if (!strcmp(R->o.teacher, "random")) PetscCall(PetscPrintf(R->comm, " (mass %s, seed %" PetscInt_FMT ")", KF_NUM(R->o.teacher_mass), R->p->seed));
  PetscCall(PetscPrintf(R->comm, "\nkmdflow flow: wfr (alpha = %s, beta = %s), loss (1/2) E_x (f_mu - f_nu)^2 with <nu, kappa nu> = %.12e\n", KF_NUM(R->o.alpha), KF_NUM(R->o.beta), (double)R->teacher_energy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReluSummary(KfRelu *R)
{
  PetscMPIInt    size;
  PetscInt       steps;
  PetscLogDouble now;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(R->comm, &size));
  PetscCall(TSGetStepNumber(R->st.ts, &steps));
  PetscCall(PetscTime(&now));
  PetscCall(PetscPrintf(R->comm, "\n== kmdflow summary (relu) ==\n"));
  PetscCall(PetscPrintf(R->comm, "  neurons            J = %" PetscInt64_FMT " students, K = %" PetscInt64_FMT " teacher (d = %" PetscInt_FMT ") on %d rank%s\n", R->J, R->K, R->d, size, size > 1 ? "s" : ""));
  PetscCall(PetscPrintf(R->comm, "  time steps         %" PetscInt_FMT " to t = %s, %" PetscInt_FMT " outputs, %.2f s wall\n", steps, KF_NUM(R->last.time), R->nout, now - R->t_start));
  PetscCall(PetscPrintf(R->comm, "  loss               F(0) = %.12e  F(T) = %.12e  ratio %.6e\n", (double)R->first.loss, (double)R->last.loss, (double)(R->first.loss > 0 ? R->last.loss / R->first.loss : 0)));
  PetscCall(PetscPrintf(R->comm, "  student mass       %.12f at 0, %.12f at T\n", (double)R->first.mass, (double)R->last.mass));
  if (R->o.param == KF_RELU_AW) PetscCall(PetscPrintf(R->comm, "  balance a^2-|w|^2  max drift %.3e at T\n", (double)R->last.balance_drift));
  if (R->io) PetscCall(PetscPrintf(R->comm, "  output             %s (+ XDMF)\n", R->p->output));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReluOpenOutput(KfRelu *R)
{
  PetscBool nooutput;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcasecmp(R->p->output, "none", &nooutput));
  if (nooutput || !R->p->output[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KfIOCreateParticles(R->comm, R->p->output, R->J, R->D, R->start, R->nlocal, 2.0, &R->io));
  PetscCall(KfRunWriteProvenance(R->io, R->p, R->comm));
  PetscCall(KfIOSetAttributeString(R->io, "problem", "relu"));
  PetscCall(KfIOSetAttributeString(R->io, "relu_param", KfReluParams[R->o.param]));
  PetscCall(KfIOSetAttributeString(R->io, "relu_teacher", R->o.teacher));
  PetscCall(KfIOSetAttributeInts(R->io, "relu_K", 1, (PetscInt[]){(PetscInt)R->K}));
  PetscCall(KfIOSetAttributeReal(R->io, "wfr_alpha", R->o.alpha));
  PetscCall(KfIOSetAttributeReal(R->io, "wfr_beta", R->o.beta));
  PetscCall(KfIOSetAttributeReal(R->io, "teacher_energy", R->teacher_energy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReluRunBody(KfRelu *R)
{
  PetscFunctionBeginUser;
  PetscCall(ReluSetup(R));
  PetscCall(KfStepperDefaultMaxNorm());
  PetscCall(KfStepperCreate(R->comm, NULL, ReluRHS, R, R->p->output_dt, &R->st));
  if (R->o.param == KF_RELU_THETA_M) {
    PetscCall(TSSetApplicationContext(R->st.ts, R));
    PetscCall(TSSetPostStep(R->st.ts, NormalizePostStep));
  }
  PetscCall(KfCheckUnusedOptions(R->comm, R->p->strict));
  PetscCall(ReluOpenOutput(R));
  PetscCall(ReluDescribe(R));
  PetscCall(KfStepperRun(&R->st, R->X, ReluRecord, R));
  PetscCall(ReluSummary(R));
  PetscCall(KfIOClose(&R->io, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReluDestroy(KfRelu *R)
{
  PetscFunctionBeginUser;
  PetscCall(KfStepperDestroy(&R->st));
  PetscCall(PetscFree5(R->xt, R->xs, R->qs, R->acc, R->tacc));
  PetscCall(PetscFree4(R->Vmu, R->Vnu, R->G, R->b0));
  PetscCall(PetscFree2(R->rows, R->mass));
  PetscCall(PetscFree2(R->ts, R->tq));
  PetscCall(KfRingDestroy(&R->ring));
  PetscCall(KfRingDestroy(&R->tring));
  PetscCall(VecDestroy(&R->X));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRunRelu(MPI_Comm comm, const KfParams *p)
{
  KfRelu         R;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&R, sizeof(R)));
  R.comm = comm;
  R.p    = p;
  PetscCall(PetscTime(&R.t_start));
  ierr = ReluRunBody(&R);
  if (ierr) PetscCall(KfRunDiscardOutput(ierr, &R.io));
  PetscCall(ReluDestroy(&R));
  PetscFunctionReturn(ierr);
}

PetscErrorCode KfRunReluHelp(MPI_Comm comm, const KfParams *p)
{
  ReluOptions o;
  KfStepper   st;

  PetscFunctionBeginUser;
  ReluOptionsDefault(&o);
  PetscCall(ReluOptionsRead(comm, &o));
  PetscCall(KfStepperDefaultMaxNorm());
  PetscCall(KfStepperCreate(comm, NULL, ReluRHS, NULL, p->output_dt, &st));
  PetscCall(KfStepperDestroy(&st));
  PetscFunctionReturn(PETSC_SUCCESS);
}
