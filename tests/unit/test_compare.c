/* test_compare.c - the particle-vs-PDE distances of src/compare.c (math spec C.6) against direct sums

   rho and the target nu are trigonometric polynomials with hand-picked modes inside the grid's band (one at its
   corner), sampled on the grid, so their Fourier coefficients are known exactly, independently of any DFT. A few
   particles at fixed positions (one at the origin, one pair coincident) are split over the ranks.

   Oracle, sharing no code with src/compare.c: the full kernel K_s by KfKernelEval pair by pair (Ewald in
   d = 2, 3, Bernoulli in d = 1; K(0) from KfKernelSelfValue for the diagonal and the coincident pair), and
   K * f, <f, K * g> from the exact coefficients:
     E_N            = (1/2) [(1/N^2) sum_ij K(X_i - X_j) - (2/N) sum_i (K*nu)(X_i) + <nu, K*nu>]  (the input),
     ||mu_N - rho||^2 = (1/N^2) sum_ij K(X_i - X_j) - (2/N) sum_i (K*rho)(X_i) + <rho, K*rho>,
   and direct sums over the band (every k != 0 with |k_j| < n_j/2) of lambda_s'(k) |mu_N^(k) - rho^(k)|^2 with
   mu_N^(k) = (1/N) sum_j e^{-2 pi i k.X_j/L}, the tail (K_s'(0) - sum_band lambda_s')/N and the i.i.d.
   expectation. With -compare_s != s, hminus^2 must be hminus_band + hminus_tail. The distances must not depend
   on how the particles are split over the ranks (bitwise: the structure factors are exact sums). In 1-D, the
   circle W1 of the equispaced particles (i + 1/2)/N + offset against rho = 1 is L/(4N) (math spec C.6). */
#include <complex.h>
#include <math.h>
#include "kf_compare.h"
#include "kf_kernel.h"
#include "kf_log.h"
#include "kf_spectral.h"
#include "kf_test.h"

#define TOL_EXACT 1e-12 /* hminus^2 against the direct double sum, relative */
#define TOL_BAND 1e-12  /* band sums, relative */
#define TOL_TAIL 1e-12  /* tail against (K(0) - band)/N, relative to K(0)/N (K(0) of the kernel, Ewald tol 1e-13) */
#define TOL_SQRT 4.5e-16 /* hminus^2 against band + tail: the rounding of a square root and a square */
#define NMODE 5

typedef struct {
  PetscInt  k[3];
  PetscReal a, phi; /* the term a cos(2 pi k.x/L + phi): coefficient a/2 e^{i phi} at k, its conjugate at -k */
} Mode;

typedef struct {
  const char *name;
  const char *opts; /* -dim -n -s -L [-compare_s] */
  PetscInt    N;
} Case;

static const Case cases[] = {
    {"d=2 s=1.5 L=1 n=16 (Ewald), s'=s", "-dim 2 -n 16 -s 1.5 -L 1", 9},
    {"d=2 s=1.5 L=1 n=16 (Ewald), s'=2.5", "-dim 2 -n 16 -s 1.5 -L 1 -compare_s 2.5", 9},
    {"d=2 s=1.5 L=1 n=16 (Ewald), s'=1.25", "-dim 2 -n 16 -s 1.5 -L 1 -compare_s 1.25", 9},
    {"d=2 s=2 L=2pi n=16x12 (Ewald), s'=s", "-dim 2 -n 16,12 -s 2", 12},
    {"d=3 s=2 L=1 n=8 (Ewald), s'=s", "-dim 3 -n 8 -s 2 -L 1", 7},
    {"d=1 s=1 L=1 n=16 (Bernoulli), s'=s", "-dim 1 -n 16 -s 1 -L 1", 8},
    {"d=1 s=2 L=2pi n=16 (Bernoulli), s'=1", "-dim 1 -n 16 -s 2 -compare_s 1", 8},
};

/* rho (first NMODE) and nu (next NMODE) per dimension; a zero amplitude ends a list. The last rho mode is
   replaced by the band's corner (n_j/2 - 1 with alternating signs). */
