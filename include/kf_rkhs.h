/* kf_rkhs.h - the kernelized Fisher-Rao direction by RKHS regression (math spec E, row 4):
   xi = argmin_h int |h - V|^2 dmu + lambda ||h||_H^2 = (K_mu + lambda)^(-1) K_mu V, on weighted particles */
#pragma once
#include "kf_ring.h"

typedef struct _p_KfRkhs *KfRkhs;

/*
  For the particles of ring R (nlocal of them here, target blocks with leading dimension ldt) and the kernel k:
  (K_mu h)_i = sum_j k(X_i - X_j) w_j h_j is self-adjoint and positive semi-definite in <a, b>_w = sum_i w_i a_i b_i,
  so (K_mu + lambda) xi = K_mu V is solved by conjugate gradients in that inner product, one ring pass per iteration,
  every reduction the ring's reproducible one: the same bits on any number of ranks. Stops when
  ||r||_w <= rtol ||K_mu V||_w or after maxit iterations (then an error). Starts from the previous solution.
*/
PETSC_EXTERN PetscErrorCode KfRkhsCreate(KfRing R, KfKernel k, PetscInt nlocal, PetscInt ldt, PetscReal lambda, PetscReal rtol, PetscInt maxit, KfRkhs *);
PETSC_EXTERN PetscErrorCode KfRkhsDestroy(KfRkhs *);
/* xt, xs: the positions as for KfRingSum; w: weights; V: values at the local particles; xi: the solution. Collective. */
PETSC_EXTERN PetscErrorCode KfRkhsSolve(KfRkhs, const PetscReal xt[], const PetscReal xs[], const PetscReal w[], const PetscReal V[], PetscReal xi[]);
/* Iterations of the last solve and of all solves so far. */
PETSC_EXTERN void KfRkhsGetIterations(KfRkhs, PetscInt *last, PetscInt64 *total);
