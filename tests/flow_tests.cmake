# Flow-geometry checks (tests/flow_checks.py): -flow fisher_rao|wfr|wasserstein with -sigma/-reference/-energy
# against math spec A.4, D.1, D.2, D.7, F.1 and G14. Included by tests/CMakeLists.txt after _kf_register.

# kf_add_fcheck([SCRIPT s] NAME n CHECK c NP 1 2 [ARGS ...] [LABELS ...] [TIMEOUT s]): like kf_add_check, but runs
# tests/flow_checks.py (or SCRIPT); label "flows".
function(kf_add_fcheck)
  cmake_parse_arguments(T "" "SCRIPT;NAME;CHECK;TIMEOUT" "NP;ARGS;LABELS" ${ARGN})
  if(NOT T_SCRIPT)
    set(T_SCRIPT flow_checks.py)
  endif()
  _kf_register(${T_NAME} "${T_NP}" "${T_TIMEOUT}" "flows;${T_LABELS}"
    ${KF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/${T_SCRIPT} ${T_CHECK} --np @NP@ --exe $<TARGET_FILE:kmdflow>
    --mpiexec ${MPIEXEC_EXECUTABLE} --mpiexec-flags=${KF_MPIEXEC_PREFLAGS} --workdir ${KF_TEST_WORK}/@NAME@ ${T_ARGS})
endfunction()

# Rank counts: 3 splits unevenly, 4 leaves ranks empty on the small grids and particle sets. The physics
# checks run at one or two counts (rank independence itself is flows_same_on_any_ranks); the budget of
# the whole label is about 90 s on a loaded 2-core machine.
kf_add_fcheck(NAME flows_fr_kl_closed_form    CHECK frkl     NP 1 3 TIMEOUT 300)
kf_add_fcheck(NAME flows_pde_dissipation      CHECK pdediss  NP 2   TIMEOUT 300)
kf_add_fcheck(NAME flows_g14_fr_rate          CHECK g14      NP 2   TIMEOUT 300)
kf_add_fcheck(NAME flows_conservation         CHECK conserve NP 1 4 TIMEOUT 300)
kf_add_fcheck(NAME flows_particles_dissipation CHECK pdiss   NP 3   TIMEOUT 300 LABELS particles)
kf_add_fcheck(NAME flows_compare_pde_particles CHECK pcompare NP 2  TIMEOUT 300 LABELS particles)
# NP 4: compares the runs on 1, 2, 3 and 4 ranks (one test, so the 1-rank reference runs only once).
kf_add_fcheck(NAME flows_same_on_any_ranks    CHECK ranks    NP 4   TIMEOUT 600)
kf_add_fcheck(NAME flows_bad_input            CHECK badinput NP 1 4 TIMEOUT 300 LABELS input)
kf_add_fcheck(NAME flows_fr_discrete_steps    CHECK frsteps  NP 2   TIMEOUT 300 LABELS particles)
kf_add_fcheck(NAME flows_particle_entropy_kde CHECK kde      NP 2   TIMEOUT 300 LABELS particles)
kf_add_fcheck(NAME flows_resample_any_ranks   CHECK resample NP 4   TIMEOUT 300 LABELS particles)
kf_add_fcheck(NAME flows_stein_svgd          CHECK stein    NP 3   TIMEOUT 300 LABELS particles)

# Fisher-Rao particle schemes beyond weights (tests/frparticle_checks.py): birth-death (G16), free-space Gaussians with
# the entropy-exact step (G13), kernelized FR by RKHS regression.
kf_add_fcheck(SCRIPT frparticle_checks.py NAME flows_g16_birth_death       CHECK g16      NP 1   TIMEOUT 600 LABELS particles)
kf_add_fcheck(SCRIPT frparticle_checks.py NAME flows_birth_death_any_ranks CHECK bdranks  NP 4   TIMEOUT 300 LABELS particles)
kf_add_fcheck(SCRIPT frparticle_checks.py NAME flows_g13_free_gaussians    CHECK g13      NP 2   TIMEOUT 300 LABELS particles)
kf_add_fcheck(SCRIPT frparticle_checks.py NAME flows_rkhs_regression       CHECK rkhs     NP 3   TIMEOUT 300 LABELS particles)
kf_add_fcheck(SCRIPT frparticle_checks.py NAME flows_fr_particles_bad_input CHECK badinput NP 1 4 TIMEOUT 300 LABELS input)
