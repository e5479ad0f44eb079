# Compare-mode checks (tests/compare_checks.py): math spec C.2, C.6, G11 and bad input.
# Included by tests/CMakeLists.txt after kf_add_check and _kf_register are defined. The rank counts are
# spread over the checks to keep the whole label under a minute on two cores: cranks compares 2, 3 and 4
# ranks with 1 (its third case has np - 1 particles, so one rank holds none); the library-level checks of
# src/compare.c are tests/unit/test_compare.c (unit_compare, 1-4 ranks, label unit).

# kf_add_ccheck(NAME n CHECK c NP 1 2 [ARGS ...] [LABELS ...] [TIMEOUT s]): like kf_add_check, but
# runs tests/compare_checks.py; label "compare".
function(kf_add_ccheck)
  cmake_parse_arguments(T "" "NAME;CHECK;TIMEOUT" "NP;ARGS;LABELS" ${ARGN})
  _kf_register(${T_NAME} "${T_NP}" "${T_TIMEOUT}" "compare;${T_LABELS}"
    ${KF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/compare_checks.py ${T_CHECK} --np @NP@ --exe $<TARGET_FILE:kmdflow>
    --mpiexec ${MPIEXEC_EXECUTABLE} --mpiexec-flags=${KF_MPIEXEC_PREFLAGS} --workdir ${KF_TEST_WORK}/@NAME@ ${T_ARGS})
endfunction()

kf_add_ccheck(NAME compare_same_on_any_ranks CHECK cranks  NP 2 3 4 TIMEOUT 300)
kf_add_ccheck(NAME compare_hminus_direct     CHECK chminus NP 1 3   TIMEOUT 300)
kf_add_ccheck(NAME compare_w1_reference      CHECK cw1     NP 3     TIMEOUT 300)
kf_add_ccheck(NAME compare_g11_quantile      CHECK cg11    NP 1     TIMEOUT 300)
kf_add_ccheck(NAME compare_bad_input         CHECK cbad    NP 1 4   TIMEOUT 300 LABELS input)
