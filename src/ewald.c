/* ewald.c - the periodic Sobolev kernel K_s on the d-torus by Ewald splitting (math spec B.3), any d <= 3, s > 0

   Everything is computed on the unit torus and scaled at the end (spec A.2): K^(L)(x) = L^{2s} K^(1)(x/L),
   grad K^(L)(x) = L^{2s-1} (grad K^(1))(x/L). With z = |y|^2/(4 tau0) for an image y = x + n, B.3's
   (|y|^2/4)^{s-d/2} Gamma(d/2 - s, z) equals tau0^{s-d/2} E_p(z) with p = 1 + s - d/2 (substitute u = z t in
   the Gamma integral), and its gradient term (|y|^2/4)^{s-1-d/2} Gamma(d/2 + 1 - s, z) equals tau0^{s-1-d/2}
   E_{p-1}(z). E_p stays finite and smooth down to r = 0 whenever the kernel does (p > 1 iff 2s > d), so
   one function covers the singular, logarithmic and continuous kernels without z^a Gamma(-a, z)
   products that over/underflow near r = 0. The long-range coefficients use GSL's regularized Q(s, z),
   a second, independent implementation: the tau0-independence tests then check the two against
   each other. */
#include "kf_ewald.h"
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_zeta.h>
#include <math.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------ E_p(z), real p */

/*
  Data of one order p that the series branch needs, computed once. With a = 1 - p,
    E_p(z) = Gamma(a) z^{-a} - sum_{k >= 0} (-z)^k / (k! (a + k)).
  Near a pole of Gamma(a) (a close to -m, m = 0, 1, ...) the term k = m is nearly infinite and of
  opposite sign: the pair is summed in closed form,
    Gamma(a) z^{-a} - (-z)^m / (m! eps) = (-1)^m z^m / m! * expm1(eps u) / eps,  eps = a + m,  u = C(eps)/eps - ln z,
  with C(eps) = ln Gamma(1 + eps) - sum_{j=1..m} ln(1 - eps/j), so the integer orders (the log terms of
  E_1, E_2, ...) and the orders just beside them are equally accurate.
*/
typedef struct {
  PetscReal p, a;
  PetscInt  m;       /* the paired series term; -1 when a > 1/2 (Gamma(a) is then far from its poles) */
  PetscReal eps;     /* a + m, in [-1/2, 1/2] */
  PetscReal cpair;   /* C(eps)/eps; its limit at eps = 0 is psi(m + 1) */
  PetscReal sgnfact; /* (-1)^m / m! */
  PetscReal gamma_a; /* Gamma(a) when m = -1 */
} ExpIntOrder;

#define KF_EULER_GAMMA 0.57721566490153286061

static void ExpIntOrderSetUp(PetscReal p, ExpIntOrder *o)
{
  o->p = p;
  o->a = 1 - p;
  if (o->a > 0.5) {
    o->m       = -1;
    o->eps     = 0;
    o->cpair   = 0;
    o->sgnfact = 0;
    o->gamma_a = tgamma(o->a);
    return;
  }
  o->m       = (PetscInt)floor(-o->a + 0.5);
  o->eps     = o->a + (PetscReal)o->m;
  o->gamma_a = 0;
  o->sgnfact = 1;
  for (PetscInt j = 1; j <= o->m; j++) o->sgnfact /= -(PetscReal)j;
  /* ln Gamma(1 + eps)/eps = -gamma + sum_{k >= 2} (-1)^k zeta(k) eps^{k-1}/k: direct lgamma(1 + eps) would lose
     the digits of eps that rounding 1 + eps drops, and they are all that matters after dividing by eps. */
  {
    PetscReal sum = -KF_EULER_GAMMA, pw = 1;

    for (int k = 2; k < 200; k++) {
      PetscReal t;

      pw *= -o->eps;
      t = -pw * gsl_sf_zeta_int(k) / k; /* (-1)^k eps^{k-1} = -(-eps)^{k-1} */
      sum += t;
      if (PetscAbsReal(t) < 1e-18) break;
    }
    for (PetscInt j = 1; j <= o->m; j++) sum += o->eps == 0 ? 1.0 / (PetscReal)j : -log1p(-o->eps / (PetscReal)j) / o->eps;
    o->cpair = sum;
  }
}

