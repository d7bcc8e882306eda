#!/usr/bin/env python3
"""List or cut a pcap of RoCEv2 traffic, e.g. one that
scripts/run-guest.sh --pcap recorded during tests/guest/rdma-rxe.sh.

  roce-pcap.py list FILE            one line per frame: frame number, source
                                    MAC, time, L3, RoCE opcode name, dest QPN,
                                    PSN, AckReq, len, UDP source port, and
                                    the AETH (syndrome/MSN) where there is one
  roce-pcap.py stats FILE           count of frames per (L3, opcode)
  roce-pcap.py split FILE OUTDIR    cut FILE at the marker pings of
                                    tests/guest/rdma-lib.sh (ICMP echo
                                    requests, payload pattern 0xb0 = begin,
                                    0xe0 = end, payload size 1000 + pair index)
                                    into OUTDIR/NN.pcap, one per pair
  roce-pcap.py tshark-check [--senders N] [--l3 IPv4,IPv6] FILE...
                                    tshark decodes every RoCE frame of each
                                    FILE as InfiniBand (BTH, the opcode this
                                    script reads) with nothing malformed,
                                    and its ICRC is valid (tshark with
                                    scripts/roce-icrc.lua, whose ICRC must
                                    equal zlib's); the RoCE frames come from
                                    at least N source MACs and over each L3
                                    named.  One "DBNIC-TEST ok|not ok" line
                                    per check (scripts/test.sh counts them),
                                    exit status 1 if any failed
  roce-pcap.py corrupt FILE OUT [N]  OUT = FILE with one payload bit of its
                                    Nth RoCE frame (default: the first with
                                    a payload) flipped: a bad ICRC, for
                                    showing that tshark-check fails on one
"""
import os, struct, subprocess, sys, zlib

OPS = {
    0x00: "RC_SEND_FIRST", 0x01: "RC_SEND_MIDDLE", 0x02: "RC_SEND_LAST",
    0x03: "RC_SEND_LAST_IMM", 0x04: "RC_SEND_ONLY", 0x05: "RC_SEND_ONLY_IMM",
    0x06: "RC_WRITE_FIRST", 0x07: "RC_WRITE_MIDDLE", 0x08: "RC_WRITE_LAST",
    0x09: "RC_WRITE_LAST_IMM", 0x0a: "RC_WRITE_ONLY", 0x0b: "RC_WRITE_ONLY_IMM",
    0x0c: "RC_READ_REQUEST", 0x0d: "RC_READ_RESPONSE_FIRST",
    0x0e: "RC_READ_RESPONSE_MIDDLE", 0x0f: "RC_READ_RESPONSE_LAST",
    0x10: "RC_READ_RESPONSE_ONLY", 0x11: "RC_ACK", 0x12: "RC_ATOMIC_ACK",
    0x13: "RC_CMP_SWAP", 0x14: "RC_FETCH_ADD", 0x16: "RC_SEND_LAST_INV",
    0x17: "RC_SEND_ONLY_INV",
    0x64: "UD_SEND_ONLY", 0x65: "UD_SEND_ONLY_IMM",
}


