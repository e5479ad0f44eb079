/* kf_spectral.h - distributed FFTs on the d-torus grid (FFTW-MPI slabs; distributed c2c in 1-D) */
#pragma once
#include "kf.h"
#include "kf_params.h"

typedef struct _p_KfSpectral *KfSpectral;

/*
  Where this rank's data lives. Real space: the box start[j] <= g_j < start[j] + count[j], stored
  row-major and unpadded (the layout of the Vecs made by KfSpectralCreateVec). Fourier space: the
  box kstart/kcount of array indices, row-major; index i on axis j is the wavenumber
  KfWavenumber(i, n[j]). With halfspace (d >= 2, real-to-complex) the last axis holds only
  k >= 0 (indices 0..n/2), so every other stored mode stands for itself and its conjugate.
*/
typedef struct {
  PetscInt  dim;
  PetscInt  n[KF_MAX_DIM];
  PetscInt  start[KF_MAX_DIM], count[KF_MAX_DIM];
  PetscInt  kstart[KF_MAX_DIM], kcount[KF_MAX_DIM];
  PetscBool halfspace;
  PetscInt  nlocal;  /* real values on this rank */
  PetscInt  nmodes;  /* complex modes on this rank */
  PetscInt64 ntotal; /* grid points in all */
} KfSpectralLayout;

static inline PetscInt KfWavenumber(PetscInt idx, PetscInt n)
{
  return idx <= n / 2 ? idx : idx - n;
}

/* Multiplicity of a stored mode in sums over all of Z^d (2 for the conjugate pair on the half space). */
static inline PetscReal KfModeWeight(const KfSpectralLayout *lay, PetscInt ilast)
{
  return (lay->halfspace && ilast > 0 && 2 * ilast < lay->n[lay->dim - 1]) ? 2.0 : 1.0;
}

PETSC_EXTERN PetscErrorCode KfSpectralInitialize(void);
PETSC_EXTERN PetscErrorCode KfSpectralFinalize(void);
PETSC_EXTERN PetscErrorCode KfSpectralCreate(MPI_Comm, PetscInt, const PetscInt[], KfPlanner, const char[], PetscInt, KfSpectral *);
PETSC_EXTERN PetscErrorCode KfSpectralDestroy(KfSpectral *);
PETSC_EXTERN PetscErrorCode KfSpectralGetLayout(KfSpectral, const KfSpectralLayout **);
PETSC_EXTERN PetscErrorCode KfSpectralCreateVec(KfSpectral, Vec *);
PETSC_EXTERN PetscErrorCode KfSpectralAllocModes(KfSpectral, KfComplex **);
PETSC_EXTERN PetscErrorCode KfSpectralFreeModes(KfComplex **);
PETSC_EXTERN PetscErrorCode KfSpectralForward(KfSpectral, const PetscScalar[], KfComplex[]);
PETSC_EXTERN PetscErrorCode KfSpectralBackward(KfSpectral, const KfComplex[], PetscScalar[]);
PETSC_EXTERN PetscErrorCode KfSpectralVersion(const char **);

/*
  The modes of this rank's part of `modes` (from KfSpectralForward) that lie in the half space "last nonzero
  wavenumber positive", Nyquist indices (k_j = n_j/2) excluded, in storage order: nk wave vectors k (nk x dim,
  row-major) and interleaved coefficients a (2 nk), so that the real field is
  a0 + sum_m 2 Re(a_m e^{2 pi i k_m.x/L}) (the trigonometric interpolant without its Nyquist modes).
  *a0 = the k = 0 coefficient if this rank holds it, else 0. Free with PetscFree2(*k, *a). On a KfSpectral made
  on PETSC_COMM_SELF this is the whole list, in an order that does not depend on the number of ranks.
*/
PETSC_EXTERN PetscErrorCode KfSpectralHalfModes(KfSpectral, const KfComplex modes[], PetscInt *nk, PetscInt **k, PetscReal **a, PetscReal *a0);
