// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dbnic-rc-xfer: what an RC connection promises its user when the network
 * or the peer misbehaves, checked over the plain verbs API (libibverbs
 * only; the two processes swap their QP numbers, GIDs, PSNs and keys over
 * a TCP side channel).  Issue 10, Tests: the large byte-exact transfer,
 * RNR and retry exhaustion.  It does not care whose RDMA device it runs on:
 * developed against Linux rxe, meant for dbnic's RC retransmission
 * (datasheet section 11.10).
 *
 *   dbnic-rc-xfer MODE server DEV GIDX PORT [OPTIONS]
 *   dbnic-rc-xfer MODE client DEV GIDX HOST PORT [OPTIONS]
 *
 * DEV is the verbs device (rxe0, dbnic0), GIDX its port-1 GID index of the
 * address to use (a RoCE v2 GID); the server listens on TCP PORT, the
 * client connects to HOST:PORT.  Both sides take the same MODE.  Every
 * option applies to the QP of the process given it (rc_connect below),
 * so the receiver gets --min-rnr-timer and the sender --timeout,
 * --retry-cnt and --rnr-retry.
 *
 * xfer: N MiB (-n, default 256) from the client to the server and back,
 *	byte-exact, in chunks of -c KiB (default 4096) that reuse one bounded
 *	buffer per side.  Chunk c is SEND (c % 3 == 0: messages of -s bytes,
 *	default 16 KiB, i.e. 16 packets at path MTU 1024, each checked by
 *	the server as it arrives; the server posts a receive for every
 *	message of the chunk before it starts, so message i must land in
 *	receive i and RNR never comes into it), RDMA WRITE (c % 3 == 1: the
 *	chunk into the server's region, the last WR a WRITE_WITH_IMM whose
 *	immediate is c;
 *	the server checks the whole region when that receive completes) or
 *	RDMA READ (c % 3 == 2: the server fills its region, the client reads
 *	it back into a poisoned buffer and checks it).  Up to -d WRs
 *	(default 16) are in flight.  Every byte is a function of its offset
 *	in the chunk and of c (pattern()), so a byte lost, misplaced,
 *	duplicated or left over from an earlier chunk is caught; the first
 *	bad one is printed with its offset in the whole transfer.  The
 *	server starts chunk c with a small SEND to the client ("ready c"),
 *	which is the flow control: the client never overwrites what the
 *	server has not checked.  Both print a
 *	summary line ("xfer: BYTES bytes in S s, MB/s") and exit 0 only
 *	when every chunk was intact and every WC a success.  A side that
 *	finds a bad byte says so on the side channel, which the other
 *	watches while it waits for completions, and both exit 1.
 *	--corrupt OFF flips the byte at transfer offset OFF in the sender's
 *	copy (the client's for SEND and WRITE chunks, the server's for READ
 *	chunks) after filling it: the run must then fail at exactly OFF,
 *	which shows that the check can fail.
 *
 * rnr: the server (receiver) has no receive posted while the client
 *	posts -k SENDs (default 4) and then tells it "go" over TCP; the
 *	server waits --delay-ms (default 2000) after the go before it posts
 *	its receives.  The responder answers with RNR NAKs carrying the
 *	server's --min-rnr-timer, and the client retries per its
 *	--rnr-retry.  --expect ok (the default unless --rnr-retry 0): every
 *	SEND completes with success, no sooner than the delay after it was
 *	posted (it cannot complete before the receive exists; a causal
 *	bound, not a timing assumption), and the server receives all of
 *	them intact.  --expect rnr (the default with --rnr-retry 0): the
 *	first SEND completes with IBV_WC_RNR_RETRY_EXC_ERR, every later one
 *	with IBV_WC_WR_FLUSH_ERR, the QP is in ERR, and a WR posted after
 *	that is flushed too; the server posts its receives only once the
 *	client is done (no delay to race) and must receive nothing.
 *
 * exhaust: the server is the peer that will be paused; the client, once
 *	connected, runs --before-post CMD (system(); it must exit 0: the
 *	guest script asks the host to stop the server's guest with QMP
 *	`stop` and waits until that guest no longer answers pings), then
 *	posts -k signaled WRs (default 16: SEND, RDMA WRITE and RDMA READ in
 *	turn, of -s bytes, default 256: one packet each).  With nobody to acknowledge them the requester times out
 *	(--timeout, default 10: 4.096 us << 10 = 4.2 ms) and retries
 *	(--retry-cnt, default 3) until it gives up: the first WC must be
 *	IBV_WC_RETRY_EXC_ERR, every later one IBV_WC_WR_FLUSH_ERR, in
 *	order, the QP in ERR, a WR posted after that flushed too; then QP,
 *	CQs, MR, PD, completion channel and context are destroyed, each
 *	call returning 0.  The server only waits for the client's "done"
 *	on TCP (which arrives once its guest runs again) and exits 0.
 *
 * Other options: -m MTU (path MTU in bytes; default the port's active
 * MTU), -w SECONDS (the longest wait for any one completion or message
 * before the run fails; default 60 for xfer, 30 for rnr and exhaust, so
 * that they fail inside rdma-lib.sh's 60 s), --expect ok|rnr (rnr: what the
 * sender must see; the default as above), -k WRS (rnr, exhaust), -d
 * DEPTH (xfer), -c CHUNK_KIB and -s MSG_BYTES (xfer; -s also rnr,
 * default 4096, and exhaust, default 256).
 *
 * Output: "ok ..." or "FAIL ..." lines, and the summary.  Exit status 0
 * when everything held, 1 when a check failed, 2 on a usage or set-up
 * error (no device, no peer).
 *
 * By hand, in two guests with an RDMA device each (tests/guest/
 * rdma-reliability.sh does this between the guests of
 * scripts/run-guest.sh --guests 2):
 *   guest 0:  dbnic-rc-xfer xfer server rxe0 1 18800 -n 64
 *   guest 1:  dbnic-rc-xfer xfer client rxe0 1 10.77.0.1 18800 -n 64
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#define KIB		1024UL
#define MIB		(1024UL * 1024UL)
#define CTRL_MAGIC	0x7263786cU	/* "rcxl" */
#define CTRL_SLOTS	8

