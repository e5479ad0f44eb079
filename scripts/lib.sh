# scripts/lib.sh - shared by scripts/demo and scripts/test: install what is missing, then build.
# Sourced, not run. Uses KF_BUILD_DIR (default: <repo>/build).

KF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KF_BUILD_DIR=${KF_BUILD_DIR:-$KF_ROOT/build}
KF_PACKAGES="build-essential cmake pkg-config git libopenmpi-dev openmpi-bin petsc-dev libfftw3-dev libfftw3-mpi-dev
  libhdf5-openmpi-dev hdf5-tools libgsl-dev python3-numpy python3-h5py python3-matplotlib
  slurmctld slurmd slurm-client munge"

kf_say() { printf '\033[1m== %s\033[0m\n' "$*"; }

# Installs the Debian packages that are missing (as root), or prints the apt-get line and stops.
kf_install_packages() {
  local missing=() p
  for p in $KF_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    kf_say "all Debian packages present"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "kmdflow needs these Debian packages; run as root (or with sudo):" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  kf_say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

kf_mpi_env() {
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  export OMPI_MCA_rmaps_base_oversubscribe=1 # more ranks than cores are allowed (slower, still correct)
}

kf_build() {
  local werror=OFF
  [ "${CI:-}" = "true" ] && werror=ON
  kf_say "configuring and building in $KF_BUILD_DIR"
  mkdir -p "$KF_BUILD_DIR"
  cmake -S "$KF_ROOT" -B "$KF_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DKF_WERROR=$werror >"$KF_BUILD_DIR/configure.log" 2>&1 ||
    { cat "$KF_BUILD_DIR/configure.log"; exit 1; }
  cmake --build "$KF_BUILD_DIR" -j "$(nproc)"
}

kf_setup() {
  kf_install_packages
  kf_mpi_env
  kf_build
}
