/* kf_sample.h - particle positions drawn from a density of the registry (i.i.d. or deterministic quantiles) */
#pragma once
#include <stdint.h>
#include "kf_params.h"

/*
  The density sampled is the trigonometric interpolant of the grid values that KfDensityFill makes
  (math spec A.1):
    rho(x) = sum_k rho^(k) e^{2 pi i k.x/L},  |k_j| <= n_j/2 - 1,
  i.e. WITHOUT the Nyquist indices k_j = n_j/2, so that rho is real and band-limited. rho^(0) is set to
  exactly 1 (mass 1 w.r.t. m_L), and coefficients with |rho^(k)| <= 2^-52 (FFT round-off) are dropped; a
  density left with no other coefficient is sampled as exactly uniform.

  Reproducibility: the whole grid is filled and transformed on every rank (KfDensityFill on
  PETSC_COMM_SELF, then a serial GSL FFT, which has no planner), so the coefficients, and with them the
  position of every particle id, have the same bits on any number of ranks. The price is that the grid
  is held on every rank: at most 2^22 points (-n is refused above that, except for "uniform", which
  needs no grid). "Same bits" holds for one binary on one kind of CPU (libm's sin/cos and the build's
  instruction set enter), and for powerlaw, whose grid is itself an FFTW transform, as long as FFTW plans
  the same way (no wisdom from -fftw_planner measure/patient in the same process).

  Checks at creation: rho is evaluated on a grid r times finer per axis (r = 8, 4 or 2, the largest with
  r^d N <= 2^22; the work is split over the ranks of comm) and a minimum below -1e-12 is refused
  (KF_ERR_INPUT, "the trigonometric interpolant of the density is negative near x = ..."), since then rho
  is no density (Gibbs oscillations of a rough density on a coarse grid). A point check: a negative dip
  narrower than the fine spacing can escape it.
*/
typedef struct _p_KfSampler *KfSampler;

/*
  Density spec (registry name or file:PATH:DATASET) on the grid p->n of p->dim, p->L; role is "init" or
  "target" (the option prefix of the density's parameters, as for KfDensityFill, and the option named in
  errors). Collective on comm; KfDensityFill reduces over PETSC_COMM_WORLD, so every rank of
  PETSC_COMM_WORLD must call this at the same time (comm may be PETSC_COMM_SELF on every rank).
*/
PETSC_EXTERN PetscErrorCode KfSamplerCreate(MPI_Comm comm, const KfParams *p, const char role[], const char spec[], KfSampler *);
PETSC_EXTERN PetscErrorCode KfSamplerDestroy(KfSampler *);

/*
  N i.i.d. draws; this rank computes the global ids start .. start + nlocal - 1 into x (row-major,
  nlocal x d, every value in [0, L)). Counter-based: particle id depends only on KfRngUniform(seed,
  stream, id) and the density, never on the decomposition or on which ids are drawn together.
  KF_SAMPLE_INVERSION (the default; the only method in d = 1): X = T(u) with u_c = KfRngUniform(seed,
         c, id), c < d, and T the Knothe-Rosenblatt map of KfSamplerDrawQuantile (in d = 1 the inverse
         CDF, F(x) = int_0^x rho dm_L in closed form); each 1-D equation is solved by safeguarded Newton
         to |F(X) - u| <~ 1e-15. Exact conditional sampling: i.i.d. with density rho.
  KF_SAMPLE_REJECTION (d >= 2 only): attempt a = 0, 1, ... draws the candidate
         x_c = L KfRngUniform(seed, a (d+1) + c, id), c < d, and accepts it when
         KfRngUniform(seed, a (d+1) + d, id) B < rho(x), rho(x) from KfFourierField on the retained half
         space, B >= max rho a rigorous bound (the smaller of 1 + sum_{k != 0} |rho^(k)| and a Bernstein
         bound from the fine grid); the acceptance rate is 1/B. Candidates are first compared with a rigorous
         bound of rho on their grid cell (the same decision, without the Fourier sum). At most
         max(10^4, 60 B) attempts per particle (KF_ERR_INPUT beyond, a probability below e^-60), and
         refused when B > 10^4. Cheaper than inversion for a few modes and small B (e.g. cos); far
         more expensive for peaked densities with many modes in 3-D.
  For the uniform density both give x_c = L KfRngUniform(seed, c, id) exactly.
  Collective (errors are raised on every rank).
*/
typedef enum {
  KF_SAMPLE_INVERSION,
  KF_SAMPLE_REJECTION
} KfSampleMethod;
PETSC_EXTERN PetscErrorCode KfSamplerSetIIDMethod(KfSampler, KfSampleMethod);
PETSC_EXTERN PetscErrorCode KfSamplerDrawIID(KfSampler, uint64_t seed, PetscInt64 N, PetscInt64 start, PetscInt nlocal, PetscReal x[]);

/*
  Deterministic quantiles of N points, ids start .. start + nlocal - 1 as above.
  d = 1: X_i = F^{-1}((i + 1/2)/N).
  d >= 2: N must be m^d (KF_ERR_INPUT otherwise); id = (i_1 m + i_2) m + i_3 (last axis fastest, as
         -particle_init lattice) and X = T(u), u_j = (i_j + 1/2)/m, T the Knothe-Rosenblatt map of rho:
         X_1 = F_1^{-1}(u_1) with F_1 the CDF of the marginal of x_1 (the modes k_2 = .. = k_d = 0), then
         X_2 = F_2^{-1}(u_2 | X_1), the CDF of x_2 given X_1 (a 1-D trigonometric polynomial in x_2 whose
         coefficients are sums over k_1 of rho^(k_1, k_2, 0) e^{2 pi i k_1 X_1/L}), and in d = 3 X_3 given
         X_1, X_2 likewise. For the uniform density X_j = L (i_j + 1/2)/m exactly (the lattice of
         -particle_init lattice).
  Collective (errors are raised on every rank).
*/
PETSC_EXTERN PetscErrorCode KfSamplerDrawQuantile(KfSampler, PetscInt64 N, PetscInt64 start, PetscInt nlocal, PetscReal x[]);

/* One line for logs: the density, retained band, min/max on the fine grid, rejection bound. */
PETSC_EXTERN PetscErrorCode KfSamplerDescribe(KfSampler, char[], size_t);

/* The rejection bound B (>= max rho; acceptance rate 1/B in d >= 2) and min/max of rho on the fine grid. */
PETSC_EXTERN PetscErrorCode KfSamplerGetBounds(KfSampler, PetscReal *B, PetscReal *rhomin, PetscReal *rhomax);
