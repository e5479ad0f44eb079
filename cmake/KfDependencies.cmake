# Finds MPI, parallel HDF5, PETSc (pkg-config) and FFTW3 with its MPI and threads libraries.
find_package(MPI REQUIRED COMPONENTS C)
find_package(PkgConfig REQUIRED)

pkg_search_module(PETSC REQUIRED IMPORTED_TARGET PETSc>=3.18)

pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3)
pkg_check_modules(GSL REQUIRED IMPORTED_TARGET gsl) # incomplete gamma and zeta functions of the Ewald sums
find_library(FFTW3_MPI_LIBRARY fftw3_mpi HINTS ${FFTW3_LIBRARY_DIRS})
find_library(FFTW3_THREADS_LIBRARY fftw3_threads HINTS ${FFTW3_LIBRARY_DIRS})
find_path(FFTW3_MPI_INCLUDE_DIR fftw3-mpi.h HINTS ${FFTW3_INCLUDE_DIRS})
if(NOT FFTW3_MPI_LIBRARY OR NOT FFTW3_MPI_INCLUDE_DIR OR NOT FFTW3_THREADS_LIBRARY)
  message(FATAL_ERROR "kmdflow needs FFTW3 with its MPI and threads libraries "
    "(Debian: apt-get install libfftw3-dev libfftw3-mpi-dev).")
endif()

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "kmdflow needs a parallel (MPI) HDF5, but the HDF5 found "
    "(${HDF5_C_INCLUDE_DIRS}) is serial. Debian: apt-get install libhdf5-openmpi-dev")
endif()
if(NOT TARGET hdf5::hdf5)
  add_library(hdf5::hdf5 INTERFACE IMPORTED)
  set_target_properties(hdf5::hdf5 PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HDF5_C_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${HDF5_C_LIBRARIES}")
endif()

find_program(KF_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT KF_PYTHON)
  find_program(KF_PYTHON NAMES python3)
endif()
