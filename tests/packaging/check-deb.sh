#!/usr/bin/env bash
# Builds the Debian package and proves it on a clean Debian 12: the files it
# ships (binary, .desktop, AppStream metainfo, hicolor icon, man page), the
# metainfo valid for appstreamcli, and `pilothouse --version` working after
# `apt-get install ./pilothouse_*.deb` pulled its runtime dependencies into a
# fresh debootstrap'd bookworm (from Debian's mirror, nothing else).
# Usage: tests/packaging/check-deb.sh [BUILD_DIR]
#   env: PILOTHOUSE_CHROOT_CACHE (default /var/lib/pilothouse-lab/cache): where
#        the clean bookworm tarball is kept between runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath -m "${1:-$here/build}")
cache=${PILOTHOUSE_CHROOT_CACHE:-/var/lib/pilothouse-lab/cache}
mirror=http://deb.debian.org/debian
die() { echo "check-deb: $*" >&2; exit 1; }
step() { echo "== $*"; }

[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap and chroot need it)"
[[ -f $build/CMakeCache.txt ]] || die "$build is not a configured build dir (cmake -S $here -B $build -G Ninja)"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n $version ]] || die "no project version in $build/CMakeCache.txt"

work=$(mktemp -d /tmp/pilothouse-check-deb.XXXXXX)
root=$work/root
cleanup() {
  for m in proc; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount "$root/$m"; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

step "building the package in $build"
cmake --build "$build" --target pilothouse pilothouse_manpage >/dev/null
(cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null) || die "cpack failed (run: cd $build && cpack -G DEB)"
deb=$(ls "$work"/deb/pilothouse_*.deb 2>/dev/null | head -n 1)
[[ -n $deb ]] || die "cpack made no pilothouse_*.deb in $work/deb"
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"

step "contents"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/pilothouse \
         ./usr/share/applications/io.github.pilothouse.Pilothouse.desktop \
         ./usr/share/metainfo/io.github.pilothouse.Pilothouse.metainfo.xml \
         ./usr/share/icons/hicolor/scalable/apps/io.github.pilothouse.Pilothouse.svg \
         ./usr/share/man/man1/pilothouse.1.gz; do
  [[ $contents == *" $f"* ]] || die "the package lacks $f"
  echo "ok   $f"
done
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libqt6widgets6* && $depends == *libpq5* && $depends == *libssh* &&
   $depends == *qt6-qpa-plugins* && $depends == *libqt6svg6* ]] ||
  die "Depends does not name the Qt, libpq and libssh runtimes: $depends"
echo "ok   Depends: $depends"

step "metadata"
dpkg-deb -x "$deb" "$work/x"
appstreamcli validate --no-net "$work/x/usr/share/metainfo/io.github.pilothouse.Pilothouse.metainfo.xml"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$work/x/usr/share/applications/io.github.pilothouse.Pilothouse.desktop"
  echo "ok   desktop-file-validate"
fi

step "a clean Debian 12 (bookworm, minbase)"
mkdir -p "$cache"
tarball=$cache/bookworm-minbase.tar
if [[ ! -s $tarball ]]; then
  debootstrap --variant=minbase bookworm "$work/bootstrap" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap from $mirror failed"; }
  tar -C "$work/bootstrap" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  rm -rf "$work/bootstrap"
fi
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
mount -t proc proc "$root/proc"

step "apt-get install ./$(basename "$deb") (its dependencies from the mirror)"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends /tmp/$(basename "$deb")" \
  >"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; die "installing the package in a clean bookworm failed"; }
echo "installed $(grep -c '^Setting up' "$work/apt.log") packages"

step "pilothouse --version in the clean system"
out=$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin /usr/bin/pilothouse --version) ||
  die "pilothouse --version failed in the clean system"
[[ $out == "pilothouse $version" ]] || die "pilothouse --version printed '$out', expected 'pilothouse $version'"
echo "ok   $out"
help=$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin /usr/bin/pilothouse status --help) ||
  die "pilothouse status --help failed in the clean system"
[[ $help == *"--inventory"* ]] || die "pilothouse status --help says nothing of --inventory"
echo "ok   pilothouse status --help (headless)"
# The console itself starts (offscreen: no display here) and knows its options.
gui=$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen /usr/bin/pilothouse --help 2>&1) ||
  die "the console did not start in the clean system: $gui"
[[ $gui == *"--lab"* ]] || die "pilothouse --help (console) says nothing of --lab: $gui"
echo "ok   pilothouse --help (console, offscreen platform)"
echo "check-deb: all good"
