# shellcheck shell=bash
# The local Debian bookworm minbase image that the image test builds on and
# the fresh-machine test runs in: made once with debootstrap from this
# machine's Debian mirror, kept as a tarball and as a local podman image.
#
# The sourcing script sets: top (the repository), tmp (a scratch directory),
# cache, suite, base (the image name), and defines say(), pass() and
# abort() (tests/lib/checks.sh and its own).
# APPROVE_STEP_REBUILD_BASE=1 makes the base anew.
# shellcheck disable=SC2154 # top, tmp, cache, suite, base: set by the caller

# Containers here need the runc runtime and no default ulimits: a
# containers.conf in $tmp says so, and pm runs podman with runc.
printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' >"$tmp/containers.conf"
export CONTAINERS_CONF="$tmp/containers.conf"
pm() { podman --runtime runc "$@"; }

# The first Debian archive URI of this machine's apt entries for $suite.
mirror() {
	local d="$tmp/apt" uri
	"$top/tools/build-static.sh" --apt-sources deb "$d" >/dev/null
	uri=$(awk -v s="$suite" '$1 == "deb" { for (i = 2; i < NF; i++) if ($i !~ /^\[|\]$|=/ && $(i + 1) == s) { print $i; exit } }' "$d/approve-step.list")
	if [ -z "$uri" ]; then
		uri=$(awk -v s="$suite" '
			/^[ \t]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
			tolower($1) == "uris:" { u = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
			END { if (u != "" && ok) print u }' "$d/approve-step.sources" | head -n 1)
	fi
	printf '%s\n' "$uri"
}

make_base() {
	local tarball="$cache/$suite-minbase.tar" rootfs uri
	if [ "${APPROVE_STEP_REBUILD_BASE:-0}" = 1 ]; then
		rm -f "$tarball"
		pm rmi -f "$base" >/dev/null 2>&1 || true
	fi
	if pm image exists "$base"; then
		say "base $base (cached image)"
		return 0
	fi
	mkdir -p "$cache"
	if ! [ -s "$tarball" ]; then
		uri=$(mirror)
		[ -n "$uri" ] || {
			say "no apt entry for $suite on this machine"
			return 1
		}
		rootfs=$(mktemp -d /var/tmp/approve-step-rootfs.XXXXXX)
		say "debootstrap --variant=minbase $suite (from this machine's Debian mirror)"
		if ! debootstrap --variant=minbase "$suite" "$rootfs" "$uri" >"$tmp/debootstrap.log" 2>&1; then
			tail -n 20 "$tmp/debootstrap.log"
			rm -rf "$rootfs"
			return 1
		fi
		# The same apt entries as this machine (main, updates, security), so
		# the image build gets the same cJSON as a host build.
		rm -f "$rootfs/etc/apt/sources.list"
		"$top/tools/build-static.sh" --apt-sources deb "$rootfs/etc/apt/sources.list.d"
		rm -rf "$rootfs/var/lib/apt/lists/"* "$rootfs/var/cache/apt/"*.bin "$rootfs/var/cache/apt/archives/"*.deb
		tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
		mv "$tarball.tmp" "$tarball"
		rm -rf "$rootfs"
	fi
	say "importing $tarball as $base"
	pm import "$tarball" "$base" >/dev/null 2>&1
}

# The base, made or found: a PASS line named DESCRIPTION, else abort.
need_base() { # need_base DESCRIPTION
	if make_base; then
		pass "$1"
	else
		abort "$1"
	fi
}
