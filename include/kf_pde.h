/* kf_pde.h - Wasserstein, Fisher-Rao and WFR gradient flows of the Sobolev energy (+ entropy) on the torus, pseudo-spectral */
#pragma once
#include <petscts.h>
#include "kf_params.h"
#include "kf_spectral.h"

typedef struct _p_KfPde *KfPde;

/* Diagnostics of math spec A.4 at one time: energy E_s, mass, range of rho, dissipation int rho |grad u|^2. */
typedef struct {
  PetscReal time, energy, mass, rho_min, rho_max, dissipation;
} KfPdeDiag;

PETSC_EXTERN const char *const KfPdeDiagNames[]; /* dataset names under /diagnostics, in KfPdeDiag order */
#define KF_PDE_NDIAG 6

/* nu: target density (mass 1), kept as its Fourier coefficients; pi: the entropy's reference density (> 0; only read
   if p->sigma > 0, may be NULL otherwise). The Vecs are not referenced afterwards. The flow (-flow, alpha, beta),
   sigma and the KMD switch come from p. */
PETSC_EXTERN PetscErrorCode KfPdeCreate(KfSpectral, const KfParams *, Vec nu, Vec pi, KfPde *);
PETSC_EXTERN PetscErrorCode KfPdeDestroy(KfPde *);
/* TS right-hand side: F = beta div(rho grad V) - alpha rho (V - <V>_rho), V = [u] + sigma log(rho/pi), u = K_s * (rho - nu); ctx is the KfPde. */
PETSC_EXTERN PetscErrorCode KfPdeRHSFunction(TS, PetscReal, Vec, Vec, void *);
PETSC_EXTERN PetscErrorCode KfPdeDiagnostics(KfPde, PetscReal, Vec, KfPdeDiag *);
/* Projects rho on the 2/3 band (no-op without -dealias). */
PETSC_EXTERN PetscErrorCode KfPdeProject(KfPde, Vec);
/* Real FFTs per right-hand-side evaluation (for the benchmark's efficiency figure). */
PETSC_EXTERN PetscInt KfPdeFFTsPerRHS(KfPde);
