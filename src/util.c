/* util.c - the kmdflow error handler and collective file helpers */
#include "kf.h"
#include <errno.h>
#include <stdarg.h>
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

/* Errors of PetscInitialize (a malformed -options_file) are printed before kmdflow's handler exists; their lines are kept
   here instead, so that main() can report the one that says what is wrong. */
static char kf_startup_lines[3][512];
static int  kf_startup_nlines = 0;

static PetscErrorCode KfStartupErrorPrintf(const char format[], ...)
{
  va_list ap;
  char    line[512];

  va_start(ap, format);
  vsnprintf(line, sizeof(line), format, ap);
  va_end(ap);
  if (kf_startup_nlines < 3 && line[0] && line[0] != '\n') {
    size_t n = strlen(line);

    if (n && line[n - 1] == '\n') line[n - 1] = 0;
    snprintf(kf_startup_lines[kf_startup_nlines++], sizeof(kf_startup_lines[0]), "%s", line);
  }
  return 0;
}

void KfCaptureStartupErrors(PetscBool on)
{
  PetscErrorPrintf = on ? KfStartupErrorPrintf : PetscErrorPrintfDefault;
}

/* The specific message: after the banner and PETSc's generic text. */
const char *KfStartupError(void)
{
  return kf_startup_nlines >= 3 ? kf_startup_lines[2] : kf_startup_nlines ? kf_startup_lines[kf_startup_nlines - 1] : "PETSc could not start";
}
