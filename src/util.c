/* util.c - the kmdflow error handler and collective file helpers */
#include "kf.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* User-input and non-finite-state errors are reported once, as one line, by rank 0 of the
   communicator that raised them; everything else keeps PETSc's traceback. */
static PetscErrorCode KfErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                     PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank = 0;

  if (n != KF_ERR_INPUT && n != KF_ERR_NONFINITE && n != KF_ERR_CHECKPOINTED) return PetscTraceBackErrorHandler(comm, line, fun, file, n, p, mess, ctx);
  if (p != PETSC_ERROR_INITIAL) return n;
  if (comm != MPI_COMM_NULL) MPI_Comm_rank(comm, &rank);
  if (!rank) {
    fprintf(stderr, "kmdflow: %s%s\n", n == KF_ERR_CHECKPOINTED ? "" : "error: ", mess ? mess : "(no message)");
    fflush(stderr);
  }
  return n;
}

PetscErrorCode KfInstallErrorHandler(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(KfErrorHandler, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int KfExitStatus(PetscErrorCode ierr)
{
  if (!ierr) return 0;
  if (ierr == KF_ERR_INPUT) return KF_EXIT_INPUT;
  if (ierr == KF_ERR_NONFINITE) return KF_EXIT_NONFINITE;
  if (ierr == KF_ERR_CHECKPOINTED) return KF_EXIT_CHECKPOINTED;
  return 1;
}

/* Rank 0 renames; the result is broadcast so that every rank returns the same error. */
PetscErrorCode KfRenameFile(MPI_Comm comm, const char from[], const char to[])
{
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank && rename(from, to)) err = errno;
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot rename %s to %s: %s", from, to, strerror(err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRemoveFile(MPI_Comm comm, const char path[])
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) (void)remove(path);
  PetscCallMPI(MPI_Barrier(comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PETSc's printf family writes integral reals as "2."; messages quote numbers as the user typed them. */
const char *KfRealString(PetscReal v, char buf[], size_t len)
{
  snprintf(buf, len, "%g", (double)v);
  return buf;
}
