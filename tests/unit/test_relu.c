/* test_relu.c - the arc-cosine interaction of -problem relu (src/relu.c), math spec F.2 and G15

   Oracles, each independent of the closed form under test:
   - Monte Carlo: kappa(c) = E_x[max(theta.x, 0) max(theta'.x, 0)] over 10^6 samples x ~ Unif(S^d) (normalised
     Gaussians from the counter-based generator, split over the ranks by sample id), within 4 standard errors of the
     sample (plain Monte Carlo at 10^6 samples has a relative standard error of 1.4e-3..5e-3, so a fixed 1e-3 bound
     would test the seed, not the kernel); the relative error is printed.
   - Quadrature: the law of x is rotation invariant and its projection onto span(theta, theta') is r (cos phi, sin phi)
     with phi uniform and independent of r, E r^2 = 2/(d+1); so kappa(c) = (2/(d+1)) (1/2pi) int max(cos phi, 0)
     max(cos(phi - psi), 0) dphi, psi = arccos c, by composite Gauss-Legendre on the smooth support [psi - pi/2, pi/2].
   - kappa' against central differences of kappa; kappa(1) = 1/(2(d+1)), kappa(-1) = 0, kappa(0) = 1/(2 pi (d+1)).
   Exits non-zero if any check failed. */
#include <math.h>
#include "kf_relu.h"
#include "kf_rng.h"
#include "kf_test.h"

static const PetscInt  dims[]  = {1, 2, 3, 5};
static const PetscReal coses[] = {-0.9, -0.5, 0.0, 0.5, 0.9, 0.99};
#define NDIMS  (sizeof(dims) / sizeof(dims[0]))
#define NCOSES (sizeof(coses) / sizeof(coses[0]))

static PetscReal Gaussian(uint64_t stream, uint64_t id)
{
  const PetscReal u1 = KfRngUniform(2026, stream, 2 * id), u2 = KfRngUniform(2026, stream, 2 * id + 1);

  return PetscSqrtReal(-2 * PetscLogReal(1 - u1)) * PetscCosReal(2 * PETSC_PI * u2);
}

/* Sums over this rank's samples of y and y^2, y = max(u, 0) max(c u + s v, 0) with (u, v) the first two coordinates
   of x ~ Unif(S^d) (theta = e1, theta' = c e1 + s e2: rotation invariance), for every cosine. */
static void MonteCarloSums(PetscInt d, PetscInt64 n0, PetscInt64 n1, PetscReal sum[], PetscReal sum2[])
{
  for (PetscInt64 id = n0; id < n1; id++) {
    PetscReal x[KF_RELU_MAX_DIM + 1] = {0}, r2 = 0;

    for (PetscInt e = 0; e <= d; e++) {
      x[e] = Gaussian((uint64_t)(100 * d + e), (uint64_t)id);
      r2 += x[e] * x[e];
    }
    for (size_t k = 0; k < NCOSES; k++) {
      const PetscReal c = coses[k], s = PetscSqrtReal(1 - c * c), u = x[0] / PetscSqrtReal(r2), v = x[1] / PetscSqrtReal(r2);
      const PetscReal y = PetscMax(u, 0) * PetscMax(c * u + s * v, 0);

      sum[k] += y;
      sum2[k] += y * y;
    }
  }
}

static PetscErrorCode CheckMonteCarlo(MPI_Comm comm)
{
  const PetscInt64 N = 1000000;
  PetscMPIInt      rank, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  for (size_t id = 0; id < NDIMS; id++) {
    const PetscInt d = dims[id];
    PetscReal      sums[2 * NCOSES] = {0}, worst_z = 0, worst_rel = 0;
    char           label[64], where[128] = "";

    MonteCarloSums(d, N * rank / size, N * (rank + 1) / size, sums, sums + NCOSES);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2 * NCOSES, MPIU_REAL, MPI_SUM, comm));
    for (size_t k = 0; k < NCOSES; k++) {
      const PetscReal mean = sums[k] / N, var = sums[NCOSES + k] / N - mean * mean, se = PetscSqrtReal(var / N);
      const PetscReal kap = KfReluKappa(d, coses[k]), z = PetscAbsReal(mean - kap) / se, rel = PetscAbsReal(mean - kap) / kap;

      if (z > worst_z) PetscCall(PetscSNPrintf(where, sizeof(where), "c = %g: MC %.6e +- %.1e, kappa %.6e", (double)coses[k], (double)mean, (double)se, (double)kap));
      worst_z   = PetscMax(worst_z, z);
      worst_rel = PetscMax(worst_rel, rel);
    }
    PetscCall(PetscSNPrintf(label, sizeof(label), "kappa d = %" PetscInt_FMT, d));
    PetscCall(PetscPrintf(comm, "      %-34s Monte Carlo 10^6 samples: max relative error %.2e over c in {-0.9 .. 0.99}\n", label, (double)worst_rel));
    PetscCall(KfTestCheckValue(comm, label, "|MC - kappa| / (standard error of the MC mean)", worst_z, 4, where));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (1/2pi) int max(cos phi, 0) max(cos(phi - psi), 0) dphi by 64 panels of 8-point Gauss-Legendre on [psi - pi/2, pi/2]. */
