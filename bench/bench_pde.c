/* bench_pde.c - kmdflow-bench: cost of the PDE right-hand side and of an RK4 step, measured against
   the FFTs they cannot avoid (performance guide, "Spectral PDE mode") */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include <unistd.h>
#include <petscts.h>
#include "kf_log.h"
#include "kf_pde.h"
#include "kf_spectral.h"

static char help[] = "kmdflow-bench: time per FFT, per PDE right-hand side (RHS) and per RK4 step of kmdflow's spectral PDE mode.\n"
                     "  For each case it reports the efficiency ratio  step time / (FFTs per step x time of one FFT)\n"
                     "  against the target (default 1.25). One FFT is the mean of KfSpectralForward and KfSpectralBackward,\n"
                     "  i.e. including the copies into FFTW's padded buffers and the 1/N scaling, as the solver pays them.\n"
                     "  All quantities are timed in interleaved rounds (forward, backward, RHS, RK4 steps), so machine noise\n"
                     "  hits them alike; each time is the maximum over ranks; the report gives median and minimum over rounds.\n"
                     "  Besides the one-screen report, each case prints one line 'RESULT key=value ...' (see scripts/bench).\n"
                     "  Example: mpiexec -n 2 kmdflow-bench -dims 2,3 -fftw_threads 1\n\n";

/* The timed quantities, in the order of one round. */
typedef enum {
  Q_FORWARD,
  Q_BACKWARD,
  Q_RHS,
  Q_STEP,
  NQ
} BenchQuantity;

#define BENCH_MAX_ROUNDS 1000
#define BENCH_WARMUP 2

typedef struct {
  PetscInt  dims[KF_MAX_DIM], ndims; /* which cases, in the order given */
  PetscInt  n[KF_MAX_DIM + 1];       /* n[d]: grid points per axis of the d-dimensional case */
  PetscInt  reps;                    /* timed rounds; 0: automatic (>= 20 and >= min_time seconds) */
  PetscReal min_time;
  PetscInt  steps; /* RK4 steps per TSSolve sample */
  PetscReal dt, target;
  PetscInt  threads;
  KfPlanner planner;
  PetscBool dealias;
} BenchOptions;

typedef struct {
  MPI_Comm            comm;
  const BenchOptions *o;
  KfParams            p;
  KfSpectral          sp;
  KfPde               pde;
  Vec                 rho, nu, u, f, y;
  KfComplex          *modes;
  TS                  ts;
  PetscReal           dt;
  PetscInt            nrhs;        /* RHS calls made by the TS, to count them per step */
  PetscReal          *samples[NQ]; /* seconds per round, maximum over ranks */
  PetscInt            nrounds, rhs_per_step;
} BenchCase;

typedef struct {
  PetscReal median, min;
} BenchStat;

