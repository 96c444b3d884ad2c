# shellcheck shell=bash disable=SC2034  # variables here are used by the sourcing scripts
# Shared helpers for the soft-RoCE VM scripts. Sourced, never run.
# Host side only: the guest runs guest-init (busybox) and guest-boot (bash).

rxe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$rxe_dir/../.." && pwd)
# Absolute: its paths go into QEMU's command line and the guest's.
rxe_cache=$(realpath -m "${SLUICE_RXE_CACHE:-$repo_root/build/rxe-cache}")

# Everything the harness needs on a fresh Debian 12, by package name.
# libibverbs-dev/librdmacm-dev are for building tests/rdma, not for the VM.
rxe_host_pkgs=(qemu-system-x86 busybox-static rdma-core ibverbs-providers
  ibverbs-utils perftest cpio kmod iproute2 xz-utils coreutils util-linux)

# Exit codes of vm-run besides the command's own: distinct so callers can tell
# "the test failed" from "the harness could not run the test".
readonly rxe_exit_timeout=124
readonly rxe_exit_harness=125

rxe_log() { printf '%s: %s\n' "${rxe_prog:-rxe}" "$*" >&2; }
rxe_die() { rxe_log "error: $*"; exit "$rxe_exit_harness"; }

# rxe_ensure_packages PKG...: install what is missing; silent when all present.
rxe_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  rxe_log "installing ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  if [ -z "${SLUICE_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq || rxe_die "apt-get update failed"
    export SLUICE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || rxe_die "apt-get install ${missing[*]} failed"
}

# rxe_now_ms: wall clock in milliseconds, for timings in messages.
rxe_now_ms() { date +%s%3N; }
