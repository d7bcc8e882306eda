#!/usr/bin/env bash
# The demo: builds what is missing, boots a QEMU guest with one dbnic
# device, loads the driver, shows its capability line and runs NOP and
# copy descriptors through the ring and priority paths, then powers off.
#
#   scripts/demo.sh            run the demo and exit
#   scripts/demo.sh --shell    stay at a guest shell with the driver loaded
#                              (leave with "exit", or ctrl-a x)
. "$(dirname "$0")/lib.sh"

shell=()
case "${1:-}" in
--shell) shell=(--shell) ;;
'') ;;
*) die "usage: $0 [--shell]" ;;
esac

"$DBNIC_TOP/scripts/build-all.sh"

dbnic_ko_adds "$MODULE_BUILD"
exec "$DBNIC_TOP/scripts/run-guest.sh" --dbnic 1 --timeout 600 "${shell[@]}" \
	"${KO_ADDS[@]}" \
	--add "$DBNIC_TOP/tests/guest/lib.sh:/dbnic/lib.sh" \
	--add "$DBNIC_CACHE/build/user/dbnic-tool:/dbnic/dbnic-tool" \
	--script "$DBNIC_TOP/tests/guest/demo.sh"
