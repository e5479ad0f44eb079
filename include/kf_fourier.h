/* kf_fourier.h - exact Fourier sums between points on the torus and a list of wave vectors: structure
   factors (reproducible on any number of ranks) and fields evaluated at points */
#pragma once
#include "kf.h"

/*
  A list of nk integer wave vectors k_m (row-major nk x dim) on the torus [0, L)^d, meant to be a half space:
  a real field is F(x) = sum_m 2 Re(a_m e^{2 pi i k_m.x/L}) for complex amplitudes a_m, stored interleaved
  (a[2m] = Re, a[2m+1] = Im). Used for the long-range part of Ewald sums, targets given on a grid, and the
  Fourier coefficients of empirical measures. Per axis the phase e^{iku} is e^{iBqu} e^{iju} (k = Bq + j,
  B ~ sqrt(kmax)) with both factors from libm: a few ulp, no growing recurrence error. Each point's value depends
  only on the point and the list: rank-independent bits.
*/
typedef struct _p_KfFourier *KfFourier;

PETSC_EXTERN PetscErrorCode KfFourierCreate(MPI_Comm, PetscInt dim, PetscReal L, PetscInt nk, const PetscInt k[], KfFourier *);
PETSC_EXTERN PetscErrorCode KfFourierDestroy(KfFourier *);
PETSC_EXTERN PetscErrorCode KfFourierGetList(KfFourier, PetscInt *nk, const PetscInt **k);

/*
  S_m = q sum_j e^{-2 pi i k_m.x_j/L} over the points of all ranks (x SoA: component c of local point j at
  x[c*ld + j], j < n). Each term is rounded once to a fixed-point number (error below 2^-85) and the
  fixed-point numbers are added exactly as integers (MPI_Allreduce of int64): the sum does not depend on
  the order, so S has the same bits on any number of ranks. At most 2^34 points in all. Collective.
*/
PETSC_EXTERN PetscErrorCode KfFourierStructure(KfFourier, PetscInt n, PetscInt ld, const PetscReal x[], PetscReal q, PetscReal S[]);
/* The same with a charge per point, S_m = sum_j q_j e^{-2 pi i k_m.x_j/L}, |q_j| <= 1. */
PETSC_EXTERN PetscErrorCode KfFourierStructureWeighted(KfFourier, PetscInt n, PetscInt ld, const PetscReal x[], const PetscReal q[], PetscReal S[]);

/*
  For each local point i < n: pot[i] += sum_m 2 Re(a_m e^{i theta_im}) and
  grad[c*ld + i] += sum_m -2 (2 pi k_mc/L) Im(a_m e^{i theta_im}), theta_im = 2 pi k_m.x_i/L, the modes
  in list order. pot or grad may be NULL. Not collective.
*/
PETSC_EXTERN PetscErrorCode KfFourierField(KfFourier, const PetscReal a[], PetscInt n, PetscInt ld, const PetscReal x[], PetscReal grad[], PetscReal pot[]);
