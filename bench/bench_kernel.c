/* bench_kernel.c - interactions per second of KfKernelTile against a plain scalar double loop and the
   in-core ceiling of its operation count (one rank; not a test)

   For every kernel in d = 1 and d = 3 (sobolev: closed forms in d = 1, the Ewald short-range part in d = 2
   and 3, cases ewald_*) the tile streams ns sources past nt targets,
   sizes like the solver's (sources resident in L1/L2). The ceiling: KfKernelGetOps counts the vector
   instructions per 8 interactions by port class; with f the measured clock and P the pipes of a class,
   cycles per 8 interactions = max over classes of (instructions / P), divisions at an assumed throughput.
   Intel AVX-512 cores (Golden Cove and later) issue every 512-bit FP or vector-integer uop to ports 0 and
   5, so all classes share 2 pipes and multi-uop instructions count their extra uops; Zen 5 has 2 FMA/MUL
   and 2 FADD pipes of full 512-bit width. Clock: a chain of dependent integer adds (1 cycle each) timed
   against the wall clock, i.e. the scalar turbo clock; AVX-512 code may run slower. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kf_ewald.h"
#include "kf_kernel.h"

static const char help[] = "Benchmark of the pair-kernel tile: kmdflow-bench-kernel [-nt 512] [-ns 2048] [-samples 15] [-min_time 0.02] [-freq_ghz F] [-only NAME]\n";

typedef struct {
  const char *name; /* RESULT label */
  const char *kernel, *domain;
  PetscInt    dim;
  PetscReal   s, L, h, c, beta, q;
} Case;

#define TWOPI (2 * PETSC_PI)

static const Case cases[] = {
    {"sobolev_s1", "sobolev", "torus", 1, 1, TWOPI, 0, 0, 0, 0},
    {"sobolev_s2", "sobolev", "torus", 1, 2, TWOPI, 0, 0, 0, 0},
    {"sobolev_s3", "sobolev", "torus", 1, 3, TWOPI, 0, 0, 0, 0},
    {"sobolev_s1.25", "sobolev", "torus", 1, 1.25, TWOPI, 0, 0, 0, 0},
    {"sobolev_s1.5", "sobolev", "torus", 1, 1.5, TWOPI, 0, 0, 0, 0},
    {"ewald_s1", "sobolev", "torus", 2, 1, TWOPI, 0, 0, 0, 0},
    {"ewald_s1", "sobolev", "torus", 3, 1, TWOPI, 0, 0, 0, 0},
    {"ewald_s1.5", "sobolev", "torus", 2, 1.5, TWOPI, 0, 0, 0, 0},
    {"ewald_s1.5", "sobolev", "torus", 3, 1.5, TWOPI, 0, 0, 0, 0},
    {"gaussT_h1", "gaussian", "torus", 1, 1, TWOPI, 1, 0, 0, 0},
    {"gaussT_h1", "gaussian", "torus", 3, 1, TWOPI, 1, 0, 0, 0},
    {"gaussian_h1", "gaussian", "free", 1, 1, 0, 1, 0, 0, 0},
    {"gaussian_h1", "gaussian", "free", 3, 1, 0, 1, 0, 0, 0},
    {"imq_b0.5", "imq", "free", 1, 1, 0, 0, 1, 0.5, 0},
    {"imq_b0.5", "imq", "free", 3, 1, 0, 0, 1, 0.5, 0},
    {"imq_b1.3", "imq", "free", 3, 1, 0, 0, 1, 1.3, 0},
    {"riesz_q1", "riesz", "free", 1, 1, 0, 0, 0, 0, 1},
    {"riesz_q1", "riesz", "free", 3, 1, 0, 0, 0, 0, 1},
    {"riesz_q0.5", "riesz", "free", 3, 1, 0, 0, 0, 0, 0.5},
    {"laplace_h1", "laplace", "free", 1, 1, 0, 1, 0, 0, 0},
    {"laplace_h1", "laplace", "free", 3, 1, 0, 1, 0, 0, 0},
};

/* --------------------------------------------------------------------------------------- the scalar baseline */

/*
  What one writes without thinking about SIMD: for i, for j, libm calls, compiled with the same flags.
  Sobolev closed forms: {x/L} by floor and a Horner polynomial in it; the series kernels call KfKernelEval;
  Ewald (d >= 2) calls the scalar short-range pair function KfEwaldShortPair (the tile sums that part only).
*/
typedef struct {
  const Case *c;
  KfKernel    k;
  KfEwald     ew;       /* sobolev in d >= 2 */
  PetscReal   bern[20]; /* coefficients of L^{2s-1} K'({x/L}), highest power first */
  PetscInt    nbern, nimg;
} Scalar;

