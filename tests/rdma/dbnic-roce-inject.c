// SPDX-License-Identifier: GPL-2.0
/*
 * dbnic-roce-inject: put hand-made RoCE v2 packets on the wire through a
 * raw (AF_PACKET) socket, for the receive checks of datasheet 11.8: a
 * packet whose opcode is wrong for the destination QP's type (a UD SEND
 * to an RC QP, an RC SEND to a UD QP), an unknown opcode, or a bad ICRC.
 * The ICRC is computed here, independently of the device's wire library
 * (IBTA vol. 1 Annex A17.3.3: CRC-32 over 8 bytes of 0xff standing for the
 * masked LRH, the IPv4, UDP and BTH headers with their variant fields set
 * to ones, the rest of the packet; stored least significant byte first),
 * so a packet the device drops for its ICRC really had a bad one.
 *
 *   dbnic-roce-inject IFNAME DST_MAC DST_IPV4 DEST_QPN OPCODE PSN COUNT
 *                     [bad-icrc]
 *
 * OPCODE is the BTH opcode (0x04 RC SEND only, 0x64 UD SEND only, ...);
 * UD opcodes (0x60-0x7f) get a DETH.  The source MAC and IPv4 address are
 * IFNAME's.  Every packet carries 32 payload bytes of 0x5a.  Exits 0 when
 * COUNT packets were sent.  tests/guest/e2e-rdma-loss.sh uses it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROCE_PORT	4791
#define PAYLOAD		32

static uint32_t crc32_step(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

static uint16_t ip_csum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t f[128], masked[20 + 8 + 12], ff[8];
	struct sockaddr_ll sll;
	struct ifreq ifr;
	struct in_addr dip;
	unsigned long count, opcode, dqpn, psn;
	size_t l3 = 14, udp = l3 + 20, bth = udp + 8, p, len;
	uint32_t crc, sip;
	int fd, bad;

	if (argc < 8 || argc > 9 || parse_mac(argv[2], f) ||
	    !inet_aton(argv[3], &dip)) {
		fprintf(stderr, "usage: %s IFNAME DST_MAC DST_IPV4 DEST_QPN OPCODE PSN COUNT [bad-icrc]\n",
			argv[0]);
		return 2;
	}
	dqpn = strtoul(argv[4], NULL, 0);
	opcode = strtoul(argv[5], NULL, 0);
	psn = strtoul(argv[6], NULL, 0);
	count = strtoul(argv[7], NULL, 0);
	bad = argc == 9 && !strcmp(argv[8], "bad-icrc");
	if (dqpn > 0xffffff || opcode > 0xff || psn > 0xffffff) {
		fprintf(stderr, "QPN and PSN are 24 bits, the opcode 8\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (fd < 0) {
		perror("socket(AF_PACKET)");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("SIOCGIFHWADDR");
		return 1;
	}
	memcpy(f + 6, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFADDR, &ifr) < 0) {
		perror("SIOCGIFADDR");
		return 1;
	}
	sip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		perror("SIOCGIFINDEX");
		return 1;
	}

	/* Ethernet, IPv4 (DF, TTL 64, no options), UDP (checksum 0). */
	f[12] = 0x08;
	f[13] = 0x00;
	p = bth + 12;
	if ((opcode & 0xe0) == 0x60) {	/* UD: a DETH (Q_Key, source QPN) */
		memset(f + p, 0, 8);
		f[p] = 0x11;
		f[p + 7] = 0x23;
		p += 8;
	}
	memset(f + p, 0x5a, PAYLOAD);
	p += PAYLOAD;
	len = p + 4;
	memset(f + l3, 0, 20);
	f[l3] = 0x45;
	f[l3 + 2] = (uint8_t)((len - l3) >> 8);
	f[l3 + 3] = (uint8_t)(len - l3);
	f[l3 + 6] = 0x40;
	f[l3 + 8] = 64;
	f[l3 + 9] = 17;
	memcpy(f + l3 + 12, &sip, 4);
	memcpy(f + l3 + 16, &dip.s_addr, 4);
	f[udp] = 0xc0;
	f[udp + 1] = 0x00;
	f[udp + 2] = ROCE_PORT >> 8;
	f[udp + 3] = ROCE_PORT & 0xff;
	f[udp + 4] = (uint8_t)((len - udp) >> 8);
	f[udp + 5] = (uint8_t)(len - udp);
	f[udp + 6] = f[udp + 7] = 0;
	/* BTH: opcode, no pad (32 payload bytes), TVer 0, P_Key 0xffff. */
	memset(f + bth, 0, 12);
	f[bth] = (uint8_t)opcode;
	f[bth + 2] = f[bth + 3] = 0xff;
	f[bth + 5] = (uint8_t)(dqpn >> 16);
	f[bth + 6] = (uint8_t)(dqpn >> 8);
	f[bth + 7] = (uint8_t)dqpn;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifr.ifr_ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, f, 6);
	for (unsigned long i = 0; i < count; i++) {
		uint32_t q = (uint32_t)((psn + i) & 0xffffff);
		uint16_t c;

		f[l3 + 10] = f[l3 + 11] = 0;
		c = ip_csum(f + l3, 20);
		f[l3 + 10] = (uint8_t)(c >> 8);
		f[l3 + 11] = (uint8_t)c;
		f[bth + 9] = (uint8_t)(q >> 16);
		f[bth + 10] = (uint8_t)(q >> 8);
		f[bth + 11] = (uint8_t)q;
		/* The ICRC's masked copy of IP, UDP and BTH (A17.3.3). */
		memcpy(masked, f + l3, sizeof(masked));
		masked[1] = 0xff;			/* TOS */
		masked[8] = 0xff;			/* TTL */
		masked[10] = masked[11] = 0xff;		/* header checksum */
		masked[20 + 6] = masked[20 + 7] = 0xff;	/* UDP checksum */
		masked[28 + 4] = 0xff;			/* BTH resv8a */
		memset(ff, 0xff, sizeof(ff));
		crc = crc32_step(0xffffffffu, ff, sizeof(ff));
		crc = crc32_step(crc, masked, sizeof(masked));
		crc = crc32_step(crc, f + bth + 12, p - (bth + 12));
		crc = ~crc;
		if (bad)
			crc ^= 0x00010000;
		f[p] = (uint8_t)crc;
		f[p + 1] = (uint8_t)(crc >> 8);
		f[p + 2] = (uint8_t)(crc >> 16);
		f[p + 3] = (uint8_t)(crc >> 24);
		if (sendto(fd, f, len, 0, (struct sockaddr *)&sll,
			   sizeof(sll)) != (ssize_t)len) {
			fprintf(stderr, "sendto: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("sent %lu packets: opcode 0x%02lx to QPN 0x%06lx%s\n", count,
	       opcode, dqpn, bad ? " with a bad ICRC" : "");
	close(fd);
	return 0;
}