static const Mode modes[3][2 * NMODE] = {
    {{{1}, 0.2, 0.3}, {{3}, 0.1, 2.0}, {{5}, 0.1, -0.8}, {{6}, 0.05, 0.4}, {{0}, 0.05, 1.2}, {{1}, 0.1, -0.4}, {{2}, 0.2, 0.7}, {{0}, 0, 0}},
    {{{1, 0}, 0.2, 0.3}, {{0, 2}, 0.15, -1.0}, {{3, -1}, 0.1, 2.0}, {{-2, 5}, 0.1, 0.5}, {{0, 0}, 0.05, 1.2},
     {{1, 0}, 0.1, -0.4}, {{1, 1}, 0.2, 0.7}, {{0, -3}, 0.1, 0.2}, {{2, -2}, 0.1, -2.5}, {{0}, 0, 0}},
    {{{1, 0, 0}, 0.2, 0.3}, {{0, 2, 1}, 0.15, -1.0}, {{3, -1, 0}, 0.1, 2.0}, {{-2, 1, -1}, 0.1, 0.5}, {{0, 0, 0}, 0.05, 1.2},
     {{1, 0, 0}, 0.1, -0.4}, {{1, 1, 1}, 0.2, 0.7}, {{0, -3, 0}, 0.1, 0.2}, {{2, -2, 0}, 0.1, -2.5}, {{0}, 0, 0}},
};

typedef struct {
  PetscInt dim, n[3], nm;
  PetscReal L;
  Mode     m[NMODE];
} TrigPoly;

static void PolySetUp(const KfParams *p, PetscInt which, TrigPoly *f)
{
  f->dim = p->dim;
  f->L   = p->L;
  f->nm  = 0;
  for (PetscInt j = 0; j < 3; j++) f->n[j] = j < p->dim ? p->n[j] : 1;
  for (PetscInt i = 0; i < NMODE; i++) {
    Mode mo = modes[p->dim - 1][which * NMODE + i];

    if (mo.a == 0) break;
    if (which == 0 && i == NMODE - 1)
      for (PetscInt j = 0; j < p->dim; j++) mo.k[j] = (j % 2 ? -1 : 1) * (p->n[j] / 2 - 1);
    f->m[f->nm++] = mo;
  }
}

static PetscReal Phase(const TrigPoly *f, const PetscInt k[], const PetscReal x[])
{
  PetscReal th = 0;

  for (PetscInt j = 0; j < f->dim; j++) th += 2 * PETSC_PI * (PetscReal)k[j] * x[j] / f->L;
  return th;
}

static PetscReal Lambda(PetscInt dim, const PetscInt k[], PetscReal s, PetscReal L)
{
  PetscReal k2 = 0;

  for (PetscInt j = 0; j < dim; j++) k2 += (PetscReal)(k[j] * k[j]);
  return pow(4 * PETSC_PI * PETSC_PI * k2 / (L * L), -s);
}

/* The exact coefficient f^(k). */
static KfComplex Coef(const TrigPoly *f, const PetscInt k[])
{
  KfComplex c = 0;

  for (PetscInt i = 0; i < f->nm; i++) {
    PetscBool plus = PETSC_TRUE, minus = PETSC_TRUE;

    for (PetscInt j = 0; j < f->dim; j++) {
      plus  = (PetscBool)(plus && k[j] == f->m[i].k[j]);
      minus = (PetscBool)(minus && k[j] == -f->m[i].k[j]);
    }
    if (plus) c += 0.5 * f->m[i].a * cexp(I * f->m[i].phi);
    if (minus) c += 0.5 * f->m[i].a * cexp(-I * f->m[i].phi);
  }
  {
    PetscBool zero = PETSC_TRUE;

    for (PetscInt j = 0; j < f->dim; j++) zero = (PetscBool)(zero && k[j] == 0);
    if (zero) c += 1; /* mean 1 */
  }
  return c;
}

static PetscReal Value(const TrigPoly *f, const PetscReal x[])
{
  PetscReal v = 1;

  for (PetscInt i = 0; i < f->nm; i++) v += f->m[i].a * cos(Phase(f, f->m[i].k, x) + f->m[i].phi);
  return v;
}

