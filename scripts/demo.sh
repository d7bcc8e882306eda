#!/usr/bin/env bash
# The demo: builds what is missing, boots two QEMU guests with one dbnic
# each on one network (run-guest.sh --guests 2 --nic dbnic), loads the
# driver; guest 0 shows its capability line and runs NOP and copy
# descriptors through the ring and priority paths; then the two ping
# each other and send 4 MiB through nc with the sha256 of both ends
# compared, and guest 0's ethtool -S shows its frames sent inline from
# the priority area; then they power off.  Each guest's lines come with
# a "gI| " prefix.
#
#   scripts/demo.sh            run the demo and exit
#   scripts/demo.sh --shell    one guest only, then a shell in it with the
#                              driver loaded (leave with "exit", or ctrl-a x)
. "$(dirname "$0")/lib.sh"

shell=() guests=(--guests 2 --nic dbnic)
case "${1:-}" in
--shell) shell=(--shell) guests=() ;;
'') ;;
*) die "usage: $0 [--shell]" ;;
esac

"$DBNIC_TOP/scripts/build-all.sh"

dbnic_ko_adds "$MODULE_BUILD"
exec "$DBNIC_TOP/scripts/run-guest.sh" --dbnic 1 --timeout 600 "${shell[@]}" "${guests[@]}" \
	"${KO_ADDS[@]}" \
	--add "$DBNIC_TOP/tests/guest/lib.sh:/dbnic/lib.sh" \
	--add "$DBNIC_TOP/tests/guest/net-lib.sh:/dbnic/net-lib.sh" \
	--add "$DBNIC_CACHE/build/user/dbnic-tool:/dbnic/dbnic-tool" \
	--script "$DBNIC_TOP/tests/guest/demo.sh"
