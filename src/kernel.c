/* kernel.c - pair kernels of the particle mode: registry and options, scalar reference, SIMD tile

   Three layers. (1) A SIMD layer of 8-double registers: AVX-512 intrinsics when the build has them,
   otherwise plain lane loops over the same operations (correct everywhere, fast only with AVX-512).
   (2) Vectorised exp, log and rsqrt built on it: libm's do not vectorise without -ffast-math, which the
   project forbids because it breaks bitwise reproducibility. (3) One "pair" function per kernel variant
   that adds one source's contribution to 8 targets; a shared skeleton streams the sources past blocks of
   targets held in registers. Every target lane executes the same instruction sequence over j = 0..ns-1,
   so a target's sum never depends on its neighbours, its lane or the tile size.

   The scalar reference (KfKernelEval) uses libm and independent formulas where possible (Bernoulli
   polynomials in {x} instead of the tile's centred form, a wider image sum), so the tests compare two
   implementations. */
#include "kf_kernel.h"
#include "kf_ewald.h"
#include <float.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_zeta.h>
#include <math.h>
#if defined(__AVX512F__)
#  include <immintrin.h>
#endif

#if !defined(PETSC_USE_REAL_DOUBLE)
#  error "the kernel tile works on doubles: PETSc must be configured with double-precision PetscReal"
#endif

#define W KF_KERNEL_WIDTH

/* ============================================================================ SIMD layer */

#if defined(__AVX512F__)
typedef __m512d  V;
typedef __mmask8 M;

static inline V VSet(double a)
{
  return _mm512_set1_pd(a);
}
static inline V VLoad(const double *p)
{
  return _mm512_loadu_pd(p);
}
static inline void VStore(double *p, V a)
{
  _mm512_storeu_pd(p, a);
}
static inline V VAdd(V a, V b)
{
  return _mm512_add_pd(a, b);
}
static inline V VSub(V a, V b)
{
  return _mm512_sub_pd(a, b);
}
static inline V VMul(V a, V b)
{
  return _mm512_mul_pd(a, b);
}
static inline V VDiv(V a, V b)
{
  return _mm512_div_pd(a, b);
}
static inline V VMax(V a, V b)
{
  return _mm512_max_pd(a, b);
}
/* a b + c */
static inline V VFma(V a, V b, V c)
{
  return _mm512_fmadd_pd(a, b, c);
}
/* c - a b */
static inline V VFnma(V a, V b, V c)
{
  return _mm512_fnmadd_pd(a, b, c);
}
/* a b - c */
static inline V VFms(V a, V b, V c)
{
  return _mm512_fmsub_pd(a, b, c);
}
static inline M VLt(V a, V b)
{
  return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ);
}
static inline M VGe(V a, V b)
{
  return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ);
}
static inline M VNe(V a, V b)
{
  return _mm512_cmp_pd_mask(a, b, _CMP_NEQ_UQ);
}
static inline V VZeroUnless(M m, V a)
{
  return _mm512_maskz_mov_pd(m, a);
}
/* m ? a + b : a */
static inline V VAddIf(M m, V a, V b)
{
  return _mm512_mask_add_pd(a, m, a, b);
}
/* m ? a b + c : c */
static inline V VFmaIf(M m, V a, V b, V c)
{
  return _mm512_mask3_fmadd_pd(a, b, c, m);
}
/* m ? a b + c : 0 */
static inline V VFmaZ(M m, V a, V b, V c)
{
  return _mm512_maskz_fmadd_pd(m, a, b, c);
}
static inline V VRound(V a)
{
  return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* a 2^k, k integral; rounds (sub)normals correctly */
static inline V VScalef(V a, V k)
{
  return _mm512_scalef_pd(a, k);
}
/* floor(log2 a) */
static inline V VGetexp(V a)
{
  return _mm512_getexp_pd(a);
}
static inline V VGetmant(V a)
{
  return _mm512_getmant_pd(a, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_src);
}
/* relative error < 2^-14 */
static inline V VRsqrtEst(V a)
{
  return _mm512_rsqrt14_pd(a);
}
/* a with its sign flipped where b is negative: one vpternlogq, A ^ (B & C) */
static inline V VXorSign(V a, V b)
{
  const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ULL);

  return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(a), _mm512_castpd_si512(b), sign, 0x78));
}
#else
/* Portable lanes: the same operations one double at a time (fma and the rounding functions are exact). */
typedef struct {
  double v[W];
} V;
typedef unsigned M;

#  define LANES(expr)                               \
    do {                                            \
      V r_;                                         \
      for (int l = 0; l < W; l++) r_.v[l] = (expr); \
      return r_;                                    \
    } while (0)
#  define MASK(expr)                                    \
    do {                                                \
      M m_ = 0;                                         \
      for (int l = 0; l < W; l++) m_ |= (M)(expr) << l; \
      return m_;                                        \
    } while (0)
#  define ON(m) (((m) >> l) & 1u)

static inline V VSet(double a)
{
  LANES(a);
}
static inline V VLoad(const double *p)
{
  LANES(p[l]);
}
static inline void VStore(double *p, V a)
{
  for (int l = 0; l < W; l++) p[l] = a.v[l];
}
static inline V VAdd(V a, V b)
{
  LANES(a.v[l] + b.v[l]);
}
static inline V VSub(V a, V b)
{
  LANES(a.v[l] - b.v[l]);
}
static inline V VMul(V a, V b)
{
  LANES(a.v[l] * b.v[l]);
}
static inline V VDiv(V a, V b)
{
  LANES(a.v[l] / b.v[l]);
}
static inline V VMax(V a, V b)
{
  LANES(a.v[l] > b.v[l] ? a.v[l] : b.v[l]);
}
static inline V VFma(V a, V b, V c)
{
  LANES(fma(a.v[l], b.v[l], c.v[l]));
}
static inline V VFnma(V a, V b, V c)
{
  LANES(fma(-a.v[l], b.v[l], c.v[l]));
}
static inline V VFms(V a, V b, V c)
{
  LANES(fma(a.v[l], b.v[l], -c.v[l]));
}
static inline M VLt(V a, V b)
{
  MASK(a.v[l] < b.v[l]);
}
static inline M VGe(V a, V b)
{
  MASK(a.v[l] >= b.v[l]);
}
static inline M VNe(V a, V b)
{
  MASK(a.v[l] != b.v[l]);
}
static inline V VZeroUnless(M m, V a)
{
  LANES(ON(m) ? a.v[l] : 0.0);
}
static inline V VAddIf(M m, V a, V b)
{
  LANES(ON(m) ? a.v[l] + b.v[l] : a.v[l]);
}
static inline V VFmaIf(M m, V a, V b, V c)
{
  LANES(ON(m) ? fma(a.v[l], b.v[l], c.v[l]) : c.v[l]);
}
static inline V VFmaZ(M m, V a, V b, V c)
{
  LANES(ON(m) ? fma(a.v[l], b.v[l], c.v[l]) : 0.0);
}
static inline V VRound(V a)
{
  LANES(nearbyint(a.v[l]));
}
static inline V VScalef(V a, V k)
{
  LANES(ldexp(a.v[l], (int)k.v[l]));
}
static inline V VGetexp(V a)
{
  LANES(logb(a.v[l]));
}
static inline double Mant75(double x)
{
  double m = x == 0 ? 0 : scalbn(x, -ilogb(x));

  return m >= 1.5 ? 0.5 * m : m;
}
static inline V VGetmant(V a)
{
  LANES(Mant75(a.v[l]));
}
static inline V VRsqrtEst(V a)
{
  LANES(1.0 / sqrt(a.v[l]));
}
static inline V VXorSign(V a, V b)
{
  LANES(signbit(b.v[l]) ? -a.v[l] : a.v[l]);
}
#endif

/* ============================================================================ exp, log, rsqrt */

#define LOG2E 1.4426950408889634074
#define LN2_HI 6.93147180369123816490e-01 /* 32 significant bits: k LN2_HI is exact for |k| < 2^21 */
#define LN2_LO 1.90821492927058770002e-10

/* Degree-11 fit of exp on [-ln2/2, ln2/2] (Chebyshev, 50 digits; relative error 1.7e-17 with these doubles). */
static const double exp_c[12] = {1.0, 1.0, 0.50000000000000189, 0.1666666666666668, 0.041666666666488099, 0.0083333333333196011, 0.0013888888952314775, 0.00019841269890047113,
                                 2.4801485482328494e-05, 2.755724091857897e-06, 2.7632639639041029e-07, 2.5110037605963777e-08};

/* exp(x) = 2^k exp(r), r = x - k ln2 (Cody-Waite); scalef does the 2^k including gradual underflow. */
static inline V VExp(V x)
{
  const V xc = VMax(x, VSet(-746.0)); /* exp(-746) rounds to 0; keeps k and r finite */
  const V k  = VRound(VMul(xc, VSet(LOG2E)));
  V       r  = VFnma(k, VSet(LN2_HI), xc);
  V       p  = VSet(exp_c[11]);

  r = VFnma(k, VSet(LN2_LO), r);
  for (int i = 10; i >= 0; i--) p = VFma(p, r, VSet(exp_c[i]));
  return VScalef(p, k);
}

/* R(z)/z for log(1+f) = f - (f^2/2 - s (f^2/2 + R)), s = f/(2+f), z = s^2 <= 1/25 (fit, error < 0.01 ulp). */
static const double log_c[8] = {0.66666666666666663, 0.40000000000007802, 0.28571428567339191, 0.22222223037807243, 0.18181738454723026, 0.15388834677801916, 0.13210360485132619, 0.13604015707124079};