/* 0 < z < 1: the terms fall like z^k/k!, and the cancellation is at most about one digit. */
static inline PetscReal ExpIntSeries(const ExpIntOrder *o, PetscReal z)
{
  PetscReal sum = 0, term = 1, lead;

  for (PetscInt k = 0; k < 100; k++) {
    if (k != o->m) sum += term / (o->a + (PetscReal)k);
    if (k > o->m && PetscAbsReal(term) < 1e-17 * PetscAbsReal(sum)) break;
    term *= -z / (PetscReal)(k + 1);
  }
  if (o->m < 0)
    lead = o->gamma_a * pow(z, -o->a);
  else {
    const PetscReal u  = o->cpair - log(z);
    PetscReal       zm = o->sgnfact;

    for (PetscInt j = 0; j < o->m; j++) zm *= z;
    lead = zm * (o->eps == 0 ? u : expm1(o->eps * u) / o->eps);
  }
  return lead - sum;
}

/*
  z >= 1: the continued fraction E_p(z) = e^{-z}/(z + p - 1 p/(z + p + 2 - 2 (p + 1)/(z + p + 4 - ...))) summed
  backwards from a fixed depth. Forward (Lentz) evaluation multiplies some 100 rounding errors at z ~ 1 (up
  to 1e-14 measured); backward it stays at a few ulp. The depth 12 + 100/z was measured against mpmath:
  6e-16 is reached for -1.5 < p < 40 with 10-20% to spare (94 terms at z = 1, 16 at z = 10, 9 at z = 40);
  larger p converge faster.
*/
static inline PetscReal ExpIntCFDenom(PetscReal p, PetscReal z)
{
  const int n = 12 + (int)(100 / z);
  PetscReal t = 0;

  for (int i = n; i > 0; i--) t = -(PetscReal)i * (p - 1 + (PetscReal)i) / (z + p + 2 * (PetscReal)i + t);
  return z + p + t;
}

static inline PetscReal ExpIntCF(PetscReal p, PetscReal z)
{
  return exp(-z) / ExpIntCFDenom(p, z);
}

static inline PetscReal ExpIntEval(const ExpIntOrder *o, PetscReal z)
{
  if (z >= 1) return ExpIntCF(o->p, z);
  if (z > 0) return ExpIntSeries(o, z);
  if (z == 0) return o->p > 1 ? 1 / (o->p - 1) : PETSC_INFINITY;
  return NAN;
}

PetscReal KfExpIntE(PetscReal p, PetscReal z)
{
  ExpIntOrder o;

  if (!(z >= 0) || p != p) return NAN;
  if (z >= 1) return ExpIntCF(p, z);
  ExpIntOrderSetUp(p, &o);
  return ExpIntEval(&o, z);
}

/* e^z E_p(z), z > 0: the table's function (the continued fraction without its factor e^{-z}, so that e^z never overflows). */
static PetscReal ExpIntScaled(const ExpIntOrder *o, PetscReal z)
{
  return z >= 1 ? 1 / ExpIntCFDenom(o->p, z) : exp(z) * ExpIntSeries(o, z);
}

/*
  The pair loops spend their time in E_p and E_{p-1}, so both are tabulated (kf_ewald.h, KfEwaldTable) as
  e^{-z} times one polynomial per binade [2^e, 2^{e+1}) of z, in t = z/2^{e-1} - 3 in [-1, 1):
  - binades because E_p has a branch point at z = 0 (z^{p-1}, or a logarithm for integer p <= 1) that sits at
    t = -3 for every binade, so that all pieces converge alike, like 5.8^{-n}, down to any z;
  - e^{-z} because e^z E_p(z) ~ 1/(z + p) is then as smooth at large z as at small z (on [16, 32) E_p itself
    would need some 40 terms);
  - KF_EWALD_TERMS = 22 terms: an error below 4e-15 relative for p > -1.5 and 3e-17 for p >= 0 (measured with
    mpmath on binades from 2^-11 to 32); 20 terms would give 1e-13 at p = -1.5. The check below, which also sees
    the rounding of the direct evaluation, finds at most 5.3e-15 for d = 1..3, 0.01 <= s <= 49.9 and
    1e-16 < tol < 1e-2;
  - KF_EWALD_BINADES = 16 binades, the top one beyond 2 z_c, so that the SIMD tile picks each coefficient
    for 8 lanes with one two-register permute instead of a gather. Pairs below the first binade (z < 2^-10 at
    tol = 1e-13, |y| < 0.003: a fraction 3e-5 of the pairs in d = 2) take the direct evaluation.
  Each binade is fitted from 2 KF_EWALD_TERMS Chebyshev nodes (the truncated discrete Chebyshev transform:
  near-minimax, and it averages the rounding of the node values) and converted to monomials in long double.
  The fit is checked against the direct evaluation between the nodes when it is built; a table that misses
  2e-14 relative is dropped and the direct evaluation used everywhere, which is always right, only slow.
*/
#define KF_EWALD_NODES (2 * KF_EWALD_TERMS)
_Static_assert(KF_EWALD_TERMS % 2 == 0, "BinadePoly splits the terms into even and odd halves");
#define KF_EWALD_TABLE_TOL 2e-14

