/* kf_compare.h - distances between an empirical measure (particles) and a density on the grid (math spec C.6) */
#pragma once
#include <petscvec.h>
#include "kf_params.h"
#include "kf_spectral.h"

typedef struct _p_KfCompare *KfCompare;

/* Distances at one time. */
typedef struct {
  PetscReal hminus;      /* ||mu_N - rho||_{H^-s'}: exact for s' = s, else sqrt(band + tail) */
  PetscReal hminus_band; /* sum over the grid's band (k != 0, no Nyquist index) of lambda_s'(k) |mu_N^(k) - rho^(k)|^2 */
  PetscReal hminus_tail; /* (1/N) sum_{k outside the band} lambda_s'(k) = (K_s'(0) - sum_band lambda_s')/N */
  PetscReal hminus_iid;  /* sqrt(E ||mu_N - rho||^2) for N i.i.d. draws from rho: sqrt((K_s'(0) - sum_band lambda |rho^|^2)/N) */
  PetscReal w1;          /* circle W1(mu_N, rho) (d = 1; NaN otherwise) */
} KfCompareDist;

/*
  Reads -compare_s (default s; 2 s' > d so that the empirical measure has a finite H^-s' norm). rho lives on the
  grid of sp, and so does the target nu; N particles in all. Collective.

  H^-s': the particles' coefficients mu_N^(k) = (1/N) sum_j e^{-2 pi i k.X_j/L} over the band of the grid (every
  wave vector with |k_j| < n_j/2, Nyquist indices excluded) as exact structure factors (kf_fourier: the same bits on
  any number of ranks), rho^(k) and nu^(k) from the whole grid on every rank (planner-free DFT).
  s' = s: exact. The particle energy E_N = ||mu_N - nu||^2/2 (kernel sums over all frequencies, by the ring) gives
  ||mu_N - rho||^2 = 2 E_N - 2 sum_band lambda Re[(mu_N^ - nu^) conj(rho^ - nu^)] + sum_band lambda |rho^ - nu^|^2,
  since rho - nu has no modes outside the band.
  s' != s: the band sum plus the diagonal tail of math spec C.6, (1/N) sum_{k outside the band} lambda_s'(k): the
  expectation of the rest for i.i.d. particles; it leaves out (1/N^2) sum_{i != j} (K - K_band)(X_i - X_j), which is
  not small for well-spread particles (quantile starts), so prefer s' = s there.
  Both parts are recorded in any case (hminus_band, hminus_tail).

  W1 (d = 1): W1 = int_0^L |G(x) - median G| dx with G(x) = mu_N([0, x]) - rho([0, x]) (math spec C.6), rho being
  the grid's trigonometric interpolant (Nyquist mode dropped). Its CDF and density are evaluated exactly at every
  particle and grid node; between these breakpoints the CDF is the cubic Hermite interpolant (error below
  h^4 max|rho'''| / (384 L), h <= L/n), the median is found by bisection and the integral is exact per piece. The
  positions are gathered on every rank (O(N) memory per rank).
*/
PETSC_EXTERN PetscErrorCode KfCompareCreate(MPI_Comm, const KfParams *, KfSpectral, Vec nu, PetscInt64 N, KfCompare *);
PETSC_EXTERN PetscErrorCode KfCompareDestroy(KfCompare *);
/* x: this rank's nlocal particles as rows (nlocal x d, wrapped into [0, L)); w: their masses (NULL: 1/N each; the
   diagonal tail is then K-sums times sum_i w_i^2); rho: a Vec of sp's layout; energy_particles: E_N = ||mu_N - nu||^2/2 with the self
   term (KfParticleDiag.energy_kmd) at the same state. Collective. */
PETSC_EXTERN PetscErrorCode KfCompareDistances(KfCompare, Vec rho, PetscInt nlocal, const PetscReal x[], const PetscReal w[], PetscReal energy_particles, KfCompareDist *);
PETSC_EXTERN PetscErrorCode KfCompareDescribe(KfCompare, char[], size_t);
PETSC_EXTERN PetscErrorCode KfCompareGetOrder(KfCompare, PetscReal *s);
/* Registers -compare_s so that -help lists it. */
PETSC_EXTERN PetscErrorCode KfCompareHelp(MPI_Comm, const KfParams *);