enum kind { K_SEND, K_WRITE, K_READ };
static const char *const kind_name[] = { "SEND", "RDMA WRITE", "RDMA READ" };

enum expect { E_DEFAULT, E_OK, E_RNR, E_RETRY };

static struct opts {
	const char *mode, *dev, *host, *before_post;
	bool server;
	int gidx, port;
	unsigned long mib;		/* xfer: MiB to move */
	size_t msg;			/* bytes per message */
	size_t chunk;			/* bytes per chunk (the buffer) */
	unsigned int depth;		/* WRs in flight */
	unsigned int k;			/* rnr, exhaust: WRs posted */
	int timeout, retry_cnt, rnr_retry, min_rnr_timer;
	int delay_ms, mtu, wait_s;
	long long corrupt;		/* transfer offset, or -1 */
	enum expect expect;
} o = {
	.mib = 256, .msg = 16 * KIB, .chunk = 4 * MIB, .depth = 16, .k = 0,
	.timeout = -1, .retry_cnt = -1, .rnr_retry = -1, .min_rnr_timer = 12,
	.delay_ms = 2000, .mtu = 0, .wait_s = 60, .corrupt = -1,
};

static int failures;

static void check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failures++;
}

/* A set-up error: nothing was tested. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	printf("FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno %d: %s)\n", e, strerror(e));
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* The data pattern                                                    */
/* ------------------------------------------------------------------ */

/*
 * The 8 bytes at chunk offset off (a multiple of 8) of chunk c: a 64-bit
 * mix (splitmix64's finaliser) of both, so neighbouring words, chunks
 * and the same offset in another chunk all differ.
 */
static inline uint64_t pattern(uint64_t off, uint64_t c)
{
	uint64_t x = (off >> 3) ^ (c << 40) ^ 0x5eedf00dULL;

	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void fill(uint8_t *p, size_t len, size_t off, uint64_t c)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = pattern(off + i, c);

		memcpy(p + i, &w, 8);
	}
}

/* The first bad byte's index in p, or -1 when all len bytes are right. */
static long long first_bad(const uint8_t *p, size_t len, size_t off,
			   uint64_t c, uint8_t *got, uint8_t *want)
{
	size_t i, j;

	for (i = 0; i < len; i += 8) {
		uint64_t w = pattern(off + i, c);
		const uint8_t *e = (const uint8_t *)&w;

		if (!memcmp(p + i, e, 8))
			continue;
		for (j = 0; j < 8; j++)
			if (p[i + j] != e[j]) {
				*got = p[i + j];
				*want = e[j];
				return i + j;
			}
	}
	return -1;
}

/*
 * The --corrupt knob: when transfer offset o.corrupt lies in
 * [base, base + len), flip that byte of p (the sender's copy).
 */
static void maybe_corrupt(uint8_t *p, unsigned long long base, size_t len)
{
	if (o.corrupt < 0 || (unsigned long long)o.corrupt < base ||
	    (unsigned long long)o.corrupt >= base + len)
		return;
	p[o.corrupt - base] ^= 0x5a;
	printf("corrupting the byte at transfer offset %lld on purpose\n",
	       o.corrupt);
}

/* ------------------------------------------------------------------ */
/* TCP side channel                                                    */
/* ------------------------------------------------------------------ */

static int tcp_fd = -1;

static void tcp_io(void *p, size_t n, bool out)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = out ? write(tcp_fd, b, n) : read(tcp_fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r ? errno : EPIPE;
			die("TCP side channel %s", out ? "write" : "read");
		}
		b += r;
		n -= r;
	}
}

