#!/bin/bash
# Build a fully static, stripped approve-step with musl.
#
#   tools/build-static.sh [--arch ARCH] OUTDIR
#                                        build OUTDIR/approve-step for ARCH
#                                        (x86_64 or aarch64; default x86_64)
#   tools/build-static.sh [--arch ARCH] --prepare
#                                        only install the tools and fetch
#                                        cJSON, BearSSL (and musl for
#                                        aarch64) into the cache
#   tools/build-static.sh --apt-sources TYPE DESTDIR
#                                        write this machine's Debian
#                                        apt entries as TYPE (deb or
#                                        deb-src) into DESTDIR
#
# This is the one recipe for the static binary: the Containerfile and CI
# both call it. It compiles every approve-step/*.c plus cJSON and BearSSL,
# taken from Debian's source packages (with Debian's patches applied), so
# the only network it needs is Debian's archive, and only on the first run.
# BearSSL is compiled once into a cached archive; the link keeps only what
# a TLS 1.2 client uses (--gc-sections).
#
# aarch64 is cross-compiled on an x86_64 machine with Debian's
# gcc-aarch64-linux-gnu and musl-dev:arm64 (the .deb is downloaded with a
# private apt state and unpacked into the cache; dpkg's architectures are not
# changed), through a musl-gcc specs file made for it.
#
# Reproducible: the same sources and Debian packages give the same bytes in
# any directory (-ffile-prefix-map, no build ID, no timestamps; strip).
#
# Environment:
#   APPROVE_STEP_CACHE    cache dir for the cJSON and BearSSL sources and
#                         BearSSL's musl archive (default OUTDIR/.cache;
#                         required with --prepare)
#   APPROVE_STEP_VERSION  version compiled in (default: from meson.build)
#   APPROVE_STEP_LINK     static-pie | static  (default: static-pie when the
#                         toolchain really produces one, else static)
#
# Tools it installs with apt-get when missing (needs root):
#   musl-tools dpkg-dev binutils file; for aarch64 also gcc-aarch64-linux-gnu
set -eu

me=build-static
say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# This script lives in tools/; the sources are in approve-step/ beside it.
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
topdir=$(dirname "$(dirname "$self")")
srcdir=$topdir/approve-step

# ---------------------------------------------------------------- apt sources

