/* kf_density.h - registry of densities on the torus grid: initial data and targets */
#pragma once
#include "kf_params.h"
#include "kf_spectral.h"

/*
  Fills rho (layout of KfSpectralCreateVec) from spec: a registry name (uniform, cos, gaussians,
  powerlaw) or file:PATH:DATASET, then checks it (finite, >= 0, not all zero) and normalises it
  to mass 1 w.r.t. the normalised measure m_L. role ("init" or "target") is the option prefix of
  the entry's parameters, e.g. -init_cos_amp, and names the option in error messages.
*/
PETSC_EXTERN PetscErrorCode KfDensityFill(KfSpectral, const KfParams *, const char role[], const char spec[], Vec);

/* Registers the parameters of every entry under the role's prefix, so that -help lists them. */
PETSC_EXTERN PetscErrorCode KfDensityHelp(KfSpectral, const KfParams *, const char role[]);

/*
  The same density on the whole grid p->n on every rank (filled on PETSC_COMM_SELF) and its coefficients
  chat = n^{-d} DFT (row-major, n_0 x .. x n_{d-1}) from KfSpectralSerialDFT: the same bits on every rank and in
  every run. For the small grids of targets and samplers; free with PetscFree(*chat). Every rank must call it.
*/
PETSC_EXTERN PetscErrorCode KfDensityCoefficients(const KfParams *, const char role[], const char spec[], KfComplex **chat);
