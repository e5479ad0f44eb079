/* test_ring.c - unit tests of the ring-passing sums (src/ring.c), math spec G8

   Oracles: an independent direct sum (MPI_Allgather of every source, then a double loop over the scalar
   reference KfKernelEval), and the ring itself on every sub-communicator of 1..P ranks: the results,
   gathered in global id order, must be bitwise identical for every rank count, including uneven
   splits and ranks without items. Exits non-zero if any check failed. */
#include <math.h>
#include <string.h>
#include "kf_kernel.h"
#include "kf_rng.h"
#include "kf_ring.h"

static PetscInt nfail = 0, nchecks = 0;

static PetscErrorCode Report(MPI_Comm comm, PetscBool ok, const char what[], PetscReal err, PetscReal tol)
{
  PetscFunctionBeginUser;
  nchecks++;
  if (!ok) nfail++;
  PetscCall(PetscPrintf(comm, "%s %-70s err %.2e (tol %.1e)\n", ok ? "ok  " : "FAIL", what, (double)err, (double)tol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  PetscInt   dim;
  PetscInt64 n;    /* sources = targets: the particles */
  PetscInt   leaf; /* 0 = default */
  PetscReal  L;
  PetscBool  torus;
  PetscBool  cluster; /* duplicate some positions: coincident pairs */
} Case;

/* Position c of particle id, from the counter-based generator: the same on any decomposition. */
static PetscReal Coord(const Case *C, PetscInt64 id, PetscInt c)
{
  const PetscInt64 src = C->cluster && id % 5 == 3 ? id - 1 : id;

  return C->L * KfRngUniform(17, (uint64_t)c, (uint64_t)src);
}

static PetscReal Charge(PetscInt64 id)
{
  return 0.5 + KfRngUniform(17, 99, (uint64_t)id);
}

static PetscErrorCode SetKernel(const Case *C, const char kernel[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsSetValue(NULL, "-domain", C->torus ? "torus" : "free"));
  PetscCall(PetscOptionsSetValue(NULL, "-kernel", kernel));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Ring sums on comm for case C: every rank's targets are its own particles. Returns (on every rank of
  comm) the gathered results in global id order: grad (dim x n) then pot (n).
*/
static PetscErrorCode RingResult(MPI_Comm comm, const Case *C, KfKernel k, PetscReal out[])
{
  KfRing       R;
  PetscInt     nl, ldt, dim = C->dim;
  PetscInt64   start;
  PetscReal   *xs, *qs, *xt, *g, *p, *mine;
  PetscMPIInt  size, *counts, *displs;
  const size_t per = (size_t)dim + 1;

  PetscFunctionBeginUser;
  PetscCall(KfRingCreate(comm, dim, C->n, C->leaf, &R));
  PetscCall(KfRingGetLocal(R, &nl, &start));
  ldt = (nl + KF_KERNEL_WIDTH - 1) / KF_KERNEL_WIDTH * KF_KERNEL_WIDTH;
  PetscCall(PetscCalloc5(dim * PetscMax(nl, 1), &xs, PetscMax(nl, 1), &qs, dim * PetscMax(ldt, 1), &xt, dim * PetscMax(ldt, 1), &g, PetscMax(ldt, 1), &p));
  for (PetscInt i = 0; i < nl; i++) {
    qs[i] = Charge(start + i);
    for (PetscInt c = 0; c < dim; c++) xt[c * ldt + i] = xs[c * nl + i] = Coord(C, start + i, c);
  }
  PetscCall(KfRingSum(R, k, nl, ldt, xt, xs, qs, g, p));
  PetscCall(PetscMalloc1(PetscMax(1, per * nl), &mine));
  for (PetscInt i = 0; i < nl; i++) {
    for (PetscInt c = 0; c < dim; c++) mine[per * i + c] = g[c * ldt + i];
    mine[per * i + dim] = p[i];
  }
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  {
    PetscMPIInt cnt = (PetscMPIInt)(per * nl);

    PetscCallMPI(MPI_Allgather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, comm));
  }
  displs[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCallMPI(MPI_Allgatherv(mine, (PetscMPIInt)(per * nl), MPIU_REAL, out, counts, displs, MPIU_REAL, comm));
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree(mine));
  PetscCall(PetscFree5(xs, qs, xt, g, p));
  PetscCall(KfRingDestroy(&R));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The oracle: every pair through the scalar reference evaluation, in long double. */
static PetscErrorCode DirectResult(const Case *C, KfKernel k, PetscInt64 i, PetscReal res[])
{
  long double acc[KF_MAX_DIM + 1] = {0};
  PetscReal   r[KF_MAX_DIM], K, grad[KF_MAX_DIM];

  PetscFunctionBeginUser;
  for (PetscInt64 j = 0; j < C->n; j++) {
    for (PetscInt c = 0; c < C->dim; c++) r[c] = Coord(C, i, c) - Coord(C, j, c);
    PetscCall(KfKernelEval(k, r, &K, grad));
    for (PetscInt c = 0; c < C->dim; c++) acc[c] += (long double)Charge(j) * grad[c];
    acc[C->dim] += (long double)Charge(j) * K;
  }
  for (PetscInt c = 0; c <= C->dim; c++) res[c] = (PetscReal)acc[c];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckCase(const Case *C, const char kernel[], PetscReal tol)
{
  MPI_Comm     world = PETSC_COMM_WORLD;
  PetscMPIInt  rank, size;
  KfKernel     k;
  KfParams     p;
  const size_t per = (size_t)C->dim + 1;
  PetscReal   *ref, *res, err = 0, scale = 0;
  char         what[160];
  PetscBool    same = PETSC_TRUE;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(world, &rank));
  PetscCallMPI(MPI_Comm_size(world, &size));
  PetscCall(PetscMemzero(&p, sizeof(p)));
  p.dim = C->dim;
  p.s   = 1;
  p.L   = C->L;
  PetscCall(SetKernel(C, kernel));
  PetscCall(KfKernelCreate(world, &p, &k));
  PetscCall(PetscMalloc2(per * C->n, &ref, per * C->n, &res));
  PetscCall(RingResult(world, C, k, ref));
  /* direct sums: each rank checks a strided share of the targets */
  for (PetscInt64 i = rank; i < C->n; i += size) {
    PetscReal d[KF_MAX_DIM + 1];

    PetscCall(DirectResult(C, k, i, d));
    for (size_t c = 0; c < per; c++) {
      err   = PetscMax(err, PetscAbsReal(d[c] - ref[per * i + c]));
      scale = PetscMax(scale, PetscAbsReal(d[c]));
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &err, 1, MPIU_REAL, MPI_MAX, world));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &scale, 1, MPIU_REAL, MPI_MAX, world));
  PetscCall(PetscSNPrintf(what, sizeof(what), "%s d=%" PetscInt_FMT " N=%" PetscInt64_FMT " leaf=%" PetscInt_FMT "%s: ring vs direct sum (rel.)", kernel, C->dim, C->n, C->leaf, C->cluster ? " coincident" : ""));
  PetscCall(Report(world, (PetscBool)(err <= tol * scale), what, err / scale, tol));
  /* the same sums on 1..size ranks: bitwise identical */
  for (PetscMPIInt m = 1; m < size; m++) {
    MPI_Comm sub;

    PetscCallMPI(MPI_Comm_split(world, rank < m ? 0 : MPI_UNDEFINED, rank, &sub));
    if (sub != MPI_COMM_NULL) {
      PetscCall(RingResult(sub, C, k, res));
      if (!rank) same = (PetscBool)(same && !memcmp(res, ref, per * C->n * sizeof(PetscReal)));
      PetscCallMPI(MPI_Comm_free(&sub));
    }
  }
  PetscCallMPI(MPI_Bcast(&same, 1, MPIU_BOOL, 0, world));
  PetscCall(PetscSNPrintf(what, sizeof(what), "%s d=%" PetscInt_FMT " N=%" PetscInt64_FMT ": bitwise equal on 1..%d ranks", kernel, C->dim, C->n, size));
  PetscCall(Report(world, same, what, same ? 0 : 1, 0));
  PetscCall(PetscFree2(ref, res));
  PetscCall(KfKernelDestroy(&k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reproducible reductions: the sum of 1..n charges equals a long-double sum, and does not depend on P. */
static PetscErrorCode CheckReduce(PetscInt64 n, PetscInt leaf)
{
  MPI_Comm    world = PETSC_COMM_WORLD;
  PetscMPIInt rank, size;
  PetscReal   ref[2], got[2];
  long double exact[2] = {0, 0};
  PetscBool   same = PETSC_TRUE;
  char        what[128];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(world, &rank));
  PetscCallMPI(MPI_Comm_size(world, &size));
  for (PetscMPIInt m = size; m >= 1; m--) {
    MPI_Comm sub;

    PetscCallMPI(MPI_Comm_split(world, rank < m ? 0 : MPI_UNDEFINED, rank, &sub));
    if (sub != MPI_COMM_NULL) {
      KfRing     R;
      PetscInt   nl;
      PetscInt64 start;
      PetscReal *v;

      PetscCall(KfRingCreate(sub, 1, n, leaf, &R));
      PetscCall(KfRingGetLocal(R, &nl, &start));
      PetscCall(PetscMalloc1(2 * PetscMax(nl, 1), &v));
      for (PetscInt i = 0; i < nl; i++) {
        v[i]      = Charge(start + i);
        v[nl + i] = -1e-3 * Charge(start + i) * Charge(start + i);
      }
      PetscCall(KfRingReduce(R, 2, v, m == size ? ref : got));
      if (m != size && !rank) same = (PetscBool)(same && !memcmp(ref, got, sizeof(ref)));
      PetscCall(PetscFree(v));
      PetscCall(KfRingDestroy(&R));
      PetscCallMPI(MPI_Comm_free(&sub));
    }
  }
  for (PetscInt64 i = 0; i < n; i++) {
    exact[0] += Charge(i);
    exact[1] += -1e-3 * (long double)Charge(i) * Charge(i);
  }
  PetscCallMPI(MPI_Bcast(&same, 1, MPIU_BOOL, 0, world));
  PetscCall(PetscSNPrintf(what, sizeof(what), "KfRingReduce N=%" PetscInt64_FMT ": equal to a long-double sum", n));
  {
    const PetscReal e = n ? PetscMax(PetscAbsReal(ref[0] - (PetscReal)exact[0]) / PetscAbsReal((PetscReal)exact[0]), PetscAbsReal(ref[1] - (PetscReal)exact[1]) / PetscAbsReal((PetscReal)exact[1]))
                          : PetscAbsReal(ref[0]) + PetscAbsReal(ref[1]); /* no items: exactly zero */

    PetscCall(Report(world, (PetscBool)(e <= 1e-13), what, e, 1e-13));
  }
  PetscCall(PetscSNPrintf(what, sizeof(what), "KfRingReduce N=%" PetscInt64_FMT ": bitwise equal on 1..%d ranks", n, size));
  PetscCall(Report(world, same, what, same ? 0 : 1, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The layout: leaves whole on each rank, every item on exactly one rank, leaf size from n only. */
static PetscErrorCode CheckLayout(PetscInt64 n)
{
  KfRing      R;
  PetscInt    nl, leaf;
  PetscInt64  start, nleaves, total, ok;
  char        what[128];

  PetscFunctionBeginUser;
  PetscCall(KfRingCreate(PETSC_COMM_WORLD, 2, n, 0, &R));
  PetscCall(KfRingGetLocal(R, &nl, &start));
  PetscCall(KfRingGetLeaf(R, &leaf, &nleaves));
  total = nl;
  ok    = (start % leaf == 0 || nl == 0) && nleaves <= 4096 && leaf >= 64 && (leaf & (leaf - 1)) == 0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPIU_INT64, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPIU_INT64, MPI_MIN, PETSC_COMM_WORLD));
  PetscCall(PetscSNPrintf(what, sizeof(what), "layout N=%" PetscInt64_FMT ": leaf %" PetscInt_FMT ", %" PetscInt64_FMT " leaves, all items placed once", n, leaf, nleaves));
  PetscCall(Report(PETSC_COMM_WORLD, (PetscBool)(ok && total == n), what, (PetscReal)(total - n), 0));
  PetscCall(KfRingDestroy(&R));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  /* Small leaves force many leaves, so the tree has depth and the ranks' blocks are uneven. */
  const Case cases[] = {
    {1, 200, 8, 1.0, PETSC_TRUE, PETSC_FALSE},
    {1, 333, 0, 2 * PETSC_PI, PETSC_TRUE, PETSC_TRUE},
    {1, 3, 0, 1.0, PETSC_TRUE, PETSC_FALSE},  /* one leaf: all ranks but one are empty */
    {2, 150, 8, 2 * PETSC_PI, PETSC_FALSE, PETSC_TRUE},
    {3, 120, 16, 1.0, PETSC_FALSE, PETSC_FALSE},
    {3, 77, 8, 2 * PETSC_PI, PETSC_TRUE, PETSC_FALSE},
  };
  const char *kernels[] = {"sobolev", "sobolev", "sobolev", "riesz", "gaussian", "gaussian"};

  PetscFunctionBeginUser;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) PetscCall(CheckCase(&cases[i], kernels[i], 1e-13));
  {
    const Case imq = {2, 100, 8, 1.0, PETSC_FALSE, PETSC_FALSE};

    PetscCall(CheckCase(&imq, "imq", 1e-13));
  }
  PetscCall(CheckReduce(1000, 8));
  PetscCall(CheckReduce(5, 0));
  PetscCall(CheckReduce(0, 0));
  PetscCall(CheckLayout(0));
  PetscCall(CheckLayout(1000));
  PetscCall(CheckLayout(1000000));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s: %" PetscInt_FMT " of %" PetscInt_FMT " checks failed\n", nfail ? "FAILED" : "PASSED", nfail, nchecks));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  PetscInt       failed;

  ierr = PetscInitialize(&argc, &argv, NULL, "Unit tests of the ring-passing sums\n");
  if (ierr) return 1;
  ierr    = RunAll();
  failed  = nfail;
  if (PetscFinalize() || ierr) return 1;
  return failed ? 1 : 0;
}
