/* kf_params.h - run configuration read from the PETSc options database */
#pragma once
#include "kf.h"

typedef enum {
  KF_MODE_PDE,
  KF_MODE_PARTICLES,
  KF_MODE_COMPARE
} KfMode;

typedef enum {
  KF_PLANNER_ESTIMATE,
  KF_PLANNER_MEASURE,
  KF_PLANNER_PATIENT,
  KF_PLANNER_EXHAUSTIVE
} KfPlanner;

/* The geometry of the gradient flow (math spec A.4, D.1, F.1): transport, reaction, or both. */
typedef enum {
  KF_FLOW_WASSERSTEIN,
  KF_FLOW_FISHER_RAO,
  KF_FLOW_WFR,
  KF_FLOW_STEIN
} KfFlow;

/* What flows: the Sobolev (KMD) energy on the torus, or the shallow ReLU teacher-student loss on S^d (math spec F.2,
   particle mode only; src/relu.c). */
typedef enum {
  KF_PROBLEM_SOBOLEV,
  KF_PROBLEM_RELU
} KfProblem;
#define KF_RELU_MAX_DIM 64 /* -problem relu: sphere dimension d <= this (neurons in R^{d+1}) */

PETSC_EXTERN const char *const KfProblems[];
PETSC_EXTERN const char *const KfModes[];
PETSC_EXTERN const char *const KfFlows[];
PETSC_EXTERN const char *const KfPlanners[];

#define KF_SPEC_LEN PETSC_MAX_PATH_LEN

/* Grouped as p4est's particle example does: options as given, then values derived from them. */
typedef struct {
  /* options */
  KfMode    mode;
  KfProblem problem; /* -problem sobolev|relu */
  PetscInt  dim;     /* torus dimension, or (-problem relu) the dimension d of the sphere S^d */
  PetscInt  n[KF_MAX_DIM]; /* grid points per dimension */
  PetscReal s;             /* Sobolev order of the energy */
  PetscReal L;             /* torus period */
  PetscBool dealias;       /* 2/3 rule */
  char      init[KF_SPEC_LEN], target[KF_SPEC_LEN];
  char      output[PETSC_MAX_PATH_LEN];
  PetscReal output_dt;
  PetscInt  seed;
  KfPlanner planner;
  char      wisdom[PETSC_MAX_PATH_LEN];
  PetscInt  fftw_threads;
  PetscBool quiet;   /* no per-output monitor lines */
  KfFlow    flow;
  PetscReal sigma;   /* weight of the entropy sigma KL(mu | pi) */
  char      reference[KF_SPEC_LEN]; /* pi */
  PetscBool kmd;     /* the energy contains (1/2)||mu - nu||^2_{H^-s} (-energy kmd, default) */
  PetscReal stein_h; /* -flow stein: width of the (periodised gaussian) Stein kernel */
  PetscBool strict;  /* unused options are errors */
  /* derived */
  PetscInt64 npoints; /* total grid points */
  PetscReal  alpha, beta; /* reaction (Fisher-Rao) and transport (Wasserstein) rates of -flow */
} KfParams;

PETSC_EXTERN PetscErrorCode KfParamsSetFromOptions(MPI_Comm, KfParams *);
PETSC_EXTERN PetscErrorCode KfParamsView(const KfParams *, MPI_Comm);
/* One line with -flow, its rates and the energy, unless it is the plain Wasserstein flow of the KMD energy. */
PETSC_EXTERN PetscErrorCode KfParamsViewFlow(const KfParams *, MPI_Comm);
PETSC_EXTERN PetscErrorCode KfCheckUnusedOptions(MPI_Comm, PetscBool);
/* For the benchmark programs: any option left unread is an error naming it and the program (a misspelt option would
   silently measure the default). */
PETSC_EXTERN PetscErrorCode KfRefuseUnusedOptions(MPI_Comm, const char program[]);

/* Checked option readers for use inside PetscOptionsBegin/End: they name the option, the value
   given and the accepted range in the error, which PETSc's own readers do not. */
PETSC_EXTERN PetscErrorCode KfOptionsReal(PetscOptionItems *, const char[], const char[], PetscReal, PetscReal, PetscReal, PetscBool, PetscReal *, PetscBool *);
PETSC_EXTERN PetscErrorCode KfOptionsInt(PetscOptionItems *, const char[], const char[], PetscInt, PetscInt, PetscInt, PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode KfOptionsBool(PetscOptionItems *, const char[], const char[], PetscBool, PetscBool *);
PETSC_EXTERN PetscErrorCode KfOptionsRealList(PetscOptionItems *, const char[], const char[], const char[], PetscInt, PetscReal[], PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode KfOptionsEnum(PetscOptionItems *, const char[], const char[], const char *const[], PetscInt, PetscInt *);
