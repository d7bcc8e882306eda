/*
 * dbnic device core: the RoCE v2 transport's state (datasheet 11.4-11.9).
 *
 * struct dbnic_qp (the QP object: table, admin commands, state machine)
 * embeds one struct dbnic_roce_req (the requester: PSNs, WQEs sent and
 * not yet acknowledged, READs waiting for their responses) and one struct
 * dbnic_roce_resp (the responder: expected PSN, the message being
 * received, READ resources, the ACK it owes).  dbnic_roce_tx.c sends,
 * dbnic_roce_rx.c receives; both run only where the engine may DMA (a
 * run, or the port's receive call).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DBNIC_ROCE_H
#define DBNIC_ROCE_H

#include <stdbool.h>
#include <stdint.h>

#include "dbnic_hw.h"
#include "dbnic_roce_wire.h"

struct dbnic_core;
struct dbnic_qp;
struct dbnic_sq;

/*
 * An RC WQE whose packets went out and that waits for its ACK or READ
 * response before its CQE (11.4).
 */
struct dbnic_roce_inflight {
    uint16_t index;     /* its ring index */
    uint8_t opcode;     /* enum dbnic_opcode */
    uint8_t flags;      /* the WQE's DBNIC_DESC_F_* */
    bool prio;          /* ran from the priority lane */
    uint32_t first_psn; /* its first PSN (READ: the request's) */
    uint32_t last_psn;  /* its last PSN (READ: its last response's) */
    uint32_t len;       /* message bytes */
};

/*
 * Where the sending of one WQE's packets stands: the WQE being sent (the
 * send queue's job) or one sent again (11.10).
 */
struct dbnic_roce_cur {
    uint32_t msg_psn;   /* PSN of packet 0 */
    uint32_t npkts;     /* its packets (READ: 1, the request) */
    uint32_t sent_pkts; /* the next packet to send, 0..npkts */
    uint32_t hi;        /* packets sent at least once: below it, again */
    uint32_t off;       /* payload bytes before packet sent_pkts */
    uint8_t sge_i;      /* gather position: SGE ... */
    uint32_t sge_off;   /* ... and bytes of it used */
    uint32_t read_off;  /* READ sent again: bytes placed already (11.10) */
};

/* A READ the requester waits on: where its responses go (11.4). */
struct dbnic_roce_read {
    uint32_t first_psn; /* of the request, and of the first response */
    uint32_t resp_first; /* the PSN of a READ response first or only */
    uint32_t len;
    uint32_t done;      /* response bytes placed */
    uint8_t nsge;
    uint8_t i;          /* current scatter SGE */
    uint32_t off;       /* bytes of it used */
    struct dbnic_sge sge[DBNIC_RDMA_MAX_SGE];
};

struct dbnic_roce_req {
    uint32_t psn;           /* next PSN to send */
    uint16_t ip_id;         /* IPv4 identification of the next packet */
    uint16_t since_ackreq;  /* packets sent since the last AckReq */
    /* The WQE of the send queue's job: started (PSNs assigned) or not. */
    bool started;
    bool wait;              /* inflight full, READ limit or FENCE */
    struct dbnic_roce_cur cur;
    /* Reliability (11.10). */
    uint32_t una;           /* oldest PSN not acknowledged */
    uint8_t retry_left;     /* retries left: retry_cnt ... */
    uint8_t rnr_left;       /* ... and rnr_retry (7: unlimited) */
    uint64_t deadline;      /* transport timer or RNR wait end, 0: none */
    bool rnr_wait;          /* deadline ends an RNR wait */
    bool timer_fired;       /* the deadline passed: the engine acts */
    bool retx;              /* go-back-N under way */
    bool retx_started;      /* one began since the last progress ... */
    uint32_t retx_from;     /* ... from this PSN */
    uint16_t retx_k;        /* inflight entry sent again, from if_head */
    bool retx_loaded;       /* retx_d, retx_total and retx_cur are set */
    uint64_t retx_total;
    struct dbnic_roce_cur retx_cur;
    struct dbnic_desc retx_d;
    /* RC: sent, not yet complete, oldest first. */
    uint16_t if_head;
    uint16_t if_len;
    struct dbnic_roce_inflight inflight[DBNIC_QP_MAX_INFLIGHT];
    /* READs outstanding, oldest first; rd_psn: next response expected. */
    uint8_t rd_head;
    uint8_t rd_len;
    uint32_t rd_psn;
    struct dbnic_roce_read rd[DBNIC_QP_MAX_RD_ATOMIC];
};

/* A READ request the responder serves or served (max_dest_rd_atomic). */
struct dbnic_roce_rres {
    bool active;            /* responses left to send */
    uint32_t first_psn;
    uint32_t npkts;
    uint32_t next;          /* next response packet, 0..npkts */
    uint32_t rkey;
    uint64_t va;
    uint32_t len;
};

