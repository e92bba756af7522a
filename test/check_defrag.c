/* check_defrag.c - unit tests of IP fragment reassembly (td_defrag.h).
 *
 * A datagram of known bytes is cut into fragments by hand; what comes back
 * is compared byte for byte with the datagram, and every drop with the
 * counter its reason names.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "td_defrag.h"

Suite *td_defrag_suite(void);

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t payload[65536 + 1024];

static void fill_payload(void)
{
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
}

static struct td_ip_frag frag(int family, uint32_t id, uint32_t off, size_t len, bool more)
{
	struct td_ip_frag f;

	memset(&f, 0, sizeof f);
	f.src.family = f.dst.family = (uint8_t)family;
	f.src.bytes[0] = 10;
	f.src.bytes[3] = 1;
	f.dst.bytes[0] = 10;
	f.dst.bytes[3] = 2;
	f.id = id;
	f.proto = 6;
	f.offset = off;
	f.more = more;
	f.data = payload + off;
	f.len = len;
	return f;
}

static struct td_time at(int64_t sec)
{
	struct td_time t = {sec, 0};
	return t;
}

static struct td_defrag *new_defrag(void)
{
	struct td_defrag_limits l;
	td_defrag_limits_default(&l);
	struct td_defrag *d = td_defrag_new(&l);
	ck_assert_ptr_nonnull(d);
	return d;
}

static enum td_defrag_result add(struct td_defrag *d, struct td_ip_frag f, int64_t sec,
				 const uint8_t **out, size_t *len)
{
	return td_defrag_add(d, &f, at(sec), out, len);
}

/* The datagram comes back whole, in order or not, with a header of its
 * own (RFC 791 §3.1: IHL 5, total length, protocol, addresses). */
START_TEST(test_in_any_order)
{
	static const int orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}};
	const uint32_t offs[] = {0, 800, 1600, 2400};
	const size_t lens[] = {800, 800, 800, 333};

	fill_payload();
	for (size_t o = 0; o < N(orders); o++) {
		struct td_defrag *d = new_defrag();
		const uint8_t *out = NULL;
		size_t len = 0;
		for (int k = 0; k < 4; k++) {
			int i = orders[o][k];
			enum td_defrag_result r =
				add(d, frag(4, 77, offs[i], lens[i], i != 3), 100, &out, &len);
			ck_assert_int_eq(r, k == 3 ? TD_DEFRAG_DONE : TD_DEFRAG_HELD);
		}
		ck_assert_uint_eq(len, 20 + 2733);
		ck_assert_uint_eq(out[0], 0x45);
		ck_assert_uint_eq(out[2] << 8 | out[3], 20 + 2733);
		ck_assert_uint_eq(out[6] & 0x3F, 0); /* no MF, no offset */
		ck_assert_uint_eq(out[7], 0);
		ck_assert_uint_eq(out[9], 6);
		ck_assert_uint_eq(out[12], 10);
		ck_assert_uint_eq(out[19], 2);
		ck_assert_mem_eq(out + 20, payload, 2733);
		ck_assert_uint_eq(td_defrag_held(d), 0);
		struct td_defrag_stats st;
		td_defrag_stats(d, &st);
		ck_assert_uint_eq(st.fragments, 4);
		ck_assert_uint_eq(st.reassembled, 1);
		ck_assert_uint_eq(st.pending, 0);
		td_defrag_free(d);
	}
}
END_TEST

/* IPv6: a 40-byte header whose Next Header is the Fragment header's. */
START_TEST(test_ipv6)
{
	struct td_defrag *d = new_defrag();
	const uint8_t *out;
	size_t len;

	fill_payload();
	ck_assert_int_eq(add(d, frag(6, 0x5A5A0001, 64, 100, false), 5, &out, &len),
			 TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(6, 0x5A5A0001, 0, 64, true), 5, &out, &len), TD_DEFRAG_DONE);
	ck_assert_uint_eq(len, 40 + 164);
	ck_assert_uint_eq(out[0] >> 4, 6);
	ck_assert_uint_eq(out[4] << 8 | out[5], 164);
	ck_assert_uint_eq(out[6], 6);
	ck_assert_mem_eq(out + 40, payload, 164);
	td_defrag_free(d);
}
END_TEST