/* (K_s * f)(x) = sum_m lambda(k_m) a_m cos(2 pi k_m.x/L + phi_m). */
static PetscReal Conv(const TrigPoly *f, PetscReal s, const PetscReal x[])
{
  PetscReal v = 0;

  for (PetscInt i = 0; i < f->nm; i++) v += Lambda(f->dim, f->m[i].k, s, f->L) * f->m[i].a * cos(Phase(f, f->m[i].k, x) + f->m[i].phi);
  return v;
}

/* <f, K_s * g> = sum_{k != 0} lambda f^(k) conj(g^(k)): the modes of f, each with its conjugate. */
static PetscReal Inner(const TrigPoly *f, const TrigPoly *g, PetscReal s)
{
  PetscReal v = 0;

  for (PetscInt i = 0; i < f->nm; i++) v += 2 * Lambda(f->dim, f->m[i].k, s, f->L) * creal(Coef(f, f->m[i].k) * conj(Coef(g, f->m[i].k)));
  return v;
}

/* Fills a Vec of sp's layout with f at the grid points of this rank's box. */
static PetscErrorCode PolyFill(KfSpectral sp, const TrigPoly *f, Vec v)
{
  const KfSpectralLayout *lay;
  PetscScalar            *a;
  PetscInt                cnt[3] = {1, 1, 1}, st[3] = {0, 0, 0};

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  for (PetscInt j = 0; j < lay->dim; j++) {
    cnt[j] = lay->count[j];
    st[j]  = lay->start[j];
  }
  PetscCall(VecGetArray(v, &a));
  for (PetscInt i0 = 0, l = 0; i0 < cnt[0]; i0++)
    for (PetscInt i1 = 0; i1 < cnt[1]; i1++)
      for (PetscInt i2 = 0; i2 < cnt[2]; i2++, l++) {
        const PetscInt g[3] = {st[0] + i0, st[1] + i1, st[2] + i2};
        PetscReal      x[3];

        for (PetscInt j = 0; j < lay->dim; j++) x[j] = f->L * (PetscReal)g[j] / (PetscReal)lay->n[j];
        a[l] = Value(f, x);
      }
  PetscCall(VecRestoreArray(v, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Particle j: 0 at the origin, the last one on top of particle 1, the rest a Kronecker sequence in [0, L)^d. */
static void Position(PetscInt j, PetscInt N, PetscInt dim, PetscReal L, PetscReal x[])
{
  static const PetscReal alpha[3] = {0.6180339887498949, 0.7548776662466927, 0.5698402909980532};

  if (j == N - 1) j = 1;
  for (PetscInt c = 0; c < dim; c++) {
    const PetscReal y = fmod((PetscReal)j * alpha[c] + 0.05 * (PetscReal)c, 1.0);

    x[c] = j ? L * y : 0;
  }
}

/* Direct double sum (1/N^2) sum_ij K(X_i - X_j), every pair on every rank (N is small). */
static PetscErrorCode PairSum(KfKernel k, PetscInt N, PetscInt dim, PetscReal L, PetscReal *sum)
{
  PetscReal k0;
  PetscBool finite;

  PetscFunctionBeginUser;
  PetscCall(KfKernelSelfValue(k, &k0, &finite));
  PetscCheck(finite, PETSC_COMM_SELF, PETSC_ERR_PLIB, "K(0) must be finite here");
  *sum = 0;
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) {
      PetscReal xi[3], xj[3], r[3], K, g[3], r2 = 0;

      Position(i, N, dim, L, xi);
      Position(j, N, dim, L, xj);
      for (PetscInt c = 0; c < dim; c++) {
        r[c] = xi[c] - xj[c];
        r2 += r[c] * r[c];
      }
      if (r2 == 0) K = k0;
      else PetscCall(KfKernelEval(k, r, &K, g));
      *sum += K;
    }
  *sum /= (PetscReal)N * (PetscReal)N;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Band sums of order s over every k != 0 with |k_j| < n_j/2: sum lambda |mu^ - rho^|^2, sum lambda, sum lambda |rho^|^2. */
static void BandSums(const TrigPoly *rho, PetscInt N, PetscReal s, PetscReal *band, PetscReal *lsum, PetscReal *rho2)
{
  const PetscInt dim = rho->dim;
  PetscInt       h[3] = {0, 0, 0};

  *band = *lsum = *rho2 = 0;
  for (PetscInt j = 0; j < dim; j++) h[j] = rho->n[j] / 2 - 1;
  for (PetscInt k0 = -h[0]; k0 <= h[0]; k0++)
    for (PetscInt k1 = -h[1]; k1 <= h[1]; k1++)
      for (PetscInt k2 = -h[2]; k2 <= h[2]; k2++) {
        const PetscInt k[3] = {k0, k1, k2};
        KfComplex      mu   = 0, r;
        PetscReal      lam;

        if (!k0 && !k1 && !k2) continue;
        for (PetscInt j = 0; j < N; j++) {
          PetscReal x[3];

          Position(j, N, dim, rho->L, x);
          mu += cexp(-I * Phase(rho, k, x)) / (PetscReal)N;
        }
        r   = Coef(rho, k);
        lam = Lambda(dim, k, s, rho->L);
        *band += lam * cabs(mu - r) * cabs(mu - r);
        *lsum += lam;
        *rho2 += lam * cabs(r) * cabs(r);
      }
}

/* This rank's particles as rows: a block split (split = 0) or all on the last rank (split = 1). */
static PetscErrorCode LocalRows(MPI_Comm comm, PetscInt N, PetscInt dim, PetscReal L, PetscInt split, PetscInt *nl, PetscReal **x)
{
  PetscMPIInt rank, size;
  PetscInt    start;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (split == 0) {
    *nl   = N / size + (rank < N % size);
    start = rank * (N / size) + PetscMin(rank, N % size);
  } else {
    *nl   = rank == size - 1 ? N : 0;
    start = 0;
  }
  PetscCall(PetscMalloc1(PetscMax(1, *nl * dim), x));
  for (PetscInt i = 0; i < *nl; i++) Position(start + i, N, dim, L, &(*x)[i * dim]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunCase(MPI_Comm comm, const Case *T)
{
  KfParams      p, pc;
  KfSpectral    sp;
  KfKernel      k, kc;
  KfCompare     C;
  Vec           rho, nu;
  TrigPoly      fr, fn;
  KfCompareDist dist[2];
  PetscReal     pair = 0, cr = 0, cn = 0, EN, ref, sc, k0c = 0, band, lsum, rho2, tail, iid;
  PetscBool     finite, exact;
  char          where[256];

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsInsertString(NULL, "-mode compare -quiet"));
  PetscCall(PetscOptionsInsertString(NULL, T->opts));
  PetscCall(KfParamsSetFromOptions(comm, &p));
  PetscCall(KfSpectralCreate(comm, p.dim, p.n, KF_PLANNER_ESTIMATE, NULL, 1, &sp));
  PetscCall(KfSpectralCreateVec(sp, &rho));
  PetscCall(VecDuplicate(rho, &nu));
  PolySetUp(&p, 0, &fr);
  PolySetUp(&p, 1, &fn);
  PetscCall(PolyFill(sp, &fr, rho));
  PetscCall(PolyFill(sp, &fn, nu));
  PetscCall(KfCompareCreate(comm, &p, sp, nu, T->N, &C));
  PetscCall(KfCompareGetOrder(C, &sc));
  exact = (PetscBool)(sc == p.s);

  /* the input E_N and the reference ||mu_N - rho||^2 (order s) by direct sums */
  PetscCall(KfKernelCreate(comm, &p, &k));
  PetscCall(PairSum(k, T->N, p.dim, p.L, &pair));
  for (PetscInt j = 0; j < T->N; j++) {
    PetscReal x[3];

    Position(j, T->N, p.dim, p.L, x);
    cr += Conv(&fr, p.s, x) / (PetscReal)T->N;
    cn += Conv(&fn, p.s, x) / (PetscReal)T->N;
  }
  EN  = 0.5 * (pair - 2 * cn + Inner(&fn, &fn, p.s));
  ref = pair - 2 * cr + Inner(&fr, &fr, p.s);

  /* the distances with two splits of the particles over the ranks */
  for (PetscInt split = 0; split < 2; split++) {
    PetscInt   nl = 0;
    PetscReal *x;

    PetscCall(LocalRows(comm, T->N, p.dim, p.L, split, &nl, &x));
    PetscCall(KfCompareDistances(C, rho, nl, x, NULL, EN, &dist[split]));
    PetscCall(PetscFree(x));
  }

  /* band, tail and i.i.d. expectation of order s' (K_s'(0) from a kernel of order s') */
  pc   = p;
  pc.s = sc;
  PetscCall(KfKernelCreate(comm, &pc, &kc));
  PetscCall(KfKernelSelfValue(kc, &k0c, &finite));
  BandSums(&fr, T->N, sc, &band, &lsum, &rho2);
  tail = (k0c - lsum) / (PetscReal)T->N;
  iid  = PetscSqrtReal((k0c - rho2) / (PetscReal)T->N);

  if (exact) {
    PetscCall(PetscSNPrintf(where, sizeof(where), "hminus^2 %.17g, direct %.17g (E_N %.17g)", (double)(dist[0].hminus * dist[0].hminus), (double)ref, (double)EN));
    PetscCall(KfTestCheckValue(comm, T->name, "hminus^2 = direct double sum (rel)", PetscAbsReal(dist[0].hminus * dist[0].hminus - ref) / ref, TOL_EXACT, where));
  } else {
    const PetscReal h2 = dist[0].hminus * dist[0].hminus, bt = dist[0].hminus_band + dist[0].hminus_tail;

    PetscCall(PetscSNPrintf(where, sizeof(where), "hminus^2 %.17g, band + tail %.17g", (double)h2, (double)bt));
    PetscCall(KfTestCheckValue(comm, T->name, "s' != s: hminus^2 = band + tail (rel, 2 ulp)", PetscAbsReal(h2 - bt) / bt, TOL_SQRT, where));
    PetscCall(PetscSNPrintf(where, sizeof(where), "hminus^2 %.17g, exact distance of order s' unknown here; order s: %.17g", (double)h2, (double)ref));
  }
  PetscCall(PetscSNPrintf(where, sizeof(where), "hminus_band %.17g, direct %.17g", (double)dist[0].hminus_band, (double)band));
  PetscCall(KfTestCheckValue(comm, T->name, "hminus_band = direct band sum (rel)", PetscAbsReal(dist[0].hminus_band - band) / band, TOL_BAND, where));
  PetscCall(PetscSNPrintf(where, sizeof(where), "hminus_tail %.17g, (K(0) - sum_band lambda)/N %.17g", (double)dist[0].hminus_tail, (double)tail));
  PetscCall(KfTestCheckValue(comm, T->name, "hminus_tail = (K(0)-sum_band lambda)/N (rel K(0)/N)", PetscAbsReal(dist[0].hminus_tail - tail) / (k0c / (PetscReal)T->N), TOL_TAIL, where));
  PetscCall(PetscSNPrintf(where, sizeof(where), "hminus_iid %.17g, direct %.17g", (double)dist[0].hminus_iid, (double)iid));
  PetscCall(KfTestCheckValue(comm, T->name, "hminus_iid = sqrt((K(0)-band rho)/N) (rel)", PetscAbsReal(dist[0].hminus_iid - iid) / iid, TOL_BAND, where));
  {
    const PetscBool same = (PetscBool)(dist[0].hminus == dist[1].hminus && dist[0].hminus_band == dist[1].hminus_band && dist[0].hminus_tail == dist[1].hminus_tail &&
                                       dist[0].hminus_iid == dist[1].hminus_iid && (p.dim > 1 || dist[0].w1 == dist[1].w1));

    PetscCall(PetscSNPrintf(where, sizeof(where), "block split: %.17g %.17g %.17g, all on the last rank: %.17g %.17g %.17g", (double)dist[0].hminus, (double)dist[0].hminus_band, (double)dist[0].w1, (double)dist[1].hminus,
                            (double)dist[1].hminus_band, (double)dist[1].w1));
    PetscCall(KfTestCheckTrue(comm, T->name, "distances bitwise equal for two particle splits", same, where));
  }
  PetscCall(PetscSNPrintf(where, sizeof(where), "w1 = %g in d = %" PetscInt_FMT, (double)dist[0].w1, p.dim));
  PetscCall(KfTestCheckTrue(comm, T->name, p.dim == 1 ? "w1 finite and positive (d = 1)" : "w1 is NaN (d > 1)", (PetscBool)(p.dim == 1 ? (isfinite(dist[0].w1) && dist[0].w1 > 0) : isnan(dist[0].w1)), where));

  /* d = 1: equispaced particles against rho = 1: W1 = L/(4N) (math spec C.6), hminus = L^s/(sqrt(12) N) for s = 1 */
  if (p.dim == 1) {
    PetscMPIInt rank, size;
    PetscInt    nl = 0, start;
    PetscReal  *x, e2 = 0;

    PetscCall(VecSet(rho, 1.0));
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    PetscCallMPI(MPI_Comm_size(comm, &size));
    nl    = T->N / size + (rank < T->N % size);
    start = rank * (T->N / size) + PetscMin(rank, T->N % size);
    PetscCall(PetscMalloc1(PetscMax(1, nl), &x));
    for (PetscInt i = 0; i < nl; i++) x[i] = p.L * (((PetscReal)(start + i) + 0.5) / (PetscReal)T->N + 0.0123);
    /* E_N for nu: the pair sum of the lattice by KfKernelEval and the nu terms as above */
    for (PetscInt i = 0; i < T->N; i++)
      for (PetscInt j = 0; j < T->N; j++) {
        PetscReal r = p.L * (PetscReal)(i - j) / (PetscReal)T->N, K = 0, g;

        if (i == j) PetscCall(KfKernelSelfValue(k, &K, &finite));
        else PetscCall(KfKernelEval(k, &r, &K, &g));
        e2 += K / ((PetscReal)T->N * (PetscReal)T->N);
      }
    cn = 0;
    for (PetscInt i = 0; i < T->N; i++) {
      const PetscReal xi = p.L * (((PetscReal)i + 0.5) / (PetscReal)T->N + 0.0123);

      cn += Conv(&fn, p.s, &xi) / (PetscReal)T->N;
    }
    EN = 0.5 * (e2 - 2 * cn + Inner(&fn, &fn, p.s));
    PetscCall(KfCompareDistances(C, rho, nl, x, NULL, EN, &dist[0]));
    PetscCall(PetscFree(x));
    PetscCall(PetscSNPrintf(where, sizeof(where), "w1 %.17g, L/(4N) %.17g", (double)dist[0].w1, (double)(p.L / (4.0 * T->N))));
    PetscCall(KfTestCheckValue(comm, T->name, "lattice vs uniform: w1 = L/(4N) (rel)", PetscAbsReal(dist[0].w1 * 4.0 * T->N / p.L - 1), 1e-12, where));
    if (p.s == 1 && exact) {
      PetscCall(PetscSNPrintf(where, sizeof(where), "hminus %.17g, L/(sqrt(12) N) %.17g", (double)dist[0].hminus, (double)(p.L / (PetscSqrtReal(12.0) * T->N))));
      PetscCall(KfTestCheckValue(comm, T->name, "lattice vs uniform: hminus = L/(sqrt(12)N) (rel)", PetscAbsReal(dist[0].hminus * PetscSqrtReal(12.0) * T->N / p.L - 1), 1e-12, where));
    }
  }

  PetscCall(KfKernelDestroy(&kc));
  PetscCall(KfKernelDestroy(&k));
  PetscCall(KfCompareDestroy(&C));
  PetscCall(VecDestroy(&nu));
  PetscCall(VecDestroy(&rho));
  PetscCall(KfSpectralDestroy(&sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_compare on %d rank%s\n", size, size > 1 ? "s" : ""));
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) PetscCall(RunCase(PETSC_COMM_WORLD, &cases[i]));
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  return KfTestMain(argc, argv, "Unit tests of the particle-vs-PDE distances\n", RunAll);
}
