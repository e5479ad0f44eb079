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
