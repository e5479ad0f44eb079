# Run with cmake -P at build time by the kf_version target (see KfVersion.cmake).
set(KF_GIT_REVISION "unknown")
if(GIT)
  execute_process(COMMAND ${GIT} describe --always --dirty --abbrev=12
    WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE _rev
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _res)
  if(_res EQUAL 0 AND _rev)
    set(KF_GIT_REVISION "${_rev}")
  endif()
endif()
set(PROJECT_VERSION "${VERSION}")
set(KF_BUILD_FLAGS "${FLAGS}")
configure_file(${SRC}/cmake/kf_version.h.in ${OUT} @ONLY)
