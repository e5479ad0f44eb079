/* kf_ring.h - block distribution of particles and ring-passing all-pairs kernel sums (the only MPI
   point-to-point code of kmdflow) */
#pragma once
#include "kf.h"
#include "kf_kernel.h"

/*
  Items (particles or target samples) are numbered 0..n-1 and grouped into leaves of `leaf` consecutive
  items; each rank owns a contiguous range of whole leaves (uneven splits and empty ranks are fine).
  The leaf size depends on n only (never on the number of ranks), and every target's sum over the leaves
  is combined along one fixed binary tree over the leaf indices, whatever order the ring delivers them
  in: results are bitwise identical on any number of ranks.
*/
typedef struct _p_KfRing *KfRing;

/* leaf = 0 chooses the default: the smallest power of two >= 64 with at most 4096 leaves. */
PETSC_EXTERN PetscErrorCode KfRingCreate(MPI_Comm, PetscInt dim, PetscInt64 n, PetscInt leaf, KfRing *);
PETSC_EXTERN PetscErrorCode KfRingDestroy(KfRing *);
/* This rank's items: global ids start .. start + nlocal - 1. */
PETSC_EXTERN PetscErrorCode KfRingGetLocal(KfRing, PetscInt *nlocal, PetscInt64 *start);
PETSC_EXTERN PetscErrorCode KfRingGetLeaf(KfRing, PetscInt *leaf, PetscInt64 *nleaves);

/*
  For the nt local targets xt (SoA, component c of target i at xt[c*ldt + i], ldt >= nt a multiple of
  KF_KERNEL_WIDTH, padding lanes ignored) and the sources distributed by this ring (xs: this rank's block,
  SoA with leading dimension nlocal; qs: its charges):
    grad[c*ldt + i] = sum_j qs[j] dK/dr_c (xt_i - xs_j),   pot[i] = sum_j qs[j] K(xt_i - xs_j)  (pot may be NULL)
  over all n sources on all ranks. The travelling block is passed with non-blocking sends and receives
  while the current one is computed. Collective.
*/
PETSC_EXTERN PetscErrorCode KfRingSum(KfRing, KfKernel, PetscInt nt, PetscInt ldt, const PetscReal xt[], const PetscReal xs[], const PetscReal qs[], PetscReal grad[], PetscReal pot[]);

/*
  A ring pass with a caller-defined interaction (e.g. dot-product kernels k(x.y), which KfKernelTile's
  translation-invariant tiles do not cover). leaf(ctx, ns, lds, xs, qs, out) must ADD to out[0..len) the
  contributions of the ns sources of one leaf (component c of source j at xs[c*lds + j], charge qs[j]); the
  ring zeroes out before each leaf and combines the leaves along its fixed tree, so the result is bitwise
  rank-independent provided each target's accumulation depends only on that target and the leaf, in source
  order (not on how many targets there are). The targets live in ctx. out[len] receives the sum over all n
  sources on all ranks (zero if n = 0). Collective.
*/
typedef void (*KfRingLeafFn)(void *ctx, PetscInt ns, PetscInt lds, const PetscReal xs[], const PetscReal qs[], PetscReal out[]);
PETSC_EXTERN PetscErrorCode KfRingApply(KfRing, PetscInt len, KfRingLeafFn, void *ctx, const PetscReal xs[], const PetscReal qs[], PetscReal out[]);

/*
  Reproducible global sums of per-item values: v[c*nlocal + i] for c < ncomp; sum[c] = sum over all n
  items, combined per leaf in id order and then leaf by leaf, so that every rank count gives the same bits.
*/
PETSC_EXTERN PetscErrorCode KfRingReduce(KfRing, PetscInt ncomp, const PetscReal v[], PetscReal sum[]);

/* Seconds spent waiting for ring messages in KfRingSum (not overlapped), and in the kernel tiles. */
PETSC_EXTERN PetscErrorCode KfRingGetTimes(KfRing, PetscLogDouble *wait, PetscLogDouble *compute);
