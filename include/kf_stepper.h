/* kf_stepper.h - the time loop shared by every mode (PETSc TS, fixed output times, failure reports) */
#pragma once
#include <petscts.h>
#include "kf.h"

typedef struct {
  MPI_Comm  comm;
  TS        ts;
  PetscReal tfinal, dt_out; /* -ts_max_time, and the output interval actually used */
  /* checkpoints (kf_checkpoint.h), set on st[0] before KfStepperRun*: hook is called before every time step of every stepper,
     at a step boundary (index: the stepper, k: the output interval being advanced, towards k dt_out); an error it returns
     (e.g. KF_ERR_CHECKPOINTED) stops the run. resume_k > 0: a restarted run, whose TS times, step numbers and states are
     set already, continues in output interval resume_k without recording t = 0. */
  PetscErrorCode (*hook)(void *ctx, PetscInt index, PetscInt k);
  void     *hook_ctx;
  PetscInt  index, k, resume_k;
} KfStepper;

/* Called at t = 0 and at every output time (and where -ts_max_steps stops the run). */
typedef PetscErrorCode (*KfRecordFn)(void *ctx, PetscReal t);

/* TS with kmdflow's defaults (adaptive RK 5dp, rtol = atol = 1e-8, dt0 = 1e-3, t_final = 1), then
   -ts_* options, then (prefix != NULL) -PREFIXts_* options for this stepper alone; refuses adaptivity for RK
   tableaus without an error estimate. output_dt = 0: t_final/10. */
/* Makes the infinity norm the default of -ts_adapt_wnormtype (rank-independent adaptive steps); call before KfStepperCreate. */
PETSC_EXTERN PetscErrorCode KfStepperDefaultMaxNorm(void);
PETSC_EXTERN PetscErrorCode KfStepperCreate(MPI_Comm, const char prefix[], TSRHSFunction, void *, PetscReal output_dt, KfStepper *);
/* Advances U from 0 to t_final, calling record at each output time; a failed step is a collective
   KF_ERR_NONFINITE error with a hint. */
PETSC_EXTERN PetscErrorCode KfStepperRun(KfStepper *, Vec U, KfRecordFn, void *ctx);
/* n = 1 or 2 steppers (each with its own state U[i]) advanced together: record sees all of them at each output
   time of st[0] (compare mode). */
PETSC_EXTERN PetscErrorCode KfStepperRunCoupled(PetscInt n, KfStepper st[], Vec U[], KfRecordFn, void *ctx);
/* Collective: if !finite, a KF_ERR_NONFINITE error naming what, t, the step and what to try (the hint
   depends on whether the step is fixed or adaptive). finite must agree on every rank. */
PETSC_EXTERN PetscErrorCode KfStepperCheckFinite(KfStepper *, PetscBool finite, PetscReal t, const char what[]);
PETSC_EXTERN PetscErrorCode KfStepperDestroy(KfStepper *);
