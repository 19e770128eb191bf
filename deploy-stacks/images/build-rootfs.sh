#!/bin/bash
# Build the Pilothouse base rootfs tarball from Debian packages and print its path.
# Usage: build-rootfs.sh CACHE_DIR
# Output: CACHE_DIR/rootfs-<hash>.tar, hash over packages.txt and this script.
# Cached (an existing tarball is reused) and atomic (temp name, then rename),
# so a build killed half-way never leaves a tarball that looks valid.
set -euo pipefail

die() { echo "build-rootfs: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 CACHE_DIR"
[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap not installed (apt-get install debootstrap)"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkgfile="$here/packages.txt"
[[ -r $pkgfile ]] || die "cannot read $pkgfile"

mirror=${PILOTHOUSE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
cache=$1
mkdir -p "$cache" || die "cannot create cache dir $cache"
cache=$(cd "$cache" && pwd)

hash=$(cat "$pkgfile" "$here/build-rootfs.sh" | sha256sum | cut -c1-16)
out="$cache/rootfs-$hash.tar"

if [[ -s $out ]]; then
    echo "$out"
    exit 0
fi

# One build at a time per cache dir; a second caller waits and then reuses the result.
exec 9>"$cache/.build-rootfs.lock"
flock 9 || die "cannot lock $cache/.build-rootfs.lock"
if [[ -s $out ]]; then
    echo "$out"
    exit 0
fi

unmount_under() {
    local dir=$1 m
    # Deepest first; debootstrap mounts proc/sys inside the target and a killed run leaves them.
    while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done < <(awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
}

remove_tree() {
    local dir=$1
    [[ -n $dir && $dir == "$cache"/.rootfs-build.* ]] || die "refusing to remove unexpected path '$dir'"
    unmount_under "$dir"
    if awk -v d="$dir" 'index($2, d) == 1 {found=1} END {exit !found}' /proc/mounts; then
        die "mounts remain under $dir; not removing it"
    fi
    rm -rf --one-file-system "$dir"
}

# Leftovers of killed runs (we hold the lock, so nobody else is building).
for stale in "$cache"/.rootfs-build.*; do
    [[ -e $stale ]] || continue
    echo "build-rootfs: removing leftover $stale" >&2
    remove_tree "$stale"
done

work=$(mktemp -d "$cache/.rootfs-build.XXXXXX")
trap 'remove_tree "$work"' EXIT
root="$work/root"
tmptar="$work/rootfs.tar"

pkgs=$(grep -v '^[[:space:]]*#' "$pkgfile" | tr -s ' \t\n' '\n' | grep -v '^$' | paste -sd, -)
[[ -n $pkgs ]] || die "no packages listed in $pkgfile"

echo "build-rootfs: debootstrap $suite ($mirror) -> $root" >&2
start=$(date +%s)
if ! debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [[ -f $root/debootstrap/debootstrap.log ]] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (log above)"
fi

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# The entrypoints create clusters themselves; the package's default cluster would be in the way.
if [[ -d $root/etc/postgresql/15/main ]]; then
    in_root pg_dropcluster 15 main || die "pg_dropcluster 15 main failed in the rootfs"
fi
# No host keys baked into an image (openssh-server is not installed, but be sure).
rm -f "$root"/etc/ssh/ssh_host_*
# Shrink: apt lists and caches, docs; nothing at run time needs them.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/debootstrap
# The container's resolv.conf and hostname come from the engine.
: >"$root/etc/resolv.conf"
echo pilothouse >"$root/etc/hostname"
# Sanity: the binaries the entrypoints use.
for bin in /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/15/bin/repmgr /usr/lib/postgresql/15/bin/repmgrd \
           /usr/sbin/pgpool /usr/bin/etcd /usr/bin/etcdctl /usr/sbin/haproxy /usr/bin/python3 /usr/bin/tini; do
    [[ -x $root$bin ]] || die "expected binary $bin missing from the rootfs"
done
in_root python3 -c 'import psycopg2' || die "python3-psycopg2 not importable in the rootfs"

unmount_under "$root"
tar --numeric-owner --xattrs -C "$root" -cf "$tmptar" . || die "tar of $root failed"
mv -f "$tmptar" "$out" || die "cannot rename $tmptar to $out"
echo "build-rootfs: built $out in $(( $(date +%s) - start )) s" >&2
echo "$out"