typedef struct {
  PetscInt   e0;        /* binade b = 0..15 covers z in [2^(e0 + b), 2^(e0 + b + 1)) */
  PetscReal  zlo, ztop; /* 2^e0, 2^(e0 + 16); +inf if the fit failed its check (c is then not used) */
  PetscReal *c, *mem;   /* c (64-byte aligned in mem): [f][k][b], f = 0 for E_p, 1 for E_{p-1}, coefficient k of t^k */
} BinadeTable;

/* Monomial coefficients c[k * KF_EWALD_BINADES] (k < KF_EWALD_TERMS) of scale e^z E_p(z) on z = zb (3 + t)/2, t in [-1, 1]. */
static void BinadeFit(const ExpIntOrder *o, PetscReal scale, PetscReal zb, PetscReal *c)
{
  const long double pi = 3.141592653589793238462643383279502884L;
  long double       cheb[KF_EWALD_TERMS], mono[KF_EWALD_TERMS] = {0}, tprev[KF_EWALD_TERMS] = {0}, tcur[KF_EWALD_TERMS] = {1};
  PetscReal         v[KF_EWALD_NODES];

  for (int j = 0; j < KF_EWALD_NODES; j++) v[j] = scale * ExpIntScaled(o, 0.5 * zb * (3 + (PetscReal)cosl(pi * (j + 0.5L) / KF_EWALD_NODES)));
  for (int k = 0; k < KF_EWALD_TERMS; k++) {
    long double sum = 0;

    for (int j = 0; j < KF_EWALD_NODES; j++) sum += v[j] * cosl(pi * k * (j + 0.5L) / KF_EWALD_NODES);
    cheb[k] = (k ? 2 : 1) * sum / KF_EWALD_NODES;
  }
  /* mono = sum_k cheb[k] T_k, the T_k as coefficient arrays: T_1 = t, T_{k+1} = 2 t T_k - T_{k-1} */
  for (int k = 0; k < KF_EWALD_TERMS; k++) {
    long double tnext[KF_EWALD_TERMS];

    for (int i = 0; i <= k; i++) mono[i] += cheb[k] * tcur[i];
    for (int i = 0; i < KF_EWALD_TERMS; i++) tnext[i] = (i ? (k ? 2 : 1) * tcur[i - 1] : 0) - (k ? tprev[i] : 0);
    for (int i = 0; i < KF_EWALD_TERMS; i++) {
      tprev[i] = tcur[i];
      tcur[i]  = tnext[i];
    }
  }
  for (int k = 0; k < KF_EWALD_TERMS; k++) c[k * KF_EWALD_BINADES] = (PetscReal)mono[k];
}

/* sum_k c[k KF_EWALD_BINADES] t^k as E(t^2) + t O(t^2), the even and odd terms by Horner with fma: two chains of half the
   length (the SIMD tile does the same; its latency is what this halves). */
static inline PetscReal BinadePoly(const PetscReal *c, PetscReal t)
{
  const PetscReal t2 = t * t;
  PetscReal       ev = c[(KF_EWALD_TERMS - 2) * KF_EWALD_BINADES], od = c[(KF_EWALD_TERMS - 1) * KF_EWALD_BINADES];

  for (int k = KF_EWALD_TERMS - 4; k >= 0; k -= 2) {
    ev = fma(ev, t2, c[k * KF_EWALD_BINADES]);
    od = fma(od, t2, c[(k + 1) * KF_EWALD_BINADES]);
  }
  return fma(od, t, ev);
}

/* The table's function f at z in [zlo, ztop) (scalar); t = 4 m - 3 and the binade from frexp's m in [1/2, 1) are exact. */
static inline PetscReal BinadeEval(const BinadeTable *tab, int f, PetscReal z)
{
  int             ex;
  const PetscReal t = 4 * frexp(z, &ex) - 3;

  return exp(-z) * BinadePoly(&tab->c[f * KF_EWALD_TERMS * KF_EWALD_BINADES + (ex - 1 - tab->e0)], t);
}