static void tcp_open(void)
{
	int one = 1;

	if (o.server) {
		struct sockaddr_in sa = {
			.sin_family = AF_INET, .sin_port = htons(o.port),
			.sin_addr.s_addr = htonl(INADDR_ANY),
		};
		int ls = socket(AF_INET, SOCK_STREAM, 0);

		if (ls < 0)
			die("socket");
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(ls, 1))
			die("bind/listen on port %d", o.port);
		tcp_fd = accept(ls, NULL, NULL);
		if (tcp_fd < 0)
			die("accept");
		close(ls);
	} else {
		struct addrinfo hints = { .ai_family = AF_INET,
					  .ai_socktype = SOCK_STREAM }, *ai;
		char ports[16];

		snprintf(ports, sizeof(ports), "%d", o.port);
		if (getaddrinfo(o.host, ports, &hints, &ai))
			die("getaddrinfo %s", o.host);
		tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
		if (tcp_fd < 0 || connect(tcp_fd, ai->ai_addr, ai->ai_addrlen))
			die("connect to %s:%d", o.host, o.port);
		freeaddrinfo(ai);
	}
	setsockopt(tcp_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Each side sends one byte, then waits for the other's. */
static void tcp_barrier(void)
{
	char c = 'b';

	tcp_io(&c, 1, true);
	tcp_io(&c, 1, false);
}

/* ------------------------------------------------------------------ */
/* Verbs                                                               */
/* ------------------------------------------------------------------ */

static struct ctx {
	struct ibv_context *ctx;
	struct ibv_comp_channel *ch;
	struct ibv_pd *pd;
	struct ibv_cq *scq, *rcq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	uint8_t *buf;
	size_t len;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	uint8_t rd_atom;
} v;

/* What each side tells the other over TCP. */
struct conn_msg {
	uint8_t gid[16];
	uint32_t qpn, psn, rkey, mtu;
	uint64_t addr, len;
	uint32_t rd_atom, pad;
};

static struct conn_msg peer;

static enum ibv_mtu mtu_enum(int bytes)
{
	switch (bytes) {
	case 256: return IBV_MTU_256;
	case 512: return IBV_MTU_512;
	case 1024: return IBV_MTU_1024;
	case 2048: return IBV_MTU_2048;
	case 4096: return IBV_MTU_4096;
	}
	fprintf(stderr, "FAIL -m %d: not an IB MTU (256 to 4096)\n", bytes);
	exit(2);
}

/*
 * Device, PD, CQs, one MR over buf_len bytes and the RC QP, whose receive
 * queue (and receive CQ) takes rq receives at once.
 */
static void dev_open(size_t buf_len, unsigned int rq)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_device_attr da;
	struct ibv_port_attr pa;
	unsigned int sq = (o.depth > o.k ? o.depth : o.k) + 8;
	int i, scqe = sq + 16, rcqe = rq + CTRL_SLOTS + 16;

	if (!list)
		die("ibv_get_device_list");
	for (i = 0; list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), o.dev))
			break;
	if (!list[i]) {
		errno = ENODEV;
		die("no RDMA device %s", o.dev);
	}
	v.ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!v.ctx)
		die("ibv_open_device %s", o.dev);
	if (ibv_query_device(v.ctx, &da) || ibv_query_port(v.ctx, 1, &pa))
		die("ibv_query_device/port");
	v.mtu = o.mtu ? mtu_enum(o.mtu) : pa.active_mtu;
	/* READs in flight: as many as the depth, if the device takes them. */
	v.rd_atom = o.depth;
	if (v.rd_atom > da.max_qp_init_rd_atom)
		v.rd_atom = da.max_qp_init_rd_atom;
	if (v.rd_atom > da.max_qp_rd_atom)
		v.rd_atom = da.max_qp_rd_atom;
	if (!v.rd_atom)
		v.rd_atom = 1;
	if (rcqe > da.max_cqe || (int)(rq + CTRL_SLOTS) > da.max_qp_wr ||
	    scqe > da.max_cqe || (int)sq > da.max_qp_wr) {
		fprintf(stderr, "FAIL %s takes %d WRs per queue and %d CQEs per CQ: fewer WRs, or a smaller chunk (-c) or more bytes per message (-s)\n",
			o.dev, da.max_qp_wr, da.max_cqe);
		exit(2);
	}
	if (ibv_query_gid(v.ctx, 1, o.gidx, &v.gid))
		die("ibv_query_gid %d", o.gidx);
	v.ch = ibv_create_comp_channel(v.ctx);
	v.pd = ibv_alloc_pd(v.ctx);
	if (!v.ch || !v.pd)
		die("ibv_create_comp_channel/ibv_alloc_pd");
	v.scq = ibv_create_cq(v.ctx, scqe, NULL, v.ch, 0);
	v.rcq = ibv_create_cq(v.ctx, rcqe, NULL, v.ch, 0);
	if (!v.scq || !v.rcq)
		die("ibv_create_cq (%d and %d entries)", scqe, rcqe);
	v.len = buf_len;
	v.buf = aligned_alloc(4096, (buf_len + 4095) & ~4095UL);
	if (!v.buf)
		die("aligned_alloc %zu", buf_len);
	memset(v.buf, 0, buf_len);
	v.mr = ibv_reg_mr(v.pd, v.buf, buf_len, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!v.mr)
		die("ibv_reg_mr %zu bytes", buf_len);
	{
		struct ibv_qp_init_attr ia = {
			.send_cq = v.scq, .recv_cq = v.rcq,
			.qp_type = IBV_QPT_RC, .sq_sig_all = 1,
			.cap = { .max_send_wr = sq,
				 .max_recv_wr = rq + CTRL_SLOTS,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		v.qp = ibv_create_qp(v.pd, &ia);
		if (!v.qp)
			die("ibv_create_qp");
	}
}

/*
 * INIT -> RTR -> RTS towards the peer.  Responder side (RTR): the path
 * MTU both can take, --min-rnr-timer; requester side (RTS): --timeout,
 * --retry-cnt, --rnr-retry (each defaults to the mode's value).
 */
static void rc_connect(uint32_t my_psn)
{
	enum ibv_mtu mtu = v.mtu < peer.mtu ? v.mtu : (enum ibv_mtu)peer.mtu;
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ,
	};
	int e;

	if ((e = ibv_modify_qp(v.qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			       IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))) {
		errno = e;
		die("modify_qp INIT");
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = mtu;
	a.dest_qp_num = peer.qpn;
	a.rq_psn = peer.psn;
	a.max_dest_rd_atomic = v.rd_atom;
	a.min_rnr_timer = o.min_rnr_timer;
	a.ah_attr.is_global = 1;
	memcpy(a.ah_attr.grh.dgid.raw, peer.gid, 16);
	a.ah_attr.grh.sgid_index = o.gidx;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = 1;
	if ((e = ibv_modify_qp(v.qp, &a, IBV_QP_STATE | IBV_QP_AV |
			       IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			       IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			       IBV_QP_MIN_RNR_TIMER))) {
		errno = e;
		die("modify_qp RTR");
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = my_psn;
	a.timeout = o.timeout;
	a.retry_cnt = o.retry_cnt;
	a.rnr_retry = o.rnr_retry;
	a.max_rd_atomic = v.rd_atom < peer.rd_atom ? v.rd_atom : peer.rd_atom;
	if ((e = ibv_modify_qp(v.qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			       IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			       IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC))) {
		errno = e;
		die("modify_qp RTS");
	}
	printf("connected: QP %#x -> %#x, path MTU %d, PSN %#x/%#x, timeout %d, retry_cnt %d, rnr_retry %d, min_rnr_timer %d, rd_atomic %u\n",
	       v.qp->qp_num, peer.qpn, 128 << mtu, my_psn, peer.psn,
	       o.timeout, o.retry_cnt, o.rnr_retry, o.min_rnr_timer,
	       a.max_rd_atomic);
}

/* TCP, then the QP: each side's QP ends in RTS. */
static void connect_peer(void)
{
	struct conn_msg m = { 0 };
	uint32_t psn;

	tcp_open();
	/* A random start PSN, as real peers use: not 0 on both sides. */
	srand(getpid() ^ (unsigned int)(now_s() * 1e6));
	psn = (uint32_t)rand() & 0xffffff;
	memcpy(m.gid, v.gid.raw, 16);
	m.qpn = v.qp->qp_num;
	m.psn = psn;
	m.rkey = v.mr->rkey;
	m.mtu = v.mtu;
	m.addr = (uintptr_t)v.buf;
	m.len = v.len;
	m.rd_atom = v.rd_atom;
	tcp_io(&m, sizeof(m), true);
	tcp_io(&peer, sizeof(peer), false);
	rc_connect(psn);
}

static void post_recv(uint64_t wr_id, void *addr, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = v.mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1,
	}, *bad;
	int e = ibv_post_recv(v.qp, &wr, &bad);

	if (e) {
		errno = e;
		die("ibv_post_recv");
	}
}

static int post_send(uint64_t wr_id, enum ibv_wr_opcode op, void *addr,
		     uint32_t len, uint64_t raddr, uint32_t imm)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = v.mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED, .imm_data = htonl(imm),
	}, *bad;

	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = peer.rkey;
	return ibv_post_send(v.qp, &wr, &bad);
}

