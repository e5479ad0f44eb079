/* kf_kernel.h - registry of pair kernels K(r) of the particle mode and their tiled, SIMD hot loop */
#pragma once
#include "kf.h"
#include "kf_params.h"

#define KF_KERNEL_WIDTH 8 /* targets per register block; callers pad target counts to a multiple */

typedef enum {
  KF_DOMAIN_TORUS,
  KF_DOMAIN_FREE
} KfDomain;
PETSC_EXTERN const char *const KfDomains[];

typedef struct _p_KfKernel *KfKernel;

/*
  Kernels (-kernel NAME; parameters -kernel_h, -kernel_c, -kernel_beta, -kernel_q; -help lists them):
    -domain torus (default, positions in [0, L)^d, L = -L):
      sobolev   (default) K_s with Fourier multiplier (2 pi |k|/L)^-2s, s = -s (math spec A.2/A.3).
                d = 1: integer s <= 8: Bernoulli polynomials; other s > 1/2: the Hurwitz-zeta closed form as an
                even power series plus |x|^{2s-1} (or, for 2s odd, x^{2s-1} log|x|); s <= 1/2 (infinite K(0)) and
                s within 1e-3 of a half-integer other than the half-integer itself are refused.
                d = 2, 3, any 0 < s < 50: Ewald splitting (kf_ewald.h, math spec B.3) with -ewald_tol (default
                1e-13): the tile sums the short-range part, and the caller adds the long-range part from the
                modes of KfKernelGetLongRange (structure factors). K(0) is infinite for 2s <= d.
      gaussian  sum over images n in Z^d of exp(-|r + nL|^2/(2h^2)), 0 < h <= L (default 1); per axis the
                images |n| <= floor(sqrt(80) h/L + 1/2) (dropped ones weigh < e^-40 of the peak).
    -domain free (R^d, d = 1..3; math spec B.6):
      gaussian  (default) exp(-|r|^2/(2h^2)), h > 0 (default 1)
      imq       (c^2 + |r|^2)^-beta, c > 0 (default 1), beta > 0 (default 0.5; 0.5 is the rsqrt fast path)
      riesz     -|r|^q, 0 < q < 2 (default 1, the energy distance, rsqrt fast path); gradient 0 at r = 0
      laplace   exp(-|r|/h), h > 0 (default 1); gradient 0 at r = 0
*/

/*
  Reads -domain torus|free, -kernel NAME and the kernel's parameters (checked; errors name option, value,
  valid range); dim, s, L come from KfParams (p->dim, p->s, p->L). Collective on comm (reads options).
  Errors: KF_ERR_INPUT for bad options.
*/
PETSC_EXTERN PetscErrorCode KfKernelCreate(MPI_Comm, const KfParams *, KfKernel *);
/* The gaussian kernel exp(-|r|^2/(2h^2)) (periodised on the torus, h <= L) without reading options: for
   smoothing kernels such as the density estimates of the entropy. Not collective. */
PETSC_EXTERN PetscErrorCode KfKernelCreateGaussian(PetscInt dim, KfDomain, PetscReal L, PetscReal h, KfKernel *);
PETSC_EXTERN PetscErrorCode KfKernelDestroy(KfKernel *);
/* One line, e.g. "sobolev s = 1 on the torus L = 6.28319 (Bernoulli closed form)". */
PETSC_EXTERN PetscErrorCode KfKernelDescribe(KfKernel, char[], size_t);
/* Registers every -domain/-kernel option so that -help prints them (like KfDensityHelp). */
PETSC_EXTERN PetscErrorCode KfKernelHelp(MPI_Comm, const KfParams *);
PETSC_EXTERN PetscErrorCode KfKernelGetDomain(KfKernel, KfDomain *);
/* K(0) if finite (finite = PETSC_TRUE), else finite = PETSC_FALSE and *k0 = 0. */
PETSC_EXTERN PetscErrorCode KfKernelSelfValue(KfKernel, PetscReal *k0, PetscBool *finite);
/*
  Reference evaluation at one displacement r (d components): K(r) and grad K(r); for tests and small sums.
  Scalar libm code, independent of the tile's SIMD arithmetic. On the torus r may be any real vector.
*/
PETSC_EXTERN PetscErrorCode KfKernelEval(KfKernel, const PetscReal r[], PetscReal *K, PetscReal grad[]);

