/* bench_machine.c - kmdflow-bench-machine: the machine figures the performance models need, measured here.
     FMA peak   double-precision FMA rate per core (independent vector FMA chains, widest ISA of the build)
     triad      STREAM-like a = b + s c, bytes moved = 24 per element (no write-allocate counted)
     ping-pong  MPI latency (half round trip, 8 B) and bandwidth (4 MiB messages) between ranks 0 and 1
   Every rank runs the FMA and triad loops at the same time, so "per core" and "all ranks" figures both come out
   of one run under mpiexec -n P. Prints RESULT lines (key=value) for scripts/perf-report; best of repeats. */
#include <immintrin.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__)
  #define KF_VEC 8
typedef __m512d kf_vec;
  #define KF_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
  #define KF_SET1(x)      _mm512_set1_pd(x)
  #define KF_ISA          "avx512"
static double kf_hsum(kf_vec v) { return _mm512_reduce_add_pd(v); }
#elif defined(__FMA__)
  #define KF_VEC 4
typedef __m256d kf_vec;
  #define KF_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
  #define KF_SET1(x)      _mm256_set1_pd(x)
  #define KF_ISA          "avx2"
static double kf_hsum(kf_vec v)
{
  double t[4];
  _mm256_storeu_pd(t, v);
  return t[0] + t[1] + t[2] + t[3];
}
#else
  #define KF_VEC 1
typedef double kf_vec;
  #define KF_FMA(a, b, c) fma(a, b, c)
  #define KF_SET1(x)      (x)
  #define KF_ISA          "scalar"
static double kf_hsum(kf_vec v) { return v; }
#endif

enum { KF_CHAINS = 16, KF_REPS = 7 };

/* KF_CHAINS independent chains hide the FMA latency (4 cycles) on two pipes; returns GFLOP/s (2 flops per FMA). */
static double FmaRate(long iters, double *sink)
{
  kf_vec       acc[KF_CHAINS];
  const kf_vec a = KF_SET1(0.999999), b = KF_SET1(1e-7);
  double       t;

  for (int c = 0; c < KF_CHAINS; c++) acc[c] = KF_SET1(1.0 + c * 1e-3);
  MPI_Barrier(MPI_COMM_WORLD);
  t = MPI_Wtime();
  for (long i = 0; i < iters; i++)
    for (int c = 0; c < KF_CHAINS; c++) acc[c] = KF_FMA(acc[c], a, b);
  t = MPI_Wtime() - t;
  for (int c = 0; c < KF_CHAINS; c++) *sink += kf_hsum(acc[c]);
  return 2.0 * KF_VEC * KF_CHAINS * (double)iters / t * 1e-9;
}

static double Triad(long n, double *a, const double *b, const double *c)
{
  double t;

  MPI_Barrier(MPI_COMM_WORLD);
  t = MPI_Wtime();
  for (long i = 0; i < n; i++) a[i] = b[i] + 3.0 * c[i];
  t = MPI_Wtime() - t;
  return 24.0 * (double)n / t * 1e-9;
}

/* Half the round-trip time of a message of len bytes between ranks 0 and 1, best of reps batches. */
static double PingPong(char *buf, int len, int iters)
{
  int    rank;
  double best = 1e30;

  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (int r = 0; r < KF_REPS; r++) {
    double t;

    MPI_Barrier(MPI_COMM_WORLD);
    t = MPI_Wtime();
    for (int i = 0; i < iters; i++) {
      if (rank == 0) {
        MPI_Send(buf, len, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(buf, len, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buf, len, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buf, len, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
      }
    }
    t = (MPI_Wtime() - t) / (2.0 * iters);
    if (t < best) best = t;
  }
  MPI_Bcast(&best, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return best;
}

static double MinOverRanks(double v)
{
  double m;

  MPI_Allreduce(&v, &m, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  return m;
}

static double SumOverRanks(double v)
{
  double s;

  MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return s;
}

int main(int argc, char **argv)
{
  int     rank, size;
  long    n = 20L * 1000 * 1000, fma_iters = 200L * 1000 * 1000 / KF_CHAINS;
  double *a, *b, *c, sink = 0, fma_best = 0, triad_best = 0;

  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-triad_n") && i + 1 < argc) n = atol(argv[++i]);
    else {
      if (!rank) fprintf(stderr, "kmdflow-bench-machine: unknown option '%s' (only -triad_n N, default 2e7 doubles per array)\n", argv[i]);
      MPI_Finalize();
      return 2;
    }
  }
  a = malloc(sizeof(double) * n);
  b = malloc(sizeof(double) * n);
  c = malloc(sizeof(double) * n);
  if (!a || !b || !c) MPI_Abort(MPI_COMM_WORLD, 1);
  for (long i = 0; i < n; i++) a[i] = 0, b[i] = 1, c[i] = 2; /* first touch, so no page fault is timed */

  for (int r = 0; r < KF_REPS; r++) {
    double f = FmaRate(fma_iters, &sink), t = Triad(n, a, b, c);

    if (f > fma_best) fma_best = f;
    if (t > triad_best) triad_best = t;
  }
  /* per core: the slowest rank's best; all ranks: the sum of the bests (they ran at the same time) */
  {
    const double fma_core = MinOverRanks(fma_best), fma_all = SumOverRanks(fma_best);
    const double tri_core = MinOverRanks(triad_best), tri_all = SumOverRanks(triad_best);

    if (!rank) {
      printf("kmdflow-bench-machine: %d rank(s), isa %s, triad arrays %ld doubles (%.0f MB per rank)\n", size, KF_ISA, n, 24e-6 * (double)n);
      printf("RESULT part=machine ranks=%d isa=%s fma_gflops_core=%.2f fma_gflops_all=%.2f triad_gbs_core=%.2f triad_gbs_all=%.2f\n", size, KF_ISA, fma_core, fma_all, tri_core,
             tri_all);
    }
  }
  if (size >= 2) {
    char        *buf = calloc(4 << 20, 1);
    const double lat = PingPong(buf, 8, 20000), big = PingPong(buf, 4 << 20, 50);

    if (!rank) printf("RESULT part=pingpong ranks=%d latency_us=%.3f bandwidth_gbs=%.2f message_bytes=%d\n", size, lat * 1e6, (4 << 20) / big * 1e-9, 4 << 20);
    free(buf);
  }
  if (sink == 42.0 || a[n / 2] != 7.0) { /* keeps the loops; a[] is 7 after any triad */
    if (!rank) fprintf(stderr, "kmdflow-bench-machine: unexpected values\n");
  }
  free(a);
  free(b);
  free(c);
  MPI_Finalize();
  return 0;
}
