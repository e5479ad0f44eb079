/* checkpoint.c - the complete state of a run in one HDF5 file, written atomically at step boundaries, and restarts from it on any
   number of ranks (the layout on disk is global: grid fields as n1 x ... x nd, particles as rows by global id) */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <signal.h>
#include <string.h>
#include <math.h>
#include <petscts.h>
#include "kf_checkpoint.h"
#include "kf_signal.h"
#include "kf_version.h"

#define KF_CHECKPOINT_FORMAT "kmdflow checkpoint 1"
#define KF_CKPT_MAX          4

typedef struct {
  char        name[64];
  KfSpectral  sp;
  Vec         v;
} CkptGrid;

typedef struct {
  char       name[64];
  PetscInt   n;
  PetscReal *data;
} CkptReals;

struct _p_KfCheckpoint {
  MPI_Comm        comm;
  const KfParams *p;
  char            path[PETSC_MAX_PATH_LEN], snapshot[PETSC_MAX_PATH_LEN], restart[PETSC_MAX_PATH_LEN];
  PetscBool       enabled;   /* -checkpoint none: no checkpoints, signals keep their default action */
  PetscReal       every_dt, next_t;
  PetscInt        every_steps, nsteps, written;
  KfStepper      *st[2];
  PetscInt        nst;
  CkptGrid        grid[KF_CKPT_MAX];
  PetscInt        ngrid;
  CkptReals       reals[KF_CKPT_MAX];
  PetscInt        nreals;
  KfParticles     P;
  PetscInt       *nrecords, k;
  KfIO            io;
  PetscInt        restart_records; /* records of the output copy to continue (-restart) */
};

/* Options that may change between a checkpoint and its restart: where things go, how long to run, how to report. */
static const char *const KfRestartMayChange[] = {"restart", "checkpoint", "checkpoint_dt", "checkpoint_steps", "output", "ts_max_time", "ts_max_steps", "particles_ts_max_time", "particles_ts_max_steps", "quiet", "fftw_threads", "fftw_planner", "fftw_wisdom", "fftw_", "strict_options", "ts_monitor", "ts_view", "ts_adapt_monitor", "help", "log_", "options_", "memory_view", "memory_limit", "malloc", "info", "fp_trap", "on_error_", "no_signal_handler", "objects_dump", "check_pointer_intensity", "viewer_"};

