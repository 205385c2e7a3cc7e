#!/bin/sh
# Makes the packages layer of one corpus image. Runs inside `unshare --mount --propagation private`,
# so every mount below disappears with this process, whatever happens.
#
# HB_MODE=apt:     overlay(lower=HB_BASE, upper=HB_UPPER); apt-get install --no-install-recommends $HB_PACKAGES
#                  in a chroot.
# HB_MODE=extract: overlay(lower=HB_BASE, upper=HB_UPPER) is the new root; a throw-away overlay over the Debian
#                  root HB_DEBIAN downloads $HB_PACKAGES and unpacks them into it with dpkg -x (no deps, no scripts).
# Then the arguments, if any, run as a command in a chroot of the new root (the entry's setup; no shell is
# assumed, because an empty root may not have one yet).
# HB_PACKAGES is a space-separated list of validated Debian package names, so word splitting is safe.
# Lines starting with "@@ " are progress for the caller.
set -eu

say() { echo "@@ $*"; }

overlay() {
    mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3,redirect_dir=off,metacopy=off,index=off" "$4"
}

clean_env() {
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true LC_ALL=C.UTF-8 "$@"
}

# An apt-capable root: /proc and /dev for maintainer scripts, the host's resolver, and no service starts.
prepare_apt_root() {
    mount -t proc proc "$1/proc"
    mount --bind /dev "$1/dev"
    mount --bind /etc/resolv.conf "$1/etc/resolv.conf"
    printf '#!/bin/sh\nexit 101\n' > "$1/usr/sbin/policy-rc.d"
    chmod 755 "$1/usr/sbin/policy-rc.d"
}

# Like a Dockerfile's `rm -rf /var/lib/apt/lists/*`, minus the lock files that the base already has.
clean_apt_root() {
    rm -f "$1/usr/sbin/policy-rc.d"
    rm -rf "$1"/var/lib/apt/lists/*_* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb
}

overlay "$HB_BASE" "$HB_UPPER" "$HB_WORK" "$HB_MERGED"

case "$HB_MODE" in
apt)
    if [ -z "$HB_PACKAGES" ]; then
        say "no packages"
    else
        prepare_apt_root "$HB_MERGED"
        say "apt-get update"
        clean_env chroot "$HB_MERGED" apt-get update
        say "apt-get install --no-install-recommends $HB_PACKAGES"
        # shellcheck disable=SC2086
        clean_env chroot "$HB_MERGED" apt-get install -y --no-install-recommends $HB_PACKAGES
        clean_env chroot "$HB_MERGED" apt-get clean
        clean_apt_root "$HB_MERGED"
    fi
    ;;
extract)
    overlay "$HB_DEBIAN" "$HB_FETCH_UPPER" "$HB_FETCH_WORK" "$HB_FETCH_MERGED"
    prepare_apt_root "$HB_FETCH_MERGED"
    mkdir -p "$HB_FETCH_MERGED/hb-root" "$HB_FETCH_MERGED/hb-debs"
    mount --bind "$HB_MERGED" "$HB_FETCH_MERGED/hb-root"
    say "apt-get update"
    clean_env chroot "$HB_FETCH_MERGED" apt-get update
    say "apt-get download + dpkg -x $HB_PACKAGES"
    # shellcheck disable=SC2086
    clean_env chroot "$HB_FETCH_MERGED" sh -c 'cd /hb-debs && apt-get download "$@" && for deb in ./*.deb; do dpkg -x "$deb" /hb-root; done' sh $HB_PACKAGES
    ;;
*)
    echo "unknown HB_MODE '$HB_MODE'" >&2
    exit 2
    ;;
esac

if [ "$#" -gt 0 ]; then
    say "setup: $*"
    clean_env chroot "$HB_MERGED" "$@"
fi

say "done"
