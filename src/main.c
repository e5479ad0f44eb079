/* main.c - kmdflow: gradient flows of kernel mean discrepancies on spaces of probability measures */
#include "kf_checkpoint.h"
#include "kf_log.h"
#include "kf_memory.h"
#include "kf_params.h"
#include "kf_relu.h"
#include "kf_run.h"
#include "kf_spectral.h"

static char help[] = "kmdflow: Wasserstein gradient flows of Sobolev (kernel mean discrepancy) energies\n"
                     "  d_t rho = div(rho grad u), u = K_s * (rho - nu) on the torus [0,L)^d, pseudo-spectral (FFTW-MPI) + PETSc TS.\n"
                     "  Particle mode (-mode particles): dX_i/dt = -(1/N) sum_j grad K(X_i - X_j) + grad(K * nu)(X_i), exact ring-passing sums.\n"
                     "  -problem relu: shallow ReLU teacher-student network on the sphere S^d as a Wasserstein-Fisher-Rao flow of neurons (docs/relu.md).\n"
                     "  Compare mode (-mode compare): both from the same rho_0 and nu, with H^-s' and (1-D) W1 distances between them.\n"
                     "  Example: mpiexec -n 2 kmdflow -dim 2 -n 128 -s 1 -init cos -ts_max_time 2 -output run.h5\n"
                     "           mpiexec -n 2 kmdflow -mode particles -dim 1 -s 1 -particles 4096 -ts_max_time 2 -output p.h5\n"
                     "  Exit status: 0 success, 2 bad input (one-line message), 3 non-finite state, 4 stopped by SIGTERM/SIGUSR1 after writing a checkpoint\n"
                     "  (continue with -restart PATH), 1 other failure.\n\n";

static PetscErrorCode KfMain(void)
{
  KfParams  p;
  PetscBool help_requested;

  PetscFunctionBeginUser;
  PetscCall(KfInstallErrorHandler());
  PetscCall(KfLogRegister());
  PetscCall(KfSpectralInitialize());
  PetscCall(KfParamsSetFromOptions(PETSC_COMM_WORLD, &p));
  PetscCall(PetscOptionsHasHelp(NULL, &help_requested));
  if (p.problem == KF_PROBLEM_RELU) { /* docs/relu.md */
    if (help_requested) PetscCall(KfRunReluHelp(PETSC_COMM_WORLD, &p));
    else PetscCall(KfRunRelu(PETSC_COMM_WORLD, &p));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (help_requested) PetscCall(KfCheckpointHelp(PETSC_COMM_WORLD));
  PetscCall(KfMemoryCheck(PETSC_COMM_WORLD, &p)); /* before anything large is allocated */
  if (p.mode == KF_MODE_COMPARE) {
    if (help_requested) PetscCall(KfRunCompareHelp(PETSC_COMM_WORLD, &p));
    else PetscCall(KfRunCompare(PETSC_COMM_WORLD, &p));
  } else if (p.mode == KF_MODE_PARTICLES) {
    if (help_requested) PetscCall(KfRunParticlesHelp(PETSC_COMM_WORLD, &p));
    else PetscCall(KfRunParticles(PETSC_COMM_WORLD, &p));
  } else if (help_requested) PetscCall(KfRunPdeHelp(PETSC_COMM_WORLD, &p));
  else PetscCall(KfRunPde(PETSC_COMM_WORLD, &p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;

  KfCaptureStartupErrors(PETSC_TRUE);
  ierr = PetscInitialize(&argc, &argv, NULL, help);
  KfCaptureStartupErrors(PETSC_FALSE);
  if (ierr) { /* every rank read the same arguments and files, so every rank stops here; rank 0 says why */
    int mpi = 0, rank = 0;

    (void)MPI_Initialized(&mpi);
    if (mpi) (void)MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (!rank) fprintf(stderr, "kmdflow: error: bad command line or -options_file: %s\n", KfStartupError());
    return KF_EXIT_INPUT;
  }
  ierr = KfMain();
  (void)KfSpectralFinalize();
  if (ierr && KfExitStatus(ierr) == 1) MPI_Abort(PETSC_COMM_WORLD, 1); /* an internal error may be local to one rank */
  (void)PetscFinalize();
  return KfExitStatus(ierr);
}