static PetscReal AngularIntegral(PetscReal c)
{
  static const PetscReal x8[] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363};
  static const PetscReal w8[] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};
  const PetscReal        psi = PetscAcosReal(c), a = psi - PETSC_PI / 2, b = PETSC_PI / 2;
  const PetscInt         panels = 64;
  PetscReal              sum = 0;

  for (PetscInt p = 0; p < panels; p++) {
    const PetscReal mid = a + (b - a) * (p + 0.5) / panels, half = (b - a) / (2 * panels);

    for (PetscInt q = 0; q < 4; q++)
      for (PetscInt sgn = -1; sgn <= 1; sgn += 2) {
        const PetscReal phi = mid + sgn * half * x8[q];

        sum += half * w8[q] * PetscCosReal(phi) * PetscCosReal(phi - psi);
      }
  }
  return sum / (2 * PETSC_PI);
}

static PetscErrorCode CheckQuadrature(MPI_Comm comm)
{
  KfTestErr e;

  PetscFunctionBeginUser;
  KfTestErrReset(&e);
  for (size_t id = 0; id < NDIMS; id++)
    for (PetscReal c = -0.999; c < 1; c += 0.0737) {
      const PetscInt  d   = dims[id];
      const PetscReal ref = 2.0 / (d + 1) * AngularIntegral(c), kap = KfReluKappa(d, c);
      char            where[96];

      PetscCall(PetscSNPrintf(where, sizeof(where), "d = %" PetscInt_FMT ", c = %.4f: %.16e vs %.16e", d, (double)c, (double)kap, (double)ref));
      PetscCall(KfTestErrUpdate(&e, PetscAbsReal(kap - ref) / PetscMax(ref, 1e-3), where));
    }
  PetscCall(KfTestCheck(comm, "kappa", "closed form = angular quadrature (relative)", &e, 1e-12));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckDerivativeAndValues(MPI_Comm comm)
{
  KfTestErr e, v;
  const PetscReal h = 1e-5;

  PetscFunctionBeginUser;
  KfTestErrReset(&e);
  KfTestErrReset(&v);
  for (size_t id = 0; id < NDIMS; id++) {
    const PetscInt d = dims[id];
    char           where[96];

    for (PetscReal c = -0.99; c < 0.995; c += 0.0311) {
      const PetscReal fd = (KfReluKappa(d, c + h) - KfReluKappa(d, c - h)) / (2 * h);

      PetscCall(PetscSNPrintf(where, sizeof(where), "d = %" PetscInt_FMT ", c = %.4f: kappa' %.12e, difference quotient %.12e", d, (double)c, (double)KfReluKappaPrime(d, c), (double)fd));
      PetscCall(KfTestErrUpdate(&e, PetscAbsReal(fd - KfReluKappaPrime(d, c)), where));
    }
    PetscCall(PetscSNPrintf(where, sizeof(where), "d = %" PetscInt_FMT, d));
    PetscCall(KfTestErrUpdate(&v, PetscAbsReal(KfReluKappa(d, 1) - 0.5 / (d + 1)), where));
    PetscCall(KfTestErrUpdate(&v, PetscAbsReal(KfReluKappa(d, -1)), where));
    PetscCall(KfTestErrUpdate(&v, PetscAbsReal(KfReluKappa(d, 0) - 1 / (2 * PETSC_PI * (d + 1))), where));
    PetscCall(KfTestErrUpdate(&v, PetscAbsReal(KfReluKappa(d, 1.5) - KfReluKappa(d, 1)), where)); /* clamped */
  }
  PetscCall(KfTestCheck(comm, "kappa'", "= central difference of kappa (h = 1e-5, |c| < 0.995)", &e, 1e-9));
  PetscCall(KfTestCheck(comm, "kappa", "kappa(1) = 1/(2(d+1)), kappa(-1) = 0, kappa(0), clamping", &v, 1e-16));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckQuadrature(PETSC_COMM_WORLD));
  PetscCall(CheckDerivativeAndValues(PETSC_COMM_WORLD));
  PetscCall(CheckMonteCarlo(PETSC_COMM_WORLD));
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  return KfTestMain(argc, argv, "Arc-cosine interaction of -problem relu against Monte Carlo, quadrature and differences\n", RunAll);
}
