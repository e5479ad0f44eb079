/* stepper.c - the time loop shared by every mode: PETSc TS with kmdflow's defaults, outputs at fixed
   times k * output_dt independent of the steps taken, and collective failure reports */
#include <petscts.h>
#include "kf_stepper.h"

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

/* PETSc's own -ts_* readers raise errors with a traceback; a bad value is the user's: one line, exit 2. */
static PetscErrorCode SetFromOptionsChecked(TS ts, MPI_Comm comm)
{
  PetscErrorCode ierr;
  const char    *text = NULL;
  char          *specific = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = TSSetFromOptions(ts);
  PetscCall(PetscPopErrorHandler());
  if (!ierr) PetscFunctionReturn(PETSC_SUCCESS);
  if (ierr == KF_ERR_INPUT) return ierr;
  (void)PetscErrorMessage(ierr, &text, &specific);
  SETERRQ(comm, KF_ERR_INPUT, "a time-stepper (-ts_*) option is not valid: %s", specific && specific[0] ? specific : (text ? text : "unknown error"));
}

/* The max norm (an exact reduction) makes adaptive step sizes independent of the rank count; set before any TS
   reads its options (also for -help, so that it shows the value used). */
PetscErrorCode KfStepperDefaultMaxNorm(void)
{
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsHasName(NULL, NULL, "-ts_adapt_wnormtype", &set));
  if (!set) PetscCall(PetscOptionsSetValue(NULL, "-ts_adapt_wnormtype", "infinity"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Defaults: adaptive Dormand-Prince with tight tolerances, final time 1; every -ts_* option overrides. */
PetscErrorCode KfStepperCreate(MPI_Comm comm, const char prefix[], TSRHSFunction rhs, void *ctx, PetscReal output_dt, KfStepper *st)
{
  PetscInt  maxsteps;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(st, sizeof(*st)));
  st->comm = comm;
  PetscCall(TSCreate(comm, &st->ts));
  PetscCall(TSSetProblemType(st->ts, TS_NONLINEAR));
  PetscCall(TSSetType(st->ts, TSRK));
  PetscCall(TSRKSetType(st->ts, TSRK5DP));
  PetscCall(TSSetRHSFunction(st->ts, NULL, rhs, ctx));
  PetscCall(TSSetTime(st->ts, 0.0));
  PetscCall(TSSetTimeStep(st->ts, 1e-3));
  PetscCall(TSSetMaxTime(st->ts, 1.0));
  PetscCall(TSSetMaxSteps(st->ts, PETSC_MAX_INT));
  PetscCall(TSSetExactFinalTime(st->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetTolerances(st->ts, 1e-8, NULL, 1e-8, NULL));
  PetscCall(TSSetErrorIfStepFails(st->ts, PETSC_FALSE)); /* a failed step is reported by TimeLoop, collectively */
  PetscCall(SetFromOptionsChecked(st->ts, comm));
  if (prefix) { /* -ts_* set the common values above, -PREFIXts_* override them for this stepper */
    PetscCall(TSSetOptionsPrefix(st->ts, prefix));
    PetscCall(SetFromOptionsChecked(st->ts, comm));
  }
  PetscCall(CheckAdaptivity(st->ts, comm));
  PetscCall(TSGetMaxTime(st->ts, &st->tfinal));
  PetscCall(TSGetMaxSteps(st->ts, &maxsteps));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-ts_max_time", &set));
  PetscCheck(st->tfinal >= 0 && st->tfinal < PETSC_MAX_REAL, comm, KF_ERR_INPUT, "-ts_max_time %s: must be a finite time >= 0", KF_NUM(st->tfinal));
  PetscCheck(maxsteps >= 0, comm, KF_ERR_INPUT, "-ts_max_steps %" PetscInt_FMT ": must be >= 0", maxsteps);
  st->dt_out = output_dt > 0 ? output_dt : (st->tfinal > 0 ? st->tfinal / 10 : 1.0);
  PetscCheck(st->tfinal / st->dt_out < 1e6, comm, KF_ERR_INPUT, "-output_dt %s: more than 10^6 outputs up to t = %s; use a larger -output_dt", KF_NUM(st->dt_out), KF_NUM(st->tfinal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What to try when the state blows up: depends on whether the step is fixed or adaptive. */
static PetscErrorCode StepperHint(KfStepper *st, char hint[], size_t len)
{
  TSAdapt   adapt;
  PetscBool fixed;
  PetscReal dt;

  PetscFunctionBeginUser;
  PetscCall(TSGetAdapt(st->ts, &adapt));
  PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &fixed));
  PetscCall(TSGetTimeStep(st->ts, &dt));
  if (fixed) PetscCall(PetscSNPrintf(hint, len, "the fixed step -ts_dt %s is too large for this problem; use a smaller -ts_dt, or adaptive stepping (-ts_rk_type 5dp -ts_adapt_type basic)", KF_NUM(dt)));
  else PetscCall(PetscSNPrintf(hint, len, "the adaptive stepper lost control; tighten -ts_rtol and -ts_atol or lower -ts_adapt_dt_max"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Fixed-step integration from t0 to t1 in steps of dt (the last one shorter if dt does not divide
  t1 - t0), stopped by step count rather than by time: stopping by time makes PETSc take sliver
  steps whenever the accumulated time falls an ulp short of t1, and keep clipped steps as the new dt.
*/
static PetscErrorCode AdvanceFixed(KfStepper *st, Vec U, PetscReal t0, PetscReal t1, PetscReal dt, PetscInt usermax)
{
  const PetscReal gap = t1 - t0;
  const PetscInt  m   = PetscMax(1, (PetscInt)PetscCeilReal(gap / dt - 1e-9));
  const PetscBool even = (PetscBool)(PetscAbsReal(gap - m * dt) <= 1e-9 * dt);
  PetscInt        step;
  PetscReal       t;

  PetscFunctionBeginUser;
  PetscCall(TSGetStepNumber(st->ts, &step));
  PetscCall(TSSetTimeStep(st->ts, dt));
  PetscCall(TSSetMaxTime(st->ts, t1 + 2 * dt));
  PetscCall(TSSetMaxSteps(st->ts, PetscMin(usermax, step + (even ? m : m - 1))));
  PetscCall(TSSolve(st->ts, U));
  PetscCall(TSGetStepNumber(st->ts, &step));
  if (!even && step < usermax) {
    PetscCall(TSGetTime(st->ts, &t));
    PetscCall(TSSetTimeStep(st->ts, t1 - t));
    PetscCall(TSSetMaxSteps(st->ts, step + 1));
    PetscCall(TSSolve(st->ts, U));
    PetscCall(TSSetTimeStep(st->ts, dt));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* How one stepper advances: read once before the loop (the loop itself changes the TS step and limits). */
typedef struct {
  PetscBool fixed;
  PetscReal dt0;
  PetscInt  usermax;
} StepPlan;

static PetscErrorCode GetPlan(KfStepper *st, StepPlan *plan)
{
  TSAdapt adapt;

  PetscFunctionBeginUser;
  PetscCall(TSGetAdapt(st->ts, &adapt));
  PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &plan->fixed));
  PetscCall(TSGetTimeStep(st->ts, &plan->dt0));
  PetscCall(TSGetMaxSteps(st->ts, &plan->usermax));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One output interval: from t to next; *t becomes the time reached (next itself, not its round-off image). */
static PetscErrorCode AdvanceTo(KfStepper *st, const StepPlan *plan, Vec U, PetscReal next, PetscReal *t)
{
  TSConvergedReason reason;

  PetscFunctionBeginUser;
  if (*t >= next) PetscFunctionReturn(PETSC_SUCCESS); /* restarted from a checkpoint taken after this stepper got there */
  if (plan->fixed) PetscCall(AdvanceFixed(st, U, *t, next, plan->dt0, plan->usermax));
  else {
    PetscCall(TSSetMaxTime(st->ts, next));
    PetscCall(TSSolve(st->ts, U));
  }
  PetscCall(TSGetConvergedReason(st->ts, &reason));
  PetscCall(TSGetTime(st->ts, t));
  if (reason < 0) {
    char hint[160];

    PetscCall(StepperHint(st, hint, sizeof(hint)));
    SETERRQ(st->comm, KF_ERR_NONFINITE, "the time stepper failed at t = %s (%s): %s", KF_NUM(*t), TSConvergedReasons[reason], hint);
  }
  if (PetscAbsReal(*t - next) <= 1e-9 * PetscMax(plan->dt0, 1e-300) + 1e-12 * PetscAbsReal(next)) {
    *t = next;
    PetscCall(TSSetTime(st->ts, *t));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The checkpoint hook of st[0], called by every stepper's TS before each step (TS pre-step: the post-step belongs to the
   particles' resampling). */
static PetscErrorCode StepperPreStep(TS ts)
{
  PetscContainer c;
  KfStepper     *st;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectQuery((PetscObject)ts, "KfStepper", (PetscObject *)&c));
  PetscCall(PetscContainerGetPointer(c, (void **)&st));
  PetscCall(st->hook(st->hook_ctx, st->index, st->k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode InstallHooks(PetscInt n, KfStepper st[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n && st[0].hook; i++) {
    PetscContainer c;

    st[i].index    = i;
    st[i].hook     = st[0].hook;
    st[i].hook_ctx = st[0].hook_ctx;
    PetscCall(PetscContainerCreate(st[i].comm, &c));
    PetscCall(PetscContainerSetPointer(c, &st[i]));
    PetscCall(PetscObjectCompose((PetscObject)st[i].ts, "KfStepper", (PetscObject)c));
    PetscCall(PetscContainerDestroy(&c));
    PetscCall(TSSetPreStep(st[i].ts, StepperPreStep));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfStepperRun(KfStepper *st, Vec U, KfRecordFn record, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCall(KfStepperRunCoupled(1, st, &U, record, ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Output times are k * dt_out (of st[0]) computed by multiplication, so they do not drift. Every stepper
  reaches each output time before record is called; if -ts_max_steps stops one of several steppers short of
  it, the states belong to different times and the run stops without recording them.
*/
PetscErrorCode KfStepperRunCoupled(PetscInt n, KfStepper st[], Vec U[], KfRecordFn record, void *ctx)
{
  StepPlan  plan[2];
  PetscReal t[2] = {0, 0};
  PetscBool anyzero = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCheck(n >= 1 && n <= 2, st[0].comm, PETSC_ERR_ARG_OUTOFRANGE, "1 or 2 coupled steppers");
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(GetPlan(&st[i], &plan[i]));
    if (plan[i].usermax == 0) anyzero = PETSC_TRUE;
    PetscCall(TSGetTime(st[i].ts, &t[i]));
  }
  PetscCall(InstallHooks(n, st));
  if (st[0].resume_k < 1) PetscCall(record(ctx, 0.0));
  if (anyzero && st[0].tfinal > 0) PetscCall(PetscPrintf(st[0].comm, "stopped at t = 0: -ts_max_steps 0\n"));
  for (PetscInt k = PetscMax(1, st[0].resume_k); st[0].tfinal > 0 && !anyzero; k++) {
    PetscReal next = k * st[0].dt_out;
    PetscBool last = (PetscBool)(next >= st[0].tfinal * (1 - 1e-12)), stop = PETSC_FALSE, apart = PETSC_FALSE;
    PetscInt  istop = 0;

    if (last) next = st[0].tfinal;
    for (PetscInt i = 0; i < n; i++) {
      PetscInt step;

      st[i].k = k;
      PetscCall(AdvanceTo(&st[i], &plan[i], U[i], next, &t[i]));
      PetscCall(TSGetStepNumber(st[i].ts, &step));
      if (step >= plan[i].usermax && t[i] < st[0].tfinal && !stop) {
        stop  = PETSC_TRUE;
        istop = i;
      }
      if (t[i] != t[0]) apart = PETSC_TRUE;
    }
    if (!apart) PetscCall(record(ctx, t[0]));
    if (stop) {
      PetscCall(PetscPrintf(st[0].comm, "stopped at t = %s: -ts_max_steps %" PetscInt_FMT " reached before -ts_max_time %s%s\n", KF_NUM(t[istop]), plan[istop].usermax, KF_NUM(st[0].tfinal), apart ? " (the coupled states are at different times: not recorded)" : ""));
      break;
    }
    if (last) break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfStepperCheckFinite(KfStepper *st, PetscBool finite, PetscReal t, const char what[])
{
  PetscInt step;
  char     hint[160];

  PetscFunctionBeginUser;
  if (finite) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(TSGetStepNumber(st->ts, &step));
  PetscCall(StepperHint(st, hint, sizeof(hint)));
  SETERRQ(st->comm, KF_ERR_NONFINITE, "non-finite %s at t = %s (step %" PetscInt_FMT "): %s", what, KF_NUM(t), step, hint);
}

PetscErrorCode KfStepperDestroy(KfStepper *st)
{
  PetscFunctionBeginUser;
  PetscCall(TSDestroy(&st->ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}
