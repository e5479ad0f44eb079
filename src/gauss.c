/* gauss.c - Gaussian densities with diagonal covariance on R^d (free-space particle mode) */
#include <math.h>
#include "kf_gauss.h"
#include "kf_params.h"
#include "kf_rng.h"

/* Streams of the second uniform of Box-Muller (the first uses stream c, like the other -init draws). */
#define KF_STREAM_NORMAL 0x6e6f726d00000000ULL

static PetscErrorCode ReadList(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], const char def[], PetscInt dim, PetscReal v[])
{
  PetscReal vals[KF_MAX_DIM];
  PetscInt  n = 0;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(KfOptionsRealList(PetscOptionsObject, opt, text, def, KF_MAX_DIM, vals, &n, &set));
  if (!set) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(n == 1 || n == dim, PETSC_COMM_WORLD, KF_ERR_INPUT, "%s: %" PetscInt_FMT " values given for -dim %" PetscInt_FMT "; give 1 or %" PetscInt_FMT, opt, n, dim, dim);
  for (PetscInt c = 0; c < dim; c++) v[c] = vals[n == 1 ? 0 : c];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfGaussianFromOptions(MPI_Comm comm, PetscInt dim, const char role[], KfGaussian *g)
{
  char prefix[64], mopt[96], vopt[96];

  PetscFunctionBeginUser;
  g->dim = dim;
  for (PetscInt c = 0; c < dim; c++) {
    g->mean[c] = 0;
    g->var[c]  = 1;
  }
  PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s_", role));
  PetscCall(PetscSNPrintf(mopt, sizeof(mopt), "-%snormal_mean", prefix));
  PetscCall(PetscSNPrintf(vopt, sizeof(vopt), "-%snormal_var", prefix));
  PetscOptionsBegin(comm, NULL, "normal density on R^d: N(mean, diag(var))", "kmdflow");
  PetscCall(ReadList(PetscOptionsObject, mopt, "Mean: one value for every component or d values", "0", dim, g->mean));
  PetscCall(ReadList(PetscOptionsObject, vopt, "Variances (> 0): one value or d values", "1", dim, g->var));
  PetscOptionsEnd();
  for (PetscInt c = 0; c < dim; c++) PetscCheck(g->var[c] > 0, comm, KF_ERR_INPUT, "%s: variance %s of component %" PetscInt_FMT "; expected > 0", vopt, KF_NUM(g->var[c]), c + 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscReal KfGaussianLogDensity(const KfGaussian *g, const PetscReal x[], PetscReal grad[])
{
  PetscReal l = 0;

  for (PetscInt c = 0; c < g->dim; c++) {
    const PetscReal z = x[c] - g->mean[c];

    l -= 0.5 * (z * z / g->var[c] + PetscLogReal(2 * PETSC_PI * g->var[c]));
    if (grad) grad[c] = -z / g->var[c];
  }
  return l;
}

void KfGaussianDraw(const KfGaussian *g, uint64_t seed, PetscInt64 start, PetscInt n, PetscReal x[])
{
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < g->dim; c++) {
      const uint64_t  id = (uint64_t)(start + i);
      const PetscReal u1 = KfRngUniform(seed, (uint64_t)c, id), u2 = KfRngUniform(seed, KF_STREAM_NORMAL + (uint64_t)c, id);

      x[i * g->dim + c] = g->mean[c] + PetscSqrtReal(g->var[c]) * PetscSqrtReal(-2 * log1p(-u1)) * PetscCosReal(2 * PETSC_PI * u2);
    }
}

PetscErrorCode KfGaussianDescribe(const KfGaussian *g, char buf[], size_t len)
{
  size_t used = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "normal, mean ("));
  for (PetscInt pass = 0; pass < 2; pass++)
    for (PetscInt c = 0; c < g->dim; c++) {
      PetscCall(PetscStrlen(buf, &used));
      PetscCall(PetscSNPrintf(buf + used, len - used, "%g%s", (double)(pass ? g->var[c] : g->mean[c]), c + 1 < g->dim ? ", " : pass ? ")" : "), variances ("));
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}