/*
  The hot loop. SoA layout: component c of target i is xt[c*ldt + i] (i < nt), of source j is xs[c*lds + j]
  (j < ns); qs[j] the source charges.
  Accumulates  grad[c*ldt + i] += sum_j qs[j] * dK/dr_c (xt_i - xs_j)  and, if pot != NULL,
  pot[i] += sum_j qs[j] * K(xt_i - xs_j).
  nt is a multiple of KF_KERNEL_WIDTH. A pair at exactly zero displacement contributes gradient 0 and potential
  K0 (the self value if finite, else 0; for a kernel with long-range modes, K0 minus their value at 0, so that the
  tile plus the modes give K0); for the kernels singular at 0 (riesz, laplace gradients, non-integer
  sobolev) a pair with |r|^2 below DBL_MIN (|r| < 1.5e-154) counts as coincident too.
  On the torus positions must lie in [0, L) (the displacement is wrapped once, not reduced).
  Each target's sum runs over j = 0..ns-1 in that order with the same instruction sequence for every target
  (targets in SIMD lanes, sources streamed), so the result for target i depends only on (xt_i, the source
  tile) and never on i's position in the tile or on nt: this makes the solver bitwise reproducible on any
  number of MPI ranks (for one binary on one kind of CPU: AVX-512 builds use the hardware rsqrt14 estimate).
  No PETSc calls inside; no allocation; thread-safe.
*/
PETSC_EXTERN void KfKernelTile(KfKernel, PetscInt nt, PetscInt ldt, const PetscReal *xt, PetscInt ns, PetscInt lds, const PetscReal *xs, const PetscReal *qs, PetscReal *grad, PetscReal *pot);

/*
  Cost model of KfKernelTile, per KF_KERNEL_WIDTH interactions (one SIMD register of 8 doubles):
  vector instructions by port class, as counted in the source of the AVX-512 build.
    fma:   FMA, multiply (the 2 FMA pipes of Zen 5 / ports 0 and 5 of Intel AVX-512 cores)
    add:   add, subtract, compare, blend, logic, round, scalef, getexp/getmant (Zen 5: 2 FADD pipes; Intel:
           the same 2 ports as fma)
    uops:  extra micro-ops of multi-uop instructions on Intel (rsqrt14: +2, roundscale: +1)
    div:   divisions (divider unit, not pipelined)
  Flop convention (per interaction): add, sub, mul, div, rsqrt estimate = 1 flop, FMA = 2 flops; compares,
  blends, logic, rounding and exponent manipulation = 0 flops.
*/
typedef struct {
  PetscReal fma, add, uops, div;
  PetscReal flops; /* per interaction */
} KfKernelOps;

/* Flops per interaction of a gradient-only tile (pot == NULL), by the convention above. */
PETSC_EXTERN PetscErrorCode KfKernelCost(KfKernel, PetscReal *flops_per_interaction);
/* The operation counts behind KfKernelCost, for the tile with (with_pot) or without the potential. */
PETSC_EXTERN PetscErrorCode KfKernelGetOps(KfKernel, PetscBool with_pot, KfKernelOps *);

/*
  The vectorised elementary functions of the tile, exposed for accuracy tests: out[i] = f(in[i]) for
  i < n (n a multiple of KF_KERNEL_WIDTH). Measured against long double libm (tests/unit/test_kernel.c):
  exp < 1 ulp on [-745, 709.7] (subnormal results included, 0 below -745.14, +inf above 709.78); log
  < 1.2 ulp for positive normal and subnormal input; rsqrt < 1.2 ulp for normal input (0 below DBL_MIN).
*/
PETSC_EXTERN void KfKernelVecExp(PetscInt n, const PetscReal *in, PetscReal *out);
PETSC_EXTERN void KfKernelVecLog(PetscInt n, const PetscReal *in, PetscReal *out);
PETSC_EXTERN void KfKernelVecRsqrt(PetscInt n, const PetscReal *in, PetscReal *out);

/*
  The part of the kernel that KfKernelTile leaves out, as modes: K = tile part + sum_m coef[m] 2 cos(2 pi k_m.r/L)
  with nk integer wave vectors k_m (nk x dim, a half space). nk = 0 for every kernel but sobolev in d >= 2. The
  arrays belong to the kernel.
*/
PETSC_EXTERN PetscErrorCode KfKernelGetLongRange(KfKernel, PetscInt *nk, const PetscInt **k, const PetscReal **coef);
/* Torus kernels: the coefficient c_k of K(x) = sum_k c_k e^{2 pi i k.x/L} for the integer wave vector k. */
PETSC_EXTERN PetscErrorCode KfKernelFourierCoefficient(KfKernel, const PetscInt k[], PetscReal *ck);
