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
  PetscReal time, energy, energy_off, mean_v2, dissipation, total_weight, ess, centroid[KF_MAX_DIM];
  PetscReal energy_kmd; /* (1/2)||mu_N - nu||^2_{H^-s} with the self term where finite, whatever -energy and -sigma say */
  PetscBool birth_death;            /* -fr_particles birth_death: */
  PetscReal bd_events, bd_expected; /* jumps so far, and their expected number (sum of the jump probabilities) */
} KfParticleDiag;

/*
  Reads -particles N, -particle_init, -target_samples, -ring_leaf and the kernel options; creates the
  positions (a Vec of local size nlocal*d, rows in global id order) from -init. Collective.
*/
PETSC_EXTERN PetscErrorCode KfParticlesCreate(MPI_Comm, const KfParams *, KfParticles *);
PETSC_EXTERN PetscErrorCode KfParticlesDestroy(KfParticles *);
PETSC_EXTERN PetscErrorCode KfParticlesGetState(KfParticles, Vec *);
PETSC_EXTERN PetscErrorCode KfParticlesGetLocal(KfParticles, PetscInt64 *N, PetscInt64 *start, PetscInt *nlocal);
/*
  The state is rows of x (Wasserstein), w (Fisher-Rao; positions fixed) or (x, w) (WFR). With V(x) = sum_j w_j K(x - X_j)
  - (K * nu)(x) (w_j = 1/N without weights): dX_i/dt = -beta grad V(X_i), dw_i/dt = -alpha w_i (V(X_i) - sum_j w_j V(X_j)).
*/
PETSC_EXTERN PetscErrorCode KfParticlesRHSFunction(TS, PetscReal, Vec, Vec, void *);
PETSC_EXTERN PetscErrorCode KfParticlesDiagnostics(KfParticles, PetscReal t, Vec X, KfParticleDiag *);
/* Positions as written to the output: wrapped into [0, L) on the torus (rows nlocal x d). */
PETSC_EXTERN PetscErrorCode KfParticlesOutputPositions(KfParticles, Vec X, PetscReal out[]);
/* The weights w_i (1/N without -flow fisher_rao|wfr). */
PETSC_EXTERN PetscErrorCode KfParticlesOutputWeights(KfParticles, Vec X, PetscReal out[]);
/* Installs what the particles need after each time step (resampling of weighted particles, -resample_ess). */
PETSC_EXTERN PetscErrorCode KfParticlesSetUpTS(KfParticles, TS);
/* Number of resampling events so far. */
PETSC_EXTERN PetscInt KfParticlesResampleCount(KfParticles);
/* Whether the particles carry weights (-flow fisher_rao or wfr). */
PETSC_EXTERN PetscBool KfParticlesWeighted(KfParticles);
PETSC_EXTERN PetscErrorCode KfParticlesDescribe(KfParticles, char[], size_t);
PETSC_EXTERN PetscErrorCode KfParticlesHelp(MPI_Comm, const KfParams *);
/* Checkpoints: the positions kept outside the state (Fisher-Rao: nlocal x d rows, else NULL) and the resampling counter; after a
   restart has overwritten them, KfParticlesSetExtraState sets the counter and drops values cached at the old positions. */
/* The counters of a run that live outside the state Vec (checkpointed with it; reals so they go to attributes). */
typedef struct {
  PetscInt  nresample;                 /* resampling events: the key of the next resampling draw */
  PetscReal bd[4];   /* birth-death: kills, duplications, expected jumps, largest tau |rate| so far */
} KfParticleCounters;
PETSC_EXTERN PetscErrorCode KfParticlesGetExtraState(KfParticles, PetscReal **xfix, KfParticleCounters *);
PETSC_EXTERN PetscErrorCode KfParticlesSetExtraState(KfParticles, const KfParticleCounters *);
