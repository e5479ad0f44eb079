/* kf_rng.h - counter-based random numbers: the value depends only on (seed, stream, counter) */
#pragma once
#include <stdint.h>

/* A uniform double in [0, 1) determined by (seed, stream, counter); no state, so any rank
   reproduces the number a given global index draws, whatever the decomposition. */
double   KfRngUniform(uint64_t seed, uint64_t stream, uint64_t counter);
uint64_t KfRngBits(uint64_t seed, uint64_t stream, uint64_t counter);
