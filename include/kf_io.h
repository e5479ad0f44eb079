/* kf_io.h - parallel HDF5 output (time series, fields, provenance), XDMF sidecar, grid input */
#pragma once
#include "kf.h"
#include "kf_spectral.h"

typedef struct _p_KfIO *KfIO;

/*
  Collective. Creates PATH.part; nothing appears under PATH until KfIOClose(..., PETSC_TRUE)
  has flushed everything, set the root attribute complete = 1 and renamed the file. lay gives
  the grid and this rank's slab of the fields written with KfIOAppendField.
*/
PETSC_EXTERN PetscErrorCode KfIOCreate(MPI_Comm, const char[], const KfSpectralLayout *, PetscReal, KfIO *);
/* The same for particles: KfIOAppendParticles then writes this rank's rows (ids start.., nlocal of them) of an
   (records, N, d) array, and the XDMF shows Polyvertex points. */
PETSC_EXTERN PetscErrorCode KfIOCreateParticles(MPI_Comm, const char[], PetscInt64 N, PetscInt d, PetscInt64 start, PetscInt nlocal, PetscReal L, KfIO *);
/* Adds particle rows to a grid file (compare mode): KfIOAppendParticles writes them, PATH-particles.xmf shows them. */
PETSC_EXTERN PetscErrorCode KfIOAddParticles(KfIO, PetscInt64 N, PetscInt d, PetscInt64 start, PetscInt nlocal);
PETSC_EXTERN PetscErrorCode KfIOSetAttributeString(KfIO, const char[], const char[]);
PETSC_EXTERN PetscErrorCode KfIOSetAttributeReal(KfIO, const char[], PetscReal);
PETSC_EXTERN PetscErrorCode KfIOSetAttributeInts(KfIO, const char[], PetscInt, const PetscInt[]);
/* Appends one value to each of the 1-D datasets GROUP/names[i] (values given on every rank). */
PETSC_EXTERN PetscErrorCode KfIOAppendSeries(KfIO, const char[], PetscInt, const char *const[], const PetscReal[]);
/* Appends this rank's slab as a new record of DATASET (records, n1, ..., nd) and t to TIMES. */
PETSC_EXTERN PetscErrorCode KfIOAppendField(KfIO, const char[], const char[], PetscReal, const PetscScalar[]);
/* Appends this rank's particle rows as a new record of DATASET (records, N, d) and t to TIMES. */
PETSC_EXTERN PetscErrorCode KfIOAppendParticles(KfIO, const char[], const char[], PetscReal, const PetscScalar[]);
/* One value per particle (e.g. weights) for the record KfIOAppendParticles wrote last: DATASET (records, N, 1). */
PETSC_EXTERN PetscErrorCode KfIOAppendParticleValues(KfIO, const char[], const PetscScalar[]);
/* complete: finish, mark, rename, write the XDMF; otherwise remove the partial file. */
PETSC_EXTERN PetscErrorCode KfIOClose(KfIO *, PetscBool);

/*
  Reads a float64 grid (n1 x ... x nd), or the last record of a (records, n1, ..., nd) dataset,
  into this rank's slab of lay. Every problem (missing file, not HDF5, missing dataset, wrong
  type or shape) is a KF_ERR_INPUT error that names the option role, the file and the dataset.
*/
PETSC_EXTERN PetscErrorCode KfIOReadGrid(MPI_Comm, const char[], const char[], const KfSpectralLayout *, PetscScalar[], const char[]);
/* Reads this rank's rows of an N x d float64 array (or the last record of a (records, N, d) one). */
PETSC_EXTERN PetscErrorCode KfIOReadRows(MPI_Comm, const char[], const char[], PetscInt64 N, PetscInt d, PetscInt64 start, PetscInt nlocal, PetscScalar[], const char[]);
/* The number of rows M of an M x d dataset (checks the shape). */
PETSC_EXTERN PetscErrorCode KfIORowCount(MPI_Comm, const char[], const char[], PetscInt d, const char[], PetscInt64 *);
PETSC_EXTERN PetscErrorCode KfIOVersion(char[], size_t);

/* ---- checkpoints (src/checkpoint.c) ---- */
/* A file written like an output file (PATH.part, complete = 1 last, renamed by KfIOClose(..., PETSC_TRUE)), without series. */
PETSC_EXTERN PetscErrorCode KfIOCreateCheckpoint(MPI_Comm, const char[], KfIO *);
/* Fixed-size datasets from this rank's block: a grid (n1, ..., nd) and rows (N, cols) of ids start.. */
PETSC_EXTERN PetscErrorCode KfIOWriteGrid(KfIO, const char[], const KfSpectralLayout *, const PetscScalar[]);
PETSC_EXTERN PetscErrorCode KfIOWriteRows(KfIO, const char[], PetscInt64 N, PetscInt cols, PetscInt64 start, PetscInt nlocal, const PetscScalar[]);
/* Root attributes of PATH, collectively; a missing attribute, a wrong type or (numbers) a non-finite value is a KF_ERR_INPUT
   error naming -role PATH and the attribute. The string is allocated (PetscFree). */
PETSC_EXTERN PetscErrorCode KfIOReadAttributeString(MPI_Comm, const char path[], const char name[], const char role[], char **);
PETSC_EXTERN PetscErrorCode KfIOReadAttributeReals(MPI_Comm, const char path[], const char name[], const char role[], PetscInt n, PetscReal[]);
/* Flushes the (partial) output and copies it to DEST atomically (DEST.part, then rename). */
PETSC_EXTERN PetscErrorCode KfIOSnapshot(KfIO, const char dest[]);
/* Replaces the freshly created output by a copy of SNAPSHOT with every time series cut back to nrecords records; fields[s]
   and times[s] name the datasets of series s (grid or particles; [1]: particles beside a grid, or NULL) for the XDMF. */
PETSC_EXTERN PetscErrorCode KfIOResume(KfIO, const char snapshot[], PetscInt nrecords, const char *const fields[2], const char *const times[2]);
/* Closes the output and leaves PATH.part, marked incomplete (after a checkpoint that holds the same records). */
PETSC_EXTERN PetscErrorCode KfIOSuspend(KfIO *);
