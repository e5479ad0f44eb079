/* kf_relu.h - the mean-field shallow ReLU teacher-student problem on the sphere S^d as a Wasserstein-Fisher-Rao
   flow of neurons (math spec F.2, G15; docs/relu.md): -problem relu */
#pragma once
#include "kf_params.h"

/*
  The arc-cosine interaction of the population loss F(mu) = (1/2) E_x (f_mu - f_nu)^2, x ~ Unif(S^d), f_mu(x) =
  int max(theta.x, 0) dmu(theta):
    kappa(c)  = (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi (d + 1)),   kappa'(c) = (pi - arccos c) / (2 pi (d + 1)),
  c = theta.theta' (clamped to [-1, 1]). Not collective.
*/
PETSC_EXTERN PetscReal KfReluKappa(PetscInt d, PetscReal c);
PETSC_EXTERN PetscReal KfReluKappaPrime(PetscInt d, PetscReal c);

/*
  Runs -problem relu: J student neurons (theta_j, m_j) on S^d against a teacher nu = sum_k nu_k delta_{theta*_k},
  V = int kappa(theta.theta') d(mu - nu)(theta'),
    dtheta_j/dt = -beta grad_S V(theta_j),   dm_j/dt = -alpha m_j V(theta_j)      (-relu_param theta_m, default)
  or the network parameters (a_j, w_j) of f = (1/J) sum_j a_j max(w_j.x, 0) by gradient flow in time rescaled by J
  (-relu_param aw; theta = w/|w|, m = a|w|/J). Time loop by the PETSc TS of kf_stepper.h, output of theta, m and the
  loss series to HDF5. Collective.
*/
PETSC_EXTERN PetscErrorCode KfRunRelu(MPI_Comm, const KfParams *);
/* Lists the options of -problem relu (and the TS options) for -help. */
PETSC_EXTERN PetscErrorCode KfRunReluHelp(MPI_Comm, const KfParams *);
