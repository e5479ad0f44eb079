/* kf_checkpoint.h - checkpoint/restart of any run mode on any number of ranks (docs/reliability.md) */
#pragma once
#include "kf_io.h"
#include "kf_particles.h"
#include "kf_spectral.h"
#include "kf_stepper.h"

typedef struct _p_KfCheckpoint *KfCheckpoint;

/* Reads -checkpoint, -checkpoint_dt, -checkpoint_steps and -restart, and (unless -checkpoint none) turns SIGTERM and SIGUSR1 into
   "checkpoint at the next step boundary and exit with status 4". Collective. */
PETSC_EXTERN PetscErrorCode KfCheckpointCreate(MPI_Comm, const KfParams *, KfCheckpoint *);
PETSC_EXTERN PetscErrorCode KfCheckpointDestroy(KfCheckpoint *);
PETSC_EXTERN PetscErrorCode KfCheckpointHelp(MPI_Comm);

/* What a checkpoint holds, registered before KfCheckpointRestart: the steppers (in KfStepperRunCoupled order), grid fields,
   the particle system, small replicated arrays (e.g. the diagnostics at t = 0 for the summary) and the output record count. */
PETSC_EXTERN PetscErrorCode KfCheckpointAddStepper(KfCheckpoint, KfStepper *);
PETSC_EXTERN PetscErrorCode KfCheckpointAddGrid(KfCheckpoint, const char name[], KfSpectral, Vec);
PETSC_EXTERN PetscErrorCode KfCheckpointAddParticles(KfCheckpoint, KfParticles);
PETSC_EXTERN PetscErrorCode KfCheckpointAddReals(KfCheckpoint, const char name[], PetscInt n, PetscReal[]);
PETSC_EXTERN PetscErrorCode KfCheckpointSetRecords(KfCheckpoint, PetscInt *nrecords);

/* With -restart PATH: checks that PATH is a complete checkpoint of this build and of the same problem (else a KF_ERR_INPUT error
   that says what differs), then loads everything registered and sets the steppers to continue where it was written. */
PETSC_EXTERN PetscErrorCode KfCheckpointRestart(KfCheckpoint);
/* The output file (may be NULL); fields[s]/times[s] name the datasets of its series s (kf_io.h KfIOResume). On a restart the
   output continues the checkpoint's copy of the time series. */
PETSC_EXTERN PetscErrorCode KfCheckpointSetOutput(KfCheckpoint, KfIO, const char *const fields[2], const char *const times[2]);
/* Installs the checkpoint schedule as the steppers' hook (st: the first stepper registered). */
PETSC_EXTERN PetscErrorCode KfCheckpointAttach(KfCheckpoint, KfStepper *);
