/* Tests of the RoCEv2 wire library (test_roce_wire.c); see test_core.c's table. */
#ifndef DBNIC_TEST_ROCE_WIRE_H
#define DBNIC_TEST_ROCE_WIRE_H

void test_roce_crc32_vs_zlib(void);
void test_roce_round_trip_all_opcodes(void);
void test_roce_opcode_table(void);
void test_roce_icrc_masks(void);
void test_roce_rxe_frames(void);
void test_roce_refusals(void);
void test_roce_truncations(void);
void test_roce_build_limits(void);
void test_roce_psn(void);
void test_roce_pkey_and_demux(void);

#endif
