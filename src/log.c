/* log.c - class id and PETSc log events of kmdflow, so -log_view shows where time goes */
#include "kf_log.h"

PetscClassId  KF_CLASSID;
PetscLogEvent KF_EVENT_FFT_FORWARD, KF_EVENT_FFT_BACKWARD, KF_EVENT_PDE_RHS, KF_EVENT_DIAG, KF_EVENT_IO_WRITE,
  KF_EVENT_IO_READ, KF_EVENT_RING_SUM, KF_EVENT_RING_WAIT, KF_EVENT_PARTICLE_RHS, KF_EVENT_COMPARE, KF_EVENT_KERNEL_SUM, KF_EVENT_RING_SHIFT;

PetscErrorCode KfLogRegister(void)
{
  static PetscBool registered = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (registered) PetscFunctionReturn(PETSC_SUCCESS);
  registered = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("kmdflow", &KF_CLASSID));
  PetscCall(PetscLogEventRegister("KfFFTForward", KF_CLASSID, &KF_EVENT_FFT_FORWARD));
  PetscCall(PetscLogEventRegister("KfFFTBackward", KF_CLASSID, &KF_EVENT_FFT_BACKWARD));
  PetscCall(PetscLogEventRegister("KfPDERHS", KF_CLASSID, &KF_EVENT_PDE_RHS));
  PetscCall(PetscLogEventRegister("KfDiagnostics", KF_CLASSID, &KF_EVENT_DIAG));
  PetscCall(PetscLogEventRegister("KfIOWrite", KF_CLASSID, &KF_EVENT_IO_WRITE));
  PetscCall(PetscLogEventRegister("KfIORead", KF_CLASSID, &KF_EVENT_IO_READ));
  PetscCall(PetscLogEventRegister("KfRingSum", KF_CLASSID, &KF_EVENT_RING_SUM));
  PetscCall(PetscLogEventRegister("KfRingWait", KF_CLASSID, &KF_EVENT_RING_WAIT));
  PetscCall(PetscLogEventRegister("KfParticleRHS", KF_CLASSID, &KF_EVENT_PARTICLE_RHS));
  PetscCall(PetscLogEventRegister("KfCompare", KF_CLASSID, &KF_EVENT_COMPARE));
  PetscCall(PetscLogEventRegister("KfKernelSum", KF_CLASSID, &KF_EVENT_KERNEL_SUM));
  PetscCall(PetscLogEventRegister("KfRingShift", KF_CLASSID, &KF_EVENT_RING_SHIFT));
  PetscFunctionReturn(PETSC_SUCCESS);
}
