#!/usr/bin/env bash
# Fetches Debian's QEMU source package and extracts it (Debian's patches
# applied) into $QEMU_SRC.  The pin in versions.env is tried first; when
# the archive has dropped it, the newest version matching $QEMU_SERIES is
# used.  A stamp records the extracted version, so a rerun is instant.
. "$(dirname "$0")/lib.sh"

DL=$DBNIC_CACHE/src/dl
STAMP=$DBNIC_CACHE/src/qemu.version

# Fast path: the pinned version is already extracted; no apt at all.
if stamp_ok "$STAMP" "$QEMU_VERSION" && [ -d "$QEMU_SRC" ]; then
	log "qemu source: $QEMU_VERSION already in $QEMU_SRC"
	exit 0
fi

"$DBNIC_TOP/scripts/apt.sh" update-if-old

# Pick the pin if the archive still has it, else the newest in the series.
ver=
best=
while read -r v; do
	[ "$v" = "$QEMU_VERSION" ] && ver=$v
	# shellcheck disable=SC2053  # QEMU_SERIES is a glob on purpose
	if [[ $v == $QEMU_SERIES ]] &&
	   { [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; }; then
		best=$v
	fi
done < <("$DBNIC_TOP/scripts/apt.sh" madison "$QEMU_PKG" |
	awk -F' *[|] *' '$3 ~ /Sources/ {print $2}')
if [ -z "$ver" ]; then
	[ -n "$best" ] || die "no $QEMU_PKG source matching $QEMU_SERIES in the archive"
	log "qemu $QEMU_VERSION is gone from the archive; using $best"
	ver=$best
fi

if stamp_ok "$STAMP" "$ver" && [ -d "$QEMU_SRC" ]; then
	log "qemu source: $ver already in $QEMU_SRC"
	exit 0
fi

# apt-get source skips files it already has (checked against the index).
dsc=$DL/${QEMU_PKG}_${ver#*:}.dsc
mkdir -p "$DL"
if [ ! -f "$dsc" ]; then
	log "downloading $QEMU_PKG=$ver source"
	(cd "$DL" && "$DBNIC_TOP/scripts/apt.sh" source --download-only "$QEMU_PKG=$ver")
fi
[ -f "$dsc" ] || die "download did not produce $dsc"

# Extract next to the old tree and swap, so a failure leaves no half tree.
log "extracting $dsc into $QEMU_SRC"
rm -rf "$QEMU_SRC.new" "$QEMU_SRC.old"
# apt already checked the files against the signed index; the .dsc's own
# signature cannot be checked without Debian's keyring, so its warning is
# noise.  --no-copy: no second copy of the 40 MB tarball.
out=$(dpkg-source --no-copy -x "$dsc" "$QEMU_SRC.new" 2>&1) ||
	{ printf '%s\n' "$out" >&2; die "dpkg-source -x failed"; }
rm -f "$STAMP"
[ ! -d "$QEMU_SRC" ] || mv "$QEMU_SRC" "$QEMU_SRC.old"
mv "$QEMU_SRC.new" "$QEMU_SRC"
rm -rf "$QEMU_SRC.old"
stamp_set "$STAMP" "$ver"
log "qemu source: $ver extracted"
