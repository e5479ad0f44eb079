/* signal.c - SIGTERM/SIGUSR1 recorded by an async-signal-safe handler and acted on collectively between time steps */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include <signal.h>
#include <string.h>
#include "kf_signal.h"

static volatile sig_atomic_t kf_signal_received = 0;

static void KfSignalRecord(int signum)
{
  if (!kf_signal_received) kf_signal_received = signum;
}

PetscErrorCode KfSignalInstall(void)
{
  struct sigaction sa;

  PetscFunctionBeginUser;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = KfSignalRecord;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* MPI and file calls in flight continue; the flag is read at the next step */
  PetscCheck(!sigaction(SIGTERM, &sa, NULL) && !sigaction(SIGUSR1, &sa, NULL), PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot install the SIGTERM/SIGUSR1 handler");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSignalPending(MPI_Comm comm, int *signum)
{
  int mine = (int)kf_signal_received, any;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm));
  *signum = any;
  PetscFunctionReturn(PETSC_SUCCESS);
}
