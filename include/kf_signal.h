/* kf_signal.h - SIGTERM and SIGUSR1 (what SLURM sends before a time limit or preemption) as a flag polled at step boundaries */
#pragma once
#include "kf.h"

/* Replaces the handlers of SIGTERM and SIGUSR1 (PETSc's included) by one that only records the signal. */
PETSC_EXTERN PetscErrorCode KfSignalInstall(void);
/* Collective: whether any rank has received SIGTERM or SIGUSR1 since KfSignalInstall (signum: the largest signal number seen on
   any rank; 0 if none). Every rank gets the same answer, so all of them stop at the same step. */
PETSC_EXTERN PetscErrorCode KfSignalPending(MPI_Comm, int *signum);