/*
 * The next completion of cq into wc.  Sleeps on the completion channel
 * (busy polling would take the CPU that a soft device such as rxe needs).
 * With watch_tcp, a failure verdict (a non-zero byte) or EOF on the side
 * channel meanwhile means the peer gave up: fail at once instead of
 * waiting.  A success verdict (0, which a peer may send before this side
 * has polled its last completions) is left for the caller to read, and
 * the channel is not watched after it (peer_ok).  False after o.wait_s
 * seconds without a completion.
 */
static bool peer_ok;

static bool wait_wc(struct ibv_cq *cq, struct ibv_wc *wc, bool watch_tcp)
{
	double end = now_s() + o.wait_s;
	int n;

	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = v.ch->fd, .events = POLLIN },
			{ .fd = tcp_fd, .events = POLLIN },
		};
		struct ibv_cq *ecq;
		void *ectx;

		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			break;
		if (ibv_req_notify_cq(cq, 0))
			die("ibv_req_notify_cq");
		/* A completion that came before the arm raises no event. */
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			break;
		if (now_s() > end) {
			printf("FAIL no completion on the %s CQ within %d s\n",
			       cq == v.scq ? "send" : "receive", o.wait_s);
			failures++;
			return false;
		}
		watch_tcp = watch_tcp && tcp_fd >= 0 && !peer_ok;
		if (poll(pf, watch_tcp ? 2 : 1, 1000) < 0 &&
		    errno != EINTR)
			die("poll");
		if (pf[0].revents & POLLIN) {
			if (ibv_get_cq_event(v.ch, &ecq, &ectx))
				die("ibv_get_cq_event");
			ibv_ack_cq_events(ecq, 1);
		}
		if (watch_tcp && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char b;

			ssize_t r = recv(tcp_fd, &b, 1, MSG_PEEK);

			if (r == 1 && !b) {
				peer_ok = true;
				continue;
			}
			printf("FAIL the peer %s while this side waited for a completion\n",
			       r == 1 ? "reports a failure" :
			       "closed the side channel");
			failures++;
			return false;
		}
	}
	if (n < 0)
		die("ibv_poll_cq");
	return true;
}

/* Destroy everything, each call checked (exhaust: "cleanly"). */
static void teardown(void)
{
	int e;

	e = ibv_destroy_qp(v.qp);
	check(!e, "ibv_destroy_qp: %d", e);
	e = ibv_destroy_cq(v.scq);
	check(!e, "ibv_destroy_cq (send): %d", e);
	e = ibv_destroy_cq(v.rcq);
	check(!e, "ibv_destroy_cq (receive): %d", e);
	e = ibv_dereg_mr(v.mr);
	check(!e, "ibv_dereg_mr: %d", e);
	e = ibv_dealloc_pd(v.pd);
	check(!e, "ibv_dealloc_pd: %d", e);
	e = ibv_destroy_comp_channel(v.ch);
	check(!e, "ibv_destroy_comp_channel: %d", e);
	e = ibv_close_device(v.ctx);
	check(!e, "ibv_close_device: %d", e);
	free(v.buf);
}

/* ------------------------------------------------------------------ */
/* xfer                                                                */
/* ------------------------------------------------------------------ */

/* The server's per-chunk message (flow control and verdict). */
struct ctrl {
	uint32_t magic, chunk;
};

static unsigned long long total;
static unsigned long nchunks;

static size_t chunk_len(unsigned long c)
{
	unsigned long long rest = total - (unsigned long long)c * o.chunk;

	return rest < o.chunk ? rest : o.chunk;
}

static enum kind chunk_kind(unsigned long c)
{
	return (enum kind)(c % 3);
}

/* Check a received piece; on the first bad byte, print it, return false. */
static bool check_piece(const uint8_t *p, size_t len, size_t off,
			unsigned long c, const char *what, uint64_t *bad_off)
{
	uint8_t got = 0, want = 0;
	long long b = first_bad(p, len, off, c, &got, &want);

	if (b < 0)
		return true;
	*bad_off = (unsigned long long)c * o.chunk + off + b;
	printf("FAIL xfer: %s in chunk %lu (%s): first bad byte at transfer offset %" PRIu64 " (chunk offset %zu): 0x%02x, want 0x%02x\n",
	       what, c, kind_name[chunk_kind(c)], *bad_off,
	       off + (size_t)b, got, want);
	failures++;
	return false;
}

static void summary(double t0, unsigned long long moved[3])
{
	double dt = now_s() - t0;
	unsigned long long sum = moved[0] + moved[1] + moved[2];

	printf("xfer: %llu bytes in %.2f s: %.2f MB/s (SEND %llu, RDMA WRITE %llu, RDMA READ %llu; %zu-byte messages, %u in flight, %zu-byte chunks)\n",
	       sum, dt, dt > 0 ? sum / dt / 1e6 : 0.0, moved[0], moved[1],
	       moved[2], o.msg, o.depth, o.chunk);
}

