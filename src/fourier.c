/* fourier.c - exact Fourier sums between points and a list of wave vectors (kf_fourier.h) */
#include <math.h>
#include "kf_fourier.h"

/* Fixed point: a term t in [-1, 1] is w0 + w1 2^-28 + w2 2^-56 in units of 2^-28 (3 words per real). */
#define KF_FP_BITS 28
#define KF_FP_WORDS 3
#define KF_FP_MAX_POINTS (1LL << 34) /* |sum of w0| <= 2^28 * 2^34 < 2^63 */

struct _p_KfFourier {
  MPI_Comm   comm;
  PetscInt   dim, nk, kmax;
  PetscInt   block; /* B of the phase factorisation k = B q + j */
  PetscReal  L;
  PetscInt  *k;     /* nk x dim */
  PetscReal *phase; /* one point's e^{2 pi i k x_c / L}, k = -kmax..kmax, per axis (interleaved re, im) */
  int64_t   *acc;   /* nk x 2 x KF_FP_WORDS fixed-point sums, plus the point count */
};

PetscErrorCode KfFourierCreate(MPI_Comm comm, PetscInt dim, PetscReal L, PetscInt nk, const PetscInt k[], KfFourier *out)
{
  KfFourier F;

  PetscFunctionBeginUser;
  PetscCheck(dim >= 1 && dim <= KF_MAX_DIM, comm, PETSC_ERR_ARG_OUTOFRANGE, "Fourier sums in d = %" PetscInt_FMT ": need 1..3", dim);
  PetscCheck(nk >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "negative number of modes %" PetscInt_FMT, nk);
  PetscCall(PetscNew(&F));
  F->comm = comm;
  F->dim  = dim;
  F->nk   = nk;
  F->L    = L;
  for (PetscInt i = 0; i < nk * dim; i++) F->kmax = PetscMax(F->kmax, PetscAbsInt(k[i]));
  PetscCall(PetscMalloc1(PetscMax(1, nk * dim), &F->k));
  PetscCall(PetscArraycpy(F->k, k, nk * dim));
  PetscCall(PetscMalloc1(2 * dim * (2 * F->kmax + 1), &F->phase));
  F->block = PetscMax(1, (PetscInt)PetscCeilReal(PetscSqrtReal((PetscReal)F->kmax)));
  PetscCall(PetscMalloc1(2 * KF_FP_WORDS * nk + 1, &F->acc));
  *out = F;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfFourierDestroy(KfFourier *F)
{
  PetscFunctionBeginUser;
  if (!*F) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*F)->k));
  PetscCall(PetscFree((*F)->phase));
  PetscCall(PetscFree((*F)->acc));
  PetscCall(PetscFree(*F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfFourierGetList(KfFourier F, PetscInt *nk, const PetscInt **k)
{
  PetscFunctionBeginUser;
  if (nk) *nk = F->nk;
  if (k) *k = F->k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  cos and sin of 2 pi k x_c / L for one point, every axis c and |k| <= kmax. With k = B q + j (B about sqrt(kmax)),
  e^{iku} = e^{iBqu} e^{iju}: 2 sqrt(kmax) libm calls instead of kmax, each factor from libm and one complex product,
  so the error stays at a few ulp (the rounding of k u itself, |k u| eps, is as large). The result depends only on
  the point and kmax: the same bits on every rank.
*/
static void PointPhases(KfFourier F, PetscInt ld, const PetscReal x[], PetscInt i)
{
  const PetscInt w = 2 * F->kmax + 1, B = F->block;

  for (PetscInt c = 0; c < F->dim; c++) {
    const PetscReal u = 2 * PETSC_PI * x[c * ld + i] / F->L;
    PetscReal      *ph = F->phase + 2 * (c * w + F->kmax);

    for (PetscInt j = 0; j < B && j <= F->kmax; j++) {
      ph[2 * j]     = cos(j * u);
      ph[2 * j + 1] = sin(j * u);
    }
    for (PetscInt q = B; q <= F->kmax; q += B) {
      const PetscReal cq = cos(q * u), sq = sin(q * u);

      for (PetscInt j = 0; j < B && q + j <= F->kmax; j++) {
        ph[2 * (q + j)]     = cq * ph[2 * j] - sq * ph[2 * j + 1];
        ph[2 * (q + j) + 1] = sq * ph[2 * j] + cq * ph[2 * j + 1];
      }
    }
    for (PetscInt k = 1; k <= F->kmax; k++) {
      ph[-2 * k]     = ph[2 * k];
      ph[-2 * k + 1] = -ph[2 * k + 1];
    }
  }
}

/* e^{i theta_m} of the current point for mode m: the product of its per-axis factors. */
static inline void ModePhase(KfFourier F, PetscInt m, PetscReal *re, PetscReal *im)
{
  const PetscInt  w  = 2 * F->kmax + 1;
  const PetscInt *km = F->k + m * F->dim;
  PetscReal       a = 1, b = 0;

  for (PetscInt c = 0; c < F->dim; c++) {
    const PetscReal *e = F->phase + 2 * (c * w + km[c] + F->kmax), t = a * e[0] - b * e[1];

    b = a * e[1] + b * e[0];
    a = t;
  }
  *re = a;
  *im = b;
}

/* Adds t (|t| <= 1 + a few ulp) to three words: scaling by 2^28 and removing integer parts are exact. */
static inline void FixedAdd(int64_t *w, PetscReal t)
{
  const PetscReal scale = 0x1p28;
  PetscReal       y     = t * scale;
  int64_t         a     = (int64_t)y;

  y = (y - (PetscReal)a) * scale;
  w[0] += a;
  a = (int64_t)y;
  w[1] += a;
  w[2] += (int64_t)nearbyint((y - (PetscReal)a) * scale);
}

/* The real number the three (exactly summed) words stand for; carries first so each lower word is in [0, 2^28). */
static PetscReal FixedValue(const int64_t *w)
{
  const int64_t base = (int64_t)1 << KF_FP_BITS;
  int64_t       w0 = w[0], w1 = w[1], w2 = w[2], c;

  c = w2 / base - (w2 % base < 0);
  w2 -= c * base;
  w1 += c;
  c = w1 / base - (w1 % base < 0);
  w1 -= c * base;
  w0 += c;
  return ((PetscReal)w0 + ((PetscReal)w1 + (PetscReal)w2 * 0x1p-28) * 0x1p-28) * 0x1p-28;
}

/* Sums q_j e^{-i theta} (q = NULL: 1) into the fixed-point accumulators, exactly across ranks; S = scale * sum. */
static PetscErrorCode Structure(KfFourier F, PetscInt n, PetscInt ld, const PetscReal x[], const PetscReal q[], PetscReal scale, PetscReal S[])
{
  const PetscInt nw = 2 * KF_FP_WORDS * F->nk;

  PetscFunctionBeginUser;
  PetscCall(PetscArrayzero(F->acc, nw + 1));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal qi = q ? q[i] : 1;

    PointPhases(F, ld, x, i);
    for (PetscInt m = 0; m < F->nk; m++) {
      PetscReal re, im;

      ModePhase(F, m, &re, &im);
      FixedAdd(F->acc + 2 * KF_FP_WORDS * m, qi * re);
      FixedAdd(F->acc + 2 * KF_FP_WORDS * m + KF_FP_WORDS, -qi * im); /* e^{-i theta} */
    }
  }
  F->acc[nw] = n;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, F->acc, (int)(nw + 1), MPI_INT64_T, MPI_SUM, F->comm));
  PetscCheck(F->acc[nw] <= KF_FP_MAX_POINTS, F->comm, PETSC_ERR_SUP, "exact structure factors need at most 2^34 points, not %" PetscInt64_FMT, (PetscInt64)F->acc[nw]);
  for (PetscInt m = 0; m < 2 * F->nk; m++) S[m] = scale * FixedValue(F->acc + KF_FP_WORDS * m);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfFourierStructure(KfFourier F, PetscInt n, PetscInt ld, const PetscReal x[], PetscReal q, PetscReal S[])
{
  PetscFunctionBeginUser;
  PetscCall(Structure(F, n, ld, x, NULL, q, S));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfFourierStructureWeighted(KfFourier F, PetscInt n, PetscInt ld, const PetscReal x[], const PetscReal q[], PetscReal S[])
{
  PetscFunctionBeginUser;
  PetscCall(Structure(F, n, ld, x, q, 1.0, S));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfFourierField(KfFourier F, const PetscReal a[], PetscInt n, PetscInt ld, const PetscReal x[], PetscReal grad[], PetscReal pot[])
{
  const PetscReal twopi_L = 2 * PETSC_PI / F->L;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n; i++) {
    PetscReal p = 0, g[KF_MAX_DIM] = {0, 0, 0};

    PointPhases(F, ld, x, i);
    for (PetscInt m = 0; m < F->nk; m++) {
      const PetscInt *km = F->k + m * F->dim;
      PetscReal       re, im, fre, fim;

      ModePhase(F, m, &re, &im);
      fre = a[2 * m] * re - a[2 * m + 1] * im; /* a_m e^{i theta} */
      fim = a[2 * m] * im + a[2 * m + 1] * re;
      p += fre;
      for (PetscInt c = 0; c < F->dim; c++) g[c] += (PetscReal)km[c] * fim;
    }
    if (pot) pot[i] += 2 * p;
    if (grad)
      for (PetscInt c = 0; c < F->dim; c++) grad[c * ld + i] -= 2 * twopi_L * g[c];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
