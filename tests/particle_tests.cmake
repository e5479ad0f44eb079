# Particle-mode checks (tests/particle_checks.py): math spec G7, G10/C.4, B.6 and bad input.
# Included by tests/CMakeLists.txt after kf_add_check and _kf_register are defined.

# kf_add_pcheck(NAME n CHECK c NP 1 2 [ARGS ...] [LABELS ...] [TIMEOUT s]): like kf_add_check, but
# runs tests/particle_checks.py; label "particles".
function(kf_add_pcheck)
  cmake_parse_arguments(T "" "NAME;CHECK;TIMEOUT" "NP;ARGS;LABELS" ${ARGN})
  _kf_register(${T_NAME} "${T_NP}" "${T_TIMEOUT}" "particles;${T_LABELS}"
    ${KF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/particle_checks.py ${T_CHECK} --np @NP@ --exe $<TARGET_FILE:kmdflow>
    --mpiexec ${MPIEXEC_EXECUTABLE} --mpiexec-flags=${KF_MPIEXEC_PREFLAGS} --workdir ${KF_TEST_WORK}/@NAME@ ${T_ARGS})
endfunction()

kf_add_pcheck(NAME particles_g7_dissipation CHECK pg7  NP 1 2 3 4 TIMEOUT 300)
kf_add_pcheck(NAME particles_g10_lattice    CHECK pg10 NP 1 2 3 4 TIMEOUT 300)
kf_add_pcheck(NAME particles_mmd_gaussian   CHECK pmmd NP 1 2 3 4 TIMEOUT 300)
kf_add_pcheck(NAME particles_bad_input      CHECK pbad NP 1 2 3 4 TIMEOUT 300 LABELS input)
