-- RoCEv2 ICRC check for Wireshark/tshark, as a Lua post-dissector.
--
-- Wireshark's InfiniBand dissector (4.0, Debian bookworm's tshark) shows
-- a RoCEv2 frame's ICRC as infiniband.invariant.crc but never checks it:
-- it has no preference for that, no status field and no expert info.
-- This post-dissector adds the check for every UDP frame to port 4791:
--
--   roce_icrc.computed   the ICRC the frame should carry (uint32, as
--                        stored: the CRC's least significant byte first)
--   roce_icrc.status     "good" or "bad"
--   expert info          roce_icrc.bad (group checksum, severity error)
--                        on a bad one, so Wireshark colours it and
--                        `tshark -z expert` lists it
--
-- The ICRC (IBTA vol. 1 Annex A17.3.3, docs/roce-wire.md "ICRC"): CRC-32
-- (bit-reflected Ethernet polynomial, initial value all ones, result
-- inverted) over 8 bytes of 0xff for the absent LRH, the IP header, the
-- UDP header and the BTH with their variant fields set to all ones (IPv4
-- TOS, TTL, header checksum; IPv6 traffic class, flow label, hop limit;
-- UDP checksum; the BTH's reserved byte after the P_Key), then the rest
-- of the UDP payload up to the ICRC.  The end comes from the UDP length,
-- not the frame's, so Ethernet padding is left out.
--
--   tshark -X lua_script:scripts/roce-icrc.lua -r FILE.pcap \
--       -Y 'roce_icrc.status == "bad"'
-- scripts/roce-pcap.py tshark-check runs it over a test's capture.

local p = Proto("roce_icrc", "RoCEv2 ICRC check")
local f_computed = ProtoField.uint32("roce_icrc.computed", "Computed ICRC", base.HEX)
local f_status = ProtoField.string("roce_icrc.status", "ICRC status")
p.fields = { f_computed, f_status }
local e_bad = ProtoExpert.new("roce_icrc.bad", "Bad ICRC",
	expert.group.CHECKSUM, expert.severity.ERROR)
p.experts = { e_bad }

local band, bxor, rshift = bit32.band, bit32.bxor, bit32.rshift

-- The reflected CRC-32 table (polynomial 0xedb88320).
local T = {}
for i = 0, 255 do
	local c = i
	for _ = 1, 8 do
		if band(c, 1) == 1 then
			c = bxor(0xedb88320, rshift(c, 1))
		else
			c = rshift(c, 1)
		end
	end
	T[i] = c
end

-- crc(state, s): the CRC state after the bytes of the Lua string s.
local function crc(c, s)
	for i = 1, #s do
		c = bxor(T[band(bxor(c, s:byte(i)), 0xff)], rshift(c, 8))
	end
	return c
end

-- with(s, pos, byte...): s with its bytes from pos (1-based) replaced.
local function with(s, pos, ...)
	local b = string.char(...)
	return s:sub(1, pos - 1) .. b .. s:sub(pos + #b)
end

function p.dissector(tvb, pinfo, tree)
	local n = tvb:len()
	if n < 14 then return end
	local off = 12
	local et = tvb(off, 2):uint()
	if et == 0x8100 and n >= 18 then
		off = 16
		et = tvb(off, 2):uint()
	end
	off = off + 2
	local ip, l4
	if et == 0x0800 and n >= off + 20 then
		local ihl = band(tvb(off, 1):uint(), 0x0f) * 4
		if tvb(off + 9, 1):uint() ~= 17 or ihl < 20 or n < off + ihl + 8 then return end
		ip = tvb:raw(off, ihl)
		ip = with(ip, 2, 0xff)                -- TOS
		ip = with(ip, 9, 0xff)                -- TTL
		ip = with(ip, 11, 0xff, 0xff)         -- header checksum
		l4 = off + ihl
	elseif et == 0x86dd and n >= off + 48 then
		if tvb(off + 6, 1):uint() ~= 17 then return end
		ip = tvb:raw(off, 40)
		-- Version stays; traffic class and flow label, hop limit.
		ip = with(ip, 1, bit32.bor(band(ip:byte(1), 0xf0), 0x0f), 0xff, 0xff, 0xff)
		ip = with(ip, 8, 0xff)
		l4 = off + 40
	else
		return
	end
	if tvb(l4 + 2, 2):uint() ~= 4791 then return end
	local ulen = tvb(l4 + 4, 2):uint()
	-- UDP header, BTH (12) and the ICRC (4) at least, all in the frame.
	if ulen < 8 + 12 + 4 or l4 + ulen > n then return end
	local udp = with(tvb:raw(l4, 8), 7, 0xff, 0xff)
	local bth = with(tvb:raw(l4 + 8, 12), 5, 0xff)
	local rest = tvb:raw(l4 + 20, ulen - 8 - 12 - 4)
	local c = crc(0xffffffff, string.rep("\255", 8))
	c = crc(crc(crc(crc(c, ip), udp), bth), rest)
	local want = bxor(c, 0xffffffff)
	local icrc = tvb(l4 + ulen - 4, 4)
	local got = icrc:le_uint()
	local t = tree:add(p, icrc)
	t:add(f_computed, icrc, want):append_text(" (stored least significant byte first)")
	if got == want then
		t:add(f_status, icrc, "good")
	else
		t:add(f_status, icrc, "bad")
		t:add_proto_expert_info(e_bad, string.format("Bad ICRC 0x%08x, should be 0x%08x", got, want))
	end
end

register_postdissector(p)