struct dbnic_roce_resp {
    uint32_t epsn;          /* next PSN expected */
    uint32_t msn;           /* messages completed (24 bits) */
    bool seq_nak;           /* a sequence NAK went out: no second one */
    /* The ACK or NAK owed, sent at the engine's next pass over the QP. */
    bool ack_owed;
    uint8_t ack_syn;        /* AETH syndrome: 0x1f ACK, or a NAK */
    uint32_t ack_psn;
    uint32_t ack_msn;
    bool nak_owed;          /* ack_syn is a NAK: no ACK replaces it */
    /* The message being received. */
    uint8_t cur;            /* 0, or the opcode class: 'S' send, 'W' write */
    uint32_t cur_len;       /* bytes received so far */
    /* SEND: the RECV taken at its first packet. */
    uint16_t recv_index;
    uint8_t recv_nsge;
    uint64_t recv_room;
    struct dbnic_sge recv_sge[DBNIC_MAX_SGE];
    /* WRITE: the target from the RETH. */
    uint64_t w_va;
    uint32_t w_rkey;
    uint32_t w_len;
    /* READ resources, a ring of max_dest_rd_atomic entries. */
    uint8_t rr_next;        /* slot of the next new READ */
    struct dbnic_roce_rres rr[DBNIC_QP_MAX_RD_ATOMIC];
};

/* Bytes of the largest RoCE frame the device builds or loops back. */
#define DBNIC_ROCE_FRAME_MAX (DBNIC_ROCE_MAX_HDR + 4096 + 3 + \
                              DBNIC_ROCE_ICRC_LEN)

/* A frame waiting on the loopback FIFO (11.8). */
struct dbnic_roce_loop {
    uint16_t len;
    uint8_t buf[DBNIC_ROCE_FRAME_MAX];
};

/* ---- dbnic_roce_tx.c ---- */

/* Both sides' state back to a fresh QP's, PSNs from its attributes. */
void dbnic_roce_qp_reset(struct dbnic_qp *qp);
/*
 * MODIFY_QP applied attr_mask's attributes and moves the QP to state:
 * RESET starts the transport afresh, RQ_PSN and SQ_PSN set the next PSN
 * expected and sent.
 */
void dbnic_roce_qp_modified(struct dbnic_qp *qp, uint8_t state,
                            uint32_t attr_mask);
/*
 * The QP's send queue's job (a WQE that passed the checks of 11.4):
 * assign PSNs, send up to a chunk of its packets.  Returns the payload
 * bytes gathered.  Ends the job itself (dbnic_job_end()), with a CQE for
 * UD, or with none until the ACK for RC.  Leaves the job waiting
 * (dbnic_roce_req_waiting()) when the QP has no room for it.
 */
uint32_t dbnic_roce_req_step(struct dbnic_core *c, struct dbnic_sq *sq,
                             uint32_t qid);
/*
 * The requester's reliability (11.10), once per engine pass over the QP
 * before its responder output: a passed deadline (timeout or RNR wait),
 * then up to a chunk of packets sent again.  Returns the payload bytes
 * gathered; *progress when a packet went out.
 */
uint32_t dbnic_roce_retx_step(struct dbnic_core *c, struct dbnic_qp *qp,
                              bool *progress);
/*
 * Go-back-N from the oldest PSN not acknowledged (11.10), counted in
 * counter (ROCE_RETRY_TIMEOUT or _SEQ), taking one retry; or, with none
 * left, the oldest WQE fails with RETRY_EXC_ERR and the QP goes to ERR.
 */
void dbnic_roce_retry(struct dbnic_core *c, struct dbnic_qp *qp,
                      enum dbnic_counter counter);
/* An RNR NAK of the oldest PSN not acknowledged, timer field x (11.10). */
void dbnic_roce_rnr(struct dbnic_core *c, struct dbnic_qp *qp, uint8_t x);
/*
 * Acknowledgements reached next (the PSN after the last one acknowledged):
 * una advances, the retry counts start again, the timer restarts.
 */
void dbnic_roce_acked(struct dbnic_core *c, struct dbnic_qp *qp,
                      uint32_t next);
/* The PSN after which nothing is acknowledged: where go-back-N starts. */
uint32_t dbnic_roce_resume_psn(const struct dbnic_qp *qp);
/* The device timer fired at now: mark the QPs whose deadline passed. */
void dbnic_roce_timer(struct dbnic_core *c, uint64_t now);
/*
 * The WQE of the oldest outstanding PSN fails with wc_status: the
 * inflight one or the one being sent; then the QP goes to ERR and the
 * rest flushes.
 */
void dbnic_roce_req_fail_oldest(struct dbnic_core *c, struct dbnic_qp *qp,
                                uint8_t wc_status, uint8_t vendor);
