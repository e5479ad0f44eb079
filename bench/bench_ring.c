/* bench_ring.c - kmdflow-bench-ring: efficiency of the ring-passing all-pairs sums (KfRingSum) from 1 to P
   ranks at a fixed number of particles per rank (performance guide, "All-pairs kernel sums"; target:
   ring efficiency >= 90 % at N/P >= 8k)

   Efficiency, at equal n = N/P particles per rank:
     E = (interactions/s per core on P ranks) / (interactions/s per core on 1 rank) = P T_1(n) / T_P(P n)
   T_P(P n) is one KfRingSum over N = P n particles on P ranks (every rank: n targets x N sources, the
   slowest rank's time); T_1(n) one KfRingSum over n particles on one rank (n x n), with the same leaf size.
   This is the guide's strong-scaling efficiency T_1(N) / (P T_P(N)) with T_1(N) = N^2 / R_1: an all-pairs
   sum costs exactly N^2 interactions, so the 1-rank rate R_1 measured on one n x n block is the rate the
   1-rank run of the whole problem would reach, and the n x n block is precisely the unit of work of one
   ring step. E then isolates what the ring adds (messages not hidden behind computation, waiting for the
   slowest rank, the reproducible tree over P n / leaf leaves) from cache effects of a P times larger
   1-rank problem. -strong_max measures T_1(N) directly as well, to check the equivalence.

   The 1-rank reference runs in two conditions, because the speed of a core depends on what the others do
   (turbo budget, shared caches and memory, a hypervisor that may place two vCPUs on one physical core):
     busy: every rank runs its own 1-rank sum at the same time, so all P cores are loaded as in the P-rank
           run: E compares like with like and is the figure held against the target;
     idle: rank 0 alone while the other ranks sleep (nanosleep, not MPI's polling wait): E_idle is what a
           user sees going from one core of an otherwise idle node to P cores.
   All measurements of a case run in interleaved rounds, so that machine noise hits them alike; E is the
   median of the rounds' ratios. Each rank reads its CPU time too, and the medians are over the clean
   rounds (no rank descheduled by another process) when there are enough of them. */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kf_kernel.h"
#include "kf_log.h"
#include "kf_ring.h"
#include "kf_rng.h"

static const char help[] = "kmdflow-bench-ring: ring efficiency of the all-pairs kernel sums (KfRingSum) from 1 to P ranks.\n"
                           "  E = (interactions/s per core on P ranks) / (interactions/s per core on 1 rank) = P T_1(n) / T_P(P n)\n"
                           "  at equal n = N/P particles per rank; target E >= 0.90. T_1 is measured with every core running its\n"
                           "  own 1-rank sum (busy, the figure against the target) and with rank 0 alone (idle, E_idle).\n"
                           "  Each case prints a report and one line 'RESULT key=value ...'; a summary table follows (see scripts/bench).\n"
                           "  Example: mpiexec -n 2 kmdflow-bench-ring -per_rank 8192,65536 -only riesz\n\n";

#define BENCH_MAX_SIZES 8
#define BENCH_MAX_ROUNDS 200
#define BENCH_CLEAN 0.95  /* a round is clean when every rank got this share of its core in every timing */
#define BENCH_MIN_CLEAN 3 /* medians over the clean rounds when there are at least this many */

typedef struct {
  const char *name; /* RESULT label, as in kmdflow-bench-kernel */
  const char *kernel, *domain;
  PetscInt    dim;
  PetscReal   s, L;
} Case;

static const Case cases[] = {
    {"riesz_q1", "riesz", "free", 3, 1, 0},
    {"gaussian_h1", "gaussian", "free", 3, 1, 0},
    {"sobolev_s1", "sobolev", "torus", 1, 1, 2 * PETSC_PI},
};
#define NCASES ((PetscInt)(sizeof(cases) / sizeof(cases[0])))

typedef struct {
  PetscInt  per_rank[BENCH_MAX_SIZES], nsizes;
  PetscInt  min_rounds, max_rounds, leaf;
  PetscReal min_time, max_time, target;
  PetscInt  strong_max; /* measure T_1(N) directly when N <= this */
  char      only[64];
} BenchOptions;

/* The timed quantities of one round, in the order they run. */
typedef enum {
  Q_IDLE,   /* 1 rank (rank 0), the others asleep */
  Q_BUSY,   /* 1 rank on every rank at once; the slowest */
  Q_RING,   /* P ranks; the slowest */
  Q_STRONG, /* 1 rank over all N particles, on every rank at once; optional */
  NQ
} Quantity;
static const char *const qnames[NQ] = {"1 rank, others idle", "1 rank, all busy", "P ranks (ring)", "1 rank, all N"};