# Print the enabled Debian entries of this machine's apt configuration, as
# TYPE entries (deb or deb-src), keeping only the suites of the running
# release (CODENAME, CODENAME-updates, CODENAME-security), so third-party
# repositories and backports are left out. Two outputs: one-line entries
# (from *.list) to DESTDIR/approve-step.list, deb822 stanzas (from *.sources)
# to DESTDIR/approve-step.sources. Nothing but the Types/deb word and the
# suite list is changed; URIs, keys and options are copied as they are.
apt_sources() {
	local type=$1 dest=$2 codename="" SL="" SP="" f
	case $type in deb | deb-src) ;; *) die "--apt-sources: TYPE is deb or deb-src" ;; esac
	mkdir -p "$dest"
	if [ -r /etc/os-release ]; then
		# shellcheck disable=SC1091
		codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	fi
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
	eval "$(apt-config shell SL Dir::Etc::SourceList/f SP Dir::Etc::SourceParts/d)"
	: "${SL:=/etc/apt/sources.list}" "${SP:=/etc/apt/sources.list.d/}"

	local lists=() stanzas=()
	[ -f "$SL" ] && lists+=("$SL")
	for f in "$SP"*.list; do [ -f "$f" ] && lists+=("$f"); done
	for f in "$SP"*.sources; do [ -f "$f" ] && stanzas+=("$f"); done

	: >"$dest/approve-step.list"
	: >"$dest/approve-step.sources"
	if [ "${#lists[@]}" -gt 0 ]; then
		awk -v type="$type" -v cn="$codename" '
		function keep(s) { return s == cn || s == cn "-updates" || s == cn "-security" }
		/^[ \t]*(#|$)/ { next }
		$1 != "deb" { next }
		{
			i = 2; opts = ""
			if ($2 ~ /^\[/) {
				for (; i <= NF; i++) { opts = opts (opts == "" ? "" : " ") $i; if ($i ~ /\]$/) { i++; break } }
			}
			uri = $i; suite = $(i + 1)
			if (!keep(suite)) next
			line = type (opts == "" ? "" : " " opts) " " uri " " suite
			for (j = i + 2; j <= NF; j++) line = line " " $j
			if (!(line in seen)) { seen[line] = 1; print line }
		}' "${lists[@]}" >>"$dest/approve-step.list"
	fi
	if [ "${#stanzas[@]}" -gt 0 ]; then
		awk -v type="$type" -v cn="$codename" '
		function keep(s) { return s == cn || s == cn "-updates" || s == cn "-security" }
		function flush(   k, t, n, a, found, suites, out) {
			if (nf == 0) return
			t = " " val["types"] " "; gsub(/[ \t\n]+/, " ", t)
			found = (t ~ / deb /) && tolower(val["enabled"]) !~ /no/
			suites = ""
			n = split(val["suites"], a, /[ \t\n]+/)
			for (k = 1; k <= n; k++) if (a[k] != "" && keep(a[k])) suites = suites (suites == "" ? "" : " ") a[k]
			if (found && suites != "") {
				out = "Types: " type "\n"
				for (k = 1; k <= nf; k++) {
					if (name[k] == "types" || name[k] == "suites") continue
					out = out raw[k] "\n"
				}
				out = out "Suites: " suites "\n"
				print out
			}
			nf = 0; delete val
		}
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { raw[nf] = raw[nf] "\n" $0; val[name[nf]] = val[name[nf]] "\n" $0; next }
		{
			nf++; raw[nf] = $0
			k = index($0, ":"); name[nf] = tolower(substr($0, 1, k - 1))
			val[name[nf]] = substr($0, k + 1)
		}
		END { flush() }' "${stanzas[@]}" >>"$dest/approve-step.sources"
	fi
	if ! [ -s "$dest/approve-step.list" ] && ! [ -s "$dest/approve-step.sources" ]; then
		die "no enabled apt entry for $codename found in $SL or $SP"
	fi
}

# ---------------------------------------------------------------- tools

install_deps() {
	local missing=()
	command -v musl-gcc >/dev/null || missing+=(musl-tools)
	command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
	if ! command -v readelf >/dev/null || ! command -v strip >/dev/null; then
		missing+=(binutils)
	fi
	command -v file >/dev/null || missing+=(file)
	if [ "$arch" = aarch64 ]; then
		command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
	fi
	[ "${#missing[@]}" -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})"
	say "installing ${missing[*]}"
	apt-get -q update
	DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------- sources

# Unpack Debian's source package PKG (patches applied) into $cache/PKG,
# once; FILE is a file its tree must hold. Uses a private apt state with
# deb-src entries derived from this machine's apt entries; the system's
# apt configuration is not touched.
fetch_source() {
	local cache=$1 pkg=$2 file=$3
	if [ -f "$cache/$pkg/$file" ] && [ -f "$cache/$pkg/.debian-version" ]; then
		return 0
	fi
	command -v apt-get >/dev/null || die "apt-get is needed to fetch $pkg's source"
	mkdir -p "$cache"
	# apt reads relative Dir:: paths against /etc/apt: make it absolute.
	cache=$(cd "$cache" && pwd)
	local work
	work=$(mktemp -d "$cache/fetch.XXXXXX")
	mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
	: >"$work/empty.list"
	apt_sources deb-src "$work/sources.list.d"
	local apt=(apt-get -q
		-o "Dir::Etc::SourceList=$work/empty.list"
		-o "Dir::Etc::SourceParts=$work/sources.list.d"
		-o "Dir::State::Lists=$work/lists"
		-o "Dir::Cache=$work/cache"
		-o "APT::Sandbox::User=root")
	say "fetching Debian's $pkg source package"
	"${apt[@]}" update >"$work/update.log" 2>&1 || {
		cat "$work/update.log" >&2
		die "apt-get update (deb-src) failed"
	}
	(cd "$work/src" && "${apt[@]}" source "$pkg") >"$work/source.log" 2>&1 || {
		cat "$work/source.log" >&2
		die "apt-get source $pkg failed"
	}
	local dsc tree
	dsc=$(find "$work/src" -maxdepth 1 -name "${pkg}_*.dsc" | head -n 1)
	tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n 1)
	if [ -z "$dsc" ] || [ -z "$tree" ] || ! [ -f "$tree/$file" ]; then
		die "apt-get source $pkg gave no $file"
	fi
	basename "$dsc" .dsc | sed "s/^${pkg}_//" >"$tree/.debian-version"
	rm -rf "${cache:?}/$pkg"
	mv "$tree" "$cache/$pkg"
	rm -rf "$work"
	say "$pkg $(cat "$cache/$pkg/.debian-version") cached in $cache/$pkg"
}

