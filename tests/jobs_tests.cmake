# Tests of jobs/ on a real single-node SLURM cluster (tests/job_checks.py, scripts/slurm-local); label "jobs".
# jobs_cluster_start installs slurm/munge if missing (as root) and starts the cluster in work/jobs-slurm; it is a
# fixture of every jobs test, and jobs_cluster_stop (cleanup) ends only the daemons it started. Without slurm the
# start fails with a message and the tests that need it fail too: nothing passes silently.
set(KF_JOBS_WORK ${KF_TEST_WORK}/jobs)
set(KF_JOBS_ENV "${KF_TEST_ENV};KF_SLURM_CPUS=4;KF_SLURM_DIR=${KF_JOBS_WORK}/slurm")

function(kf_add_jobs_check name check timeout)
  add_test(NAME ${name} COMMAND ${KF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/job_checks.py ${check}
    --root ${PROJECT_SOURCE_DIR} --exe $<TARGET_FILE:kmdflow> --workdir ${KF_JOBS_WORK})
  set_tests_properties(${name} PROPERTIES LABELS "jobs" TIMEOUT ${timeout} ENVIRONMENT "${KF_JOBS_ENV}" ${ARGN})
endfunction()

kf_add_jobs_check(jobs_cluster_start start 900 FIXTURES_SETUP slurm RUN_SERIAL TRUE)
kf_add_jobs_check(jobs_cluster_stop stop 120 FIXTURES_CLEANUP slurm RUN_SERIAL TRUE)
kf_add_jobs_check(jobs_run_sbatch run 300 FIXTURES_REQUIRED slurm PROCESSORS 2)
kf_add_jobs_check(jobs_scaling scaling 400 FIXTURES_REQUIRED slurm PROCESSORS 2 RUN_SERIAL TRUE)
kf_add_jobs_check(jobs_validation validation 300 FIXTURES_REQUIRED slurm PROCESSORS 2)
kf_add_jobs_check(jobs_failures failures 300 FIXTURES_REQUIRED slurm PROCESSORS 2)
kf_add_jobs_check(jobs_preemption preempt 600 FIXTURES_REQUIRED slurm PROCESSORS 2 SKIP_RETURN_CODE 77)
