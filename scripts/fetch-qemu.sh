#!/usr/bin/env bash
# Fetches Debian's QEMU source package and extracts it (Debian's patches
# applied) into $QEMU_SRC.  The pin in versions.env is tried first; when
# the archive has dropped it (or cannot serve it), the newest version
# matching $QEMU_SERIES is used.  A stamp records the extracted version,
# so a rerun is instant and a version change re-extracts.
. "$(dirname "$0")/lib.sh"

DL=$DBNIC_CACHE/src/dl
STAMP=$DBNIC_CACHE/src/qemu.version

# Fast path: the pinned version is already extracted; no apt at all.
if stamp_ok "$STAMP" "$QEMU_VERSION" && [ -d "$QEMU_SRC" ]; then
	log "qemu source: $QEMU_VERSION already in $QEMU_SRC"
	exit 0
fi

"$DBNIC_TOP/scripts/apt.sh" update-if-old

# Candidates: the pin if the archive lists it, then the rest of the
# series, newest first.  An index may list a version its pool no longer
# serves, so a failed download moves on to the next candidate.
cands=()
pinned=0
while read -r v; do
	[ "$v" = "$QEMU_VERSION" ] && { cands=("$v" "${cands[@]}"); pinned=1; continue; }
	# shellcheck disable=SC2053  # QEMU_SERIES is a glob on purpose
	[[ $v == $QEMU_SERIES ]] || continue
	i=$pinned
	while [ "$i" -lt ${#cands[@]} ] && dpkg --compare-versions "${cands[$i]}" gt "$v"; do
		i=$((i + 1))
	done
	cands=("${cands[@]:0:i}" "$v" "${cands[@]:i}")
done < <("$DBNIC_TOP/scripts/apt.sh" madison "$QEMU_PKG" |
	awk -F' *[|] *' '$3 ~ /Sources/ {print $2}')
[ ${#cands[@]} -gt 0 ] || die "no $QEMU_PKG source matching $QEMU_SERIES in the archive"

mkdir -p "$DL"
ver=
for v in "${cands[@]}"; do
	[ "$v" = "$QEMU_VERSION" ] || log "qemu $QEMU_VERSION is not available; trying $v"
	if stamp_ok "$STAMP" "$v" && [ -d "$QEMU_SRC" ]; then
		log "qemu source: $v already in $QEMU_SRC"
		exit 0
	fi
	# apt-get source skips files it already has and completes the rest.
	log "downloading $QEMU_PKG=$v source"
	if (cd "$DL" && "$DBNIC_TOP/scripts/apt.sh" source --download-only "$QEMU_PKG=$v"); then
		ver=$v
		break
	fi
done
[ -n "$ver" ] || die "could not download any of: ${cands[*]}"
dsc=$DL/${QEMU_PKG}_${ver#*:}.dsc

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