/* One KfRingSum as seen by one rank. */
typedef struct {
  double wall, cpu, wait, compute;
} Sample;

typedef struct {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  const Case *c;
  KfKernel    k;
  PetscInt    n, leaf, dim;
  PetscInt64  N;
  KfRing      ring[NQ]; /* Q_IDLE and Q_BUSY share ring[Q_BUSY] */
  PetscInt    ldt[NQ];
  PetscReal  *x[NQ], *q[NQ], *xt[NQ], *g[NQ];
  PetscBool   strong;
  PetscInt    nrounds;
  double      t[NQ][BENCH_MAX_ROUNDS]; /* seconds of the slowest rank */
  double      wait[BENCH_MAX_ROUNDS], compute[BENCH_MAX_ROUNDS], rest[BENCH_MAX_ROUNDS], waitmax[BENCH_MAX_ROUNDS];
  double      imbalance[BENCH_MAX_ROUNDS]; /* Q_RING: largest compute over the mean */
  PetscMPIInt slowest[BENCH_MAX_ROUNDS];   /* Q_RING: the rank that computed longest */
  double      busymean[BENCH_MAX_ROUNDS];  /* Q_BUSY: mean over ranks, to set against the ring's mean compute */
  double      cpushare[BENCH_MAX_ROUNDS];  /* min over ranks and quantities of cpu / wall */
  PetscInt    nclean;                      /* rounds with cpushare >= BENCH_CLEAN */
} Bench;

/* ------------------------------------------------------------------------------------ options */

