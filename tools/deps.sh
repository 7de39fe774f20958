# Installs the Debian packages a step needs, if any is missing.
# Sourced by demo.sh and test.sh: `need_packages pkg...`.

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
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	$sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends $missing >/dev/null
}

# What building approve-step needs.
BUILD_PACKAGES="gcc libc6-dev meson ninja-build pkg-config libcjson-dev python3"