/* log(x) = e ln2 + log(m), m in [3/4, 3/2) from getmant; fdlibm's splitting keeps the large term f exact. */
static inline V VLog(V x)
{
  const V m = VGetmant(x), one = VSet(1.0);
  const V e = VAddIf(VLt(m, one), VGetexp(x), one);
  const V f = VSub(m, one), s = VDiv(f, VAdd(f, VSet(2.0)));
  const V z = VMul(s, s), hfsq = VMul(VMul(f, VSet(0.5)), f);
  V       p = VSet(log_c[7]);

  for (int i = 6; i >= 0; i--) p = VFma(p, z, VSet(log_c[i]));
  p = VAdd(f, VFms(s, VAdd(hfsq, VMul(z, p)), hfsq));
  return VFma(e, VSet(LN2_HI), VFma(e, VSet(LN2_LO), p));
}

/* 1/sqrt(x) for normal x > 0: the 14-bit estimate y, then y (1 - e)^{-1/2} with e = 1 - x y^2 to order e^3
   (the dropped e^4 term is below 0.6 ulp for |e| < 2^-13); lanes outside nz give 0 (the final fma is
   zero-masked, so it costs nothing extra). */
static inline V VRsqrtNz(M nz, V x)
{
  const V y = VRsqrtEst(x);
  const V e = VFnma(VMul(x, y), y, VSet(1.0));
  const V p = VFma(VFma(e, VSet(5.0 / 16), VSet(3.0 / 8)), e, VSet(0.5));

  return VFmaZ(nz, VMul(y, e), p, y);
}

void KfKernelVecExp(PetscInt n, const PetscReal *in, PetscReal *out)
{
  for (PetscInt i = 0; i < n; i += W) VStore(out + i, VExp(VLoad(in + i)));
}

void KfKernelVecLog(PetscInt n, const PetscReal *in, PetscReal *out)
{
  for (PetscInt i = 0; i < n; i += W) VStore(out + i, VLog(VLoad(in + i)));
}

void KfKernelVecRsqrt(PetscInt n, const PetscReal *in, PetscReal *out)
{
  for (PetscInt i = 0; i < n; i += W) {
    const V x = VLoad(in + i);

    VStore(out + i, VRsqrtNz(VGe(x, VSet(DBL_MIN)), x));
  }
}

/* Operation counts of the primitives above, in KfKernelOps units (see kf_kernel.h). */
static const KfKernelOps ops_exp   = {14, 3, 1, 0, 27};
static const KfKernelOps ops_log   = {14, 8, 0, 1, 30};
static const KfKernelOps ops_rsqrt = {6, 1, 2, 0, 11};

/* ============================================================================ the kernel object */

#define SER_MAX 32 /* terms of the even power series of non-integer sobolev kernels */
#define BERN_MAX 8 /* largest integer s done by Bernoulli polynomials */

typedef void (*TileFn)(KfKernel, PetscInt, PetscInt, const PetscReal *, PetscInt, PetscInt, const PetscReal *, const PetscReal *, PetscReal *, PetscReal *);
typedef void (*EvalFn)(KfKernel, const PetscReal[], PetscReal *, PetscReal[]);
typedef void (*OpsFn)(KfKernel, PetscBool, KfKernelOps *);

/* One implementation of a kernel: its tile for d = 1..3 (with and without potential), reference and cost. */
typedef struct {
  TileFn tile[KF_MAX_DIM][2];
  EvalFn eval;
  OpsFn  ops;
} Variant;

struct _p_KfKernel {
  const Variant *var;
  KfDomain       domain;
  PetscInt       kind, dim;
  PetscReal      L, s, h, c, beta, q; /* parameters as given */
  /* derived constants of the hot loop */
  PetscReal invL, gscale, pscale; /* grad += gscale * acc, pot += pscale * acc */
  PetscReal a0, a1, a2;           /* variant-specific scalars, named where they are set */
  PetscInt  nimg, m0, nser;
  PetscReal ser[SER_MAX], dser[SER_MAX]; /* potential / gradient polynomial coefficients */
  PetscReal k0;
  PetscBool finite;
  KfEwald   ewald;     /* sobolev in d >= 2: the tile sums the short-range part */
  PetscReal ewald_tol, kshort0; /* kshort0: the tile's value at r = 0, K(0) - K_long(0) (or -K_long(0) if K(0) is infinite) */
  char      desc[200];
};

const char *const KfDomains[] = {"torus", "free", "KfDomain", "KF_DOMAIN_", NULL};

/* ============================================================================ the tile skeleton */

typedef struct {
  V g[KF_MAX_DIM], p;
} Acc;

/* Adds source (xs, q) to the 8 targets xt; dim and pot are compile-time constants after inlining. */
typedef void (*PairFn)(KfKernel, int, int, const V *, const V *, V, Acc *);

#define KF_INLINE static inline __attribute__((always_inline))

/* nb blocks of 8 targets share each source load; nb = 2 gives two independent accumulator chains,
   which hides the FMA latency of the cheapest kernels. */
KF_INLINE void TileBlocks(KfKernel k, int dim, int pot, PairFn pair, int nb, PetscInt i0, PetscInt ldt, const PetscReal *xt, PetscInt ns, PetscInt lds, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *potv)
{
  V   x[2][KF_MAX_DIM];
  Acc acc[2];

  for (int b = 0; b < nb; b++) {
    for (int c = 0; c < dim; c++) {
      x[b][c]     = VLoad(xt + c * ldt + i0 + b * W);
      acc[b].g[c] = VSet(0.0);
    }
    acc[b].p = VSet(0.0);
  }
  for (PetscInt j = 0; j < ns; j++) {
    V y[KF_MAX_DIM];

    for (int c = 0; c < dim; c++) y[c] = VSet(xs[c * lds + j]);
    for (int b = 0; b < nb; b++) pair(k, dim, pot, x[b], y, VSet(qs[j]), &acc[b]);
  }
  for (int b = 0; b < nb; b++) {
    const PetscInt i = i0 + b * W;

    for (int c = 0; c < dim; c++) VStore(grad + c * ldt + i, VFma(VSet(k->gscale), acc[b].g[c], VLoad(grad + c * ldt + i)));
    if (pot) VStore(potv + i, VFma(VSet(k->pscale), acc[b].p, VLoad(potv + i)));
  }
}

KF_INLINE void TileRun(KfKernel k, int dim, int pot, PairFn pair, PetscInt nt, PetscInt ldt, const PetscReal *xt, PetscInt ns, PetscInt lds, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *potv)
{
  PetscInt i = 0;

  for (; i + 2 * W <= nt; i += 2 * W) TileBlocks(k, dim, pot, pair, 2, i, ldt, xt, ns, lds, xs, qs, grad, potv);
  for (; i < nt; i += W) TileBlocks(k, dim, pot, pair, 1, i, ldt, xt, ns, lds, xs, qs, grad, potv);
}

/* clang-format off */
#define KF_TILE(NAME, PAIR, DIM, POT) \
  static void NAME##_##DIM##POT(KfKernel k, PetscInt nt, PetscInt ldt, const PetscReal *xt, PetscInt ns, PetscInt lds, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *pot) \
  { \
    TileRun(k, DIM, POT, PAIR, nt, ldt, xt, ns, lds, xs, qs, grad, pot); \
  }
#define KF_TILES_1D(NAME, PAIR) KF_TILE(NAME, PAIR, 1, 0) KF_TILE(NAME, PAIR, 1, 1)
#define KF_TILES(NAME, PAIR)    KF_TILES_1D(NAME, PAIR) KF_TILE(NAME, PAIR, 2, 0) KF_TILE(NAME, PAIR, 2, 1) KF_TILE(NAME, PAIR, 3, 0) KF_TILE(NAME, PAIR, 3, 1)
#define KF_TILE_TABLE_1D(NAME)  {{NAME##_10, NAME##_11}, {NULL, NULL}, {NULL, NULL}}
#define KF_TILE_TABLE(NAME)     {{NAME##_10, NAME##_11}, {NAME##_20, NAME##_21}, {NAME##_30, NAME##_31}}
/* clang-format on */

/* Displacements and squared distance of free-space kernels. */
KF_INLINE V Displace(int dim, const V *xt, const V *xs, V *d)
{
  V r2;

  d[0] = VSub(xt[0], xs[0]);
  r2   = VMul(d[0], d[0]);
  for (int c = 1; c < dim; c++) {
    d[c] = VSub(xt[c], xs[c]);
    r2   = VFma(d[c], d[c], r2);
  }
  return r2;
}

/* g_c += w d_c: the radial kernels' gradient, w = q K'(|r|)/|r| up to the constant gscale. */
KF_INLINE void AddRadial(int dim, V w, const V *d, Acc *a)
{
  for (int c = 0; c < dim; c++) a->g[c] = VFma(w, d[c], a->g[c]);
}

/* sum_i c[i] x^i by Horner; fully unrolled so that the chains of neighbouring blocks can interleave. */
KF_INLINE V Horner(const PetscReal *c, int n, V x)
{
  V p = VSet(c[n - 1]);

#pragma GCC unroll 32
  for (int i = n - 2; i >= 0; i--) p = VFma(p, x, VSet(c[i]));
  return p;
}

/* ============================================================================ sobolev, d = 1 */