static PetscBool MayChange(const char name[])
{
  for (size_t i = 0; i < sizeof(KfRestartMayChange) / sizeof(KfRestartMayChange[0]); i++) {
    const char *a = KfRestartMayChange[i];
    size_t      n = strlen(a);

    if (a[n - 1] == '_' ? !strncmp(name, a, n) : !strcmp(name, a)) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

/* PATH.h5 -> PATH<suffix>.h5 (PATH -> PATH<suffix>.h5 for other names). */
static PetscErrorCode SiblingPath(const char path[], const char suffix[], char out[], size_t len)
{
  size_t n = strlen(path);

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(out, path, len));
  if (n > 3 && !strcmp(path + n - 3, ".h5") && n - 3 < len) out[n - 3] = 0;
  PetscCall(PetscStrlcat(out, suffix, len));
  PetscCall(PetscStrlcat(out, ".h5", len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadOptions(KfCheckpoint ck, PetscBool *set_dt, PetscBool *set_steps)
{
  PetscBool nooutput, set;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcasecmp(ck->p->output, "none", &nooutput));
  if (nooutput || !ck->p->output[0]) PetscCall(PetscStrncpy(ck->path, "kmdflow.ckpt.h5", sizeof(ck->path)));
  else PetscCall(SiblingPath(ck->p->output, ".ckpt", ck->path, sizeof(ck->path)));
  PetscOptionsBegin(ck->comm, NULL, "Checkpoint and restart (docs/reliability.md)", "kmdflow");
  PetscCall(PetscOptionsString("-checkpoint", "Checkpoint file, written atomically on -checkpoint_dt/-checkpoint_steps and on SIGTERM or SIGUSR1 (then exit 4); none: no checkpoints, signals kill", "kmdflow", ck->path, ck->path, sizeof(ck->path), NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-checkpoint_dt", "Write a checkpoint at the first step boundary at or after every multiple of this time (0: never)", ck->every_dt, 0.0, PETSC_MAX_REAL, PETSC_FALSE, &ck->every_dt, set_dt));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-checkpoint_steps", "Write a checkpoint every this many time steps (of all steppers together; 0: never)", ck->every_steps, 0, PETSC_MAX_INT, &ck->every_steps, set_steps));
  PetscCall(PetscOptionsString("-restart", "Continue the run saved in this checkpoint file (on any number of ranks); the output continues its time series", "kmdflow", ck->restart, ck->restart, sizeof(ck->restart), NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasName(NULL, NULL, "-restart", &set));
  PetscCheck(!set || ck->restart[0], ck->comm, KF_ERR_INPUT, "-restart needs the checkpoint file to continue from");
  PetscCheck(ck->path[0], ck->comm, KF_ERR_INPUT, "-checkpoint needs a file name (or none)");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointCreate(MPI_Comm comm, const KfParams *p, KfCheckpoint *out)
{
  KfCheckpoint ck;
  PetscBool    none, set_dt, set_steps;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&ck));
  ck->comm = comm;
  ck->p    = p;
  PetscCall(ReadOptions(ck, &set_dt, &set_steps));
  PetscCall(PetscStrcasecmp(ck->path, "none", &none));
  PetscCheck(!none || !(set_dt || set_steps), comm, KF_ERR_INPUT, "-checkpoint none with -checkpoint_%s: give a checkpoint file, or drop -checkpoint_%s", set_dt ? "dt" : "steps", set_dt ? "dt" : "steps");
  ck->enabled = (PetscBool)!none;
  ck->next_t  = ck->every_dt;
  PetscCall(SiblingPath(ck->path, ".output", ck->snapshot, sizeof(ck->snapshot)));
  if (ck->enabled) PetscCall(KfSignalInstall());
  *out = ck;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointHelp(MPI_Comm comm)
{
  KfParams     p;
  KfCheckpoint ck;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&p, sizeof(p)));
  PetscCall(PetscNew(&ck));
  ck->comm = comm;
  ck->p    = &p;
  PetscCall(ReadOptions(ck, NULL, NULL));
  PetscCall(PetscFree(ck));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointDestroy(KfCheckpoint *ck)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(*ck));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointAddStepper(KfCheckpoint ck, KfStepper *st)
{
  PetscFunctionBeginUser;
  PetscCheck(ck->nst < 2, ck->comm, PETSC_ERR_ARG_OUTOFRANGE, "at most 2 steppers");
  ck->st[ck->nst++] = st;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointAddGrid(KfCheckpoint ck, const char name[], KfSpectral sp, Vec v)
{
  PetscFunctionBeginUser;
  PetscCheck(ck->ngrid < KF_CKPT_MAX, ck->comm, PETSC_ERR_ARG_OUTOFRANGE, "too many grid fields");
  PetscCall(PetscSNPrintf(ck->grid[ck->ngrid].name, sizeof(ck->grid[0].name), "/grid/%s", name));
  ck->grid[ck->ngrid].sp  = sp;
  ck->grid[ck->ngrid++].v = v;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointAddParticles(KfCheckpoint ck, KfParticles P)
{
  PetscFunctionBeginUser;
  ck->P = P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointAddReals(KfCheckpoint ck, const char name[], PetscInt n, PetscReal data[])
{
  PetscFunctionBeginUser;
  PetscCheck(ck->nreals < KF_CKPT_MAX, ck->comm, PETSC_ERR_ARG_OUTOFRANGE, "too many arrays");
  PetscCall(PetscSNPrintf(ck->reals[ck->nreals].name, sizeof(ck->reals[0].name), "/run/%s", name));
  ck->reals[ck->nreals].n      = n;
  ck->reals[ck->nreals++].data = data;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointSetRecords(KfCheckpoint ck, PetscInt *nrecords)
{
  PetscFunctionBeginUser;
  ck->nrecords = nrecords;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- writing ---- */

/* Rows per particle of the state Vec: d (Wasserstein), 1 (Fisher-Rao) or d + 1 (WFR). */
static PetscErrorCode ParticleShape(KfParticles P, PetscInt64 *N, PetscInt64 *start, PetscInt *nlocal, PetscInt *nc)
{
  Vec      X;
  PetscInt size;

  PetscFunctionBeginUser;
  PetscCall(KfParticlesGetLocal(P, N, start, nlocal));
  PetscCall(KfParticlesGetState(P, &X));
  PetscCall(VecGetSize(X, &size));
  *nc = (PetscInt)(size / *N);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscBool AllFinite(PetscInt n, const PetscReal a[])
{
  for (PetscInt i = 0; i < n; i++)
    if (!isfinite(a[i])) return PETSC_FALSE;
  return PETSC_TRUE;
}

static PetscErrorCode VecFinite(Vec v, PetscBool *ok)
{
  const PetscScalar *a;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(v, &n));
  PetscCall(VecGetArrayRead(v, &a));
  *ok = (PetscBool)(*ok && AllFinite(n, a));
  PetscCall(VecRestoreArrayRead(v, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A non-finite state is never written over the last good checkpoint: the run stops with the stepper's hint instead. */
static PetscErrorCode CheckFinite(KfCheckpoint ck, PetscInt index)
{
  PetscBool ok[2] = {PETSC_TRUE, PETSC_TRUE};
  PetscReal t;

  PetscFunctionBeginUser;
  for (PetscInt g = 0; g < ck->ngrid; g++) PetscCall(VecFinite(ck->grid[g].v, &ok[0]));
  if (ck->P) {
    Vec        X;
    PetscReal         *xfix;
    PetscInt           nl;
    KfParticleCounters count;

    PetscCall(KfParticlesGetState(ck->P, &X));
    PetscCall(VecFinite(X, &ok[1]));
    PetscCall(KfParticlesGetExtraState(ck->P, &xfix, &count));
    PetscCall(KfParticlesGetLocal(ck->P, NULL, NULL, &nl));
    if (xfix) ok[1] = (PetscBool)(ok[1] && AllFinite(nl * ck->p->dim, xfix));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, ok, 2, MPIU_BOOL, MPI_LAND, ck->comm));
  PetscCall(TSGetTime(ck->st[index]->ts, &t));
  PetscCall(KfStepperCheckFinite(ck->st[index], ok[0], t, "density (found before writing a checkpoint; the last good checkpoint is kept)"));
  PetscCall(KfStepperCheckFinite(ck->st[index], ok[1], t, "particle state (found before writing a checkpoint; the last good checkpoint is kept)"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Attribute names of KfParticleCounters.bd. */
static const char *const KfBirthDeathCounterNames[] = {"bd_kills", "bd_duplications", "bd_expected", "bd_max_rate_tau"};

static PetscErrorCode WriteAttributes(KfCheckpoint ck, KfIO f)
{
  char       *all;
  PetscMPIInt size;
  const char *base = strrchr(ck->snapshot, '/') ? strrchr(ck->snapshot, '/') + 1 : ck->snapshot;

  PetscFunctionBeginUser;
  PetscCall(KfIOSetAttributeString(f, "format", KF_CHECKPOINT_FORMAT));
  PetscCall(KfIOSetAttributeString(f, "kmdflow_version", KF_VERSION));
  PetscCall(KfIOSetAttributeString(f, "git_revision", KF_GIT_REVISION));
  PetscCall(KfIOSetAttributeString(f, "build", KF_BUILD_FLAGS));
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(KfIOSetAttributeString(f, "options", all));
  PetscCall(PetscFree(all));
  PetscCall(KfIOSetAttributeString(f, "mode", KfModes[ck->p->mode]));
  PetscCallMPI(MPI_Comm_size(ck->comm, &size));
  PetscCall(KfIOSetAttributeInts(f, "ranks", 1, (PetscInt[]){size}));
  PetscCall(KfIOSetAttributeInts(f, "steppers", 1, &ck->nst));
  PetscCall(KfIOSetAttributeInts(f, "output_interval", 1, &ck->k));
  PetscCall(KfIOSetAttributeInts(f, "records", 1, (PetscInt[]){ck->nrecords ? *ck->nrecords : 0}));
  PetscCall(KfIOSetAttributeInts(f, "checkpoint_step_count", 1, &ck->nsteps));
  PetscCall(KfIOSetAttributeReal(f, "checkpoint_next_time", ck->next_t));
  PetscCall(KfIOSetAttributeString(f, "output_snapshot", ck->io ? base : ""));
  for (PetscInt i = 0; i < ck->nst; i++) {
    char      name[32];
    PetscReal t, dt;
    PetscInt  step;

    PetscCall(TSGetTime(ck->st[i]->ts, &t));
    PetscCall(TSGetTimeStep(ck->st[i]->ts, &dt));
    PetscCall(TSGetStepNumber(ck->st[i]->ts, &step));
    PetscCall(PetscSNPrintf(name, sizeof(name), "stepper%" PetscInt_FMT "_time", i));
    PetscCall(KfIOSetAttributeReal(f, name, t));
    PetscCall(PetscSNPrintf(name, sizeof(name), "stepper%" PetscInt_FMT "_dt", i));
    PetscCall(KfIOSetAttributeReal(f, name, dt));
    PetscCall(PetscSNPrintf(name, sizeof(name), "stepper%" PetscInt_FMT "_step", i));
    PetscCall(KfIOSetAttributeInts(f, name, 1, &step));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteParticles(KfCheckpoint ck, KfIO f)
{
  PetscInt64         N, start;
  PetscInt           nl, nc;
  KfParticleCounters count;
  Vec                X;
  PetscReal         *xfix;
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(ParticleShape(ck->P, &N, &start, &nl, &nc));
  PetscCall(KfParticlesGetState(ck->P, &X));
  PetscCall(VecGetArrayRead(X, &a));
  PetscCall(KfIOWriteRows(f, "/particles/state", N, nc, start, nl, a));
  PetscCall(VecRestoreArrayRead(X, &a));
  PetscCall(KfParticlesGetExtraState(ck->P, &xfix, &count));
  if (xfix) PetscCall(KfIOWriteRows(f, "/particles/fixed_positions", N, ck->p->dim, start, nl, xfix));
  PetscCall(KfIOSetAttributeInts(f, "resample_count", 1, &count.nresample));
  for (PetscInt k = 0; k < 4; k++) PetscCall(KfIOSetAttributeReal(f, KfBirthDeathCounterNames[k], count.bd[k]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Output copy first, checkpoint second, each renamed into place: a kill at any moment leaves the previous checkpoint intact, and a
   newer output copy beside it only has extra records, which the restart cuts off. */
static PetscErrorCode Write(KfCheckpoint ck, PetscInt index)
{
  KfIO        f;
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCall(CheckFinite(ck, index));
  if (ck->io) PetscCall(KfIOSnapshot(ck->io, ck->snapshot));
  PetscCall(KfIOCreateCheckpoint(ck->comm, ck->path, &f));
  PetscCall(WriteAttributes(ck, f));
  for (PetscInt g = 0; g < ck->ngrid; g++) {
    const KfSpectralLayout *lay;
    const PetscScalar      *a;

    PetscCall(KfSpectralGetLayout(ck->grid[g].sp, &lay));
    PetscCall(VecGetArrayRead(ck->grid[g].v, &a));
    PetscCall(KfIOWriteGrid(f, ck->grid[g].name, lay, a));
    PetscCall(VecRestoreArrayRead(ck->grid[g].v, &a));
  }
  if (ck->P) PetscCall(WriteParticles(ck, f));
  PetscCallMPI(MPI_Comm_rank(ck->comm, &rank));
  for (PetscInt r = 0; r < ck->nreals; r++) PetscCall(KfIOWriteRows(f, ck->reals[r].name, ck->reals[r].n, 1, 0, rank ? 0 : ck->reals[r].n, ck->reals[r].data));
  PetscCall(KfIOClose(&f, PETSC_TRUE));
  ck->written++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Before every step of every stepper: due by time (of the stepper about to step), by step count, or by a signal on any rank. */
static PetscErrorCode StepHook(void *ctx, PetscInt index, PetscInt k)
{
  KfCheckpoint ck = (KfCheckpoint)ctx;
  PetscReal    t;
  PetscInt     step;
  int          sig;
  PetscBool    due;

  PetscFunctionBeginUser;
  PetscCall(TSGetTime(ck->st[index]->ts, &t));
  PetscCall(TSGetStepNumber(ck->st[index]->ts, &step));
  PetscCall(KfSignalPending(ck->comm, &sig));
  ck->k = k;
  due   = (PetscBool)(sig || (ck->every_steps > 0 && ck->nsteps > 0 && ck->nsteps % ck->every_steps == 0) || (ck->every_dt > 0 && t >= ck->next_t));
  if (ck->every_dt > 0 && t >= ck->next_t) ck->next_t = (PetscFloorReal(t / ck->every_dt * (1 + 1e-12)) + 1) * ck->every_dt;
  if (due) {
    PetscCall(Write(ck, index));
    if (!ck->p->quiet || sig) PetscCall(PetscPrintf(ck->comm, "     checkpoint at t = %s (step %" PetscInt_FMT "): %s\n", KF_NUM(t), step, ck->path));
  }
  ck->nsteps++;
  PetscCheck(!sig, ck->comm, KF_ERR_CHECKPOINTED, "%s received: checkpoint written to %s at t = %s (step %" PetscInt_FMT "); exiting with status 4; continue with -restart %s", sig == SIGTERM ? "SIGTERM" : "SIGUSR1", ck->path, KF_NUM(t), step, ck->path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointAttach(KfCheckpoint ck, KfStepper *st)
{
  PetscFunctionBeginUser;
  if (!ck->enabled) PetscFunctionReturn(PETSC_SUCCESS);
  st->hook     = StepHook;
  st->hook_ctx = ck;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- restarting ---- */

/* "-a 1 -b -c x" (PetscOptionsGetAll) -> the value of option name, or NULL if absent ("" for a flag). A token "-<letter>..."
   starts an option; anything else (including negative numbers) is a value. */
static PetscBool IsOptionToken(const char *s)
{
  return (PetscBool)(s[0] == '-' && ((s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z') || s[1] == '_'));
}

typedef struct {
  PetscInt n;
  char   **name, **value;
} OptionList;

static PetscErrorCode ParseOptions(const char all[], OptionList *l)
{
  char  *copy, *tok, *save = NULL;
  size_t cap;

  PetscFunctionBeginUser;
  PetscCall(PetscStrallocpy(all, &copy));
  cap = strlen(all) / 2 + 2;
  PetscCall(PetscCalloc2(cap, &l->name, cap, &l->value));
  l->n = 0;
  for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
    if (IsOptionToken(tok)) {
      PetscCall(PetscStrallocpy(tok + 1, &l->name[l->n]));
      PetscCall(PetscStrallocpy("", &l->value[l->n]));
      l->n++;
    } else if (l->n) {
      char *joined;
      size_t len = strlen(l->value[l->n - 1]) + strlen(tok) + 2;

      PetscCall(PetscMalloc1(len, &joined));
      snprintf(joined, len, "%s%s%s", l->value[l->n - 1], l->value[l->n - 1][0] ? " " : "", tok);
      PetscCall(PetscFree(l->value[l->n - 1]));
      l->value[l->n - 1] = joined;
    }
  }
  PetscCall(PetscFree(copy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode FreeOptions(OptionList *l)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < l->n; i++) {
    PetscCall(PetscFree(l->name[i]));
    PetscCall(PetscFree(l->value[i]));
  }
  PetscCall(PetscFree2(l->name, l->value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *Lookup(const OptionList *l, const char name[])
{
  const char *v = NULL;

  for (PetscInt i = 0; i < l->n; i++)
    if (!strcmp(l->name[i], name)) v = l->value[i]; /* the last one wins, as in PETSc */
  return v;
}

/* The first option (of either run) that defines the problem and differs, described into msg (empty: none). */
static PetscErrorCode FirstDifference(const OptionList *then, const OptionList *now, char msg[], size_t len)
{
  PetscFunctionBeginUser;
  msg[0] = 0;
  for (int pass = 0; pass < 2 && !msg[0]; pass++) {
    const OptionList *a = pass ? now : then, *b = pass ? then : now;

    for (PetscInt i = 0; i < a->n && !msg[0]; i++) {
      const char *va = Lookup(a, a->name[i]), *vb = Lookup(b, a->name[i]);

      if (MayChange(a->name[i]) || (vb && !strcmp(va, vb))) continue;
      if (!vb) PetscCall(PetscSNPrintf(msg, len, "-%s %s %s, but %s (the default)", a->name[i], va, pass ? "is given now" : "was given to the checkpointed run", pass ? "was not given to the checkpointed run" : "is not given now"));
      else PetscCall(PetscSNPrintf(msg, len, "-%s was %s in the checkpointed run, is %s now", a->name[i], pass ? vb : va, pass ? va : vb));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckString(KfCheckpoint ck, const char name[], const char now[], const char what[])
{
  char     *then;
  PetscBool same;

  PetscFunctionBeginUser;
  PetscCall(KfIOReadAttributeString(ck->comm, ck->restart, name, "restart", &then));
  PetscCall(PetscStrcmp(then, now, &same));
  if (!same) {
    char msg[1024];

    PetscCall(PetscSNPrintf(msg, sizeof(msg), "-restart %s: %s: the checkpoint has '%s', this run '%s'", ck->restart, what, then, now));
    PetscCall(PetscFree(then));
    SETERRQ(ck->comm, KF_ERR_INPUT, "%s", msg);
  }
  PetscCall(PetscFree(then));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckCompatible(KfCheckpoint ck)
{
  char      *then, *now, msg[1024];
  OptionList a, b;
  PetscReal  complete;

  PetscFunctionBeginUser;
  PetscCall(KfIOReadAttributeReals(ck->comm, ck->restart, "complete", "restart", 1, &complete));
  PetscCheck(complete == 1, ck->comm, KF_ERR_INPUT, "-restart %s: the file is marked incomplete (complete = %s): it was being written when the run stopped", ck->restart, KF_NUM(complete));
  PetscCall(CheckString(ck, "format", KF_CHECKPOINT_FORMAT, "not a kmdflow checkpoint of this format"));
  PetscCall(CheckString(ck, "kmdflow_version", KF_VERSION, "written by another kmdflow version"));
  PetscCall(CheckString(ck, "git_revision", KF_GIT_REVISION, "written by another build (git revision)"));
  PetscCall(CheckString(ck, "build", KF_BUILD_FLAGS, "written by a build with other compiler flags"));
  PetscCall(CheckString(ck, "mode", KfModes[ck->p->mode], "written in another -mode"));
  PetscCall(KfIOReadAttributeString(ck->comm, ck->restart, "options", "restart", &then));
  PetscCall(PetscOptionsGetAll(NULL, &now));
  PetscCall(ParseOptions(then, &a));
  PetscCall(ParseOptions(now, &b));
  PetscCall(FirstDifference(&a, &b, msg, sizeof(msg)));
  PetscCall(FreeOptions(&a));
  PetscCall(FreeOptions(&b));
  PetscCall(PetscFree(then));
  PetscCall(PetscFree(now));
  PetscCheck(!msg[0], ck->comm, KF_ERR_INPUT, "-restart %s: the checkpoint is of another problem: %s (only output, checkpoint, -ts_max_time/-ts_max_steps and reporting options may change)", ck->restart, msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadInt(KfCheckpoint ck, const char name[], PetscInt lo, PetscInt hi, PetscInt *v)
{
  PetscReal x;

  PetscFunctionBeginUser;
  PetscCall(KfIOReadAttributeReals(ck->comm, ck->restart, name, "restart", 1, &x));
  PetscCheck(x >= lo && x <= hi && x == PetscFloorReal(x), ck->comm, KF_ERR_INPUT, "-restart %s: attribute '%s' = %s is out of range [%" PetscInt_FMT ", %" PetscInt_FMT "]", ck->restart, name, KF_NUM(x), lo, hi);
  *v = (PetscInt)x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RestoreStepper(KfCheckpoint ck, PetscInt i)
{
  char      name[32];
  PetscReal t, dt;
  PetscInt  step;
  TSAdapt   adapt;
  PetscBool fixed;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(name, sizeof(name), "stepper%" PetscInt_FMT "_time", i));
  PetscCall(KfIOReadAttributeReals(ck->comm, ck->restart, name, "restart", 1, &t));
  PetscCall(PetscSNPrintf(name, sizeof(name), "stepper%" PetscInt_FMT "_dt", i));
  PetscCall(KfIOReadAttributeReals(ck->comm, ck->restart, name, "restart", 1, &dt));
  PetscCall(PetscSNPrintf(name, sizeof(name), "stepper%" PetscInt_FMT "_step", i));
  PetscCall(ReadInt(ck, name, 0, PETSC_MAX_INT, &step));
  PetscCheck(t >= 0 && dt > 0, ck->comm, KF_ERR_INPUT, "-restart %s: stepper %" PetscInt_FMT " has time %s and step size %s (need t >= 0, dt > 0)", ck->restart, i, KF_NUM(t), KF_NUM(dt));
  PetscCall(TSSetTime(ck->st[i]->ts, t));
  PetscCall(TSSetStepNumber(ck->st[i]->ts, step));
  PetscCall(TSGetAdapt(ck->st[i]->ts, &adapt));
  PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &fixed));
  if (!fixed) PetscCall(TSSetTimeStep(ck->st[i]->ts, dt)); /* a fixed step stays -ts_dt: the saved one may be a clipped last step */
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RestoreVecFinite(KfCheckpoint ck, Vec v, const char what[])
{
  PetscBool ok = PETSC_TRUE;

  PetscFunctionBeginUser;
  PetscCall(VecFinite(v, &ok));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPIU_BOOL, MPI_LAND, ck->comm));
  PetscCheck(ok, ck->comm, KF_ERR_INPUT, "-restart %s: %s holds NaN or Inf", ck->restart, what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RestoreParticles(KfCheckpoint ck)
{
  PetscInt64   N, start;
  PetscInt           nl, nc;
  KfParticleCounters count;
  Vec          X;
  PetscScalar *a;
  PetscReal   *xfix;
  PetscBool    ok;

  PetscFunctionBeginUser;
  PetscCall(ParticleShape(ck->P, &N, &start, &nl, &nc));
  PetscCall(KfParticlesGetState(ck->P, &X));
  PetscCall(VecGetArray(X, &a));
  PetscCall(KfIOReadRows(ck->comm, ck->restart, "/particles/state", N, nc, start, nl, a, "restart"));
  PetscCall(VecRestoreArray(X, &a));
  PetscCall(RestoreVecFinite(ck, X, "/particles/state"));
  PetscCall(KfParticlesGetExtraState(ck->P, &xfix, &count));
  if (xfix) {
    PetscCall(KfIOReadRows(ck->comm, ck->restart, "/particles/fixed_positions", N, ck->p->dim, start, nl, xfix, "restart"));
    ok = AllFinite(nl * ck->p->dim, xfix);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPIU_BOOL, MPI_LAND, ck->comm));
    PetscCheck(ok, ck->comm, KF_ERR_INPUT, "-restart %s: /particles/fixed_positions holds NaN or Inf", ck->restart);
  }
  PetscCall(ReadInt(ck, "resample_count", 0, PETSC_MAX_INT, &count.nresample));
  for (PetscInt k = 0; k < 4; k++) {
    PetscCall(KfIOReadAttributeReals(ck->comm, ck->restart, KfBirthDeathCounterNames[k], "restart", 1, count.bd + k));
    PetscCheck(count.bd[k] >= 0, ck->comm, KF_ERR_INPUT, "-restart %s: attribute '%s' = %s is negative", ck->restart, KfBirthDeathCounterNames[k], KF_NUM(count.bd[k]));
  }
  PetscCall(KfParticlesSetExtraState(ck->P, &count));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RestoreArrays(KfCheckpoint ck)
{
  PetscFunctionBeginUser;
  for (PetscInt g = 0; g < ck->ngrid; g++) {
    const KfSpectralLayout *lay;
    PetscScalar            *a;

    PetscCall(KfSpectralGetLayout(ck->grid[g].sp, &lay));
    PetscCall(VecGetArray(ck->grid[g].v, &a));
    PetscCall(KfIOReadGrid(ck->comm, ck->restart, ck->grid[g].name, lay, a, "restart"));
    PetscCall(VecRestoreArray(ck->grid[g].v, &a));
    PetscCall(RestoreVecFinite(ck, ck->grid[g].v, ck->grid[g].name));
  }
  if (ck->P) PetscCall(RestoreParticles(ck));
  for (PetscInt r = 0; r < ck->nreals; r++) {
    /* reported values only (some are NaN by design, e.g. W1 in d >= 2) */
    PetscCall(KfIOReadRows(ck->comm, ck->restart, ck->reals[r].name, ck->reals[r].n, 1, 0, ck->reals[r].n, ck->reals[r].data, "restart"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointRestart(KfCheckpoint ck)
{
  PetscInt  nst, k;
  PetscReal next_t;

  PetscFunctionBeginUser;
  if (!ck->restart[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(CheckCompatible(ck));
  PetscCall(ReadInt(ck, "steppers", ck->nst, ck->nst, &nst));
  PetscCall(ReadInt(ck, "output_interval", 1, PETSC_MAX_INT, &k));
  PetscCall(ReadInt(ck, "records", 0, PETSC_MAX_INT, &ck->restart_records));
  PetscCall(ReadInt(ck, "checkpoint_step_count", 0, PETSC_MAX_INT, &ck->nsteps));
  PetscCall(KfIOReadAttributeReals(ck->comm, ck->restart, "checkpoint_next_time", "restart", 1, &next_t));
  if (ck->every_dt > 0) ck->next_t = next_t > 0 ? next_t : ck->every_dt;
  for (PetscInt i = 0; i < ck->nst; i++) PetscCall(RestoreStepper(ck, i));
  PetscCall(RestoreArrays(ck));
  ck->st[0]->resume_k = k;
  if (ck->nrecords) *ck->nrecords = ck->restart_records;
  PetscCall(PetscPrintf(ck->comm, "restart from %s: output interval %" PetscInt_FMT ", %" PetscInt_FMT " records so far\n", ck->restart, k, ck->restart_records));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The output copy sits beside the checkpoint under the name it was written with. */
static PetscErrorCode SnapshotOfRestart(KfCheckpoint ck, char path[], size_t len, PetscBool *has)
{
  char       *base;
  const char *slash = strrchr(ck->restart, '/');

  PetscFunctionBeginUser;
  PetscCall(KfIOReadAttributeString(ck->comm, ck->restart, "output_snapshot", "restart", &base));
  *has = (PetscBool)(base[0] != 0);
  PetscCheck(!strchr(base, '/'), ck->comm, KF_ERR_INPUT, "-restart %s: attribute output_snapshot '%s' is not a file name", ck->restart, base);
  path[0] = 0;
  if (slash) PetscCall(PetscStrncpy(path, ck->restart, PetscMin(len, (size_t)(slash - ck->restart) + 2)));
  PetscCall(PetscStrlcat(path, base, len));
  PetscCall(PetscFree(base));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCheckpointSetOutput(KfCheckpoint ck, KfIO io, const char *const fields[2], const char *const times[2])
{
  char      snap[PETSC_MAX_PATH_LEN];
  PetscBool has = PETSC_FALSE;

  PetscFunctionBeginUser;
  ck->io = io;
  if (!ck->restart[0] || !io) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SnapshotOfRestart(ck, snap, sizeof(snap), &has));
  if (!has) {
    PetscCall(PetscPrintf(ck->comm, "note: the checkpointed run wrote no output; this output starts at the restart time\n"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(KfIOResume(io, snap, ck->restart_records, fields, times));
  PetscFunctionReturn(PETSC_SUCCESS);
}
