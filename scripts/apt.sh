#!/usr/bin/env bash
# A private apt configuration under the cache: its own sources list and
# lists directory, so /etc/apt is never edited.  It adds the suites the
# build needs on top of the system's own: bookworm-backports (meson,
# pycotap, linux-source-6.12, linux-headers) and trixie deb-src (QEMU 10.0,
# rdma-core 56.1).  The mirror is the one the system already uses.
#
#   scripts/apt.sh update            refresh the private lists
#   scripts/apt.sh install PKG...    install packages (as root / sudo)
#   scripts/apt.sh source ARGS...    apt-get source into the cwd
#   scripts/apt.sh download PKG...   apt-get download .debs into the cwd
#                                    (not installed; the guest image's
#                                    rdma tools, scripts/build-rdma-core.sh)
#   scripts/apt.sh policy PKG...     apt-cache policy
. "$(dirname "$0")/lib.sh"

APTDIR=$DBNIC_CACHE/apt
mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/empty.d"

system_mirror() {
	local uri
	# Each probe may find nothing (grep then fails); the next one tries.
	# shellcheck disable=SC2016  # $(REPO_URI) is apt's template, not ours
	uri=$({ apt-get indextargets --format '$(REPO_URI)' 2>/dev/null || true; } |
		{ grep -v -e security -e nodesource -e google || true; } | head -n1)
	[ -n "$uri" ] || uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n 's/^URIs:[[:space:]]*//p' | { grep -v security || true; } | head -n1)
	[ -n "$uri" ] || uri=$({ awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' \
		/etc/apt/sources.list 2>/dev/null || true; })
	[ -n "$uri" ] || die "cannot find the system's Debian mirror in /etc/apt"
	printf '%s\n' "${uri%/}"
}

write_sources() {
	local m sec
	m=$(system_mirror)
	sec=${m%/debian}/debian-security
	cat > "$APTDIR/sources.list.new" <<EOT
deb $m bookworm main
deb $m bookworm-updates main
deb $sec bookworm-security main
deb $m bookworm-backports main
deb-src $m trixie main
deb-src $m trixie-updates main
deb-src $sec trixie-security main
EOT
	mv "$APTDIR/sources.list.new" "$APTDIR/sources.list"
	# Backports never win by default; we ask for them per package.
	cat > "$APTDIR/preferences" <<EOT
Package: *
Pin: release a=bookworm-backports
Pin-Priority: 100
EOT
}

APT_OPTS=(
	-o "Dir::Etc::SourceList=$APTDIR/sources.list"
	-o "Dir::Etc::SourceParts=$APTDIR/empty.d"
	-o "Dir::Etc::Preferences=$APTDIR/preferences"
	-o "Dir::Etc::PreferencesParts=$APTDIR/empty.d"
	-o "Dir::State::Lists=$APTDIR/lists"
	-o "Dir::Cache::Archives=$APTDIR/archives"
	-o "APT::Get::List-Cleanup=0"
	# The cache may be in root's home, which _apt cannot enter.
	-o "APT::Sandbox::User=root"
)

cmd=${1:-}; shift || true
case "$cmd" in
update)
	write_sources
	as_root apt-get "${APT_OPTS[@]}" -q update
	date +%s > "$APTDIR/updated"
	;;
update-if-old)
	# Refresh once a day at most.
	if [ ! -f "$APTDIR/updated" ] ||
	   [ $(( $(date +%s) - $(cat "$APTDIR/updated") )) -gt 86400 ]; then
		"$0" update
	fi
	;;
install)
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get "${APT_OPTS[@]}" -q -y --no-install-recommends install "$@"
	;;
source)
	apt-get "${APT_OPTS[@]}" -q source "$@"
	;;
download)
	apt-get "${APT_OPTS[@]}" -q download "$@"
	;;
policy)
	apt-cache "${APT_OPTS[@]}" policy "$@"
	;;
madison)
	apt-cache "${APT_OPTS[@]}" madison "$@"
	;;
*)
	die "usage: $0 update|update-if-old|install|source|download|policy|madison ..."
	;;
esac
