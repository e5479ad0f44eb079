/* kf.h - common definitions of kmdflow: PETSc compatibility, error classes, small helpers */
#pragma once

#include <petscsys.h>
#include <petscvec.h>

#if PETSC_VERSION_LT(3, 18, 0)
  #error "kmdflow needs PETSc 3.18 or later"
#endif
#if PETSC_VERSION_LT(3, 19, 0) && !defined(PETSC_SUCCESS)
  #define PETSC_SUCCESS 0
#endif

/* Complex numbers of the spectral module; layout-compatible with fftw_complex. */
typedef double _Complex KfComplex;

#define KF_MAX_DIM 3

/*
  Errors in user input (options, input files) are raised with this code. The kmdflow error
  handler prints them as one line "kmdflow: error: ..." instead of a traceback, and main()
  exits with status 2. They are always raised collectively (every rank sees the same input).
*/
#define KF_ERR_INPUT PETSC_ERR_USER_INPUT

/* Raised collectively when the state stops being finite; main() exits with status 3. */
#define KF_ERR_NONFINITE PETSC_ERR_FP

/* Raised collectively after a checkpoint was written on request (SIGTERM, SIGUSR1): main() exits with status 4. */
#define KF_ERR_CHECKPOINTED (PETSC_ERR_MAX_VALUE + 1) /* above PETSc's codes: never raised by PETSc itself */

/* Exit statuses of kmdflow (docs/reliability.md). */
#define KF_EXIT_INPUT        2
#define KF_EXIT_NONFINITE    3
#define KF_EXIT_CHECKPOINTED 4

PETSC_EXTERN PetscErrorCode KfInstallErrorHandler(void);
PETSC_EXTERN int            KfExitStatus(PetscErrorCode);
PETSC_EXTERN PetscErrorCode KfRenameFile(MPI_Comm, const char[], const char[]);
PETSC_EXTERN PetscErrorCode KfRemoveFile(MPI_Comm, const char[]);
/* Around PetscInitialize: keeps PETSc's error lines (bad -options_file) for one kmdflow message. */
PETSC_EXTERN void           KfCaptureStartupErrors(PetscBool);
PETSC_EXTERN const char    *KfStartupError(void);
PETSC_EXTERN const char    *KfRealString(PetscReal, char[], size_t);
#define KF_NUM(v) KfRealString((v), (char[32]){0}, 32)
