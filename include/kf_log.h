/* kf_log.h - PETSc log events of kmdflow, registered in one place */
#pragma once
#include "kf.h"

PETSC_EXTERN PetscClassId  KF_CLASSID;
PETSC_EXTERN PetscLogEvent KF_EVENT_FFT_FORWARD, KF_EVENT_FFT_BACKWARD, KF_EVENT_PDE_RHS, KF_EVENT_DIAG,
  KF_EVENT_IO_WRITE, KF_EVENT_IO_READ, KF_EVENT_RING_SUM, KF_EVENT_RING_WAIT, KF_EVENT_PARTICLE_RHS, KF_EVENT_COMPARE;

PETSC_EXTERN PetscErrorCode KfLogRegister(void);
