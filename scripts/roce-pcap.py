#!/usr/bin/env python3
"""List or cut a pcap of RoCEv2 traffic, e.g. one that
scripts/run-guest.sh --pcap recorded during tests/guest/rdma-rxe.sh.

  roce-pcap.py list FILE            one line per frame: time, L3, UDP ports,
                                    RoCE opcode name, dest QPN, PSN, AckReq, len
  roce-pcap.py stats FILE           count of frames per (L3, opcode)
  roce-pcap.py split FILE OUTDIR    cut FILE at the marker pings of
                                    tests/guest/rdma-lib.sh (ICMP echo
                                    requests, payload pattern 0xb0 = begin,
                                    0xe0 = end, payload size 1000 + pair index)
                                    into OUTDIR/NN.pcap, one per pair
"""
import os, struct, sys

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
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "list":
        for _, _, t, d in frames(path):
            r = roce(d)
            if r:
                print("%.6f %s %-26s qpn 0x%06x psn %8d ackreq %d len %d" % (
                    t, r[0], OPS.get(r[1], "op 0x%02x" % r[1]), r[2], r[3], r[4], r[5]))
            m = marker(d)
            if m:
                print("%.6f marker %s %d" % (t, m[0], m[1]))
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