static PetscErrorCode SetUpScalar(const Case *c, KfKernel k, Scalar *sc)
{
  static const double bnum[17] = {1, -1, 1, 0, -1, 0, 1, 0, -1, 0, 5, 0, -691, 0, 7, 0, -3617}, bden[17] = {1, 2, 6, 1, 30, 1, 42, 1, 30, 1, 66, 1, 2730, 1, 6, 1, 510};
  const int           s = (int)c->s, n = 2 * s - 1;
  double              fact = 1, binom = 1;

  PetscFunctionBeginUser;
  sc->c     = c;
  sc->k     = k;
  sc->ew    = NULL;
  sc->nbern = 0;
  sc->nimg  = (PetscInt)floor(sqrt(80.0) * c->h / (c->L > 0 ? c->L : 1) + 0.5);
  if (!strcmp(c->kernel, "sobolev") && c->dim > 1) PetscCall(KfEwaldCreate(c->dim, c->s, c->L, 1e-13, &sc->ew)); /* the tile's default -ewald_tol */
  if (strcmp(c->kernel, "sobolev") || c->dim > 1 || c->s != s) PetscFunctionReturn(PETSC_SUCCESS);
  for (int i = 2; i <= n; i++) fact *= i;
  for (int j = 0; j <= n; j++) { /* B_n(t) = sum_j binom(n, j) B_j t^{n-j} */
    sc->bern[j] = (s % 2 ? 1 : -1) / fact * binom * bnum[j] / bden[j] * pow(c->L, n);
    binom       = binom * (n - j) / (j + 1);
  }
  sc->nbern = n + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void ScalarLoop(const Scalar *sc, PetscInt nt, const PetscReal *xt, PetscInt ns, const PetscReal *xs, const PetscReal *qs, PetscReal *grad)
{
  const Case     *c = sc->c;
  const PetscInt  d = c->dim;
  const PetscReal L = c->L, h = c->h;

  for (PetscInt i = 0; i < nt; i++) {
    for (PetscInt j = 0; j < ns; j++) {
      PetscReal r[3], r2 = 0, f = 0;

      for (PetscInt a = 0; a < d; a++) {
        r[a] = xt[a * nt + i] - xs[a * ns + j];
        r2 += r[a] * r[a];
      }
      if (sc->nbern) {
        const PetscReal t = r[0] / L - floor(r[0] / L);
        PetscReal       p = 0;

        for (PetscInt m = 0; m < sc->nbern; m++) p = p * t + sc->bern[m];
        grad[i] += r[0] != 0 ? qs[j] * p : 0;
        continue;
      }
      if (sc->ew) {
        PetscReal g[3];

        KfEwaldShortPair(sc->ew, r, NULL, g);
        for (PetscInt a = 0; a < d; a++) grad[a * nt + i] += qs[j] * g[a];
        continue;
      }
      if (!strcmp(c->kernel, "sobolev")) {
        PetscReal K, g[3];

        (void)KfKernelEval(sc->k, r, &K, g);
        grad[i] += qs[j] * g[0];
        continue;
      }
      if (L > 0) { /* periodised gaussian: product of 1-D image sums */
        PetscReal G[3], D[3];

        for (PetscInt a = 0; a < d; a++) {
          const PetscReal t = r[a] - L * nearbyint(r[a] / L);

          G[a] = D[a] = 0;
          for (PetscInt n = -sc->nimg; n <= sc->nimg; n++) {
            const PetscReal y = t + n * L, e = exp(-y * y / (2 * h * h));

            G[a] += e;
            D[a] -= y / (h * h) * e;
          }
        }
        for (PetscInt a = 0; a < d; a++) {
          PetscReal g = qs[j] * D[a];

          for (PetscInt b = 0; b < d; b++)
            if (b != a) g *= G[b];
          grad[a * nt + i] += g;
        }
        continue;
      }
      if (!strcmp(c->kernel, "gaussian"))
        f = -exp(-r2 / (2 * h * h)) / (h * h);
      else if (!strcmp(c->kernel, "imq"))
        f = c->beta == 0.5 ? -1 / ((c->c * c->c + r2) * sqrt(c->c * c->c + r2)) : -2 * c->beta * pow(c->c * c->c + r2, -c->beta - 1);
      else if (!strcmp(c->kernel, "riesz"))
        f = r2 > 0 ? (c->q == 1 ? -1 / sqrt(r2) : -c->q * pow(r2, c->q / 2 - 1)) : 0;
      else
        f = r2 > 0 ? -exp(-sqrt(r2) / h) / (h * sqrt(r2)) : 0;
      for (PetscInt a = 0; a < d; a++) grad[a * nt + i] += qs[j] * f * r[a];
    }
  }
}

/* --------------------------------------------------------------------------------------- timing and the model */

static double Now(void)
{
  return MPI_Wtime();
}

static int CmpDouble(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

/* Clock from a chain of dependent register adds (latency 1 on every x86-64 core since the P6). */
static double MeasureGHz(void)
{
#if defined(__x86_64__)
  unsigned long x = 1, y = 3;
  const long    n  = 50000000;
  double        t0 = Now(), t;

  for (long i = 0; i < n; i++) __asm__ volatile("add %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0"
                                                : "+r"(x)
                                                : "r"(y));
  t = Now() - t0;
  return 8.0 * n / t / 1e9;
#else
  return 0;
#endif
}

typedef struct {
  char      cpu[128];
  PetscBool zen;         /* separate FMA and FADD pipes */
  double    ghz, divcyc; /* divider: cycles per 512-bit vdivpd (assumed) */
} Machine;

static void DetectMachine(Machine *m, double ghz_opt)
{
  FILE *f = fopen("/proc/cpuinfo", "r");
  char  line[256];

  strcpy(m->cpu, "unknown CPU");
  m->zen = PETSC_FALSE;
  while (f && fgets(line, sizeof(line), f)) {
    if (!strncmp(line, "vendor_id", 9) && strstr(line, "AuthenticAMD")) m->zen = PETSC_TRUE;
    if (!strncmp(line, "model name", 10)) {
      const char *v = strchr(line, ':');

      if (v) snprintf(m->cpu, sizeof(m->cpu), "%s", v + 2);
      m->cpu[strcspn(m->cpu, "\n")] = 0;
      break;
    }
  }
  if (f) fclose(f);
  m->ghz    = ghz_opt > 0 ? ghz_opt : MeasureGHz();
  m->divcyc = m->zen ? 10 : 16;
}

/* Cycles per 8 interactions on the machine model. */
static double Cycles(const Machine *m, const KfKernelOps *o)
{
  const double ports = m->zen ? PetscMax(o->fma / 2, o->add / 2) : (o->fma + o->add + o->uops) / 2;

  return PetscMax(ports, o->div * m->divcyc);
}

static double Median(double *t, int n)
{
  qsort(t, (size_t)n, sizeof(double), CmpDouble);
  return t[n / 2];
}

typedef struct {
  PetscInt nt, ns, samples;
  double   min_time;
} Sizes;

/* Interactions per second: median over samples, each long enough (min_time) to swamp the timer; *best is
   the fastest sample (the machine is shared: its second vCPU may be a hyperthread of the same core). */
static double TimeTile(KfKernel k, const Sizes *z, const PetscReal *xt, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *pot, double *best)
{
  double t[64], t0;
  int    reps = 1;

  for (;;) {
    t0 = Now();
    for (int r = 0; r < reps; r++) KfKernelTile(k, z->nt, z->nt, xt, z->ns, z->ns, xs, qs, grad, pot);
    if (Now() - t0 > z->min_time || reps > 1 << 20) break;
    reps *= 2;
  }
  for (int s = 0; s < z->samples; s++) {
    t0 = Now();
    for (int r = 0; r < reps; r++) KfKernelTile(k, z->nt, z->nt, xt, z->ns, z->ns, xs, qs, grad, pot);
    t[s] = (Now() - t0) / reps;
  }
  qsort(t, (size_t)z->samples, sizeof(double), CmpDouble);
  if (best) *best = (double)z->nt * (double)z->ns / t[0];
  return (double)z->nt * (double)z->ns / Median(t, (int)z->samples);
}

static double TimeScalar(const Scalar *sc, const Sizes *z, const PetscReal *xt, const PetscReal *xs, const PetscReal *qs, PetscReal *grad)
{
  double t[5], t0;

  for (int s = 0; s < 5; s++) {
    t0 = Now();
    ScalarLoop(sc, z->nt, xt, z->ns, xs, qs, grad);
    t[s] = Now() - t0;
  }
  return (double)z->nt * (double)z->ns / Median(t, 5);
}

/* --------------------------------------------------------------------------------------- one case */

static PetscErrorCode SetOption(const char name[], PetscReal v)
{
  char buf[64];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%.17g", (double)v));
  PetscCall(PetscOptionsSetValue(NULL, name, buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateKernel(const Case *c, KfKernel *k)
{
  KfParams p;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&p, sizeof(p)));
  p.dim = c->dim;
  p.s   = c->s;
  p.L   = c->L > 0 ? c->L : 1;
  PetscCall(PetscOptionsSetValue(NULL, "-kernel", c->kernel));
  PetscCall(PetscOptionsSetValue(NULL, "-domain", c->domain));
  if (c->h > 0) PetscCall(SetOption("-kernel_h", c->h));
  if (c->c > 0) PetscCall(SetOption("-kernel_c", c->c));
  if (c->beta > 0) PetscCall(SetOption("-kernel_beta", c->beta));
  if (c->q > 0) PetscCall(SetOption("-kernel_q", c->q));
  PetscCall(KfKernelCreate(PETSC_COMM_SELF, &p, k));
  for (size_t i = 0; i < 6; i++) {
    static const char *const names[] = {"-kernel", "-domain", "-kernel_h", "-kernel_c", "-kernel_beta", "-kernel_q"};

    PetscCall(PetscOptionsClearValue(NULL, names[i]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void FillPositions(const Case *c, PetscInt n, PetscReal *x, unsigned long long *state)
{
  for (PetscInt i = 0; i < c->dim * n; i++) {
    double u;

    *state ^= *state >> 12, *state ^= *state << 25, *state ^= *state >> 27;
    u    = (double)((*state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
    x[i] = c->L > 0 ? c->L * u : 4 * u - 2;
  }
}

static PetscErrorCode RunCase(const Case *c, const Sizes *z, const Machine *m)
{
  KfKernel           k;
  KfKernelOps        ops, opsp;
  Scalar             sc;
  PetscReal         *xt, *xs, *qs, *g, *gs, *pot, err = 0, gmax = 0;
  unsigned long long state = 0x9E3779B97F4A7C15ULL;
  double             ips, ipsp, sips, ceil8, best;
  char               desc[160];

  PetscFunctionBeginUser;
  PetscCall(CreateKernel(c, &k));
  PetscCall(KfKernelDescribe(k, desc, sizeof(desc)));
  PetscCall(KfKernelGetOps(k, PETSC_FALSE, &ops));
  PetscCall(KfKernelGetOps(k, PETSC_TRUE, &opsp));
  PetscCall(PetscMalloc6(c->dim * z->nt, &xt, c->dim * z->ns, &xs, z->ns, &qs, c->dim * z->nt, &g, c->dim * z->nt, &gs, z->nt, &pot));
  FillPositions(c, z->nt, xt, &state);
  FillPositions(c, z->ns, xs, &state);
  for (PetscInt j = 0; j < z->ns; j++) qs[j] = 1.0 / z->ns;
  PetscCall(SetUpScalar(c, k, &sc));
  PetscCall(PetscArrayzero(pot, z->nt));
  ips  = TimeTile(k, z, xt, xs, qs, g, NULL, &best);
  ipsp = TimeTile(k, z, xt, xs, qs, g, pot, NULL);
  PetscCall(PetscArrayzero(g, c->dim * z->nt));
  PetscCall(PetscArrayzero(gs, c->dim * z->nt));
  KfKernelTile(k, z->nt, z->nt, xt, z->ns, z->ns, xs, qs, g, NULL);
  ScalarLoop(&sc, z->nt, xt, z->ns, xs, qs, gs);
  for (PetscInt i = 0; i < c->dim * z->nt; i++) gmax = PetscMax(gmax, PetscAbsReal(gs[i]));
  for (PetscInt i = 0; i < c->dim * z->nt; i++) err = PetscMax(err, PetscAbsReal(g[i] - gs[i]) / gmax);
  sips  = TimeScalar(&sc, z, xt, xs, qs, gs);
  ceil8 = m->ghz * 1e9 * KF_KERNEL_WIDTH / Cycles(m, &ops);
  printf("%-14s %d %4.0f %4.0f %3.0f %5.0f %9.3e %9.3e %9.3e %5.1f%% %7.1f %9.3e %5.0f%% %9.3e %6.1fx %8.1e\n", c->name, (int)c->dim, ops.fma, ops.add + ops.uops, ops.div, ops.flops, ips, best, ceil8, 100 * ips / ceil8, ips * ops.flops / 1e9,
         ipsp, 100 * ipsp / (m->ghz * 1e9 * KF_KERNEL_WIDTH / Cycles(m, &opsp)), sips, sips > 0 ? ips / sips : 0, (double)err);
  PetscCall(PetscInfo(NULL, "%s\n", desc));
  printf("RESULT kernel=%s d=%d ips=%.4e ceiling=%.4e scalar_ips=%.4e best_ips=%.4e pot_ips=%.4e gflops=%.2f fraction=%.3f\n", c->name, (int)c->dim, ips, ceil8, sips, best, ipsp, ips * ops.flops / 1e9, ips / ceil8);
  PetscCall(PetscFree6(xt, xs, qs, g, gs, pot));
  PetscCall(KfEwaldDestroy(&sc.ew));
  PetscCall(KfKernelDestroy(&k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  Sizes     z = {512, 2048, 15, 0.02};
  Machine   m;
  PetscReal ghz      = 0;
  char      only[64] = "";

  PetscFunctionBeginUser;
  PetscOptionsBegin(PETSC_COMM_SELF, NULL, "Kernel tile benchmark", "kmdflow");
  PetscCall(PetscOptionsInt("-nt", "Targets per tile (multiple of 8)", "", z.nt, &z.nt, NULL));
  PetscCall(PetscOptionsInt("-ns", "Sources per tile", "", z.ns, &z.ns, NULL));
  PetscCall(PetscOptionsInt("-samples", "Timed samples per case (median reported; at most 64)", "", z.samples, &z.samples, NULL));
  PetscCall(PetscOptionsReal("-min_time", "Minimum seconds per sample", "", z.min_time, &z.min_time, NULL));
  PetscCall(PetscOptionsReal("-freq_ghz", "Clock for the ceiling (default: measured)", "", ghz, &ghz, NULL));
  PetscCall(PetscOptionsString("-only", "Run only cases whose name starts with this", "", only, only, sizeof(only), NULL));
  PetscOptionsEnd();
  PetscCheck(z.nt > 0 && z.nt % KF_KERNEL_WIDTH == 0 && z.ns > 0 && z.samples > 0 && z.samples <= 64, PETSC_COMM_SELF, KF_ERR_INPUT, "-nt must be a positive multiple of %d, -ns > 0, 0 < -samples <= 64", KF_KERNEL_WIDTH);
  DetectMachine(&m, ghz);
  printf("kmdflow-bench-kernel: %s, %.2f GHz (%s), 1 core, %s\n", m.cpu, m.ghz, ghz > 0 ? "given" : "measured, scalar clock", m.zen ? "model: 2 FMA + 2 FADD 512-bit pipes" : "model: 2 ports (0, 5) for all 512-bit uops");
  printf("tile: %d targets x %d sources (SoA), gradient only unless marked +pot; median of %d samples; ceiling = f * 8 / cycles, divisions at %.0f cycles\n", (int)z.nt, (int)z.ns, (int)z.samples, m.divcyc);
  printf("ops per 8 interactions: fma = FMA/MUL, add = add/sub/cmp/logic/round/scalef/getexp (+ extra Intel uops), div; flops per interaction (FMA = 2)\n\n");
  printf("%-14s %s %4s %4s %3s %5s %9s %9s %9s %6s %7s %9s %6s %9s %7s %8s\n", "case", "d", "fma", "add", "div", "flops", "ips", "best", "ceiling", "frac", "GFLOP/s", "ips+pot", "frac", "scalar", "speedup", "err");
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    PetscBool match = PETSC_TRUE;

    if (only[0]) PetscCall(PetscStrbeginswith(cases[i].name, only, &match));
    if (match) PetscCall(RunCase(&cases[i], &z, &m));
    fflush(stdout);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  PetscMPIInt    rank;

  ierr = PetscInitialize(&argc, &argv, NULL, help);
  if (ierr) return 1;
  ierr = MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!ierr && !rank) ierr = Run();
  if (PetscFinalize() || ierr) return 1;
  return 0;
}
