/* birthdeath.c - birth-death jumps of equal-weight particles (math spec D.4 BD, D.5 BD-step), the same on any number
   of ranks: every draw is a function of (seed, step, global id), the events are gathered on every rank and applied
   in one global order, and only the positions that are copied travel */
#include <math.h>
#include "kf_birthdeath.h"
#include "kf_rng.h"

/* Streams of the counter-based generator: tag, step and the purpose in the low bits (draws of -init use 0..d-1). */
#define KF_STREAM_BD(step, k) (0x6264000000000000ULL + ((uint64_t)(step) << 2) + (uint64_t)(k))

typedef struct {
  uint64_t   key;      /* the event's place in the order of application */
  PetscInt64 src, dst; /* dst takes the position src has at that moment */
} Event;

static int CompareEvents(const void *a, const void *b)
{
  const Event *e = (const Event *)a, *f = (const Event *)b;

  if (e->key != f->key) return e->key < f->key ? -1 : 1;
  return e->dst < f->dst ? -1 : e->dst > f->dst; /* equal keys (probability 2^-64): still one order */
}

static int CompareIds(const void *a, const void *b)
{
  const PetscInt64 i = *(const PetscInt64 *)a, j = *(const PetscInt64 *)b;

  return i < j ? -1 : i > j;
}

