/* run.c - PDE mode driver: setup, output-time loop over TSSolve, monitor lines, summary */
#include <petscts.h>
#include "kf_density.h"
#include "kf_io.h"
#include "kf_pde.h"
#include "kf_run.h"
#include "kf_version.h"

typedef struct {
  MPI_Comm        comm;
  const KfParams *p;
  KfSpectral      sp;
  KfPde           pde;
  Vec             rho, rho0, nu;
  TS              ts;
  KfIO            io;
  PetscReal       tfinal, dt_out;
  KfPdeDiag       first, last;
  PetscInt        nout;
  PetscBool       nu_uniform;
  PetscLogDouble  t_start;
} RunCtx;

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
  PetscCall(KfPdeCreate(r->sp, p, r->nu, &r->pde));
  PetscCall(KfPdeProject(r->pde, r->rho));
  PetscCall(VecCopy(r->rho, r->rho0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PETSc rejects adaptivity for tableaus without an embedded error estimate only inside TSStep;
   say so up front, as a user error. */
static PetscErrorCode CheckAdaptivity(TS ts, MPI_Comm comm)
{
  TSAdapt          adapt;
  PetscBool        isrk, fixed;
  const PetscReal *bembed;
  TSRKType         type;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectTypeCompare((PetscObject)ts, TSRK, &isrk));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &fixed));
  if (!isrk || fixed) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(TSRKGetType(ts, &type));
  PetscCall(TSRKGetTableau(ts, NULL, NULL, NULL, NULL, &bembed, NULL, NULL, NULL));
  PetscCheck(bembed, comm, KF_ERR_INPUT, "-ts_rk_type %s has no embedded error estimate, so it cannot adapt its step: add -ts_adapt_type none -ts_dt DT, or use an embedded pair (e.g. 3bs, 5dp, 5bs, 8vr)", type);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Defaults: adaptive Dormand-Prince with tight tolerances, final time 1; every -ts_* option overrides. */