/*
 * Server memory: [0, chunk) the region clients WRITE and READ; [chunk,
 * 2 chunk) the receive slots, one per message of a SEND chunk; then the
 * ctrl message.  A SEND chunk's receives are all posted before "ready
 * c", so the transfer never depends on RNR (the rnr mode tests that):
 * the client's SENDs complete when the device has placed them, not when
 * this process has checked them, and it could otherwise run ahead of a
 * smaller ring.
 */
static int xfer_server(void)
{
	size_t slots = o.chunk, ctrl_off = 2 * o.chunk;
	unsigned long long moved[3] = { 0 };
	struct ctrl *ct = (struct ctrl *)(v.buf + ctrl_off);
	uint64_t bad_off = 0;
	unsigned long bad_chunk = 0;
	bool bad = false;
	unsigned long c;
	struct ibv_wc wc;
	double t0;
	size_t i;

	tcp_barrier();
	t0 = now_s();
	for (c = 0; c <= nchunks && !bad; c++) {
		size_t len = c < nchunks ? chunk_len(c) : 0;
		enum kind k = chunk_kind(c);

		if (c < nchunks && k == K_READ) {
			fill(v.buf, len, 0, c);
			maybe_corrupt(v.buf, (unsigned long long)c * o.chunk,
				      len);
		}
		/* Receive i into slot i: one for each message, or the IMM. */
		if (c < nchunks && k == K_SEND)
			for (i = 0; i < len / o.msg; i++)
				post_recv(i, v.buf + slots + i * o.msg, o.msg);
		if (c < nchunks && k == K_WRITE)
			post_recv(0, v.buf + slots, o.msg);
		/* "ready c"; c == nchunks is the final verdict. */
		ct->magic = CTRL_MAGIC;
		ct->chunk = c;
		if (post_send(c, IBV_WR_SEND, ct, sizeof(*ct), 0, 0)) {
			errno = EIO;
			die("post ctrl SEND");
		}
		if (!wait_wc(v.scq, &wc, c < nchunks))
			return 1;
		if (wc.status != IBV_WC_SUCCESS) {
			check(false, "xfer: ctrl SEND for chunk %lu: %s", c,
			      ibv_wc_status_str(wc.status));
			return 1;
		}
		if (c == nchunks)
			break;
		if (k == K_READ) {
			moved[K_READ] += len;
			continue;
		}
		if (k == K_SEND) {
			for (i = 0; i < len / o.msg && !bad; i++) {
				if (!wait_wc(v.rcq, &wc, true))
					return 1;
				/* Receives complete in the order posted. */
				if (wc.status != IBV_WC_SUCCESS ||
				    wc.opcode != IBV_WC_RECV ||
				    wc.byte_len != o.msg || wc.wr_id != i) {
					check(false, "xfer: receive %zu of chunk %lu: %s, opcode %d, %u bytes, wr_id %" PRIu64,
					      i, c, ibv_wc_status_str(wc.status),
					      wc.opcode, wc.byte_len, wc.wr_id);
					return 1;
				}
				if (!check_piece(v.buf + slots + i * o.msg,
						 o.msg, i * o.msg, c,
						 "a received SEND", &bad_off)) {
					bad = true;
					bad_chunk = c;
				}
			}
			moved[K_SEND] += len;
			continue;
		}
		/* K_WRITE: the WRITE_WITH_IMM ends the chunk. */
		if (!wait_wc(v.rcq, &wc, true))
			return 1;
		if (wc.status != IBV_WC_SUCCESS ||
		    wc.opcode != IBV_WC_RECV_RDMA_WITH_IMM ||
		    !(wc.wc_flags & IBV_WC_WITH_IMM) ||
		    ntohl(wc.imm_data) != c || wc.wr_id != 0) {
			check(false, "xfer: chunk %lu's WRITE_WITH_IMM: %s, opcode %d, immediate %u, wr_id %" PRIu64,
			      c, ibv_wc_status_str(wc.status), wc.opcode,
			      ntohl(wc.imm_data), wc.wr_id);
			return 1;
		}
		if (!check_piece(v.buf, len, 0, c, "the RDMA WRITTEN region",
				 &bad_off)) {
			bad = true;
			bad_chunk = c;
		}
		moved[K_WRITE] += len;
	}
	if (bad) {
		/*
		 * The verdict on the side channel: the client may be stuck on
		 * SENDs this side no longer receives, and watches it.
		 */
		char r = 1;

		printf("xfer: chunk %lu was bad (first bad byte at transfer offset %" PRIu64 ")\n",
		       bad_chunk, bad_off);
		tcp_io(&r, 1, true);
	} else {
		summary(t0, moved);
		check(true, "xfer (server): %llu bytes received or served intact in %lu chunks",
		      total, nchunks);
	}
	/* The client's own verdict (its READ checks). */
	{
		char r = 1;

		if (read(tcp_fd, &r, 1) != 1 || r) {
			check(false, "xfer: the peer reports a failure");
		}
	}
	return failures ? 1 : 0;
}

/*
 * Client memory: [0, chunk) the source of SENDs and WRITEs; [chunk,
 * 2 chunk) the sink of READs; then CTRL_SLOTS ctrl receive slots.
 */
