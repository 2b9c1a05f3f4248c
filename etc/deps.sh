#!/bin/sh
#
# Install what signerd needs to build, test and run; called by `make deps`
# (and so by `make check` and `make run`).  Quiet when everything is there.
#
# Debian: missing packages are installed with apt-get when run as root,
# otherwise the command to run is printed and the exit status is 1.  The
# system users _signerd (engine, frontend) and _signerd_hsm (signer
# children, which must not read the keystore) and /var/empty are created
# the same way.
# While another apt-get or dpkg holds the dpkg lock (an unattended
# upgrade, say), it waits for it, up to DEPS_LOCK_WAIT seconds (600),
# saying so, rather than failing.
# Elsewhere: exits 0 if pkg-config finds libevent and OpenSSL, else prints
# what to install and exits 1.

set -u

DEBIAN_PKGS="build-essential pkg-config byacc libbsd-dev libevent-dev
libssl-dev libseccomp-dev libsqlite3-dev libp11-kit-dev libp11-dev
libatf-dev atf-sh kyua softhsm2 opensc openssl python3-pykmip mandoc clang
sqlite3 dpkg-dev debhelper python3-prometheus-client gnuplot-nox"
USER_NAMES="_signerd _signerd_hsm"
EMPTY_DIR=/var/empty

uid=$(id -u)
rc=0
said=0

say()
{
	echo "deps: $*"
	said=1
}

debian_missing()
{
	missing=
	for p in $DEBIAN_PKGS; do
		st=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)
		[ "$st" = installed ] || missing="$missing $p"
	done
	echo "${missing# }"
}

# Whether a process holds a POSIX lock on one of the files of dpkg and
# apt (dpkg and apt-get take them with fcntl(2), so flock(1) cannot tell).
dpkg_locked()
{
	for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock \
	    /var/lib/apt/lists/lock /var/cache/apt/archives/lock; do
		[ -e "$f" ] || continue
		ino=$(stat -c %i "$f") || continue
		awk -v ino="$ino" '{ n = split($6, a, ":"); if (a[n] == ino)
		    found = 1 } END { exit !found }' /proc/locks && return 0
	done
	return 1
}

# Wait, bounded, until nobody holds the dpkg lock; 1 if still held.
dpkg_wait()
{
	waited=0
	limit=${DEPS_LOCK_WAIT:-600}
	while dpkg_locked; do
		if [ "$waited" -ge "$limit" ]; then
			say "the dpkg lock is still held after $limit s; try" \
			    "again later"
			return 1
		fi
		[ $((waited % 30)) -eq 0 ] &&
		    say "waiting for the dpkg lock (another apt-get or" \
		    "dpkg runs; at most $((limit - waited)) s more)"
		sleep 5
		waited=$((waited + 5))
	done
	return 0
}

debian_packages()
{
	missing=$(debian_missing)
	[ -z "$missing" ] && return 0
	if [ "$uid" -ne 0 ]; then
		say "missing packages; as root run:"
		echo "apt-get update && DEBIAN_FRONTEND=noninteractive" \
		    "apt-get install -y --no-install-recommends $missing"
		rc=1
		return 1
	fi
	say "installing $missing"
	# The lock may be taken between the wait and apt-get: apt-get then
	# waits for it itself (DPkg::Lock::Timeout), as long again.
	dpkg_wait || { rc=1; return 1; }
	apt-get -o DPkg::Lock::Timeout="${DEPS_LOCK_WAIT:-600}" update ||
	    { rc=1; return 1; }
	dpkg_wait || { rc=1; return 1; }
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get \
	    -o DPkg::Lock::Timeout="${DEPS_LOCK_WAIT:-600}" install -y \
	    --no-install-recommends $missing || { rc=1; return 1; }
	missing=$(debian_missing)
	if [ -n "$missing" ]; then
		say "still missing after apt-get: $missing"
		rc=1
		return 1
	fi
}

system_user()
{
	id "$1" >/dev/null 2>&1 && return 0
	cmd="useradd --system --no-create-home --home-dir $EMPTY_DIR"
	cmd="$cmd --shell /usr/sbin/nologin --user-group $1"
	if [ "$uid" -ne 0 ]; then
		say "no user $1; as root run:"
		echo "$cmd"
		rc=1
		return 1
	fi
	say "creating user $1"
	$cmd || { rc=1; return 1; }
}

empty_dir()
{
	[ -d "$EMPTY_DIR" ] && return 0
	if [ "$uid" -ne 0 ]; then
		say "no $EMPTY_DIR; as root run:"
		echo "install -d -o root -g root -m 0755 $EMPTY_DIR"
		rc=1
		return 1
	fi
	say "creating $EMPTY_DIR"
	install -d -o root -g root -m 0755 "$EMPTY_DIR" || { rc=1; return 1; }
}

other_system()
{
	if pkg-config --exists libevent openssl 2>/dev/null; then
		echo "deps: libevent and openssl found (not Debian: nothing" \
		    "else checked)"
		return 0
	fi
	cat <<'EOF'
deps: not Debian; install with your package manager:
	a C compiler, make, pkg-config, byacc (or yacc)
	libevent 2, OpenSSL 3, SQLite 3, p11-kit headers (pkcs11.h)
	libbsd and libseccomp (Linux only)
	ATF (atf-c, atf-sh) and kyua, for make check
	SoftHSM2, OpenSC (pkcs11-tool), PyKMIP, for the tests
	mandoc, for the manual pages
deps: and users _signerd and _signerd_hsm (home /var/empty, no shell),
deps: each with a group of its own, plus /var/empty
deps: pkg-config does not find libevent and openssl
EOF
	return 1
}

if [ ! -f /etc/debian_version ]; then
	other_system
	exit $?
fi

command -v dpkg-query >/dev/null 2>&1 || {
	echo "deps: /etc/debian_version exists but dpkg-query does not"
	exit 1
}

debian_packages
for u in $USER_NAMES; do
	system_user "$u"
done
empty_dir

[ $rc -eq 0 ] && [ $said -eq 0 ] && echo "deps: all present"
exit $rc
