/* kf_run.h - drivers of the run modes */
#pragma once
#include "kf_io.h"
#include "kf_params.h"

/* Runs PDE mode with the given parameters: setup, time loop with outputs, summary. Collective. */
PETSC_EXTERN PetscErrorCode KfRunPde(MPI_Comm, const KfParams *);
/* Prints the help of every option of PDE mode (densities, TS) without running. */
PETSC_EXTERN PetscErrorCode KfRunPdeHelp(MPI_Comm, const KfParams *);
/* Particle mode (src/particles.c). */
PETSC_EXTERN PetscErrorCode KfRunParticles(MPI_Comm, const KfParams *);
PETSC_EXTERN PetscErrorCode KfRunParticlesHelp(MPI_Comm, const KfParams *);
/* Compare mode: PDE and particles from the same rho_0 and nu, with distances between them (kf_compare.h). */
PETSC_EXTERN PetscErrorCode KfRunCompare(MPI_Comm, const KfParams *);
PETSC_EXTERN PetscErrorCode KfRunCompareHelp(MPI_Comm, const KfParams *);
/* Root attributes every output file carries: options, versions, ranks, threads, mode, d, s, L. */
PETSC_EXTERN PetscErrorCode KfRunWriteProvenance(KfIO, const KfParams *, MPI_Comm);
/*
  After a failed run (ierr != 0). Input and non-finite errors are collective, so the partial file is removed
  collectively (a stop for a checkpoint keeps it); any other error may be local to one rank and must not wait for the
  others: it is returned as is (main() calls MPI_Abort), leaving only a PATH.part marked incomplete.
*/
PETSC_EXTERN PetscErrorCode KfRunDiscardOutput(PetscErrorCode ierr, KfIO *io);
