#!/bin/bash
# The Debian package: cpack -G DEB from the build directory, its contents listed (command, shim,
# man page, docs; the case programs off PATH), then unpacked into a scratch root whose forksan
# must find its own shim and report a case.  Skips (77) without cpack or dpkg-deb.
#
# usage: package.sh BUILD_DIR
set -u
build=$1
command -v cpack >/dev/null && command -v dpkg-deb >/dev/null || {
    echo "SKIP: cpack or dpkg-deb missing"
    exit 77
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/forksan-deb.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
failed=0
check() { # NAME COMMAND...
    local name=$1
    shift
    if "$@"; then echo "ok - $name"; else echo "not ok - $name"; failed=1; fi
}
(cd "$build" && cpack -G DEB -B "$WORK/out" >"$WORK/cpack.log" 2>&1)
deb=$(ls "$WORK"/out/forksan_*.deb 2>/dev/null | head -1)
check "cpack -G DEB made a package" test -n "$deb"
[ -n "$deb" ] || { tail -20 "$WORK/cpack.log"; exit 1; }
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#' >"$WORK/contents"
dpkg-deb -f "$deb" Depends >"$WORK/depends"
for f in /usr/bin/forksan /usr/lib/forksan/libforksan.so /usr/share/man/man1/forksan.1 \
    /usr/share/doc/forksan/README.md /usr/share/doc/forksan/report-json.md \
    /usr/libexec/forksan/cases/mutex_held /usr/share/forksan/cases/mutex_held.c; do
    check "the package holds $f" grep -qx "$f" "$WORK/contents"
done
check "no case program on PATH (/usr/bin holds forksan only)" \
    eval '[ "$(grep -c "^/usr/bin/." "$WORK/contents")" -eq 1 ]'
check "the package depends on the libraries it links (libdw, libjansson)" \
    eval 'grep -q libdw "$WORK/depends" && grep -q libjansson "$WORK/depends"'
dpkg-deb -x "$deb" "$WORK/root"
out=$(cd / && env -u FORKSAN_LIB "$WORK/root/usr/bin/forksan" run --fail-on never \
    -- "$WORK/root/usr/libexec/forksan/cases/forker_holds" 2>&1)
check "the unpacked forksan finds its shim and reports a case" grep -q "lock-held-by-forker" <<<"$out"
check "the unpacked forksan --version" eval '"$WORK/root/usr/bin/forksan" --version | grep -q "^forksan "'
[ "$failed" -eq 0 ]