fetch_sources() {
	fetch_source "$1" cjson cJSON.c
	fetch_source "$1" bearssl inc/bearssl.h
	if [ "$arch" = aarch64 ]; then fetch_musl_cross "$1"; fi
}

# Debian's musl-dev for arm64 (headers, libc.a, crt files) unpacked into
# $cache/musl-aarch64, once, with a specs file that points aarch64-linux-gnu-gcc
# at it the way musl-tools' musl-gcc.specs does for the host. The .deb comes
# from this machine's Debian archive through a private apt state.
fetch_musl_cross() {
	local cache=$1 dest work deb
	mkdir -p "$cache"
	cache=$(cd "$cache" && pwd)
	dest=$cache/musl-aarch64
	if [ -f "$dest/musl-gcc.specs" ] && [ -f "$dest/.debian-version" ]; then
		return 0
	fi
	work=$(mktemp -d "$cache/fetch.XXXXXX")
	mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
	: >"$work/empty.list"
	apt_sources deb "$work/sources.list.d"
	local apt=(apt-get -q
		-o "Dir::Etc::SourceList=$work/empty.list"
		-o "Dir::Etc::SourceParts=$work/sources.list.d"
		-o "Dir::State::Lists=$work/lists"
		-o "Dir::Cache=$work/cache"
		-o "APT::Architecture=arm64" -o "APT::Architectures::=arm64"
		-o "APT::Sandbox::User=root")
	say "fetching Debian's musl-dev:arm64"
	"${apt[@]}" update >"$work/update.log" 2>&1 || {
		cat "$work/update.log" >&2
		die "apt-get update (arm64) failed"
	}
	(cd "$work/deb" && "${apt[@]}" download musl-dev:arm64) >"$work/download.log" 2>&1 || {
		cat "$work/download.log" >&2
		die "apt-get download musl-dev:arm64 failed"
	}
	deb=$(find "$work/deb" -maxdepth 1 -name 'musl-dev_*_arm64.deb' | head -n 1)
	[ -n "$deb" ] || die "apt-get download musl-dev:arm64 gave no .deb"
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg-deb -x "$deb" "$dest"
	[ -f "$dest/usr/lib/aarch64-linux-musl/libc.a" ] || die "musl-dev:arm64 has no libc.a"
	dpkg-deb -f "$deb" Version >"$dest/.debian-version"
	local inc=$dest/usr/include/aarch64-linux-musl lib=$dest/usr/lib/aarch64-linux-musl
	cat >"$dest/musl-gcc.specs" <<EOF
%rename cpp_options old_cpp_options

*cpp_options:
-nostdinc -isystem $inc -isystem include%s %(old_cpp_options)

*cc1:
%(cc1_cpu) -nostdinc -isystem $inc -isystem include%s

*link_libgcc:
-L$lib -L .%s

*libgcc:
libgcc.a%s %:if-exists(libgcc_eh.a%s)

*startfile:
%{!shared: $lib/Scrt1.o} $lib/crti.o crtbeginS.o%s

*endfile:
crtendS.o%s $lib/crtn.o

*link:
-dynamic-linker /lib/ld-musl-aarch64.so.1 -nostdlib %{shared:-shared} %{static:-static} %{rdynamic:-export-dynamic}
EOF
	rm -rf "$work"
	say "musl-dev:arm64 $(cat "$dest/.debian-version") cached in $dest"
}

