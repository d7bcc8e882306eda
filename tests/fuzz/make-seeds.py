#!/usr/bin/env python3
# Writes the seed inputs of the core's fuzz target (tests/fuzz/fuzz_core.c)
# into tests/fuzz/seeds/: programs that post receive buffers and deliver
# well-formed frames (TCP/UDP over IPv4, with RSS on, behind a cut VLAN
# tag) and send inline ETH_TX frames with CSUM, TSO and VLAN, on the ring
# and the priority path, with the timing model on in one.  From an empty
# corpus a short run rarely gets a frame into a posted buffer or a TSO
# frame past its header checks; from these it starts there.  The byte
# layout is fuzz_core.c's action decoder: keep the two in step.
#
#   python3 tests/fuzz/make-seeds.py
#
# SPDX-License-Identifier: GPL-2.0-or-later
import struct, os
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seeds')
def le(v, n): return v.to_bytes(n, 'little')
def ip4_tcp(payload=40, ihl=5, doff=5, proto=6, frag=0x4000):
    eth = bytes.fromhex('525400000002525400000001') + b'\x08\x00'
    opts = b'\x01' * ((ihl - 5) * 4)
    tcp = bytearray(20 + (doff - 5) * 4)
    tcp[0:4] = b'\x04\xd2\x16\x2e'; tcp[12] = doff << 4; tcp[13] = 0x18
    l4 = bytes(tcp) if proto == 6 else b'\x04\xd2\x16\x2e' + le(0,2) + b'\x12\x34'
    body = l4 + bytes((i * 7) & 0xff for i in range(payload))
    ip = bytearray(b'\x40' + b'\x00')
    ip[0] = 0x40 | ihl
    ip += struct.pack('>HHHBBH', ihl * 4 + len(body), 0x4242, frag, 64, proto, 0)
    ip += bytes([10, 0, 0, 1, 10, 0, 0, 2]) + opts
    return eth + bytes(ip) + body
def post_buf(addr_off, l=2048):
    return bytes([0x1c]) + le(addr_off, 3) + le(0, 8) + le(l, 2) + le(0, 2) + le(0, 2)
def rx(frame, hash_=0x51ccc178, typ=2, flags=0):
    return bytes([0x0a]) + le(len(frame), 2) + le(hash_, 4) + bytes([typ, flags]) + frame
def tx_inline(frame, offload, mss=0, vlan=None, ring=True):
    shape = 1 | (2 if vlan is not None else 0)
    b = bytes([0x1b if ring else 0x0b, shape])
    b += le(0x400000, 3) + le(len(frame), 3) + le(0, 6) + le(0, 6)
    b += (frame + bytes(224))[:224]
    b += bytes([offload]) + le(mss, 2)
    if vlan is not None: b += le(vlan, 2)
    return b
RUN = b'\x0e'
def rss(types=0x7e):
    return bytes([0x0d, 0x07, types]) + bytes(i & 1 for i in range(128))
# RoCE mode (second byte bit 2): fuzz_core.c's roce_frame() and roce_wqe().
ROCE_OPS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
            0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x64, 0x65]
def roce_rx(op, psn_delta=0, plen=0, va=0, dma_len=0, syn=0x1f, ackreq=1):
    b = bytes([0x4a, 0x00]) + le(plen, 2) + bytes([ROCE_OPS.index(op)])
    b += bytes([ackreq, psn_delta & 0xff]) + le(va, 2) + le(dma_len, 2)
    b += bytes([syn]) + le(0, 3) + le(0x11223344, 4) + le(77, 3)
    return b
def roce_recv(qp=0, sges=((0, 1024),)):
    b = bytes([0x5b | (qp << 5), len(sges)])
    for a, l in sges: b += le(a, 2) + le(l - 1, 2)
    return b
def roce_send(op_index, qp=0, flags=1, sges=((0x1000, 600),), raddr=0):
    b = bytes([0x4b | (qp << 5), len(sges) - 1, op_index, flags])
    if op_index in (1, 3): b += le(0x01020304, 4)
    b += le(raddr, 8) + le(0, 4)
    for a, l in sges: b += le(a, 2) + le(l - 1, 2)
    return b
# RDMA (fuzz_core.c's qp_action, action 0x0f): walk the QP to RTS, post
# an inline SEND on the ring and on the priority path, arm its CQ_COMP CQ,
# then a NOP that moves the QP to ERR, a RECV that flushes, events drained.
def qp(what, rest=b''): return bytes([0x0f, what]) + rest
def qp_wqe(opi, prio=False, inline=8):
    d = bytearray(32 + inline)
    d[0] = opi; d[1] = 1; d[2] = 0
    d[28:30] = le(inline, 2)
    for i in range(inline): d[32 + i] = i
    return qp(4 if prio else 3, bytes([len(d) - 16]) + bytes(d))
