/* kf_run.h - drivers of the run modes */
#pragma once
#include "kf_params.h"

/* Runs PDE mode with the given parameters: setup, time loop with outputs, summary. Collective. */
PETSC_EXTERN PetscErrorCode KfRunPde(MPI_Comm, const KfParams *);
/* Prints the help of every option of PDE mode (densities, TS) without running. */
PETSC_EXTERN PetscErrorCode KfRunPdeHelp(MPI_Comm, const KfParams *);
