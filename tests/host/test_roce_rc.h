/* Tests of the RoCE v2 transport (test_roce_rc.c); see test_core.c's table. */
#ifndef DBNIC_TEST_ROCE_RC_H
#define DBNIC_TEST_ROCE_RC_H

void test_roce_rc_send(void);

#endif
