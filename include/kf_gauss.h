/* kf_gauss.h - Gaussian densities N(m, diag(v)) on R^d: the free-space initial law and entropy reference of
   particle mode (-domain free, -init normal, -reference normal; math spec D.2, G13) */
#pragma once
#include "kf.h"

typedef struct {
  PetscInt  dim;
  PetscReal mean[KF_MAX_DIM], var[KF_MAX_DIM];
} KfGaussian;

/* Reads -<role>_normal_mean m1,..,md and -<role>_normal_var v1,..,vd (one value for all components, or d; v > 0);
   defaults mean 0, variance 1. role: "init" or "reference". Collective. */
PETSC_EXTERN PetscErrorCode KfGaussianFromOptions(MPI_Comm, PetscInt dim, const char role[], KfGaussian *);
/* log of the density at x (Lebesgue measure); with grad, its gradient too. */
PETSC_EXTERN PetscReal KfGaussianLogDensity(const KfGaussian *, const PetscReal x[], PetscReal grad[]);
/* Draws for global ids start .. start + n - 1 into rows x[i*d + c], by Box-Muller from the counter-based generator keyed
   by (seed, component, id): the same points on any number of ranks. */
PETSC_EXTERN void KfGaussianDraw(const KfGaussian *, uint64_t seed, PetscInt64 start, PetscInt n, PetscReal x[]);
PETSC_EXTERN PetscErrorCode KfGaussianDescribe(const KfGaussian *, char[], size_t);
