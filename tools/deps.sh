# Installs the Debian packages a step needs, if any is missing.
# Sourced by demo.sh and test.sh: `need_packages pkg...`.

# apt-get update, waiting up to 10 minutes while another apt-get (a second
# shell, unattended-upgrades) holds the lists lock: update does not honour
# DPkg::Lock::Timeout as install does, so it is retried.
apt_update() { # SUDO LOG
	waited=0
	until $1 apt-get update -q >"$2" 2>&1; do
		grep -q "Could not get lock" "$2" && [ "$waited" -lt 600 ] || return 1
		[ "$waited" -eq 0 ] && echo "approve-step: apt is busy (another apt-get holds its lock); waiting" >&2
		sleep 5
		waited=$((waited + 5))
	done
}

need_packages() {
	missing=""
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "approve-step: need root or sudo to install:$missing" >&2
			return 1
		}
		sudo=sudo
	fi
	echo "approve-step: installing:$missing"
	# apt's own output only when it fails, so that a failure says why.
	apt_log=$(mktemp) || return 1
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	if apt_update "$sudo" "$apt_log" &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 \
			install -y -q --no-install-recommends $missing >>"$apt_log" 2>&1; then
		rm -f "$apt_log"
		return 0
	fi
	tail -n 25 "$apt_log" >&2
	rm -f "$apt_log"
	echo "approve-step: apt-get could not install:$missing (its last lines are above)" >&2
	return 1
}

# Runs a command with its output kept aside, shown only when it fails, with
# the command: `quietly meson setup build`.
quietly() {
	quiet_log=$(mktemp) || return 1
	if "$@" >"$quiet_log" 2>&1; then
		rm -f "$quiet_log"
		return 0
	else
		quiet_rc=$?
	fi
	tail -n 40 "$quiet_log" >&2
	rm -f "$quiet_log"
	echo "approve-step: failed (exit $quiet_rc): $*" >&2
	return "$quiet_rc"
}

# What building approve-step needs (the tests are optional: libcmocka-dev is
# the unit tests' package, installed by ./test.sh).
BUILD_PACKAGES="gcc libc6-dev meson ninja-build pkg-config libcjson-dev libbearssl-dev python3"