def frames(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
        nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, orig = struct.unpack(end + "IIII", rh)
            data = f.read(incl)
            yield hdr, rh, sec + frac / (1e9 if nano else 1e6), data


def parse(d):
    """(l3, proto, sport, dport, l4 payload offset, ip payload) or None."""
    if len(d) < 14:
        return None
    et = struct.unpack(">H", d[12:14])[0]
    off = 14
    if et == 0x8100 and len(d) >= 18:
        et = struct.unpack(">H", d[16:18])[0]
        off = 18
    if et == 0x0800 and len(d) >= off + 20:
        ihl = (d[off] & 15) * 4
        proto = d[off + 9]
        l4 = off + ihl
        l3 = "IPv4"
    elif et == 0x86DD and len(d) >= off + 40:
        proto = d[off + 6]
        l4 = off + 40
        l3 = "IPv6"
    else:
        return ("eth:%04x" % et, None, None, None, None)
    if proto == 17 and len(d) >= l4 + 8:
        sp, dp = struct.unpack(">HH", d[l4:l4 + 4])
        return (l3, "udp", sp, dp, l4 + 8)
    return (l3, proto, None, None, l4)


def roce(d):
    p = parse(d)
    if not p or p[1] != "udp" or p[3] != 4791:
        return None
    b = p[4]
    if len(d) < b + 12:
        return None
    op = d[b]
    qpn = int.from_bytes(d[b + 5:b + 8], "big")
    ack = d[b + 8] >> 7
    psn = int.from_bytes(d[b + 9:b + 12], "big")
    return p[0], op, qpn, psn, ack, len(d)


def roce_span(d):
    """(ip offset, ip header length, udp offset, udp length) of a RoCE frame
    whose UDP datagram fits in the frame, else None."""
    p = parse(d)
    if not p or p[1] != "udp" or p[3] != 4791:
        return None
    udp = p[4] - 8
    ip = 18 if struct.unpack(">H", d[12:14])[0] == 0x8100 else 14
    ulen = struct.unpack(">H", d[udp + 4:udp + 6])[0]
    if ulen < 8 + 12 + 4 or udp + ulen > len(d):
        return None
    return ip, udp - ip, udp, ulen


def icrc(d):
    """(stored, computed) ICRC of a RoCE frame (both as the 32-bit number
    whose least significant byte comes first on the wire), else None.
    The masking is docs/roce-wire.md's "ICRC"; zlib's crc32 is the CRC."""
    sp = roce_span(d)
    if not sp:
        return None
    ip, ihl, udp, ulen = sp
    h = bytearray(d[ip:udp + 8 + 12])
    if ihl != 40:   # IPv4: TOS, TTL, header checksum
        h[1] = 0xff
        h[8] = 0xff
        h[10:12] = b"\xff\xff"
    else:           # IPv6: traffic class, flow label, hop limit
        h[0] |= 0x0f
        h[1:4] = b"\xff\xff\xff"
        h[7] = 0xff
    h[ihl + 6:ihl + 8] = b"\xff\xff"    # UDP checksum
    h[ihl + 8 + 4] = 0xff                # BTH reserved byte after the P_Key
    end = udp + ulen - 4
    c = zlib.crc32(b"\xff" * 8 + bytes(h) + d[udp + 20:end])
    return struct.unpack("<I", d[end:end + 4])[0], c


def tshark_check(args):
    """The checks of "tshark-check" (see the module's help)."""
    senders, l3s, files = 0, [], []
    while args:
        a = args.pop(0)
        if a == "--senders":
            senders = int(args.pop(0))
        elif a == "--l3":
            l3s = args.pop(0).split(",")
        else:
            files.append(a)
    lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), "roce-icrc.lua")
    results = []
    # The InfiniBand dissector hands payloads to heuristic sub-dissectors
    # (RPC-over-RDMA, iSER, SMB Direct...), which take test data for
    # their protocol and flag it malformed (a 2-byte SEND is "Malformed
    # Packet: RPCoRDMA"): off, so that "malformed" is about the RoCE
    # headers.  Their internal names in Wireshark 4.0; a name that a
    # later tshark does not know is dropped (it refuses the run).
    noheur = ["rpcrdma_infiniband", "smb_direct_infiniband", "smcr_infiniband",
              "iser_infiniband", "sdp_infiniband", "lnet_ib", "nvme_rdma",
              "fc_infiniband", "mellanox_eoib", "eth_over_ib", "drbd_rdma",
              "iser_ib_private", "sdp_ib_private", "lnet_ib_cm_private",
              "nvme_rdma_cm_private"]

    def check(name, bad):
        results.append(not bad)
        if bad:
            print("DBNIC-TEST not ok %s: %s" % (name, bad))
        else:
            print("DBNIC-TEST ok %s" % name)

    for path in files:
        name = os.path.basename(path)
        ours = {}
        macs, seen_l3 = set(), set()
        for i, (_, _, _, d) in enumerate(frames(path), 1):
            r = roce(d)
            if r:
                ours[i] = (r[1], icrc(d))
                macs.add(d[6:12])
                seen_l3.add(r[0])
        out = None
        while out is None:
            cmd = ["tshark", "-n", "-X", "lua_script:" + lua, "-r", path]
            for h in noheur:
                cmd += ["--disable-heuristic", h]
            cmd += ["-Y", "udp.dstport == 4791", "-T", "fields", "-E", "occurrence=f",
                    "-e", "frame.number", "-e", "infiniband.bth.opcode",
                    "-e", "roce_icrc.status", "-e", "roce_icrc.computed",
                    "-e", "_ws.malformed"]
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            except (OSError, subprocess.CalledProcessError) as e:
                err = getattr(e, "stderr", "") or str(e)
                unknown = [h for h in noheur if "No such protocol %s," % h in err]
                if unknown:
                    noheur = [h for h in noheur if h not in unknown]
                    continue
                check("%s: tshark reads it" % name, "%s (is tshark installed? scripts/setup-host.sh)" %
                      err.strip().splitlines()[-1:])
                break
        if out is None:
            continue
        rows = {}
        for line in out.splitlines():
            f = line.split("\t")
            if f and f[0].isdigit():
                rows[int(f[0])] = (f + [""] * 5)[1:5]
        undec, bad, mism = [], [], []
        for i, (op, ic) in sorted(ours.items()):
            t = rows.get(i)
            if not t or t[0] == "" or int(t[0]) != op or t[3] != "":
                undec.append(i)
                continue
            if t[1] != "good":
                bad.append(i)
            if not ic or not t[2] or int(t[2], 16) != ic[1]:
                mism.append(i)
        if not ours:
            check("%s: holds RoCE frames" % name, "none (UDP to port 4791)")
            continue
        check("%s: tshark decodes all %d RoCE frames as InfiniBand BTH, none malformed" %
              (name, len(ours)), undec and "frames %s" % undec[:10])
        check("%s: every RoCE frame's ICRC is valid (tshark, roce-icrc.lua)" % name,
              bad and "bad ICRC in %d frames: %s" % (len(bad), bad[:10]))
        check("%s: roce-icrc.lua's ICRC equals zlib's in every frame" % name,
              mism and "frames %s" % mism[:10])
        if senders:
            check("%s: RoCE frames from %d senders (%d)" % (name, senders, len(macs)),
                  len(macs) < senders and "only %s" % [m.hex(":") for m in macs])
        for l in l3s:
            check("%s: RoCE frames over %s" % (name, l), l not in seen_l3 and "none")
    print("host-check: %d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


def corrupt(src, dst, n):
    """Copies src to dst with one payload bit of a RoCE frame flipped."""
    k, done, first = 0, False, True
    with open(dst, "wb") as out:
        for hdr, rh, _, d in frames(src):
            if first:
                out.write(hdr)
                first = False
            sp = None if done else roce_span(d)
            if sp:
                k += 1
                _, _, udp, ulen = sp
                # Without N: the first frame with a payload beyond the
                # BTH and the longest extension header (16 bytes).
                if k == n or (not n and ulen > 8 + 12 + 16 + 4):
                    d = bytearray(d)
                    d[udp + ulen - 5] ^= 0x01   # the byte before the ICRC
                    d = bytes(d)
                    done = True
                    print("flipped a bit of RoCE frame %d (%d bytes)" % (k, len(d)))
            out.write(rh + d)
    if not done:
        sys.exit("no RoCE frame to corrupt in %s" % src)


def marker(d):
    """(kind, index) of a marker ping (ICMP echo request), else None."""
    p = parse(d)
    if not p or p[0] != "IPv4" or p[1] != 1:
        return None
    i = p[4]
    if len(d) < i + 9 or d[i] != 8:
        return None
    pay = d[i + 8:]
    # busybox ping: 8 bytes of timestamp, then the pattern byte.
    if len(pay) < 1000 or len(pay) > 1472:
        return None
    pat = set(pay[8:])
    if pat == {0xb0}:
        return ("begin", len(pay) - 1000)
    if pat == {0xe0}:
        return ("end", len(pay) - 1000)
    return None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "tshark-check":
        sys.exit(tshark_check(sys.argv[2:]))
    if cmd == "corrupt":
        corrupt(path, sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
        return
    if cmd == "list":
        for i, (_, _, t, d) in enumerate(frames(path), 1):
            r = roce(d)
            if r:
                p = parse(d)
                # AETH: ACK, READ response first/last/only, atomic ACK.
                aeth = ""
                if r[1] in (0x0d, 0x0f, 0x10, 0x11, 0x12) and len(d) >= p[4] + 16:
                    aeth = " aeth %02x/%d" % (d[p[4] + 12],
                                               int.from_bytes(d[p[4] + 13:p[4] + 16], "big"))
                print("%5d %s %.6f %s %-26s qpn 0x%06x psn %8d ackreq %d len %d sport %d%s" % (
                    i, d[6:12].hex(":"), t, r[0], OPS.get(r[1], "op 0x%02x" % r[1]),
                    r[2], r[3], r[4], r[5], p[2], aeth))
            m = marker(d)
            if m:
                print("%5d %s %.6f marker %s %d" % (i, d[6:12].hex(":"), t, m[0], m[1]))
    elif cmd == "stats":
        n = {}
        for _, _, _, d in frames(path):
            r = roce(d)
            if r:
                k = (r[0], OPS.get(r[1], "op 0x%02x" % r[1]))
                n[k] = n.get(k, 0) + 1
        for k in sorted(n):
            print("%-5s %-26s %d" % (k[0], k[1], n[k]))
    elif cmd == "split":
        out = sys.argv[3]
        os.makedirs(out, exist_ok=True)
        cur = None
        fh = None
        for hdr, rh, _, d in frames(path):
            m = marker(d)
            if m and m[0] == "begin":
                cur = m[1]
                fh = open(os.path.join(out, "%02d.pcap" % cur), "wb")
                fh.write(hdr)
                continue
            if m and m[0] == "end":
                if fh:
                    fh.close()
                fh = None
                continue
            if fh:
                fh.write(rh + d)
        if fh:
            fh.close()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
