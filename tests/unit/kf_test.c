/* kf_test.c - the collective checks shared by the unit tests (see kf_test.h) */
#include "kf_test.h"
#include "kf_log.h"
#include "kf_spectral.h"

/* Counted only in KfTestCheck, after the reduction, so every rank holds the same counts. */
static PetscInt nfail = 0, nchecks = 0;

void KfTestErrReset(KfTestErr *e)
{
  e->err      = 0;
  e->where[0] = 0;
}

/* NaN must count as a failure, so it is turned into an infinite error (NaN compares false). */
PetscErrorCode KfTestErrUpdate(KfTestErr *e, PetscReal err, const char where[])
{
  PetscFunctionBeginUser;
  if (err != err) err = PETSC_INFINITY;
  if (err > e->err || (err == e->err && !e->where[0])) {
    e->err = err;
    PetscCall(PetscStrncpy(e->where, where, sizeof(e->where)));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Collective on comm: reduces the error, prints one ok/FAIL line and counts the check. The FAIL line
  comes from the rank that saw the worst value, since only that rank knows where it was.
*/
PetscErrorCode KfTestCheck(MPI_Comm comm, const char label[], const char what[], const KfTestErr *e, PetscReal tol)
{
  struct {
    double v;
    int    r;
  } loc, glob;
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  loc.v = (double)e->err;
  loc.r = rank;
  PetscCallMPI(MPI_Allreduce(&loc, &glob, 1, MPI_DOUBLE_INT, MPI_MAXLOC, comm));
  nchecks++;
  if (glob.v <= tol) {
    PetscCall(PetscPrintf(comm, "ok    %-34s %-52s max %.2e (tol %.0e)\n", label, what, glob.v, (double)tol));
  } else {
    nfail++;
    if (rank == glob.r) PetscCall(PetscPrintf(PETSC_COMM_SELF, "FAIL  %-34s %-52s max %.3e > tol %.0e on rank %d: %s\n", label, what, glob.v, (double)tol, rank, e->where));
  }
  PetscCallMPI(MPI_Barrier(comm)); /* keeps a FAIL line next to its check in the merged output */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A check of one local value per rank. */
PetscErrorCode KfTestCheckValue(MPI_Comm comm, const char label[], const char what[], PetscReal err, PetscReal tol, const char where[])
{
  KfTestErr e;

  PetscFunctionBeginUser;
  KfTestErrReset(&e);
  PetscCall(KfTestErrUpdate(&e, err, where));
  PetscCall(KfTestCheck(comm, label, what, &e, tol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A boolean check: ok on every rank. */
PetscErrorCode KfTestCheckTrue(MPI_Comm comm, const char label[], const char what[], PetscBool ok, const char where[])
{
  KfTestErr e;

  PetscFunctionBeginUser;
  KfTestErrReset(&e);
  if (!ok) PetscCall(KfTestErrUpdate(&e, 1, where));
  PetscCall(KfTestCheck(comm, label, what, &e, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The number of failed checks; the same on every rank that took part in all checks. */
PetscInt KfTestFailures(void)
{
  return nfail;
}

/* Collective on comm: the closing PASSED/FAILED line. */
PetscErrorCode KfTestSummary(MPI_Comm comm)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(comm, "%s: %" PetscInt_FMT " of %" PetscInt_FMT " checks failed\n", nfail ? "FAILED" : "PASSED", nfail, nchecks));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int KfTestMain(int argc, char **argv, const char help[], PetscErrorCode (*run)(void))
{
  PetscErrorCode ierr;
  PetscInt       failed;

  ierr = PetscInitialize(&argc, &argv, NULL, help);
  if (ierr) return 1;
  ierr = KfLogRegister();
  if (!ierr) ierr = KfSpectralInitialize();
  if (!ierr) ierr = run();
  (void)KfSpectralFinalize();
  failed = KfTestFailures();
  if (PetscFinalize() || ierr) return 1;
  return failed ? 1 : 0;
}
