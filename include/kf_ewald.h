/* kf_ewald.h - the periodic Sobolev kernel K_s on the d-torus by Ewald splitting (math spec A.2, B.3) */
#pragma once
#include "kf.h"

/*
  K_s(x) = sum_{k != 0} lambda_s(k) e^{2 pi i k.x/L}, lambda_s(k) = (2 pi |k| / L)^{-2s}, on the torus [0, L)^d,
  d = 1, 2, 3 and any real 0 < s < 50, split at the heat-kernel time tau0 (math spec B.3) into

    K_s = K_short + K_long,
    K_short(x) = L^{2s} [ A sum_{n: |x/L + n| < r_c} E_p(|x/L + n|^2 / (4 tau0)) - tau0^s / Gamma(s + 1) ],
    K_long(x)  = sum_m coef[m] 2 cos(2 pi k_m . x / L)   (k_m on a half space, 0 < |k_m| <= M),

  with A = (4 pi)^{-d/2} tau0^{s - d/2} / Gamma(s), p = 1 + s - d/2 and E_p the generalized exponential
  integral (KfExpIntE; E_p(z) = z^{p-1} Gamma(1 - p, z), the Gamma(d/2 - s, .) of B.3). tau0 (in units of L^2),
  r_c (in units of L) and M (a radius in the integer k lattice) describe the split on the unit torus, so they
  do not depend on L. The constant -L^{2s} tau0^s / Gamma(s + 1) belongs to the short part at every r (also
  beyond r_c): it is the k = 0 mode that the heat kernel contains and K_s does not, and the long-mode list
  has no k = 0, so structure-factor sums never need it.

  Accuracy (KfEwaldCreate): the absolute errors of K and grad K stay below tol times the floors
  S_K = max |K_s(x)| and S_G = max |grad K_s(x)| over |x|_inf >= L/8, or below tol times |K| and |grad K|
  themselves where these are larger (near r = 0 when the kernel is singular there), down to the rounding
  level of about 1e-14. Measured: at most 0.55 tol for d = 1..3, 0.05 <= s <= 30, 1e-15 <= tol <= 1e-3;
  at tol = 1e-13, agreement with exact Fourier sums and closed forms to 1.1e-13 (tests/unit/test_ewald.c).

  Cost (tol = 1e-13, r_c = L/2): KfEwaldShort takes some 30-70 ns (e^{-z} times a polynomial from a table of
  E_p; nothing beyond r_c); the AVX-512 tile of src/kernel.c, which sums the same table with 8 targets in
  SIMD lanes, 2.4-3 ns per pair (gradient only) and 4.3-4.6 ns with the potential (docs/benchmark.md); there
  are 19 (d = 1), 592 (d = 2) and 15275 (d = 3) long modes.

  Objects are not thread-safe (KfEwaldEval uses a work array inside the object); every other call only reads.
  Nothing here is collective: every rank makes its own object from the same input.
*/
typedef struct _p_KfEwald *KfEwald;

/* Chooses tau0, r_c, M for the tolerance; tabulates the long-range coefficients c_k for k in a half space (k and -k paired). */
PETSC_EXTERN PetscErrorCode KfEwaldCreate(PetscInt dim, PetscReal s, PetscReal L, PetscReal tol, KfEwald *);
/* The same with the split given (tests; studies of the cost): tau0 in units of L^2, rc in units of L (images of r within rc are
   summed, so rc > 1/2 is allowed), M a radius in the integer k lattice. tol is then only estimated, as max(e^{-rc^2/(4 tau0)}, e^{-4 pi^2 M^2 tau0}). */
PETSC_EXTERN PetscErrorCode KfEwaldCreateWithSplit(PetscInt dim, PetscReal s, PetscReal L, PetscReal tau0, PetscReal rc, PetscReal M, KfEwald *);
PETSC_EXTERN PetscErrorCode KfEwaldDestroy(KfEwald *);
/* "Ewald d = 2, s = 1.5, L = 1, tau0 = ... L^2, r_c = ... L, M = ..., modes = ..., tol = ..." */
PETSC_EXTERN PetscErrorCode KfEwaldDescribe(KfEwald, char[], size_t);
/* The split on the unit torus and the constant -L^{2s} tau0^s/Gamma(s+1) that KfEwaldShort includes; any output may be NULL. */
PETSC_EXTERN PetscErrorCode KfEwaldGetSplit(KfEwald, PetscReal *tau0, PetscReal *rc, PetscReal *M, PetscReal *shortconst);

