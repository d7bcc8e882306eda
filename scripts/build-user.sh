#!/usr/bin/env bash
# Builds the user-space library and tool (user/): libdbnic.a and a static
# dbnic-tool for the busybox-only guest, and the guest tests' test program
# dbnic-test-tool (tests/user/), into $DBNIC_CACHE/build/user.
# make rebuilds only what changed, so a warm run takes well under a second.
#
#   scripts/build-user.sh          build
#   scripts/build-user.sh clean    remove the build
. "$(dirname "$0")/lib.sh"

USER_BUILD=$DBNIC_CACHE/build/user
mkdir -p "$USER_BUILD"
if [ "${1:-}" = clean ]; then
	make -s -C "$DBNIC_TOP/user" O="$USER_BUILD" clean
	exit 0
fi
make -s -C "$DBNIC_TOP/user" O="$USER_BUILD" -j"$JOBS"
log "built $USER_BUILD/dbnic-tool and dbnic-test-tool"
