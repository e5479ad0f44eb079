# -problem relu checks (tests/relu_checks.py): the shallow ReLU teacher-student WFR flow on S^d against math spec
# F.2 and G15 (the kernel against Monte Carlo is tests/unit/test_relu.c, label unit). Included by tests/CMakeLists.txt
# after _kf_register.

# kf_add_rcheck(NAME n CHECK c NP 1 2 [LABELS ...] [TIMEOUT s]): like kf_add_check, but runs tests/relu_checks.py;
# label "relu".
function(kf_add_rcheck)
  cmake_parse_arguments(T "" "NAME;CHECK;TIMEOUT" "NP;ARGS;LABELS" ${ARGN})
  _kf_register(${T_NAME} "${T_NP}" "${T_TIMEOUT}" "relu;${T_LABELS}"
    ${KF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/relu_checks.py ${T_CHECK} --np @NP@ --exe $<TARGET_FILE:kmdflow>
    --mpiexec ${MPIEXEC_EXECUTABLE} --mpiexec-flags=${KF_MPIEXEC_PREFLAGS} --workdir ${KF_TEST_WORK}/@NAME@ ${T_ARGS})
endfunction()

# 1 and 4 ranks where the case has empty ranks (J = 1 on 4); rank independence itself is relu_same_on_any_ranks
# (NP 4: runs 1, 2, 3 and 4 ranks and compares). The whole label takes about 30 s on a 2-core machine.
kf_add_rcheck(NAME relu_closed_form_j1k1   CHECK closed   NP 1 4 TIMEOUT 300)
kf_add_rcheck(NAME relu_dissipation        CHECK diss     NP 2   TIMEOUT 300)
kf_add_rcheck(NAME relu_balance_aw         CHECK balance  NP 3   TIMEOUT 300)
kf_add_rcheck(NAME relu_same_on_any_ranks  CHECK ranks    NP 4   TIMEOUT 600)
kf_add_rcheck(NAME relu_bad_input          CHECK badinput NP 1 4 TIMEOUT 300 LABELS input)