static PetscErrorCode BenchSetFromOptions(MPI_Comm comm, BenchOptions *o)
{
  PetscInt  planner = KF_PLANNER_ESTIMATE, nlist = KF_MAX_DIM;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(o, sizeof(*o)));
  o->ndims = 3;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) o->dims[j] = j + 1;
  PetscOptionsBegin(comm, NULL, "kmdflow-bench: FFT, RHS and RK4-step timings of the spectral PDE mode", "kmdflow-bench");
  PetscCall(PetscOptionsIntArray("-dims", "Cases to run: comma-separated dimensions from 1,2,3", "kmdflow-bench", o->dims, &nlist, &set));
  if (set) o->ndims = nlist;
  PetscCall(KfOptionsInt(PetscOptionsObject, "-n1", "Grid points of the 1-D case (even)", 65536, 4, 1 << 30, &o->n[1], NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-n2", "Grid points per axis of the 2-D case (even)", 512, 4, 1 << 15, &o->n[2], NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-n3", "Grid points per axis of the 3-D case (even)", 128, 4, 1 << 10, &o->n[3], NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-reps", "Timed rounds per case (0: at least 20, more until -min_time is spent, at most 1000)", 0, 0, BENCH_MAX_ROUNDS, &o->reps, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-min_time", "With -reps 0: seconds of timed rounds per case at least", 2.0, 0.0, 3600.0, PETSC_FALSE, &o->min_time, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-steps", "RK4 steps per timed TSSolve (the step time is the TSSolve time / steps)", 2, 1, 1000, &o->steps, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-dt", "RK4 time step (0: a quarter of the grid spacing, CFL number about 0.25)", 0.0, 0.0, 1.0, PETSC_FALSE, &o->dt, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-target", "Efficiency target: step time / (FFTs per step x one FFT) at most this", 1.25, 1.0, 100.0, PETSC_FALSE, &o->target, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-fftw_threads", "FFTW threads per MPI rank", 1, 1, 1024, &o->threads, NULL));
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-fftw_planner", "FFTW planner rigour", KfPlanners, KF_PLANNER_ESTIMATE, &planner));
  PetscCall(PetscOptionsBool("-dealias", "Apply the 2/3-rule mask in the RHS, as kmdflow -dealias does", "kmdflow-bench", o->dealias, &o->dealias, NULL));
  PetscOptionsEnd();
  o->planner = (KfPlanner)planner;
  for (PetscInt i = 0; i < o->ndims; i++) PetscCheck(o->dims[i] >= 1 && o->dims[i] <= KF_MAX_DIM, comm, KF_ERR_INPUT, "-dims: %" PetscInt_FMT " is not a dimension; expected values from 1,2,3", o->dims[i]);
  for (PetscInt d = 1; d <= KF_MAX_DIM; d++) PetscCheck(o->n[d] % 2 == 0, comm, KF_ERR_INPUT, "-n%" PetscInt_FMT " %" PetscInt_FMT ": grid sizes must be even (the spectral method needs a Nyquist mode)", d, o->n[d]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The parameters KfPdeCreate reads: s = 1 (the solver's default), L = 2 pi. */
static PetscErrorCode FillParams(const BenchOptions *o, PetscInt d, KfParams *p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(p, sizeof(*p)));
  p->mode         = KF_MODE_PDE;
  p->dim          = d;
  p->s            = 1.0;
  p->L            = 2 * PETSC_PI;
  p->dealias      = o->dealias;
  p->seed         = 1;
  p->planner      = o->planner;
  p->fftw_threads = o->threads;
  p->npoints      = 1;
  p->flow         = KF_FLOW_WASSERSTEIN;
  p->beta         = 1.0;
  p->kmd          = PETSC_TRUE;
  for (PetscInt j = 0; j < KF_MAX_DIM; j++) {
    p->n[j] = j < d ? o->n[d] : 1;
    p->npoints *= p->n[j];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* rho = 1 + (0.3/d) sum_j cos(x_j + j): smooth, positive, mass 1, so the RHS does real work. */
static PetscErrorCode FillDensity(BenchCase *c)
{
  const KfSpectralLayout *lay;
  PetscScalar            *a;
  const PetscReal         h = 2 * PETSC_PI, amp = 0.3 / (PetscReal)c->p.dim;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(c->sp, &lay));
  PetscCall(VecGetArray(c->rho, &a));
  for (PetscInt i0 = 0, m = 0; i0 < lay->count[0]; i0++)
    for (PetscInt i1 = 0; i1 < lay->count[1]; i1++)
      for (PetscInt i2 = 0; i2 < lay->count[2]; i2++, m++) {
        const PetscInt g[KF_MAX_DIM] = {lay->start[0] + i0, lay->start[1] + i1, lay->start[2] + i2};

        a[m] = 1.0;
        for (PetscInt j = 0; j < lay->dim; j++) a[m] += amp * PetscCosReal(h * (PetscReal)g[j] / (PetscReal)lay->n[j] + (PetscReal)j);
      }
  PetscCall(VecRestoreArray(c->rho, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The TS calls the solver's RHS through this, so the benchmark counts RHS evaluations per step
   instead of assuming the tableau's stage count. */
static PetscErrorCode CountingRHS(TS ts, PetscReal t, Vec U, Vec F, void *ctx)
{
  BenchCase *c = (BenchCase *)ctx;

  PetscFunctionBeginUser;
  c->nrhs++;
  PetscCall(KfPdeRHSFunction(ts, t, U, F, c->pde));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Classical RK4 with a fixed step, as kmdflow runs with -ts_rk_type 4 -ts_adapt_type none. The flow
  transports rho with velocity -grad u (|grad u| <= 0.3 here), so the step obeys a CFL limit
  dt |grad u| k_max <= 2.8: dt = 1e-3 is unstable on the 1-D 2^16 grid, and a benchmark that steps
  into NaNs times libgcc's NaN-recovery paths of complex multiplication instead of the solver.
*/
static PetscErrorCode SetupTS(BenchCase *c)
{
  TSAdapt adapt;

  PetscFunctionBeginUser;
  PetscCall(TSCreate(c->comm, &c->ts));
  PetscCall(TSSetProblemType(c->ts, TS_NONLINEAR));
  PetscCall(TSSetType(c->ts, TSRK));
  PetscCall(TSRKSetType(c->ts, TSRK4));
  PetscCall(TSGetAdapt(c->ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTNONE));
  PetscCall(TSSetRHSFunction(c->ts, NULL, CountingRHS, c));
  PetscCall(TSSetTimeStep(c->ts, c->dt));
  PetscCall(TSSetMaxTime(c->ts, PETSC_MAX_REAL));
  PetscCall(TSSetExactFinalTime(c->ts, TS_EXACTFINALTIME_STEPOVER));
  PetscCall(TSSetSolution(c->ts, c->u));
  PetscCall(TSSetUp(c->ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CaseSetup(BenchCase *c, MPI_Comm comm, const BenchOptions *o, PetscInt d)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->comm = comm;
  c->o    = o;
  PetscCall(FillParams(o, d, &c->p));
  c->dt = o->dt > 0 ? o->dt : 0.25 * c->p.L / (PetscReal)o->n[d];
  PetscCall(KfSpectralCreate(comm, d, c->p.n, o->planner, NULL, o->threads, &c->sp));
  PetscCall(KfSpectralCreateVec(c->sp, &c->rho));
  PetscCall(VecDuplicate(c->rho, &c->nu));
  PetscCall(VecDuplicate(c->rho, &c->u));
  PetscCall(VecDuplicate(c->rho, &c->f));
  PetscCall(VecDuplicate(c->rho, &c->y));
  PetscCall(FillDensity(c));
  PetscCall(VecSet(c->nu, 1.0));
  PetscCall(VecCopy(c->rho, c->u));
  PetscCall(KfSpectralAllocModes(c->sp, &c->modes));
  PetscCall(KfPdeCreate(c->sp, &c->p, c->nu, NULL, &c->pde));
  PetscCall(SetupTS(c));
  for (PetscInt q = 0; q < NQ; q++) PetscCall(PetscMalloc1(BENCH_MAX_ROUNDS, &c->samples[q]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CaseDestroy(BenchCase *c)
{
  PetscFunctionBeginUser;
  for (PetscInt q = 0; q < NQ; q++) PetscCall(PetscFree(c->samples[q]));
  PetscCall(TSDestroy(&c->ts));
  PetscCall(KfPdeDestroy(&c->pde));
  PetscCall(KfSpectralFreeModes(&c->modes));
  PetscCall(VecDestroy(&c->rho));
  PetscCall(VecDestroy(&c->nu));
  PetscCall(VecDestroy(&c->u));
  PetscCall(VecDestroy(&c->f));
  PetscCall(VecDestroy(&c->y));
  PetscCall(KfSpectralDestroy(&c->sp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode OpForward(BenchCase *c)
{
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(c->rho, &a));
  PetscCall(KfSpectralForward(c->sp, a, c->modes));
  PetscCall(VecRestoreArrayRead(c->rho, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode OpBackward(BenchCase *c)
{
  PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(VecGetArray(c->y, &a));
  PetscCall(KfSpectralBackward(c->sp, c->modes, a));
  PetscCall(VecRestoreArray(c->y, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* KfPdeRHSFunction does not use its TS argument. */
static PetscErrorCode OpRHS(BenchCase *c)
{
  PetscFunctionBeginUser;
  PetscCall(KfPdeRHSFunction(NULL, 0.0, c->rho, c->f, c->pde));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* u keeps evolving from round to round; with s = 1 and a uniform target it relaxes toward 1 and stays smooth. */
static PetscErrorCode OpSteps(BenchCase *c)
{
  PetscFunctionBeginUser;
  PetscCall(TSSetTime(c->ts, 0.0));
  PetscCall(TSSetStepNumber(c->ts, 0));
  PetscCall(TSSetMaxSteps(c->ts, c->o->steps));
  PetscCall(TSSolve(c->ts, c->u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode (*const Ops[NQ])(BenchCase *) = {OpForward, OpBackward, OpRHS, OpSteps};

/* One sample: all ranks start together; the slowest rank's time is the sample (it is what a step waits for). */
static PetscErrorCode TimeOne(BenchCase *c, BenchQuantity q, PetscReal *seconds)
{
  double t0, local, slowest;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Barrier(c->comm));
  t0 = MPI_Wtime();
  PetscCall(Ops[q](c));
  local = MPI_Wtime() - t0;
  PetscCallMPI(MPI_Allreduce(&local, &slowest, 1, MPI_DOUBLE, MPI_MAX, c->comm));
  *seconds = (PetscReal)slowest;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One round of every quantity; *spent is the same on every rank (built from reduced times), so the
   automatic stopping rule is collective. */
static PetscErrorCode Round(BenchCase *c, PetscBool record, PetscReal *spent)
{
  PetscReal t;

  PetscFunctionBeginUser;
  for (PetscInt q = 0; q < NQ; q++) {
    PetscCall(TimeOne(c, (BenchQuantity)q, &t));
    *spent += t;
    if (q == Q_STEP) t /= (PetscReal)c->o->steps;
    if (record) c->samples[q][c->nrounds] = t;
  }
  if (record) c->nrounds++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Timings of a state that has blown up are meaningless (NaN arithmetic takes slow paths). */
static PetscErrorCode CheckFinite(BenchCase *c)
{
  PetscReal norm;

  PetscFunctionBeginUser;
  PetscCall(VecNorm(c->u, NORM_INFINITY, &norm));
  PetscCheck(PetscIsNormalReal(norm) && norm < 1e3, c->comm, KF_ERR_NONFINITE, "the RK4 state blew up (max |rho| = %s) with -dt %s: use a smaller -dt", KF_NUM(norm), KF_NUM(c->dt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Warm-up rounds first: page faults of fresh buffers and the TS's first-solve work are not the steady state. */
static PetscErrorCode Measure(BenchCase *c)
{
  const BenchOptions *o     = c->o;
  const PetscInt      minr  = o->reps ? o->reps : 20;
  const PetscInt      maxr  = o->reps ? o->reps : BENCH_MAX_ROUNDS;
  PetscReal           spent = 0;
  PetscInt            nrhs0;

  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < BENCH_WARMUP; k++) PetscCall(Round(c, PETSC_FALSE, &spent));
  nrhs0 = c->nrhs;
  spent = 0;
  while (c->nrounds < maxr && (c->nrounds < minr || (!o->reps && spent < o->min_time))) PetscCall(Round(c, PETSC_TRUE, &spent));
  c->rhs_per_step = (c->nrhs - nrhs0) / (c->nrounds * o->steps);
  PetscCall(CheckFinite(c));
  PetscCheck(c->rhs_per_step * c->nrounds * o->steps == c->nrhs - nrhs0, c->comm, PETSC_ERR_PLIB, "the TS made %" PetscInt_FMT " RHS calls in %" PetscInt_FMT " steps, not a whole number per step", c->nrhs - nrhs0, c->nrounds * o->steps);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Stats(const PetscReal samples[], PetscInt n, BenchStat *s)
{
  PetscReal *v;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n, &v));
  PetscCall(PetscArraycpy(v, samples, n));
  PetscCall(PetscSortReal(n, v));
  s->min    = v[0];
  s->median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  PetscCall(PetscFree(v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Flop convention of FFT benchmarks (FFTW's benchFFT, heFFTe): 5 N log2 N for a complex transform,
   half that for a real one. The 1-D case is complex (FFTW-MPI has no distributed 1-D r2c). */
static PetscReal FFTFlops(const KfSpectralLayout *lay)
{
  const PetscReal N = (PetscReal)lay->ntotal;

  return (lay->halfspace ? 2.5 : 5.0) * N * PetscLog2Real(N);
}

static PetscErrorCode GridString(const KfSpectralLayout *lay, char buf[], size_t len)
{
  char part[32];

  PetscFunctionBeginUser;
  buf[0] = 0;
  for (PetscInt j = 0; j < lay->dim; j++) {
    PetscCall(PetscSNPrintf(part, sizeof(part), "%s%" PetscInt_FMT, j ? "x" : "", lay->n[j]));
    PetscCall(PetscStrlcat(buf, part, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  BenchStat   q[NQ], fft;
  PetscReal   gflops[2];
  PetscInt    ffts_rhs, ffts_step;
  PetscReal   ratio_rhs, ratio_step, ratio_step_min;
  PetscBool   pass;
  PetscMPIInt size;
  long        cores;
  char        grid[64];
} BenchSummary;

static PetscErrorCode Summarize(BenchCase *c, BenchSummary *s)
{
  const KfSpectralLayout *lay;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(c->sp, &lay));
  for (PetscInt q = 0; q < NQ; q++) PetscCall(Stats(c->samples[q], c->nrounds, &s->q[q]));
  s->fft.median     = 0.5 * (s->q[Q_FORWARD].median + s->q[Q_BACKWARD].median);
  s->fft.min        = 0.5 * (s->q[Q_FORWARD].min + s->q[Q_BACKWARD].min);
  s->gflops[0]      = FFTFlops(lay) / s->q[Q_FORWARD].median * 1e-9;
  s->gflops[1]      = FFTFlops(lay) / s->q[Q_BACKWARD].median * 1e-9;
  s->ffts_rhs       = KfPdeFFTsPerRHS(c->pde);
  s->ffts_step      = c->rhs_per_step * s->ffts_rhs;
  s->ratio_rhs      = s->q[Q_RHS].median / (s->ffts_rhs * s->fft.median);
  s->ratio_step     = s->q[Q_STEP].median / (s->ffts_step * s->fft.median);
  s->ratio_step_min = s->q[Q_STEP].min / (s->ffts_step * s->fft.min);
  s->pass           = (PetscBool)(s->ratio_step <= c->o->target);
  s->cores          = sysconf(_SC_NPROCESSORS_ONLN);
  PetscCallMPI(MPI_Comm_size(c->comm, &s->size));
  PetscCall(GridString(lay, s->grid, sizeof(s->grid)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define MS(t) (1e3 * (double)(t))

static PetscErrorCode ReportScreen(BenchCase *c, const BenchSummary *s)
{
  const KfSpectralLayout *lay;
  const char             *fftw, *kind;
  const PetscReal         fftwork_rhs = s->ffts_rhs * s->fft.median, fftwork_step = s->ffts_step * s->fft.median;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(c->sp, &lay));
  PetscCall(KfSpectralVersion(&fftw));
  kind = lay->halfspace ? "r2c/c2r" : "c2c";
  PetscCall(PetscPrintf(c->comm, "\n== kmdflow-bench: d = %" PetscInt_FMT ", grid %s (%" PetscInt64_FMT " points, %s) ==\n", lay->dim, s->grid, lay->ntotal, kind));
  PetscCall(PetscPrintf(c->comm, "  ranks x threads     %d x %" PetscInt_FMT " on %ld cores%s, planner %s, %s\n", s->size, c->o->threads, s->cores, s->size * c->o->threads > s->cores ? " (OVERSUBSCRIBED)" : "", KfPlanners[c->o->planner], fftw));
  PetscCall(PetscPrintf(c->comm, "  rounds              %" PetscInt_FMT " (+%d warm-up), RK4 timed as TSSolve of %" PetscInt_FMT " steps, dt = %.3g%s\n", c->nrounds, BENCH_WARMUP, c->o->steps, (double)c->dt, c->o->dealias ? ", 2/3 dealiasing" : ""));
  PetscCall(PetscPrintf(c->comm, "                      %10s %10s\n", "median ms", "min ms"));
  PetscCall(PetscPrintf(c->comm, "  forward FFT         %10.4f %10.4f   %6.2f GFLOP/s\n", MS(s->q[Q_FORWARD].median), MS(s->q[Q_FORWARD].min), (double)s->gflops[0]));
  PetscCall(PetscPrintf(c->comm, "  backward FFT        %10.4f %10.4f   %6.2f GFLOP/s\n", MS(s->q[Q_BACKWARD].median), MS(s->q[Q_BACKWARD].min), (double)s->gflops[1]));
  PetscCall(PetscPrintf(c->comm, "  one FFT (mean)      %10.4f %10.4f   (flops: %s N log2 N per transform)\n", MS(s->fft.median), MS(s->fft.min), lay->halfspace ? "2.5" : "5"));
  PetscCall(PetscPrintf(c->comm, "  RHS                 %10.4f %10.4f   %" PetscInt_FMT " FFTs, ratio %.3f, non-FFT work %.4f ms\n", MS(s->q[Q_RHS].median), MS(s->q[Q_RHS].min), s->ffts_rhs, (double)s->ratio_rhs, MS(s->q[Q_RHS].median - fftwork_rhs)));
  PetscCall(PetscPrintf(c->comm, "  RK4 step            %10.4f %10.4f   %" PetscInt_FMT " RHS = %" PetscInt_FMT " FFTs, step - %" PetscInt_FMT " RHS = %.4f ms\n", MS(s->q[Q_STEP].median), MS(s->q[Q_STEP].min), c->rhs_per_step, s->ffts_step, c->rhs_per_step, MS(s->q[Q_STEP].median - c->rhs_per_step * s->q[Q_RHS].median)));
  PetscCall(PetscPrintf(c->comm, "  step / (%" PetscInt_FMT " x FFT)   %.3f (medians), %.3f (minimums); FFT-bound limit %.4f ms\n", s->ffts_step, (double)s->ratio_step, (double)s->ratio_step_min, MS(fftwork_step)));
  PetscCall(PetscPrintf(c->comm, "  target <= %.2f      %s\n", (double)c->o->target, s->pass ? "PASS" : "MISS"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One line per case for scripts/bench: space-separated key=value, times in milliseconds. */
static PetscErrorCode ReportResult(BenchCase *c, const BenchSummary *s)
{
  const KfSpectralLayout *lay;
  const char             *fftw;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(c->sp, &lay));
  PetscCall(KfSpectralVersion(&fftw));
  PetscCall(PetscPrintf(c->comm, "RESULT d=%" PetscInt_FMT " grid=%s points=%" PetscInt64_FMT " transform=%s ranks=%d threads=%" PetscInt_FMT " cores=%ld planner=%s fftw=%s rounds=%" PetscInt_FMT " dt=%.3g", lay->dim, s->grid, lay->ntotal, lay->halfspace ? "r2c" : "c2c", s->size, c->o->threads, s->cores, KfPlanners[c->o->planner], fftw, c->nrounds, (double)c->dt));
  PetscCall(PetscPrintf(c->comm, " fwd_ms=%.5f bwd_ms=%.5f fft_ms=%.5f fft_min_ms=%.5f fwd_gflops=%.3f bwd_gflops=%.3f", MS(s->q[Q_FORWARD].median), MS(s->q[Q_BACKWARD].median), MS(s->fft.median), MS(s->fft.min), (double)s->gflops[0], (double)s->gflops[1]));
  PetscCall(PetscPrintf(c->comm, " rhs_ms=%.5f rhs_min_ms=%.5f ffts_per_rhs=%" PetscInt_FMT " rhs_ratio=%.4f", MS(s->q[Q_RHS].median), MS(s->q[Q_RHS].min), s->ffts_rhs, (double)s->ratio_rhs));
  PetscCall(PetscPrintf(c->comm, " step_ms=%.5f step_min_ms=%.5f rhs_per_step=%" PetscInt_FMT " ffts_per_step=%" PetscInt_FMT " ratio=%.4f ratio_min=%.4f target=%.2f status=%s\n", MS(s->q[Q_STEP].median), MS(s->q[Q_STEP].min), c->rhs_per_step, s->ffts_step, (double)s->ratio_step, (double)s->ratio_step_min, (double)c->o->target, s->pass ? "PASS" : "MISS"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunCase(MPI_Comm comm, const BenchOptions *o, PetscInt d)
{
  BenchCase    c;
  BenchSummary s;

  PetscFunctionBeginUser;
  PetscCall(CaseSetup(&c, comm, o, d));
  PetscCall(Measure(&c));
  PetscCall(Summarize(&c, &s));
  PetscCall(ReportScreen(&c, &s));
  PetscCall(ReportResult(&c, &s));
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode BenchMain(void)
{
  BenchOptions o;
  PetscBool    help;

  PetscFunctionBeginUser;
  PetscCall(KfInstallErrorHandler());
  PetscCall(KfLogRegister());
  PetscCall(KfSpectralInitialize());
  PetscCall(BenchSetFromOptions(PETSC_COMM_WORLD, &o));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KfRefuseUnusedOptions(PETSC_COMM_WORLD, "kmdflow-bench"));
  for (PetscInt i = 0; i < o.ndims; i++) PetscCall(RunCase(PETSC_COMM_WORLD, &o, o.dims[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;

  ierr = PetscInitialize(&argc, &argv, NULL, help);
  if (ierr) return 1;
  ierr = BenchMain();
  (void)KfSpectralFinalize();
  if (ierr && KfExitStatus(ierr) == 1) MPI_Abort(PETSC_COMM_WORLD, 1); /* an internal error may be local to one rank */
  (void)PetscFinalize();
  return KfExitStatus(ierr);
}