/*
  Integer s <= BERN_MAX. With y = {x/L} - 1/2 in [-1/2, 1/2), B_2s(1/2 + y) is even and B_{2s-1}(1/2 + y)
  odd in y: K = L^2s sum_j ser[j] y^2j, K' = L^{2s-1} y sum_j dser[j] y^2j, about half the terms of a
  polynomial in {x}. {x/L} of x in (-L, L) is x/L + 1 for x < 0: the sign bit of x picks +-1/2.
*/
KF_INLINE void PairBernoulli(KfKernel k, int pot, int s, const V *xt, const V *xs, V q, Acc *a)
{
  const V dx = VSub(xt[0], xs[0]);
  const V y  = VFma(dx, VSet(k->invL), VXorSign(VSet(-0.5), dx));
  const V y2 = VMul(y, y);
  V       t  = y;

  if (s > 1) t = VMul(y, Horner(k->dser, s, y2));
  a->g[0] = VFmaIf(VNe(dx, VSet(0.0)), q, t, a->g[0]); /* K'(0) := 0: the s = 1 sawtooth jumps there */
  if (pot) a->p = VFma(q, Horner(k->ser, s + 1, y2), a->p);
}

/* One instantiation per s keeps every polynomial length a compile-time constant. */
#define KF_BERN(S)                                                                                     \
  KF_INLINE void PairBernoulli##S(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a) \
  {                                                                                                    \
    PairBernoulli(k, pot, S, xt, xs, q, a);                                                            \
  }                                                                                                    \
  KF_TILES_1D(TileBern##S, PairBernoulli##S)
KF_BERN(1)
KF_BERN(2)
KF_BERN(3)
KF_BERN(4)
KF_BERN(5)
KF_BERN(6)
KF_BERN(7)
KF_BERN(8)

/*
  Non-integer s, on L = 1 with x in [-1/2, 1/2] the minimum image (spec A.3, rewritten):
    K_s(x) = sum_m ser[m] x^2m + A |x|^{2s-1},        A = 1 / (2 Gamma(2s) cos(pi s)),
  the Taylor series of the regular part of 2 (2 pi)^-2s sum_k cos(2 pi k x) k^-2s (its Hurwitz-zeta form
  [zeta(1-2s, x) + zeta(1-2s, 1-x)] / (2 Gamma(2s) cos(pi s)) expanded about x = 0; converges for |x| < 1,
  here like 4^-m). For 2s odd, cos(pi s) = 0 and the pole of zeta(2s - 2m0) cancels it (m0 = s - 1/2):
    K_s(x) = sum_m ser[m] x^2m - (B/2) x^2m0 log x^2,  B = (-1)^m0 / (pi (2m0)!),
  with ser[m0] = B (H_2m0 - log 2 pi) (H the harmonic number). a0 = A or -B/2.
*/
KF_INLINE void PairSeries(KfKernel k, int dim, int pot, int logterm, const V *xt, const V *xs, V q, Acc *a)
{
  const V dx = VSub(xt[0], xs[0]);
  const V x  = VMul(VFnma(VRound(VMul(dx, VSet(k->invL))), VSet(k->L), dx), VSet(k->invL)); /* wrap before scaling: keeps small |x| exact */
  const V x2 = VMul(x, x);
  const M nz = VGe(x2, VSet(DBL_MIN));
  const V lx = VLog(x2);
  const V sd = Horner(k->dser, SER_MAX - 1, x2);
  V       e, ge, pe;

  if (logterm) {
    V w = VSet(1.0);

    for (PetscInt i = 1; i < k->m0; i++) w = VMul(w, x2);
    ge      = VZeroUnless(nz, VMul(w, VFma(lx, VSet((PetscReal)k->m0), VSet(1.0)))); /* x^{2m0-2} (m0 log x^2 + 1) */
    pe      = VZeroUnless(nz, VMul(VMul(w, x2), lx));                                /* x^{2m0} log x^2 */
    a->g[0] = VFma(q, VMul(x, VFma(ge, VSet(2 * k->a0), sd)), a->g[0]);
  } else {
    e       = VZeroUnless(nz, VExp(VMul(lx, VSet(k->a1)))); /* |x|^{2s-3}, a1 = s - 3/2 */
    pe      = VMul(e, x2);
    a->g[0] = VFma(q, VMul(x, VFma(e, VSet(k->a2), sd)), a->g[0]); /* a2 = A (2s - 1) */
  }
  if (pot) a->p = VFma(q, VFma(pe, VSet(k->a0), Horner(k->ser, SER_MAX, x2)), a->p);
}

KF_INLINE void PairSeriesPow(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  PairSeries(k, dim, pot, 0, xt, xs, q, a);
}
KF_INLINE void PairSeriesLog(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  PairSeries(k, dim, pot, 1, xt, xs, q, a);
}
KF_TILES_1D(TileSerPow, PairSeriesPow)
KF_TILES_1D(TileSerLog, PairSeriesLog)

/* ============================================================================ periodised gaussian */

/*
  K = prod_c G(t_c), G(t) = sum_{|n| <= nimg} exp(-(t + nL)^2 / (2h^2)), t the minimum image; grad_c K =
  -(1/h^2) D(t_c) prod_{c' != c} G(t_c'), D(t) = sum_n (t + nL) e_n = t G(t) + sum_{n > 0} nL (e_n - e_-n).
  At t = 0, e_n and e_-n are bitwise equal, so D(0) is exactly 0. a0 = -1/(2h^2).
*/
KF_INLINE void GaussAxis(KfKernel k, V dx, V *G, V *D)
{
  const V t   = VFnma(VRound(VMul(dx, VSet(k->invL))), VSet(k->L), dx);
  V       odd = VSet(0.0);

  *G = VExp(VMul(VMul(t, t), VSet(k->a0)));
  for (PetscInt n = 1; n <= k->nimg; n++) {
    const V tp = VAdd(t, VSet((PetscReal)n * k->L)), tm = VSub(t, VSet((PetscReal)n * k->L));
    const V ep = VExp(VMul(VMul(tp, tp), VSet(k->a0))), em = VExp(VMul(VMul(tm, tm), VSet(k->a0)));

    *G  = VAdd(*G, VAdd(ep, em));
    odd = VFma(VSet((PetscReal)n * k->L), VSub(ep, em), odd);
  }
  *D = VFma(t, *G, odd);
}

KF_INLINE void PairGaussTorus(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V G[KF_MAX_DIM], D[KF_MAX_DIM], qg;

  for (int c = 0; c < dim; c++) GaussAxis(k, VSub(xt[c], xs[c]), &G[c], &D[c]);
  if (dim == 1) {
    a->g[0] = VFma(q, D[0], a->g[0]);
    if (pot) a->p = VFma(q, G[0], a->p);
  } else if (dim == 2) {
    a->g[0] = VFma(VMul(q, G[1]), D[0], a->g[0]);
    qg      = VMul(q, G[0]);
    a->g[1] = VFma(qg, D[1], a->g[1]);
    if (pot) a->p = VFma(qg, G[1], a->p);
  } else {
    const V qg01 = VMul(VMul(q, G[0]), G[1]);

    qg      = VMul(q, G[2]);
    a->g[0] = VFma(VMul(qg, G[1]), D[0], a->g[0]);
    a->g[1] = VFma(VMul(qg, G[0]), D[1], a->g[1]);
    a->g[2] = VFma(qg01, D[2], a->g[2]);
    if (pot) a->p = VFma(qg01, G[2], a->p);
  }
}
KF_TILES(TileGaussT, PairGaussTorus)

/* ============================================================================ free-space kernels */

/* exp(-|r|^2/(2h^2)); a0 = -1/(2h^2), gscale = -1/h^2. */
KF_INLINE void PairGauss(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V       d[KF_MAX_DIM];
  const V r2 = Displace(dim, xt, xs, d);
  const V w  = VMul(q, VExp(VMul(r2, VSet(k->a0))));

  AddRadial(dim, w, d, a);
  if (pot) a->p = VAdd(a->p, w);
}
KF_TILES(TileGauss, PairGauss)

/* (c^2 + |r|^2)^-1/2 by rsqrt; a0 = c^2, gscale = -1. */
KF_INLINE void PairImqHalf(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V       d[KF_MAX_DIM];
  const V t  = VAdd(Displace(dim, xt, xs, d), VSet(k->a0));
  const V rs = VRsqrtNz((M)-1, t), qrs = VMul(q, rs);

  AddRadial(dim, VMul(qrs, VMul(rs, rs)), d, a);
  if (pot) a->p = VAdd(a->p, qrs);
}
KF_TILES(TileImqHalf, PairImqHalf)

/* (c^2 + |r|^2)^-beta = t * t^{-beta-1}, t^{-beta-1} = exp(a1 log t); a0 = c^2, a1 = -beta-1, gscale = -2 beta. */
KF_INLINE void PairImq(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V       d[KF_MAX_DIM];
  const V t = VAdd(Displace(dim, xt, xs, d), VSet(k->a0));
  const V w = VMul(q, VExp(VMul(VLog(t), VSet(k->a1))));

  AddRadial(dim, w, d, a);
  if (pot) a->p = VFma(w, t, a->p);
}
KF_TILES(TileImq, PairImq)

/* -|r|: gradient -r/|r| from one rsqrt; gscale = -1. */
KF_INLINE void PairRiesz1(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V       d[KF_MAX_DIM];
  const V r2 = Displace(dim, xt, xs, d);
  const V w  = VMul(q, VRsqrtNz(VGe(r2, VSet(DBL_MIN)), r2));

  AddRadial(dim, w, d, a);
  if (pot) a->p = VFnma(w, r2, a->p);
}
KF_TILES(TileRiesz1, PairRiesz1)

/* -|r|^q = -|r|^{q-2} |r|^2, |r|^{q-2} = exp(a1 log |r|^2), a1 = q/2 - 1; gscale = -q. */
KF_INLINE void PairRiesz(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V       d[KF_MAX_DIM];
  const V r2 = Displace(dim, xt, xs, d);
  const V e  = VZeroUnless(VGe(r2, VSet(DBL_MIN)), VExp(VMul(VLog(r2), VSet(k->a1))));
  const V w  = VMul(q, e);

  AddRadial(dim, w, d, a);
  if (pot) a->p = VFnma(w, r2, a->p);
}
KF_TILES(TileRiesz, PairRiesz)

/* exp(-|r|/h): |r| = |r|^2 rsqrt(|r|^2); a0 = -1/h, gscale = -1/h. */
KF_INLINE void PairLaplace(KfKernel k, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V       d[KF_MAX_DIM];
  const V r2 = Displace(dim, xt, xs, d);
  const V rs = VRsqrtNz(VGe(r2, VSet(DBL_MIN)), r2);
  const V qe = VMul(q, VExp(VMul(VMul(r2, rs), VSet(k->a0))));

  AddRadial(dim, VMul(qe, rs), d, a);
  if (pot) a->p = VAdd(a->p, qe);
}
KF_TILES(TileLaplace, PairLaplace)

/* ============================================================================ sobolev, d >= 2 (Ewald) */

/*
  The short-range part (the long-range modes are the caller's, KfKernelGetLongRange), targets in lanes as in
  the tiles above, by the table of KfEwaldGetTable: per pair z = |y|^2/(4 tau0) for the reduced displacement y,
  E_p and E_{p-1} as e^{-z} times a polynomial of the binade of z, whose coefficients for the 8 lanes come
  from a row of 16 (one per binade) by one two-register permute, not a gather. The lanes the table does not
  cover (coincident pairs, k->kshort0, and pairs below its first binade, some 3e-5 of uniform pairs in d = 2)
  are redone one by one by the scalar KfEwaldShortUnit: rare, and only those lanes change, so every target
  still gets its own values from the same instruction sequence. The extra SIMD operations live here, not in
  the layer above, because only this tile needs them.
*/
_Static_assert(KF_EWALD_BINADES == 16, "one vpermt2pd picks from 16 doubles");

#if defined(__AVX512F__)
typedef __m512i VI;

/* lane indices from integral doubles b (only their low 4 bits count below): the low bits of b + 2^52 */
static inline VI VIndex(V b)
{
  return _mm512_castpd_si512(_mm512_add_pd(b, _mm512_set1_pd(0x1p52)));
}
/* row[i] for a row of 16 doubles (64-byte aligned): one vpermt2pd */
static inline V VLookup16(const double *row, VI i)
{
  return _mm512_permutex2var_pd(_mm512_load_pd(row), i, _mm512_load_pd(row + 8));
}
/* the mantissa in [1, 2) */
static inline V VMant12(V a)
{
  return _mm512_getmant_pd(a, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
}
/* m ? b : a */
static inline V VBlend(M m, V a, V b)
{
  return _mm512_mask_blend_pd(m, a, b);
}
#else
typedef struct {
  int v[W];
} VI;

static inline VI VIndex(V b)
{
  VI r;

  for (int l = 0; l < W; l++) r.v[l] = b.v[l] >= 0 && b.v[l] < KF_EWALD_BINADES ? (int)b.v[l] : 0;
  return r;
}
static inline V VLookup16(const double *row, VI i)
{
  LANES(row[i.v[l]]);
}
static inline V VMant12(V a)
{
  LANES(a.v[l] > 0 ? scalbn(a.v[l], -ilogb(a.v[l])) : 0.0);
}
static inline V VBlend(M m, V a, V b)
{
  LANES(ON(m) ? b.v[l] : a.v[l]);
}
#endif

/* The table's scalars as vectors, set once per tile. */
typedef struct {
  V                invL, wscale, minv4t, rc2, mkconst;
  const PetscReal *cK, *cG;
} EwaldConst;

/* sum_k c[k][b] t^k for the lanes' binades b, as E(t^2) + t O(t^2) like the scalar table (two chains of half the latency) */
KF_INLINE V EwaldPoly(const PetscReal *c, VI b, V t)
{
  const V t2 = VMul(t, t);
  V       ev = VLookup16(c + (KF_EWALD_TERMS - 2) * KF_EWALD_BINADES, b), od = VLookup16(c + (KF_EWALD_TERMS - 1) * KF_EWALD_BINADES, b);

#pragma GCC unroll 16
  for (int k = KF_EWALD_TERMS - 4; k >= 0; k -= 2) {
    ev = VFma(ev, t2, VLookup16(c + k * KF_EWALD_BINADES, b));
    od = VFma(od, t2, VLookup16(c + (k + 1) * KF_EWALD_BINADES, b));
  }
  return VFma(od, t, ev);
}

/* What the lanes off the table need, gathered only when there are some (so that nothing else is kept in memory). */
typedef struct {
  V y[KF_MAX_DIM], r2, P, G[KF_MAX_DIM];
} EwaldLanes;

/* The lanes of near one by one: the potential term P and gradient terms G of a coincident pair (k->kshort0, 0) or of
   KfEwaldShortUnit. Out of line: rarely taken, it would only crowd the loop. */
static __attribute__((noinline)) void EwaldNearLanes(KfKernel k, int dim, int pot, M near, EwaldLanes *v)
{
  double y[KF_MAX_DIM][W], r2[W], P[W], G[KF_MAX_DIM][W];

  VStore(r2, v->r2);
  VStore(P, v->P);
  for (int c = 0; c < dim; c++) {
    VStore(y[c], v->y[c]);
    VStore(G[c], v->G[c]);
  }
  for (int l = 0; l < W; l++) {
    PetscReal yl[KF_MAX_DIM] = {0, 0, 0}, gl[KF_MAX_DIM] = {0, 0, 0};

    if (!((near >> l) & 1)) continue;
    if (r2[l] < DBL_MIN) {
      P[l] = k->kshort0;
    } else {
      for (int c = 0; c < dim; c++) yl[c] = y[c][l];
      KfEwaldShortUnit(k->ewald, yl, pot ? &P[l] : NULL, gl);
    }
    for (int c = 0; c < dim; c++) G[c][l] = gl[c];
  }
  v->P = VLoad(P);
  for (int c = 0; c < dim; c++) v->G[c] = VLoad(G[c]);
}

/* One source against 8 targets (positions in [0, L): one rounding wraps the displacement). */
KF_INLINE void PairEwald(KfKernel k, const EwaldConst *T, int dim, int pot, const V *xt, const V *xs, V q, Acc *a)
{
  V  y[KF_MAX_DIM], G[KF_MAX_DIM], r2, w, e, t, Q, P = T->mkconst;
  M  fast, near;
  VI b;

  for (int c = 0; c < dim; c++) {
    const V u = VMul(VSub(xt[c], xs[c]), T->invL);

    y[c] = VSub(u, VRound(u));
  }
  r2 = VMul(y[0], y[0]);
  for (int c = 1; c < dim; c++) r2 = VFma(y[c], y[c], r2);
  w    = VMul(r2, T->wscale);
  fast = VGe(w, VSet(1.0)) & VLt(r2, T->rc2);
  near = VLt(r2, T->rc2) & (M)~fast;
  e    = VExp(VMul(r2, T->minv4t));
  b    = VIndex(VGetexp(w));
  t    = VFms(VMant12(w), VSet(2.0), VSet(3.0));
  Q    = VZeroUnless(fast, VMul(e, EwaldPoly(T->cG, b, t)));
  if (pot) P = VBlend(fast, P, VFma(e, EwaldPoly(T->cK, b, t), T->mkconst));
  for (int c = 0; c < dim; c++) G[c] = VMul(Q, y[c]);
  if (near) {
    EwaldLanes v;

    v.r2 = r2;
    v.P  = P;
    for (int c = 0; c < dim; c++) {
      v.y[c] = y[c];
      v.G[c] = G[c];
    }
    EwaldNearLanes(k, dim, pot, near, &v);
    P = v.P;
    for (int c = 0; c < dim; c++) G[c] = v.G[c];
  }
  for (int c = 0; c < dim; c++) a->g[c] = VFma(q, G[c], a->g[c]);
  if (pot) a->p = VFma(q, P, a->p);
}

/* 8 targets against the sources j = 0..ns-1 in order: TileBlocks' loop for a pair function that needs the table (which
   PairFn cannot pass) and no final scale; one block, since two (for latency) measured no faster. */
KF_INLINE void EwaldBlock(KfKernel k, const EwaldConst *T, int dim, int pot, PetscInt i, PetscInt ldt, const PetscReal *xt, PetscInt ns, PetscInt lds, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *potv)
{
  V   x[KF_MAX_DIM];
  Acc a;

  for (int c = 0; c < dim; c++) {
    x[c]   = VLoad(xt + c * ldt + i);
    a.g[c] = VSet(0.0);
  }
  a.p = VSet(0.0);
  for (PetscInt j = 0; j < ns; j++) {
    V s[KF_MAX_DIM];

    for (int c = 0; c < dim; c++) s[c] = VSet(xs[c * lds + j]);
    PairEwald(k, T, dim, pot, x, s, VSet(qs[j]), &a);
  }
  for (int c = 0; c < dim; c++) VStore(grad + c * ldt + i, VAdd(VLoad(grad + c * ldt + i), a.g[c]));
  if (pot) VStore(potv + i, VAdd(VLoad(potv + i), a.p));
}

static void TileEwald(KfKernel k, PetscInt nt, PetscInt ldt, const PetscReal *xt, PetscInt ns, PetscInt lds, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *pot)
{
  KfEwaldTable t;
  EwaldConst   T;

  KfEwaldGetTable(k->ewald, &t);
  T.invL    = VSet(t.invL);
  T.wscale  = VSet(t.wscale);
  T.minv4t  = VSet(-t.inv4t);
  T.rc2     = VSet(t.rc2);
  T.mkconst = VSet(-t.kconst);
  T.cK      = t.cK;
  T.cG      = t.cG;
  for (PetscInt i = 0; i < nt; i += W) {
    if (k->dim == 2 && pot) EwaldBlock(k, &T, 2, 1, i, ldt, xt, ns, lds, xs, qs, grad, pot);
    else if (k->dim == 2) EwaldBlock(k, &T, 2, 0, i, ldt, xt, ns, lds, xs, qs, grad, NULL);
    else if (pot) EwaldBlock(k, &T, 3, 1, i, ldt, xt, ns, lds, xs, qs, grad, pot);
    else EwaldBlock(k, &T, 3, 0, i, ldt, xt, ns, lds, xs, qs, grad, NULL);
  }
}

/* ============================================================================ scalar references */

/* Bernoulli numbers B_0..B_16 as exact fractions (odd ones beyond B_1 vanish). */
static const double bern_num[17] = {1, -1, 1, 0, -1, 0, 1, 0, -1, 0, 5, 0, -691, 0, 7, 0, -3617};
static const double bern_den[17] = {1, 2, 6, 1, 30, 1, 42, 1, 30, 1, 66, 1, 2730, 1, 6, 1, 510};

static double Binomial(int n, int k)
{
  double b = 1;

  for (int i = 1; i <= k; i++) b = b * (n - k + i) / i;
  return b;
}

static double Factorial(int n)
{
  double f = 1;

  for (int i = 2; i <= n; i++) f *= i;
  return f;
}

/* B_n(t) = sum_k binom(n, k) B_k t^{n-k}, Horner in t. */
static double BernoulliPoly(int n, double t)
{
  double p = 0;

  for (int k = 0; k <= n; k++) p = p * t + Binomial(n, k) * bern_num[k] / bern_den[k];
  return p;
}

/* Spec A.3 literally: K = (-1)^{s+1}/(2s)! B_2s({x}), K' = (-1)^{s+1}/(2s-1)! B_{2s-1}({x}), K_1'(0) := 0. */
static void EvalBernoulli(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  const int    s = (int)k->nser;
  const double u = r[0] / k->L, t = u - floor(u), sign = s % 2 ? 1 : -1;
  const double base = pow(k->L, 2 * s - 1);

  *K      = sign / Factorial(2 * s) * BernoulliPoly(2 * s, t) * base * k->L;
  grad[0] = t == 0 ? 0 : sign / Factorial(2 * s - 1) * BernoulliPoly(2 * s - 1, t) * base;
}

static void EvalSeries(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  const double x = (r[0] - k->L * nearbyint(r[0] / k->L)) / k->L, x2 = x * x, ax = fabs(x);
  double       p = 0, sd = 0, pe = 0, ge = 0;

  for (int i = SER_MAX - 1; i >= 0; i--) p = p * x2 + k->ser[i];
  for (int i = SER_MAX - 2; i >= 0; i--) sd = sd * x2 + k->dser[i];
  if (x2 >= DBL_MIN && k->m0 > 0) {
    pe = pow(ax, 2.0 * k->m0) * log(x2);
    ge = 2 * k->a0 * pow(ax, 2.0 * k->m0 - 2) * (k->m0 * log(x2) + 1);
  } else if (x2 >= DBL_MIN) {
    pe = pow(ax, 2 * k->s - 1);
    ge = k->a2 * pow(ax, 2 * k->s - 3);
  }
  *K      = k->pscale * (p + k->a0 * pe);
  grad[0] = k->gscale * x * (sd + ge);
}

static void EvalGaussTorus(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  double G[KF_MAX_DIM], D[KF_MAX_DIM];

  *K = 1;
  for (PetscInt c = 0; c < k->dim; c++) {
    const double t = r[c] - k->L * floor(r[c] / k->L + 0.5);

    G[c] = D[c] = 0;
    for (PetscInt n = -k->nimg - 2; n <= k->nimg + 2; n++) {
      const double y = t + n * k->L, e = exp(-y * y / (2 * k->h * k->h));

      G[c] += e;
      D[c] -= y / (k->h * k->h) * e;
    }
    *K *= G[c];
  }
  for (PetscInt c = 0; c < k->dim; c++) {
    grad[c] = D[c];
    for (PetscInt cc = 0; cc < k->dim; cc++)
      if (cc != c) grad[c] *= G[cc];
  }
}

/* The radial free-space kernels from K(|r|^2) and f = K'(|r|)/|r|: grad = f r. */
static void Radial(KfKernel k, const PetscReal r[], double *r2, double *rad)
{
  *r2 = 0;
  for (PetscInt c = 0; c < k->dim; c++) *r2 += r[c] * r[c];
  *rad = sqrt(*r2);
}

static void RadialGrad(KfKernel k, const PetscReal r[], double f, PetscReal grad[])
{
  for (PetscInt c = 0; c < k->dim; c++) grad[c] = f * r[c];
}

static void EvalGauss(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  double r2, rad;

  Radial(k, r, &r2, &rad);
  *K = exp(-r2 / (2 * k->h * k->h));
  RadialGrad(k, r, -*K / (k->h * k->h), grad);
}

static void EvalImq(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  double r2, rad;

  Radial(k, r, &r2, &rad);
  *K = pow(k->c * k->c + r2, -k->beta);
  RadialGrad(k, r, -2 * k->beta * *K / (k->c * k->c + r2), grad);
}

/* Pairs closer than sqrt(DBL_MIN) count as coincident, as in the tile: gradient 0. */
static void EvalRiesz(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  double r2, rad;

  Radial(k, r, &r2, &rad);
  *K = r2 >= DBL_MIN ? -pow(rad, k->q) : 0;
  RadialGrad(k, r, r2 >= DBL_MIN ? -k->q * pow(rad, k->q - 2) : 0, grad);
}

static void EvalEwald(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  PetscReal Kv = 0, g[KF_MAX_DIM] = {0, 0, 0};

  (void)KfEwaldEval(k->ewald, r, &Kv, g);
  if (K) *K = Kv;
  if (grad)
    for (PetscInt c = 0; c < k->dim; c++) grad[c] = g[c];
}

static void EvalLaplace(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  double r2, rad;

  Radial(k, r, &r2, &rad);
  *K = exp(-rad / k->h);
  RadialGrad(k, r, r2 >= DBL_MIN ? -*K / (k->h * rad) : 0, grad);
}

/* ============================================================================ operation counts */

static void OpsAdd(KfKernelOps *o, const KfKernelOps *p, PetscReal times)
{
  o->fma += times * p->fma;
  o->add += times * p->add;
  o->uops += times * p->uops;
  o->div += times * p->div;
  o->flops += times * p->flops;
}

/* fma-class, add-class instructions and flops of plain code; uops and div are added separately. */
static void OpsPlain(KfKernelOps *o, PetscReal fma, PetscReal add, PetscReal flops)
{
  const KfKernelOps p = {fma, add, 0, 0, flops};

  OpsAdd(o, &p, 1);
}

/* Displace: d subs, 1 mul + (d-1) fmas; AddRadial: d fmas. */
static void OpsRadial(KfKernel k, KfKernelOps *o)
{
  OpsPlain(o, (PetscReal)k->dim + (PetscReal)k->dim, (PetscReal)k->dim, (PetscReal)k->dim + 1 + 2 * (k->dim - 1) + 2 * k->dim);
}

static void OpsBernoulli(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  const PetscReal s = (PetscReal)k->nser;

  OpsPlain(o, 2, 3, 5);                                        /* sub, xorsign, fma y, cmp, masked fma */
  if (k->nser > 1 || pot) OpsPlain(o, 1, 0, 1);                /* y^2 */
  if (k->nser > 1) OpsPlain(o, s - 1 + 1, 0, 2 * (s - 1) + 1); /* Horner, y p */
  if (pot) OpsPlain(o, s + 1, 0, 2 * s + 2);
}

static void OpsSeries(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  const PetscReal m = (PetscReal)k->m0;

  OpsPlain(o, 4, 3, 6); /* sub, mul, round, fnma, mul (minimum image x), mul x^2, cmp */
  o->uops += 1;
  OpsAdd(o, &ops_log, 1);
  OpsPlain(o, SER_MAX - 2, 0, 2 * (SER_MAX - 2)); /* the gradient series */
  if (k->m0 > 0) {
    OpsPlain(o, m - 1 + 2 + 3, 0, m - 1 + 3 + 5); /* x^{2m0-2}, m0 log + 1; fma, mul x, fma q (masks merge into muls) */
    if (pot) OpsPlain(o, 2, 0, 2);                /* x^{2m0} log x^2 */
  } else {
    OpsAdd(o, &ops_exp, 1);
    OpsPlain(o, 1 + 3, 0, 1 + 5);  /* exponent; fma, mul x, fma q (the mask merges into scalef) */
    if (pot) OpsPlain(o, 1, 0, 1); /* |x|^{2s-3} x^2 */
  }
  if (pot) OpsPlain(o, SER_MAX + 1, 0, 2 * (SER_MAX + 1));
}

static void OpsGaussTorus(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  const PetscReal d = (PetscReal)k->dim, n = (PetscReal)k->nimg;
  const PetscReal tail_fma[3] = {1, 4, 8}, tail_flops[3] = {2, 6, 11};

  /* per axis: sub, mul, round, fnma (minimum image), 2 mul + exp, fma (D); per image pair: add, sub, 4 mul,
     2 exp, add, add, sub, fma; then the products of the axes */
  OpsPlain(o, d * 5, d * 2, d * (1 + 1 + 2 + 2 + 2));
  OpsAdd(o, &ops_exp, d * (1 + 2 * n));
  OpsPlain(o, d * n * 5, d * n * 5, d * n * (5 + 4 + 2));
  o->uops += d; /* roundscale */
  OpsPlain(o, tail_fma[k->dim - 1], 0, tail_flops[k->dim - 1]);
  if (pot) OpsPlain(o, 1, 0, 2);
}

static void OpsGauss(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  OpsRadial(k, o);
  OpsPlain(o, 2, 0, 2); /* mul by a0, mul by q */
  OpsAdd(o, &ops_exp, 1);
  if (pot) OpsPlain(o, 0, 1, 1);
}

static void OpsImqHalf(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  OpsRadial(k, o);
  OpsPlain(o, 3, 1, 4); /* add c^2; q rs, rs rs, product */
  OpsAdd(o, &ops_rsqrt, 1);
  if (pot) OpsPlain(o, 0, 1, 1);
}

static void OpsImq(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  OpsRadial(k, o);
  OpsPlain(o, 2, 1, 3); /* add c^2, mul a1, mul q */
  OpsAdd(o, &ops_log, 1);
  OpsAdd(o, &ops_exp, 1);
  if (pot) OpsPlain(o, 1, 0, 2);
}

static void OpsRiesz1(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  OpsRadial(k, o);
  OpsPlain(o, 1, 1, 1); /* cmp, mul q */
  OpsAdd(o, &ops_rsqrt, 1);
  if (pot) OpsPlain(o, 1, 0, 2);
}

static void OpsRiesz(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  OpsRadial(k, o);
  OpsPlain(o, 2, 1, 2); /* cmp (the mask merges into scalef), mul a1, mul q */
  OpsAdd(o, &ops_log, 1);
  OpsAdd(o, &ops_exp, 1);
  if (pot) OpsPlain(o, 1, 0, 2);
}

/*
  Per axis: sub, mul 1/L, round, sub (the wrap); |y|^2 (mul, d-1 fma); w and -z (2 mul); 2 compares; getexp and + 2^52 (the
  binade index), getmant and fms (t); t^2, n-2 + 1 FMAs and n permutes for E_{p-1} (permutes counted with the add class:
  Intel issues them to port 5); e^{-z}; masked mul, d mul, d fma (the gradient terms). The potential: n-1 FMAs and n
  permutes for E_p, fma, blend, fma. The rare lanes off the table (scalar) are not counted.
*/
static void OpsEwald(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  const PetscReal d = (PetscReal)k->dim, n = KF_EWALD_TERMS;

  OpsPlain(o, 4 * d + 4 + n, 3 * d + 5 + n, 8 * d + 4 + 2 * n);
  o->uops += d; /* roundscale */
  OpsAdd(o, &ops_exp, 1);
  if (pot) OpsPlain(o, n + 1, n + 1, 2 * n + 2);
}

static void OpsLaplace(KfKernel k, PetscBool pot, KfKernelOps *o)
{
  OpsRadial(k, o);
  OpsPlain(o, 4, 1, 4); /* cmp; r2 rs, mul a0, mul q, qe rs */
  OpsAdd(o, &ops_rsqrt, 1);
  OpsAdd(o, &ops_exp, 1);
  if (pot) OpsPlain(o, 0, 1, 1);
}

/* ============================================================================ variants */

static const Variant var_bern[BERN_MAX] = {
    {KF_TILE_TABLE_1D(TileBern1), EvalBernoulli, OpsBernoulli},
    {KF_TILE_TABLE_1D(TileBern2), EvalBernoulli, OpsBernoulli},
    {KF_TILE_TABLE_1D(TileBern3), EvalBernoulli, OpsBernoulli},
    {KF_TILE_TABLE_1D(TileBern4), EvalBernoulli, OpsBernoulli},
    {KF_TILE_TABLE_1D(TileBern5), EvalBernoulli, OpsBernoulli},
    {KF_TILE_TABLE_1D(TileBern6), EvalBernoulli, OpsBernoulli},
    {KF_TILE_TABLE_1D(TileBern7), EvalBernoulli, OpsBernoulli},
    {KF_TILE_TABLE_1D(TileBern8), EvalBernoulli, OpsBernoulli},
};
static const Variant var_ser_pow  = {KF_TILE_TABLE_1D(TileSerPow), EvalSeries, OpsSeries};
static const Variant var_ser_log  = {KF_TILE_TABLE_1D(TileSerLog), EvalSeries, OpsSeries};
static const Variant var_gauss_t  = {KF_TILE_TABLE(TileGaussT), EvalGaussTorus, OpsGaussTorus};
static const Variant var_gauss    = {KF_TILE_TABLE(TileGauss), EvalGauss, OpsGauss};
static const Variant var_imq_half = {KF_TILE_TABLE(TileImqHalf), EvalImq, OpsImqHalf};
static const Variant var_imq      = {KF_TILE_TABLE(TileImq), EvalImq, OpsImq};
static const Variant var_riesz1   = {KF_TILE_TABLE(TileRiesz1), EvalRiesz, OpsRiesz1};
static const Variant var_riesz    = {KF_TILE_TABLE(TileRiesz), EvalRiesz, OpsRiesz};
static const Variant var_laplace  = {KF_TILE_TABLE(TileLaplace), EvalLaplace, OpsLaplace};
static const Variant var_ewald    = {{{NULL, NULL}, {TileEwald, TileEwald}, {TileEwald, TileEwald}}, EvalEwald, OpsEwald};

/* ============================================================================ set-up of each kernel */

static PetscReal SinPi(PetscReal x)
{
  const PetscReal n = nearbyint(x);

  return (fmod(n, 2) ? -1 : 1) * sin(PETSC_PI * (x - n));
}

static PetscReal CosPi(PetscReal x)
{
  return SinPi(x + 0.5);
}

static PetscErrorCode Zeta(PetscReal x, PetscReal *z)
{
  gsl_sf_result res;
  int           st;

  PetscFunctionBeginUser;
  st = gsl_sf_zeta_e(x, &res);
  PetscCheck(st == GSL_SUCCESS, PETSC_COMM_SELF, PETSC_ERR_LIB, "gsl_sf_zeta(%g) failed: %s", (double)x, gsl_strerror(st));
  *z = res.val;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LnGamma(PetscReal x, PetscReal *lg)
{
  gsl_sf_result res;
  int           st;

  PetscFunctionBeginUser;
  st = gsl_sf_lngamma_e(x, &res);
  PetscCheck(st == GSL_SUCCESS, PETSC_COMM_SELF, PETSC_ERR_LIB, "gsl_sf_lngamma(%g) failed: %s", (double)x, gsl_strerror(st));
  *lg = res.val;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  c_m = 2 (2 pi)^{2m-2s} (-1)^m zeta(2s - 2m) / (2m)!; for 2s - 2m <= -1 the functional equation turns it
  into c_m = (2/pi) sin(pi s) Gamma(2m+1-2s)/Gamma(2m+1) zeta(2m+1-2s), which has no cancellation.
*/
static PetscErrorCode SeriesCoefficient(PetscReal s, PetscInt m, PetscReal *cm)
{
  PetscReal z, lg1, lg2;

  PetscFunctionBeginUser;
  if (2 * s - 2 * m > -1) {
    PetscCall(Zeta(2 * s - 2 * m, &z));
    *cm = 2 * pow(2 * PETSC_PI, (PetscReal)(2 * m) - 2 * s) * (m % 2 ? -1 : 1) * z / Factorial((int)(2 * m));
  } else {
    PetscCall(Zeta(2 * m + 1 - 2 * s, &z));
    PetscCall(LnGamma(2 * m + 1 - 2 * s, &lg1));
    PetscCall(LnGamma(2 * m + 1, &lg2));
    *cm = 2 / PETSC_PI * SinPi(s) * exp(lg1 - lg2) * z;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetUpSeries(KfKernel k)
{
  const PetscReal      s = k->s, twos = 2 * s;
  gsl_error_handler_t *old;
  PetscErrorCode       ierr = PETSC_SUCCESS;

  PetscFunctionBeginUser;
  k->m0 = fabs(twos - nearbyint(twos)) == 0 && ((PetscInt)nearbyint(twos)) % 2 ? ((PetscInt)nearbyint(twos) - 1) / 2 : 0;
  old   = gsl_set_error_handler_off(); /* GSL's default handler aborts */
  for (PetscInt m = 0; m < SER_MAX && !ierr; m++) {
    if (k->m0 > 0 && m == k->m0) continue;
    ierr = SeriesCoefficient(s, m, &k->ser[m]);
  }
  gsl_set_error_handler(old);
  PetscCall(ierr);
  if (k->m0 > 0) {
    PetscReal H = 0, B = (k->m0 % 2 ? -1 : 1) / (PETSC_PI * Factorial((int)(2 * k->m0)));

    for (PetscInt i = 1; i <= 2 * k->m0; i++) H += 1.0 / (PetscReal)i;
    k->ser[k->m0] = B * (H - log(2 * PETSC_PI));
    k->a0         = -B / 2;
    k->var        = &var_ser_log;
  } else {
    k->a0  = 1 / (2 * tgamma(twos) * CosPi(s));
    k->a1  = s - 1.5;
    k->a2  = k->a0 * (twos - 1);
    k->var = &var_ser_pow;
  }
  for (PetscInt m = 1; m < SER_MAX; m++) k->dser[m - 1] = 2 * (PetscReal)m * k->ser[m];
  k->dser[SER_MAX - 1] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Coefficients of B_2s(1/2 + y) in y^2 and of B_{2s-1}(1/2 + y)/y, from B_n(1/2) = (2^{1-n} - 1) B_n. */
static void SetUpBernoulli(KfKernel k, PetscInt s)
{
  const double sign = s % 2 ? 1 : -1;

  for (PetscInt j = 0; j <= s; j++) {
    const int kk = (int)(2 * s - 2 * j);

    k->ser[j] = sign / Factorial((int)(2 * s)) * Binomial((int)(2 * s), kk) * (ldexp(1.0, 1 - kk) - 1) * bern_num[kk] / bern_den[kk];
  }
  for (PetscInt j = 0; j < s; j++) {
    const int kk = (int)(2 * s - 2 - 2 * j);

    k->dser[j] = sign / Factorial((int)(2 * s - 1)) * Binomial((int)(2 * s - 1), kk) * (ldexp(1.0, 1 - kk) - 1) * bern_num[kk] / bern_den[kk];
  }
  k->nser = s;
  k->var  = &var_bern[s - 1];
  k->k0   = sign * bern_num[2 * s] / bern_den[2 * s] / Factorial((int)(2 * s)) * pow(k->L, 2 * (PetscReal)s);
}

static PetscErrorCode ReadSobolev(PetscOptionItems *PetscOptionsObject, KfKernel k)
{
  PetscFunctionBeginUser;
  PetscCall(KfOptionsReal(PetscOptionsObject, "-ewald_tol", "Tolerance of the Ewald split (d >= 2): error of K and grad K relative to their size", 1e-13, 1e-15, 1e-3, PETSC_FALSE, &k->ewald_tol, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* d >= 2: K_s = short (real space, the tile) + long (modes, the caller); any 0 < s < 50. */
static PetscErrorCode SetUpEwald(KfKernel k)
{
  char      ed[160];
  PetscReal klong0;

  PetscFunctionBeginUser;
  PetscCheck(k->s > 0 && k->s < 50, PETSC_COMM_WORLD, KF_ERR_INPUT, "-s %s: the sobolev kernel in d = %d needs 0 < s < 50", KF_NUM(k->s), (int)k->dim);
  PetscCall(KfEwaldCreate(k->dim, k->s, k->L, k->ewald_tol, &k->ewald));
  PetscCall(KfEwaldSelfValue(k->ewald, &k->k0, &k->finite));
  PetscCall(KfEwaldLongSelf(k->ewald, &klong0));
  k->kshort0 = (k->finite ? k->k0 : 0) - klong0;
  k->var     = &var_ewald;
  PetscCall(KfEwaldDescribe(k->ewald, ed, sizeof(ed)));
  PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "sobolev s = %s on the torus L = %s (%s)", KF_NUM(k->s), KF_NUM(k->L), ed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetUpSobolev(KfKernel k)
{
  const PetscReal s = k->s, half = nearbyint(s - 0.5) + 0.5;

  PetscFunctionBeginUser;
  if (k->dim > 1) {
    PetscCall(SetUpEwald(k));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(s > 0.5, PETSC_COMM_WORLD, KF_ERR_INPUT, "-s %s: the sobolev kernel in d = 1 needs s > 1/2 (K_s(0) is infinite for s <= 1/2)", KF_NUM(s));
  PetscCheck(s == half || fabs(s - half) >= 1e-3, PETSC_COMM_WORLD, KF_ERR_INPUT, "-s %s: too close to the half-integer %s, where the closed form loses its digits to cancellation; use -s %s or a value at least 0.001 away",
             KF_NUM(s), KF_NUM(half), KF_NUM(half));
  k->invL   = 1 / k->L;
  k->pscale = pow(k->L, 2 * s);
  k->gscale = pow(k->L, 2 * s - 1);
  if (s == nearbyint(s) && s <= BERN_MAX) {
    SetUpBernoulli(k, (PetscInt)s);
    PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "sobolev s = %s on the torus L = %s (Bernoulli closed form)", KF_NUM(s), KF_NUM(k->L)));
  } else {
    PetscReal z;

    PetscCall(SetUpSeries(k));
    PetscCall(Zeta(2 * s, &z));
    k->k0 = 2 * z * pow(k->L / (2 * PETSC_PI), 2 * s);
    PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "sobolev s = %s on the torus L = %s (Hurwitz zeta series, %d terms%s)", KF_NUM(s), KF_NUM(k->L), SER_MAX, k->m0 ? ", log term" : ""));
  }
  k->finite = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadH(PetscOptionItems *PetscOptionsObject, KfKernel k)
{
  PetscFunctionBeginUser;
  PetscCall(KfOptionsReal(PetscOptionsObject, "-kernel_h", "Width h (on the torus h <= L)", 1.0, 0.0, k->domain == KF_DOMAIN_TORUS ? k->L : PETSC_MAX_REAL, PETSC_TRUE, &k->h, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Images: keep n while (|n| - 1/2) L <= sqrt(80) h, i.e. nimg = floor(sqrt(80) h/L + 1/2): every dropped
  image is at least sqrt(80) h away from any t in [-L/2, L/2], so it weighs < e^-40 = 4e-18 of the peak.
*/
static PetscErrorCode SetUpGaussian(KfKernel k)
{
  PetscReal r0[KF_MAX_DIM] = {0, 0, 0}, g[KF_MAX_DIM];

  PetscFunctionBeginUser;
  k->a0     = -1 / (2 * k->h * k->h);
  k->gscale = -1 / (k->h * k->h);
  k->pscale = 1;
  k->finite = PETSC_TRUE;
  k->k0     = 1;
  if (k->domain == KF_DOMAIN_FREE) {
    k->var = &var_gauss;
    PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "gaussian h = %s in R^%d", KF_NUM(k->h), (int)k->dim));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  k->var  = &var_gauss_t;
  k->invL = 1 / k->L;
  k->nimg = (PetscInt)floor(sqrt(80.0) * k->h / k->L + 0.5);
  EvalGaussTorus(k, r0, &k->k0, g);
  PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "gaussian h = %s on the torus L = %s (periodised, %d images per axis)", KF_NUM(k->h), KF_NUM(k->L), (int)(2 * k->nimg + 1)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadImq(PetscOptionItems *PetscOptionsObject, KfKernel k)
{
  PetscFunctionBeginUser;
  PetscCall(KfOptionsReal(PetscOptionsObject, "-kernel_c", "Offset c", 1.0, 0.0, PETSC_MAX_REAL, PETSC_TRUE, &k->c, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-kernel_beta", "Exponent beta (0.5: fast rsqrt path)", 0.5, 0.0, PETSC_MAX_REAL, PETSC_TRUE, &k->beta, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetUpImq(KfKernel k)
{
  PetscFunctionBeginUser;
  PetscCheck(k->c >= 1e-150 && k->c <= 1e150, PETSC_COMM_WORLD, KF_ERR_INPUT, "-kernel_c %s: out of range; expected a real number in [1e-150, 1e150]", KF_NUM(k->c));
  PetscCheck(2 * k->beta * fabs(log(k->c)) < 700, PETSC_COMM_WORLD, KF_ERR_INPUT, "-kernel_beta %s with -kernel_c %s: c^(-2 beta) overflows; need 2 beta |ln c| < 700", KF_NUM(k->beta), KF_NUM(k->c));
  k->a0     = k->c * k->c;
  k->a1     = -k->beta - 1;
  k->gscale = k->beta == 0.5 ? -1 : -2 * k->beta;
  k->pscale = 1;
  k->var    = k->beta == 0.5 ? &var_imq_half : &var_imq;
  k->k0     = pow(k->c, -2 * k->beta);
  k->finite = PETSC_TRUE;
  PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "imq c = %s beta = %s in R^%d", KF_NUM(k->c), KF_NUM(k->beta), (int)k->dim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadRiesz(PetscOptionItems *PetscOptionsObject, KfKernel k)
{
  PetscFunctionBeginUser;
  /* the range is open at both ends, which KfOptionsReal cannot say: it only checks the number */
  PetscCall(KfOptionsReal(PetscOptionsObject, "-kernel_q", "Exponent q in (0, 2) (1: energy distance, fast rsqrt path)", 1.0, -PETSC_MAX_REAL, PETSC_MAX_REAL, PETSC_FALSE, &k->q, NULL));
  PetscCheck(k->q > 0 && k->q < 2, PETSC_COMM_WORLD, KF_ERR_INPUT, "-kernel_q %s: out of range; expected a real number in (0, 2) (at q = 2 the discrepancy only compares means)", KF_NUM(k->q));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetUpRiesz(KfKernel k)
{
  PetscFunctionBeginUser;
  k->a1     = k->q / 2 - 1;
  k->gscale = -k->q;
  k->pscale = 1;
  k->var    = k->q == 1 ? &var_riesz1 : &var_riesz;
  k->k0     = 0;
  k->finite = PETSC_TRUE;
  PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "riesz q = %s in R^%d%s", KF_NUM(k->q), (int)k->dim, k->q == 1 ? " (energy distance)" : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetUpLaplace(KfKernel k)
{
  PetscFunctionBeginUser;
  k->a0     = -1 / k->h;
  k->gscale = -1 / k->h;
  k->pscale = 1;
  k->var    = &var_laplace;
  k->k0     = 1;
  k->finite = PETSC_TRUE;
  PetscCall(PetscSNPrintf(k->desc, sizeof(k->desc), "laplace h = %s in R^%d", KF_NUM(k->h), (int)k->dim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ============================================================================ registry and options */

/* Each entry reads its own parameters in its own options block (titled by its formula), like the density
   registry, so that -help lists every kernel's parameters once, whichever kernel a run creates first. */
typedef struct {
  const char *name;
  PetscBool   torus, free;
  const char *title; /* of the parameter block; NULL: no parameters of its own */
  PetscErrorCode (*read)(PetscOptionItems *, KfKernel);
  PetscErrorCode (*setup)(KfKernel);
} KernelEntry;

static const KernelEntry registry[] = {
    {"sobolev", PETSC_TRUE, PETSC_FALSE, "sobolev kernel K_s on the torus", ReadSobolev, SetUpSobolev},
    {"gaussian", PETSC_TRUE, PETSC_TRUE, "gaussian kernel exp(-|r|^2/(2h^2)), periodised on the torus", ReadH, SetUpGaussian},
    {"imq", PETSC_FALSE, PETSC_TRUE, "imq kernel (c^2+|r|^2)^(-beta)", ReadImq, SetUpImq},
    {"riesz", PETSC_FALSE, PETSC_TRUE, "riesz kernel -|r|^q (q = 1: energy distance)", ReadRiesz, SetUpRiesz},
    {"laplace", PETSC_FALSE, PETSC_TRUE, "laplace kernel exp(-|r|/h)", ReadH, SetUpLaplace},
};

/* registry's names as a PETSc enum table (for KfOptionsEnum's checked reading) */
static const char *const kernel_names[] = {"sobolev", "gaussian", "imq", "riesz", "laplace", "KfKernelType", "KF_KERNEL_", NULL};

#define KERNEL_HELP                                                                                                                                             \
  "Pair kernel: sobolev (torus: K_s with Fourier multiplier (2 pi |k|/L)^(-2s), s = -s; d = 1 closed forms need s > 1/2, d = 2, 3 Ewald sums any 0 < s < 50), gaussian (exp(-|r|^2/(2h^2)), periodised on the torus), " \
  "imq ((c^2+|r|^2)^(-beta)), riesz (-|r|^q, q = 1: energy distance), laplace (exp(-|r|/h)); imq, riesz, laplace need -domain free. Default: sobolev on the torus, gaussian in free space"

static PetscErrorCode Available(PetscInt domain, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  buf[0] = 0;
  for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
    if (!(domain == KF_DOMAIN_TORUS ? registry[i].torus : registry[i].free)) continue;
    PetscCall(PetscStrlcat(buf, buf[0] ? ", " : "", len));
    PetscCall(PetscStrlcat(buf, registry[i].name, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadDomainKernel(MPI_Comm comm, KfKernel k)
{
  PetscInt domain = KF_DOMAIN_TORUS;
  char     avail[128];

  PetscFunctionBeginUser;
  PetscOptionsBegin(comm, NULL, "Pair kernel of the particle mode", "kmdflow");
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-domain", "Domain of the particles: torus [0,L)^d (periodic) or free (R^d)", KfDomains, KF_DOMAIN_TORUS, &domain));
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-kernel", KERNEL_HELP, kernel_names, domain == KF_DOMAIN_TORUS ? 0 : 1, &k->kind));
  PetscOptionsEnd();
  k->domain = (KfDomain)domain;
  PetscCall(Available(domain, avail, sizeof(avail)));
  PetscCheck(domain == KF_DOMAIN_TORUS ? registry[k->kind].torus : registry[k->kind].free, PETSC_COMM_WORLD, KF_ERR_INPUT, "-kernel %s: not available with -domain %s; available there: %s", registry[k->kind].name, KfDomains[domain], avail);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadParameters(MPI_Comm comm, const KernelEntry *e, KfKernel k)
{
  PetscFunctionBeginUser;
  if (!e->read) PetscFunctionReturn(PETSC_SUCCESS);
  PetscOptionsBegin(comm, NULL, e->title, "kmdflow");
  PetscCall(e->read(PetscOptionsObject, k));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelCreate(MPI_Comm comm, const KfParams *p, KfKernel *kernel)
{
  struct _p_KfKernel k;

  PetscFunctionBeginUser;
  *kernel = NULL;
  PetscCall(PetscMemzero(&k, sizeof(k)));
  k.dim = p->dim;
  k.L   = p->L;
  k.s   = p->s;
  PetscCheck(k.dim >= 1 && k.dim <= KF_MAX_DIM, comm, PETSC_ERR_ARG_OUTOFRANGE, "dimension %d: kernels exist for d = 1..3", (int)k.dim);
  PetscCall(ReadDomainKernel(comm, &k));
  PetscCall(ReadParameters(comm, &registry[k.kind], &k));
  PetscCall(registry[k.kind].setup(&k));
  PetscCall(PetscNew(kernel));
  **kernel = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelCreateGaussian(PetscInt dim, KfDomain domain, PetscReal L, PetscReal h, KfKernel *kernel)
{
  struct _p_KfKernel k;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&k, sizeof(k)));
  k.dim    = dim;
  k.L      = L;
  k.h      = h;
  k.domain = domain;
  k.kind   = 1;
  PetscCheck(dim >= 1 && dim <= KF_MAX_DIM && h > 0 && (domain == KF_DOMAIN_FREE || h <= L), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "gaussian kernel: d = %d, h = %g", (int)dim, (double)h);
  PetscCall(SetUpGaussian(&k));
  PetscCall(PetscNew(kernel));
  **kernel = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads (and so, with -help, prints) the options of every kernel, without creating one. */
PetscErrorCode KfKernelHelp(MPI_Comm comm, const KfParams *p)
{
  struct _p_KfKernel k;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&k, sizeof(k)));
  k.dim = p->dim;
  k.L   = p->L;
  PetscCall(ReadDomainKernel(comm, &k));
  for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) PetscCall(ReadParameters(comm, &registry[i], &k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelDestroy(KfKernel *k)
{
  PetscFunctionBeginUser;
  if (!*k) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KfEwaldDestroy(&(*k)->ewald));
  PetscCall(PetscFree(*k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelDescribe(KfKernel k, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(buf, k->desc, len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelGetDomain(KfKernel k, KfDomain *domain)
{
  PetscFunctionBeginUser;
  *domain = k->domain;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelSelfValue(KfKernel k, PetscReal *k0, PetscBool *finite)
{
  PetscFunctionBeginUser;
  *finite = k->finite;
  *k0     = k->finite ? k->k0 : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelEval(KfKernel k, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  PetscFunctionBeginUser;
  k->var->eval(k, r, K, grad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

void KfKernelTile(KfKernel k, PetscInt nt, PetscInt ldt, const PetscReal *xt, PetscInt ns, PetscInt lds, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *pot)
{
  k->var->tile[k->dim - 1][pot != NULL](k, nt, ldt, xt, ns, lds, xs, qs, grad, pot);
}

PetscErrorCode KfKernelGetOps(KfKernel k, PetscBool with_pot, KfKernelOps *ops)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(ops, sizeof(*ops)));
  k->var->ops(k, with_pot, ops);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelCost(KfKernel k, PetscReal *flops)
{
  KfKernelOps ops;

  PetscFunctionBeginUser;
  PetscCall(KfKernelGetOps(k, PETSC_FALSE, &ops));
  *flops = ops.flops;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfKernelGetLongRange(KfKernel k, PetscInt *nk, const PetscInt **kv, const PetscReal **coef)
{
  PetscFunctionBeginUser;
  *nk = 0;
  if (kv) *kv = NULL;
  if (coef) *coef = NULL;
  if (k->ewald) PetscCall(KfEwaldLongModes(k->ewald, nk, kv, coef));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Fourier coefficients c_k of the torus kernels, K(x) = sum_k c_k e^{2 pi i k.x/L}: sobolev lambda_s(k) (0 at k = 0);
  the periodised gaussian (2 pi h^2)^{d/2} L^{-d} e^{-2 pi^2 h^2 |k|^2/L^2} (the images the tile drops weigh < e^-40).
*/
PetscErrorCode KfKernelFourierCoefficient(KfKernel k, const PetscInt kv[], PetscReal *ck)
{
  PetscReal k2 = 0;

  PetscFunctionBeginUser;
  PetscCheck(k->domain == KF_DOMAIN_TORUS, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "Fourier coefficients exist for torus kernels only");
  for (PetscInt c = 0; c < k->dim; c++) k2 += (PetscReal)(kv[c] * kv[c]);
  if (k->kind == 0) *ck = k2 > 0 ? pow(4 * PETSC_PI * PETSC_PI * k2 / (k->L * k->L), -k->s) : 0;
  else *ck = pow(2 * PETSC_PI * k->h * k->h / (k->L * k->L), 0.5 * (PetscReal)k->dim) * exp(-2 * PETSC_PI * PETSC_PI * k->h * k->h * k2 / (k->L * k->L));
  PetscFunctionReturn(PETSC_SUCCESS);
}
