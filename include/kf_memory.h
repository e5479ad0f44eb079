/* kf_memory.h - the memory a run needs per rank, estimated before anything large is allocated (docs/reliability.md) */
#pragma once
#include "kf_params.h"

/*
  Bytes per rank: base + 8 (G/P) c_grid + 8 (N/P) c_part (G grid points, N particles, P ranks; formula in docs/reliability.md).
  With -memory_view it is printed; if (estimate x ranks on this node) exceeds the node's available memory (MemAvailable, or
  -memory_limit BYTES per rank) the run is refused with exit 2 and the estimate. Collective.
*/
PETSC_EXTERN PetscErrorCode KfMemoryCheck(MPI_Comm, const KfParams *);
PETSC_EXTERN PetscErrorCode KfMemoryEstimate(MPI_Comm, const KfParams *, PetscReal *bytes);
