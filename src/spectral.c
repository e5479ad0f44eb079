/* spectral.c - the only user of FFTW: plans, distributed transforms, layout, wisdom; and the planner-free serial DFT */
#include <complex.h> /* before fftw3.h, so that fftw_complex is double _Complex = KfComplex */
#include <fftw3-mpi.h>
#include <gsl/gsl_fft_complex.h>
#include "kf_spectral.h"
#include "kf_log.h"

struct _p_KfSpectral {
  MPI_Comm         comm;
  KfSpectralLayout lay;
  ptrdiff_t        alloc;  /* complex elements FFTW needs per buffer on this rank */
  PetscInt         rowpad; /* stride of the padded last real axis (d >= 2) */
  double          *rbuf;   /* padded real slab (d >= 2) */
  fftw_complex    *cbuf, *cbuf2;
  fftw_plan        fwd, bwd;
};

#define KfCheckPlan(plan, comm) PetscCheck((plan) != NULL, comm, PETSC_ERR_LIB, "FFTW could not create a plan for this grid and rank count")

static PetscBool initialized = PETSC_FALSE;

/* Threads before MPI, as the FFTW manual requires for hybrid use. */
PetscErrorCode KfSpectralInitialize(void)
{
  PetscFunctionBeginUser;
  if (initialized) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(fftw_init_threads(), PETSC_COMM_SELF, PETSC_ERR_LIB, "fftw_init_threads failed");
  fftw_mpi_init();
  initialized = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralFinalize(void)
{
  PetscFunctionBeginUser;
  if (initialized) {
    fftw_mpi_cleanup();
    fftw_cleanup_threads();
  }
  initialized = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralVersion(const char **v)
{
  PetscFunctionBeginUser;
  *v = fftw_version;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static unsigned PlannerFlags(KfPlanner planner)
{
  static const unsigned flags[] = {FFTW_ESTIMATE, FFTW_MEASURE, FFTW_PATIENT, FFTW_EXHAUSTIVE};
  return flags[planner];
}

static PetscErrorCode LoadWisdom(KfSpectral sp, const char path[])
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(sp->comm, &rank));
  if (!rank) (void)fftw_import_wisdom_from_filename(path); /* a missing file just means no wisdom yet */
  fftw_mpi_broadcast_wisdom(sp->comm);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SaveWisdom(KfSpectral sp, const char path[])
{
  PetscMPIInt rank;
  char        tmp[PETSC_MAX_PATH_LEN + 8];
  int         ok = 1;

  PetscFunctionBeginUser;
  fftw_mpi_gather_wisdom(sp->comm);
  PetscCallMPI(MPI_Comm_rank(sp->comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", path));
  if (!rank) ok = fftw_export_wisdom_to_filename(tmp);
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, sp->comm));
  PetscCheck(ok, sp->comm, KF_ERR_INPUT, "-fftw_wisdom %s: cannot write the wisdom file", path);
  PetscCall(KfRenameFile(sp->comm, tmp, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreatePlans1d(KfSpectral sp, unsigned flags)
{
  KfSpectralLayout *lay = &sp->lay;
  ptrdiff_t         ni, i0, no, o0;

  PetscFunctionBeginUser;
  sp->alloc = fftw_mpi_local_size_1d(lay->n[0], sp->comm, FFTW_FORWARD, flags, &ni, &i0, &no, &o0);
  sp->cbuf  = fftw_alloc_complex(PetscMax(sp->alloc, 1));
  sp->cbuf2 = fftw_alloc_complex(PetscMax(sp->alloc, 1));
  PetscCheck(sp->cbuf && sp->cbuf2, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate FFT buffers");
  sp->fwd = fftw_mpi_plan_dft_1d(lay->n[0], sp->cbuf, sp->cbuf2, sp->comm, FFTW_FORWARD, flags);
  KfCheckPlan(sp->fwd, sp->comm);
  sp->bwd = fftw_mpi_plan_dft_1d(lay->n[0], sp->cbuf2, sp->cbuf, sp->comm, FFTW_BACKWARD, flags);
  KfCheckPlan(sp->bwd, sp->comm);
  lay->start[0]  = (PetscInt)i0;
  lay->count[0]  = (PetscInt)ni;
  lay->kstart[0] = (PetscInt)o0;
  lay->kcount[0] = (PetscInt)no;
  lay->halfspace = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreatePlansSlab(KfSpectral sp, unsigned flags)
{
  KfSpectralLayout *lay = &sp->lay;
  const PetscInt    d   = lay->dim;
  ptrdiff_t         n[KF_MAX_DIM], nc[KF_MAX_DIM], n0, s0;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < d; j++) n[j] = nc[j] = lay->n[j];
  nc[d - 1] = lay->n[d - 1] / 2 + 1;
  sp->alloc = fftw_mpi_local_size_many(d, nc, 1, FFTW_MPI_DEFAULT_BLOCK, sp->comm, &n0, &s0);
  sp->rbuf  = fftw_alloc_real(2 * PetscMax(sp->alloc, 1));
  sp->cbuf  = fftw_alloc_complex(PetscMax(sp->alloc, 1));
  PetscCheck(sp->rbuf && sp->cbuf, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate FFT buffers");
  sp->fwd = fftw_mpi_plan_dft_r2c(d, n, sp->rbuf, sp->cbuf, sp->comm, flags);
  KfCheckPlan(sp->fwd, sp->comm);
  sp->bwd = fftw_mpi_plan_dft_c2r(d, n, sp->cbuf, sp->rbuf, sp->comm, flags);
  KfCheckPlan(sp->bwd, sp->comm);
  sp->rowpad = 2 * (lay->n[d - 1] / 2 + 1);
  for (PetscInt j = 0; j < d; j++) {
    lay->start[j] = lay->kstart[j] = 0;
    lay->count[j]                  = lay->n[j];
    lay->kcount[j]                 = (PetscInt)nc[j];
  }
  lay->start[0] = lay->kstart[0] = (PetscInt)s0;
  lay->count[0] = lay->kcount[0] = (PetscInt)n0;
  lay->halfspace                 = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralCreate(MPI_Comm comm, PetscInt dim, const PetscInt n[], KfPlanner planner, const char wisdom[], PetscInt threads, KfSpectral *out)
{
  KfSpectral sp;
  unsigned   flags = PlannerFlags(planner);

  PetscFunctionBeginUser;
  PetscCall(KfSpectralInitialize());
  PetscCall(PetscNew(&sp));
  sp->comm     = comm;
  sp->lay.dim  = dim;
  sp->lay.ntotal = 1;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
    sp->lay.n[j] = j < dim ? n[j] : 1;
    sp->lay.start[j] = sp->lay.kstart[j] = 0;
    sp->lay.count[j] = sp->lay.kcount[j] = 1;
    sp->lay.ntotal *= sp->lay.n[j];
  }
  if (wisdom && wisdom[0]) PetscCall(LoadWisdom(sp, wisdom));
  fftw_plan_with_nthreads((int)threads);
  if (dim == 1) PetscCall(CreatePlans1d(sp, flags));
  else PetscCall(CreatePlansSlab(sp, flags));
  if (wisdom && wisdom[0]) PetscCall(SaveWisdom(sp, wisdom));
  sp->lay.nlocal = sp->lay.nmodes = 1;
  for (PetscInt j = 0; j < dim; j++) {
    sp->lay.nlocal *= sp->lay.count[j];
    sp->lay.nmodes *= sp->lay.kcount[j];
  }
  *out = sp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralDestroy(KfSpectral *sp)
{
  PetscFunctionBeginUser;
  if (!*sp) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*sp)->fwd) fftw_destroy_plan((*sp)->fwd);
  if ((*sp)->bwd) fftw_destroy_plan((*sp)->bwd);
  fftw_free((*sp)->rbuf);
  fftw_free((*sp)->cbuf);
  fftw_free((*sp)->cbuf2);
  PetscCall(PetscFree(*sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralGetLayout(KfSpectral sp, const KfSpectralLayout **lay)
{
  PetscFunctionBeginUser;
  *lay = &sp->lay;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralCreateVec(KfSpectral sp, Vec *v)
{
  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(sp->comm, sp->lay.nlocal, (PetscInt)sp->lay.ntotal, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Mode arrays are FFTW-aligned and as large as FFTW's buffers, so transforms can write into them. */
PetscErrorCode KfSpectralAllocModes(KfSpectral sp, KfComplex **modes)
{
  PetscFunctionBeginUser;
  *modes = (KfComplex *)fftw_alloc_complex(PetscMax(sp->alloc, 1));
  PetscCheck(*modes, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate %td Fourier modes", sp->alloc);
  PetscCall(PetscArrayzero(*modes, PetscMax(sp->alloc, 1)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralFreeModes(KfComplex **modes)
{
  PetscFunctionBeginUser;
  fftw_free(*modes);
  *modes = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* rows: all real-space rows of the local slab except the last axis */
static PetscInt SlabRows(const KfSpectralLayout *lay)
{
  return lay->nlocal / (lay->count[lay->dim - 1] ? lay->count[lay->dim - 1] : 1);
}

/* The conventional FFT flop counts: 5 N log2 N for complex, half that for real data. */
static PetscLogDouble FFTFlops(const KfSpectralLayout *lay)
{
  const PetscLogDouble per_point = (lay->dim == 1 ? 5.0 : 2.5) * PetscLog2Real((PetscReal)lay->ntotal);

  return per_point * (PetscLogDouble)lay->nlocal;
}

/* xhat(k) = N^{-1} sum_g x(g) e^{-2 pi i g.k/n}: the Fourier coefficients of math spec A.1. */
PetscErrorCode KfSpectralForward(KfSpectral sp, const PetscScalar x[], KfComplex xhat[])
{
  const KfSpectralLayout *lay   = &sp->lay;
  const double            scale = 1.0 / (double)lay->ntotal;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_FFT_FORWARD, 0, 0, 0, 0));
  if (lay->dim == 1) {
    /* the 1/N scale rides on the copy FFTW needs anyway, instead of a second pass over the modes */
    for (PetscInt i = 0; i < lay->nlocal; i++) sp->cbuf[i] = scale * x[i];
    fftw_mpi_execute_dft(sp->fwd, sp->cbuf, (fftw_complex *)xhat);
  } else {
    const PetscInt rows = SlabRows(lay), nl = lay->n[lay->dim - 1];

    for (PetscInt r = 0; r < rows; r++) {
      double *restrict dst = sp->rbuf + r * sp->rowpad;
      const PetscScalar *restrict src = x + r * nl;

      for (PetscInt i = 0; i < nl; i++) dst[i] = scale * src[i];
    }
    fftw_mpi_execute_dft_r2c(sp->fwd, sp->rbuf, (fftw_complex *)xhat);
  }
  PetscCall(PetscLogFlops(FFTFlops(lay)));
  PetscCall(PetscLogEventEnd(KF_EVENT_FFT_FORWARD, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x(g) = sum_k xhat(k) e^{2 pi i g.k/n}; xhat is left untouched. */
PetscErrorCode KfSpectralBackward(KfSpectral sp, const KfComplex xhat[], PetscScalar x[])
{
  const KfSpectralLayout *lay = &sp->lay;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_FFT_BACKWARD, 0, 0, 0, 0));
  if (lay->dim == 1) {
    PetscCall(PetscArraycpy((KfComplex *)sp->cbuf2, xhat, lay->nmodes));
    fftw_mpi_execute_dft(sp->bwd, sp->cbuf2, sp->cbuf);
    for (PetscInt i = 0; i < lay->nlocal; i++) x[i] = creal(sp->cbuf[i]);
  } else {
    const PetscInt rows = SlabRows(lay), nl = lay->n[lay->dim - 1];

    PetscCall(PetscArraycpy((KfComplex *)sp->cbuf, xhat, lay->nmodes));
    fftw_mpi_execute_dft_c2r(sp->bwd, sp->cbuf, sp->rbuf);
    for (PetscInt r = 0; r < rows; r++) PetscCall(PetscArraycpy(x + r * nl, sp->rbuf + r * sp->rowpad, nl));
  }
  PetscCall(PetscLogFlops(FFTFlops(lay)));
  PetscCall(PetscLogEventEnd(KF_EVENT_FFT_BACKWARD, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralSerialDFT(PetscInt d, const PetscInt n[], KfComplex z[], PetscBool forward)
{
  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < d; j++) {
    gsl_fft_complex_wavetable *wt;
    gsl_fft_complex_workspace *ws;
    size_t                     stride = 1, outer = 1;

    if (n[j] == 1) continue;
    for (PetscInt i = j + 1; i < d; i++) stride *= (size_t)n[i];
    for (PetscInt i = 0; i < j; i++) outer *= (size_t)n[i];
    wt = gsl_fft_complex_wavetable_alloc((size_t)n[j]);
    ws = gsl_fft_complex_workspace_alloc((size_t)n[j]);
    PetscCheck(wt && ws, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate a GSL FFT of length %" PetscInt_FMT, n[j]);
    for (size_t o = 0; o < outer; o++)
      for (size_t t = 0; t < stride; t++) {
        double *base = (double *)(z + o * (size_t)n[j] * stride + t);
        int     err  = forward ? gsl_fft_complex_forward(base, stride, (size_t)n[j], wt, ws) : gsl_fft_complex_backward(base, stride, (size_t)n[j], wt, ws);

        PetscCheck(!err, PETSC_COMM_SELF, PETSC_ERR_LIB, "GSL FFT of length %" PetscInt_FMT " failed (%d)", n[j], err);
      }
    gsl_fft_complex_wavetable_free(wt);
    gsl_fft_complex_workspace_free(ws);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfSpectralHalfModes(PetscInt dim, const PetscInt n[], const KfComplex chat[], PetscInt *nk, PetscInt **k, PetscReal **a)
{
  PetscInt64 N = 1;
  PetscInt   kv[KF_MAX_DIM], m = 0;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < dim; j++) N *= n[j];
  for (PetscInt64 i = 0; i < N; i++)
    if (KfGridWavenumbers(dim, n, i, kv) && KfInHalfSpace(dim, kv)) m++;
  PetscCall(PetscMalloc2(PetscMax(1, m * dim), k, PetscMax(1, 2 * m), a));
  m = 0;
  for (PetscInt64 i = 0; i < N; i++) {
    if (!KfGridWavenumbers(dim, n, i, kv) || !KfInHalfSpace(dim, kv)) continue;
    for (PetscInt j = 0; j < dim; j++) (*k)[m * dim + j] = kv[j];
    (*a)[2 * m]     = creal(chat[i]);
    (*a)[2 * m + 1] = cimag(chat[i]);
    m++;
  }
  *nk = m;
  PetscFunctionReturn(PETSC_SUCCESS);
}