/* Worst relative error of the polynomial of function f against scale e^z E_p(z) on binade b, between and beyond the nodes. */
static PetscReal BinadeCheck(const BinadeTable *tab, int f, const ExpIntOrder *o, PetscReal scale, PetscInt b)
{
  const PetscReal zb    = ldexp(1.0, (int)(tab->e0 + b));
  PetscReal       worst = 0;

  for (int i = 0; i <= 3 * KF_EWALD_TERMS; i++) {
    const PetscReal t = -1 + 2.0 * i / (3 * KF_EWALD_TERMS), ref = scale * ExpIntScaled(o, 0.5 * zb * (3 + t));

    worst = PetscMax(worst, PetscAbsReal(BinadePoly(&tab->c[f * KF_EWALD_TERMS * KF_EWALD_BINADES + b], t) - ref) / PetscAbsReal(ref));
  }
  return worst;
}

/* Tables of scale[0] E_p and scale[1] E_{p-1} (o[0], o[1]) up to beyond 2 zc. */
static PetscErrorCode BinadeTableBuild(const ExpIntOrder *o[2], const PetscReal scale[2], PetscReal zc, BinadeTable *tab)
{
  const PetscInt n     = 2 * KF_EWALD_TERMS * KF_EWALD_BINADES;
  PetscReal      worst = 0;

  PetscFunctionBeginUser;
  tab->e0   = (PetscInt)floor(log2(zc)) + 2 - KF_EWALD_BINADES; /* 2^(floor(log2 zc) + 2) > 2 zc */
  tab->zlo  = ldexp(1.0, (int)tab->e0);
  tab->ztop = ldexp(1.0, (int)tab->e0 + KF_EWALD_BINADES);
  PetscCall(PetscMalloc1(n + 7, &tab->mem));
  tab->c = (PetscReal *)(((uintptr_t)tab->mem + 63) & ~(uintptr_t)63); /* each row of 16 in one or two cache lines, never split */
  for (int f = 0; f < 2; f++)
    for (PetscInt b = 0; b < KF_EWALD_BINADES; b++) {
      BinadeFit(o[f], scale[f], ldexp(1.0, (int)(tab->e0 + b)), &tab->c[f * KF_EWALD_TERMS * KF_EWALD_BINADES + b]);
      worst = PetscMax(worst, BinadeCheck(tab, f, o[f], scale[f], b));
    }
  PetscCall(PetscInfo(NULL, "E_p table: binades 2^%" PetscInt_FMT "..2^%" PetscInt_FMT ", worst relative error %g\n", tab->e0, tab->e0 + KF_EWALD_BINADES, (double)worst));
  if (!(worst <= KF_EWALD_TABLE_TOL)) tab->zlo = tab->ztop = PETSC_INFINITY; /* unused, but kept: SIMD code reads it in masked-off lanes */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------- the object */

struct _p_KfEwald {
  PetscInt  dim;
  PetscReal s, L, tol;
  PetscBool tol_given; /* false: the split was given and tol is only its estimate */
  /* the split on the unit torus */
  PetscReal tau0, rc, M;
  PetscInt  nimg; /* images n with |n_j| <= nimg can come within rc of a point of [-1/2, 1/2)^d */
  /* short part: K = kamp sum E_p(z) - kconst, grad = gamp sum y E_{p-1}(z), z = |y|^2 inv4t */
  ExpIntOrder F, G;
  BinadeTable tab; /* kamp E_p and gamp E_{p-1} */
  PetscReal   inv4t, kamp, gamp, kconst, Kscale;
  /* long part */
  PetscInt   nk, kmax;
  PetscInt  *k;
  PetscReal *coef, klong0;
  PetscReal *phase; /* work of KfEwaldEval: cos and sin of 2 pi k x_j, k = -kmax..kmax, per axis */
};

/* Reduction to the nearest image, [-1/2, 1/2) per axis, on the unit torus; exact under r -> -r except at +-1/2.
   x is padded with zeros to KF_MAX_DIM, so that the loops below have a constant trip count. */
static inline void ReduceUnit(PetscInt d, PetscReal L, const PetscReal r[], PetscReal x[KF_MAX_DIM])
{
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
    const PetscReal u = j < d ? r[j] / L : 0;

    x[j] = u - floor(u + 0.5);
  }
}

