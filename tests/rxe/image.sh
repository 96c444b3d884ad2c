# shellcheck shell=bash disable=SC2154  # rxe_dir, rxe_cache: from lib.sh
# Kernel and initramfs for the soft-RoCE VM, built once into $rxe_cache.
# Sourced after lib.sh. Entry point: rxe_ensure_image, which sets
# rxe_kernel and rxe_initramfs.
#
# Cache layout ($rxe_cache, default build/rxe-cache):
#   kernel.pkg          chosen linux-image package name (re-chosen after apt-get update)
#   debs/*.deb          the downloaded kernel package
#   kernel/PKG/         dpkg-deb -x of it, depmod'ed (.complete marks a finished extract)
#   kernel/PKG/vmlinux  the uncompressed kernel, booted directly (PVH entry)
#   initramfs.cpio      busybox + the modules below + guest-init
#   initramfs.key       hash of every input of initramfs.cpio; a mismatch rebuilds it

# Modules the guest loads, dependencies resolved from modules.dep. The guest
# has no modprobe, so anything the kernel would request at run time must be
# here: crc32 is looked up by name when rdma_rxe computes its ICRC.
rxe_modules=(crc32_generic crc32-pclmul
  virtio_pci 9pnet_virtio 9p overlay
  rdma_rxe ib_uverbs rdma_ucm
  dummy veth sch_netem)

# Busybox applets guest-init uses; links, so no --install at boot time.
rxe_applets=(sh mount umount mkdir insmod chroot poweroff sleep cat sync)

# rxe_kernel_package: name of the linux-image package to boot.
# SLUICE_RXE_KERNEL pins it; otherwise the newest 6.1 amd64 image apt knows,
# remembered until the apt lists change (apt-cache costs ~0.5 s per run).
rxe_kernel_package() {
  if [ -n "${SLUICE_RXE_KERNEL:-}" ]; then
    echo "$SLUICE_RXE_KERNEL"; return
  fi
  local memo=$rxe_cache/kernel.pkg
  if [ -s "$memo" ] && [ "$memo" -nt /var/lib/apt/lists ]; then
    cat "$memo"; return
  fi
  local pkg
  pkg=$(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null |
    grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V | tail -n 1) || true
  [ -n "$pkg" ] || rxe_die "apt knows no linux-image-6.1.0-*-amd64 package" \
    "(run apt-get update, or set SLUICE_RXE_KERNEL=<package>)"
  echo "$pkg" >"$memo"
  echo "$pkg"
}

# rxe_download_kernel PKG: path of PKG's .deb in the cache, downloading it once.
rxe_download_kernel() {
  local pkg=$1 debs=$rxe_cache/debs deb
  mkdir -p "$debs"
  deb=$(ls "$debs/${pkg}"_*.deb 2>/dev/null | tail -n 1) || true
  if [ -z "$deb" ]; then
    rxe_log "downloading $pkg"
    # Sandbox user off: _apt may not write into the cache directory.
    # Bounded: a stalled mirror must not hang ./dev test.
    if ! (cd "$debs" && timeout -s KILL 300 apt-get download -q \
        -o APT::Sandbox::User=root "$pkg") >"$debs/download.log" 2>&1; then
      cat "$debs/download.log" >&2
      rxe_die "cannot download kernel package '$pkg' (apt-get download failed, see above)"
    fi
    deb=$(ls "$debs/${pkg}"_*.deb 2>/dev/null | tail -n 1) || true
    [ -n "$deb" ] || rxe_die "apt-get download $pkg produced no .deb in $debs"
  fi
  echo "$deb"
}

# rxe_extract_kernel PKG DEB: extract once into kernel/PKG and run depmod there.
rxe_extract_kernel() {
  local pkg=$1 deb=$2 dir=$rxe_cache/kernel/$1
  [ -e "$dir/.complete" ] && return 0
  rxe_log "extracting $(basename "$deb")"
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  dpkg-deb -x "$deb" "$dir.tmp" || rxe_die "dpkg-deb -x $deb failed"
  local version
  version=$(rxe_kernel_version "$dir.tmp") || rxe_die "no /lib/modules/<version> in $deb"
  depmod -b "$dir.tmp" "$version" || rxe_die "depmod failed for $version"
  rxe_unpack_vmlinux "$dir.tmp"
  touch "$dir.tmp/.complete"
  mv "$dir.tmp" "$dir"
}

# rxe_unpack_vmlinux ROOT: ROOT/vmlinux from ROOT/boot/vmlinuz-*. Debian's
# bzImage is xz-compressed and unpacking it under TCG takes ~2.5 s of every
# boot; QEMU boots the uncompressed ELF directly through its PVH entry
# (CONFIG_PVH=y), with no firmware detour. Without it, vm-run boots vmlinuz.
rxe_unpack_vmlinux() {
  local root=$1 vmlinuz offset
  vmlinuz=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | head -n 1) || true
  [ -n "$vmlinuz" ] || rxe_die "no /boot/vmlinuz-* in the kernel package"
  grep -q '^CONFIG_PVH=y' "$root"/boot/config-* 2>/dev/null || return 0
  offset=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1) || true
  [ -n "$offset" ] || return 0
  # xz stops after the first stream and tail then dies of SIGPIPE: judge the
  # result by its ELF header, not by the pipeline's status.
  tail -c +$((offset + 1)) "$vmlinuz" | xz -dc --single-stream >"$root/vmlinux" 2>/dev/null || true
  [ "$(head -c 4 "$root/vmlinux")" = $'\x7fELF' ] || rm -f "$root/vmlinux"
}