static PetscErrorCode BenchSetFromOptions(MPI_Comm comm, BenchOptions *o)
{
  PetscInt  nlist = BENCH_MAX_SIZES;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(o, sizeof(*o)));
  o->nsizes      = 2;
  o->per_rank[0] = 8192;
  o->per_rank[1] = 65536;
  PetscOptionsBegin(comm, NULL, "kmdflow-bench-ring: ring efficiency of KfRingSum from 1 to P ranks", "kmdflow-bench-ring");
  PetscCall(PetscOptionsIntArray("-per_rank", "Particles per rank n = N/P: comma-separated list", "kmdflow-bench-ring", o->per_rank, &nlist, &set));
  if (set) o->nsizes = nlist;
  PetscCall(PetscOptionsString("-only", "Run only the kernels whose name starts with this (riesz, gaussian, sobolev)", "kmdflow-bench-ring", o->only, o->only, sizeof(o->only), NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-rounds", "Clean timed rounds per case wanted (no rank descheduled by another process)", 7, 1, BENCH_MAX_ROUNDS, &o->min_rounds, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-max_rounds", "Timed rounds per case at most", 40, 1, BENCH_MAX_ROUNDS, &o->max_rounds, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-min_time", "Seconds of timed rounds per case at least (more rounds for small n)", 10.0, 0.0, 3600.0, PETSC_FALSE, &o->min_time, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-max_time", "Seconds after which a case stops looking for clean rounds (once it has -rounds rounds)", 120.0, 0.0, 36000.0, PETSC_FALSE, &o->max_time, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-leaf", "Leaf size of the summation tree for every run of a case (0: KfRingCreate's default for N = P n)", 0, 0, 1 << 24, &o->leaf, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-strong_max", "Also time the 1-rank sum over all N = P n particles (strong-scaling check) when N <= this", 16384, 0, 1 << 30, &o->strong_max, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-target", "Efficiency target: E at least this", 0.9, 0.0, 1.0, PETSC_FALSE, &o->target, NULL));
  PetscOptionsEnd();
  o->max_rounds = PetscMax(o->max_rounds, o->min_rounds);
  for (PetscInt i = 0; i < o->nsizes; i++) PetscCheck(o->per_rank[i] >= KF_KERNEL_WIDTH, comm, KF_ERR_INPUT, "-per_rank %" PetscInt_FMT ": expected at least %d particles per rank", o->per_rank[i], KF_KERNEL_WIDTH);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The kernel of case c, with -kernel/-domain set only while it reads them (the user may add e.g. -kernel_h). */
static PetscErrorCode CreateKernel(MPI_Comm comm, const Case *c, KfKernel *k)
{
  KfParams p;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&p, sizeof(p)));
  p.dim = c->dim;
  p.s   = c->s;
  p.L   = c->L > 0 ? c->L : 1;
  PetscCall(PetscOptionsSetValue(NULL, "-kernel", c->kernel));
  PetscCall(PetscOptionsSetValue(NULL, "-domain", c->domain));
  PetscCall(KfKernelCreate(comm, &p, k));
  PetscCall(PetscOptionsClearValue(NULL, "-kernel"));
  PetscCall(PetscOptionsClearValue(NULL, "-domain"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------ timing helpers */

static double ThreadCPU(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The non-root ranks sleep here while rank 0 runs alone: Open MPI's blocking calls poll and would keep
   their cores busy. A non-blocking barrier completes when rank 0 joins it after its measurement. */
static PetscErrorCode SleepUntilReleased(MPI_Comm comm)
{
  const struct timespec nap = {0, 200000};
  MPI_Request           req;
  int                   done = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Ibarrier(comm, &req));
  for (;;) {
    PetscCallMPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
    if (done) break;
    nanosleep(&nap, NULL);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Release(MPI_Comm comm)
{
  MPI_Request req;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Ibarrier(comm, &req));
  PetscCallMPI(MPI_Wait(&req, MPI_STATUS_IGNORE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#if defined(__x86_64__)
/* Clock from a chain of dependent register adds (latency 1 on every x86-64 core), as kmdflow-bench-kernel:
   the scalar turbo clock; a change between idle and busy neighbours is what turbo does here. */
static double MeasureGHz(void)
{
  unsigned long x = 1, y = 3;
  const long    n  = 10000000;
  double        t0 = MPI_Wtime();

  for (long i = 0; i < n; i++) __asm__ volatile("add %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0"
                                                : "+r"(x)
                                                : "r"(y));
  return 8.0 * n / (MPI_Wtime() - t0) / 1e9;
}
#else
static double MeasureGHz(void)
{
  return 0;
}
#endif

static int CmpDouble(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double Median(const double *v, PetscInt n, double *min)
{
  double s[BENCH_MAX_ROUNDS];

  for (PetscInt i = 0; i < n; i++) s[i] = v[i];
  qsort(s, (size_t)n, sizeof(double), CmpDouble);
  if (min) *min = s[0];
  return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* The fastest of a few short clock readings: a reading during which another process ran reads low. */
static double BestGHz(void)
{
  double best = 0;

  for (int r = 0; r < 7; r++) best = PetscMax(best, MeasureGHz());
  return best;
}

/* Rank 0's clock with the other ranks asleep, then the slowest rank's with every rank measuring at once. */
static PetscErrorCode MeasureClocks(MPI_Comm comm, double *idle, double *busy)
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  *idle = 0;
  PetscCallMPI(MPI_Barrier(comm));
  if (rank)
    PetscCall(SleepUntilReleased(comm));
  else {
    *idle = BestGHz();
    PetscCall(Release(comm));
  }
  PetscCallMPI(MPI_Barrier(comm));
  *busy = BestGHz();
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, busy, 1, MPI_DOUBLE, MPI_MIN, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------ one case: set-up */

/* Particle id's coordinates from the counter-based generator, so rank r's block is the same particles on
   the ring and in r's own 1-rank reference: uniform on the torus [0, L)^d, in [-2, 2]^d in free space
   (kernel widths 1: every pair does real work, none underflows). */
static void FillParticles(const Case *c, PetscInt64 first, PetscInt n, PetscInt ldt, PetscInt64 N, PetscReal x[], PetscReal q[], PetscReal xt[])
{
  for (PetscInt i = 0; i < n; i++) {
    q[i] = 1.0 / (PetscReal)N;
    for (PetscInt a = 0; a < c->dim; a++) {
      const PetscReal u = KfRngUniform(2024, (uint64_t)a, (uint64_t)(first + i));

      x[a * n + i] = xt[a * ldt + i] = c->L > 0 ? c->L * u : 4 * u - 2;
    }
  }
}

/* Ring and particles of quantity qty: comm, N items, this rank's block starting at id first. */
static PetscErrorCode SetUpQuantity(Bench *B, Quantity qty, MPI_Comm comm, PetscInt64 N)
{
  PetscInt   nl, ldt, d = B->dim;
  PetscInt64 start;

  PetscFunctionBeginUser;
  PetscCall(KfRingCreate(comm, d, N, B->leaf, &B->ring[qty]));
  PetscCall(KfRingGetLocal(B->ring[qty], &nl, &start));
  if (comm == PETSC_COMM_SELF && qty == Q_BUSY) start = (PetscInt64)B->rank * B->n; /* my own block of the ring */
  ldt         = (nl + KF_KERNEL_WIDTH - 1) / KF_KERNEL_WIDTH * KF_KERNEL_WIDTH;
  B->ldt[qty] = ldt;
  PetscCall(PetscCalloc4(d * (size_t)nl, &B->x[qty], nl, &B->q[qty], d * (size_t)ldt, &B->xt[qty], d * (size_t)ldt, &B->g[qty]));
  FillParticles(B->c, start, nl, ldt, B->N, B->x[qty], B->q[qty], B->xt[qty]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The leaf size of the P-rank run (chosen from N, as the solver does) is used by every run of the case, so
   that the 1-rank reference does the same work per interaction as one ring step. */
static PetscErrorCode BenchSetUp(Bench *B, MPI_Comm comm, const BenchOptions *o, const Case *c, KfKernel k, PetscInt n)
{
  PetscInt   nl;
  PetscInt64 nleaves;
  PetscBool  even;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(B, sizeof(*B)));
  B->comm = comm;
  B->c    = c;
  B->k    = k;
  B->n    = n;
  B->dim  = c->dim;
  PetscCallMPI(MPI_Comm_rank(comm, &B->rank));
  PetscCallMPI(MPI_Comm_size(comm, &B->size));
  B->N    = (PetscInt64)B->size * n;
  B->leaf = o->leaf;
  PetscCall(SetUpQuantity(B, Q_RING, comm, B->N));
  PetscCall(KfRingGetLeaf(B->ring[Q_RING], &B->leaf, &nleaves));
  PetscCall(KfRingGetLocal(B->ring[Q_RING], &nl, NULL));
  even = (PetscBool)(nl == n);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &even, 1, MPIU_BOOL, MPI_LAND, comm));
  PetscCheck(even, comm, KF_ERR_INPUT, "-per_rank %" PetscInt_FMT ": the ring splits N = %" PetscInt64_FMT " unevenly with leaves of %" PetscInt_FMT "; use a multiple of the leaf size", n, B->N, B->leaf);
  PetscCall(SetUpQuantity(B, Q_BUSY, PETSC_COMM_SELF, n));
  B->strong = (PetscBool)(B->N <= o->strong_max && B->size > 1);
  if (B->strong) PetscCall(SetUpQuantity(B, Q_STRONG, PETSC_COMM_SELF, B->N));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode BenchDestroy(Bench *B)
{
  PetscFunctionBeginUser;
  for (PetscInt qty = 0; qty < NQ; qty++) {
    PetscCall(KfRingDestroy(&B->ring[qty]));
    PetscCall(PetscFree4(B->x[qty], B->q[qty], B->xt[qty], B->g[qty]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------ one case: measuring */

/* One gradient-only KfRingSum (what the particle RHS calls) with its wall, CPU, wait and compute times. */
static PetscErrorCode TimeSum(Bench *B, Quantity qty, Sample *s)
{
  const Quantity r = qty == Q_IDLE ? Q_BUSY : qty;
  PetscLogDouble w0, c0, w1, c1;
  PetscInt       nl;
  double         t0, cpu0;

  PetscFunctionBeginUser;
  PetscCall(KfRingGetLocal(B->ring[r], &nl, NULL));
  PetscCall(KfRingGetTimes(B->ring[r], &w0, &c0));
  cpu0 = ThreadCPU();
  t0   = MPI_Wtime();
  PetscCall(KfRingSum(B->ring[r], B->k, nl, B->ldt[r], B->xt[r], B->x[r], B->q[r], B->g[r], NULL));
  s->wall = MPI_Wtime() - t0;
  s->cpu  = ThreadCPU() - cpu0;
  PetscCall(KfRingGetTimes(B->ring[r], &w1, &c1));
  s->wait    = w1 - w0;
  s->compute = c1 - c0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Quantity qty once: all ranks start together; returns the slowest rank's time and the lowest CPU share
   (cpu / wall < 1: the rank was descheduled, by another process on the shared cores). */
static PetscErrorCode TimeQuantity(Bench *B, Quantity qty, Sample *mine, double *slowest, double *share)
{
  double v[2];

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(mine, sizeof(*mine)));
  PetscCallMPI(MPI_Barrier(B->comm));
  if (qty != Q_IDLE)
    PetscCall(TimeSum(B, qty, mine));
  else if (B->rank)
    PetscCall(SleepUntilReleased(B->comm));
  else {
    PetscCall(TimeSum(B, qty, mine));
    PetscCall(Release(B->comm));
  }
  v[0] = mine->wall;
  v[1] = qty == Q_IDLE && B->rank ? -1.0 : -mine->cpu / mine->wall; /* max of -share = -min share; sleepers count as 1 */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_DOUBLE, MPI_MAX, B->comm));
  *slowest = v[0];
  *share   = -v[1];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The ring's wait, compute and the rest (packing, copies): means over ranks; the largest wait (the faster
   ranks' lag behind the slowest); the largest compute over the mean (how uneven the cores ran), and which
   rank computed longest. */
static PetscErrorCode RecordRing(Bench *B, const Sample *s, PetscBool record)
{
  double sum[3] = {s->wait, s->compute, s->wall - s->wait - s->compute}, wmax = s->wait;
  struct {
    double v;
    int    rank;
  } cmax = {s->compute, B->rank};

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sum, 3, MPI_DOUBLE, MPI_SUM, B->comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &wmax, 1, MPI_DOUBLE, MPI_MAX, B->comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &cmax, 1, MPI_DOUBLE_INT, MPI_MAXLOC, B->comm));
  if (record) {
    B->wait[B->nrounds]      = sum[0] / B->size;
    B->compute[B->nrounds]   = sum[1] / B->size;
    B->rest[B->nrounds]      = sum[2] / B->size;
    B->waitmax[B->nrounds]   = wmax;
    B->imbalance[B->nrounds] = cmax.v * B->size / sum[1];
    B->slowest[B->nrounds]   = cmax.rank;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RecordBusy(Bench *B, const Sample *s, PetscBool record)
{
  double sum = s->wall;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, B->comm));
  if (record) B->busymean[B->nrounds] = sum / B->size;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One round of every quantity; *spent is built from reduced times, so the stopping rule is collective. */
static PetscErrorCode Round(Bench *B, PetscBool record, double *spent)
{
  double share = 1;

  PetscFunctionBeginUser;
  for (PetscInt qty = 0; qty < NQ; qty++) {
    Sample s;
    double t, sh;

    if (qty == Q_STRONG && !B->strong) continue;
    PetscCall(TimeQuantity(B, (Quantity)qty, &s, &t, &sh));
    if (qty == Q_RING) PetscCall(RecordRing(B, &s, record));
    if (qty == Q_BUSY) PetscCall(RecordBusy(B, &s, record));
    if (record) B->t[qty][B->nrounds] = t;
    share = PetscMin(share, sh);
    *spent += t;
  }
  if (record) {
    B->cpushare[B->nrounds++] = share;
    B->nclean += share >= BENCH_CLEAN;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether to time another round: until -rounds clean rounds and -min_time seconds, but on a machine that
   other jobs keep busy, not beyond -max_rounds, nor beyond -max_time once there are -rounds rounds at all. */
static PetscBool MoreRounds(const Bench *B, const BenchOptions *o, double spent)
{
  if (B->nrounds >= o->max_rounds || (spent >= o->max_time && B->nrounds >= o->min_rounds)) return PETSC_FALSE;
  return (PetscBool)(B->nclean < o->min_rounds || spent < o->min_time);
}

/* One warm-up round first: page faults of fresh buffers and the tree's first allocation are not the
   steady state of a solver that calls KfRingSum every RHS evaluation. */
static PetscErrorCode Measure(Bench *B, const BenchOptions *o)
{
  double spent = 0;

  PetscFunctionBeginUser;
  PetscCall(Round(B, PETSC_FALSE, &spent));
  spent = 0;
  while (MoreRounds(B, o, spent)) PetscCall(Round(B, PETSC_TRUE, &spent));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------ one case: report */

typedef struct {
  const Case *c;
  PetscInt    n;
  PetscInt64  N;
  double      t[NQ], tmin[NQ]; /* medians and minimums, seconds */
  double      wait, waitmax, compute, rest, share, imbalance;
  PetscInt    slow0; /* rounds used in which rank 0 computed longest */
  double      ips1, ipsP, eff, eff_medians, eff_min, eff_idle, eff_strong, eff_compute;
  double      comm_us; /* the guide's model: one message of the travelling block */
  PetscInt    used;    /* rounds the medians are over */
  PetscBool   pass;
} Summary;

/* Median (and minimum) of v over the rounds used: the clean ones if there are enough, else all. A round in
   which another process took a rank's core says nothing about the ring. */
static double MedianUsed(const Bench *B, const double v[], double *min)
{
  const PetscBool clean = (PetscBool)(B->nclean >= BENCH_MIN_CLEAN);
  double          u[BENCH_MAX_ROUNDS];
  PetscInt        m = 0;

  for (PetscInt r = 0; r < B->nrounds; r++)
    if (!clean || B->cpushare[r] >= BENCH_CLEAN) u[m++] = v[r];
  return Median(u, m, min);
}

/* Median over the rounds used of scale * t[num] / t[den]: each round's two sums ran back to back, so the
   per-round ratio is not moved by a machine that drifts from one round to the next. */
static double MedianRatio(const Bench *B, Quantity num, Quantity den, double scale)
{
  double r[BENCH_MAX_ROUNDS];

  for (PetscInt i = 0; i < B->nrounds; i++) r[i] = scale * B->t[num][i] / B->t[den][i];
  return MedianUsed(B, r, NULL);
}

static void Summarize(const Bench *B, const BenchOptions *o, Summary *s)
{
  const double P = (double)B->size, n = (double)B->n;

  s->c = B->c;
  s->n = B->n;
  s->N = B->N;
  for (PetscInt qty = 0; qty < NQ; qty++) s->t[qty] = B->strong || qty != Q_STRONG ? MedianUsed(B, B->t[qty], &s->tmin[qty]) : 0;
  s->wait      = MedianUsed(B, B->wait, NULL);
  s->waitmax   = MedianUsed(B, B->waitmax, NULL);
  s->compute   = MedianUsed(B, B->compute, NULL);
  s->rest      = MedianUsed(B, B->rest, NULL);
  s->imbalance = MedianUsed(B, B->imbalance, NULL);
  s->slow0     = 0;
  for (PetscInt r = 0; r < B->nrounds; r++) s->slow0 += (B->nclean < BENCH_MIN_CLEAN || B->cpushare[r] >= BENCH_CLEAN) && B->slowest[r] == 0;
  s->share       = Median(B->cpushare, B->nrounds, NULL);
  s->used        = B->nclean >= BENCH_MIN_CLEAN ? B->nclean : B->nrounds;
  s->ips1        = n * n / s->t[Q_BUSY];
  s->ipsP        = P * n * n / s->t[Q_RING];
  s->eff         = MedianRatio(B, Q_BUSY, Q_RING, P);
  s->eff_medians = P * s->t[Q_BUSY] / s->t[Q_RING];
  s->eff_min     = P * s->tmin[Q_BUSY] / s->tmin[Q_RING];
  s->eff_idle    = MedianRatio(B, Q_IDLE, Q_RING, P);
  s->eff_compute = P * MedianUsed(B, B->busymean, NULL) / s->compute; /* means over ranks on both sides */
  s->eff_strong  = B->strong ? MedianRatio(B, Q_STRONG, Q_RING, 1 / P) : 0;
  s->comm_us     = 0.12 + 8.0 * (double)(B->dim + 1) * n / 16e9 * 1e6; /* alpha = 0.12 us, beta = 16 GB/s */
  s->pass        = (PetscBool)(s->eff >= o->target);
}

#define MS(t) (1e3 * (t))

static PetscErrorCode ReportScreen(const Bench *B, const BenchOptions *o, const Summary *s)
{
  char desc[160];

  PetscFunctionBeginUser;
  PetscCall(KfKernelDescribe(B->k, desc, sizeof(desc)));
  PetscCall(PetscPrintf(B->comm, "\n== %s (%s), d = %" PetscInt_FMT ": n = %" PetscInt_FMT " per rank, N = %" PetscInt64_FMT " on %d ranks, leaf %" PetscInt_FMT " ==\n", B->c->name, desc, B->dim, B->n, B->N, B->size, B->leaf));
  PetscCall(PetscPrintf(B->comm, "  rounds %" PetscInt_FMT " (+1 warm-up), %" PetscInt_FMT " clean (every rank got >= %.0f%% of its core in every timing); medians over %s; median CPU share %.3f\n", B->nrounds, B->nclean, 100 * BENCH_CLEAN,
                        s->used == B->nrounds ? "all rounds" : "the clean rounds", s->share));
  PetscCall(PetscPrintf(B->comm, "                          %10s %10s %14s\n", "median ms", "min ms", "int/s per core"));
  for (PetscInt qty = 0; qty < NQ; qty++) {
    const double work = qty == Q_RING ? (double)B->n * (double)B->N : qty == Q_STRONG ? (double)B->N * (double)B->N
                                                                                      : (double)B->n * (double)B->n;

    if (qty == Q_STRONG && !B->strong) continue;
    PetscCall(PetscPrintf(B->comm, "  %-22s  %10.3f %10.3f %14.4e\n", qnames[qty], MS(s->t[qty]), MS(s->tmin[qty]), work / s->t[qty]));
  }
  PetscCall(PetscPrintf(B->comm, "  ring: wait %.3f ms (mean over ranks; largest %.3f), compute %.3f ms, rest %.3f ms\n", MS(s->wait), MS(s->waitmax), MS(s->compute), MS(s->rest)));
  PetscCall(PetscPrintf(B->comm, "  uneven cores: largest compute / mean %.3f; rank 0 computed longest in %" PetscInt_FMT " of %" PetscInt_FMT " rounds\n", s->imbalance, s->slow0, s->used));
  PetscCall(PetscPrintf(B->comm, "  where E goes: P T_1 / compute = %.3f (means over ranks: the ring's kernel work against the 1-rank sums), wait %.1f %%, rest %.1f %% of T_P\n", s->eff_compute, 100 * s->wait / s->t[Q_RING], 100 * s->rest / s->t[Q_RING]));
  PetscCall(PetscPrintf(B->comm, "  model (guide): per step n^2/R = %.3f ms of compute against a %.1f us message (alpha + 8(d+1)n/beta): E >= %.5f even unhidden\n", MS(s->t[Q_BUSY]), s->comm_us, 1 / (1 + 1e-6 * s->comm_us / s->t[Q_BUSY])));
  PetscCall(PetscPrintf(B->comm, "  E = P T_1(n)/T_P(P n) = %.3f (median of the rounds' ratios; from the medians %.3f, the minimums %.3f), E_idle = %.3f", s->eff, s->eff_medians, s->eff_min, s->eff_idle));
  if (B->strong) PetscCall(PetscPrintf(B->comm, ", E_strong = T_1(N)/(P T_P(N)) = %.3f", s->eff_strong));
  PetscCall(PetscPrintf(B->comm, "\n  target E >= %.2f       %s\n", o->target, s->pass ? "PASS" : "MISS"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One line per case for scripts/bench: space-separated key=value, times in milliseconds. */
static PetscErrorCode ReportResult(const Bench *B, const BenchOptions *o, const Summary *s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(B->comm, "RESULT kernel=%s d=%" PetscInt_FMT " domain=%s n=%" PetscInt_FMT " N=%" PetscInt64_FMT " ranks=%d leaf=%" PetscInt_FMT " rounds=%" PetscInt_FMT " clean=%" PetscInt_FMT " used=%" PetscInt_FMT " cpu_share=%.3f", B->c->name, B->dim, B->c->domain, B->n, B->N, B->size, B->leaf, B->nrounds, B->nclean, s->used, s->share));
  PetscCall(PetscPrintf(B->comm, " t1_ms=%.4f t1_min_ms=%.4f t1_idle_ms=%.4f tp_ms=%.4f tp_min_ms=%.4f tstrong_ms=%.4f", MS(s->t[Q_BUSY]), MS(s->tmin[Q_BUSY]), MS(s->t[Q_IDLE]), MS(s->t[Q_RING]), MS(s->tmin[Q_RING]), MS(s->t[Q_STRONG])));
  PetscCall(PetscPrintf(B->comm, " wait_ms=%.4f wait_max_ms=%.4f compute_ms=%.4f rest_ms=%.4f imbalance=%.4f ips1=%.4e ipsp=%.4e", MS(s->wait), MS(s->waitmax), MS(s->compute), MS(s->rest), s->imbalance, s->ips1, s->ipsP));
  PetscCall(PetscPrintf(B->comm, " eff=%.4f eff_medians=%.4f eff_min=%.4f eff_idle=%.4f eff_strong=%.4f eff_compute=%.4f target=%.2f status=%s\n", s->eff, s->eff_medians, s->eff_min, s->eff_idle, s->eff_strong, s->eff_compute, o->target, s->pass ? "PASS" : "MISS"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------ driver */

static PetscErrorCode RunCase(MPI_Comm comm, const BenchOptions *o, const Case *c, KfKernel k, PetscInt n, Summary *s)
{
  Bench *B;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&B)); /* the sample arrays are too big for the stack */
  PetscCall(BenchSetUp(B, comm, o, c, k, n));
  PetscCall(Measure(B, o));
  Summarize(B, o, s);
  PetscCall(ReportScreen(B, o, s));
  PetscCall(ReportResult(B, o, s));
  PetscCall(BenchDestroy(B));
  PetscCall(PetscFree(B));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The 1-minute load average before the benchmark starts: above ~0.5, other processes share the cores. */
static double LoadAverage(void)
{
  FILE  *f    = fopen("/proc/loadavg", "r");
  double load = -1;

  if (f && fscanf(f, "%lf", &load) != 1) load = -1;
  if (f) fclose(f);
  return load;
}

static PetscErrorCode ReportHeader(MPI_Comm comm, const BenchOptions *o)
{
  PetscMPIInt size;
  double      ghz_idle = 0, ghz_busy = 0, load = LoadAverage();

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(MeasureClocks(comm, &ghz_idle, &ghz_busy));
  PetscCall(PetscPrintf(comm, "kmdflow-bench-ring: %d ranks on %ld cores%s, load average %.2f at start; scalar clock %.2f GHz with the other ranks asleep, %.2f GHz with all busy\n", size, sysconf(_SC_NPROCESSORS_ONLN), size > sysconf(_SC_NPROCESSORS_ONLN) ? " (OVERSUBSCRIBED: E means nothing)" : "", load, ghz_idle, ghz_busy));
  PetscCall(PetscPrintf(comm, "E = (interactions/s per core on P ranks) / (interactions/s per core on 1 rank) = P T_1(n) / T_P(P n), n = N/P per rank, target %.2f\n", o->target));
  PetscCall(PetscPrintf(comm, "  T_P: KfRingSum over N = P n particles on P ranks, gradient only, slowest rank; T_1: KfRingSum over n particles on\n"));
  PetscCall(PetscPrintf(comm, "  one rank, same leaf size, every rank running its own at once (busy). E_idle: T_1 of rank 0 with the others asleep.\n"));
  PetscCall(PetscPrintf(comm, "  E: median over interleaved rounds of each round's ratio; times: medians; wait/compute from KfRingGetTimes (wait = not overlapped communication + lag behind the slowest rank).\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The summary table of every case, in the order run. */
static PetscErrorCode ReportTable(MPI_Comm comm, const BenchOptions *o, const Summary s[], PetscInt ncase)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(comm, "\n%-12s %2s %7s %8s %9s %9s %9s %10s %10s %8s %8s %6s %6s %6s %6s\n", "kernel", "d", "n/rank", "N", "T_1 ms", "T_P ms", "T_1 idle", "ips/core 1", "ips/core P", "wait ms", "comp ms", "E", "E_idle", "E_str", "status"));
  for (PetscInt i = 0; i < ncase; i++) {
    char strong[16] = "-";

    if (s[i].eff_strong > 0) PetscCall(PetscSNPrintf(strong, sizeof(strong), "%.3f", s[i].eff_strong));
    PetscCall(PetscPrintf(comm, "%-12s %2" PetscInt_FMT " %7" PetscInt_FMT " %8" PetscInt64_FMT " %9.3f %9.3f %9.3f %10.3e %10.3e %8.3f %8.3f %6.3f %6.3f %6s %6s\n", s[i].c->name, s[i].c->dim, s[i].n, s[i].N, MS(s[i].t[Q_BUSY]), MS(s[i].t[Q_RING]), MS(s[i].t[Q_IDLE]),
                          s[i].ips1, s[i].ipsP, MS(s[i].wait), MS(s[i].compute), s[i].eff, s[i].eff_idle, strong, s[i].pass ? "PASS" : "MISS"));
  }
  PetscCall(PetscPrintf(comm, "E >= %.2f is the target (performance guide: ring efficiency >= 90 %% at N/P >= 8k).\n", o->target));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode BenchMain(void)
{
  MPI_Comm     comm = PETSC_COMM_WORLD;
  BenchOptions o;
  KfKernel     k[NCASES] = {NULL};
  PetscInt     ncase     = 0;
  Summary      s[NCASES * BENCH_MAX_SIZES];
  PetscBool    help, match[NCASES];

  PetscFunctionBeginUser;
  PetscCall(KfInstallErrorHandler());
  PetscCall(KfLogRegister());
  PetscCall(BenchSetFromOptions(comm, &o));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt c = 0; c < NCASES; c++) {                                  /* every kernel first: bad kernel options fail before minutes of timing */
    match[c] = (PetscBool)!strncmp(cases[c].name, o.only, strlen(o.only)); /* PETSc 3.18's PetscStrbeginswith fails one-letter prefixes */
    if (match[c]) PetscCall(CreateKernel(comm, &cases[c], &k[c]));
  }
  PetscCall(KfRefuseUnusedOptions(comm, "kmdflow-bench-ring")); /* after the kernels exist: their options (e.g. -kernel_h) count as read */
  PetscCall(ReportHeader(comm, &o));
  for (PetscInt i = 0; i < o.nsizes; i++)
    for (PetscInt c = 0; c < NCASES; c++) {
      if (match[c]) PetscCall(RunCase(comm, &o, &cases[c], k[c], o.per_rank[i], &s[ncase++]));
    }
  PetscCall(ReportTable(comm, &o, s, ncase));
  for (PetscInt c = 0; c < NCASES; c++) PetscCall(KfKernelDestroy(&k[c]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;

  ierr = PetscInitialize(&argc, &argv, NULL, help);
  if (ierr) return 1;
  ierr = BenchMain();
  if (ierr && KfExitStatus(ierr) == 1) MPI_Abort(PETSC_COMM_WORLD, 1); /* an internal error may be local to one rank */
  (void)PetscFinalize();
  return KfExitStatus(ierr);
}
