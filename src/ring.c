/* ring.c - leaf-aligned block distribution and ring-passing all-pairs sums, bitwise reproducible on
   any number of ranks (performance guide, "Reproducibility across rank counts") */
#include "kf_log.h"
#include "kf_ring.h"

#define KF_RING_MIN_LEAF   64
#define KF_RING_MAX_LEAVES 4096
#define KF_RING_TBLOCK     512 /* targets per pass over a source sub-tile: both stay in L1 */
#define KF_RING_STILE      512 /* sources per kernel tile call */
#define KF_RING_HEADER     2   /* first leaf, item count: travel as doubles in front of the block */
#define KF_RING_TAG        4711

/*
  A fixed binary tree over the leaf indices: a node at level l with index g covers leaves
  [g 2^l, (g+1) 2^l). Whatever order leaves arrive in, a node's value is always left + right of its
  children (a child that holds no leaf at all is skipped), so the root is the same bits on any rank
  count. The ring delivers a rotation of 0..nleaves-1, so at most two nodes per level wait for a
  sibling at any time.
*/
typedef struct {
  PetscInt   levels, len;
  PetscInt64 nleaves;
  PetscInt64 *index; /* [2*levels], -1 = empty slot */
  PetscReal  *slot;  /* [2*levels*len] */
} KfTree;

struct _p_KfRing {
  MPI_Comm       comm;
  PetscMPIInt    rank, size;
  PetscInt       dim, leaf, nlocal, maxlocal;
  PetscInt64     n, nleaves, start;
  PetscInt64    *leaf_start; /* [size+1]: first leaf of each rank */
  PetscReal     *buf[2];     /* travelling blocks: header + dim*maxlocal positions + maxlocal charges */
  KfTree         tree;       /* kept between sums (every RHS evaluation calls KfRingSum) */
  PetscReal     *partial;
  PetscLogDouble t_wait, t_compute;
};

static PetscErrorCode TreeDestroy(KfTree *);

static PetscInt64 RankFirstLeaf(PetscInt64 nleaves, PetscMPIInt size, PetscMPIInt r)
{
  return (nleaves * r) / size;
}

