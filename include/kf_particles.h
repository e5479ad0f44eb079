/* kf_particles.h - the particle system of the Wasserstein flow (math spec A.4, B.6): state, right-hand
   side by ring-passing kernel sums, diagnostics; driven by KfRunParticles (kf_run.h) */
#pragma once
#include <petscts.h>
#include "kf_kernel.h"
#include "kf_params.h"
#include "kf_ring.h"

typedef struct _p_KfParticles *KfParticles;

/* Diagnostics at one time; all of them are sums in a fixed global order (bitwise rank-independent). */
typedef struct {
  PetscReal time, energy, energy_off, mean_v2, centroid[KF_MAX_DIM];
} KfParticleDiag;

/*
  Reads -particles N, -particle_init, -target_samples, -ring_leaf and the kernel options; creates the
  positions (a Vec of local size nlocal*d, rows in global id order) from -init. Collective.
*/
PETSC_EXTERN PetscErrorCode KfParticlesCreate(MPI_Comm, const KfParams *, KfParticles *);
PETSC_EXTERN PetscErrorCode KfParticlesDestroy(KfParticles *);
PETSC_EXTERN PetscErrorCode KfParticlesGetState(KfParticles, Vec *);
PETSC_EXTERN PetscErrorCode KfParticlesGetLocal(KfParticles, PetscInt64 *N, PetscInt64 *start, PetscInt *nlocal);
/* dX_i/dt = V_i = -(1/N) sum_j grad K(X_i - X_j) + (1/M) sum_m grad K(X_i - Y_m). */
PETSC_EXTERN PetscErrorCode KfParticlesRHSFunction(TS, PetscReal, Vec, Vec, void *);
PETSC_EXTERN PetscErrorCode KfParticlesDiagnostics(KfParticles, PetscReal t, Vec X, KfParticleDiag *);
/* Positions as written to the output: wrapped into [0, L) on the torus. */
PETSC_EXTERN PetscErrorCode KfParticlesOutputPositions(KfParticles, Vec X, PetscReal out[]);
PETSC_EXTERN PetscErrorCode KfParticlesDescribe(KfParticles, char[], size_t);
PETSC_EXTERN PetscErrorCode KfParticlesHelp(MPI_Comm, const KfParams *);