static int xfer_client(void)
{
	size_t sink = o.chunk, ctrl_off = 2 * o.chunk;
	unsigned long long moved[3] = { 0 };
	struct ibv_wc wc;
	unsigned long c;
	double t0;
	size_t i;
	char r;

	for (i = 0; i < CTRL_SLOTS; i++)
		post_recv(i, v.buf + ctrl_off + i * sizeof(struct ctrl),
			  sizeof(struct ctrl));
	tcp_barrier();
	t0 = now_s();
	for (c = 0; c <= nchunks; c++) {
		size_t len = c < nchunks ? chunk_len(c) : 0, n, posted = 0,
		       done = 0;
		enum kind k = chunk_kind(c);
		struct ctrl ct;

		if (!wait_wc(v.rcq, &wc, true))
			goto out;
		if (wc.status != IBV_WC_SUCCESS || wc.opcode != IBV_WC_RECV ||
		    wc.byte_len != sizeof(ct) || wc.wr_id >= CTRL_SLOTS) {
			check(false, "xfer: the server's message before chunk %lu: %s, opcode %d, %u bytes",
			      c, ibv_wc_status_str(wc.status), wc.opcode,
			      wc.byte_len);
			goto out;
		}
		memcpy(&ct, v.buf + ctrl_off + wc.wr_id * sizeof(ct),
		       sizeof(ct));
		post_recv(wc.wr_id, v.buf + ctrl_off + wc.wr_id * sizeof(ct),
			  sizeof(ct));
		if (ct.magic != CTRL_MAGIC) {
			check(false, "xfer: the server's message before chunk %lu: bad magic %#x",
			      c, ct.magic);
			goto out;
		}
		if (ct.chunk != c) {
			check(false, "xfer: the server is at chunk %u, this side at %lu",
			      ct.chunk, c);
			goto out;
		}
		if (c == nchunks)
			break;
		n = len / o.msg;
		if (k == K_READ)
			fill(v.buf + sink, len, 0, c + 0x10000);
		else {
			fill(v.buf, len, 0, c);
			maybe_corrupt(v.buf, (unsigned long long)c * o.chunk,
				      len);
		}
		/* Keep up to depth WRs in flight until all n completed. */
		while (done < n) {
			while (posted < n && posted - done < o.depth) {
				size_t off = posted * o.msg;
				int e;

				if (k == K_SEND)
					e = post_send(posted, IBV_WR_SEND,
						      v.buf + off, o.msg, 0, 0);
				else if (k == K_WRITE)
					e = post_send(posted, posted + 1 == n ?
						      IBV_WR_RDMA_WRITE_WITH_IMM :
						      IBV_WR_RDMA_WRITE,
						      v.buf + off, o.msg,
						      peer.addr + off, c);
				else
					e = post_send(posted, IBV_WR_RDMA_READ,
						      v.buf + sink + off, o.msg,
						      peer.addr + off, 0);
				if (e) {
					errno = e;
					die("ibv_post_send %s", kind_name[k]);
				}
				posted++;
			}
			if (!wait_wc(v.scq, &wc, true))
				goto out;
			if (wc.status != IBV_WC_SUCCESS || wc.wr_id != done) {
				check(false, "xfer: %s %" PRIu64 " of chunk %lu: %s (expected WR %zu)",
				      kind_name[k], wc.wr_id, c,
				      ibv_wc_status_str(wc.status), done);
				goto out;
			}
			done++;
		}
		if (k == K_READ) {
			uint64_t bad_off;

			if (!check_piece(v.buf + sink, len, 0, c,
					 "the RDMA READ data", &bad_off))
				goto out;
		}
		moved[k] += len;
		/* Progress, for a run that a timeout cuts short. */
		if ((c + 1) % 8 == 0 && c + 1 < nchunks)
			printf("xfer: %llu of %llu bytes at %.1f s\n",
			       moved[0] + moved[1] + moved[2], total,
			       now_s() - t0);
	}
	summary(t0, moved);
	check(true, "xfer (client): %llu bytes sent, written and read back intact in %lu chunks",
	      total, nchunks);
out:
	r = failures ? 1 : 0;
	tcp_io(&r, 1, true);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* rnr and exhaust: the sender's view of a failed QP                   */
/* ------------------------------------------------------------------ */

/*
 * Check the completions of WRs 0 .. k - 1, in order: WR 0 with first,
 * every later one with IBV_WC_WR_FLUSH_ERR; then the QP must be in ERR
 * and a WR posted now must be flushed too.
 */
static void expect_failed_qp(unsigned int k, enum ibv_wc_status first,
			     const char *what)
{
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;
	struct ibv_wc wc;
	unsigned int i, flushed = 0;
	int e;

	for (i = 0; i < k; i++) {
		enum ibv_wc_status want = i ? IBV_WC_WR_FLUSH_ERR : first;

		if (!wait_wc(v.scq, &wc, false)) {
			check(false, "%s: WR %u of %u completed", what, i, k);
			return;
		}
		if (!i)
			check(wc.wr_id == 0 && wc.status == want,
			      "%s: the first WR completes with %s (got WR %" PRIu64 ": %s)",
			      what, ibv_wc_status_str(want), wc.wr_id,
			      ibv_wc_status_str(wc.status));
		else if (wc.wr_id == i && wc.status == want)
			flushed++;
		else
			printf("  WR %" PRIu64 " (expected WR %u): %s\n",
			       wc.wr_id, i, ibv_wc_status_str(wc.status));
	}
	if (k > 1)
		check(flushed == k - 1, "%s: the %u later WRs are flushed in order (IBV_WC_WR_FLUSH_ERR): %u were",
		      what, k - 1, flushed);
	e = ibv_query_qp(v.qp, &a, IBV_QP_STATE, &ia);
	check(!e && a.qp_state == IBV_QPS_ERR, "%s: the QP is in ERR (state %d)",
	      what, e ? -1 : (int)a.qp_state);
	/* (A QP that did not fail would wait for its peer here.) */
	if (e || a.qp_state != IBV_QPS_ERR)
		return;
	/* A WR posted to a QP in ERR completes flushed. */
	e = post_send(1000, IBV_WR_SEND, v.buf, 64, 0, 0);
	if (e) {
		check(false, "%s: a SEND posted after the error is accepted (ibv_post_send %d)",
		      what, e);
		return;
	}
	if (wait_wc(v.scq, &wc, false))
		check(wc.wr_id == 1000 && wc.status == IBV_WC_WR_FLUSH_ERR,
		      "%s: a SEND posted after the error is flushed (got WR %" PRIu64 ": %s)",
		      what, wc.wr_id, ibv_wc_status_str(wc.status));
	else
		check(false, "%s: a SEND posted after the error completes",
		      what);
}

/* rnr: receiver */
static int rnr_server(void)
{
	struct ibv_wc wc;
	unsigned int i, got = 0;
	char go, r = 1;

	tcp_barrier();
	tcp_io(&go, 1, false);		/* the client's SENDs are posted */
	if (o.expect == E_OK) {
		usleep(o.delay_ms * 1000);
		printf("rnr: posting %u receives %d ms after the SENDs were posted\n",
		       o.k, o.delay_ms);
	} else {
		/* Only after the sender has seen its QP fail. */
		tcp_io(&r, 1, false);
		printf("rnr: posting %u receives after the sender is done\n",
		       o.k);
	}
	for (i = 0; i < o.k; i++)
		post_recv(i, v.buf + i * o.msg, o.msg);
	if (o.expect == E_OK) {
		for (i = 0; i < o.k; i++) {
			uint64_t bad_off;

			if (!wait_wc(v.rcq, &wc, true))
				break;
			if (wc.status != IBV_WC_SUCCESS || wc.wr_id != i ||
			    wc.byte_len != o.msg) {
				check(false, "rnr: receive %u: %s, WR %" PRIu64 ", %u bytes",
				      i, ibv_wc_status_str(wc.status),
				      wc.wr_id, wc.byte_len);
				break;
			}
			if (check_piece(v.buf + i * o.msg, o.msg, i * o.msg, 0,
					"a SEND after RNR", &bad_off))
				got++;
		}
		check(got == o.k, "rnr (receiver): %u of %u SENDs received intact once the receives were posted",
		      got, o.k);
		if (read(tcp_fd, &r, 1) != 1 || r)
			check(false, "rnr: the peer reports a failure");
	} else {
		int n = ibv_poll_cq(v.rcq, 1, &wc);

		check(n == 0, "rnr (receiver): nothing received after the sender's RNR retries ran out (%d completions)",
		      n);
	}
	return failures ? 1 : 0;
}

/* rnr: sender */
static int rnr_client(void)
{
	struct ibv_wc wc;
	unsigned int i, ok = 0;
	double t0, dt = 0;
	char go = 'g', r;

	for (i = 0; i < o.k; i++)
		fill(v.buf + i * o.msg, o.msg, i * o.msg, 0);
	tcp_barrier();
	t0 = now_s();
	for (i = 0; i < o.k; i++)
		if (post_send(i, IBV_WR_SEND, v.buf + i * o.msg, o.msg, 0, 0))
			die("ibv_post_send");
	tcp_io(&go, 1, true);
	if (o.expect == E_OK) {
		for (i = 0; i < o.k; i++) {
			if (!wait_wc(v.scq, &wc, true))
				break;
			if (wc.status == IBV_WC_SUCCESS && wc.wr_id == i)
				ok++;
			else
				printf("  WR %" PRIu64 ": %s\n", wc.wr_id,
				       ibv_wc_status_str(wc.status));
			if (!i)
				dt = now_s() - t0;
		}
		check(ok == o.k, "rnr (sender, rnr_retry %d): %u of %u SENDs completed with success",
		      o.rnr_retry, ok, o.k);
		/*
		 * The receive was posted delay_ms after the receiver heard
		 * "go", which was sent after the SEND was posted: a SEND
		 * that completed sooner was not held up by RNR at all.
		 */
		check(dt * 1e3 >= o.delay_ms, "rnr: the first SEND completed %.0f ms after it was posted, not before the receive (%d ms)",
		      dt * 1e3, o.delay_ms);
	} else {
		char what[64];

		snprintf(what, sizeof(what), "rnr (sender, rnr_retry %d)",
			 o.rnr_retry);
		expect_failed_qp(o.k, IBV_WC_RNR_RETRY_EXC_ERR, what);
	}
	r = failures ? 1 : 0;
	tcp_io(&r, 1, true);
	return failures ? 1 : 0;
}

/* exhaust: the peer, about to be paused */
static int exhaust_server(void)
{
	unsigned int i;
	char r = 1;

	for (i = 0; i < o.k; i++)
		post_recv(i, v.buf + i * o.msg, o.msg);
	tcp_barrier();
	/* Sleeps here while its guest is stopped, then hears "done". */
	tcp_io(&r, 1, false);
	if (r)
		check(false, "exhaust: the peer reports a failure");
	else
		check(true, "exhaust (peer): the sender's checks passed");
	return failures ? 1 : 0;
}

/* exhaust: the sender */
static int exhaust_client(void)
{
	static const enum ibv_wr_opcode op[3] = {
		IBV_WR_SEND, IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ,
	};
	unsigned int i;
	double t0;
	char r;

	tcp_barrier();
	if (o.before_post) {
		int s = system(o.before_post);

		if (s) {
			printf("FAIL exhaust: --before-post '%s' exited %d\n",
			       o.before_post, s);
			r = 1;
			tcp_io(&r, 1, true);
			return 1;
		}
	}
	t0 = now_s();
	for (i = 0; i < o.k; i++) {
		size_t off = (size_t)i * o.msg;

		if (post_send(i, op[i % 3], v.buf + off, o.msg,
			      peer.addr + off, 0))
			die("ibv_post_send");
	}
	expect_failed_qp(o.k, IBV_WC_RETRY_EXC_ERR, "exhaust");
	printf("exhaust: the %u WRs ended %.2f s after they were posted\n",
	       o.k, now_s() - t0);
	teardown();
	r = failures ? 1 : 0;
	tcp_io(&r, 1, true);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: dbnic-rc-xfer xfer|rnr|exhaust server DEV GIDX PORT [OPTIONS]\n"
		"       dbnic-rc-xfer xfer|rnr|exhaust client DEV GIDX HOST PORT [OPTIONS]\n"
		"options: -n MIB -c CHUNK_KIB -s MSG_BYTES -d DEPTH -k WRS -m MTU -w SECONDS\n"
		"         --timeout N --retry-cnt N --rnr-retry N --min-rnr-timer N\n"
		"         --delay-ms MS --expect ok|rnr|retry --corrupt OFFSET\n"
		"         --before-post CMD\n"
		"(the comment at the top of tests/rdma/dbnic-rc-xfer.c says more)\n");
	exit(2);
}