# The compiler for $arch: musl-gcc, or the cross compiler with the specs
# above. Sets the array cc.
set_cc() {
	case $arch in
	x86_64) cc=(musl-gcc) ;;
	aarch64) cc=(aarch64-linux-gnu-gcc -specs "$1/musl-aarch64/musl-gcc.specs") ;;
	esac
}

# BearSSL's sources compiled with musl into $cache/bearssl-musl-ARCH/libbearssl.a,
# once per set of flags (a few hundred small files: about a minute).
build_bearssl() {
	local cache=$1 out=$1/bearssl-musl-$arch key
	key=$({
		printf '%s\n' "$arch" "${cflags[@]}"
		"${cc[@]}" --version | head -n 1
		cat "$cache/musl-aarch64/.debian-version" 2>/dev/null || true
		cat "$cache/bearssl/.debian-version"
	} | sha256sum | cut -d' ' -f1)
	if [ -f "$out/libbearssl.a" ] && [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	say "compiling BearSSL $(cat "$cache/bearssl/.debian-version") with musl for $arch"
	rm -rf "$out"
	mkdir -p "$out/obj"
	find "$cache/bearssl/src" -name '*.c' | sort >"$out/sources"
	# Third-party code: its warnings stay visible but do not fail.
	xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c '
		src=$1 o="$0/obj/$(printf %s "$1" | sed "s|.*/src/||; s|/|_|g; s|\.c$|.o|")"
		shift
		exec "$@" -c "$src" -o "$o"
	' "$out" {} "${cc[@]}" "${cflags[@]}" -I"$cache/bearssl/inc" -I"$cache/bearssl/src" <"$out/sources" ||
		die "compiling BearSSL failed"
	# Deterministic archive (D: zero times, uids and modes), sorted members.
	(cd "$out/obj" && find . -name '*.o' | LC_ALL=C sort | xargs ar rcsD ../libbearssl.a)
	rm -rf "$out/obj"
	printf '%s\n' "$key" >"$out/key"
}

# ---------------------------------------------------------------- toolchain

# The directory of musl's crt files, from the musl-gcc wrapper's specs.
musl_libdir() {
	local specs
	if [ "$arch" = aarch64 ]; then
		printf '%s\n' "$cache/musl-aarch64/usr/lib/aarch64-linux-musl"
		return 0
	fi
	specs=$(sed -n 's/.*-specs "\{0,1\}\([^" ]*musl-gcc\.specs\).*/\1/p' "$(command -v musl-gcc)" | head -n 1)
	if [ -n "$specs" ] && [ -f "$specs" ]; then
		dirname "$specs"
	else
		printf '/usr/lib/%s\n' "$(gcc -dumpmachine | sed 's/-gnu[a-z]*$/-musl/')"
	fi
}

# Link "$@" (objects) into $out as a static PIE. Debian's musl-gcc specs
# always link Scrt1.o with a dynamic linker request, so `musl-gcc
# -static-pie` alone yields a dynamic PIE needing /lib/ld-musl-*.so.1 and
# libc.so. A static PIE needs musl's self-relocating rcrt1.o and no
# interpreter, so the start files are named here explicitly.
link_static_pie() {
	local out=$1 libdir
	shift
	libdir=$(musl_libdir)
	[ -f "$libdir/rcrt1.o" ] || return 1
	"${cc[@]}" -static-pie -nostartfiles "${ldflags[@]}" \
		-Wl,-static -Wl,--no-dynamic-linker -Wl,-z,text \
		-o "$out" \
		"$libdir/rcrt1.o" "$libdir/crti.o" "$("${cc[@]}" -print-file-name=crtbeginS.o)" \
		"$@" \
		"$("${cc[@]}" -print-file-name=crtendS.o)" "$libdir/crtn.o"
}

link_static() {
	local out=$1
	shift
	"${cc[@]}" -static -no-pie "${ldflags[@]}" -o "$out" "$@"
}

# True when $1 is an ELF file with no program interpreter and no NEEDED.
is_static_elf() {
	local h
	h=$(readelf -ldW "$1" 2>/dev/null) || return 1
	! printf '%s\n' "$h" | grep -q -e 'INTERP' -e '(NEEDED)'
}

# Decide between static-pie and static: build a probe that uses the stack
# protector and must run; keep static-pie only if the result is really
# static and works.
choose_link() {
	local dir=$1
	case ${APPROVE_STEP_LINK:-} in
	static | static-pie)
		printf '%s\n' "$APPROVE_STEP_LINK"
		return 0
		;;
	"") ;;
	*) die "APPROVE_STEP_LINK must be static-pie or static" ;;
	esac
	cat >"$dir/probe.c" <<'EOF'
