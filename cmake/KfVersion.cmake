# kf_version.h: project version, build flags, and the git revision of the source tree. The revision
# is looked up at every build (not only at configure time), so a rebuilt binary never reports a
# stale commit; configure_file rewrites the header only when its content changes.
string(TOUPPER "${CMAKE_BUILD_TYPE}" _bt)
set(KF_BUILD_FLAGS "${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION} ${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${_bt}}")
find_package(Git QUIET)
add_custom_target(kf_version
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_CURRENT_SOURCE_DIR} -DOUT=${CMAKE_CURRENT_BINARY_DIR}/include/kf_version.h
          -DGIT=${GIT_EXECUTABLE} -DVERSION=${PROJECT_VERSION} "-DFLAGS=${KF_BUILD_FLAGS}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/KfGitRevision.cmake
  BYPRODUCTS ${CMAKE_CURRENT_BINARY_DIR}/include/kf_version.h
  COMMENT "" VERBATIM)
