# jobs/lib.sh - shared by the scripts in jobs/: where the project and the executable are, the layout of a
# run, whether SLURM is there. Sourced, not run. Sets KF_ROOT and KF_JOBS.

KF_JOBS=$KF_ROOT/jobs

kf_jobs_say() { echo "[kmdflow-jobs] $*" >&2; }
kf_jobs_die() { kf_jobs_say "error: $*"; exit 2; }

# The kmdflow executable: $KMDFLOW, else kmdflow on PATH, else the default build folder of scripts/lib.sh.
kf_find_kmdflow() {
  local exe
  if [ -n "${KMDFLOW:-}" ]; then
    exe=$KMDFLOW
  elif command -v kmdflow >/dev/null 2>&1; then
    exe=$(command -v kmdflow)
  else
    exe=${KF_BUILD_DIR:-$KF_ROOT/build}/kmdflow
  fi
  [ -x "$exe" ] || kf_jobs_die "no kmdflow executable at '$exe': build it (scripts/test or cmake --build build), put it on PATH or set KMDFLOW"
  echo "$exe"
}

# True inside a SLURM allocation (batch script or salloc shell).
kf_in_slurm() { [ -n "${SLURM_JOB_ID:-}" ]; }

# True if sbatch can reach a controller.
kf_have_slurm() { command -v sbatch >/dev/null 2>&1 && scontrol ping >/dev/null 2>&1; }

# Ranks and threads of a run: the allocation's --ntasks and --cpus-per-task; outside SLURM KF_RANKS and
# KF_THREADS, default one rank per core and one thread (the faster PDE layout on a node, docs/jobs.md).
kf_layout() {
  if kf_in_slurm; then
    KF_NRANKS=${KF_RANKS:-${SLURM_NTASKS:-1}}
    KF_NTHREADS=${KF_THREADS:-${SLURM_CPUS_PER_TASK:-1}}
  else
    KF_NRANKS=${KF_RANKS:-$(nproc)}
    KF_NTHREADS=${KF_THREADS:-1}
  fi
  [[ $KF_NRANKS =~ ^[1-9][0-9]*$ ]] || kf_jobs_die "ranks '$KF_NRANKS' must be a positive integer (KF_RANKS or --ntasks)"
  [[ $KF_NTHREADS =~ ^[1-9][0-9]*$ ]] || kf_jobs_die "threads '$KF_NTHREADS' must be a positive integer (KF_THREADS or --cpus-per-task)"
}

# Submits with sbatch and prints the job id; the submission line goes to the log.
kf_sbatch() {
  local id
  id=$(sbatch --parsable "$@") || kf_jobs_die "sbatch $* failed"
  kf_jobs_say "submitted job ${id%%;*}: sbatch $*"
  echo "${id%%;*}"
}

# kf_wait_job ID [TIMEOUT_S]: polls squeue every second until the job (every task of an array) has left the
# queue; 0 iff all ended COMPLETED, 1 otherwise, 124 on timeout. Read promptly: without accounting, scontrol
# forgets a job MinJobAge seconds after it ended.
kf_wait_job() {
  local id=$1 timeout=${2:-600} t0=$SECONDS states
  while [ -n "$(squeue -h -j "$id" -o %i 2>/dev/null)" ]; do
    [ $((SECONDS - t0)) -ge "$timeout" ] && { kf_jobs_say "timeout after $timeout s waiting for job $id"; return 124; }
    sleep 1
  done
  states=$(scontrol -o show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' \n' ' ')
  kf_jobs_say "job $id:$states"
  [ -n "$states" ] && ! grep -q 'JobState=' <<<"${states//JobState=COMPLETED/}"
}
