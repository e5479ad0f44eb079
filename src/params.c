/* params.c - options database -> KfParams, with checked readers that explain every refusal */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include "kf_params.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const KfFlows[]   = {"wasserstein", "fisher_rao", "wfr", "stein", "KfFlow", "KF_FLOW_", NULL};
static const char *const KfEnergies[] = {"kmd", "none", "KfEnergy", "KF_ENERGY_", NULL};
const char *const KfProblems[] = {"sobolev", "relu", "KfProblem", "KF_PROBLEM_", NULL};
const char *const KfModes[]    = {"pde", "particles", "compare", "KfMode", "KF_MODE_", NULL};
const char *const KfPlanners[] = {"estimate", "measure", "patient", "exhaustive", "KfPlanner", "KF_PLANNER_", NULL};

static PetscErrorCode DescribeRange(PetscReal lo, PetscReal hi, PetscBool lo_open, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  if (hi >= PETSC_MAX_REAL) PetscCall(PetscSNPrintf(buf, len, "a real number %s %s", lo_open ? ">" : ">=", KF_NUM(lo)));
  else PetscCall(PetscSNPrintf(buf, len, "a real number in %s%s, %s]", lo_open ? "(" : "[", KF_NUM(lo), KF_NUM(hi)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscBool ParseReal(const char str[], PetscReal *v)
{
  char  *end;
  double x;

  errno = 0;
  x     = strtod(str, &end);
  if (end == str || errno == ERANGE) return PETSC_FALSE;
  while (isspace((unsigned char)*end)) end++;
  if (*end || !isfinite(x)) return PETSC_FALSE;
  *v = (PetscReal)x;
  return PETSC_TRUE;
}

static PetscErrorCode FullName(PetscOptionItems *obj, const char opt[], char name[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(name, len, "-%s%s", obj->prefix ? obj->prefix : "", opt + 1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfOptionsReal(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], PetscReal def, PetscReal lo, PetscReal hi, PetscBool lo_open, PetscReal *v, PetscBool *set)
{
  char      str[256], defstr[64], range[128];
  PetscBool flg, ok;
  PetscReal x = def;

  PetscFunctionBeginUser;
  char name[128];

  PetscCall(FullName(PetscOptionsObject, opt, name, sizeof(name)));
  PetscCall(PetscSNPrintf(defstr, sizeof(defstr), "%g", (double)def));
  PetscCall(PetscOptionsString(opt, text, "kmdflow", defstr, str, sizeof(str), &flg));
  PetscCall(DescribeRange(lo, hi, lo_open, range, sizeof(range)));
  if (flg) {
    PetscCheck(str[0], PETSC_COMM_WORLD, KF_ERR_INPUT, "%s needs a value: %s", name, range);
    ok = ParseReal(str, &x);
    PetscCheck(ok, PETSC_COMM_WORLD, KF_ERR_INPUT, "%s %s: not a finite number; expected %s", name, str, range);
    ok = (PetscBool)((lo_open ? x > lo : x >= lo) && x <= hi);
    PetscCheck(ok, PETSC_COMM_WORLD, KF_ERR_INPUT, "%s %s: out of range; expected %s", name, str, range);
  }
  *v = x;
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfOptionsInt(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], PetscInt def, PetscInt lo, PetscInt hi, PetscInt *v, PetscBool *set)
{
  char      str[256], defstr[64];
  PetscBool flg;
  PetscReal x = (PetscReal)def;

  PetscFunctionBeginUser;
  char name[128];

  PetscCall(FullName(PetscOptionsObject, opt, name, sizeof(name)));
  PetscCall(PetscSNPrintf(defstr, sizeof(defstr), "%" PetscInt_FMT, def));
  PetscCall(PetscOptionsString(opt, text, "kmdflow", defstr, str, sizeof(str), &flg));
  if (flg) {
    PetscBool ok = ParseReal(str, &x);

    ok = (PetscBool)(ok && x == PetscFloorReal(x) && x >= lo && x <= hi);
    PetscCheck(ok, PETSC_COMM_WORLD, KF_ERR_INPUT, "%s %s: expected an integer in [%" PetscInt_FMT ", %" PetscInt_FMT "]", name, str[0] ? str : "(none)", lo, hi);
  }
  *v = (PetscInt)x;
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PETSc's own bool reader raises a multi-line error for "-flag 3"; this one names the option. */
PetscErrorCode KfOptionsBool(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], PetscBool def, PetscBool *v)
{
  static const char *const yes[] = {"", "1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
  char      str[256], name[128];
  PetscBool flg, match = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(FullName(PetscOptionsObject, opt, name, sizeof(name)));
  PetscCall(PetscOptionsString(opt, text, "kmdflow", def ? "true" : "false", str, sizeof(str), &flg));
  *v = def;
  if (!flg) PetscFunctionReturn(PETSC_SUCCESS);
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]) && !match; i++) {
    PetscCall(PetscStrcasecmp(str, yes[i], &match));
    if (match) *v = PETSC_TRUE;
  }
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]) && !match; i++) {
    PetscCall(PetscStrcasecmp(str, no[i], &match));
    if (match) *v = PETSC_FALSE;
  }
  PetscCheck(match, PETSC_COMM_WORLD, KF_ERR_INPUT, "%s %s: expected a boolean (1/0, true/false, yes/no, on/off, or no value for true)", name, str);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A comma-separated list of at most maxn finite reals. */
PetscErrorCode KfOptionsRealList(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], const char def[], PetscInt maxn, PetscReal v[], PetscInt *n, PetscBool *set)
{
  char      str[1024], *tok, *save = NULL;
  PetscBool flg;
  PetscInt  k = 0;

  PetscFunctionBeginUser;
  char name[128];

  PetscCall(FullName(PetscOptionsObject, opt, name, sizeof(name)));
  PetscCall(PetscOptionsString(opt, text, "kmdflow", def, str, sizeof(str), &flg));
  if (set) *set = flg;
  if (!flg) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(str[0], PETSC_COMM_WORLD, KF_ERR_INPUT, "%s needs a value: a comma-separated list of up to %" PetscInt_FMT " numbers", name, maxn);
  for (tok = strtok_r(str, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscReal x;
    PetscBool ok = ParseReal(tok, &x);

    PetscCheck(ok, PETSC_COMM_WORLD, KF_ERR_INPUT, "%s: '%s' is not a finite number", name, tok);
    PetscCheck(k < maxn, PETSC_COMM_WORLD, KF_ERR_INPUT, "%s: more than %" PetscInt_FMT " values given", name, maxn);
    v[k++] = x;
  }
  *n = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfOptionsEnum(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], const char *const list[], PetscInt def, PetscInt *v)
{
  char      str[256], accepted[512] = "";
  PetscInt  nlist = 0, i;
  PetscBool flg;

  PetscFunctionBeginUser;
  char name[128];

  PetscCall(FullName(PetscOptionsObject, opt, name, sizeof(name)));
  while (list[nlist + 3]) nlist++; /* a PETSc enum table ends with type name, prefix, NULL */
  nlist++;
  for (i = 0; i < nlist; i++) {
    PetscCall(PetscStrlcat(accepted, i ? ", " : "", sizeof(accepted)));
    PetscCall(PetscStrlcat(accepted, list[i], sizeof(accepted)));
  }
  PetscCall(PetscOptionsString(opt, text, "kmdflow", list[def], str, sizeof(str), &flg));
  *v = def;
  if (!flg) PetscFunctionReturn(PETSC_SUCCESS);
  for (i = 0; i < nlist; i++) {
    PetscBool match;

    PetscCall(PetscStrcasecmp(str, list[i], &match));
    if (match) {
      *v = i;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  SETERRQ(PETSC_COMM_WORLD, KF_ERR_INPUT, "%s %s: not accepted; accepted values are %s", name, str[0] ? str : "(none)", accepted);
}

static PetscErrorCode ReadGrid(PetscOptionItems *PetscOptionsObject, KfParams *p)
{
  PetscReal v[KF_MAX_DIM] = {128, 128, 128};
  PetscInt  nv            = 0, i;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(KfOptionsRealList(PetscOptionsObject, "-n", "Grid points per dimension: one value for all, or one per dimension (even, >= 4)", "128", KF_MAX_DIM, v, &nv, &set));
  if (set) {
    PetscCheck(nv == 1 || nv == p->dim, PETSC_COMM_WORLD, KF_ERR_INPUT, "-n: %" PetscInt_FMT " values given for -dim %" PetscInt_FMT "; give 1 or %" PetscInt_FMT, nv, p->dim, p->dim);
    for (i = nv; i < KF_MAX_DIM; i++) v[i] = v[0];
  }
  p->npoints = 1;
  for (i = 0; i < KF_MAX_DIM; i++) {
    PetscBool ok = (PetscBool)(v[i] == PetscFloorReal(v[i]) && v[i] >= 4 && v[i] <= 1 << 30 && ((PetscInt)v[i]) % 2 == 0);

    PetscCheck(i >= p->dim || ok, PETSC_COMM_WORLD, KF_ERR_INPUT, "-n %s: grid sizes must be even integers >= 4 (the spectral method needs a Nyquist mode)", KF_NUM(v[i]));
    p->n[i] = i < p->dim ? (PetscInt)v[i] : 1;
    p->npoints *= p->n[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -flow and the energy's entropy term (math spec D.1, F.1): V = dF/dmu = [u] + sigma log(rho/pi). */
static PetscErrorCode ReadFlow(MPI_Comm comm, KfParams *p)
{
  PetscInt  flow = KF_FLOW_WASSERSTEIN, energy = 0;
  PetscBool potential;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(p->reference, "uniform", sizeof(p->reference)));
  PetscOptionsBegin(comm, NULL, "Gradient flow", "kmdflow");
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-flow", "Geometry: wasserstein (particles move), fisher_rao (mass moves: weights change), wfr (both), stein (kernelised transport of KL: SVGD)", KfFlows, KF_FLOW_WASSERSTEIN, &flow));
  p->flow  = (KfFlow)flow;
  p->alpha = flow == KF_FLOW_WASSERSTEIN ? 0 : 1;
  p->beta  = flow == KF_FLOW_FISHER_RAO ? 0 : 1;
  p->alpha = flow == KF_FLOW_STEIN ? 0 : p->alpha;
  if (flow == KF_FLOW_STEIN) {
    p->stein_h = 0.3 * p->L / (2 * PETSC_PI);
    PetscCall(KfOptionsReal(PetscOptionsObject, "-stein_h", "Stein: width h of the kernel exp(-|r|^2/(2h^2)) (periodised; default 0.3 L/(2 pi), h <= L/4)", p->stein_h, 0, p->L / 4, PETSC_TRUE, &p->stein_h, NULL));
  }
  if (flow == KF_FLOW_WFR) {
    PetscCall(KfOptionsReal(PetscOptionsObject, "-wfr_alpha", "WFR: rate alpha of the Fisher-Rao (reaction) part", p->alpha, 0, 1e6, PETSC_TRUE, &p->alpha, NULL));
    PetscCall(KfOptionsReal(PetscOptionsObject, "-wfr_beta", "WFR: rate beta of the Wasserstein (transport) part", p->beta, 0, 1e6, PETSC_TRUE, &p->beta, NULL));
  }
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-energy", "Energy besides the entropy: kmd ((1/2)||mu - nu||^2_{H^-s}) or none (sigma KL(mu | pi) alone)", KfEnergies, 0, &energy));
  p->kmd = (PetscBool)(energy == 0);
  PetscCall(KfOptionsReal(PetscOptionsObject, "-sigma", "Weight sigma >= 0 of the entropy sigma KL(mu | pi)", 0.0, 0.0, 1e6, PETSC_FALSE, &p->sigma, NULL));
  if (p->sigma > 0) PetscCall(PetscOptionsString("-reference", "Reference density pi of the entropy (> 0 everywhere): uniform|cos|gaussians|powerlaw|file:PATH:DATASET on the torus, normal in free space (-domain free)", "kmdflow", p->reference, p->reference, sizeof(p->reference), NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasName(NULL, NULL, "-potential_linear", &potential));
  PetscCheck(p->kmd || p->sigma > 0 || potential, comm, KF_ERR_INPUT, "-energy none with -sigma 0: the energy is zero and nothing moves; give -sigma > 0, -energy kmd or (free space) -potential_linear");
  PetscCheck(p->flow != KF_FLOW_STEIN || (!p->kmd && p->sigma > 0), comm, KF_ERR_INPUT, "-flow stein: the Stein flow (SVGD) is that of sigma KL(mu | pi) alone; give -energy none -sigma S -reference PI");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParamsSetFromOptions(MPI_Comm comm, KfParams *p)
{
  PetscInt  mode = KF_MODE_PDE, planner = KF_PLANNER_ESTIMATE, problem = KF_PROBLEM_SOBOLEV;
  PetscBool mode_set;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(p, sizeof(*p)));
  PetscCall(PetscStrncpy(p->init, "cos", sizeof(p->init)));
  PetscCall(PetscStrncpy(p->target, "uniform", sizeof(p->target)));
  PetscCall(PetscStrncpy(p->output, "kmdflow.h5", sizeof(p->output)));
  PetscOptionsBegin(comm, NULL, "kmdflow: gradient flows of kernel mean discrepancies", "kmdflow");
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-mode", "Run mode: pde (densities on a grid), particles (ring-passing N-particle system) or compare (both from the same rho_0 and nu, with distances between them)", KfModes, KF_MODE_PDE, &mode));
  /* -problem relu (src/relu.c, docs/relu.md) */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-mode", &mode_set));
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-problem", "What flows: sobolev (the KMD energy on the torus) or relu (shallow ReLU teacher-student network on the sphere S^d as a WFR flow; particle mode, -dim is d)", KfProblems, KF_PROBLEM_SOBOLEV, &problem));
  p->problem = (KfProblem)problem;
  PetscCheck(p->problem != KF_PROBLEM_RELU || !mode_set || mode == KF_MODE_PARTICLES, comm, KF_ERR_INPUT, "-problem relu with -mode %s: the ReLU teacher-student problem runs in particle mode (-mode particles, the default for -problem relu)", KfModes[mode]);
  if (p->problem == KF_PROBLEM_RELU) mode = KF_MODE_PARTICLES;
  if (p->problem == KF_PROBLEM_RELU) PetscCall(KfOptionsInt(PetscOptionsObject, "-dim", "Dimension d of the sphere S^d (neurons in R^{d+1})", 2, 1, KF_RELU_MAX_DIM, &p->dim, NULL));
  else PetscCall(KfOptionsInt(PetscOptionsObject, "-dim", "Dimension d of the torus", 2, 1, 3, &p->dim, NULL));
  PetscCall(ReadGrid(PetscOptionsObject, p));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-s", "Sobolev order s of the energy (1/2)||mu-nu||^2_{H^-s}", 1.0, 0.0, 64.0, PETSC_TRUE, &p->s, NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-L", "Period L of the torus [0,L)^d", 2 * PETSC_PI, 0.0, 1e6, PETSC_TRUE, &p->L, NULL));
  PetscCall(KfOptionsBool(PetscOptionsObject, "-dealias", "2/3-rule dealiasing (initial density projected on the band, RHS masked)", p->dealias, &p->dealias));
  PetscCall(PetscOptionsString("-init", "Initial density: uniform|cos|gaussians|powerlaw|file:PATH:DATASET", "kmdflow", p->init, p->init, sizeof(p->init), NULL));
  PetscCall(PetscOptionsString("-target", "Target density nu: uniform|cos|gaussians|powerlaw|file:PATH:DATASET", "kmdflow", p->target, p->target, sizeof(p->target), NULL));
  PetscCall(PetscOptionsString("-output", "Output HDF5 file (none: no output)", "kmdflow", p->output, p->output, sizeof(p->output), NULL));
  PetscCall(KfOptionsReal(PetscOptionsObject, "-output_dt", "Time between outputs (default: final time / 10)", 0.0, 0.0, PETSC_MAX_REAL, PETSC_FALSE, &p->output_dt, NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-seed", "Seed of the counter-based random numbers (powerlaw phases)", 1, 0, PETSC_MAX_INT, &p->seed, NULL));
  PetscCall(KfOptionsEnum(PetscOptionsObject, "-fftw_planner", "FFTW planner rigour", KfPlanners, KF_PLANNER_ESTIMATE, &planner));
  PetscCall(PetscOptionsString("-fftw_wisdom", "FFTW wisdom file: read before planning, updated after", "kmdflow", p->wisdom, p->wisdom, sizeof(p->wisdom), NULL));
  PetscCall(KfOptionsInt(PetscOptionsObject, "-fftw_threads", "FFTW threads per MPI rank", 1, 1, 1024, &p->fftw_threads, NULL));
  PetscCall(KfOptionsBool(PetscOptionsObject, "-quiet", "Do not print a monitor line per output", p->quiet, &p->quiet));
  p->strict = PETSC_TRUE;
  PetscCall(KfOptionsBool(PetscOptionsObject, "-strict_options", "Treat unused (unknown or misspelt) options as errors", p->strict, &p->strict));
  PetscOptionsEnd();
  p->mode    = (KfMode)mode;
  p->planner = (KfPlanner)planner;
  PetscCall(ReadFlow(comm, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParamsViewFlow(const KfParams *p, MPI_Comm comm)
{
  PetscFunctionBeginUser;
  if (p->flow != KF_FLOW_WASSERSTEIN || p->sigma > 0 || !p->kmd) {
    PetscCall(PetscPrintf(comm, "kmdflow flow: %s (alpha = %s, beta = %s), energy %s", KfFlows[p->flow], KF_NUM(p->alpha), KF_NUM(p->beta), p->kmd ? "(1/2)||mu - nu||^2_{H^-s}" : "0"));
    if (p->sigma > 0) PetscCall(PetscPrintf(comm, " + %s KL(mu | %s)", KF_NUM(p->sigma), p->reference));
    PetscCall(PetscPrintf(comm, "\n"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfParamsView(const KfParams *p, MPI_Comm comm)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(comm, "kmdflow %s: d = %" PetscInt_FMT ", grid %" PetscInt_FMT, KfModes[p->mode], p->dim, p->n[0]));
  for (PetscInt i = 1; i < p->dim; i++) PetscCall(PetscPrintf(comm, " x %" PetscInt_FMT, p->n[i]));
  PetscCall(PetscPrintf(comm, ", s = %s, L = %s, init %s, target %s%s\n", KF_NUM(p->s), KF_NUM(p->L), p->init, p->target, p->dealias ? ", 2/3 dealiasing" : ""));
  PetscCall(KfParamsViewFlow(p, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscInt EditDistance(const char *a, const char *b)
{
  PetscInt la = (PetscInt)strlen(a), lb = (PetscInt)strlen(b), prev[64], cur[64];

  if (la > 62 || lb > 62) return 99;
  for (PetscInt j = 0; j <= lb; j++) prev[j] = j;
  for (PetscInt i = 1; i <= la; i++) {
    cur[0] = i;
    for (PetscInt j = 1; j <= lb; j++) {
      PetscInt sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

      cur[j] = PetscMin(PetscMin(prev[j] + 1, cur[j - 1] + 1), sub);
    }
    for (PetscInt j = 0; j <= lb; j++) prev[j] = cur[j];
  }
  return prev[lb];
}

/* The options kmdflow itself defines, for "did you mean" hints on misspellings. */
static const char *const known[] = {"mode", "dim", "n", "s", "L", "dealias", "init", "target", "output", "output_dt", "seed", "fftw_planner", "fftw_wisdom", "fftw_threads", "quiet", "strict_options", "particles", "particle_init", "target_samples", "domain", "kernel", "kernel_h", "kernel_c", "kernel_beta", "kernel_q", "ring_leaf", "ewald_tol", "compare_s", "flow", "wfr_alpha", "wfr_beta", "sigma", "reference", "energy", "kde_h", "entropy_estimate", "fr_step", "resample_ess", "stein_h", "fr_particles", "potential_linear", "fr_rkhs_lambda", "fr_rkhs_h", "fr_rkhs_rtol", "fr_rkhs_maxit", "problem", "relu_param", "relu_teacher", "relu_teacher_neurons", "relu_teacher_mass", "relu_student_mass", "relu_aw_scale",
                                    "ts_type", "ts_rk_type", "ts_dt", "ts_max_time", "ts_max_steps", "ts_adapt_type", "ts_rtol", "ts_atol", "ts_monitor", "ts_view", "help", "log_view", "options_file",
                                    "checkpoint", "checkpoint_dt", "checkpoint_steps", "restart", "memory_limit"};

/* PETSc reads these only after the check runs (at the end of TSSolve or in PetscFinalize). */
static const char *const read_later[] = {"ts_view", "ts_adapt_view", "log_", "options_", "memory_view", "malloc_", "objects_dump", "info", "fp_trap", "on_error_", "check_pointer_intensity", "viewer_"};

static PetscBool ReadLater(const char name[])
{
  for (size_t i = 0; i < sizeof(read_later) / sizeof(read_later[0]); i++)
    if (!strncmp(name, read_later[i], strlen(read_later[i]))) return PETSC_TRUE;
  return PETSC_FALSE;
}

PetscErrorCode KfCheckUnusedOptions(MPI_Comm comm, PetscBool strict)
{
  PetscInt nleft, count = 0;
  char   **names, **values;
  char     hint[256] = "";
  const char *name = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsLeftGet(NULL, &nleft, &names, &values));
  for (PetscInt i = 0; i < nleft; i++) {
    const char *nm = names[i][0] == '-' ? names[i] + 1 : names[i];

    if (ReadLater(nm)) continue;
    if (!count++) name = nm;
  }
  if (count && strict) {
    PetscInt best = 3;

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
      if (!strcmp(name, known[i])) { /* a real option that this run's mode, kernel or density never reads */
        char first[128];

        PetscCall(PetscStrncpy(first, name, sizeof(first)));
        PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &names, &values));
        SETERRQ(comm, KF_ERR_INPUT, "option -%s is not used by this run (another -mode, -kernel, -domain or density reads it); -help lists what this run reads (-strict_options 0 turns this check off)", first);
      }

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
      PetscInt dist = EditDistance(name, known[i]);

      if (dist < best) {
        best = dist;
        PetscCall(PetscSNPrintf(hint, sizeof(hint), " (did you mean -%s?)", known[i]));
      }
    }
    char first[128];

    PetscCall(PetscStrncpy(first, name, sizeof(first)));
    PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &names, &values));
    SETERRQ(comm, KF_ERR_INPUT, "unknown option -%s%s; -help lists the options (%" PetscInt_FMT " unused option%s in all; -strict_options 0 turns this check off)", first, hint, count, count > 1 ? "s" : "");
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &names, &values));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRefuseUnusedOptions(MPI_Comm comm, const char program[])
{
  PetscInt nleft, count;
  char   **names, **values, first[128] = "";

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsLeftGet(NULL, &nleft, &names, &values));
  count = nleft; /* PetscOptionsLeftRestore zeroes nleft */
  if (count) PetscCall(PetscStrncpy(first, names[0][0] == '-' ? names[0] + 1 : names[0], sizeof(first)));
  PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &names, &values));
  PetscCheck(!count, comm, KF_ERR_INPUT, "unknown option -%s; %s -help lists the options", first, program);
  PetscFunctionReturn(PETSC_SUCCESS);
}
