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

/* Wavenumbers of the flat row-major index i of a whole n_0 x .. x n_{d-1} grid (k has KF_MAX_DIM entries, those
   beyond dim set to 0); PETSC_FALSE if one is a Nyquist index. */
static inline PetscBool KfGridWavenumbers(PetscInt dim, const PetscInt n[], PetscInt64 i, PetscInt k[KF_MAX_DIM])
{
  PetscBool ok = PETSC_TRUE;

  for (PetscInt j = dim; j < KF_MAX_DIM; j++) k[j] = 0;

  for (PetscInt j = dim - 1; j >= 0; j--) {
    const PetscInt idx = (PetscInt)(i % n[j]);

    i /= n[j];
    k[j] = KfWavenumber(idx, n[j]);
    if (2 * idx == n[j]) ok = PETSC_FALSE;
  }
  return ok;
}

/* The half space of mode lists: the last nonzero wavenumber is positive (k = 0 is not in it). */
static inline PetscBool KfInHalfSpace(PetscInt dim, const PetscInt k[])
{
  for (PetscInt j = dim - 1; j >= 0; j--)
    if (k[j]) return (PetscBool)(k[j] > 0);
  return PETSC_FALSE;
}

/*
  In-place unnormalised complex DFT of a whole row-major grid z (n_0 x .. x n_{d-1}) on one rank, sign -1 (forward)
  or +1 (backward), with GSL's mixed-radix FFT. It has no planner, so the same input gives the same bits on every
  rank and in every run (FFTW's plans may change with wisdom or the planner). For the small grids every rank holds.
*/
PETSC_EXTERN PetscErrorCode KfSpectralSerialDFT(PetscInt dim, const PetscInt n[], KfComplex z[], PetscBool forward);

/*
  The modes of a whole grid's coefficients chat (row-major, as from KfSpectralSerialDFT) in the half space, Nyquist
  indices excluded, in storage order: nk wave vectors k (nk x dim) and interleaved coefficients a (2 nk), so that
  the real field is chat[0] + sum_m 2 Re(a_m e^{2 pi i k_m.x/L}). Free with PetscFree2(*k, *a).
*/
PETSC_EXTERN PetscErrorCode KfSpectralHalfModes(PetscInt dim, const PetscInt n[], const KfComplex chat[], PetscInt *nk, PetscInt **k, PetscReal **a);