#include <stdio.h>
#include <string.h>
static int probe_data = 42;
int main(int argc, char **argv)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s:%d", argc > 1 ? argv[1] : "ok", probe_data);
	return strcmp(buf, "ok:42") != 0;
}
EOF
	# A cross build runs the probe under qemu when it is there.
	local run=()
	if [ "$arch" = aarch64 ] && [ "$(uname -m)" != aarch64 ]; then
		if command -v qemu-aarch64-static >/dev/null; then run=(qemu-aarch64-static); else run=(true); fi
	fi
	if "${cc[@]}" "${cflags[@]}" -c "$dir/probe.c" -o "$dir/probe.o" 2>"$dir/probe.log" &&
		link_static_pie "$dir/probe" "$dir/probe.o" 2>>"$dir/probe.log" &&
		is_static_elf "$dir/probe" && "${run[@]}" "$dir/probe"; then
		printf 'static-pie\n'
	else
		say "static-pie not usable here ($(tr '\n' ' ' <"$dir/probe.log" | cut -c1-200)); linking with -static"
		printf 'static\n'
	fi
}

# ---------------------------------------------------------------- build

version() {
	if [ -n "${APPROVE_STEP_VERSION:-}" ]; then
		printf '%s\n' "$APPROVE_STEP_VERSION"
	elif [ -f "$topdir/meson.build" ]; then
		sed -n "s/.*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" "$topdir/meson.build" | head -n 1
	fi
}

