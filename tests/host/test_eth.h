/* Tests of the network port (test_eth.c); see test_core.c's table. */
#ifndef DBNIC_TEST_ETH_H
#define DBNIC_TEST_ETH_H

void test_eth_identity_and_link(void);
void test_eth_tx_gathers_sges(void);
void test_eth_tx_through_mr(void);
void test_eth_tx_inline_prio_reads_nothing(void);
void test_eth_tx_bad_descriptors(void);
void test_eth_tx_tso_described(void);
void test_eth_tx_segment_fits_frame(void);
void test_eth_tx_link_down_drops(void);
void test_eth_tx_busy_waits(void);
void test_eth_tx_busy_flushed_by_destroy(void);
void test_eth_reset_drops_held_frames(void);
void test_eth_rx_delivers(void);
void test_eth_rx_no_buffer(void);
void test_eth_rx_bad_frames(void);
void test_eth_rx_bad_recv(void);
void test_eth_rx_recv_changed(void);
void test_eth_rx_scatter_odd(void);
void test_eth_rq_admin(void);
void test_eth_rss(void);
void test_eth_rx_meta_sanitised(void);
void test_eth_rx_cq_error(void);
void test_eth_tx_timing(void);

#endif