static PetscErrorCode SetupTS(RunCtx *r)
{
  PetscInt  maxsteps;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(TSCreate(r->comm, &r->ts));
  PetscCall(TSSetProblemType(r->ts, TS_NONLINEAR));
  PetscCall(TSSetType(r->ts, TSRK));
  PetscCall(TSRKSetType(r->ts, TSRK5DP));
  PetscCall(TSSetRHSFunction(r->ts, NULL, KfPdeRHSFunction, r->pde));
  PetscCall(TSSetTime(r->ts, 0.0));
  PetscCall(TSSetTimeStep(r->ts, 1e-3));
  PetscCall(TSSetMaxTime(r->ts, 1.0));
  PetscCall(TSSetMaxSteps(r->ts, PETSC_MAX_INT));
  PetscCall(TSSetExactFinalTime(r->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetTolerances(r->ts, 1e-8, NULL, 1e-8, NULL));
  PetscCall(TSSetFromOptions(r->ts));
  PetscCall(CheckAdaptivity(r->ts, r->comm));
  PetscCall(TSGetMaxTime(r->ts, &r->tfinal));
  PetscCall(TSGetMaxSteps(r->ts, &maxsteps));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-ts_max_time", &set));
  PetscCheck(r->tfinal >= 0 && r->tfinal < PETSC_MAX_REAL, r->comm, KF_ERR_INPUT, "-ts_max_time %g: must be a finite time >= 0", (double)r->tfinal);
  PetscCheck(maxsteps >= 0, r->comm, KF_ERR_INPUT, "-ts_max_steps %" PetscInt_FMT ": must be >= 0", maxsteps);
  r->dt_out = r->p->output_dt > 0 ? r->p->output_dt : (r->tfinal > 0 ? r->tfinal / 10 : 1.0);
  PetscCheck(r->tfinal / r->dt_out < 1e6, r->comm, KF_ERR_INPUT, "-output_dt %g: more than 10^6 outputs up to t = %g; use a larger -output_dt", (double)r->dt_out, (double)r->tfinal);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteProvenance(RunCtx *r)
{
  const KfParams *p = r->p;
  char           *all, buf[MPI_MAX_LIBRARY_VERSION_STRING + 64];
  const char     *fftw;
  PetscMPIInt     size, len;
  PetscInt        grid[KF_MAX_DIM];

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(KfIOSetAttributeString(r->io, "options", all));
  PetscCall(PetscFree(all));
  PetscCall(KfIOSetAttributeString(r->io, "kmdflow_version", KF_VERSION));
  PetscCall(KfIOSetAttributeString(r->io, "git_revision", KF_GIT_REVISION));
  PetscCall(KfIOSetAttributeString(r->io, "build", KF_BUILD_FLAGS));
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  PetscCall(KfIOSetAttributeString(r->io, "petsc_version", buf));
  PetscCall(KfSpectralVersion(&fftw));
  PetscCall(KfIOSetAttributeString(r->io, "fftw_version", fftw));
  PetscCall(KfIOVersion(buf, sizeof(buf)));
  PetscCall(KfIOSetAttributeString(r->io, "hdf5_version", buf));
  PetscCallMPI(MPI_Get_library_version(buf, &len));
  for (char *c = buf; *c; c++)
    if (*c == '\n' || *c == ',') *c = *c == ',' ? ',' : 0;
  PetscCall(KfIOSetAttributeString(r->io, "mpi_version", buf));
  PetscCallMPI(MPI_Comm_size(r->comm, &size));
  PetscCall(KfIOSetAttributeInts(r->io, "ranks", 1, (PetscInt[]){size}));
  PetscCall(KfIOSetAttributeInts(r->io, "threads", 1, &p->fftw_threads));
  PetscCall(KfIOSetAttributeString(r->io, "mode", KfModes[p->mode]));
  PetscCall(KfIOSetAttributeInts(r->io, "d", 1, &p->dim));
  for (PetscInt j = 0; j < p->dim; j++) grid[j] = p->n[j];
  PetscCall(KfIOSetAttributeInts(r->io, "grid", p->dim, grid));
  PetscCall(KfIOSetAttributeReal(r->io, "s", p->s));
  PetscCall(KfIOSetAttributeReal(r->io, "L", p->L));
  PetscCall(KfIOSetAttributeInts(r->io, "dealias", 1, (PetscInt[]){p->dealias}));
  PetscCall(KfIOSetAttributeString(r->io, "init", p->init));
  PetscCall(KfIOSetAttributeString(r->io, "target", p->target));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Record(RunCtx *r, PetscReal t)
{
  KfPdeDiag         dg;
  PetscReal         v[KF_PDE_NDIAG];
  PetscInt          step;
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(KfPdeDiagnostics(r->pde, t, r->rho, &dg));
  PetscCall(TSGetStepNumber(r->ts, &step));
  PetscCheck(PetscIsNormalReal(dg.energy) || dg.energy == 0, r->comm, KF_ERR_NONFINITE,
             "non-finite density at t = %s (step %" PetscInt_FMT "): the time step is too large for this grid; use a smaller -ts_dt or adaptive stepping (-ts_adapt_type basic)", KF_NUM(t), step);
  PetscCheck(PetscIsNormalReal(dg.rho_max) && PetscIsNormalReal(dg.dissipation + 1), r->comm, KF_ERR_NONFINITE, "non-finite density at t = %s (step %" PetscInt_FMT "): use a smaller -ts_dt or adaptive stepping", KF_NUM(t), step);
  if (!r->nout) r->first = dg;
  r->last = dg;
  r->nout++;
  if (!r->p->quiet)
    PetscCall(PetscPrintf(r->comm, "%4" PetscInt_FMT " t = %-10.6g step %6" PetscInt_FMT "  E = %.10e  mass = %.15f  rho in [%.6f, %.6f]  dissipation = %.6e\n", r->nout - 1, (double)t, step, (double)dg.energy, (double)dg.mass, (double)dg.rho_min, (double)dg.rho_max,
                          (double)dg.dissipation));
  if (!r->io) PetscFunctionReturn(PETSC_SUCCESS);
  v[0] = dg.time; v[1] = dg.energy; v[2] = dg.mass; v[3] = dg.rho_min; v[4] = dg.rho_max; v[5] = dg.dissipation;
  PetscCall(KfIOAppendSeries(r->io, "/diagnostics", KF_PDE_NDIAG, KfPdeDiagNames, v));
  PetscCall(VecGetArrayRead(r->rho, &a));
  PetscCall(KfIOAppendField(r->io, "/pde/rho", "/pde/time", t, a));
  PetscCall(VecRestoreArrayRead(r->rho, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Fixed-step integration from t0 to t1 in steps of dt (the last one shorter if dt does not divide
  t1 - t0), stopped by step count rather than by time: stopping by time makes PETSc take sliver
  steps whenever the accumulated time falls an ulp short of t1, and keep clipped steps as the new dt.
*/
static PetscErrorCode AdvanceFixed(RunCtx *r, PetscReal t0, PetscReal t1, PetscReal dt, PetscInt usermax)
{
  const PetscReal gap = t1 - t0;
  const PetscInt  m   = PetscMax(1, (PetscInt)PetscCeilReal(gap / dt - 1e-9));
  const PetscBool even = (PetscBool)(PetscAbsReal(gap - m * dt) <= 1e-9 * dt);
  PetscInt        step;
  PetscReal       t;

  PetscFunctionBeginUser;
  PetscCall(TSGetStepNumber(r->ts, &step));
  PetscCall(TSSetTimeStep(r->ts, dt));
  PetscCall(TSSetMaxTime(r->ts, t1 + 2 * dt));
  PetscCall(TSSetMaxSteps(r->ts, PetscMin(usermax, step + (even ? m : m - 1))));
  PetscCall(TSSolve(r->ts, r->rho));
  PetscCall(TSGetStepNumber(r->ts, &step));
  if (!even && step < usermax) {
    PetscCall(TSGetTime(r->ts, &t));
    PetscCall(TSSetTimeStep(r->ts, t1 - t));
    PetscCall(TSSetMaxSteps(r->ts, step + 1));
    PetscCall(TSSolve(r->ts, r->rho));
    PetscCall(TSSetTimeStep(r->ts, dt));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Output times are k * dt_out computed by multiplication, so they do not drift. */
static PetscErrorCode TimeLoop(RunCtx *r)
{
  TSConvergedReason reason;
  TSAdapt           adapt;
  PetscBool         fixed;
  PetscReal         dt0, t = 0;
  PetscInt          usermax, step;

  PetscFunctionBeginUser;
  PetscCall(TSGetAdapt(r->ts, &adapt));
  PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &fixed));
  PetscCall(TSGetTimeStep(r->ts, &dt0));
  PetscCall(TSGetMaxSteps(r->ts, &usermax));
  PetscCall(Record(r, 0.0));
  for (PetscInt k = 1; r->tfinal > 0; k++) {
    PetscReal next = k * r->dt_out;
    PetscBool last = (PetscBool)(next >= r->tfinal * (1 - 1e-12));

    if (last) next = r->tfinal;
    if (fixed) PetscCall(AdvanceFixed(r, t, next, dt0, usermax));
    else {
      PetscCall(TSSetMaxTime(r->ts, next));
      PetscCall(TSSolve(r->ts, r->rho));
    }
    PetscCall(TSGetConvergedReason(r->ts, &reason));
    PetscCall(TSGetTime(r->ts, &t));
    PetscCall(TSGetStepNumber(r->ts, &step));
    PetscCheck(reason >= 0, r->comm, KF_ERR_NONFINITE, "the time stepper failed at t = %s (%s): try a smaller -ts_dt or adaptive stepping", KF_NUM(t), TSConvergedReasons[reason]);
    if (PetscAbsReal(t - next) <= 1e-9 * PetscMax(dt0, 1e-300) + 1e-12 * PetscAbsReal(next)) {
      t = next; /* the output time itself, not its round-off image */
      PetscCall(TSSetTime(r->ts, t));
    }
    PetscCall(Record(r, t));
    if (step >= usermax && t < r->tfinal) {
      PetscCall(PetscPrintf(r->comm, "stopped at t = %s: -ts_max_steps %" PetscInt_FMT " reached before -ts_max_time %s\n", KF_NUM(t), usermax, KF_NUM(r->tfinal)));
      break;
    }
    if (last) break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Math spec C.1 (s = 1, nu = 1): int rho_T^2 = int rho_0 L_T(rho_0), and the energy bound. */
static PetscErrorCode CheckC1(RunCtx *r)
{
  const PetscScalar *a, *a0;
  PetscInt           n;
  PetscReal          loc[2] = {0, 0}, glob[2], T = r->last.time, eT = PetscExpReal(-T), m0 = r->first.rho_min, bound, rel;

  PetscFunctionBeginUser;
  if (!(r->p->s == 1.0 && r->nu_uniform)) {
    PetscCall(PetscPrintf(r->comm, "  exact check (C.1)  n/a: needs s = 1 and a uniform target\n"));
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
  PetscCall(PetscPrintf(r->comm, "  exact check (C.1)  int rho_T^2 = %.15f, int rho_0 L_T(rho_0) = %.15f, relative difference %.2e\n", (double)(glob[0] / (PetscReal)r->p->npoints), (double)(glob[1] / (PetscReal)r->p->npoints), (double)rel));
  PetscCall(PetscPrintf(r->comm, "                     energy bound E(T) <= %.6e: %s (E(T) = %.6e)\n", (double)bound, r->last.energy <= bound * (1 + 1e-10) ? "holds" : "VIOLATED", (double)r->last.energy));
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
  PetscCall(TSGetStepNumber(r->ts, &steps));
  PetscCall(PetscTime(&now));
  PetscCall(PetscPrintf(r->comm, "\n== kmdflow summary ==\n"));
  PetscCall(PetscPrintf(r->comm, "  grid               %" PetscInt_FMT, p->n[0]));
  for (PetscInt j = 1; j < p->dim; j++) PetscCall(PetscPrintf(r->comm, " x %" PetscInt_FMT, p->n[j]));
  PetscCall(PetscPrintf(r->comm, " (d = %" PetscInt_FMT ", L = %g, s = %g)\n", p->dim, (double)p->L, (double)p->s));
  PetscCall(PetscPrintf(r->comm, "  ranks x threads    %d x %" PetscInt_FMT "\n", size, p->fftw_threads));
  PetscCall(PetscPrintf(r->comm, "  time steps         %" PetscInt_FMT " to t = %g, %" PetscInt_FMT " outputs, %.2f s wall\n", steps, (double)r->last.time, r->nout, now - r->t_start));
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
  PetscCall(KfCheckUnusedOptions(r->comm, r->p->strict));
  PetscCall(PetscStrcasecmp(r->p->output, "none", &nooutput));
  if (!nooutput && r->p->output[0]) {
    const KfSpectralLayout *lay;

    PetscCall(KfSpectralGetLayout(r->sp, &lay));
    PetscCall(KfIOCreate(r->comm, r->p->output, lay, r->p->L, &r->io));
    PetscCall(WriteProvenance(r));
  }
  PetscCall(KfParamsView(r->p, r->comm));
  PetscCall(TimeLoop(r));
  PetscCall(Summary(r));
  PetscCall(KfIOClose(&r->io, PETSC_TRUE));
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
  /* A failed run leaves no output behind: the partial file is removed (errors here are collective). */
  if (ierr && r.io) PetscCall(KfIOClose(&r.io, PETSC_FALSE));
  PetscCall(TSDestroy(&r.ts));
  PetscCall(KfPdeDestroy(&r.pde));
  PetscCall(VecDestroy(&r.rho));
  PetscCall(VecDestroy(&r.rho0));
  PetscCall(VecDestroy(&r.nu));
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
  PetscCall(KfSpectralCreate(comm, p->dim, p->n, KF_PLANNER_ESTIMATE, NULL, 1, &r.sp));
  PetscCall(KfDensityHelp(r.sp, p, "init"));
  PetscCall(KfDensityHelp(r.sp, p, "target"));
  PetscCall(SetupTS(&r)); /* the same defaults as a run, so -help shows them */
  PetscCall(TSDestroy(&r.ts));
  PetscCall(KfSpectralDestroy(&r.sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}
