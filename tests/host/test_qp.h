/* Tests of the RDMA objects (test_qp_state.c); see test_core.c's table. */
#ifndef DBNIC_TEST_QP_H
#define DBNIC_TEST_QP_H

void test_qp_caps_and_roce_off(void);
void test_qp_transitions_rc(void);
void test_qp_transitions_ud(void);
void test_qp_transitions_gsi(void);
void test_qp_attr_ranges(void);
void test_qp_create_refusals(void);
void test_qp_no_resource(void);
void test_qp_err_flush_order(void);
void test_qp_reset_discards(void);
void test_qp_destroy_generation(void);
void test_qp_destroy_ctx_cleanup(void);
void test_rdma_cqe_layout(void);
void test_cq_comp_coalesced(void);
void test_cq_comp_never_dropped(void);
void test_cq_comp_destroyed(void);
void test_db_qp_rq_refusals(void);
void test_qp_prio_in_order(void);
void test_qp_prio_in_order_timed(void);
void test_qp_wqe_checks(void);
void test_ah_checks(void);
void test_set_gid_privileged(void);
void test_qp_fatal_once(void);
void test_qp_wqe_solicited_read_whole(void);

#endif