/* Adds kamp E_p(z) to *sk (if wanted) and gamp y E_{p-1}(z) to sg (if wanted) for one image y (zero-padded) with |y|^2 = r2 < r_c^2. */
static inline void ShortTerm(const struct _p_KfEwald *ew, const PetscReal y[KF_MAX_DIM], PetscReal r2, PetscReal *sk, PetscReal sg[KF_MAX_DIM])
{
  const PetscReal z   = r2 * ew->inv4t;
  const PetscBool tab = (PetscBool)(z >= ew->tab.zlo && z < ew->tab.ztop);

  if (sk) *sk += tab ? BinadeEval(&ew->tab, 0, z) : ew->kamp * ExpIntEval(&ew->F, z);
  if (sg && r2 > 0) { /* at r = 0 the term is odd and vanishes: the convention grad K(0) = 0 */
    const PetscReal g = tab ? BinadeEval(&ew->tab, 1, z) : ew->gamp * ExpIntEval(&ew->G, z);

    for (PetscInt j = 0; j < KF_MAX_DIM; j++) sg[j] += y[j] * g;
  }
}

/* Short part on the unit torus at a reduced x (zero-padded); K and g may be NULL. With r_c <= 1/2 (KfEwaldCreate) only
   the nearest image can be within r_c, and the image loop is skipped. */
static inline void ShortUnit(const struct _p_KfEwald *ew, const PetscReal x[], PetscReal *K, PetscReal g[])
{
  const PetscInt  d = ew->dim, ni = ew->nimg;
  const PetscReal rc2 = ew->rc * ew->rc;
  PetscReal       sk = 0, sg[KF_MAX_DIM] = {0, 0, 0};

  if (!ni) {
    PetscReal r2 = 0;

    for (PetscInt j = 0; j < KF_MAX_DIM; j++) r2 += x[j] * x[j];
    if (r2 < rc2) ShortTerm(ew, x, r2, K ? &sk : NULL, g ? sg : NULL);
  } else {
    const PetscInt n1max = d > 1 ? ni : 0, n2max = d > 2 ? ni : 0;

    for (PetscInt n0 = -ni; n0 <= ni; n0++)
      for (PetscInt n1 = -n1max; n1 <= n1max; n1++)
        for (PetscInt n2 = -n2max; n2 <= n2max; n2++) {
          const PetscInt n[KF_MAX_DIM] = {n0, n1, n2};
          PetscReal      y[KF_MAX_DIM] = {0, 0, 0}, r2 = 0;

          for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
            y[j] = x[j] + (PetscReal)n[j];
            r2 += y[j] * y[j];
          }
          if (r2 < rc2) ShortTerm(ew, y, r2, K ? &sk : NULL, g ? sg : NULL);
        }
  }
  if (K) *K = sk - ew->kconst;
  if (g)
    for (PetscInt j = 0; j < d; j++) g[j] = sg[j];
}

/* Half space: the first nonzero component is positive, so k and -k are listed once. */
static PetscBool InHalfSpace(PetscInt d, const PetscInt k[])
{
  for (PetscInt j = 0; j < d; j++)
    if (k[j]) return k[j] > 0 ? PETSC_TRUE : PETSC_FALSE;
  return PETSC_FALSE;
}

#define KF_EWALD_MAX_MODES 20000000