static long num(const char *s, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 0);
	if (errno || *end || end == s || n < min || n > max) {
		fprintf(stderr, "FAIL '%s': want a number from %ld to %ld\n",
			s, min, max);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "timeout", required_argument, NULL, 'T' },
		{ "retry-cnt", required_argument, NULL, 'R' },
		{ "rnr-retry", required_argument, NULL, 'N' },
		{ "min-rnr-timer", required_argument, NULL, 'M' },
		{ "delay-ms", required_argument, NULL, 'D' },
		{ "expect", required_argument, NULL, 'E' },
		{ "corrupt", required_argument, NULL, 'X' },
		{ "before-post", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	bool msg_set = false, wait_set = false;
	size_t buf_len;
	int ch, rest;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt_long(argc, argv, "n:c:s:d:k:m:w:", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': o.mib = num(optarg, 1, 1 << 20); break;
		case 'c': o.chunk = num(optarg, 4, 256 * 1024) * KIB; break;
		case 's':
			o.msg = num(optarg, 8, 1 << 24);
			msg_set = true;
			break;
		case 'd': o.depth = num(optarg, 1, 1024); break;
		case 'k': o.k = num(optarg, 1, 1024); break;
		case 'm': o.mtu = num(optarg, 256, 4096); break;
		case 'w':
			o.wait_s = num(optarg, 1, 86400);
			wait_set = true;
			break;
		case 'T': o.timeout = num(optarg, 0, 31); break;
		case 'R': o.retry_cnt = num(optarg, 0, 7); break;
		case 'N': o.rnr_retry = num(optarg, 0, 7); break;
		case 'M': o.min_rnr_timer = num(optarg, 0, 31); break;
		case 'D': o.delay_ms = num(optarg, 0, 600000); break;
		case 'X': o.corrupt = num(optarg, 0, 0x7fffffffffffffffL); break;
		case 'B': o.before_post = optarg; break;
		case 'E':
			if (!strcmp(optarg, "ok"))
				o.expect = E_OK;
			else if (!strcmp(optarg, "rnr"))
				o.expect = E_RNR;
			else if (!strcmp(optarg, "retry"))
				o.expect = E_RETRY;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	rest = argc - optind;
	if (rest < 2)
		usage();
	o.mode = argv[optind];
	o.server = !strcmp(argv[optind + 1], "server");
	if (!o.server && strcmp(argv[optind + 1], "client"))
		usage();
	if (rest != (o.server ? 5 : 6))
		usage();
	o.dev = argv[optind + 2];
	o.gidx = num(argv[optind + 3], 0, 65535);
	if (!o.server)
		o.host = argv[optind + 4];
	o.port = num(argv[argc - 1], 1, 65535);

	if (!strcmp(o.mode, "xfer")) {
		if (o.msg % 8 || o.chunk % o.msg) {
			fprintf(stderr, "FAIL -s must be a multiple of 8 that divides the chunk (-c)\n");
			return 2;
		}
		total = (unsigned long long)o.mib * MIB;
		if (o.chunk > total)
			o.chunk = total;
		if (total % o.msg) {
			fprintf(stderr, "FAIL -n MiB must be a whole number of messages (-s)\n");
			return 2;
		}
		nchunks = (total + o.chunk - 1) / o.chunk;
		if (o.timeout < 0)
			o.timeout = 14;
		if (o.retry_cnt < 0)
			o.retry_cnt = 7;
		if (o.rnr_retry < 0)
			o.rnr_retry = 7;
		if (o.expect == E_DEFAULT)
			o.expect = E_OK;
		buf_len = 2 * o.chunk + CTRL_SLOTS * sizeof(struct ctrl);
		dev_open(buf_len, o.server ? o.chunk / o.msg : 0);
		connect_peer();
		return o.server ? xfer_server() : xfer_client();
	}
	if (!strcmp(o.mode, "rnr")) {
		if (!o.k)
			o.k = 4;
		if (!msg_set)
			o.msg = 4096;
		if (!wait_set)
			o.wait_s = 30;
		if (o.timeout < 0)
			o.timeout = 14;
		if (o.retry_cnt < 0)
			o.retry_cnt = 7;
		if (o.rnr_retry < 0)
			o.rnr_retry = 7;
		if (o.expect == E_DEFAULT)
			o.expect = o.rnr_retry ? E_OK : E_RNR;
		if (o.expect == E_RETRY)
			usage();
		o.depth = o.k;
		dev_open(o.k * o.msg + 64, o.k);
		connect_peer();
		return o.server ? rnr_server() : rnr_client();
	}
	if (!strcmp(o.mode, "exhaust")) {
		if (!o.k)
			o.k = 16;
		/*
		 * One packet per WR: every try of every WR goes towards a
		 * peer that takes nothing in, and with 4 KiB ones (256
		 * packets in four tries) QEMU's socket to a stopped guest
		 * filled, the sender's virtio-net TX queue stalled with
		 * rxe's packets in it, and ibv_destroy_qp waited on them.
		 */
		if (!msg_set)
			o.msg = 256;
		if (!wait_set)
			o.wait_s = 30;
		if (o.timeout < 0)
			o.timeout = 10;
		if (o.retry_cnt < 0)
			o.retry_cnt = 3;
		if (o.rnr_retry < 0)
			o.rnr_retry = 7;
		if (o.expect != E_DEFAULT && o.expect != E_RETRY)
			usage();
		o.depth = o.k;
		dev_open(o.k * o.msg + 64, o.k);
		connect_peer();
		return o.server ? exhaust_server() : exhaust_client();
	}
	usage();
	return 2;
}
