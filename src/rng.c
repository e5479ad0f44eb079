/* rng.c - stateless counter-based generator (SplitMix64 finaliser applied to a keyed counter) */
#include "kf_rng.h"

static uint64_t Mix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t KfRngBits(uint64_t seed, uint64_t stream, uint64_t counter)
{
  /* Three rounds so that neighbouring seeds, streams and counters decorrelate. */
  uint64_t h = Mix64(seed + 0x9e3779b97f4a7c15ULL);
  h          = Mix64(h ^ (stream + 0x632be59bd9b4e019ULL));
  return Mix64(h ^ (counter * 0x9e3779b97f4a7c15ULL + 0x85157af5ULL));
}

double KfRngUniform(uint64_t seed, uint64_t stream, uint64_t counter)
{
  return (double)(KfRngBits(seed, stream, counter) >> 11) * 0x1.0p-53;
}