# A digest of everything the binary is made from: this script, the sources,
# cJSON, the version, the link mode and the toolchain.
build_inputs() {
	local cache=$1 ver=$2
	{
		printf 'arch=%s version=%s link=%s\n' "$arch" "$ver" "${APPROVE_STEP_LINK:-auto}"
		"${cc[@]}" --version | head -n 1
		dpkg-query -W -f='${Version}\n' musl-dev 2>/dev/null || true
		sha256sum <"$self"
		cd "$srcdir" && sha256sum ./*.c ./*.h 2>/dev/null
		cd "$cache/cjson" && sha256sum cJSON.c cJSON.h .debian-version
		cat "$cache/bearssl-musl-$arch/key"
	} | sha256sum | cut -d' ' -f1
}

build() {
	local outdir=$1 cache=$2 ver
	mkdir -p "$outdir"
	outdir=$(cd "$outdir" && pwd)
	local work="$outdir/.build" stamp="$outdir/.approve-step.stamp" inputs
	ver=$(version)

	cflags=(-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pipe
		-fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2
		-fPIE -ffunction-sections -fdata-sections
		"-ffile-prefix-map=$topdir=." "-ffile-prefix-map=$cache=.")
	ldflags=("-Wl,-z,relro" "-Wl,-z,now" "-Wl,-z,noexecstack" "-Wl,--gc-sections"
		"-Wl,--build-id=none" -s)
	set_cc "$cache"
	build_bearssl "$cache"

	# Nothing to do when the inputs and the result are as last time.
	inputs=$(build_inputs "$cache" "$ver")
	if [ -f "$outdir/approve-step" ] && [ -f "$stamp" ] &&
		[ "$(cat "$stamp")" = "$inputs $(sha256sum <"$outdir/approve-step" | cut -d' ' -f1)" ]; then
		say "$outdir/approve-step is up to date"
		return 0
	fi
	rm -f "$stamp"
	rm -rf "$work"
	mkdir -p "$work/include/cjson" "$work/obj"

	cp "$cache/cjson/cJSON.h" "$work/include/cjson/cJSON.h"
	cp "$cache/bearssl/inc/"*.h "$work/include/"


	local link
	link=$(choose_link "$work")

	[ -n "$ver" ] || say "warning: no version (set APPROVE_STEP_VERSION); the binary will say 'unknown'"

	# cJSON is third-party C89 code: warnings stay visible but do not fail.
	# The scratch directory is inside OUTDIR: map it too, so that where the
	# build ran leaves no trace in the binary.
	local here=("-ffile-prefix-map=$work=.")
	"${cc[@]}" "${cflags[@]}" "${here[@]}" -Wall -c "$cache/cjson/cJSON.c" -o "$work/obj/cJSON.o"

	local c objs=("$work/obj/cJSON.o") n=0
	for c in "$srcdir"/*.c; do
		[ -f "$c" ] || continue
		n=$((n + 1))
		"${cc[@]}" "${cflags[@]}" "${here[@]}" -Wall -Wextra -Werror \
			${ver:+"-DAPPROVE_STEP_VERSION=\"$ver\""} \
			-I"$srcdir" -I"$work/include" -I"$work/include/cjson" \
			-c "$c" -o "$work/obj/$(basename "$c" .c).o"
		objs+=("$work/obj/$(basename "$c" .c).o")
	done
	[ "$n" -gt 0 ] || die "no C sources in $srcdir"

	objs+=("$cache/bearssl-musl-$arch/libbearssl.a")
	if [ "$link" = static-pie ]; then
		link_static_pie "$work/approve-step" "${objs[@]}"
	else
		link_static "$work/approve-step" "${objs[@]}"
	fi
	local strip_prog=strip
	[ "$arch" = x86_64 ] || strip_prog=aarch64-linux-gnu-strip
	"$strip_prog" --strip-all -R .comment "$work/approve-step"
	is_static_elf "$work/approve-step" || die "the result is not static"

	mv -f "$work/approve-step" "$outdir/approve-step"
	rm -rf "$work"
	printf '%s %s\n' "$inputs" "$(sha256sum <"$outdir/approve-step" | cut -d' ' -f1)" >"$stamp"
	say "built $outdir/approve-step ($arch, $link, $(stat -c %s "$outdir/approve-step") bytes, ${ver:-unknown}, cJSON $(cat "$cache/cjson/.debian-version" 2>/dev/null || echo '?'), BearSSL $(cat "$cache/bearssl/.debian-version" 2>/dev/null || echo '?'))"
	say "$(file -b "$outdir/approve-step")"
}

# ---------------------------------------------------------------- main

usage() {
	sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

cflags=()
ldflags=()
cc=()
arch=x86_64
if [ "${1:-}" = --arch ]; then
	[ $# -ge 2 ] || usage
	case $2 in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=aarch64 ;;
	*)
		say "error: --arch is x86_64 or aarch64 (got '$2')"
		exit 2
		;;
	esac
	shift 2
fi
case ${1:-} in
--apt-sources)
	[ $# -eq 3 ] || usage
	apt_sources "$2" "$3"
	;;
--prepare)
	[ $# -eq 1 ] || usage
	[ -n "${APPROVE_STEP_CACHE:-}" ] || die "--prepare needs APPROVE_STEP_CACHE"
	install_deps
	fetch_sources "$APPROVE_STEP_CACHE"
	;;
"" | -*) usage ;;
*)
	[ $# -eq 1 ] || usage
	cache=${APPROVE_STEP_CACHE:-$1/.cache}
	install_deps
	fetch_sources "$cache"
	cache=$(cd "$cache" && pwd)
	build "$1" "$cache"
	;;
esac