/* Does the send queue's job wait for an ACK, a READ or the port? */
bool dbnic_roce_req_waiting(struct dbnic_core *c, const struct dbnic_sq *sq);
/*
 * The responder's output on one pass of the engine over the QP: READ
 * responses (a chunk at most), then the ACK or NAK owed.  Returns the
 * payload bytes sent; *progress when a packet went out.
 */
uint32_t dbnic_roce_resp_step(struct dbnic_core *c, struct dbnic_qp *qp,
                              bool *progress);
/*
 * Requester: every SEND and WRITE sent up to PSN psn (inclusive)
 * completes, in order; a READ stops it (it completes by its last
 * response).  true if any did.
 */
bool dbnic_roce_complete_upto(struct dbnic_core *c, struct dbnic_qp *qp,
                              uint32_t psn);
/*
 * The oldest inflight WQE completes with wc_status: a CQE if it asked
 * for one or failed.
 */
void dbnic_roce_inflight_done(struct dbnic_core *c, struct dbnic_qp *qp,
                              uint8_t wc_status);
/* The responder has output waiting for the engine. */
bool dbnic_roce_resp_busy(const struct dbnic_qp *qp);
/*
 * The host takes the QP out of RTR/RTS (MODIFY_QP to ERR or RESET,
 * DESTROY_QP): the ACK or NAK it still owes goes out now, if the port
 * takes it (11.8, "Acknowledgements"); READ responses in progress do not.
 */
void dbnic_roce_resp_drain(struct dbnic_core *c, struct dbnic_qp *qp);
/*
 * The QP moves to ERR: its WQEs sent and not completed complete with
 * WR_FLUSH_ERR, oldest first (before the send queue's others).
 */
void dbnic_roce_req_flush(struct dbnic_core *c, struct dbnic_qp *qp);
/*
 * Slots before this are free (11.6): the oldest WQE of the send queue not
 * yet completed.
 */
uint16_t dbnic_roce_sq_head(struct dbnic_core *c, const struct dbnic_qp *qp,
                            const struct dbnic_sq *sq);
/*
 * Put one built frame on the port: the loopback FIFO for the port's own
 * MAC, else ops->eth_tx.  Returns false if the port is busy (nothing
 * sent: try again after dbnic_core_eth_tx_resume()).
 */
bool dbnic_roce_xmit(struct dbnic_core *c, const uint8_t *frame, size_t len);

/* ---- dbnic_mr.c ---- */

/*
 * May a request to qp touch [va, va + len) through rkey with access
 * (DBNIC_MR_REMOTE_READ or _WRITE)?  The QP must accept the access, and
 * the rkey name a registration of the QP's context and pd that grants it
 * and holds the whole range; key 0 never does (11.1, 11.8).
 */
bool dbnic_rkey_check(struct dbnic_core *c, const struct dbnic_qp *qp,
                      uint32_t rkey, uint64_t va, uint32_t len,
                      uint8_t access);

/* ---- dbnic_roce_rx.c ---- */

/*
 * The top of Ethernet receive: true if the frame is RoCE (UDP 4791 to a
 * valid GID of the port, 11.8) and was taken (processed or dropped and
 * counted); false if it goes on to the Ethernet receive queues.
 */
bool dbnic_roce_rx(struct dbnic_core *c, const uint8_t *frame, size_t len);
/* In a run: receive the frames looped back so far. */
void dbnic_roce_loop_run(struct dbnic_core *c);
/* Device reset: the loopback FIFO empties. */
void dbnic_roce_loop_reset(struct dbnic_core *c);

/* ---- dbnic_fault.c: fault injection (11.11) ---- */

/*
 * The receive hook, for a frame that is RoCE to this port (11.8), when
 * receive faults are on and the frame was not judged before
 * (dbnic_fault_on()): true if it took the frame (dropped, held, or
 * delivered damaged), false if the caller receives it now.
 */
bool dbnic_fault_rx(struct dbnic_core *c, const uint8_t *frame, size_t len);
/*
 * The transmit hook, in place of dbnic_roce_xmit() when transmit faults
 * are on: the same contract (false: the port is busy, nothing happened).
 */
bool dbnic_fault_tx(struct dbnic_core *c, const uint8_t *frame, size_t len);
/* In a run: deliver the held packets that are due. */
void dbnic_fault_run(struct dbnic_core *c);
/* The core's timer fired: a run if a held packet is due; re-arm. */
void dbnic_fault_timer(struct dbnic_core *c);
/* Device reset: the holds empty, the generators restart from the seed. */
void dbnic_fault_reset(struct dbnic_core *c);
void dbnic_fault_free(struct dbnic_core *c);

#endif /* DBNIC_ROCE_H */