/* Full kernel at one displacement r (any r, periodic): K_s(r) and grad K_s(r) = short + long parts. grad at r = 0 is 0; K at r = 0 is the self value if 2s > d (+inf otherwise). K or grad may be NULL. */
PETSC_EXTERN PetscErrorCode KfEwaldEval(KfEwald, const PetscReal r[], PetscReal *K, PetscReal grad[]);
/* K_s(0) = (2 pi / L)^{-2s} Z_d(2s) when 2s > d (finite = PETSC_TRUE); +inf and PETSC_FALSE otherwise. */
PETSC_EXTERN PetscErrorCode KfEwaldSelfValue(KfEwald, PetscReal *k0, PetscBool *finite);

/* Short-range part only, for pair loops: sum over the images of r within r_c, plus the constant; the long part is done from structure factors by the caller.
   Same conventions at r = 0 as KfEwaldEval. K or grad may be NULL (a velocity needs only grad, which skips half the work). */
PETSC_EXTERN PetscErrorCode KfEwaldShort(KfEwald, const PetscReal r[], PetscReal *K, PetscReal grad[]);
/* The same as a plain function for loops (no PETSc error stack; the object is only read, so it is thread-safe). */
PETSC_EXTERN void KfEwaldShortPair(KfEwald, const PetscReal r[], PetscReal *K, PetscReal grad[]);
/* The same on the unit torus for a reduced displacement y (|y_j| <= 1/2, KF_MAX_DIM entries, zero beyond d): what SIMD tiles call for the pairs their table does not cover. */
PETSC_EXTERN void KfEwaldShortUnit(KfEwald, const PetscReal y[], PetscReal *K, PetscReal grad[]);

/*
  The short part as SIMD tiles evaluate it (src/kernel.c). For a reduced displacement y on the unit torus, r2 = |y|^2,
  z = r2 inv4t and w = r2 wscale = z/2^e0 (exactly: wscale = inv4t 2^-e0), on the pairs with w >= 1 and r2 < rc2
    K_short = e^{-z} P_K(w) - kconst,  grad K_short = y e^{-z} P_G(w),
  P_f on the binade b = floor(log2 w) (0 <= b < KF_EWALD_BINADES) the polynomial sum_k c_f[k KF_EWALD_BINADES + b] t^k,
  t = w/2^{b-1} - 3 in [-1, 1) (exact); the scales L^{2s}, L^{2s-1} are in the coefficients. Beyond r_c (r2 >= rc2):
  K_short = -kconst, grad 0. Every other pair (w < 1: |y| < 0.003 at tol = 1e-13, a fraction 3e-5 of uniform pairs in
  d = 2; or r = 0, where the caller has its own convention) is for KfEwaldShortUnit; r2 < rc2 implies
  w < 2^KF_EWALD_BINADES. wscale = 0 and rc2 = +inf when the table cannot be used (a split with r_c > 1/2, so several
  images, or a fit that failed its check): every pair is then for KfEwaldShortUnit. The coefficients (64-byte aligned)
  belong to the object. Accuracy: 5.3e-15 relative at worst, checked when the object is made (src/ewald.c).
*/
#define KF_EWALD_TERMS 22
#define KF_EWALD_BINADES 16
typedef struct {
  PetscReal        invL, inv4t, wscale, rc2, kconst;
  const PetscReal *cK, *cG; /* KF_EWALD_TERMS x KF_EWALD_BINADES each */
} KfEwaldTable;
PETSC_EXTERN void KfEwaldGetTable(KfEwald, KfEwaldTable *);

/* Long-range modes for structure-factor evaluation: nk wave vectors (integer k, half space, k != 0), coef[m] = the real coefficient multiplying
   e^{2πik·x/L} + e^{-2πik·x/L} (so K_long(x) = Σ_m coef[m] 2cos(2πk_m·x/L)); the caller computes S(k) = Σ_j q_j e^{-2πik·X_j/L}.
   The arrays belong to the object (valid until KfEwaldDestroy). Half space: the first nonzero component of k_m is positive. */
PETSC_EXTERN PetscErrorCode KfEwaldLongModes(KfEwald, PetscInt *nk, const PetscInt **k /* nk x dim */, const PetscReal **coef);
/* K_long(0) = Σ_m 2 coef[m], the self term to remove from Σ_{i,j} q_i q_j K_long(X_i - X_j) = Σ_m 2 coef[m] |S(k_m)|^2 when i = j is excluded. */
PETSC_EXTERN PetscErrorCode KfEwaldLongSelf(KfEwald, PetscReal *klong0);

/* The generalized exponential integral E_p(z) = ∫_1^∞ e^{-zt} t^{-p} dt = z^{p-1} Γ(1-p, z) for real p > -1.5 and z > 0
   (at z = 0: 1/(p-1) if p > 1, +inf otherwise; NaN for z < 0). Relative error below 6e-15 where tested (-1.45 <= p <= 12.5,
   1e-12 <= z <= 60, against mpmath); GSL's gamma_inc loses up to 5 digits for small z and -0.5 < 1 - p < 0. */
PETSC_EXTERN PetscReal KfExpIntE(PetscReal p, PetscReal z);
