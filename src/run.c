/* run.c - the drivers of the PDE, particle and compare modes: setup, output-time loop over TSSolve, monitor lines, summary */
#include <math.h>
#include <petscts.h>
#include "kf_checkpoint.h"
#include "kf_compare.h"
#include "kf_density.h"
#include "kf_io.h"
#include "kf_particles.h"
#include "kf_pde.h"
#include "kf_run.h"
#include "kf_stepper.h"
#include "kf_version.h"

typedef struct {
  MPI_Comm        comm;
  const KfParams *p;
  KfSpectral      sp;
  KfPde           pde;
  Vec             rho, rho0, nu, pi; /* pi: reference density of the entropy (sigma > 0) */
  KfStepper       st;
  KfIO            io;
  KfPdeDiag       first, last;
  PetscInt        nout;
  PetscBool       nu_uniform;
  PetscLogDouble  t_start;
  KfCheckpoint    ck;
} RunCtx;

/* Checkpoint hooks of the three drivers (end of this file). */
static PetscErrorCode PdeCheckpointSetup(RunCtx *);
static PetscErrorCode PdeCheckpointOutput(RunCtx *);

/* The entropy sigma KL(rho | pi) needs pi > 0 and rho_0 > 0 everywhere (log rho, log pi). */
static PetscErrorCode SetupReference(RunCtx *r)
{
  const KfParams *p = r->p;
  PetscReal       pmin, rmin;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(r->rho, &r->pi));
  PetscCall(KfDensityFill(r->sp, p, "reference", p->reference, r->pi));
  PetscCall(VecMin(r->pi, NULL, &pmin));
  PetscCheck(pmin > 0, r->comm, KF_ERR_INPUT, "-reference %s: the reference density vanishes somewhere (min %s on the grid); the entropy sigma KL(rho | pi) needs pi > 0 everywhere", p->reference, KF_NUM(pmin));
  PetscCall(VecMin(r->rho, NULL, &rmin));
  PetscCheck(rmin > 0, r->comm, KF_ERR_INPUT, "-init %s: the initial density vanishes somewhere (min %s on the grid); the entropy sigma log(rho/pi) (-sigma %s) needs rho_0 > 0 everywhere", p->init, KF_NUM(rmin), KF_NUM(p->sigma));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetupFields(RunCtx *r)
{
  const KfParams *p = r->p;
  PetscReal       numin, numax;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralCreate(r->comm, p->dim, p->n, p->planner, p->wisdom, p->fftw_threads, &r->sp));
  PetscCall(KfSpectralCreateVec(r->sp, &r->rho));
  PetscCall(VecDuplicate(r->rho, &r->nu));
  PetscCall(VecDuplicate(r->rho, &r->rho0));
  PetscCall(KfDensityFill(r->sp, p, "init", p->init, r->rho));
  PetscCall(KfDensityFill(r->sp, p, "target", p->target, r->nu));
  PetscCall(VecMin(r->nu, NULL, &numin));
  PetscCall(VecMax(r->nu, NULL, &numax));
  r->nu_uniform = (PetscBool)(numax - numin < 1e-14);
  if (p->sigma > 0) PetscCall(SetupReference(r));
  PetscCall(KfPdeCreate(r->sp, p, r->nu, r->pi, &r->pde));
  PetscCall(KfPdeProject(r->pde, r->rho));
  if (p->dealias) {
    PetscReal rmin;

    PetscCall(VecMin(r->rho, NULL, &rmin));
    PetscCheck(rmin >= 0, r->comm, KF_ERR_INPUT, "-init %s: its 2/3-rule projection (-dealias) is negative somewhere (min %s); use a smoother density, a finer grid or -dealias 0", p->init, KF_NUM(rmin));
  }
  PetscCall(VecCopy(r->rho, r->rho0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -init_* and -target_* parameters of every registry density, for -help. */
static PetscErrorCode DensityHelp(MPI_Comm comm, const KfParams *p)
{
  KfSpectral sp;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralCreate(comm, p->dim, p->n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfDensityHelp(sp, p, "init"));
  PetscCall(KfDensityHelp(sp, p, "target"));
  PetscCall(KfDensityHelp(sp, p, "reference"));
  PetscCall(KfSpectralDestroy(&sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetupTS(RunCtx *r)
{
  PetscFunctionBeginUser;
  PetscCall(KfStepperCreate(r->comm, NULL, KfPdeRHSFunction, r->pde, r->p->output_dt, &r->st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Where the run ran: rank 0's host and, under SLURM, the job's identity (the batch scripts in jobs/ rely on it).
   Taken on rank 0 and broadcast, because attributes are written collectively with one value. */
static PetscErrorCode WriteJobProvenance(KfIO io, MPI_Comm comm)
{
  static const char *const vars[] = {"SLURM_JOB_ID", "SLURM_JOB_NODELIST", "SLURM_JOB_NUM_NODES", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_RESTART_COUNT", "SLURM_CLUSTER_NAME"};
  char        value[1024], name[64];
  PetscMPIInt rank, len;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) PetscCallMPI(MPI_Get_processor_name(value, &len));
  PetscCallMPI(MPI_Bcast(value, sizeof(value), MPI_CHAR, 0, comm));
  PetscCall(KfIOSetAttributeString(io, "host", value));
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
    const char *env = rank ? NULL : getenv(vars[i]);

    value[0] = 0;
    if (env) PetscCall(PetscStrncpy(value, env, sizeof(value)));
    PetscCallMPI(MPI_Bcast(value, sizeof(value), MPI_CHAR, 0, comm));
    if (!value[0]) continue;
    PetscCall(PetscStrncpy(name, vars[i], sizeof(name)));
    PetscCall(PetscStrtolower(name));
    PetscCall(KfIOSetAttributeString(io, name, value));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The attributes every output file carries: options, versions, ranks, threads, mode, d, s, L, host and job. */
PetscErrorCode KfRunWriteProvenance(KfIO io, const KfParams *p, MPI_Comm comm)
{
  char           *all, buf[MPI_MAX_LIBRARY_VERSION_STRING + 64];
  const char     *fftw;
  PetscMPIInt     size, len;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(KfIOSetAttributeString(io, "options", all));
  PetscCall(PetscFree(all));
  PetscCall(KfIOSetAttributeString(io, "kmdflow_version", KF_VERSION));
  PetscCall(KfIOSetAttributeString(io, "git_revision", KF_GIT_REVISION));
  PetscCall(KfIOSetAttributeString(io, "build", KF_BUILD_FLAGS));
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  PetscCall(KfIOSetAttributeString(io, "petsc_version", buf));
  PetscCall(KfSpectralVersion(&fftw));
  PetscCall(KfIOSetAttributeString(io, "fftw_version", fftw));
  PetscCall(KfIOVersion(buf, sizeof(buf)));
  PetscCall(KfIOSetAttributeString(io, "hdf5_version", buf));
  PetscCallMPI(MPI_Get_library_version(buf, &len));
  for (char *c = buf; *c; c++)
    if (*c == '\n' || *c == ',') *c = *c == ',' ? ',' : 0;
  PetscCall(KfIOSetAttributeString(io, "mpi_version", buf));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(KfIOSetAttributeInts(io, "ranks", 1, (PetscInt[]){size}));
  PetscCall(KfIOSetAttributeInts(io, "threads", 1, &p->fftw_threads));
  PetscCall(KfIOSetAttributeString(io, "mode", KfModes[p->mode]));
  PetscCall(KfIOSetAttributeInts(io, "d", 1, &p->dim));
  PetscCall(KfIOSetAttributeReal(io, "s", p->s));
  PetscCall(KfIOSetAttributeReal(io, "L", p->L));
  PetscCall(WriteJobProvenance(io, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteProvenance(RunCtx *r)
{
  const KfParams *p = r->p;
  PetscInt        grid[KF_MAX_DIM];

  PetscFunctionBeginUser;
  PetscCall(KfRunWriteProvenance(r->io, p, r->comm));
  for (PetscInt j = 0; j < p->dim; j++) grid[j] = p->n[j];
  PetscCall(KfIOSetAttributeInts(r->io, "grid", p->dim, grid));
  PetscCall(KfIOSetAttributeInts(r->io, "dealias", 1, (PetscInt[]){p->dealias}));
  PetscCall(KfIOSetAttributeString(r->io, "init", p->init));
  PetscCall(KfIOSetAttributeString(r->io, "target", p->target));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The PDE's diagnostics at t, checked collectively (a blow-up or, with the entropy, rho <= 0 stops the run with a
   hint), and with io written to /diagnostics together with the density. */
static PetscErrorCode PdeRecord(KfStepper *st, const KfParams *p, KfPde pde, Vec rho, KfIO io, PetscReal t, KfPdeDiag *dg)
{
  PetscReal          v[KF_PDE_NDIAG];
  PetscBool          nonpos;
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(KfPdeDiagnostics(pde, t, rho, dg));
  nonpos = (PetscBool)(p->sigma > 0 && dg->rho_min <= 0);
  PetscCall(KfStepperCheckFinite(st, (PetscBool)(isfinite(dg->rho_max) && isfinite(dg->dissipation) && !nonpos), t, nonpos ? "density (it reached rho <= 0, where the entropy sigma log rho is undefined)" : "density"));
  if (!io) PetscFunctionReturn(PETSC_SUCCESS);
  v[0] = dg->time; v[1] = dg->energy; v[2] = dg->mass; v[3] = dg->rho_min; v[4] = dg->rho_max; v[5] = dg->dissipation;
  PetscCall(KfIOAppendSeries(io, "/diagnostics", KF_PDE_NDIAG, KfPdeDiagNames, v));
  PetscCall(VecGetArrayRead(rho, &a));
  PetscCall(KfIOAppendField(io, "/pde/rho", "/pde/time", t, a));
  PetscCall(VecRestoreArrayRead(rho, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Record(void *ctx, PetscReal t)
{
  RunCtx   *r = (RunCtx *)ctx;
  KfPdeDiag dg;
  PetscInt  step;

  PetscFunctionBeginUser;
  PetscCall(PdeRecord(&r->st, r->p, r->pde, r->rho, r->io, t, &dg));
  PetscCall(TSGetStepNumber(r->st.ts, &step));
  if (!r->nout) r->first = dg;
  r->last = dg;
  r->nout++;
  if (!r->p->quiet)
    PetscCall(PetscPrintf(r->comm, "%4" PetscInt_FMT " t = %-10.6g step %6" PetscInt_FMT "  E = %.10e  mass = %.15f  rho in [%.6f, %.6f]  dissipation = %.6e\n", r->nout - 1, (double)t, step, (double)dg.energy, (double)dg.mass, (double)dg.rho_min, (double)dg.rho_max,
                          (double)dg.dissipation));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Math spec C.1 (s = 1, nu = 1): int rho_T^2 = int rho_0 L_T(rho_0), and the energy bound. */
static PetscErrorCode CheckC1(RunCtx *r)
{
  const PetscScalar *a, *a0;
  PetscInt           n;
  PetscReal          loc[2] = {0, 0}, glob[2], T = r->last.time, eT = PetscExpReal(-T), m0 = r->first.rho_min, bound, rel;

  PetscFunctionBeginUser;
  if (!(r->p->s == 1.0 && r->nu_uniform && r->p->flow == KF_FLOW_WASSERSTEIN && r->p->sigma == 0)) {
    PetscCall(PetscPrintf(r->comm, "  exact check (C.1)  n/a: needs the Wasserstein flow of the KMD energy alone, s = 1 and a uniform target\n"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetLocalSize(r->rho, &n));
  PetscCall(VecGetArrayRead(r->rho, &a));
  PetscCall(VecGetArrayRead(r->rho0, &a0));
  for (PetscInt i = 0; i < n; i++) {
    loc[0] += a[i] * a[i];
    loc[1] += a0[i] * a0[i] / (a0[i] + (1 - a0[i]) * eT);
  }
  PetscCall(VecRestoreArrayRead(r->rho, &a));
  PetscCall(VecRestoreArrayRead(r->rho0, &a0));
  PetscCallMPI(MPI_Allreduce(loc, glob, 2, MPIU_REAL, MPI_SUM, r->comm));
  rel   = PetscAbsReal(glob[0] - glob[1]) / glob[1];
  bound = r->first.energy * eT * eT / PetscSqr(m0 + (1 - m0) * eT);
  PetscCall(PetscPrintf(r->comm, "  exact check (C.1)  int rho_T^2 = %.15f, int rho_0 L_T(rho_0) = %.15f, relative difference %.2e (discretisation error)\n", (double)(glob[0] / (PetscReal)r->p->npoints), (double)(glob[1] / (PetscReal)r->p->npoints), (double)rel));
  { /* the energy cannot be resolved below ~eps E(0): a bound under that floor is checked against the floor */
    const PetscReal floor = 64 * PETSC_MACHINE_EPSILON * r->first.energy, e = r->last.energy;
    const char     *verdict = e <= bound * (1 + 1e-10) ? "holds" : e <= bound + floor ? "holds to round-off (64 eps E(0))" : "VIOLATED";

    PetscCall(PetscPrintf(r->comm, "                     energy bound E(T) <= %.6e: %s (E(T) = %.6e)\n", (double)bound, verdict, (double)e));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Summary(RunCtx *r)
{
  const KfParams *p = r->p;
  PetscMPIInt     size;
  PetscInt        steps;
  PetscLogDouble  now;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(r->comm, &size));
  PetscCall(TSGetStepNumber(r->st.ts, &steps));
  PetscCall(PetscTime(&now));
  PetscCall(PetscPrintf(r->comm, "\n== kmdflow summary ==\n"));
  PetscCall(PetscPrintf(r->comm, "  grid               %" PetscInt_FMT, p->n[0]));
  for (PetscInt j = 1; j < p->dim; j++) PetscCall(PetscPrintf(r->comm, " x %" PetscInt_FMT, p->n[j]));
  PetscCall(PetscPrintf(r->comm, " (d = %" PetscInt_FMT ", L = %s, s = %s)\n", p->dim, KF_NUM(p->L), KF_NUM(p->s)));
  PetscCall(PetscPrintf(r->comm, "  ranks x threads    %d x %" PetscInt_FMT "\n", size, p->fftw_threads));
  PetscCall(PetscPrintf(r->comm, "  time steps         %" PetscInt_FMT " to t = %s, %" PetscInt_FMT " outputs, %.2f s wall\n", steps, KF_NUM(r->last.time), r->nout, now - r->t_start));
  PetscCall(PetscPrintf(r->comm, "  energy             E(0) = %.10e  E(T) = %.10e  ratio %.6e\n", (double)r->first.energy, (double)r->last.energy, (double)(r->first.energy > 0 ? r->last.energy / r->first.energy : 0)));
  PetscCall(PetscPrintf(r->comm, "  mass               %.15f (drift %.1e)\n", (double)r->last.mass, (double)PetscAbsReal(r->last.mass - r->first.mass)));
  PetscCall(PetscPrintf(r->comm, "  density range      [%.6f, %.6f]\n", (double)r->last.rho_min, (double)r->last.rho_max));
  PetscCall(CheckC1(r));
  if (r->io) PetscCall(PetscPrintf(r->comm, "  output             %s (+ XDMF)\n", p->output));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunBody(RunCtx *r)
{
  PetscBool nooutput;

  PetscFunctionBeginUser;
  PetscCall(SetupFields(r));
  PetscCall(SetupTS(r));
  PetscCall(PdeCheckpointSetup(r));
  PetscCall(KfCheckUnusedOptions(r->comm, r->p->strict));
  PetscCall(PetscStrcasecmp(r->p->output, "none", &nooutput));
  if (!nooutput && r->p->output[0]) {
    const KfSpectralLayout *lay;

    PetscCall(KfSpectralGetLayout(r->sp, &lay));
    PetscCall(KfIOCreate(r->comm, r->p->output, lay, r->p->L, &r->io));
    PetscCall(WriteProvenance(r));
  }
  PetscCall(PdeCheckpointOutput(r));
  PetscCall(KfParamsView(r->p, r->comm));
  PetscCall(KfStepperRun(&r->st, r->rho, Record, r));
  PetscCall(Summary(r));
  PetscCall(KfIOClose(&r->io, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* kf_run.h */
PetscErrorCode KfRunDiscardOutput(PetscErrorCode ierr, KfIO *io)
{
  PetscFunctionBeginUser;
  if (KfExitStatus(ierr) == 1) PetscFunctionReturn(ierr);
  if (ierr == KF_ERR_CHECKPOINTED) PetscCall(KfIOSuspend(io));
  else if (*io) PetscCall(KfIOClose(io, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRunPde(MPI_Comm comm, const KfParams *p)
{
  RunCtx         r;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&r, sizeof(r)));
  r.comm = comm;
  r.p    = p;
  PetscCall(PetscTime(&r.t_start));
  ierr = RunBody(&r);
  if (ierr) PetscCall(KfRunDiscardOutput(ierr, &r.io));
  PetscCall(KfCheckpointDestroy(&r.ck));
  PetscCall(TSDestroy(&r.st.ts));
  PetscCall(KfPdeDestroy(&r.pde));
  PetscCall(VecDestroy(&r.rho));
  PetscCall(VecDestroy(&r.rho0));
  PetscCall(VecDestroy(&r.nu));
  PetscCall(VecDestroy(&r.pi));
  PetscCall(KfSpectralDestroy(&r.sp));
  PetscFunctionReturn(ierr);
}

PetscErrorCode KfRunPdeHelp(MPI_Comm comm, const KfParams *p)
{
  RunCtx r;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&r, sizeof(r)));
  r.comm = comm;
  r.p    = p;
  PetscCall(DensityHelp(comm, p));
  PetscCall(SetupTS(&r)); /* the same defaults as a run, so -help shows them */
  PetscCall(TSDestroy(&r.st.ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- particle mode ---- */

typedef struct {
  MPI_Comm        comm;
  const KfParams *p;
  KfParticles     P;
  KfStepper       st;
  KfIO            io;
  KfParticleDiag  first, last;
  PetscInt        nout;
  PetscReal      *rows, *wts; /* output positions and weights of this rank */
  PetscLogDouble  t_start;
  KfCheckpoint    ck;
} PRunCtx;

static PetscErrorCode ParticleCheckpointSetup(PRunCtx *);
static PetscErrorCode ParticleCheckpointOutput(PRunCtx *);

static const char *const KfCentroidNames[] = {"centroid_1", "centroid_2", "centroid_3"};

/* The particle diagnostics under group; total weight and effective sample size only for weighted particles. */
static PetscErrorCode AppendParticleDiag(KfIO io, const char group[], PetscInt dim, PetscBool weighted, const KfParticleDiag *dg)
{
  const char *names[8 + KF_MAX_DIM] = {"time", "energy", "energy_off", "mean_v2", "dissipation"};
  PetscReal   v[8 + KF_MAX_DIM]     = {dg->time, dg->energy, dg->energy_off, dg->mean_v2, dg->dissipation};
  PetscInt    n                     = 5;

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < dim; c++, n++) {
    names[n] = KfCentroidNames[c];
    v[n]     = dg->centroid[c];
  }
  if (weighted) {
    names[n] = "total_weight";
    v[n++]   = dg->total_weight;
    names[n] = "ess";
    v[n++]   = dg->ess;
  }
  if (dg->birth_death) {
    names[n] = "bd_events";
    v[n++]   = dg->bd_events;
    names[n] = "bd_expected";
    v[n++]   = dg->bd_expected;
  }
  PetscCall(KfIOAppendSeries(io, group, n, names, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The particles' diagnostics at t, checked collectively; their positions (and weights) into this rank's rows (and wts),
   and with io all of it written (diagnostics under group). */
static PetscErrorCode ParticleRecord(KfStepper *st, KfParticles P, PetscInt dim, KfIO io, const char group[], PetscReal t, PetscReal rows[], PetscReal wts[], KfParticleDiag *dg)
{
  const PetscBool weighted = KfParticlesWeighted(P);
  Vec             X;

  PetscFunctionBeginUser;
  PetscCall(KfParticlesGetState(P, &X));
  PetscCall(KfParticlesDiagnostics(P, t, X, dg));
  PetscCall(KfStepperCheckFinite(st, (PetscBool)(isfinite(dg->energy) && isfinite(dg->mean_v2) && isfinite(dg->centroid[0])), t, weighted ? "particle state (positions or weights)" : "particle positions"));
  PetscCall(KfParticlesOutputPositions(P, X, rows));
  if (weighted) PetscCall(KfParticlesOutputWeights(P, X, wts));
  if (!io) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AppendParticleDiag(io, group, dim, weighted, dg));
  PetscCall(KfIOAppendParticles(io, "/particles/x", "/particles/time", t, rows));
  if (weighted) PetscCall(KfIOAppendParticleValues(io, "/particles/w", wts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PRecord(void *ctx, PetscReal t)
{
  PRunCtx       *r = (PRunCtx *)ctx;
  KfParticleDiag dg;
  PetscInt       step;

  PetscFunctionBeginUser;
  PetscCall(ParticleRecord(&r->st, r->P, r->p->dim, r->io, "/diagnostics", t, r->rows, r->wts, &dg));
  PetscCall(TSGetStepNumber(r->st.ts, &step));
  if (!r->nout) r->first = dg;
  r->last = dg;
  r->nout++;
  if (!r->p->quiet) PetscCall(PetscPrintf(r->comm, "%4" PetscInt_FMT " t = %-10.6g step %6" PetscInt_FMT "  E = %.12e  mean|V|^2 = %.6e\n", r->nout - 1, (double)t, step, (double)dg.energy, (double)dg.mean_v2));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PSummary(PRunCtx *r)
{
  PetscMPIInt    size;
  PetscInt       steps;
  PetscLogDouble now;
  PetscInt64     N;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(r->comm, &size));
  PetscCall(TSGetStepNumber(r->st.ts, &steps));
  PetscCall(PetscTime(&now));
  PetscCall(KfParticlesGetLocal(r->P, &N, NULL, NULL));
  PetscCall(PetscPrintf(r->comm, "\n== kmdflow summary ==\n"));
  PetscCall(PetscPrintf(r->comm, "  particles          %" PetscInt64_FMT " (d = %" PetscInt_FMT ", L = %s, s = %s) on %d rank%s\n", N, r->p->dim, KF_NUM(r->p->L), KF_NUM(r->p->s), size, size > 1 ? "s" : ""));
  PetscCall(PetscPrintf(r->comm, "  time steps         %" PetscInt_FMT " to t = %s, %" PetscInt_FMT " outputs, %.2f s wall\n", steps, KF_NUM(r->last.time), r->nout, now - r->t_start));
  PetscCall(PetscPrintf(r->comm, "  energy             E(0) = %.12e  E(T) = %.12e\n", (double)r->first.energy, (double)r->last.energy));
  PetscCall(PetscPrintf(r->comm, "  mean |V|^2         %.6e at T\n", (double)r->last.mean_v2));
  if (KfParticlesWeighted(r->P)) PetscCall(PetscPrintf(r->comm, "  weights            total %.15f, ESS %.6g of %" PetscInt64_FMT " at T, %" PetscInt_FMT " resampling%s\n", (double)r->last.total_weight, (double)r->last.ess, N, KfParticlesResampleCount(r->P), KfParticlesResampleCount(r->P) == 1 ? "" : "s"));
  if (r->last.birth_death) PetscCall(PetscPrintf(r->comm, "  birth-death        %.0f jumps (expected %.1f)\n", (double)r->last.bd_events, (double)r->last.bd_expected));
  if (r->io) PetscCall(PetscPrintf(r->comm, "  output             %s (+ XDMF)\n", r->p->output));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PRunBody(PRunCtx *r)
{
  PetscBool  nooutput;
  PetscInt64 N, start;
  PetscInt   nl;
  char       desc[512];

  PetscFunctionBeginUser;
  PetscCall(KfParticlesCreate(r->comm, r->p, &r->P));
  PetscCall(KfStepperDefaultMaxNorm());
  PetscCall(KfStepperCreate(r->comm, NULL, KfParticlesRHSFunction, r->P, r->p->output_dt, &r->st));
  PetscCall(KfParticlesSetUpTS(r->P, r->st.ts));
  PetscCall(ParticleCheckpointSetup(r));
  PetscCall(KfCheckUnusedOptions(r->comm, r->p->strict));
  PetscCall(KfParticlesGetLocal(r->P, &N, &start, &nl));
  PetscCall(PetscMalloc2(PetscMax(1, nl * r->p->dim), &r->rows, PetscMax(1, nl), &r->wts));
  PetscCall(PetscStrcasecmp(r->p->output, "none", &nooutput));
  if (!nooutput && r->p->output[0]) {
    PetscCall(KfIOCreateParticles(r->comm, r->p->output, N, r->p->dim, start, nl, r->p->L, &r->io));
    PetscCall(KfRunWriteProvenance(r->io, r->p, r->comm));
    PetscCall(KfIOSetAttributeString(r->io, "init", r->p->init));
  }
  PetscCall(ParticleCheckpointOutput(r));
  PetscCall(KfParticlesDescribe(r->P, desc, sizeof(desc)));
  PetscCall(PetscPrintf(r->comm, "kmdflow particles: d = %" PetscInt_FMT ", %s\n", r->p->dim, desc));
  PetscCall(KfParamsViewFlow(r->p, r->comm));
  {
    Vec X;

    PetscCall(KfParticlesGetState(r->P, &X));
    PetscCall(KfStepperRun(&r->st, X, PRecord, r));
  }
  PetscCall(PSummary(r));
  PetscCall(KfIOClose(&r->io, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRunParticles(MPI_Comm comm, const KfParams *p)
{
  PRunCtx        r;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&r, sizeof(r)));
  r.comm = comm;
  r.p    = p;
  PetscCall(PetscTime(&r.t_start));
  ierr = PRunBody(&r);
  if (ierr) PetscCall(KfRunDiscardOutput(ierr, &r.io));
  PetscCall(KfCheckpointDestroy(&r.ck));
  PetscCall(KfStepperDestroy(&r.st));
  PetscCall(KfParticlesDestroy(&r.P));
  PetscCall(PetscFree2(r.rows, r.wts));
  PetscFunctionReturn(ierr);
}

PetscErrorCode KfRunParticlesHelp(MPI_Comm comm, const KfParams *p)
{
  KfStepper st;

  PetscFunctionBeginUser;
  PetscCall(KfParticlesHelp(comm, p));
  PetscCall(DensityHelp(comm, p));
  PetscCall(KfStepperDefaultMaxNorm());
  PetscCall(KfStepperCreate(comm, NULL, KfParticlesRHSFunction, NULL, p->output_dt, &st));
  PetscCall(KfStepperDestroy(&st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- compare mode: PDE and particles from the same rho_0 and nu, distances at every output time ---- */

typedef struct {
  RunCtx         pde; /* grid, fields and PDE object of the PDE driver (its stepper unused) */
  KfParticles    P;
  KfCompare      C;
  KfStepper      st[2]; /* PDE, particles */
  KfIO           io;
  PetscReal     *rows, *wts; /* this rank's positions and weights */
  PetscInt       nout;
  KfPdeDiag      pd[2];  /* first, last */
  KfParticleDiag qd[2];
  KfCompareDist  cd[2];
  KfCheckpoint   ck;
} CRunCtx;

static PetscErrorCode CompareCheckpointSetup(CRunCtx *);
static PetscErrorCode CompareCheckpointOutput(CRunCtx *);

static const char *const KfCompareNames[] = {"time", "hminus", "hminus_band", "hminus_tail", "hminus_iid", "energy_pde", "energy_particles", "energy_gap", "w1"};

/* The particle kernel must be the PDE's: sobolev on the torus, with the target on the grid. */
static PetscErrorCode CheckCompareOptions(MPI_Comm comm)
{
  char      val[64];
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-domain", val, sizeof(val), &set));
  PetscCheck(!set || !strcmp(val, "torus"), comm, KF_ERR_INPUT, "-domain %s: compare mode runs on the torus (the PDE's domain)", val);
  PetscCall(PetscOptionsGetString(NULL, NULL, "-kernel", val, sizeof(val), &set));
  PetscCheck(!set || !strcmp(val, "sobolev"), comm, KF_ERR_INPUT, "-kernel %s: compare mode uses the PDE's Sobolev kernel (-kernel sobolev)", val);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-target_samples", &set));
  PetscCheck(!set, comm, KF_ERR_INPUT, "-target_samples: compare mode takes the target as a density (-target NAME or file:PATH:DATASET) that both the PDE and the particles use");
  PetscCall(KfStepperDefaultMaxNorm());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CRecord(void *ctx, PetscReal t)
{
  CRunCtx      *r = (CRunCtx *)ctx;
  PetscInt64    N;
  PetscInt      nl, steps[2];
  KfPdeDiag     pd;
  KfParticleDiag qd;
  KfCompareDist cd;
  PetscReal     v[9];

  PetscFunctionBeginUser;
  PetscCall(KfParticlesGetLocal(r->P, &N, NULL, &nl));
  PetscCall(PdeRecord(&r->st[0], r->pde.p, r->pde.pde, r->pde.rho, r->io, t, &pd));
  PetscCall(ParticleRecord(&r->st[1], r->P, r->pde.p->dim, r->io, "/particles/diagnostics", t, r->rows, r->wts, &qd));
  PetscCall(KfCompareDistances(r->C, r->pde.rho, nl, r->rows, KfParticlesWeighted(r->P) ? r->wts : NULL, qd.energy_kmd, &cd));
  for (PetscInt i = 0; i < 2; i++) PetscCall(TSGetStepNumber(r->st[i].ts, &steps[i]));
  if (!r->nout) {
    r->pd[0] = pd;
    r->qd[0] = qd;
    r->cd[0] = cd;
  }
  r->pd[1] = pd;
  r->qd[1] = qd;
  r->cd[1] = cd;
  r->nout++;
  if (!r->pde.p->quiet) {
    PetscCall(PetscPrintf(r->pde.comm, "%4" PetscInt_FMT " t = %-10.6g steps %5" PetscInt_FMT "/%-5" PetscInt_FMT " E_pde = %.10e  E_part = %.10e  H^-s' = %.6e", r->nout - 1, (double)t, steps[0], steps[1], (double)pd.energy, (double)qd.energy, (double)cd.hminus));
    if (r->pde.p->dim == 1) PetscCall(PetscPrintf(r->pde.comm, "  W1 = %.6e", (double)cd.w1));
    PetscCall(PetscPrintf(r->pde.comm, "\n"));
  }
  if (!r->io) PetscFunctionReturn(PETSC_SUCCESS);
  v[0] = t; v[1] = cd.hminus; v[2] = cd.hminus_band; v[3] = cd.hminus_tail; v[4] = cd.hminus_iid;
  v[5] = pd.energy; v[6] = qd.energy; v[7] = qd.energy - pd.energy; v[8] = cd.w1;
  PetscCall(KfIOAppendSeries(r->io, "/compare", r->pde.p->dim == 1 ? 9 : 8, KfCompareNames, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CSummary(CRunCtx *r, PetscLogDouble t_start)
{
  const KfParams *p = r->pde.p;
  MPI_Comm        comm = r->pde.comm;
  PetscMPIInt     size;
  PetscInt        steps[2];
  PetscInt64      N;
  PetscLogDouble  now;
  PetscReal       s;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  for (PetscInt i = 0; i < 2; i++) PetscCall(TSGetStepNumber(r->st[i].ts, &steps[i]));
  PetscCall(KfParticlesGetLocal(r->P, &N, NULL, NULL));
  PetscCall(KfCompareGetOrder(r->C, &s));
  PetscCall(PetscTime(&now));
  PetscCall(PetscPrintf(comm, "\n== kmdflow summary (compare) ==\n"));
  PetscCall(PetscPrintf(comm, "  PDE grid           %" PetscInt_FMT "^%" PetscInt_FMT ", particles N = %" PetscInt64_FMT " (d = %" PetscInt_FMT ", L = %s, s = %s) on %d rank%s\n", p->n[0], p->dim, N, p->dim, KF_NUM(p->L), KF_NUM(p->s), size, size > 1 ? "s" : ""));
  PetscCall(PetscPrintf(comm, "  time steps         PDE %" PetscInt_FMT ", particles %" PetscInt_FMT " to t = %s, %" PetscInt_FMT " outputs, %.2f s wall\n", steps[0], steps[1], KF_NUM(r->pd[1].time), r->nout, now - t_start));
  PetscCall(PetscPrintf(comm, "  energy PDE         E(0) = %.10e  E(T) = %.10e\n", (double)r->pd[0].energy, (double)r->pd[1].energy));
  PetscCall(PetscPrintf(comm, "  energy particles   E(0) = %.10e  E(T) = %.10e\n", (double)r->qd[0].energy, (double)r->qd[1].energy));
  PetscCall(PetscPrintf(comm, "  H^-%s distance     t = 0: %.6e (i.i.d. expectation %.6e), t = T: %.6e\n", KF_NUM(s), (double)r->cd[0].hminus, (double)r->cd[0].hminus_iid, (double)r->cd[1].hminus));
  if (p->dim == 1) PetscCall(PetscPrintf(comm, "  circle W1          t = 0: %.6e, t = T: %.6e (1/(4N) L = %.3e)\n", (double)r->cd[0].w1, (double)r->cd[1].w1, (double)(p->L / (4.0 * (PetscReal)N))));
  if (r->io) PetscCall(PetscPrintf(comm, "  output             %s (+ XDMF)\n", p->output));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CSetupOutput(CRunCtx *r)
{
  const KfSpectralLayout *lay;
  PetscInt64              N, start;
  PetscInt                nl;
  PetscBool               nooutput;

  PetscFunctionBeginUser;
  PetscCall(KfParticlesGetLocal(r->P, &N, &start, &nl));
  PetscCall(PetscMalloc2(PetscMax(1, nl * r->pde.p->dim), &r->rows, PetscMax(1, nl), &r->wts));
  PetscCall(PetscStrcasecmp(r->pde.p->output, "none", &nooutput));
  if (nooutput || !r->pde.p->output[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KfSpectralGetLayout(r->pde.sp, &lay));
  PetscCall(KfIOCreate(r->pde.comm, r->pde.p->output, lay, r->pde.p->L, &r->io));
  PetscCall(KfIOAddParticles(r->io, N, r->pde.p->dim, start, nl));
  r->pde.io = r->io;
  PetscCall(WriteProvenance(&r->pde));
  r->pde.io = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CRunBody(CRunCtx *r)
{
  const KfParams *p = r->pde.p;
  PetscInt64      N;
  char            desc[512];
  Vec             U[2];

  PetscFunctionBeginUser;
  PetscCall(CheckCompareOptions(r->pde.comm));
  PetscCall(SetupFields(&r->pde));
  PetscCall(KfParticlesCreate(r->pde.comm, p, &r->P));
  PetscCall(KfParticlesGetLocal(r->P, &N, NULL, NULL));
  PetscCall(KfCompareCreate(r->pde.comm, p, r->pde.sp, r->pde.nu, N, &r->C));
  PetscCall(KfStepperCreate(r->pde.comm, NULL, KfPdeRHSFunction, r->pde.pde, p->output_dt, &r->st[0]));
  PetscCall(KfStepperCreate(r->pde.comm, "particles_", KfParticlesRHSFunction, r->P, p->output_dt, &r->st[1]));
  PetscCall(KfParticlesSetUpTS(r->P, r->st[1].ts));
  PetscCheck(r->st[1].tfinal == r->st[0].tfinal, r->pde.comm, KF_ERR_INPUT, "-particles_ts_max_time %s: both steppers run to -ts_max_time %s in compare mode", KF_NUM(r->st[1].tfinal), KF_NUM(r->st[0].tfinal));
  PetscCall(CompareCheckpointSetup(r));
  PetscCall(KfCheckUnusedOptions(r->pde.comm, p->strict));
  PetscCall(CSetupOutput(r));
  PetscCall(CompareCheckpointOutput(r));
  PetscCall(KfParamsView(p, r->pde.comm));
  PetscCall(KfParticlesDescribe(r->P, desc, sizeof(desc)));
  PetscCall(PetscPrintf(r->pde.comm, "kmdflow particles: %s\n", desc));
  PetscCall(KfCompareDescribe(r->C, desc, sizeof(desc)));
  PetscCall(PetscPrintf(r->pde.comm, "kmdflow compare: %s\n", desc));
  U[0] = r->pde.rho;
  PetscCall(KfParticlesGetState(r->P, &U[1]));
  PetscCall(KfStepperRunCoupled(2, r->st, U, CRecord, r));
  PetscCall(CSummary(r, r->pde.t_start));
  PetscCall(KfIOClose(&r->io, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRunCompare(MPI_Comm comm, const KfParams *p)
{
  CRunCtx        r;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&r, sizeof(r)));
  r.pde.comm = comm;
  r.pde.p    = p;
  PetscCall(PetscTime(&r.pde.t_start));
  ierr = CRunBody(&r);
  if (ierr) PetscCall(KfRunDiscardOutput(ierr, &r.io));
  PetscCall(KfCheckpointDestroy(&r.ck));
  for (PetscInt i = 0; i < 2; i++) PetscCall(KfStepperDestroy(&r.st[i]));
  PetscCall(KfCompareDestroy(&r.C));
  PetscCall(KfParticlesDestroy(&r.P));
  PetscCall(PetscFree2(r.rows, r.wts));
  PetscCall(KfPdeDestroy(&r.pde.pde));
  PetscCall(VecDestroy(&r.pde.rho));
  PetscCall(VecDestroy(&r.pde.rho0));
  PetscCall(VecDestroy(&r.pde.nu));
  PetscCall(VecDestroy(&r.pde.pi));
  PetscCall(KfSpectralDestroy(&r.pde.sp));
  PetscFunctionReturn(ierr);
}

PetscErrorCode KfRunCompareHelp(MPI_Comm comm, const KfParams *p)
{
  KfStepper st;

  PetscFunctionBeginUser;
  PetscCall(KfStepperDefaultMaxNorm());
  PetscCall(KfRunPdeHelp(comm, p));
  PetscCall(KfParticlesHelp(comm, p));
  PetscCall(KfCompareHelp(comm, p));
  PetscCall(KfStepperCreate(comm, "particles_", KfParticlesRHSFunction, NULL, p->output_dt, &st));
  PetscCall(KfStepperDestroy(&st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- checkpoint hooks (kf_checkpoint.h): what each driver's checkpoint holds, and where its output continues ---- */

#define KF_NREALS(x) ((PetscInt)(sizeof(x) / sizeof(PetscReal)))

static PetscErrorCode PdeCheckpointSetup(RunCtx *r)
{
  PetscFunctionBeginUser;
  PetscCall(KfCheckpointCreate(r->comm, r->p, &r->ck));
  PetscCall(KfCheckpointAddStepper(r->ck, &r->st));
  PetscCall(KfCheckpointAddGrid(r->ck, "rho", r->sp, r->rho));
  PetscCall(KfCheckpointAddReals(r->ck, "first", KF_NREALS(r->first), (PetscReal *)&r->first));
  PetscCall(KfCheckpointSetRecords(r->ck, &r->nout));
  PetscCall(KfCheckpointRestart(r->ck));
  PetscCall(KfCheckpointAttach(r->ck, &r->st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PdeCheckpointOutput(RunCtx *r)
{
  const char *const fields[2] = {"/pde/rho", NULL}, *const times[2] = {"/pde/time", NULL};

  PetscFunctionBeginUser;
  PetscCall(KfCheckpointSetOutput(r->ck, r->io, fields, times));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ParticleCheckpointSetup(PRunCtx *r)
{
  PetscFunctionBeginUser;
  PetscCall(KfCheckpointCreate(r->comm, r->p, &r->ck));
  PetscCall(KfCheckpointAddStepper(r->ck, &r->st));
  PetscCall(KfCheckpointAddParticles(r->ck, r->P));
  PetscCall(KfCheckpointAddReals(r->ck, "first", KF_NREALS(r->first), (PetscReal *)&r->first));
  PetscCall(KfCheckpointSetRecords(r->ck, &r->nout));
  PetscCall(KfCheckpointRestart(r->ck));
  PetscCall(KfCheckpointAttach(r->ck, &r->st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ParticleCheckpointOutput(PRunCtx *r)
{
  const char *const fields[2] = {"/particles/x", NULL}, *const times[2] = {"/particles/time", NULL};

  PetscFunctionBeginUser;
  PetscCall(KfCheckpointSetOutput(r->ck, r->io, fields, times));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CompareCheckpointSetup(CRunCtx *r)
{
  PetscFunctionBeginUser;
  PetscCall(KfCheckpointCreate(r->pde.comm, r->pde.p, &r->ck));
  for (PetscInt i = 0; i < 2; i++) PetscCall(KfCheckpointAddStepper(r->ck, &r->st[i]));
  PetscCall(KfCheckpointAddGrid(r->ck, "rho", r->pde.sp, r->pde.rho));
  PetscCall(KfCheckpointAddParticles(r->ck, r->P));
  PetscCall(KfCheckpointAddReals(r->ck, "first_pde", KF_NREALS(r->pd[0]), (PetscReal *)&r->pd[0]));
  PetscCall(KfCheckpointAddReals(r->ck, "first_particles", KF_NREALS(r->qd[0]), (PetscReal *)&r->qd[0]));
  PetscCall(KfCheckpointAddReals(r->ck, "first_distances", KF_NREALS(r->cd[0]), (PetscReal *)&r->cd[0]));
  PetscCall(KfCheckpointSetRecords(r->ck, &r->nout));
  PetscCall(KfCheckpointRestart(r->ck));
  PetscCall(KfCheckpointAttach(r->ck, &r->st[0]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CompareCheckpointOutput(CRunCtx *r)
{
  const char *const fields[2] = {"/pde/rho", "/particles/x"}, *const times[2] = {"/pde/time", "/particles/time"};

  PetscFunctionBeginUser;
  PetscCall(KfCheckpointSetOutput(r->ck, r->io, fields, times));
  PetscFunctionReturn(PETSC_SUCCESS);
}
