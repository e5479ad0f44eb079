# Reliability checks (tests/reliability_checks.py, docs/reliability.md): checkpoint/restart across rank counts, signals,
# SIGKILL at random moments, non-finite states, refused restarts; and the bounded fuzz test of hostile input (tests/fuzz.py).
# Included by tests/CMakeLists.txt after _kf_register is defined.

function(kf_add_rcheck)
  cmake_parse_arguments(T "" "NAME;CHECK;TIMEOUT" "NP;ARGS;LABELS" ${ARGN})
  _kf_register(${T_NAME} "${T_NP}" "${T_TIMEOUT}" "reliability;${T_LABELS}"
    ${KF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/reliability_checks.py ${T_CHECK} --np @NP@ --exe $<TARGET_FILE:kmdflow>
    --mpiexec ${MPIEXEC_EXECUTABLE} --mpiexec-flags=${KF_MPIEXEC_PREFLAGS} --workdir ${KF_TEST_WORK}/@NAME@ ${T_ARGS})
endfunction()

kf_add_rcheck(NAME reliability_restart   CHECK restart   NP 2 TIMEOUT 600)
kf_add_rcheck(NAME reliability_kill      CHECK kill      NP 2 TIMEOUT 600)
kf_add_rcheck(NAME reliability_nonfinite CHECK nonfinite NP 2 TIMEOUT 300)
kf_add_rcheck(NAME reliability_refuse    CHECK refuse    NP 2 TIMEOUT 300 LABELS input)

# >= 300 generated hostile cases, 4 at a time (the runs mostly wait on MPI start-up), each bounded by a timeout (a hang fails the case).
_kf_register(fuzz_hostile_input 1 900 "fuzz;input"
  ${KF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz.py --exe $<TARGET_FILE:kmdflow> --mpiexec ${MPIEXEC_EXECUTABLE}
  --mpiexec-flags=${KF_MPIEXEC_PREFLAGS} --workdir ${KF_TEST_WORK}/fuzz --cases 320 --jobs 4 --seed 7)
