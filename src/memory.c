/* memory.c - per-rank memory estimate of a run and the up-front refusal of runs that cannot fit */
#include <stdio.h>
#include <string.h>
#include "kf_memory.h"

/* Resident size of an idle kmdflow rank (MPI, PETSc, FFTW, HDF5 and their buffers), measured with /usr/bin/time. */
#define KF_MEM_BASE (60.0 * 1048576)

/* Grid-sized arrays of 8 bytes per point and rank: the fields (rho, rho_0, nu, pi), 2s + 2 TS work vectors of an s-stage RK
   method (s = 7 for the default 5dp), the FFT buffers (real + 2 complex, half-spectrum) and the right-hand side's gradient, flux
   and potential (d + 2). */
static PetscReal GridWords(const KfParams *p, PetscInt stages)
{
  return 4 + (2.0 * stages + 2) + 3 + (p->dim + 2);
}

/* Particle rows of 8 bytes per particle and rank: the state (nc values) in 2s + 2 TS vectors, the SoA work arrays (positions
   twice, gradients, charges, potentials: 3d + 2), per-particle reductions (4), the ring's two travelling blocks (2(d + 1)) and
   the output rows (d + 1). */
static PetscReal ParticleWords(const KfParams *p, PetscInt stages)
{
  const PetscInt nc = p->flow == KF_FLOW_WASSERSTEIN ? p->dim : p->flow == KF_FLOW_FISHER_RAO ? 1 + p->dim : p->dim + 1;

  return nc * (2.0 * stages + 2) + (3.0 * p->dim + 2) + 4 + 2.0 * (p->dim + 1) + (p->dim + 1);
}

static PetscInt Stages(void)
{
  char      type[64] = "5dp";
  PetscBool set;

  PetscOptionsGetString(NULL, NULL, "-ts_rk_type", type, sizeof(type), &set);
  if (!strcmp(type, "1fe")) return 1;
  if (!strcmp(type, "2a") || !strcmp(type, "2b")) return 2;
  if (!strcmp(type, "3") || !strcmp(type, "3bs")) return 4;
  if (!strcmp(type, "4")) return 4;
  if (!strcmp(type, "5f")) return 6;
  if (!strcmp(type, "6vr")) return 9;
  if (!strcmp(type, "7vr")) return 11;
  if (!strcmp(type, "8vr")) return 13;
  return 7;
}

PetscErrorCode KfMemoryEstimate(MPI_Comm comm, const KfParams *p, PetscReal *bytes)
{
  PetscMPIInt size;
  PetscReal   N = 0, G = (PetscReal)p->npoints;
  PetscInt    s = Stages();

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (p->mode != KF_MODE_PDE) {
    PetscBool set;

    N = 1000;
    PetscCall(PetscOptionsGetReal(NULL, NULL, "-particles", &N, &set));
    if (!(N >= 1 && N <= 1e15)) N = 1; /* refused later with its own message */
  }
  if (p->mode == KF_MODE_PARTICLES) G = 0; /* a grid target (-target NAME) keeps only its Fourier coefficients */
  *bytes = KF_MEM_BASE + 8 * (G / size) * GridWords(p, s) + 8 * (N / size) * ParticleWords(p, s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Bytes the kernel says are available on this node (MemAvailable), 0 if unknown. */
static PetscReal NodeAvailable(void)
{
  FILE  *f = fopen("/proc/meminfo", "r");
  char   line[256];
  double kb = 0;

  if (!f) return 0;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) break;
  fclose(f);
  return kb * 1024;
}

PetscErrorCode KfMemoryCheck(MPI_Comm comm, const KfParams *p)
{
  PetscReal   est, avail, limit = 0;
  PetscMPIInt pernode;
  MPI_Comm    node;
  PetscBool   view, set;

  PetscFunctionBeginUser;
  PetscCall(KfMemoryEstimate(comm, p, &est));
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_size(node, &pernode));
  PetscCallMPI(MPI_Comm_free(&node));
  avail = NodeAvailable() / pernode;
  PetscOptionsBegin(comm, NULL, "Memory", "kmdflow");
  PetscCall(KfOptionsReal(PetscOptionsObject, "-memory_limit", "Bytes of memory per rank a run may use (default: the node's MemAvailable / ranks on the node)", 0, 0, 1e18, PETSC_FALSE, &limit, &set));
  PetscOptionsEnd();
  if (set && limit > 0) avail = limit;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &avail, 1, MPIU_REAL, MPI_MIN, comm)); /* every rank refuses together */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-memory_view", &view));
  if (view) PetscCall(PetscPrintf(comm, "memory estimate: %.1f MiB per rank (%d rank%s per node; %.1f MiB available per rank)\n", (double)(est / 1048576), pernode, pernode > 1 ? "s" : "", (double)(avail / 1048576)));
  PetscCheck(avail <= 0 || est <= avail, comm, KF_ERR_INPUT, "the run needs about %.1f MiB per rank (%.1f MiB with %d ranks on this node) but %.1f MiB per rank are available%s; use more nodes or ranks, a smaller -n or -particles", (double)(est / 1048576), (double)(est * pernode / 1048576), pernode, (double)(avail / 1048576), set ? " (-memory_limit)" : " (MemAvailable)");
  PetscFunctionReturn(PETSC_SUCCESS);
}