/* Overlaps: the same bytes again are harmless in IPv4, different bytes
 * drop the datagram; in IPv6 any overlap but an exact duplicate drops it
 * (RFC 5722 §4). */
START_TEST(test_overlaps)
{
	static uint8_t other[64];
	struct td_defrag_stats st;
	const uint8_t *out;
	size_t len;

	fill_payload();
	/* IPv4, overlap with the same bytes: still rebuilt */
	struct td_defrag *d = new_defrag();
	ck_assert_int_eq(add(d, frag(4, 1, 0, 64, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(4, 1, 32, 64, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(4, 1, 96, 8, false), 1, &out, &len), TD_DEFRAG_DONE);
	ck_assert_mem_eq(out + 20, payload, 104);
	/* IPv4, overlap with other bytes: dropped, counted */
	struct td_ip_frag f = frag(4, 2, 32, 64, true);
	memset(other, 0xEE, sizeof other);
	f.data = other;
	ck_assert_int_eq(add(d, frag(4, 2, 0, 64, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(td_defrag_add(d, &f, at(1), &out, &len), TD_DEFRAG_DROPPED);
	td_defrag_stats(d, &st);
	ck_assert_uint_eq(st.overlaps, 1);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(td_defrag_held(d), 0);
	/* IPv6: an exact duplicate is dropped alone ... */
	ck_assert_int_eq(add(d, frag(6, 3, 0, 64, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(6, 3, 0, 64, true), 1, &out, &len), TD_DEFRAG_HELD);
	/* ... an overlap with the same bytes drops the datagram */
	ck_assert_int_eq(add(d, frag(6, 3, 32, 64, false), 1, &out, &len), TD_DEFRAG_DROPPED);
	td_defrag_stats(d, &st);
	ck_assert_uint_eq(st.overlaps, 2);
	ck_assert_uint_eq(st.pending, 0);
	td_defrag_free(d);
}
END_TEST

/* The counters are timed_out and pending. */
static void expect_counts(struct td_defrag *d, uint64_t timed_out, uint64_t pending)
{
	struct td_defrag_stats st;

	td_defrag_stats(d, &st);
	ck_assert_uint_eq(st.timed_out, timed_out);
	ck_assert_uint_eq(st.pending, pending);
}

/* Capture time, not the clock: a datagram older than the timeout goes. */
START_TEST(test_timeout)
{
	struct td_defrag *d = new_defrag();
	const uint8_t *out;
	size_t len;

	fill_payload();
	ck_assert_int_eq(add(d, frag(4, 9, 0, 64, true), 1000, &out, &len), TD_DEFRAG_HELD);
	/* 30 s later it is still there */
	ck_assert_int_eq(add(d, frag(4, 10, 0, 8, true), 1030, &out, &len), TD_DEFRAG_HELD);
	expect_counts(d, 0, 2);
	/* 31 s: the first is dropped; its last piece starts a new datagram */
	ck_assert_int_eq(add(d, frag(4, 9, 64, 8, false), 1031, &out, &len), TD_DEFRAG_HELD);
	expect_counts(d, 1, 2);
	/* no fragment comes any more (a quiet live interface): time alone
	 * drops them, the one from 1030 only past 1060 */
	td_defrag_expire(d, at(1060));
	expect_counts(d, 1, 2);
	td_defrag_expire(d, at(1061));
	expect_counts(d, 2, 1);
	td_defrag_expire(d, at(1062));
	expect_counts(d, 3, 0);
	ck_assert_uint_eq(td_defrag_held(d), 0);
	td_defrag_free(d);
}
END_TEST

/* The caps: a datagram past 65535 bytes, more pieces than allowed, more
 * bytes or datagrams held than allowed. */
START_TEST(test_caps)
{
	struct td_defrag_limits l;
	struct td_defrag_stats st;
	const uint8_t *out;
	size_t len;

	fill_payload();
	td_defrag_limits_default(&l);
	ck_assert_uint_eq(l.max_datagram, 65535);
	l.max_fragments = 4;
	l.max_datagrams = 2;
	l.max_bytes = 1000;
	struct td_defrag *d = td_defrag_new(&l);
	ck_assert_ptr_nonnull(d);
	/* IPv4: 20 + 65512 + 8 > 65535 */
	ck_assert_int_eq(add(d, frag(4, 1, 65512, 8, false), 1, &out, &len), TD_DEFRAG_DROPPED);
	/* IPv6: 65528 + 8 = 65536 > 65535 */
	ck_assert_int_eq(add(d, frag(6, 1, 65528, 8, false), 1, &out, &len), TD_DEFRAG_DROPPED);
	td_defrag_stats(d, &st);
	ck_assert_uint_eq(st.oversized, 2);
	/* too many pieces */
	for (uint32_t i = 0; i < 4; i++)
		ck_assert_int_eq(add(d, frag(4, 2, i * 8, 8, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(4, 2, 32, 8, true), 1, &out, &len), TD_DEFRAG_DROPPED);
	td_defrag_stats(d, &st);
	ck_assert_uint_eq(st.too_many, 1);
	ck_assert_uint_eq(td_defrag_held(d), 0);
	/* a third datagram evicts the oldest */
	ck_assert_int_eq(add(d, frag(4, 3, 0, 8, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(4, 4, 0, 8, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(4, 5, 0, 8, true), 1, &out, &len), TD_DEFRAG_HELD);
	td_defrag_stats(d, &st);
	ck_assert_uint_eq(st.evicted, 1);
	ck_assert_uint_eq(st.pending, 2);
	/* 1000 bytes at most: 800 more evict the others */
	ck_assert_int_eq(add(d, frag(4, 6, 0, 800, true), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_uint_le(td_defrag_held(d), 1000);
	ck_assert_int_eq(add(d, frag(4, 7, 0, 1008, true), 1, &out, &len), TD_DEFRAG_DROPPED);
	ck_assert_uint_le(td_defrag_held(d), 1000);
	td_defrag_free(d);
}
END_TEST

/* Pieces that contradict the datagram's end, and fragments the capture
 * cut. */
START_TEST(test_inconsistent)
{
	struct td_defrag *d = new_defrag();
	struct td_defrag_stats st;
	const uint8_t *out;
	size_t len;

	fill_payload();
	ck_assert_int_eq(add(d, frag(4, 1, 64, 8, false), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(4, 1, 72, 8, true), 1, &out, &len), TD_DEFRAG_DROPPED);
	ck_assert_int_eq(add(d, frag(4, 2, 64, 8, false), 1, &out, &len), TD_DEFRAG_HELD);
	ck_assert_int_eq(add(d, frag(4, 2, 80, 8, false), 1, &out, &len), TD_DEFRAG_DROPPED);
	struct td_ip_frag f = frag(4, 3, 0, 8, true);
	f.missing = 100;
	ck_assert_int_eq(td_defrag_add(d, &f, at(1), &out, &len), TD_DEFRAG_DROPPED);
	td_defrag_stats(d, &st);
	ck_assert_uint_eq(st.inconsistent, 2);
	ck_assert_uint_eq(st.truncated, 1);
	ck_assert_uint_eq(st.pending, 0);
	td_defrag_free(d);
}
END_TEST

/* Random pieces of random datagrams: never a crash, the bytes held always
 * within the cap, anything rebuilt within 65535 + header. */
START_TEST(test_random)
{
	struct td_defrag_limits l;
	uint32_t x = 12345;
	const uint8_t *out;
	size_t len;

	fill_payload();
	td_defrag_limits_default(&l);
	l.max_bytes = 20000;
	struct td_defrag *d = td_defrag_new(&l);
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint32_t off = (x >> 4) % 2000 & ~7u;
		size_t n = (x >> 16) % 900;
		struct td_ip_frag f = frag(x & 1 ? 4 : 6, (x >> 8) & 3, off, n, (x >> 2) & 1);
		if (td_defrag_add(d, &f, at(i / 500), &out, &len) == TD_DEFRAG_DONE)
			ck_assert_uint_le(len, 40 + 65535);
		ck_assert_uint_le(td_defrag_held(d), 20000);
	}
	td_defrag_free(d);
}
END_TEST

Suite *td_defrag_suite(void)
{
	Suite *s = suite_create("defrag");
	TCase *tc = tcase_create("defrag");
	tcase_add_test(tc, test_in_any_order);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_overlaps);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_inconsistent);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return s;
}
