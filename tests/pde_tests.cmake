# PDE-mode checks (tests/pde_checks.py): exact solutions and independent references of math spec G.
kf_add_check(NAME g5_energy_law       CHECK g5       NP 1 2 3 4)
kf_add_check(NAME g6_logistic_2d3d    CHECK g6       NP 1 2 3 4)
kf_add_check(NAME g4_time_order       CHECK g4       NP 1 2 3 4)
kf_add_check(NAME spectral_convergence CHECK spectral NP 1 2 3 4)
kf_add_check(NAME g7_dissipation      CHECK g7       NP 1 2 3 4)
kf_add_check(NAME g9_rate_s2          CHECK g9       NP 1 2 3 4)
kf_add_check(NAME same_on_any_ranks   CHECK ranks    NP 2 3 4)
kf_add_check(NAME file_readback       CHECK readback NP 1 2 3 4)
kf_add_check(NAME bad_input           CHECK badinput NP 1 2 3 4 LABELS input)
kf_add_check(NAME rk_types_adaptivity CHECK rktypes  NP 1 2)
kf_add_check(NAME fftw_options        CHECK fftwopts NP 1 2 3 4)
kf_add_check(NAME view_and_stop_opts  CHECK viewopts NP 1 2)

# Particle mode (same script): exact discrete dynamics and rank independence.
kf_add_check(NAME particles_g3_exact   CHECK pg3    NP 1 2 3 4 LABELS particles)
kf_add_check(NAME particles_g8_bitwise CHECK pranks NP 2 3 4 7 LABELS particles)
