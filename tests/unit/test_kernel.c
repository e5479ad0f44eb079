/* test_kernel.c - unit tests of the pair-kernel registry (src/kernel.c)

   Oracles: Fourier series of the torus kernels with an exact Abel (summation by parts) tail, in long
   double (math spec G1); the periodised Gaussian's own Fourier series; 4th-order finite differences;
   libm in long double for the vectorised exp/log/rsqrt; a scalar double loop over KfKernelEval for the
   tile. Every rank runs the same checks on its own random points (seeded by rank); each check reduces the
   worst error over ranks and prints it with its tolerance. Exits non-zero if any check failed. */
#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kf_kernel.h"
#include "kf_test.h"

static char label[96];

/* xorshift64*: a per-rank stream of reproducible points */
static uint64_t rng_state;

static double Rand(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------------------------------------------ cases */

#define MAX_OPTS 3

typedef struct {
  const char *kernel, *domain;
  PetscInt    dim;
  PetscReal   s, L;
  const char *opt[MAX_OPTS][2];
  PetscReal   tol; /* tile vs reference, relative to sum_j |q_j| max|K| resp. max|grad K| */
  /* Kernels computing powers as exp(a log x) carry the log's rounding amplified by |a log x| (up to ~40 for
     the 1e-12 distances of the tiles): their tolerance is 3e-14 instead of 1e-14. For s >= 5 the reference
     itself (Bernoulli polynomials in {x}, coefficients up to ~10^3 K) limits the agreement to ~1e-14. */
} Case;

#define TWOPI (2 * PETSC_PI)

static PetscErrorCode SetOptions(const Case *c, PetscBool set)
{
  PetscFunctionBeginUser;
  if (set) {
    PetscCall(PetscOptionsSetValue(NULL, "-kernel", c->kernel));
    PetscCall(PetscOptionsSetValue(NULL, "-domain", c->domain));
  } else {
    PetscCall(PetscOptionsClearValue(NULL, "-kernel"));
    PetscCall(PetscOptionsClearValue(NULL, "-domain"));
  }
  for (int i = 0; i < MAX_OPTS && c->opt[i][0]; i++) {
    if (set)
      PetscCall(PetscOptionsSetValue(NULL, c->opt[i][0], c->opt[i][1]));
    else
      PetscCall(PetscOptionsClearValue(NULL, c->opt[i][0]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MakeParams(PetscInt dim, PetscReal s, PetscReal L, KfParams *p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(p, sizeof(*p)));
  p->dim = dim;
  p->s   = s;
  p->L   = L;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateCase(const Case *c, KfKernel *k)
{
  KfParams p;
  char     desc[200];

  PetscFunctionBeginUser;
  PetscCall(MakeParams(c->dim, c->s, c->L, &p));
  PetscCall(SetOptions(c, PETSC_TRUE));
  PetscCall(KfKernelCreate(PETSC_COMM_WORLD, &p, k));
  PetscCall(SetOptions(c, PETSC_FALSE));
  PetscCall(KfKernelDescribe(*k, desc, sizeof(desc)));
  PetscCall(PetscSNPrintf(label, sizeof(label), "d=%d %s", (int)c->dim, desc));
  if (strlen(label) > 34) PetscCall(PetscSNPrintf(label, sizeof(label), "%.34s", desc));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "----  %s (d = %d)\n", desc, (int)c->dim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ exp, log, rsqrt */

#define NVEC 40000

static double Ulp(double x)
{
  x = fabs(x);
  return nextafter(x, INFINITY) - x;
}

/* Worst error in ulps of the exact (long double) value; results below DBL_MIN are measured in units of the
   smallest subnormal, which is their ulp. */
static PetscErrorCode MaxUlp(const char what[], void (*f)(PetscInt, const PetscReal *, PetscReal *), long double (*ref)(long double), const double *x, PetscInt n, PetscReal tol)
{
  double   *y;
  KfTestErr e;
  char      where[200];

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n, &y));
  f(n, x, y);
  KfTestErrReset(&e);
  for (PetscInt i = 0; i < n; i++) {
    const long double r = ref(x[i]);
    const double      u = fabsl(r) < DBL_MIN ? 0x1p-1074 : Ulp((double)r);

    PetscCall(PetscSNPrintf(where, sizeof(where), "x = %.17g: %.17g, exact %.20Lg", x[i], y[i], r));
    PetscCall(KfTestErrUpdate(&e, (double)(fabsl((long double)y[i] - r) / u), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, what, &e, tol));
  PetscCall(PetscFree(y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static long double RefRsqrt(long double x)
{
  return 1.0L / sqrtl(x);
}

static PetscErrorCode TestElementary(void)
{
  double *x, y[8];
  char    where[200];

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "elementary functions", sizeof(label)));
  PetscCall(PetscMalloc1(NVEC, &x));
  for (PetscInt i = 0; i < NVEC; i++) x[i] = i % 4 == 0 ? 2 * Rand() - 1 : (i % 4 == 1 ? -700 - 50 * Rand() : -745 + 1454.7 * Rand());
  PetscCall(MaxUlp("exp vs expl, [-745, 709.7] (ulp)", KfKernelVecExp, expl, x, NVEC, 1.0));
  for (PetscInt i = 0; i < NVEC; i++) x[i] = i % 4 == 0 ? 0.5 + 1.5 * Rand() : (i % 4 == 1 ? ldexp(1 + Rand(), -1070 + (int)(40 * Rand())) : ldexp(1 + Rand(), -1022 + (int)(2045 * Rand())));
  PetscCall(MaxUlp("log vs logl, normal and subnormal x (ulp)", KfKernelVecLog, logl, x, NVEC, 1.5));
  for (PetscInt i = 0; i < NVEC; i++) x[i] = ldexp(1 + Rand(), -1022 + (int)(2045 * Rand()));
  PetscCall(MaxUlp("rsqrt vs 1/sqrtl, normal x (ulp)", KfKernelVecRsqrt, RefRsqrt, x, NVEC, 2.0));
  {
    const double special[8] = {0, -746, -1e4, -1e300, -745.2, 1, 709.78, 1e-300};

    KfKernelVecExp(8, special, y);
    PetscCall(PetscSNPrintf(where, sizeof(where), "exp(0) = %.17g, exp(-746) = %g, exp(-1e4) = %g, exp(-1e300) = %g, exp(-745.2) = %g", y[0], y[1], y[2], y[3], y[4]));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "exp(0) = 1, exp(x < -745.14) = 0 exactly", (y[0] == 1 && y[1] == 0 && y[2] == 0 && y[3] == 0 && y[4] == 0) ? 0 : 1, 0, where));
    KfKernelVecLog(8, special + 5, y); /* log(1) only: the other lanes are not logged */
    PetscCall(PetscSNPrintf(where, sizeof(where), "log(1) = %g", y[0]));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "log(1) = 0 exactly", fabs(y[0]), 0, where));
  }
  PetscCall(PetscFree(x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ G1: Fourier series */

typedef long double complex LDC;

/*
  sum_{k >= 1} f(k) z^k, f(k) = k^-a, z = e^{2 pi i x}: direct for k < KDIRECT, then the exact identity
  sum_{k >= K} f(k) z^k = sum_{n < N} z^{K+n} Delta^n f(K) / (1-z)^{n+1} + (z/(1-z))^N sum_{k >= K} Delta^N f(k) z^k
  (summation by parts), whose remainder is below 1e-19 for 0.05 <= x <= 0.98. (More terms do not help: the differences
  Delta^n f lose digits to cancellation, amplified by |1-z|^-n.)
*/
#define KDIRECT 4000
#define NABEL 6

static LDC PowerSeries(long double a, double x)
{
  LDC         sum = 0, z = cexpl(2 * 3.14159265358979323846264338327950288L * I * (long double)x), zk, w;
  long double d[NABEL + 1];

  for (int k = 1; k < KDIRECT; k++) {
    const long double ph = (long double)k * x - floorl((long double)k * x); /* exact: k < 2^11 */

    sum += powl(k, -a) * cexpl(2 * 3.14159265358979323846264338327950288L * I * ph);
  }
  for (int i = 0; i <= NABEL; i++) d[i] = powl(KDIRECT + i, -a);
  zk = cpowl(z, KDIRECT);
  w  = 1 / (1 - z);
  for (int n = 0; n < NABEL; n++) {
    sum += zk * d[0] * cpowl(w, n + 1);
    for (int i = 0; i < NABEL - n; i++) d[i] = d[i + 1] - d[i];
    zk *= z;
  }
  return sum;
}

/* K_s and K_s' on the torus of period L from the Fourier series of spec A.2 (x/L in [0.05, 0.95]). */
static void SobolevFourier(PetscReal s, PetscReal L, PetscReal x, PetscReal *K, PetscReal *dK)
{
  const long double c = 2 * powl(2 * 3.14159265358979323846264338327950288L, -2 * (long double)s);

  *K  = (PetscReal)(c * powl(L, 2 * s) * creall(PowerSeries(2 * s, x / L)));
  *dK = (PetscReal)(-c * 2 * 3.14159265358979323846264338327950288L * powl(L, 2 * s - 1) * cimagl(PowerSeries(2 * s - 1, x / L)));
}

static PetscErrorCode TestSobolevFourier(KfKernel k, PetscReal s, PetscReal L)
{
  PetscReal   k0, Kf, dKf, K, g[KF_MAX_DIM];
  long double zeta2s = 0;
  PetscBool   finite;
  KfTestErr   eK, eG;
  char        where[200];

  PetscFunctionBeginUser;
  PetscCall(KfKernelSelfValue(k, &k0, &finite));
  KfTestErrReset(&eK);
  KfTestErrReset(&eG);
  for (int i = 0; i < 12; i++) {
    const PetscReal x = L * (i < 2 ? (i ? 0.95 : 0.05) : 0.05 + 0.9 * Rand());

    SobolevFourier(s, L, x, &Kf, &dKf);
    PetscCall(KfKernelEval(k, &x, &K, g));
    PetscCall(PetscSNPrintf(where, sizeof(where), "x/L = %.6f: K %.17g, Fourier %.17g; K' %.17g, Fourier %.17g", (double)(x / L), (double)K, (double)Kf, (double)g[0], (double)dKf));
    PetscCall(KfTestErrUpdate(&eK, PetscAbsReal(K - Kf) / k0, where));
    PetscCall(KfTestErrUpdate(&eG, PetscAbsReal(g[0] - dKf) / (k0 / L), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "G1: K vs Fourier series (rel. to K(0))", &eK, 1e-12));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "G1: K' vs Fourier series (rel. to K(0)/L)", &eG, 1e-12));
  for (int m = 1; m < 200000; m++) zeta2s += powl(m, -2 * (long double)s); /* plus the Euler-Maclaurin tail: */
  zeta2s += (powl(200000, 1 - 2 * (long double)s) / (2 * s - 1) + 0.5L * powl(200000, -2 * (long double)s) + s / 6.0L * powl(200000, -2 * (long double)s - 1));
  {
    const PetscReal want = (PetscReal)(2 * zeta2s * powl(L / TWOPI, 2 * s)), zero = 0;

    PetscCall(KfKernelEval(k, &zero, &K, g));
    PetscCall(PetscSNPrintf(where, sizeof(where), "SelfValue %.17g (finite %d), Eval(0) %.17g, 2 zeta(2s) (L/2pi)^2s = %.17g; K'(0) = %g", (double)k0, (int)finite, (double)K, (double)want, (double)g[0]));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "K(0) = 2 zeta(2s) (L/2pi)^2s, K'(0) = 0 (rel)", (finite && g[0] == 0) ? PetscMax(PetscAbsReal(k0 - want), PetscAbsReal(K - want)) / want : 1, 1e-13, where));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ gradients by finite differences */

static PetscErrorCode TestFiniteDifferences(KfKernel k, const Case *c, PetscReal scale)
{
  KfTestErr e;
  char      where[200];

  PetscFunctionBeginUser;
  KfTestErrReset(&e);
  for (int i = 0; i < 10; i++) {
    PetscReal r[KF_MAX_DIM], K, g[KF_MAX_DIM], gmax = 0;

    PetscReal rad = 0;

    for (PetscInt j = 0; j < c->dim; j++) {
      r[j] = c->L > 0 ? c->L * (0.05 + 0.9 * Rand()) : scale * (2 * Rand() - 1);
      rad += r[j] * r[j];
    }
    if (c->L == 0 && PetscSqrtReal(rad) < 0.2 * scale) /* away from the singularity or kink at 0 */
      for (PetscInt j = 0; j < c->dim; j++) r[j] *= 0.2 * scale / PetscSqrtReal(rad);
    PetscCall(KfKernelEval(k, r, &K, g));
    for (PetscInt j = 0; j < c->dim; j++) gmax = PetscMax(gmax, PetscAbsReal(g[j]));
    for (PetscInt j = 0; j < c->dim; j++) {
      const PetscReal h = 2e-4 * scale, save = r[j];
      PetscReal       f[4], gg[KF_MAX_DIM], fd;
      const PetscReal off[4] = {2, 1, -1, -2};

      for (int m = 0; m < 4; m++) {
        r[j] = save + off[m] * h;
        PetscCall(KfKernelEval(k, r, &f[m], gg));
      }
      r[j] = save;
      fd   = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h);
      PetscCall(PetscSNPrintf(where, sizeof(where), "r = (%.6g, %.6g, %.6g) component %d: grad %.17g, FD %.17g", (double)r[0], (double)(c->dim > 1 ? r[1] : 0), (double)(c->dim > 2 ? r[2] : 0), (int)j, (double)g[j], (double)fd));
      PetscCall(KfTestErrUpdate(&e, PetscAbsReal(fd - g[j]) / PetscMax(gmax, PetscAbsReal(K) / scale), where));
    }
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "grad K vs 4th-order centred differences of K", &e, 1e-8));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ the tile */

#define NT 40
#define NS 37
#define LDT 45
#define LDS 41

typedef struct {
  PetscReal xt[KF_MAX_DIM * LDT], xs[KF_MAX_DIM * LDS], qs[NS];
} Tile;

/* Positions in [0, L) on the torus (some within 1e-12 L of 0 and of L), in [-scale, scale] in free space;
   a few sources sit exactly on targets and one a hair (1e-9 scale) from one. */
static void MakeTile(const Case *c, PetscReal scale, Tile *t)
{
  for (PetscInt d = 0; d < c->dim; d++) {
    for (int i = 0; i < NT; i++) {
      PetscReal x = c->L > 0 ? c->L * Rand() : scale * (2 * Rand() - 1);

      if (c->L > 0 && i % 7 == 1) x = c->L * 1e-12 * Rand();
      if (c->L > 0 && i % 7 == 2) x = c->L * (1 - 1e-12 * (1 + Rand()));
      t->xt[d * LDT + i] = x;
    }
    for (int j = 0; j < NS; j++) {
      PetscReal x = c->L > 0 ? c->L * Rand() : scale * (2 * Rand() - 1);

      if (c->L > 0 && j % 5 == 3) x = j % 2 ? c->L * 1e-12 * Rand() : c->L * (1 - 1e-12 * (1 + Rand()));
      if (j % 9 == 0) x = t->xt[d * LDT + (j * 7) % NT];
      if (j == 10) x = t->xt[d * LDT + 5] + (c->L > 0 ? 1e-9 * c->L : 1e-9 * scale) * (d + 1);
      t->xs[d * LDS + j] = x;
    }
  }
  for (int j = 0; j < NS; j++) t->qs[j] = (j % 3 ? 1 : -0.5) * (0.5 + Rand());
}

/* The scalar double loop the tile must reproduce; also returns the scale of its terms for each target. */
static PetscErrorCode ReferenceSums(KfKernel k, const Case *c, const Tile *t, PetscInt nt, PetscReal *grad, PetscReal *pot, PetscReal *gabs, PetscReal *pabs)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < nt; i++) {
    pot[i] = gabs[i] = pabs[i] = 0;
    for (PetscInt d = 0; d < c->dim; d++) grad[d * LDT + i] = 0;
    for (PetscInt j = 0; j < NS; j++) {
      PetscReal r[KF_MAX_DIM], K, g[KF_MAX_DIM], gm = 0;

      for (PetscInt d = 0; d < c->dim; d++) r[d] = t->xt[d * LDT + i] - t->xs[d * LDS + j];
      PetscCall(KfKernelEval(k, r, &K, g));
      pot[i] += t->qs[j] * K;
      for (PetscInt d = 0; d < c->dim; d++) {
        grad[d * LDT + i] += t->qs[j] * g[d];
        gm = PetscMax(gm, PetscAbsReal(g[d]));
      }
      gabs[i] += PetscAbsReal(t->qs[j]) * gm;
      pabs[i] += PetscAbsReal(t->qs[j]) * PetscAbsReal(K);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void RunTile(KfKernel k, const Case *c, const Tile *t, PetscInt nt, const PetscReal *xt, PetscReal *grad, PetscReal *pot)
{
  for (PetscInt i = 0; i < KF_MAX_DIM * LDT; i++) grad[i] = 0;
  for (PetscInt i = 0; i < LDT; i++) pot[i] = 0;
  KfKernelTile(k, nt, LDT, xt, NS, LDS, t->xs, t->qs, grad, pot);
}

/* Gradient errors are measured against max(sum_j |q_j| |grad K|, sum_j |q_j| K0/len): near-constant kernels (a
   periodised gaussian with h close to L) have tiny gradients that the image sum only knows to ~1e-16 K0/h. */
static PetscErrorCode TestTileVsReference(KfKernel k, const Case *c, const Tile *t, PetscReal k0, PetscReal len)
{
  PetscReal grad[KF_MAX_DIM * LDT], pot[LDT], rg[KF_MAX_DIM * LDT], rp[LDT], gabs[LDT], pabs[LDT], gmax = 0, pmax = 0;
  KfTestErr eg, ep;
  char      where[200];

  PetscFunctionBeginUser;
  RunTile(k, c, t, NT, t->xt, grad, pot);
  PetscCall(ReferenceSums(k, c, t, NT, rg, rp, gabs, pabs));
  for (PetscInt i = 0; i < NT; i++) {
    gmax = PetscMax(gmax, PetscMax(gabs[i], len > 0 ? pabs[i] / len : 0));
    pmax = PetscMax(pmax, PetscMax(pabs[i], PetscAbsReal(k0)));
  }
  KfTestErrReset(&eg);
  KfTestErrReset(&ep);
  for (PetscInt i = 0; i < NT; i++) {
    for (PetscInt d = 0; d < c->dim; d++) {
      PetscCall(PetscSNPrintf(where, sizeof(where), "target %d comp %d: tile %.17g, reference %.17g (scale %.3g)", (int)i, (int)d, (double)grad[d * LDT + i], (double)rg[d * LDT + i], (double)gmax));
      PetscCall(KfTestErrUpdate(&eg, PetscAbsReal(grad[d * LDT + i] - rg[d * LDT + i]) / gmax, where));
    }
    PetscCall(PetscSNPrintf(where, sizeof(where), "target %d: tile %.17g, reference %.17g (scale %.3g)", (int)i, (double)pot[i], (double)rp[i], (double)pmax));
    PetscCall(KfTestErrUpdate(&ep, PetscAbsReal(pot[i] - rp[i]) / pmax, where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "tile grad vs scalar loop of KfKernelEval", &eg, c->tol));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "tile pot vs scalar loop of KfKernelEval", &ep, c->tol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Bitwise: each target's result depends only on itself and the sources. The targets are rotated by 11 (so
  they change lane, and move between the paired blocks and the single trailing block of nt = 40), then
  evaluated 8 at a time; the gradient without the potential must equal the one with it.
*/
static PetscErrorCode TestTileBitwise(KfKernel k, const Case *c, const Tile *t)
{
  PetscReal g0[KF_MAX_DIM * LDT], p0[LDT], g1[KF_MAX_DIM * LDT], p1[LDT], xt[KF_MAX_DIM * LDT], gn[KF_MAX_DIM * LDT];
  PetscInt  ndiff = 0, ndiff8 = 0, ndiffpot = 0;
  char      where[200];

  PetscFunctionBeginUser;
  RunTile(k, c, t, NT, t->xt, g0, p0);
  for (PetscInt d = 0; d < c->dim; d++)
    for (PetscInt i = 0; i < NT; i++) xt[d * LDT + (i + 11) % NT] = t->xt[d * LDT + i];
  RunTile(k, c, t, NT, xt, g1, p1);
  for (PetscInt i = 0; i < NT; i++) {
    const PetscInt ii = (i + 11) % NT;

    ndiff += memcmp(&p0[i], &p1[ii], sizeof(PetscReal)) != 0;
    for (PetscInt d = 0; d < c->dim; d++) ndiff += memcmp(&g0[d * LDT + i], &g1[d * LDT + ii], sizeof(PetscReal)) != 0;
  }
  for (PetscInt i0 = 0; i0 < NT; i0 += 8) { /* tiles of one block: nt = 8 */
    for (PetscInt i = 0; i < KF_MAX_DIM * LDT; i++) g1[i] = p1[i % LDT] = 0;
    KfKernelTile(k, 8, LDT, xt + i0, NS, LDS, t->xs, t->qs, g1 + i0, p1 + i0);
    for (PetscInt i = 0; i < 8; i++) {
      const PetscInt orig = (i0 + i + NT - 11) % NT;

      ndiff8 += memcmp(&p0[orig], &p1[i0 + i], sizeof(PetscReal)) != 0;
      for (PetscInt d = 0; d < c->dim; d++) ndiff8 += memcmp(&g0[d * LDT + orig], &g1[d * LDT + i0 + i], sizeof(PetscReal)) != 0;
    }
  }
  for (PetscInt i = 0; i < KF_MAX_DIM * LDT; i++) gn[i] = 0;
  KfKernelTile(k, NT, LDT, t->xt, NS, LDS, t->xs, t->qs, gn, NULL);
  for (PetscInt i = 0; i < NT; i++)
    for (PetscInt d = 0; d < c->dim; d++) ndiffpot += memcmp(&g0[d * LDT + i], &gn[d * LDT + i], sizeof(PetscReal)) != 0;
  PetscCall(PetscSNPrintf(where, sizeof(where), "%d values differ after rotation, %d in tiles of 8, %d gradients differ without pot", (int)ndiff, (int)ndiff8, (int)ndiffpot));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "tile bitwise independent of lane, nt, pot (count)", (PetscReal)(ndiff + ndiff8 + ndiffpot), 0, where));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A source exactly on target 3 (on the torus at the wrap point x = 0): gradient exactly 0, potential K0. */
static PetscErrorCode TestTileCoincident(KfKernel k, const Case *c, PetscReal k0, PetscReal tol)
{
  PetscReal xt[KF_MAX_DIM * 8], xs[KF_MAX_DIM], q = 1, g[KF_MAX_DIM * 8], p[8], nonzero = 0;
  char      where[200];

  PetscFunctionBeginUser;
  for (PetscInt d = 0; d < c->dim; d++) {
    for (int i = 0; i < 8; i++) xt[d * 8 + i] = c->L > 0 ? c->L * Rand() : 2 * Rand() - 1;
    if (c->L > 0 && d == 0) xt[3] = 0;
    xs[d] = xt[d * 8 + 3];
  }
  for (int i = 0; i < 8 * KF_MAX_DIM; i++) g[i] = p[i % 8] = 0;
  KfKernelTile(k, 8, 8, xt, 1, 1, xs, &q, g, p);
  for (PetscInt d = 0; d < c->dim; d++) nonzero += g[d * 8 + 3] != 0;
  PetscCall(PetscSNPrintf(where, sizeof(where), "grad (%g, %g, %g), pot %.17g, K0 %.17g", (double)g[3], (double)(c->dim > 1 ? g[11] : 0), (double)(c->dim > 2 ? g[19] : 0), (double)p[3], (double)k0));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "coincident pair: grad exactly 0, pot K0 (rel)", nonzero ? 1 : PetscAbsReal(p[3] - k0) / PetscMax(PetscAbsReal(k0), 1e-300), tol, where));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestTile(KfKernel k, const Case *c, PetscReal scale, PetscReal len)
{
  Tile      t;
  PetscReal k0;
  PetscBool finite;

  PetscFunctionBeginUser;
  PetscCall(KfKernelSelfValue(k, &k0, &finite));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "self value finite", finite ? 0 : 1, 0, "K(0) reported infinite"));
  MakeTile(c, scale, &t);
  PetscCall(TestTileVsReference(k, c, &t, k0, len));
  PetscCall(TestTileBitwise(k, c, &t));
  PetscCall(TestTileCoincident(k, c, k0, k0 == 0 ? 0 : 4e-15));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ periodised gaussian */

/*
  Fourier coefficient of the periodised Gaussian under the normalised measure m_L:
  L^-d int_{R^d} exp(-|x|^2/(2h^2)) e^{-2 pi i k.x/L} dx = (sqrt(2 pi) h/L)^d exp(-2 pi^2 h^2 |k|^2/L^2).
*/
static PetscErrorCode TestGaussFourier(KfKernel k, PetscInt dim, PetscReal h, PetscReal L)
{
  const PetscInt  kmax = (PetscInt)ceil(1.5 * L / h) + 1;
  const PetscReal pre = PetscPowReal(PetscSqrtReal(TWOPI) * h / L, (PetscReal)dim), a = 2 * PETSC_PI * PETSC_PI * h * h / (L * L);
  PetscReal       k0;
  PetscBool       finite;
  KfTestErr       e;
  char            where[200];

  PetscFunctionBeginUser;
  PetscCall(KfKernelSelfValue(k, &k0, &finite));
  KfTestErrReset(&e);
  for (int i = 0; i < 4; i++) {
    PetscReal r[KF_MAX_DIM] = {0, 0, 0}, K, g[KF_MAX_DIM], Kf = 0, gf[KF_MAX_DIM] = {0, 0, 0};
    PetscInt  kk[KF_MAX_DIM] = {0, 0, 0};

    for (PetscInt d = 0; d < dim; d++) r[d] = i ? L * (2 * Rand() - 0.5) : 0.5 * L;
    PetscCall(KfKernelEval(k, r, &K, g));
    for (PetscInt n = 0; n < (PetscInt)pow(2 * kmax + 1, dim); n++) {
      PetscReal k2 = 0, ph = 0, w;
      PetscInt  m = n;

      for (PetscInt d = 0; d < dim; d++) {
        kk[d] = m % (2 * kmax + 1) - kmax;
        m /= 2 * kmax + 1;
        k2 += (PetscReal)(kk[d] * kk[d]);
        ph += TWOPI * kk[d] * r[d] / L;
      }
      w = pre * exp(-a * k2);
      Kf += w * cos(ph);
      for (PetscInt d = 0; d < dim; d++) gf[d] -= w * TWOPI * kk[d] / L * sin(ph);
    }
    PetscCall(PetscSNPrintf(where, sizeof(where), "r = (%.6g, %.6g, %.6g): K %.17g, Fourier %.17g", (double)r[0], (double)r[1], (double)r[2], (double)K, (double)Kf));
    PetscCall(KfTestErrUpdate(&e, PetscAbsReal(K - Kf) / k0, where));
    for (PetscInt d = 0; d < dim; d++) PetscCall(KfTestErrUpdate(&e, PetscAbsReal(g[d] - gf[d]) * h / k0, where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K and h grad K vs Fourier series (rel. to K(0))", &e, 1e-13));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ explicit values */

static PetscErrorCode TestExplicit(void)
{
  const Case c1 = {"sobolev", "torus", 1, 1, 1, {{NULL, NULL}}, 0}, c2 = {"sobolev", "torus", 1, 2, 1, {{NULL, NULL}}, 0}, c3 = {"sobolev", "torus", 1, 1, TWOPI, {{NULL, NULL}}, 0};
  KfKernel   k;
  PetscReal  k0, K, g[KF_MAX_DIM];
  PetscBool  finite;
  KfTestErr  e;
  char       where[200];

  PetscFunctionBeginUser;
  PetscCall(CreateCase(&c1, &k));
  PetscCall(KfKernelSelfValue(k, &k0, &finite));
  PetscCall(PetscSNPrintf(where, sizeof(where), "K_1(0) = %.17g", (double)k0));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "K_1(0) = 1/12 (L = 1)", PetscAbsReal(k0 - 1.0 / 12), 1e-15, where));
  PetscCall(TestTileCoincident(k, &c1, 1.0 / 12, 1e-15));
  PetscCall(KfKernelDestroy(&k));
  PetscCall(CreateCase(&c2, &k));
  PetscCall(KfKernelSelfValue(k, &k0, &finite));
  PetscCall(PetscSNPrintf(where, sizeof(where), "K_2(0) = %.17g", (double)k0));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "K_2(0) = 1/720 (L = 1)", PetscAbsReal(k0 - 1.0 / 720), 1e-15, where));
  PetscCall(KfKernelDestroy(&k));
  /* Spec A.3: L = 2 pi, s = 1, x in [0, 2 pi): K = x^2/2 - pi x + pi^2/3, K' = x - pi. */
  PetscCall(CreateCase(&c3, &k));
  KfTestErrReset(&e);
  for (int i = 0; i < 50; i++) {
    const PetscReal x = i ? TWOPI * Rand() : 0, want = x * x / 2 - PETSC_PI * x + PETSC_PI * PETSC_PI / 3, dwant = i ? x - PETSC_PI : 0;
    PetscReal       xt[8], xs = 0, q = 1, gt[8] = {0}, pt[8] = {0};

    PetscCall(KfKernelEval(k, &x, &K, g));
    for (int l = 0; l < 8; l++) xt[l] = x;
    KfKernelTile(k, 8, 8, xt, 1, 1, &xs, &q, gt, pt);
    PetscCall(PetscSNPrintf(where, sizeof(where), "x = %.17g: K %.17g, tile %.17g, want %.17g; K' %.17g, tile %.17g, want %.17g", (double)x, (double)K, (double)pt[0], (double)want, (double)g[0], (double)gt[0], (double)dwant));
    PetscCall(KfTestErrUpdate(&e, PetscMax(PetscMax(PetscAbsReal(K - want), PetscAbsReal(pt[0] - want)), PetscMax(PetscAbsReal(g[0] - dwant), PetscAbsReal(gt[0] - dwant))) / (PETSC_PI * PETSC_PI), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "L = 2pi, s = 1: x^2/2 - pi x + pi^2/3, K' = x - pi", &e, 2e-15));
  PetscCall(KfKernelDestroy(&k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ bad input */

typedef struct {
  const char    *opts[4][2];
  PetscInt       dim;
  PetscReal      s, L;
  PetscErrorCode want;
  const char    *what;
} BadCase;

static PetscErrorCode TestBadInput(void)
{
  const BadCase bad[] = {
      {{{"-kernel", "foo"}}, 1, 1, 1, KF_ERR_INPUT, "-kernel foo"},
      {{{"-domain", "box"}}, 1, 1, 1, KF_ERR_INPUT, "-domain box"},
      {{{"-kernel", "gaussian"}, {"-kernel_h", "0"}}, 1, 1, 1, KF_ERR_INPUT, "-kernel_h 0"},
      {{{"-kernel", "gaussian"}, {"-kernel_h", "7"}}, 1, 1, TWOPI, KF_ERR_INPUT, "-kernel_h 7 > L on the torus"},
      {{{"-domain", "free"}, {"-kernel", "riesz"}, {"-kernel_q", "2"}}, 3, 1, 1, KF_ERR_INPUT, "-kernel_q 2"},
      {{{"-domain", "free"}, {"-kernel", "imq"}, {"-kernel_beta", "-1"}}, 2, 1, 1, KF_ERR_INPUT, "-kernel_beta -1"},
      {{{"-domain", "free"}, {"-kernel", "imq"}, {"-kernel_c", "0"}}, 2, 1, 1, KF_ERR_INPUT, "-kernel_c 0"},
      {{{"-domain", "free"}, {"-kernel", "sobolev"}}, 1, 1, 1, KF_ERR_INPUT, "-domain free -kernel sobolev"},
      {{{"-kernel", "riesz"}}, 1, 1, 1, KF_ERR_INPUT, "-kernel riesz on the torus"},
      {{{"-kernel", "sobolev"}, {"-ewald_tol", "0.1"}}, 2, 1, 1, KF_ERR_INPUT, "sobolev d = 2 -ewald_tol 0.1"},
      {{{"-kernel", "sobolev"}}, 3, 50, 1, KF_ERR_INPUT, "sobolev d = 3 -s 50"},
      {{{"-domain", "free"}, {"-kernel", "riesz"}, {"-kernel_q", "0"}}, 3, 1, 1, KF_ERR_INPUT, "-kernel_q 0"},
      {{{"-kernel", "sobolev"}}, 1, 0.5, 1, KF_ERR_INPUT, "sobolev -s 0.5"},
      {{{"-kernel", "sobolev"}}, 1, 1.5004, 1, KF_ERR_INPUT, "sobolev -s 1.5004 (near 3/2)"},
  };
  char where[200];

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "bad input", sizeof(label)));
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    KfParams       p;
    KfKernel       k = NULL;
    PetscErrorCode ierr;
    char           what[80];

    PetscCall(MakeParams(bad[i].dim, bad[i].s, bad[i].L, &p));
    for (int j = 0; j < 4 && bad[i].opts[j][0]; j++) PetscCall(PetscOptionsSetValue(NULL, bad[i].opts[j][0], bad[i].opts[j][1]));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = KfKernelCreate(PETSC_COMM_WORLD, &p, &k);
    PetscCall(PetscPopErrorHandler());
    for (int j = 0; j < 4 && bad[i].opts[j][0]; j++) PetscCall(PetscOptionsClearValue(NULL, bad[i].opts[j][0]));
    PetscCall(KfKernelDestroy(&k));
    PetscCall(PetscSNPrintf(what, sizeof(what), "%s raises error %d", bad[i].what, (int)bad[i].want));
    PetscCall(PetscSNPrintf(where, sizeof(where), "KfKernelCreate returned %d", (int)ierr));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, what, ierr == bad[i].want ? 0 : 1, 0, where));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------------------------ driver */

static PetscErrorCode RunCase(const Case *c)
{
  KfKernel  k;
  PetscReal h     = c->opt[0][0] && !strcmp(c->opt[0][0], "-kernel_h") ? atof(c->opt[0][1]) : 1;
  PetscReal scale = c->L > 0 ? c->L : 2.0;

  PetscFunctionBeginUser;
  PetscCall(CreateCase(c, &k));
  if (!strcmp(c->kernel, "sobolev")) PetscCall(TestSobolevFourier(k, c->s, c->L));
  if (!strcmp(c->kernel, "gaussian") && c->L > 0) PetscCall(TestGaussFourier(k, c->dim, h, c->L));
  if (!strcmp(c->kernel, "gaussian") || !strcmp(c->kernel, "laplace")) scale = PetscMin(scale, 2 * h);
  PetscCall(TestFiniteDifferences(k, c, scale));
  PetscCall(TestTile(k, c, c->L > 0 ? c->L : 2.0, !strcmp(c->kernel, "gaussian") && c->L > 0 ? h : 0));
  PetscCall(KfKernelDestroy(&k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  static const Case cases[] = {
      {"sobolev", "torus", 1, 1, 1, {{NULL, NULL}}, 1e-14},
      {"sobolev", "torus", 1, 2, TWOPI, {{NULL, NULL}}, 1e-14},
      {"sobolev", "torus", 1, 3, 1, {{NULL, NULL}}, 1e-14},
      {"sobolev", "torus", 1, 3, TWOPI, {{NULL, NULL}}, 1e-14},
      {"sobolev", "torus", 1, 5, 1, {{NULL, NULL}}, 1e-13},
      {"sobolev", "torus", 1, 8, TWOPI, {{NULL, NULL}}, 1e-13},
      {"sobolev", "torus", 1, 1.25, 1, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 1.25, TWOPI, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 1.75, 1, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 2.5, 1, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 2.5, TWOPI, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 1.5, 1, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 0.75, 1, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 3.3, TWOPI, {{NULL, NULL}}, 3e-14},
      {"sobolev", "torus", 1, 9, 1, {{NULL, NULL}}, 3e-14},
      {"gaussian", "torus", 1, 1, 1, {{"-kernel_h", "0.05"}}, 1e-14},
      {"gaussian", "torus", 1, 1, TWOPI, {{"-kernel_h", "1"}}, 1e-14},
      {"gaussian", "torus", 2, 1, 1, {{"-kernel_h", "0.3"}}, 1e-14},
      {"gaussian", "torus", 2, 1, TWOPI, {{"-kernel_h", "6.2"}}, 1e-14},
      {"gaussian", "torus", 3, 1, 1, {{"-kernel_h", "0.12"}}, 1e-14},
      {"gaussian", "torus", 3, 1, TWOPI, {{"-kernel_h", "2"}}, 1e-14},
      {"gaussian", "free", 1, 1, 0, {{"-kernel_h", "0.7"}}, 1e-14},
      {"gaussian", "free", 3, 1, 0, {{"-kernel_h", "1.3"}}, 1e-14},
      {"imq", "free", 1, 1, 0, {{NULL, NULL}}, 1e-14},
      {"imq", "free", 3, 1, 0, {{"-kernel_c", "0.5"}}, 1e-14},
      {"imq", "free", 2, 1, 0, {{"-kernel_c", "0.5"}, {"-kernel_beta", "1.3"}}, 3e-14},
      {"riesz", "free", 1, 1, 0, {{NULL, NULL}}, 1e-14},
      {"riesz", "free", 2, 1, 0, {{NULL, NULL}}, 1e-14},
      {"riesz", "free", 3, 1, 0, {{NULL, NULL}}, 1e-14},
      {"riesz", "free", 3, 1, 0, {{"-kernel_q", "0.5"}}, 3e-14},
      {"riesz", "free", 2, 1, 0, {{"-kernel_q", "1.5"}}, 3e-14},
      {"laplace", "free", 1, 1, 0, {{"-kernel_h", "0.8"}}, 1e-14},
      {"laplace", "free", 3, 1, 0, {{"-kernel_h", "0.8"}}, 1e-14},
  };
  PetscMPIInt rank, size;
  KfParams    p;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  rng_state = 0x9E3779B97F4A7C15ULL * (uint64_t)(rank + 1);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_kernel on %d rank%s\n", size, size > 1 ? "s" : ""));
  PetscCall(TestElementary());
  PetscCall(TestExplicit());
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) PetscCall(RunCase(&cases[i]));
  PetscCall(TestBadInput());
  PetscCall(MakeParams(1, 1, 1, &p));
  PetscCall(KfKernelHelp(PETSC_COMM_WORLD, &p)); /* prints only with -help; must not fail */
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  return KfTestMain(argc, argv, "Unit tests of the pair-kernel registry\n", RunAll);
}