# rxe_kernel_version ROOT: the one version directory under ROOT/lib/modules.
rxe_kernel_version() {
  local d
  for d in "$1"/lib/modules/*/; do
    [ -d "$d/kernel" ] && { basename "$d"; return 0; }
  done
  return 1
}

# rxe_module_load_order ROOT VERSION: module paths (relative to the modules
# dir), each after its dependencies, for rxe_modules. Built-in ones are skipped.
rxe_module_load_order() {
  local moddir=$1/lib/modules/$2
  local -A deps=() path_of=() seen=()
  local line mod rest name
  while IFS= read -r line; do
    mod=${line%%:*}; rest=${line#*:}
    name=${mod##*/}; name=${name%.ko}; name=${name//-/_}  # no fork: ~6000 lines
    path_of[$name]=$mod
    deps[$mod]=$rest
  done <"$moddir/modules.dep"

  visit() {  # depth-first, dependencies first
    local m=$1 d
    [ -n "${seen[$m]:-}" ] && return 0
    seen[$m]=1
    for d in ${deps[$m]}; do visit "$d"; done
    echo "$m"
  }
  for name in "${rxe_modules[@]}"; do
    name=${name//-/_}
    if [ -n "${path_of[$name]:-}" ]; then
      visit "${path_of[$name]}"
    elif ! grep -q "/${name//_/[-_]}\.ko\$" "$moddir/modules.builtin"; then
      rxe_die "kernel module $name is neither in modules.dep nor built in"
    fi
  done
}

# rxe_initramfs_key KERNEL_PKG: hash of everything the initramfs is made from.
rxe_initramfs_key() {
  { echo "$1"
    dpkg-query -W -f='${Version}\n' busybox-static
    cat "$rxe_dir/guest-init" "$rxe_dir/image.sh"
  } | sha256sum | cut -d' ' -f1
}

# rxe_build_initramfs KROOT OUT: busybox, modules and /init into a newc cpio.
# Uncompressed: gunzip under TCG costs more boot time than reading a few MB.
rxe_build_initramfs() {
  local kroot=$1 out=$2 version stage
  version=$(rxe_kernel_version "$kroot")
  stage=$(mktemp -d "$rxe_cache/initramfs.XXXXXX")
  mkdir -p "$stage"/{bin,dev,proc,sys,host,lib/modules}
  cp /bin/busybox "$stage/bin/busybox"
  local a m
  for a in "${rxe_applets[@]}"; do ln -s busybox "$stage/bin/$a"; done
  cp "$rxe_dir/guest-init" "$stage/init"
  chmod 755 "$stage/init"
  rxe_module_load_order "$kroot" "$version" >"$stage/modules.load"
  while IFS= read -r m; do
    mkdir -p "$stage/lib/modules/$(dirname "$m")"
    cp "$kroot/lib/modules/$version/$m" "$stage/lib/modules/$m"
  done <"$stage/modules.load"
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) >"$out.tmp" || rxe_die "cpio failed"
  mv "$out.tmp" "$out"
  rm -rf "$stage"
}

# rxe_ensure_image: make sure kernel and initramfs are in the cache and set
# rxe_kernel / rxe_initramfs. Serialised by a lock so parallel runs share one build.
rxe_ensure_image() {
  mkdir -p "$rxe_cache"
  exec {lock_fd}>"$rxe_cache/.lock"
  flock "$lock_fd"
  local pkg deb kroot key
  pkg=$(rxe_kernel_package)
  kroot=$rxe_cache/kernel/$pkg
  if [ ! -e "$kroot/.complete" ]; then
    deb=$(rxe_download_kernel "$pkg")
    rxe_extract_kernel "$pkg" "$deb"
  fi
  rxe_kernel=$kroot/vmlinux
  [ -s "$rxe_kernel" ] || rxe_kernel=$(ls "$kroot"/boot/vmlinuz-* | head -n 1)
  rxe_initramfs=$rxe_cache/initramfs.cpio
  key=$(rxe_initramfs_key "$pkg")
  if [ ! -s "$rxe_initramfs" ] || [ "$(cat "$rxe_cache/initramfs.key" 2>/dev/null)" != "$key" ]; then
    rxe_log "building initramfs for $pkg"
    rxe_build_initramfs "$kroot" "$rxe_initramfs"
    echo "$key" >"$rxe_cache/initramfs.key"
  fi
  flock -u "$lock_fd"
  exec {lock_fd}>&-
}
