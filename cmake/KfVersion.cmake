# Writes kf_version.h with the project version and the git revision of the source tree.
find_package(Git QUIET)
set(KF_GIT_REVISION "unknown")
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE _rev
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _res)
  if(_res EQUAL 0 AND _rev)
    set(KF_GIT_REVISION "${_rev}")
  endif()
endif()
string(TOUPPER "${CMAKE_BUILD_TYPE}" _bt)
set(KF_BUILD_FLAGS "${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION} ${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${_bt}}")
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/kf_version.h.in ${CMAKE_CURRENT_BINARY_DIR}/include/kf_version.h @ONLY)
