/* kf_birthdeath.h - birth-death (Moran) jumps of equal-weight particles: the Fisher-Rao part of a flow without
   weights (math spec D.4 BD, D.5 BD-step) */
#pragma once
#include "kf_ring.h"

/* Counts of one run so far (the same on any number of ranks). */
typedef struct {
  PetscInt64 kills, duplications; /* events so far */
  PetscReal  expected;            /* sum over steps and particles of the jump probabilities */
  PetscReal  max_rate_tau;        /* largest tau |b_i| seen; O(tau) accuracy needs it <~ 0.1 */
} KfBirthDeathStats;

/*
  One step of length tau for the particles of ring R (rows x[i*ld + c], c < d, global ids start + i): particle i with
  rate b_i (alpha (V_i - mean V) for the Fisher-Rao flow) jumps with probability 1 - exp(-|b_i| tau); with b_i > 0 it
  dies and takes the position of a partner j != i drawn uniformly, with b_i < 0 it duplicates itself onto such a
  partner. Draws come from the counter-based generator keyed by (seed, step, global id) and the events are applied one
  after another in an order drawn the same way, so the result is the same on any number of ranks (and after a
  restart at the same step). work: nlocal reals. Collective.
*/
PETSC_EXTERN PetscErrorCode KfBirthDeathStep(MPI_Comm, KfRing, PetscInt64 N, PetscInt d, PetscInt ld, PetscReal x[], const PetscReal rate[], PetscReal tau, uint64_t seed, uint64_t step, PetscReal work[], KfBirthDeathStats *stats);
