#!/bin/sh
# Installs the kubectl plugin and its console:
#
#   tools/install-plugin.sh [PREFIX]      PREFIX defaults to /usr/local
#
#   PREFIX/bin/kubectl-approve                  the plugin (kubectl approve)
#   PREFIX/share/approve-step/console/*         the page of `kubectl approve ui`
#
# `ui` finds the console from PREFIX/bin through ../share/approve-step/console.
# PREFIX/bin must be on PATH for kubectl to find the plugin. Files of an
# earlier install are replaced; the console folder is emptied first, so
# that no file of an older console stays behind.
set -eu
top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
prefix=${1:-/usr/local}
[ $# -le 1 ] || { echo "usage: tools/install-plugin.sh [PREFIX]" >&2; exit 2; }
case $prefix in
'' | -*) echo "usage: tools/install-plugin.sh [PREFIX]  (PREFIX: a directory, default /usr/local)" >&2; exit 2 ;;
esac
[ -f "$top/plugin/console/index.html" ] || { echo "install-plugin.sh: no plugin/console/index.html in $top" >&2; exit 1; }
console=$prefix/share/approve-step/console
install -d -m 0755 "$prefix/bin" "$console"
rm -f "$console"/*
install -m 0755 "$top/plugin/kubectl-approve" "$prefix/bin/kubectl-approve"
for f in "$top"/plugin/console/*; do
	[ -f "$f" ] && install -m 0644 "$f" "$console/"
done
echo "installed $prefix/bin/kubectl-approve and $console/"
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "note: $prefix/bin is not on PATH; kubectl finds plugins on PATH only" >&2 ;;
esac