/* Everything that follows from (dim, s, L, tau0, rc, M). */
static PetscErrorCode EwaldSetUp(KfEwald ew)
{
  const PetscInt       d = ew->dim;
  const PetscReal      s = ew->s, hd = 0.5 * (PetscReal)d;
  PetscReal            amp;
  PetscInt             kmax, kb[KF_MAX_DIM], nk = 0, n2max;
  PetscReal           *cn2;
  gsl_error_handler_t *old;

  PetscFunctionBeginUser;
  ew->nimg = (PetscInt)ceil(ew->rc + 0.5) - 1; /* |x_j + n_j| >= |n_j| - 1/2 must stay below rc */
  ExpIntOrderSetUp(1 + s - hd, &ew->F);
  ExpIntOrderSetUp(s - hd, &ew->G);
  amp        = pow(4 * PETSC_PI, -hd) * pow(ew->tau0, s - hd) / tgamma(s);
  ew->Kscale = pow(ew->L, 2 * s);
  ew->inv4t  = 1 / (4 * ew->tau0);
  ew->kamp   = ew->Kscale * amp;
  ew->gamp   = -pow(ew->L, 2 * s - 1) * amp / (2 * ew->tau0);
  ew->kconst = ew->Kscale * pow(ew->tau0, s) / tgamma(s + 1);
  {
    const ExpIntOrder *o[2]     = {&ew->F, &ew->G};
    const PetscReal    scale[2] = {ew->kamp, ew->gamp};

    PetscCall(BinadeTableBuild(o, scale, ew->rc * ew->rc * ew->inv4t, &ew->tab));
  }

  /* Long part: c_k = L^{2s} (4 pi^2 |k|^2)^{-s} Q(s, 4 pi^2 |k|^2 tau0) depends on |k|^2 only, tabulated by it. */
  kmax     = (PetscInt)floor(ew->M);
  n2max    = (PetscInt)floor(ew->M * ew->M);
  ew->kmax = kmax;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) kb[j] = j < d ? kmax : 0;
  PetscCall(PetscMalloc1(n2max + 1, &cn2));
  old = gsl_set_error_handler_off(); /* GSL's default handler aborts, e.g. on a harmless underflow of Q */
  for (PetscInt n2 = 1; n2 <= n2max; n2++) {
    const PetscReal w = 4 * PETSC_PI * PETSC_PI * (PetscReal)n2;
    gsl_sf_result   q;
    int             st = gsl_sf_gamma_inc_Q_e(s, w * ew->tau0, &q);

    if (st == GSL_EUNDRFLW)
      q.val = 0;
    else if (st) {
      gsl_set_error_handler(old);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "gsl_sf_gamma_inc_Q(%g, %g) failed: %s", (double)s, (double)(w * ew->tau0), gsl_strerror(st));
    }
    cn2[n2] = ew->Kscale * pow(w, -s) * q.val;
  }
  gsl_set_error_handler(old);
  for (int pass = 0; pass < 2; pass++) {
    nk = 0;
    for (PetscInt k0 = 0; k0 <= kb[0]; k0++)
      for (PetscInt k1 = -kb[1]; k1 <= kb[1]; k1++)
        for (PetscInt k2 = -kb[2]; k2 <= kb[2]; k2++) {
          const PetscInt kk[KF_MAX_DIM] = {k0, k1, k2}, n2 = k0 * k0 + k1 * k1 + k2 * k2;

          if (n2 > n2max || !InHalfSpace(d, kk)) continue;
          if (pass) {
            for (PetscInt j = 0; j < d; j++) ew->k[nk * d + j] = kk[j];
            ew->coef[nk] = cn2[n2];
          }
          nk++;
        }
    if (!pass) {
      ew->nk = nk;
      PetscCall(PetscMalloc2(PetscMax(nk, 1) * d, &ew->k, PetscMax(nk, 1), &ew->coef));
    }
  }
  PetscCall(PetscFree(cn2));
  ew->klong0 = 0;
  for (PetscInt m = 0; m < ew->nk; m++) ew->klong0 += 2 * ew->coef[m];
  PetscCall(PetscMalloc1(2 * d * (2 * kmax + 1), &ew->phase));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckCommon(PetscInt dim, PetscReal s, PetscReal L)
{
  PetscFunctionBeginUser;
  PetscCheck(dim >= 1 && dim <= KF_MAX_DIM, PETSC_COMM_SELF, KF_ERR_INPUT, "Ewald sums need dimension 1, 2 or 3, not %" PetscInt_FMT, dim);
  PetscCheck(s > 0 && s < 50, PETSC_COMM_SELF, KF_ERR_INPUT, "Ewald sums need a Sobolev order 0 < s < 50, not %s", KF_NUM(s));
  PetscCheck(L > 0 && PetscIsNormalReal(L), PETSC_COMM_SELF, KF_ERR_INPUT, "the period L must be positive, not %s", KF_NUM(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rough count of the half-space modes, to refuse splits that would not fit in memory before allocating. */
static PetscReal ModeEstimate(PetscInt d, PetscReal M)
{
  const PetscReal vol[] = {0, 2, PETSC_PI, 4 * PETSC_PI / 3};

  return 0.5 * vol[d] * pow(M + 1, (PetscReal)d);
}

/*
  The split for a tolerance (spec B.3): r_c = L/2, the largest radius at which a point of the cell
  [-L/2, L/2)^d has no image but its nearest within r_c, so the short part is one term and the
  Fourier sum is as short as the real-space sum allows; tau0 = r_c^2/(4 (ln(1/tol) + margin_r)) makes the
  dropped images e^{-r_c^2/(4 tau0)} small, M = sqrt((ln(1/tol) + margin_f)/(4 pi^2 tau0)) the dropped modes
  e^{-4 pi^2 M^2 tau0}. The margins cover the algebraic prefactors of the two tails, and were measured, not
  guessed: the truncation error over tol (relative to the floors of kf_ewald.h) for d = 1..3,
  0.05 <= s <= 30 and 1e-15 <= tol <= 1e-3 is at most 1.2 without margins, set by the real-space tail of
  grad K at small s in d = 3 (its prefactor |y|/(2 tau0) ~ 100). margin_r = 1 brings it to 0.55 for 5% more
  modes in d = 3; the Fourier side needs none (0.35). tests/unit/test_ewald.c checks it at 1e-4 and 1e-8.
*/
#define KF_EWALD_RC 0.5
#define KF_EWALD_MARGIN_R 1.0
#define KF_EWALD_MARGIN_F 0.0

PetscErrorCode KfEwaldCreate(PetscInt dim, PetscReal s, PetscReal L, PetscReal tol, KfEwald *ew)
{
  PetscReal lam, tau0, M;

  PetscFunctionBeginUser;
  *ew = NULL;
  PetscCall(CheckCommon(dim, s, L));
  PetscCheck(tol > 1e-16 && tol < 1e-2, PETSC_COMM_SELF, KF_ERR_INPUT, "the Ewald tolerance must lie in (1e-16, 1e-2), not %s", KF_NUM(tol));
  lam  = -log(tol);
  tau0 = KF_EWALD_RC * KF_EWALD_RC / (4 * (lam + KF_EWALD_MARGIN_R));
  M    = sqrt((lam + KF_EWALD_MARGIN_F) / (4 * PETSC_PI * PETSC_PI * tau0));
  PetscCall(KfEwaldCreateWithSplit(dim, s, L, tau0, KF_EWALD_RC, M, ew));
  (*ew)->tol       = tol;
  (*ew)->tol_given = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfEwaldCreateWithSplit(PetscInt dim, PetscReal s, PetscReal L, PetscReal tau0, PetscReal rc, PetscReal M, KfEwald *ewp)
{
  KfEwald ew;

  PetscFunctionBeginUser;
  *ewp = NULL;
  PetscCall(CheckCommon(dim, s, L));
  PetscCheck(tau0 > 0 && tau0 < 1, PETSC_COMM_SELF, KF_ERR_INPUT, "the Ewald split time tau0 must lie in (0, 1) (units of L^2), not %s", KF_NUM(tau0));
  PetscCheck(rc > 0 && rc <= 4, PETSC_COMM_SELF, KF_ERR_INPUT, "the Ewald real-space cutoff must lie in (0, 4] (units of L), not %s", KF_NUM(rc));
  PetscCheck(M >= 0 && ModeEstimate(dim, M) <= KF_EWALD_MAX_MODES, PETSC_COMM_SELF, KF_ERR_INPUT, "the Ewald Fourier cutoff %s gives more than %d modes", KF_NUM(M), KF_EWALD_MAX_MODES);
  PetscCall(PetscNew(&ew));
  ew->dim       = dim;
  ew->s         = s;
  ew->L         = L;
  ew->tau0      = tau0;
  ew->rc        = rc;
  ew->M         = M;
  ew->tol       = PetscMax(exp(-rc * rc / (4 * tau0)), exp(-4 * PETSC_PI * PETSC_PI * M * M * tau0));
  ew->tol_given = PETSC_FALSE;
  PetscCall(EwaldSetUp(ew));
  *ewp = ew;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfEwaldDestroy(KfEwald *ew)
{
  PetscFunctionBeginUser;
  if (!*ew) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2((*ew)->k, (*ew)->coef));
  PetscCall(PetscFree((*ew)->phase));
  PetscCall(PetscFree((*ew)->tab.mem));
  PetscCall(PetscFree(*ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfEwaldDescribe(KfEwald ew, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "Ewald d = %" PetscInt_FMT ", s = %s, L = %s, tau0 = %s L^2, r_c = %s L, M = %s, modes = %" PetscInt_FMT ", tol = %s%s", ew->dim, KF_NUM(ew->s), KF_NUM(ew->L), KF_NUM(ew->tau0),
                          KF_NUM(ew->rc), KF_NUM(ew->M), ew->nk, KF_NUM(ew->tol), ew->tol_given ? "" : " (estimate of the given split)"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfEwaldGetSplit(KfEwald ew, PetscReal *tau0, PetscReal *rc, PetscReal *M, PetscReal *shortconst)
{
  PetscFunctionBeginUser;
  if (tau0) *tau0 = ew->tau0;
  if (rc) *rc = ew->rc;
  if (M) *M = ew->M;
  if (shortconst) *shortconst = -ew->kconst;
  PetscFunctionReturn(PETSC_SUCCESS);
}

void KfEwaldShortPair(KfEwald ew, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  PetscReal x[KF_MAX_DIM] = {0, 0, 0};

  ReduceUnit(ew->dim, ew->L, r, x);
  ShortUnit(ew, x, K, grad);
}

void KfEwaldShortUnit(KfEwald ew, const PetscReal y[], PetscReal *K, PetscReal grad[])
{
  ShortUnit(ew, y, K, grad);
}

void KfEwaldGetTable(KfEwald ew, KfEwaldTable *t)
{
  const PetscBool fast = (PetscBool)(ew->nimg == 0 && ew->tab.zlo < PETSC_INFINITY);

  t->invL   = 1 / ew->L;
  t->inv4t  = ew->inv4t;
  t->wscale = fast ? ldexp(ew->inv4t, -(int)ew->tab.e0) : 0;
  t->rc2    = fast ? ew->rc * ew->rc : PETSC_INFINITY;
  t->kconst = ew->kconst;
  t->cK     = ew->tab.c;
  t->cG     = ew->tab.c + KF_EWALD_TERMS * KF_EWALD_BINADES;
}

PetscErrorCode KfEwaldShort(KfEwald ew, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  PetscFunctionBeginUser;
  KfEwaldShortPair(ew, r, K, grad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Long part by the mode list; the phases are products of per-axis cos/sin tables, d complex products per mode. */
PetscErrorCode KfEwaldEval(KfEwald ew, const PetscReal r[], PetscReal *K, PetscReal grad[])
{
  const PetscInt d = ew->dim, nk = ew->nk, kmax = ew->kmax, w = 2 * kmax + 1;
  PetscReal      x[KF_MAX_DIM] = {0, 0, 0}, kl = 0, gl[KF_MAX_DIM] = {0, 0, 0};
  PetscReal     *ph = ew->phase;

  PetscFunctionBeginUser;
  ReduceUnit(d, ew->L, r, x);
  ShortUnit(ew, x, K, grad);
  for (PetscInt j = 0; j < d; j++)
    for (PetscInt k = -kmax; k <= kmax; k++) {
      const PetscReal t = 2 * PETSC_PI * (PetscReal)k * x[j];

      ph[2 * (j * w + k + kmax)]     = cos(t);
      ph[2 * (j * w + k + kmax) + 1] = sin(t);
    }
  for (PetscInt m = 0; m < nk; m++) {
    const PetscInt *km = &ew->k[m * d];
    PetscReal       re = 1, im = 0;

    for (PetscInt j = 0; j < d; j++) {
      const PetscReal *e = &ph[2 * (j * w + km[j] + kmax)], t = re * e[0] - im * e[1];

      im = re * e[1] + im * e[0];
      re = t;
    }
    kl += ew->coef[m] * re;
    for (PetscInt j = 0; j < d; j++) gl[j] += ew->coef[m] * (PetscReal)km[j] * im;
  }
  if (K) *K += 2 * kl;
  if (grad)
    for (PetscInt j = 0; j < d; j++) grad[j] -= 4 * PETSC_PI / ew->L * gl[j];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfEwaldSelfValue(KfEwald ew, PetscReal *k0, PetscBool *finite)
{
  const PetscReal zero[KF_MAX_DIM] = {0, 0, 0};

  PetscFunctionBeginUser;
  if (finite) *finite = (PetscBool)(2 * ew->s > (PetscReal)ew->dim);
  if (2 * ew->s > (PetscReal)ew->dim) {
    PetscCall(KfEwaldShort(ew, zero, k0, NULL));
    *k0 += ew->klong0;
  } else
    *k0 = PETSC_INFINITY;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfEwaldLongModes(KfEwald ew, PetscInt *nk, const PetscInt **k, const PetscReal **coef)
{
  PetscFunctionBeginUser;
  if (nk) *nk = ew->nk;
  if (k) *k = ew->k;
  if (coef) *coef = ew->coef;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfEwaldLongSelf(KfEwald ew, PetscReal *klong0)
{
  PetscFunctionBeginUser;
  *klong0 = ew->klong0;
  PetscFunctionReturn(PETSC_SUCCESS);
}