QP_RTS = qp(0x02) + qp(0x0a) + qp(0x12)
seeds = {
  'roce-rc-in': b'\x00\x04' + roce_recv() + roce_rx(0x00, 0, 256) + roce_rx(0x01, 1, 256) + roce_rx(0x03, 2, 100) + RUN + roce_rx(0x0a, 3, 64, 0x100, 64) + roce_rx(0x0c, 4, 0, 0x200, 600) + RUN,
  'roce-rc-out': b'\x00\x04' + roce_send(0) + roce_send(4, sges=((0x2000, 700),)) + RUN + roce_rx(0x11, 0x12, syn=0x1f) + roce_rx(0x0d, 0x13, 256) + roce_rx(0x0e, 0x14, 256) + roce_rx(0x0f, 0x15, 188) + RUN,
  'roce-ud': b'\x00\x04' + roce_recv(1) + roce_rx(0x64, 0, 200) + roce_send(0, qp=1, sges=((0, 100),)) + RUN,
  'qp-rts-send': b'\x00\x02' + QP_RTS + qp_wqe(0) + qp(0x0e, le(0, 2)) + RUN + qp_wqe(0, prio=True) + RUN + qp(0x07, b'\x07') + qp_wqe(5) + qp(0x05, le(0x400000, 3) + le(64, 2)) + RUN + qp(0x07, b'\x07'),
  'qp-modify-raw': b'\x00\x02' + qp(0x01, bytes(range(128)) + le(0x13bffb, 4)) + qp(0x00, bytes(56)) + RUN,
  'rx-tcp4': b'\x00\x00' + post_buf(0x400000) + rx(ip4_tcp()) + RUN,
  'rx-rss': b'\x00\x00' + rss() + post_buf(0x400000) + post_buf(0x401000) + rx(ip4_tcp()) + rx(ip4_tcp(proto=17), typ=3) + RUN,
  'rx-vlan-short': b'\x00\x00' + post_buf(0x400000, 64) + rx(bytes(12) + b'\x81\x00\x00\x05\x08\x00' + bytes(50)) + RUN,
  'tx-tso4': b'\x00\x00' + tx_inline(ip4_tcp(payload=150), 3, 64) + RUN,
  'tx-tso4-opts': b'\x00\x00' + tx_inline(ip4_tcp(payload=100, ihl=7, doff=8), 7, 64, vlan=0x123) + RUN,
  'tx-csum-prio': b'\x01\x00' + tx_inline(ip4_tcp(payload=60, proto=17), 1, ring=False) + RUN,
  'tx-rx-timed': b'\x00\x01' + post_buf(0x400000) + tx_inline(ip4_tcp(payload=100), 3, 64) + rx(ip4_tcp()) + b'\x07' + le(0xffffff, 3) + RUN,
}
for k, v in seeds.items():
    open(os.path.join(out, k), 'wb').write(v)
    print(k, len(v))
# RoCEv2 frames for the wire mode (second byte 0x08), built here from the
# issue 9 design's section 3 with Python's zlib, independently of the C
# library: ICRC = crc32(ff*8 + masked IP/UDP/BTH + ETHs + payload + pad),
# little-endian.
import zlib
def roce(op, ext=b'', payload=b'', v6=False, vlan=None, psn=0x123456):
    pad = -len(payload) % 4
    bth = bytes([op, 0x80 | pad << 4]) + b'\xff\xff' + b'\x00\x00\x12\x34' + bytes([0x80]) + psn.to_bytes(3, 'big')
    l4 = bth + ext + payload + bytes(pad)
    udp = struct.pack('>HHHH', 0xc0de, 4791, 8 + len(l4) + 4, 0)
    if v6:
        ip = struct.pack('>IHBB', 0x60000000 | 0x12 << 20 | 0x54321, 8 + len(l4) + 4, 17, 64)
        ip += bytes.fromhex('fd00db1c000000000000000000000001') + bytes.fromhex('fd00db1c000000000000000000000002')
        m = bytearray(ip); m[0] |= 0x0f; m[1:4] = b'\xff\xff\xff'; m[7] = 0xff
    else:
        ip = bytearray(struct.pack('>BBHHHBBH', 0x45, 0, 20 + 8 + len(l4) + 4, 0x1234, 0x4000, 64, 17, 0))
        ip += bytes([10, 0, 2, 15, 10, 0, 2, 16])
        c = sum(struct.unpack('>10H', bytes(ip)))
        while c >> 16: c = (c & 0xffff) + (c >> 16)
        ip[10:12] = struct.pack('>H', ~c & 0xffff)
        m = bytearray(ip); m[1] = 0xff; m[8] = 0xff; m[10:12] = b'\xff\xff'
    mu = bytearray(udp); mu[6:8] = b'\xff\xff'
    mb = bytearray(bth); mb[4] = 0xff
    icrc = zlib.crc32(b'\xff' * 8 + bytes(m) + bytes(mu) + bytes(mb) + l4[12:])
    eth = bytes.fromhex('525400aabbcc525400123456')
    eth += (b'\x81\x00' + vlan.to_bytes(2, 'big') if vlan is not None else b'')
    eth += b'\x86\xdd' if v6 else b'\x08\x00'
    return b'\x00\x08' + eth + bytes(ip) + udp + l4 + icrc.to_bytes(4, 'little')
reth = (0x7f0012345678).to_bytes(8, 'big') + (0x1234).to_bytes(4, 'big') + (8192).to_bytes(4, 'big')
pl = bytes((i * 7) & 0xff for i in range(37))
seeds.update({
  'roce-send-only': roce(0x04, payload=pl),
  'roce-write-first-v6': roce(0x06, reth, bytes(256), v6=True),
  'roce-write-only-imm-vlan': roce(0x0b, reth + b'\xde\xad\xbe\xef', pl, vlan=0x2005),
  'roce-read-req': roce(0x0c, reth),
  'roce-read-resp-last': roce(0x0f, b'\x1f\x00\x00\x07', pl[:30]),
  'roce-ack': roce(0x11, b'\x1f\x00\x00\x07'),
  'roce-ud-send-imm-v6': roce(0x65, b'\x80\x01\x00\x00\x00\x00\x00\x01' + b'\x01\x02\x03\x04', pl, v6=True, vlan=7),
})
for k, v in seeds.items():
    open(os.path.join(out, k), 'wb').write(v)
    print(k, len(v))
