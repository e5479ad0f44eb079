/* io.c - the only user of HDF5: collective parallel output, XDMF sidecar, grid input */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kf_io.h"
#include "kf_log.h"

#if !defined(H5_HAVE_PARALLEL)
  #error "kmdflow needs a parallel HDF5"
#endif

/* The one checked wrapper for HDF5 calls: a negative return is an error. */
#define KfCallHDF5(call) \
  do { \
    if ((call) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

#define KF_IO_MAX_FIELDS 4

/* One time series of distributed records (a grid field or particle rows) and what its XDMF needs. */
typedef struct {
  KfSpectralLayout lay;
  PetscInt         pdim;                     /* > 0: records are (N, pdim) particle positions */
  char             field[PETSC_MAX_PATH_LEN]; /* its dataset */
  PetscInt         nrecords, nalloc;
  PetscReal       *times;
} Series;

struct _p_KfIO {
  MPI_Comm  comm;
  PetscReal L;
  hid_t     file, dxpl;
  char      path[PETSC_MAX_PATH_LEN], part[PETSC_MAX_PATH_LEN + 8];
  Series    series[2]; /* [0] the file's grid field or particles; [1] particles beside a grid (compare mode) */
};

PetscErrorCode KfIOVersion(char buf[], size_t len)
{
  unsigned maj, min, rel;

  PetscFunctionBeginUser;
  KfCallHDF5(H5get_libversion(&maj, &min, &rel));
  PetscCall(PetscSNPrintf(buf, len, "%u.%u.%u", maj, min, rel));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode FileAccess(MPI_Comm comm, hid_t *fapl)
{
  PetscFunctionBeginUser;
  *fapl = H5Pcreate(H5P_FILE_ACCESS);
  KfCallHDF5(*fapl);
  KfCallHDF5(H5Pset_fapl_mpio(*fapl, comm, MPI_INFO_NULL));
  KfCallHDF5(H5Pset_all_coll_metadata_ops(*fapl, 1));
  KfCallHDF5(H5Pset_coll_metadata_write(*fapl, 1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateFile(MPI_Comm, const char[], const char[], const KfSpectralLayout *, PetscReal, KfIO *);

PetscErrorCode KfIOCreate(MPI_Comm comm, const char path[], const KfSpectralLayout *lay, PetscReal L, KfIO *out)
{
  PetscFunctionBeginUser;
  PetscCall(CreateFile(comm, path, "output", lay, L, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* role: the option that named the file, for the message when it cannot be created. */
static PetscErrorCode CreateFile(MPI_Comm comm, const char path[], const char role[], const KfSpectralLayout *lay, PetscReal L, KfIO *out)
{
  KfIO  io;
  hid_t fapl;

  PetscFunctionBeginUser;
  KfCallHDF5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL)); /* our messages replace HDF5's error stack dumps */
  PetscCall(PetscNew(&io));
  io->comm = comm;
  io->series[0].lay = *lay;
  io->L    = L;
  PetscCall(PetscStrncpy(io->path, path, sizeof(io->path)));
  PetscCall(PetscSNPrintf(io->part, sizeof(io->part), "%s.part", path));
  PetscCall(FileAccess(comm, &fapl));
  io->file = H5Fcreate(io->part, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  KfCallHDF5(H5Pclose(fapl));
  if (io->file < 0) {
    PetscCall(PetscFree(io));
    SETERRQ(comm, KF_ERR_INPUT, "-%s %s: cannot create the file %s.part (does the directory exist and is it writable?)", role, path, path);
  }
  io->dxpl = H5Pcreate(H5P_DATASET_XFER);
  KfCallHDF5(io->dxpl);
  KfCallHDF5(H5Pset_dxpl_mpio(io->dxpl, H5FD_MPIO_COLLECTIVE));
  PetscCall(KfIOSetAttributeInts(io, "complete", 1, (PetscInt[]){0}));
  *out = io;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteAttribute(KfIO io, const char name[], hid_t type, hid_t space, const void *buf)
{
  hid_t attr;

  PetscFunctionBeginUser;
  if (H5Aexists(io->file, name) > 0) KfCallHDF5(H5Adelete(io->file, name));
  attr = H5Acreate2(io->file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  KfCallHDF5(attr);
  KfCallHDF5(H5Awrite(attr, type, buf));
  KfCallHDF5(H5Aclose(attr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOSetAttributeString(KfIO io, const char name[], const char value[])
{
  hid_t type, space;

  PetscFunctionBeginUser;
  type = H5Tcopy(H5T_C_S1);
  KfCallHDF5(type);
  KfCallHDF5(H5Tset_size(type, strlen(value) + 1));
  space = H5Screate(H5S_SCALAR);
  PetscCall(WriteAttribute(io, name, type, space, value));
  KfCallHDF5(H5Sclose(space));
  KfCallHDF5(H5Tclose(type));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOSetAttributeReal(KfIO io, const char name[], PetscReal value)
{
  hid_t  space = H5Screate(H5S_SCALAR);
  double v     = (double)value;

  PetscFunctionBeginUser;
  PetscCall(WriteAttribute(io, name, H5T_NATIVE_DOUBLE, space, &v));
  KfCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOSetAttributeInts(KfIO io, const char name[], PetscInt n, const PetscInt v[])
{
  hsize_t   dims = (hsize_t)n;
  hid_t     space;
  long long buf[16];

  PetscFunctionBeginUser;
  PetscCheck(n <= 16, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "at most 16 integers per attribute");
  for (PetscInt i = 0; i < n; i++) buf[i] = v[i];
  space = H5Screate_simple(1, &dims, NULL);
  PetscCall(WriteAttribute(io, name, H5T_NATIVE_LLONG, space, buf));
  KfCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Opens DATASET (creating it and its group, extensible along the first axis, if needed). */
static PetscErrorCode OpenExtensible(KfIO io, const char name[], int rank, const hsize_t dims[], const hsize_t chunk[], hid_t *dset)
{
  hsize_t zero[KF_MAX_DIM + 1], maxd[KF_MAX_DIM + 1];
  hid_t   space, dcpl, lcpl;

  PetscFunctionBeginUser;
  if (H5Lexists(io->file, name, H5P_DEFAULT) > 0) {
    *dset = H5Dopen2(io->file, name, H5P_DEFAULT);
    KfCallHDF5(*dset);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (int i = 0; i < rank; i++) {
    zero[i] = i ? dims[i] : 0;
    maxd[i] = i ? dims[i] : H5S_UNLIMITED;
  }
  space = H5Screate_simple(rank, zero, maxd);
  dcpl  = H5Pcreate(H5P_DATASET_CREATE);
  lcpl  = H5Pcreate(H5P_LINK_CREATE);
  KfCallHDF5(H5Pset_chunk(dcpl, rank, chunk));
  KfCallHDF5(H5Pset_create_intermediate_group(lcpl, 1));
  *dset = H5Dcreate2(io->file, name, H5T_NATIVE_DOUBLE, space, lcpl, dcpl, H5P_DEFAULT);
  KfCallHDF5(*dset);
  KfCallHDF5(H5Pclose(lcpl));
  KfCallHDF5(H5Pclose(dcpl));
  KfCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Grows the first axis to record+1 and selects in it the block start/count (none if empty). */
static PetscErrorCode SelectRecord(hid_t dset, int rank, PetscInt record, const hsize_t dims[], const hsize_t start[], const hsize_t count[], PetscBool empty, hid_t *fspace, hid_t *mspace)
{
  hsize_t ext[KF_MAX_DIM + 1];

  PetscFunctionBeginUser;
  for (int i = 0; i < rank; i++) ext[i] = i ? dims[i] : (hsize_t)record + 1;
  KfCallHDF5(H5Dset_extent(dset, ext));
  *fspace = H5Dget_space(dset);
  KfCallHDF5(*fspace);
  *mspace = H5Screate_simple(rank, count, NULL);
  KfCallHDF5(*mspace);
  if (empty) {
    KfCallHDF5(H5Sselect_none(*fspace));
    KfCallHDF5(H5Sselect_none(*mspace));
  } else KfCallHDF5(H5Sselect_hyperslab(*fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppendScalar(KfIO io, const char name[], PetscInt record, PetscReal value)
{
  PetscMPIInt rank;
  hsize_t     dims[1] = {0}, chunk[1] = {256}, start[1] = {(hsize_t)record}, count[1] = {1};
  hid_t       dset, fspace, mspace;
  double      v = (double)value;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(io->comm, &rank));
  PetscCall(OpenExtensible(io, name, 1, dims, chunk, &dset));
  PetscCall(SelectRecord(dset, 1, record, dims, start, count, (PetscBool)(rank != 0), &fspace, &mspace));
  KfCallHDF5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, io->dxpl, &v));
  KfCallHDF5(H5Sclose(mspace));
  KfCallHDF5(H5Sclose(fspace));
  KfCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOAppendSeries(KfIO io, const char group[], PetscInt n, const char *const names[], const PetscReal values[])
{
  char    name[PETSC_MAX_PATH_LEN];
  hsize_t len = 0;
  hid_t   dset;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_IO_WRITE, 0, 0, 0, 0));
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s/%s", group, names[i]));
    if (!i) { /* all series of a group have the same length; the first tells it */
      len = 0;
      if (H5Lexists(io->file, group, H5P_DEFAULT) > 0 && H5Lexists(io->file, name, H5P_DEFAULT) > 0) {
        hid_t sp;

        dset = H5Dopen2(io->file, name, H5P_DEFAULT);
        KfCallHDF5(dset);
        sp = H5Dget_space(dset);
        KfCallHDF5(H5Sget_simple_extent_dims(sp, &len, NULL));
        KfCallHDF5(H5Sclose(sp));
        KfCallHDF5(H5Dclose(dset));
      }
    }
    PetscCall(AppendScalar(io, name, (PetscInt)len, values[i]));
  }
  PetscCall(PetscLogEventEnd(KF_EVENT_IO_WRITE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Chunks of whole records, split along x1 when a record exceeds 64 MiB. */
static void FieldChunk(const KfSpectralLayout *lay, hsize_t chunk[])
{
  hsize_t per_row = 1;

  for (PetscInt j = 1; j < lay->dim; j++) per_row *= (hsize_t)lay->n[j];
  chunk[0] = 1;
  chunk[1] = (hsize_t)PetscMax(1, PetscMin(lay->n[0], (PetscInt)((64u << 20) / (8 * per_row))));
  for (PetscInt j = 1; j < lay->dim; j++) chunk[j + 1] = (hsize_t)lay->n[j];
}

/* Writes this rank's block of lay as record `record` of DATASET (records, n1, ..., nd), creating or growing it. */
static PetscErrorCode WriteRecord(KfIO io, const KfSpectralLayout *lay, const char name[], PetscInt record, const PetscScalar local[])
{
  const int rank = (int)lay->dim + 1;
  hsize_t   dims[KF_MAX_DIM + 1], chunk[KF_MAX_DIM + 1], start[KF_MAX_DIM + 1], count[KF_MAX_DIM + 1];
  hid_t     dset, fspace, mspace;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_IO_WRITE, 0, 0, 0, 0));
  dims[0]  = 0;
  start[0] = (hsize_t)record;
  count[0] = 1;
  for (PetscInt j = 0; j < lay->dim; j++) {
    dims[j + 1]  = (hsize_t)lay->n[j];
    start[j + 1] = (hsize_t)lay->start[j];
    count[j + 1] = (hsize_t)lay->count[j];
  }
  FieldChunk(lay, chunk);
  PetscCall(OpenExtensible(io, name, rank, dims, chunk, &dset));
  PetscCall(SelectRecord(dset, rank, record, dims, start, count, (PetscBool)(lay->nlocal == 0), &fspace, &mspace));
  KfCallHDF5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, io->dxpl, local));
  KfCallHDF5(H5Sclose(mspace));
  KfCallHDF5(H5Sclose(fspace));
  KfCallHDF5(H5Dclose(dset));
  PetscCall(PetscLogEventEnd(KF_EVENT_IO_WRITE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppendRecord(KfIO io, Series *ser, const char name[], const char times[], PetscReal t, const PetscScalar local[])
{
  const char *tname[1];

  PetscFunctionBeginUser;
  PetscCall(WriteRecord(io, &ser->lay, name, ser->nrecords, local));
  {
    char group[PETSC_MAX_PATH_LEN], *slash;

    PetscCall(PetscStrncpy(group, times, sizeof(group)));
    slash    = strrchr(group, '/');
    *slash   = 0;
    tname[0] = slash + 1;
    PetscCall(KfIOAppendSeries(io, group, 1, tname, &t));
  }
  if (ser->nrecords >= ser->nalloc) {
    ser->nalloc = PetscMax(64, 2 * ser->nalloc);
    PetscCall(PetscRealloc(sizeof(PetscReal) * ser->nalloc, &ser->times));
  }
  ser->times[ser->nrecords++] = t;
  PetscCall(PetscStrncpy(ser->field, name, sizeof(ser->field)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOAppendField(KfIO io, const char name[], const char times[], PetscReal t, const PetscScalar local[])
{
  PetscFunctionBeginUser;
  PetscCall(AppendRecord(io, &io->series[0], name, times, t, local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOAppendParticles(KfIO io, const char name[], const char times[], PetscReal t, const PetscScalar local[])
{
  Series *ser = io->series[0].pdim ? &io->series[0] : &io->series[1];

  PetscFunctionBeginUser;
  PetscCheck(ser->pdim, io->comm, PETSC_ERR_ORDER, "KfIOAddParticles() must come first for a grid file");
  PetscCall(AppendRecord(io, ser, name, times, t, local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* N x d rows of this rank (ids start..start+nlocal-1) as the field layout that KfIOAppendField writes. */
static void RowLayout(PetscInt64, PetscInt, PetscInt64, PetscInt, KfSpectralLayout *);

PetscErrorCode KfIOAppendParticleValues(KfIO io, const char name[], const PetscScalar local[])
{
  Series          *ser = io->series[0].pdim ? &io->series[0] : &io->series[1];
  KfSpectralLayout lay;

  PetscFunctionBeginUser;
  PetscCheck(ser->pdim && ser->nrecords > 0, io->comm, PETSC_ERR_ORDER, "KfIOAppendParticles() must come first");
  RowLayout(ser->lay.n[0], 1, ser->lay.start[0], ser->lay.count[0], &lay);
  PetscCall(WriteRecord(io, &lay, name, ser->nrecords - 1, local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void RowLayout(PetscInt64 N, PetscInt d, PetscInt64 start, PetscInt nlocal, KfSpectralLayout *lay)
{
  PetscMemzero(lay, sizeof(*lay));
  lay->dim      = 2;
  lay->n[0]     = (PetscInt)N;
  lay->n[1]     = d;
  lay->start[0] = (PetscInt)start;
  lay->count[0] = nlocal;
  lay->count[1] = d;
  lay->nlocal   = nlocal * d;
  lay->ntotal   = N * d;
}

PetscErrorCode KfIOCreateParticles(MPI_Comm comm, const char path[], PetscInt64 N, PetscInt d, PetscInt64 start, PetscInt nlocal, PetscReal L, KfIO *out)
{
  KfSpectralLayout lay;

  PetscFunctionBeginUser;
  RowLayout(N, d, start, nlocal, &lay);
  PetscCall(KfIOCreate(comm, path, &lay, L, out));
  (*out)->series[0].pdim = d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOAddParticles(KfIO io, PetscInt64 N, PetscInt d, PetscInt64 start, PetscInt nlocal)
{
  PetscFunctionBeginUser;
  PetscCheck(!io->series[0].pdim, io->comm, PETSC_ERR_ORDER, "a particle file has its particles already");
  RowLayout(N, d, start, nlocal, &io->series[1].lay);
  io->series[1].pdim = d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Polyvertex points; a 1-D run is drawn on the x axis (y = 0 by an XDMF function item). */
static PetscErrorCode WriteXdmfParticles(const Series *ser, FILE *f, const char base[])
{
  const PetscInt N = ser->lay.n[0], dfile = ser->pdim, d = PetscMin(dfile, 3); /* rows of more than 3 values (-problem relu,
                                                                                 d >= 3): the first 3 are shown */

  PetscFunctionBeginUser;
  fprintf(f, "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"2.0\">\n <Domain>\n  <Grid Name=\"particles\" GridType=\"Collection\" CollectionType=\"Temporal\">\n");
  for (PetscInt r = 0; r < ser->nrecords; r++) {
    char slab[512];

    PetscCall(PetscSNPrintf(slab, sizeof(slab),
                            "<DataItem ItemType=\"HyperSlab\" Dimensions=\"%" PetscInt_FMT " %" PetscInt_FMT "\" Type=\"HyperSlab\">"
                            "<DataItem Dimensions=\"3 3\" Format=\"XML\">%" PetscInt_FMT " 0 0 1 1 1 1 %" PetscInt_FMT " %" PetscInt_FMT "</DataItem>"
                            "<DataItem Dimensions=\"%" PetscInt_FMT " %" PetscInt_FMT " %" PetscInt_FMT "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">%s:%s</DataItem></DataItem>",
                            N, d, r, N, d, ser->nrecords, N, dfile, base, ser->field));
    fprintf(f, "   <Grid Name=\"t%" PetscInt_FMT "\" GridType=\"Uniform\">\n    <Time Value=\"%.17g\"/>\n", r, (double)ser->times[r]);
    fprintf(f, "    <Topology TopologyType=\"Polyvertex\" NumberOfElements=\"%" PetscInt_FMT "\" NodesPerElement=\"1\"/>\n", N);
    if (d == 1) fprintf(f, "    <Geometry GeometryType=\"XY\">\n     <DataItem ItemType=\"Function\" Function=\"JOIN($0, 0*$0)\" Dimensions=\"%" PetscInt_FMT " 2\">%s</DataItem>\n    </Geometry>\n", N, slab);
    else fprintf(f, "    <Geometry GeometryType=\"%s\">\n     %s\n    </Geometry>\n", d == 2 ? "XY" : "XYZ", slab);
    fprintf(f, "   </Grid>\n");
  }
  fprintf(f, "  </Grid>\n </Domain>\n</Xdmf>\n");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* XDMF 2 with one uniform grid per record, reading its slab of the field by hyperslab. */
static PetscErrorCode WriteXdmf(KfIO io, const Series *ser, const char xmf[])
{
  const KfSpectralLayout *lay = &ser->lay;
  const char             *base = strrchr(io->path, '/') ? strrchr(io->path, '/') + 1 : io->path;
  const PetscInt          d    = PetscMax(lay->dim, 2); /* a 1-D grid is shown as a 1 x n sheet */
  PetscInt                n[KF_MAX_DIM];
  FILE                   *f;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < d; j++) n[j] = lay->dim == 1 ? (j ? lay->n[0] : 1) : lay->n[j];
  f = fopen(xmf, "w");
  PetscCheck(f, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", xmf);
  if (ser->pdim) {
    PetscCall(WriteXdmfParticles(ser, f, base));
    PetscCheck(fclose(f) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot finish %s", xmf);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  fprintf(f, "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"2.0\">\n <Domain>\n  <Grid Name=\"rho\" GridType=\"Collection\" CollectionType=\"Temporal\">\n");
  for (PetscInt r = 0; r < ser->nrecords; r++) {
    fprintf(f, "   <Grid Name=\"t%" PetscInt_FMT "\" GridType=\"Uniform\">\n    <Time Value=\"%.17g\"/>\n", r, (double)ser->times[r]);
    fprintf(f, "    <Topology TopologyType=\"%dDCoRectMesh\" Dimensions=\"", (int)d);
    for (PetscInt j = 0; j < d; j++) fprintf(f, "%s%" PetscInt_FMT, j ? " " : "", n[j]);
    fprintf(f, "\"/>\n    <Geometry GeometryType=\"ORIGIN_DXDY%s\">\n", d == 3 ? "DZ" : "");
    fprintf(f, "     <DataItem Dimensions=\"%d\" Format=\"XML\">", (int)d);
    for (PetscInt j = 0; j < d; j++) fprintf(f, "%s0", j ? " " : "");
    fprintf(f, "</DataItem>\n     <DataItem Dimensions=\"%d\" Format=\"XML\">", (int)d);
    for (PetscInt j = 0; j < d; j++) fprintf(f, "%s%.17g", j ? " " : "", (double)(io->L / n[j]));
    fprintf(f, "</DataItem>\n    </Geometry>\n    <Attribute Name=\"rho\" AttributeType=\"Scalar\" Center=\"Node\">\n");
    fprintf(f, "     <DataItem ItemType=\"HyperSlab\" Dimensions=\"");
    for (PetscInt j = 0; j < d; j++) fprintf(f, "%s%" PetscInt_FMT, j ? " " : "", n[j]);
    fprintf(f, "\" Type=\"HyperSlab\">\n      <DataItem Dimensions=\"3 %d\" Format=\"XML\">%" PetscInt_FMT, (int)lay->dim + 1, r);
    for (PetscInt j = 0; j < lay->dim; j++) fprintf(f, " 0");
    for (PetscInt j = 0; j <= lay->dim; j++) fprintf(f, " 1");
    fprintf(f, " 1");
    for (PetscInt j = 0; j < lay->dim; j++) fprintf(f, " %" PetscInt_FMT, lay->n[j]);
    fprintf(f, "</DataItem>\n      <DataItem Dimensions=\"%" PetscInt_FMT, ser->nrecords);
    for (PetscInt j = 0; j < lay->dim; j++) fprintf(f, " %" PetscInt_FMT, lay->n[j]);
    fprintf(f, "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">%s:%s</DataItem>\n     </DataItem>\n    </Attribute>\n   </Grid>\n", base, ser->field);
  }
  fprintf(f, "  </Grid>\n </Domain>\n</Xdmf>\n");
  PetscCheck(fclose(f) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot finish %s", xmf);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PATH.xmf for the first series; PATH-particles.xmf for particles beside a grid. */
static PetscErrorCode FinishXdmf(KfIO io, const Series *ser, const char suffix[])
{
  PetscMPIInt    rank;
  char           xmf[PETSC_MAX_PATH_LEN + 32], tmp[PETSC_MAX_PATH_LEN + 40], *dot;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  if (!ser->nrecords) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscStrncpy(xmf, io->path, sizeof(xmf)));
  dot = strrchr(xmf, '.');
  if (dot && !strchr(dot, '/')) *dot = 0;
  PetscCall(PetscStrlcat(xmf, suffix, sizeof(xmf)));
  PetscCall(PetscStrlcat(xmf, ".xmf", sizeof(xmf)));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.part", xmf));
  PetscCallMPI(MPI_Comm_rank(io->comm, &rank));
  if (!rank) ierr = WriteXdmf(io, ser, tmp);
  PetscCallMPI(MPI_Bcast(&ierr, 1, MPI_INT, 0, io->comm));
  PetscCheck(!ierr, io->comm, PETSC_ERR_FILE_WRITE, "cannot write the XDMF file %s", xmf);
  PetscCall(KfRenameFile(io->comm, tmp, xmf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOClose(KfIO *io, PetscBool complete)
{
  PetscFunctionBeginUser;
  if (!*io) PetscFunctionReturn(PETSC_SUCCESS);
  if (complete) {
    PetscCall(KfIOSetAttributeInts(*io, "complete", 1, (PetscInt[]){1}));
    KfCallHDF5(H5Fflush((*io)->file, H5F_SCOPE_GLOBAL));
  }
  KfCallHDF5(H5Pclose((*io)->dxpl));
  KfCallHDF5(H5Fclose((*io)->file));
  if (complete) {
    PetscCall(KfRenameFile((*io)->comm, (*io)->part, (*io)->path));
    PetscCall(FinishXdmf(*io, &(*io)->series[0], ""));
    PetscCall(FinishXdmf(*io, &(*io)->series[1], "-particles"));
  } else PetscCall(KfRemoveFile((*io)->comm, (*io)->part));
  PetscCall(PetscFree((*io)->series[0].times));
  PetscCall(PetscFree((*io)->series[1].times));
  PetscCall(PetscFree(*io));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every rank checks the same things on the same file, so errors are raised collectively. */
static PetscErrorCode OpenForReading(MPI_Comm comm, const char path[], const char role[], hid_t *file)
{
  hid_t fapl;
  int   readable;

  PetscFunctionBeginUser;
  KfCallHDF5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
  readable = access(path, R_OK) == 0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &readable, 1, MPI_INT, MPI_MIN, comm));
  PetscCheck(readable, comm, KF_ERR_INPUT, "-%s file:%s: the file does not exist or is not readable", role, path);
  PetscCheck(H5Fis_hdf5(path) > 0, comm, KF_ERR_INPUT, "-%s file:%s: not an HDF5 file (or truncated)", role, path);
  PetscCall(FileAccess(comm, &fapl));
  *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  KfCallHDF5(H5Pclose(fapl));
  PetscCheck(*file >= 0, comm, KF_ERR_INPUT, "-%s file:%s: HDF5 cannot open the file (corrupt or truncated?)", role, path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* H5Lexists fails on a path whose intermediate groups are missing, so walk it component by component. */
static PetscBool DatasetExists(hid_t file, const char name[])
{
  char   buf[PETSC_MAX_PATH_LEN];
  size_t len = strlen(name);

  if (len >= sizeof(buf) || !len) return PETSC_FALSE;
  for (size_t i = 1; i <= len; i++) {
    if (name[i] != '/' && name[i] != 0) continue;
    memcpy(buf, name, i);
    buf[i] = 0;
    if (!strcmp(buf, "/")) continue;
    if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) return PETSC_FALSE;
  }
  if (H5Oexists_by_name(file, name, H5P_DEFAULT) <= 0) return PETSC_FALSE;
  {
    H5O_info_t info;

    return H5Oget_info_by_name2(file, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 && info.type == H5O_TYPE_DATASET ? PETSC_TRUE : PETSC_FALSE; /* a group is no dataset */
  }
}

static PetscErrorCode DescribeShape(int rank, const hsize_t dims[], char buf[], size_t len)
{
  PetscFunctionBeginUser;
  buf[0] = 0;
  for (int i = 0; i < rank; i++) {
    char part[32];

    PetscCall(PetscSNPrintf(part, sizeof(part), "%s%llu", i ? " x " : "", (unsigned long long)dims[i]));
    PetscCall(PetscStrlcat(buf, part, len));
  }
  if (!rank) PetscCall(PetscStrncpy(buf, "scalar", len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadSlab(hid_t dset, int rank, const KfSpectralLayout *lay, PetscScalar local[])
{
  hsize_t start[KF_MAX_DIM + 1], count[KF_MAX_DIM + 1], dims[KF_MAX_DIM + 1];
  hid_t   fspace, mspace, dxpl;
  int     off = rank - (int)lay->dim;

  PetscFunctionBeginUser;
  fspace = H5Dget_space(dset);
  KfCallHDF5(H5Sget_simple_extent_dims(fspace, dims, NULL));
  if (off) {
    start[0] = dims[0] - 1;
    count[0] = 1;
  }
  for (PetscInt j = 0; j < lay->dim; j++) {
    start[j + off] = (hsize_t)lay->start[j];
    count[j + off] = (hsize_t)lay->count[j];
  }
  mspace = H5Screate_simple(rank, count, NULL);
  if (lay->nlocal) KfCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else {
    KfCallHDF5(H5Sselect_none(fspace));
    KfCallHDF5(H5Sselect_none(mspace));
  }
  dxpl = H5Pcreate(H5P_DATASET_XFER);
  KfCallHDF5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  KfCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, local));
  KfCallHDF5(H5Pclose(dxpl));
  KfCallHDF5(H5Sclose(mspace));
  KfCallHDF5(H5Sclose(fspace));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIORowCount(MPI_Comm comm, const char path[], const char dataset[], PetscInt d, const char role[], PetscInt64 *M)
{
  hid_t   file, dset, space;
  hsize_t dims[8];
  int     rank = -1;

  PetscFunctionBeginUser;
  PetscCall(OpenForReading(comm, path, role, &file));
  if (!DatasetExists(file, dataset)) {
    KfCallHDF5(H5Fclose(file));
    SETERRQ(comm, KF_ERR_INPUT, "-%s file:%s:%s: no dataset %s in the file", role, path, dataset, dataset);
  }
  dset = H5Dopen2(file, dataset, H5P_DEFAULT);
  KfCallHDF5(dset);
  space = H5Dget_space(dset);
  rank  = H5Sget_simple_extent_ndims(space);
  if (rank == 2) KfCallHDF5(H5Sget_simple_extent_dims(space, dims, NULL));
  KfCallHDF5(H5Sclose(space));
  KfCallHDF5(H5Dclose(dset));
  KfCallHDF5(H5Fclose(file));
  PetscCheck(rank == 2 && dims[1] == (hsize_t)d && dims[0] > 0, comm, KF_ERR_INPUT, "-%s file:%s:%s: expected an M x %" PetscInt_FMT " float64 array of points (M >= 1)", role, path, dataset, d);
  *M = (PetscInt64)dims[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadArray(MPI_Comm, const char[], const char[], const KfSpectralLayout *, PetscScalar[], const char[], const char[]);

PetscErrorCode KfIOReadRows(MPI_Comm comm, const char path[], const char dataset[], PetscInt64 N, PetscInt d, PetscInt64 start, PetscInt nlocal, PetscScalar local[], const char role[])
{
  KfSpectralLayout lay;

  PetscFunctionBeginUser;
  RowLayout(N, d, start, nlocal, &lay);
  PetscCall(ReadArray(comm, path, dataset, &lay, local, role, "N x d positions"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOReadGrid(MPI_Comm comm, const char path[], const char dataset[], const KfSpectralLayout *lay, PetscScalar local[], const char role[])
{
  PetscFunctionBeginUser;
  PetscCall(ReadArray(comm, path, dataset, lay, local, role, "grid"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* what: "grid" or "N x d positions", for the shape message. */
static PetscErrorCode ReadArray(MPI_Comm comm, const char path[], const char dataset[], const KfSpectralLayout *lay, PetscScalar local[], const char role[], const char what[])
{
  hid_t     file = -1, dset, type, space;
  hsize_t   dims[8];
  int       rank, off, ok;
  char      want[128], got[128];
  PetscBool isdouble;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_IO_READ, 0, 0, 0, 0));
  PetscCall(OpenForReading(comm, path, role, &file));
  if (!DatasetExists(file, dataset)) {
    KfCallHDF5(H5Fclose(file));
    SETERRQ(comm, KF_ERR_INPUT, "-%s file:%s:%s: no dataset %s in the file", role, path, dataset, dataset);
  }
  dset  = H5Dopen2(file, dataset, H5P_DEFAULT);
  type  = H5Dget_type(dset);
  space = H5Dget_space(dset);
  KfCallHDF5(dset);
  isdouble = (PetscBool)(H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 8);
  rank     = H5Sget_simple_extent_ndims(space);
  ok       = rank >= 0 && rank <= 8;
  if (ok) KfCallHDF5(H5Sget_simple_extent_dims(space, dims, NULL));
  off = rank - (int)lay->dim;
  ok  = ok && (off == 0 || off == 1) && (off == 0 || dims[0] > 0);
  for (PetscInt j = 0; ok && j < lay->dim; j++) ok = dims[j + off] == (hsize_t)lay->n[j];
  KfCallHDF5(H5Tclose(type));
  KfCallHDF5(H5Sclose(space));
  if (!isdouble || !ok) {
    KfCallHDF5(H5Dclose(dset));
    KfCallHDF5(H5Fclose(file));
  }
  PetscCheck(isdouble, comm, KF_ERR_INPUT, "-%s file:%s:%s: the dataset is not float64", role, path, dataset);
  {
    hsize_t nd[KF_MAX_DIM];

    for (PetscInt j = 0; j < lay->dim; j++) nd[j] = (hsize_t)lay->n[j];
    PetscCall(DescribeShape((int)lay->dim, nd, want, sizeof(want)));
    PetscCall(DescribeShape(rank > 0 ? rank : 0, dims, got, sizeof(got)));
  }
  PetscCheck(ok, comm, KF_ERR_INPUT, "-%s file:%s:%s: shape %s does not match the %s %s (or records x %s)", role, path, dataset, got, what, want, what);
  PetscCall(ReadSlab(dset, rank, lay, local));
  KfCallHDF5(H5Dclose(dset));
  KfCallHDF5(H5Fclose(file));
  PetscCall(PetscLogEventEnd(KF_EVENT_IO_READ, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- checkpoints (src/checkpoint.c): whole distributed arrays, attributes read back, output snapshots ---- */

PetscErrorCode KfIOCreateCheckpoint(MPI_Comm comm, const char path[], KfIO *out)
{
  KfSpectralLayout none;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&none, sizeof(none)));
  PetscCall(CreateFile(comm, path, "checkpoint", &none, 0, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* DATASET (n1, ..., nd) of fixed size, contiguous; collective. */
static PetscErrorCode CreateWhole(KfIO io, const KfSpectralLayout *lay, const char name[], hid_t *dset)
{
  hsize_t dims[KF_MAX_DIM];
  hid_t   space, lcpl;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < lay->dim; j++) dims[j] = (hsize_t)lay->n[j];
  space = H5Screate_simple((int)lay->dim, dims, NULL);
  lcpl  = H5Pcreate(H5P_LINK_CREATE);
  KfCallHDF5(space);
  KfCallHDF5(H5Pset_create_intermediate_group(lcpl, 1));
  *dset = H5Dcreate2(io->file, name, H5T_NATIVE_DOUBLE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  KfCallHDF5(*dset);
  KfCallHDF5(H5Pclose(lcpl));
  KfCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteBlock(KfIO io, const KfSpectralLayout *lay, const char name[], const PetscScalar local[])
{
  hsize_t start[KF_MAX_DIM], count[KF_MAX_DIM];
  hid_t   dset, fspace, mspace;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_IO_WRITE, 0, 0, 0, 0));
  PetscCall(CreateWhole(io, lay, name, &dset));
  for (PetscInt j = 0; j < lay->dim; j++) {
    start[j] = (hsize_t)lay->start[j];
    count[j] = (hsize_t)lay->count[j];
  }
  fspace = H5Dget_space(dset);
  mspace = H5Screate_simple((int)lay->dim, count, NULL);
  KfCallHDF5(fspace);
  KfCallHDF5(mspace);
  if (lay->nlocal) KfCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else {
    KfCallHDF5(H5Sselect_none(fspace));
    KfCallHDF5(H5Sselect_none(mspace));
  }
  KfCallHDF5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, io->dxpl, local));
  KfCallHDF5(H5Sclose(mspace));
  KfCallHDF5(H5Sclose(fspace));
  KfCallHDF5(H5Dclose(dset));
  PetscCall(PetscLogEventEnd(KF_EVENT_IO_WRITE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOWriteGrid(KfIO io, const char name[], const KfSpectralLayout *lay, const PetscScalar local[])
{
  PetscFunctionBeginUser;
  PetscCall(WriteBlock(io, lay, name, local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOWriteRows(KfIO io, const char name[], PetscInt64 N, PetscInt cols, PetscInt64 start, PetscInt nlocal, const PetscScalar local[])
{
  KfSpectralLayout lay;

  PetscFunctionBeginUser;
  RowLayout(N, cols, start, nlocal, &lay);
  PetscCall(WriteBlock(io, &lay, name, local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Opens attribute NAME of the root group of PATH; a missing one is a collective input error. */
static PetscErrorCode OpenRootAttribute(MPI_Comm comm, const char path[], const char name[], const char role[], hid_t *file, hid_t *attr)
{
  PetscFunctionBeginUser;
  PetscCall(OpenForReading(comm, path, role, file));
  if (H5Aexists(*file, name) <= 0) {
    KfCallHDF5(H5Fclose(*file));
    SETERRQ(comm, KF_ERR_INPUT, "-%s %s: the file has no attribute '%s' (not a kmdflow checkpoint, or an incomplete one)", role, path, name);
  }
  *attr = H5Aopen(*file, name, H5P_DEFAULT);
  KfCallHDF5(*attr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOReadAttributeString(MPI_Comm comm, const char path[], const char name[], const char role[], char **value)
{
  hid_t     file, attr, type, space, mem;
  size_t    len;
  PetscBool ok;

  PetscFunctionBeginUser;
  PetscCall(OpenRootAttribute(comm, path, name, role, &file, &attr));
  type  = H5Aget_type(attr);
  space = H5Aget_space(attr);
  KfCallHDF5(type);
  KfCallHDF5(space);
  ok  = (PetscBool)(H5Tget_class(type) == H5T_STRING && !H5Tis_variable_str(type) && H5Sget_simple_extent_ndims(space) == 0);
  len = ok ? H5Tget_size(type) : 0;
  ok  = (PetscBool)(ok && len > 0 && len < (1u << 24));
  PetscCall(PetscCalloc1(len + 1, value));
  if (ok) {
    mem = H5Tcopy(H5T_C_S1);
    KfCallHDF5(mem);
    KfCallHDF5(H5Tset_size(mem, len + 1)); /* room for the terminator that NULLPAD strings (h5py's) lack */
    KfCallHDF5(H5Aread(attr, mem, *value));
    KfCallHDF5(H5Tclose(mem));
  }
  KfCallHDF5(H5Sclose(space));
  KfCallHDF5(H5Tclose(type));
  KfCallHDF5(H5Aclose(attr));
  KfCallHDF5(H5Fclose(file));
  if (!ok) PetscCall(PetscFree(*value));
  PetscCheck(ok, comm, KF_ERR_INPUT, "-%s %s: attribute '%s' is not a fixed-length string", role, path, name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* n values (numbers of any HDF5 numeric type, converted to double); NaN and Inf are refused. */
PetscErrorCode KfIOReadAttributeReals(MPI_Comm comm, const char path[], const char name[], const char role[], PetscInt n, PetscReal v[])
{
  hid_t     file, attr, type, space;
  hssize_t  npoints;
  double    buf[16];
  PetscBool ok;

  PetscFunctionBeginUser;
  PetscCheck(n <= 16, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "at most 16 values per attribute");
  PetscCall(OpenRootAttribute(comm, path, name, role, &file, &attr));
  type    = H5Aget_type(attr);
  space   = H5Aget_space(attr);
  KfCallHDF5(type);
  KfCallHDF5(space);
  npoints = H5Sget_simple_extent_npoints(space);
  ok      = (PetscBool)((H5Tget_class(type) == H5T_FLOAT || H5Tget_class(type) == H5T_INTEGER) && npoints == (hssize_t)n);
  if (ok) KfCallHDF5(H5Aread(attr, H5T_NATIVE_DOUBLE, buf));
  KfCallHDF5(H5Sclose(space));
  KfCallHDF5(H5Tclose(type));
  KfCallHDF5(H5Aclose(attr));
  KfCallHDF5(H5Fclose(file));
  PetscCheck(ok, comm, KF_ERR_INPUT, "-%s %s: attribute '%s' should hold %" PetscInt_FMT " number%s", role, path, name, n, n > 1 ? "s" : "");
  for (PetscInt i = 0; i < n; i++) {
    PetscCheck(PetscIsNormalReal(buf[i]) || buf[i] == 0, comm, KF_ERR_INPUT, "-%s %s: attribute '%s' holds the non-finite value %s", role, path, name, KF_NUM(buf[i]));
    v[i] = buf[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rank 0 copies the bytes of from into to; the result is broadcast. */
static PetscErrorCode CopyFile(MPI_Comm comm, const char from[], const char to[])
{
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    FILE  *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char  *buf = NULL;
    size_t nr;

    err = !in || !out;
    if (!err) err = !(buf = (char *)malloc(1 << 22));
    while (!err && (nr = fread(buf, 1, 1 << 22, in)) > 0) err = fwrite(buf, 1, nr, out) != nr;
    if (!err) err = ferror(in) || fflush(out) || fsync(fileno(out));
    free(buf);
    if (in) fclose(in);
    if (out && fclose(out)) err = 1;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot copy %s to %s", from, to);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOSnapshot(KfIO io, const char dest[])
{
  char tmp[PETSC_MAX_PATH_LEN + 8];

  PetscFunctionBeginUser;
  KfCallHDF5(H5Fflush(io->file, H5F_SCOPE_GLOBAL));
  PetscCallMPI(MPI_Barrier(io->comm)); /* every rank's data is on disk before rank 0 reads the file */
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.part", dest));
  PetscCall(CopyFile(io->comm, io->part, tmp));
  PetscCall(KfRenameFile(io->comm, tmp, dest));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  hsize_t  nrecords;
  int      err; /* 1: HDF5 failure, 2: a series shorter than nrecords */
  char     name[256];
} TruncateCtx;

/* Every extensible (time-series) dataset is cut back to nrecords records. */
static herr_t TruncateVisit(hid_t obj, const char *name, const H5O_info_t *info, void *data)
{
  TruncateCtx *c = (TruncateCtx *)data;
  hid_t        dset, space;
  hsize_t      dims[KF_MAX_DIM + 1], maxd[KF_MAX_DIM + 1];
  int          rank;

  if (info->type != H5O_TYPE_DATASET) return 0;
  if ((dset = H5Dopen2(obj, name, H5P_DEFAULT)) < 0) return (c->err = 1), -1;
  space = H5Dget_space(dset);
  rank  = H5Sget_simple_extent_ndims(space);
  if (rank >= 1 && rank <= KF_MAX_DIM + 1 && H5Sget_simple_extent_dims(space, dims, maxd) >= 0 && maxd[0] == H5S_UNLIMITED) {
    if (dims[0] < c->nrecords) c->err = 2;
    else if (dims[0] > c->nrecords) {
      dims[0] = c->nrecords;
      if (H5Dset_extent(dset, dims) < 0) c->err = 1;
    }
    if (c->err) snprintf(c->name, sizeof(c->name), "%s", name);
  }
  H5Sclose(space);
  H5Dclose(dset);
  return c->err ? -1 : 0;
}

/* Reads the times of a series back (after the truncation, nrecords of them). */
static PetscErrorCode ResumeSeries(KfIO io, Series *ser, const char field[], const char times[], PetscInt nrecords)
{
  hid_t dset;

  PetscFunctionBeginUser;
  ser->nrecords = nrecords;
  ser->nalloc   = PetscMax(64, nrecords);
  PetscCall(PetscMalloc1(ser->nalloc, &ser->times));
  PetscCall(PetscStrncpy(ser->field, field, sizeof(ser->field)));
  if (!nrecords) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(DatasetExists(io->file, times), io->comm, KF_ERR_INPUT, "the output snapshot of the checkpoint has no dataset %s", times);
  dset = H5Dopen2(io->file, times, H5P_DEFAULT);
  KfCallHDF5(dset);
  KfCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ser->times));
  KfCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfIOResume(KfIO io, const char snapshot[], PetscInt nrecords, const char *const fields[2], const char *const times[2])
{
  hid_t       fapl;
  TruncateCtx c;

  PetscFunctionBeginUser;
  PetscCall(OpenForReading(io->comm, snapshot, "restart", &fapl)); /* exists, readable, HDF5: else a clear input error */
  KfCallHDF5(H5Fclose(fapl));
  KfCallHDF5(H5Fclose(io->file));
  PetscCall(CopyFile(io->comm, snapshot, io->part));
  PetscCall(FileAccess(io->comm, &fapl));
  io->file = H5Fopen(io->part, H5F_ACC_RDWR, fapl);
  KfCallHDF5(H5Pclose(fapl));
  PetscCheck(io->file >= 0, io->comm, KF_ERR_INPUT, "the output snapshot %s of the checkpoint cannot be opened (corrupt or truncated?)", snapshot);
  PetscCall(PetscMemzero(&c, sizeof(c)));
  c.nrecords = (hsize_t)nrecords;
  (void)H5Ovisit2(io->file, H5_INDEX_NAME, H5_ITER_INC, TruncateVisit, &c, H5O_INFO_BASIC);
  PetscCheck(c.err != 2, io->comm, KF_ERR_INPUT, "the output snapshot %s has fewer records in %s than the checkpoint's %" PetscInt_FMT, snapshot, c.name, nrecords);
  PetscCheck(!c.err, io->comm, PETSC_ERR_LIB, "cannot cut the output series of %s back to %" PetscInt_FMT " records (%s)", snapshot, nrecords, c.name);
  for (int s = 0; s < 2; s++) {
    PetscFree(io->series[s].times);
    if (fields[s]) PetscCall(ResumeSeries(io, &io->series[s], fields[s], times[s], nrecords));
  }
  PetscCall(KfIOSetAttributeInts(io, "complete", 1, (PetscInt[]){0}));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Leaves PATH.part (marked incomplete) for inspection: the run stopped after a checkpoint, which holds the same records. */
PetscErrorCode KfIOSuspend(KfIO *io)
{
  PetscFunctionBeginUser;
  if (!*io) PetscFunctionReturn(PETSC_SUCCESS);
  KfCallHDF5(H5Pclose((*io)->dxpl));
  KfCallHDF5(H5Fclose((*io)->file));
  PetscCall(PetscFree((*io)->series[0].times));
  PetscCall(PetscFree((*io)->series[1].times));
  PetscCall(PetscFree(*io));
  PetscFunctionReturn(PETSC_SUCCESS);
}
