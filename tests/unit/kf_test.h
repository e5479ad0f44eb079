/* kf_test.h - the collective checks shared by the unit tests

   Every check is collective: each rank measures its local error, the maximum is reduced, and the
   rank holding the worst value says where it was. The counts of checks and failures are kept here
   so that a test program only has to ask for them at the end. */
#pragma once
#include "kf.h" /* PetscSys and PETSC_SUCCESS, which PETSc 3.18 lacks */

/* The largest local error of one check and where it occurred, for the failure message. */
typedef struct {
  PetscReal err;
  char      where[200];
} KfTestErr;

PETSC_EXTERN void           KfTestErrReset(KfTestErr *);
PETSC_EXTERN PetscErrorCode KfTestErrUpdate(KfTestErr *, PetscReal, const char[]);
PETSC_EXTERN PetscErrorCode KfTestCheck(MPI_Comm, const char[], const char[], const KfTestErr *, PetscReal);
PETSC_EXTERN PetscErrorCode KfTestCheckValue(MPI_Comm, const char[], const char[], PetscReal, PetscReal, const char[]);
PETSC_EXTERN PetscErrorCode KfTestCheckTrue(MPI_Comm, const char[], const char[], PetscBool, const char[]);
PETSC_EXTERN PetscInt       KfTestFailures(void);
PETSC_EXTERN PetscErrorCode KfTestSummary(MPI_Comm);

/* The main() of a unit test: PETSc, kmdflow's log events and FFTW set up, run() (which ends with KfTestSummary), and
   exit status 1 if run() failed or any collective check did (every rank agrees on that count). */
PETSC_EXTERN int KfTestMain(int argc, char **argv, const char help[], PetscErrorCode (*run)(void));