PetscErrorCode KfRingCreate(MPI_Comm comm, PetscInt dim, PetscInt64 n, PetscInt leaf, KfRing *ring)
{
  KfRing     R;
  PetscInt64 last;

  PetscFunctionBeginUser;
  PetscCheck(n >= 0, comm, KF_ERR_INPUT, "number of items %" PetscInt64_FMT " must be >= 0", n);
  PetscCall(PetscNew(&R));
  R->comm = comm;
  R->dim  = dim;
  R->n    = n;
  PetscCallMPI(MPI_Comm_rank(comm, &R->rank));
  PetscCallMPI(MPI_Comm_size(comm, &R->size));
  if (leaf <= 0)
    for (leaf = KF_RING_MIN_LEAF; (n + leaf - 1) / leaf > KF_RING_MAX_LEAVES;) leaf *= 2;
  R->leaf    = leaf;
  R->nleaves = (n + leaf - 1) / leaf;
  PetscCall(PetscMalloc1(R->size + 1, &R->leaf_start));
  for (PetscMPIInt r = 0; r <= R->size; r++) R->leaf_start[r] = RankFirstLeaf(R->nleaves, R->size, r);
  R->start    = PetscMin(n, R->leaf_start[R->rank] * leaf);
  last        = PetscMin(n, R->leaf_start[R->rank + 1] * leaf);
  R->nlocal   = (PetscInt)(last - R->start);
  R->maxlocal = 0;
  for (PetscMPIInt r = 0; r < R->size; r++) R->maxlocal = PetscMax(R->maxlocal, (PetscInt)(PetscMin(n, R->leaf_start[r + 1] * leaf) - PetscMin(n, R->leaf_start[r] * leaf)));
  for (int b = 0; b < 2; b++) PetscCall(PetscMalloc1(KF_RING_HEADER + (dim + 1) * (size_t)R->maxlocal, &R->buf[b]));
  *ring = R;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRingDestroy(KfRing *ring)
{
  PetscFunctionBeginUser;
  if (!*ring) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*ring)->leaf_start));
  PetscCall(PetscFree((*ring)->buf[0]));
  PetscCall(PetscFree((*ring)->buf[1]));
  PetscCall(TreeDestroy(&(*ring)->tree));
  PetscCall(PetscFree((*ring)->partial));
  PetscCall(PetscFree(*ring));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRingGetLocal(KfRing R, PetscInt *nlocal, PetscInt64 *start)
{
  PetscFunctionBeginUser;
  if (nlocal) *nlocal = R->nlocal;
  if (start) *start = R->start;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRingGetLeaf(KfRing R, PetscInt *leaf, PetscInt64 *nleaves)
{
  PetscFunctionBeginUser;
  if (leaf) *leaf = R->leaf;
  if (nleaves) *nleaves = R->nleaves;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRingGetTimes(KfRing R, PetscLogDouble *wait, PetscLogDouble *compute)
{
  PetscFunctionBeginUser;
  if (wait) *wait = R->t_wait;
  if (compute) *compute = R->t_compute;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TreeDestroy(KfTree *t)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree2(t->index, t->slot));
  t->len = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Empties the tree; (re)allocates only when the length of the summed vectors changes. */
static PetscErrorCode TreeReset(KfTree *t, PetscInt64 nleaves, PetscInt len)
{
  PetscFunctionBeginUser;
  if (t->len != len || t->nleaves != nleaves) {
    PetscCall(TreeDestroy(t));
    t->nleaves = nleaves;
    t->len     = len;
    for (t->levels = 0; ((PetscInt64)1 << t->levels) < nleaves;) t->levels++;
    PetscCall(PetscMalloc2(2 * t->levels, &t->index, 2 * (size_t)t->levels * len, &t->slot));
  }
  for (PetscInt s = 0; s < 2 * t->levels; s++) t->index[s] = -1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Carries leaf g's partial sums v up the tree; v is consumed. When the root completes, it is left in v
   and *done is set. */
static PetscErrorCode TreeFold(KfTree *t, PetscInt64 g, PetscReal v[], PetscBool *done)
{
  PetscInt level = 0;

  PetscFunctionBeginUser;
  *done = PETSC_FALSE;
  while (level < t->levels) {
    const PetscInt64 sib = g ^ 1;
    PetscInt         s, found = -1, empty = -1;

    if ((sib << level) >= t->nleaves) { /* the sibling covers no leaf: the parent is this node */
      g >>= 1;
      level++;
      continue;
    }
    for (s = 2 * level; s < 2 * level + 2; s++) {
      if (t->index[s] == sib) found = s;
      else if (t->index[s] < 0) empty = s;
    }
    if (found < 0) {
      PetscCheck(empty >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "reproducible tree: no free slot at level %" PetscInt_FMT, level);
      PetscCall(PetscArraycpy(t->slot + empty * t->len, v, t->len));
      t->index[empty] = g;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    { /* IEEE addition commutes, so which child is on the left does not matter */
      const PetscReal *w = t->slot + found * t->len;

      for (PetscInt i = 0; i < t->len; i++) v[i] += w[i];
    }
    t->index[found] = -1;
    g >>= 1;
    level++;
  }
  *done = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One leaf of sources (ns of them) against all local targets, in fixed sub-tiles: partial[comp*ldt + i]. */
static void LeafSum(KfKernel k, PetscInt dim, PetscInt nt, PetscInt ldt, const PetscReal xt[], PetscInt ns, PetscInt lds, const PetscReal xs[], const PetscReal qs[], PetscReal partial[], PetscBool with_pot)
{
  for (PetscInt i0 = 0; i0 < nt; i0 += KF_RING_TBLOCK) {
    const PetscInt nb = PetscMin(KF_RING_TBLOCK, nt - i0), nbpad = (nb + KF_KERNEL_WIDTH - 1) / KF_KERNEL_WIDTH * KF_KERNEL_WIDTH;

    for (PetscInt j0 = 0; j0 < ns; j0 += KF_RING_STILE) {
      const PetscInt nsub = PetscMin(KF_RING_STILE, ns - j0);

      KfKernelTile(k, nbpad, ldt, xt + i0, nsub, lds, xs + j0, qs + j0, partial + i0, with_pot ? partial + dim * ldt + i0 : NULL);
    }
  }
}

/* The sources of the block in buf (from rank owner), leaf by leaf into the tree: leaf() accumulates one leaf's
   contributions into partial (zeroed before each leaf). */
static PetscErrorCode BlockSum(KfRing R, KfTree *t, KfRingLeafFn leaf, void *ctx, const PetscReal buf[], PetscReal partial[], PetscBool *done)
{
  const PetscInt64 first = (PetscInt64)buf[0];
  const PetscInt   count = (PetscInt)buf[1], dim = R->dim;
  const PetscReal *xs = buf + KF_RING_HEADER, *qs = xs + dim * count;
  PetscLogDouble   t0, t1;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_KERNEL_SUM, 0, 0, 0, 0));
  PetscCall(PetscTime(&t0));
  for (PetscInt j0 = 0, l = 0; j0 < count; j0 += R->leaf, l++) {
    PetscBool root;

    PetscCall(PetscArrayzero(partial, t->len));
    leaf(ctx, PetscMin(R->leaf, count - j0), count, xs + j0, qs + j0, partial);
    PetscCall(TreeFold(t, first + l, partial, &root));
    if (root) *done = PETSC_TRUE;
  }
  PetscCall(PetscTime(&t1));
  R->t_compute += t1 - t0;
  PetscCall(PetscLogEventEnd(KF_EVENT_KERNEL_SUM, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PackLocal(KfRing R, const PetscReal xs[], const PetscReal qs[], PetscReal buf[])
{
  PetscFunctionBeginUser;
  buf[0] = (PetscReal)R->leaf_start[R->rank];
  buf[1] = (PetscReal)R->nlocal;
  for (PetscInt c = 0; c < R->dim; c++) PetscCall(PetscArraycpy(buf + KF_RING_HEADER + c * R->nlocal, xs + c * R->nlocal, R->nlocal));
  PetscCall(PetscArraycpy(buf + KF_RING_HEADER + R->dim * R->nlocal, qs, R->nlocal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Starts passing cur to the left neighbour and receiving the next block from the right one. KfRingShift is the
   communication time the ring does not hide: posting here plus the wait in ShiftFinish (also KfRingWait). */
static PetscErrorCode ShiftStart(KfRing R, const PetscReal cur[], PetscReal next[], MPI_Request req[2])
{
  const PetscMPIInt left = (R->rank + R->size - 1) % R->size, right = (R->rank + 1) % R->size;
  const PetscMPIInt len = (PetscMPIInt)(KF_RING_HEADER + (R->dim + 1) * (PetscInt)cur[1]);
  const PetscMPIInt maxlen = (PetscMPIInt)(KF_RING_HEADER + (R->dim + 1) * R->maxlocal);

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_RING_SHIFT, 0, 0, 0, 0));
  PetscCallMPI(MPI_Irecv(next, maxlen, MPIU_REAL, right, KF_RING_TAG, R->comm, &req[0]));
  PetscCallMPI(MPI_Isend(cur, len, MPIU_REAL, left, KF_RING_TAG, R->comm, &req[1]));
  PetscCall(PetscLogEventEnd(KF_EVENT_RING_SHIFT, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ShiftFinish(KfRing R, MPI_Request req[2])
{
  PetscLogDouble t0, t1;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_RING_SHIFT, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(KF_EVENT_RING_WAIT, 0, 0, 0, 0));
  PetscCall(PetscTime(&t0));
  PetscCallMPI(MPI_Waitall(2, req, MPI_STATUSES_IGNORE));
  PetscCall(PetscTime(&t1));
  R->t_wait += t1 - t0;
  PetscCall(PetscLogEventEnd(KF_EVENT_RING_WAIT, 0, 0, 0, 0));
  PetscCall(PetscLogEventEnd(KF_EVENT_RING_SHIFT, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Rank p holds block p + r (mod P) at step r: it sends its current block to p - 1 and receives the
  next from p + 1 while it computes. One rank runs the same loop with no messages. The tree sum of all
  leaves ends in R->partial (len values; zero without sources).
*/
static PetscErrorCode RingPass(KfRing R, PetscInt len, KfRingLeafFn leaf, void *ctx, const PetscReal xs[], const PetscReal qs[])
{
  KfTree   *tree = &R->tree;
  PetscBool done = PETSC_FALSE;
  PetscInt  cur  = 0;

  PetscFunctionBeginUser;
  if (tree->len != len) {
    PetscCall(PetscFree(R->partial));
    PetscCall(PetscMalloc1(PetscMax(1, len), &R->partial));
  }
  PetscCall(TreeReset(tree, R->nleaves, len));
  PetscCall(PackLocal(R, xs, qs, R->buf[0]));
  for (PetscMPIInt step = 0; step < R->size; step++) {
    MPI_Request     req[2];
    const PetscBool more = (PetscBool)(step + 1 < R->size);

    if (more) PetscCall(ShiftStart(R, R->buf[cur], R->buf[1 - cur], req));
    PetscCall(BlockSum(R, tree, leaf, ctx, R->buf[cur], R->partial, &done));
    if (more) PetscCall(ShiftFinish(R, req));
    cur = 1 - cur;
  }
  if (!done) PetscCall(PetscArrayzero(R->partial, len)); /* no sources at all */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The local targets of a KfRingSum, for its leaf function. */
typedef struct {
  KfKernel         k;
  PetscInt         dim, nt, ldt;
  const PetscReal *xt;
  PetscBool        with_pot;
} KernelTargets;

static void KernelLeaf(void *ctx, PetscInt ns, PetscInt lds, const PetscReal xs[], const PetscReal qs[], PetscReal partial[])
{
  const KernelTargets *T = (const KernelTargets *)ctx;

  if (T->nt) LeafSum(T->k, T->dim, T->nt, T->ldt, T->xt, ns, lds, xs, qs, partial, T->with_pot);
}

PetscErrorCode KfRingSum(KfRing R, KfKernel k, PetscInt nt, PetscInt ldt, const PetscReal xt[], const PetscReal xs[], const PetscReal qs[], PetscReal grad[], PetscReal pot[])
{
  const PetscInt ncomp = R->dim + (pot ? 1 : 0), len = ncomp * ldt;
  KernelTargets  T     = {k, R->dim, nt, ldt, xt, (PetscBool)(pot != NULL)};

  PetscFunctionBeginUser;
  PetscCheck(ldt % KF_KERNEL_WIDTH == 0 && ldt >= nt, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "target leading dimension %" PetscInt_FMT " must be >= %" PetscInt_FMT " and a multiple of %d", ldt, nt, KF_KERNEL_WIDTH);
  PetscCall(PetscLogEventBegin(KF_EVENT_RING_SUM, 0, 0, 0, 0));
  PetscCall(RingPass(R, len, KernelLeaf, &T, xs, qs));
  PetscCall(PetscArraycpy(grad, R->partial, R->dim * ldt));
  if (pot) PetscCall(PetscArraycpy(pot, R->partial + R->dim * ldt, ldt));
  {
    PetscReal flops;

    PetscCall(KfKernelCost(k, &flops));
    PetscCall(PetscLogFlops(flops * (PetscLogDouble)nt * (PetscLogDouble)R->n));
  }
  PetscCall(PetscLogEventEnd(KF_EVENT_RING_SUM, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRingApply(KfRing R, PetscInt len, KfRingLeafFn leaf, void *ctx, const PetscReal xs[], const PetscReal qs[], PetscReal out[])
{
  PetscFunctionBeginUser;
  PetscCheck(len >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "accumulator length %" PetscInt_FMT " must be >= 0", len);
  PetscCall(PetscLogEventBegin(KF_EVENT_RING_SUM, 0, 0, 0, 0));
  PetscCall(RingPass(R, len, leaf, ctx, xs, qs));
  PetscCall(PetscArraycpy(out, R->partial, len));
  PetscCall(PetscLogEventEnd(KF_EVENT_RING_SUM, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRingReduce(KfRing R, PetscInt ncomp, const PetscReal v[], PetscReal sum[])
{
  const PetscInt64 myleaves = R->leaf_start[R->rank + 1] - R->leaf_start[R->rank];
  PetscReal       *mine, *all;
  PetscMPIInt     *counts, *displs;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(PetscMax(1, myleaves * ncomp), &mine));
  PetscCall(PetscMalloc1(PetscMax(1, R->nleaves * ncomp), &all));
  PetscCall(PetscMalloc2(R->size, &counts, R->size, &displs));
  for (PetscInt64 l = 0; l < myleaves; l++) {
    const PetscInt i0 = (PetscInt)(l * R->leaf), i1 = PetscMin(R->nlocal, i0 + R->leaf);

    for (PetscInt c = 0; c < ncomp; c++)
      for (PetscInt i = i0; i < i1; i++) mine[l * ncomp + c] += v[c * R->nlocal + i];
  }
  for (PetscMPIInt r = 0; r < R->size; r++) {
    counts[r] = (PetscMPIInt)((R->leaf_start[r + 1] - R->leaf_start[r]) * ncomp);
    displs[r] = (PetscMPIInt)(R->leaf_start[r] * ncomp);
  }
  PetscCallMPI(MPI_Allgatherv(mine, counts[R->rank], MPIU_REAL, all, counts, displs, MPIU_REAL, R->comm));
  for (PetscInt c = 0; c < ncomp; c++) {
    sum[c] = 0;
    for (PetscInt64 l = 0; l < R->nleaves; l++) sum[c] += all[l * ncomp + c];
  }
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree(all));
  PetscCall(PetscFree(mine));
  PetscFunctionReturn(PETSC_SUCCESS);
}