/* Every rank's count (cnt) and the displacements (disp) of an MPI_Allgatherv; *total their sum. */
static PetscErrorCode GatherCounts(MPI_Comm comm, PetscMPIInt mine, PetscMPIInt **cnt, PetscMPIInt **disp, PetscInt64 *total)
{
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc2(size, cnt, size, disp));
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, *cnt, 1, MPI_INT, comm));
  *total = 0;
  for (PetscMPIInt r = 0; r < size; r++) {
    (*disp)[r] = (PetscMPIInt)*total;
    *total += (*cnt)[r];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* This rank's events into *ev (allocated), their number into *ne; the jump probabilities into prob[]. */
static PetscErrorCode LocalEvents(PetscInt64 N, PetscInt64 start, PetscInt n, const PetscReal rate[], PetscReal tau, uint64_t seed, uint64_t step, PetscReal prob[], Event **ev, PetscInt *ne, PetscInt64 counts[2], PetscReal *maxrt)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(1, n), ev));
  *ne = 0;
  for (PetscInt i = 0; i < n; i++) {
    const PetscInt64 g = start + i;
    PetscInt64       j;

    *maxrt  = PetscMax(*maxrt, PetscAbsReal(rate[i]) * tau);
    prob[i] = -expm1(-PetscAbsReal(rate[i]) * tau);
    if (N < 2 || !(KfRngUniform(seed, KF_STREAM_BD(step, 0), (uint64_t)g) < prob[i])) continue;
    j = (PetscInt64)(KfRngUniform(seed, KF_STREAM_BD(step, 1), (uint64_t)g) * (PetscReal)(N - 1));
    j = PetscMin(j, N - 2);
    if (j >= g) j++; /* uniform over the others */
    (*ev)[*ne].key = KfRngBits(seed, KF_STREAM_BD(step, 2), (uint64_t)g);
    (*ev)[*ne].src = rate[i] > 0 ? j : g; /* a death copies the partner, a birth copies itself */
    (*ev)[*ne].dst = rate[i] > 0 ? g : j;
    counts[rate[i] > 0 ? 0 : 1]++;
    (*ne)++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* All ranks' events on every rank, sorted into the order of application. */
static PetscErrorCode GatherEvents(MPI_Comm comm, const Event local[], PetscInt nlocal, Event **all, PetscInt64 *nall)
{
  PetscMPIInt *cnt, *disp, mine = (PetscMPIInt)(3 * nlocal);
  PetscInt64  *buf, *sendbuf, total;

  PetscFunctionBeginUser;
  PetscCall(GatherCounts(comm, mine, &cnt, &disp, &total));
  PetscCheck(total < PETSC_MPI_INT_MAX, comm, PETSC_ERR_SUP, "birth-death: %" PetscInt64_FMT " events in one step; use a smaller -ts_dt", total / 3);
  PetscCall(PetscMalloc2(PetscMax(1, 3 * nlocal), &sendbuf, PetscMax(1, total), &buf));
  for (PetscInt e = 0; e < nlocal; e++) {
    sendbuf[3 * e]     = (PetscInt64)local[e].key;
    sendbuf[3 * e + 1] = local[e].src;
    sendbuf[3 * e + 2] = local[e].dst;
  }
  PetscCallMPI(MPI_Allgatherv(sendbuf, mine, MPI_INT64_T, buf, cnt, disp, MPI_INT64_T, comm));
  *nall = total / 3;
  PetscCall(PetscMalloc1(PetscMax(1, *nall), all));
  for (PetscInt64 e = 0; e < *nall; e++) {
    (*all)[e].key = (uint64_t)buf[3 * e];
    (*all)[e].src = buf[3 * e + 1];
    (*all)[e].dst = buf[3 * e + 2];
  }
  qsort(*all, (size_t)*nall, sizeof(Event), CompareEvents);
  PetscCall(PetscFree2(sendbuf, buf));
  PetscCall(PetscFree2(cnt, disp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscInt64 IndexOf(const PetscInt64 ids[], PetscInt64 n, PetscInt64 id)
{
  const PetscInt64 *p = (const PetscInt64 *)bsearch(&id, ids, (size_t)n, sizeof(PetscInt64), CompareIds);

  return p ? p - ids : -1;
}

/*
  Applying the events in order on the ids alone: origin[k] is the particle whose position (before the step) ids[k] holds
  at the end. Afterwards ev[e].src is reused for the origin of ev[e].dst (or -1 when it keeps its own).
*/
static PetscErrorCode ResolveOrigins(Event ev[], PetscInt64 ne, PetscInt64 **ids, PetscInt64 *nids, PetscInt64 **origin)
{
  PetscInt64 n = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(PetscMax(1, 2 * ne), ids, PetscMax(1, 2 * ne), origin));
  for (PetscInt64 e = 0; e < ne; e++) {
    (*ids)[n++] = ev[e].src;
    (*ids)[n++] = ev[e].dst;
  }
  qsort(*ids, (size_t)n, sizeof(PetscInt64), CompareIds);
  *nids = 0;
  for (PetscInt64 k = 0; k < n; k++)
    if (!*nids || (*ids)[k] != (*ids)[*nids - 1]) (*ids)[(*nids)++] = (*ids)[k];
  for (PetscInt64 k = 0; k < *nids; k++) (*origin)[k] = (*ids)[k];
  for (PetscInt64 e = 0; e < ne; e++) (*origin)[IndexOf(*ids, *nids, ev[e].dst)] = (*origin)[IndexOf(*ids, *nids, ev[e].src)];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Positions before the step of every origin that some particle copies, gathered on all ranks in id order. */
static PetscErrorCode GatherOrigins(MPI_Comm comm, PetscInt64 start, PetscInt n, PetscInt d, PetscInt ld, const PetscReal x[], const PetscInt64 ids[], const PetscInt64 origin[], PetscInt64 nids, PetscInt64 **oid, PetscInt64 *no, PetscReal **ox)
{
  PetscMPIInt *cnt, *disp, mine = 0;
  PetscInt64   m = 0, total;
  PetscReal  *send;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(1, nids), oid));
  for (PetscInt64 k = 0; k < nids; k++)
    if (origin[k] != ids[k]) (*oid)[m++] = origin[k];
  qsort(*oid, (size_t)m, sizeof(PetscInt64), CompareIds);
  *no = 0;
  for (PetscInt64 k = 0; k < m; k++)
    if (!*no || (*oid)[k] != (*oid)[*no - 1]) (*oid)[(*no)++] = (*oid)[k];
  PetscCall(PetscMalloc1(PetscMax(1, *no * d), &send));
  for (PetscInt64 k = 0; k < *no; k++)
    if ((*oid)[k] >= start && (*oid)[k] < start + n) {
      for (PetscInt c = 0; c < d; c++) send[mine + c] = x[((*oid)[k] - start) * ld + c];
      mine += (PetscMPIInt)d;
    }
  PetscCall(GatherCounts(comm, mine, &cnt, &disp, &total));
  PetscCheck(total == *no * d, PETSC_COMM_SELF, PETSC_ERR_PLIB, "birth-death: gathered %" PetscInt64_FMT " coordinates for %" PetscInt64_FMT, total, *no * d);
  PetscCall(PetscMalloc1(PetscMax(1, total), ox));
  PetscCallMPI(MPI_Allgatherv(send, mine, MPIU_REAL, *ox, cnt, disp, MPIU_REAL, comm)); /* ranks own increasing ids */
  PetscCall(PetscFree2(cnt, disp));
  PetscCall(PetscFree(send));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfBirthDeathStep(MPI_Comm comm, KfRing R, PetscInt64 N, PetscInt d, PetscInt ld, PetscReal x[], const PetscReal rate[], PetscReal tau, uint64_t seed, uint64_t step, PetscReal work[], KfBirthDeathStats *st)
{
  PetscInt    n, ne = 0;
  PetscInt64  start, nall = 0, nids = 0, no = 0, counts[2] = {0, 0}, *ids, *origin, *oid;
  PetscReal   maxrt = 0, expected, *ox;
  Event      *local, *all;

  PetscFunctionBeginUser;
  PetscCall(KfRingGetLocal(R, &n, &start));
  PetscCall(LocalEvents(N, start, n, rate, tau, seed, step, work, &local, &ne, counts, &maxrt));
  PetscCall(KfRingReduce(R, 1, work, &expected));
  PetscCall(GatherEvents(comm, local, ne, &all, &nall));
  PetscCall(ResolveOrigins(all, nall, &ids, &nids, &origin));
  PetscCall(GatherOrigins(comm, start, n, d, ld, x, ids, origin, nids, &oid, &no, &ox));
  for (PetscInt64 k = 0; k < nids; k++) {
    if (origin[k] == ids[k] || ids[k] < start || ids[k] >= start + n) continue;
    const PetscInt64 o = IndexOf(oid, no, origin[k]);

    for (PetscInt c = 0; c < d; c++) x[(ids[k] - start) * ld + c] = ox[o * d + c];
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &maxrt, 1, MPIU_REAL, MPI_MAX, comm));
  st->kills += counts[0];
  st->duplications += counts[1];
  st->expected += expected;
  st->max_rate_tau = PetscMax(st->max_rate_tau, maxrt);
  PetscCall(PetscFree(ox));
  PetscCall(PetscFree(oid));
  PetscCall(PetscFree2(ids, origin));
  PetscCall(PetscFree(all));
  PetscCall(PetscFree(local));
  PetscFunctionReturn(PETSC_SUCCESS);
}
