/* Tests of the RoCE v2 transport (test_roce_rc.c); see test_core.c's table. */
#ifndef DBNIC_TEST_ROCE_RC_H
#define DBNIC_TEST_ROCE_RC_H

void test_roce_rc_send(void);
void test_roce_rc_write_read(void);
void test_roce_rc_inline_prio(void);
void test_roce_rc_coalesced_acks(void);
void test_roce_rc_ack_before_teardown(void);
void test_roce_rc_replay(void);
void test_roce_rc_read_replay(void);
void test_roce_rc_psn_ahead(void);
void test_roce_rc_rnr(void);
void test_roce_rc_timeout_retx(void);
void test_roce_rc_go_back_n(void);
void test_roce_rc_retry_exhausted(void);
void test_roce_rc_rnr_retry(void);
void test_roce_rc_read_retx(void);
void test_roce_rc_retx_slot_changed(void);
void test_roce_rc_read_again_yields(void);
void test_roce_rc_rkey_refused(void);
void test_roce_loopback(void);
void test_roce_ud(void);
void test_roce_rx_checks(void);
void test_roce_rc_big_write(void);
void test_roce_port_busy_and_down(void);
void test_roce_gsi(void);
void test_roce_rc_read_order_and_limit(void);
void test_roce_rc_read_resp_msn(void);
void test_roce_rc_recv_errors(void);
void test_roce_rc_flush_inflight(void);
void test_roce_ipv6_vlan(void);
void test_roce_rc_send_cut(void);
void test_roce_fault_off_and_all(void);
void test_roce_fault_dup(void);
void test_roce_fault_reorder(void);
void test_roce_fault_delay(void);
void test_roce_fault_corrupt(void);
void test_roce_fault_replay(void);
void test_roce_fault_hold_full_and_reset(void);
void test_roce_fault_loopback(void);
void test_roce_fault_delay_timed(void);

#endif
