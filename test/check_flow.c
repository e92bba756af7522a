/* check_flow.c - unit tests of the flow table (td_flow.h).
 *
 * The SipHash-2-4 core is checked against the reference implementation's
 * published vectors; the table is checked through its public contract, with
 * expectations built by the test (the key's serialisation, the canonical
 * order of endpoints, the activity order).
 *
 * The engine's use of the table (connection life cycle, idle timeouts per
 * state, --max-memory, the TCP details around the reassembler) is checked
 * with crafted segment sequences fed to td_engine_packet(): each test
 * builds the packets, so it knows the sequence numbers, bytes and states
 * it expects.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "td_classify.h"
#include "td_engine.h"
#include "td_flow.h"
#include "td_test_util.h"
#include "td_x509.h"

/* SipHash-2-4 with key 00 01 .. 0f over the message 00 01 .. (i - 1), for
 * i = 0..63: the vectors_sip64 table of the reference implementation
 * (Aumasson and Bernstein), read as little-endian 64-bit words. Entry 15 is
 * the example of the paper's appendix. Every message length mod 8 occurs,
 * so every length of the final block is checked. */
static const uint64_t sip64[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static void ref_key(uint8_t key[16])
{
	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
}

START_TEST(siphash_paper_vector)
{
	uint8_t key[16], msg[15];

	ref_key(key);
	for (unsigned i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(td_flow_siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
}
END_TEST

START_TEST(siphash_reference_vectors)
{
	uint8_t key[16], msg[64];

	ref_key(key);
	for (unsigned i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	ck_assert_msg(td_flow_siphash24(key, msg, (size_t)_i) == sip64[_i],
		      "length %d: %016llx, expected %016llx", _i,
		      (unsigned long long)td_flow_siphash24(key, msg, (size_t)_i),
		      (unsigned long long)sip64[_i]);
}
END_TEST

static struct td_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct td_addr x = { .family = 4 };

	x.bytes[0] = a;
	x.bytes[1] = b;
	x.bytes[2] = c;
	x.bytes[3] = d;
	return x;
}

static struct td_addr v6(uint16_t first, uint16_t last)
{
	struct td_addr x = { .family = 6 };

	x.bytes[0] = (uint8_t)(first >> 8);
	x.bytes[1] = (uint8_t)first;
	x.bytes[14] = (uint8_t)(last >> 8);
	x.bytes[15] = (uint8_t)last;
	return x;
}

static const uint8_t test_key[16] = { 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08,
				      0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00 };

static struct td_flow *get(struct td_flow_table *t, struct td_addr s, uint16_t sp,
			   struct td_addr d, uint16_t dp, bool create, bool *created, bool *from_a)
{
	return td_flow_lookup(t, &s, sp, &d, dp, create, created, from_a);
}

/* The hash is SipHash over family a, family b, address a, address b (4
 * bytes each when both are IPv4, else 16), port a, port b (big-endian), in
 * canonical order. */
START_TEST(hash_of_serialised_key)
{
	struct td_flow_table *t = td_flow_table_new(16, test_key);
	struct td_flow *f;
	bool created, from_a;
	const uint8_t m4[] = { 4, 4, 10, 0, 0, 1, 10, 0, 0, 2, 0xc3, 0x50, 0x01, 0xbb };
	uint8_t m6[2 + 16 + 16 + 4] = { 6, 6 };
	struct td_addr a6 = v6(0x2001, 1), b6 = v6(0x2001, 2);

	ck_assert_ptr_nonnull(t);
	/* packet from the server: 10.0.0.2:443 -> 10.0.0.1:50000 */
	f = get(t, v4(10, 0, 0, 2), 443, v4(10, 0, 0, 1), 50000, true, &created, &from_a);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->hash, td_flow_siphash24(test_key, m4, sizeof(m4)));

	memcpy(m6 + 2, a6.bytes, 16);
	memcpy(m6 + 18, b6.bytes, 16);
	m6[34] = 0x00, m6[35] = 0x35, m6[36] = 0x00, m6[37] = 0x35; /* 53, 53 */
	f = get(t, b6, 53, a6, 53, true, &created, &from_a);
	ck_assert_ptr_nonnull(f);
	ck_assert(!from_a);
	ck_assert_uint_eq(f->hash, td_flow_siphash24(test_key, m6, sizeof(m6)));
	td_flow_table_free(t);
}
END_TEST

/* port a, from td_flow.h's packing of the key's last word */
#define KEY_PA(f) ((f)->key.w[4] >> 16 & 0xffff)

START_TEST(both_directions)
{
	struct td_flow_table *t = td_flow_table_new(16, test_key);
	struct td_flow *f, *g;
	bool created = false, from_a = true;
	int conn;

	/* client 10.0.0.9:50000 -> server 10.0.0.1:443; the server is lower */
	f = get(t, v4(10, 0, 0, 9), 50000, v4(10, 0, 0, 1), 443, true, &created, &from_a);
	ck_assert_ptr_nonnull(f);
	ck_assert(created);
	ck_assert(!from_a);
	/* td_flow.h's packing: 10.0.0.1 is bytes 0a 00 00 01, the word
	 * 0x0100000a; families in the last word's low bytes, then the ports */
	ck_assert_uint_eq(f->key.w[0], 0x0100000a);
	ck_assert_uint_eq(f->key.w[1], 0);
	ck_assert_uint_eq(f->key.w[2], 0x0900000a);
	ck_assert_uint_eq(f->key.w[3], 0);
	ck_assert_uint_eq(f->key.w[4], 4 | 4 << 8 | 443u << 16 | (uint64_t)50000 << 32);
	f->conn = &conn;

	g = get(t, v4(10, 0, 0, 1), 443, v4(10, 0, 0, 9), 50000, true, &created, &from_a);
	ck_assert_ptr_eq(g, f);
	ck_assert(!created);
	ck_assert(from_a);
	ck_assert_ptr_eq(g->conn, &conn);

	g = get(t, v4(10, 0, 0, 9), 50000, v4(10, 0, 0, 1), 443, false, &created, &from_a);
	ck_assert_ptr_eq(g, f);
	ck_assert(!from_a);
	ck_assert_uint_eq(td_flow_count(t), 1);

	/* Same address both ends: the lower port is a. */
	f = get(t, v4(127, 0, 0, 1), 9000, v4(127, 0, 0, 1), 80, true, &created, &from_a);
	ck_assert(created && !from_a);
	ck_assert_uint_eq(KEY_PA(f), 80);
	g = get(t, v4(127, 0, 0, 1), 80, v4(127, 0, 0, 1), 9000, false, NULL, &from_a);
	ck_assert_ptr_eq(g, f);
	ck_assert(from_a);
	/* The address decides before the port. */
	f = get(t, v4(10, 0, 0, 1), 65535, v4(10, 0, 0, 2), 1, true, NULL, &from_a);
	ck_assert(from_a);
	ck_assert_uint_eq(KEY_PA(f), 65535);
	ck_assert_uint_eq(td_flow_count(t), 3);
	td_flow_table_free(t);
}
END_TEST

/* IPv4 and IPv6 endpoints with the same leading bytes and ports are
 * different flows. */
START_TEST(ipv4_ipv6_distinct)
{
	struct td_flow_table *t = td_flow_table_new(16, test_key);
	struct td_addr a4 = v4(10, 0, 0, 1), b4 = v4(10, 0, 0, 2);
	struct td_addr a6 = { .family = 6 }, b6 = { .family = 6 };
	struct td_flow *f4, *f6;
	bool created;

	memcpy(a6.bytes, a4.bytes, 4);
	memcpy(b6.bytes, b4.bytes, 4);
	f4 = get(t, a4, 1000, b4, 2000, true, &created, NULL);
	ck_assert(created);
	f6 = get(t, a6, 1000, b6, 2000, true, &created, NULL);
	ck_assert(created);
	ck_assert_ptr_ne(f4, f6);
	ck_assert_uint_ne(f4->hash, f6->hash);
	ck_assert_uint_eq(td_flow_count(t), 2);
	ck_assert_ptr_eq(get(t, b4, 2000, a4, 1000, false, NULL, NULL), f4);
	ck_assert_ptr_eq(get(t, b6, 2000, a6, 1000, false, NULL, NULL), f6);
	/* v4 sorts before v6 (family first): mixed pairs stay apart too. */
	f4 = get(t, a6, 1, a4, 1, true, &created, NULL);
	ck_assert(created);
	ck_assert_uint_eq(f4->key.w[4] & 0xffff, 4 | 6 << 8);
	/* its hash: SipHash of the bytes family a, family b, address a and
	 * address b (16 bytes each, the IPv4 one zero-padded), port a, port
	 * b, made here by hand */
	{
		uint8_t m[2 + 16 + 16 + 4] = { 4, 6 };

		memcpy(m + 2, a4.bytes, 4);
		memcpy(m + 18, a6.bytes, 16);
		m[35] = 1, m[37] = 1;
		ck_assert_uint_eq(f4->hash, td_flow_siphash24(test_key, m, sizeof m));
		ck_assert_ptr_eq(get(t, a4, 1, a6, 1, false, NULL, NULL), f4);
	}
	td_flow_table_free(t);
}
END_TEST

/* Only the first 4 bytes of an IPv4 address count. */
START_TEST(ipv4_unused_bytes_ignored)
{
	struct td_flow_table *t = td_flow_table_new(16, test_key);
	struct td_addr a = v4(192, 168, 1, 1), b = v4(192, 168, 1, 2), dirty = a;
	struct td_flow *f;

	memset(dirty.bytes + 4, 0xaa, 12);
	f = get(t, a, 1, b, 2, true, NULL, NULL);
	ck_assert_ptr_eq(get(t, dirty, 1, b, 2, false, NULL, NULL), f);
	ck_assert_uint_eq(f->key.w[0], 0x0101a8c0); /* 192.168.1.1, nothing after */
	ck_assert_uint_eq(f->key.w[1], 0);
	td_flow_table_free(t);
}
END_TEST

START_TEST(capacity)
{
	struct td_flow_table *t = td_flow_table_new(4, test_key);
	struct td_flow *f[4], *old;
	bool created = true;

	ck_assert_uint_eq(td_flow_capacity(t), 4);
	for (uint8_t i = 0; i < 4; i++) {
		f[i] = get(t, v4(10, 0, 0, i), 1, v4(10, 0, 1, 0), 2, true, &created, NULL);
		ck_assert(f[i] && created);
		td_flow_touch(t, f[i], (struct td_time){ i, 0 });
	}
	ck_assert_ptr_null(get(t, v4(10, 9, 9, 9), 1, v4(10, 0, 1, 0), 2, true, &created, NULL));
	ck_assert(!created);
	ck_assert_uint_eq(td_flow_count(t), 4);
	/* existing flows are still found, with create */
	old = get(t, v4(10, 0, 0, 2), 1, v4(10, 0, 1, 0), 2, true, &created, NULL);
	ck_assert_ptr_eq(old, f[2]);
	ck_assert(!created);
	/* the caller evicts the oldest and retries */
	old = td_flow_oldest(t);
	ck_assert_ptr_eq(old, f[0]);
	td_flow_remove(t, old);
	ck_assert_ptr_nonnull(get(t, v4(10, 9, 9, 9), 1, v4(10, 0, 1, 0), 2, true, &created, NULL));
	ck_assert(created);
	ck_assert_uint_eq(td_flow_count(t), 4);
	td_flow_table_free(t);
}
END_TEST

START_TEST(oldest_and_touch)
{
	struct td_flow_table *t = td_flow_table_new(8, test_key);
	struct td_flow *f[3];

	ck_assert_ptr_null(td_flow_oldest(t));
	for (uint8_t i = 0; i < 3; i++) {
		f[i] = get(t, v4(1, 1, 1, i), 1, v4(2, 2, 2, 2), 2, true, NULL, NULL);
		td_flow_touch(t, f[i], (struct td_time){ 100 + i, 0 });
	}
	ck_assert_ptr_eq(td_flow_oldest(t), f[0]);
	td_flow_touch(t, f[0], (struct td_time){ 200, 5 });
	ck_assert_int_eq(f[0]->last.sec, 200);
	ck_assert_int_eq(f[0]->last.usec, 5);
	ck_assert_ptr_eq(td_flow_oldest(t), f[1]);
	td_flow_touch(t, f[2], (struct td_time){ 201, 0 }); /* touching the head again */
	td_flow_touch(t, f[2], (struct td_time){ 202, 0 });
	ck_assert_ptr_eq(td_flow_oldest(t), f[1]);
	td_flow_touch(t, f[1], (struct td_time){ 203, 0 });
	ck_assert_ptr_eq(td_flow_oldest(t), f[0]);
	td_flow_remove(t, f[0]);
	ck_assert_ptr_eq(td_flow_oldest(t), f[2]);
	td_flow_remove(t, f[2]);
	ck_assert_ptr_eq(td_flow_oldest(t), f[1]);
	td_flow_remove(t, f[1]);
	ck_assert_ptr_null(td_flow_oldest(t));
	ck_assert_uint_eq(td_flow_count(t), 0);
	td_flow_table_free(t);
}
END_TEST

/* Removal in random order from a small table (so chains form): whatever
 * is left is still found, what was removed is not. */
START_TEST(remove_random_order)
{
	enum { N = 64 };
	struct td_flow_table *t = td_flow_table_new(N, test_key);
	struct td_flow *f[N];
	bool gone[N] = { false };
	unsigned order[N];
	uint32_t s = 12345;

	for (unsigned i = 0; i < N; i++) {
		f[i] = get(t, v4(172, 16, 0, (uint8_t)i), 443, v4(172, 16, 1, 1), 1234, true, NULL,
			   NULL);
		ck_assert_ptr_nonnull(f[i]);
		order[i] = i;
	}
	for (unsigned i = N; i > 1; i--) {
		unsigned j, tmp;

		s ^= s << 13, s ^= s >> 17, s ^= s << 5;
		j = s % i;
		tmp = order[i - 1], order[i - 1] = order[j], order[j] = tmp;
	}
	for (unsigned r = 0; r < N; r++) {
		td_flow_remove(t, f[order[r]]);
		gone[order[r]] = true;
		ck_assert_uint_eq(td_flow_count(t), N - r - 1);
		for (unsigned i = 0; i < N; i++) {
			struct td_addr c = v4(172, 16, 0, (uint8_t)i), srv = v4(172, 16, 1, 1);
			struct td_flow *g = get(t, srv, 1234, c, 443, false, NULL, NULL);

			ck_assert_ptr_eq(g, gone[i] ? NULL : f[i]);
		}
	}
	td_flow_table_free(t);
}
END_TEST

START_TEST(many_flows)
{
	enum { N = 100000 };
	struct td_flow_table *t = td_flow_table_new(N, NULL);
	bool created, from_a;
	size_t n = 0;

	ck_assert_ptr_nonnull(t);
	for (uint32_t i = 0; i < N; i++) {
		struct td_addr c = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		struct td_flow *f = get(t, c, (uint16_t)(1024 + i % 50000), v4(192, 0, 2, 1), 443,
					true, &created, &from_a);

		ck_assert_ptr_nonnull(f);
		ck_assert(created);
		ck_assert(from_a);
		td_flow_touch(t, f, (struct td_time){ i, 0 });
	}
	ck_assert_uint_eq(td_flow_count(t), N);
	ck_assert_ptr_null(get(t, v4(11, 0, 0, 0), 1, v4(192, 0, 2, 1), 443, true, NULL, NULL));
	for (uint32_t i = 0; i < N; i++) {
		struct td_addr c = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		struct td_flow *f = get(t, v4(192, 0, 2, 1), 443, c, (uint16_t)(1024 + i % 50000),
					false, NULL, &from_a);

		ck_assert_ptr_nonnull(f);
		ck_assert(!from_a);
		ck_assert_int_eq(f->last.sec, i);
	}
	/* Evict everything, oldest first: in insertion order. */
	while (td_flow_oldest(t)) {
		struct td_flow *f = td_flow_oldest(t);

		ck_assert_int_eq(f->last.sec, (int64_t)n);
		td_flow_remove(t, f);
		n++;
	}
	ck_assert_uint_eq(n, N);
	ck_assert_uint_eq(td_flow_count(t), 0);
	td_flow_table_free(t);
}
END_TEST

/* Per-state lists: the oldest of a state is that list's tail, the oldest
 * of all the least recently touched whatever its state. */
START_TEST(states_and_oldest)
{
	struct td_flow_table *t = td_flow_table_new(8, test_key);
	struct td_flow *f[4];

	for (uint8_t i = 0; i < 4; i++) {
		f[i] = get(t, v4(1, 1, 1, i), 1, v4(2, 2, 2, 2), 2, true, NULL, NULL);
		ck_assert_uint_eq(f[i]->state, TD_FLOW_HALF_OPEN);
		td_flow_touch(t, f[i], (struct td_time){ 10 + i, 0 });
	}
	/* f[0] (t=10) established, f[2] (t=12) closing */
	td_flow_set_state(t, f[0], TD_FLOW_ESTABLISHED);
	td_flow_set_state(t, f[2], TD_FLOW_CLOSING);
	ck_assert_ptr_eq(td_flow_oldest_in(t, TD_FLOW_HALF_OPEN), f[1]);
	ck_assert_ptr_eq(td_flow_oldest_in(t, TD_FLOW_ESTABLISHED), f[0]);
	ck_assert_ptr_eq(td_flow_oldest_in(t, TD_FLOW_CLOSING), f[2]);
	ck_assert_ptr_null(td_flow_oldest_in(t, TD_FLOW_STATES));
	ck_assert_ptr_eq(td_flow_oldest(t), f[0]);
	/* touching f[0] again: now f[1] (t=11) is the oldest of all */
	td_flow_touch(t, f[0], (struct td_time){ 20, 0 });
	ck_assert_ptr_eq(td_flow_oldest(t), f[1]);
	td_flow_set_state(t, f[0], TD_FLOW_ESTABLISHED); /* no-op */
	td_flow_remove(t, f[1]);
	ck_assert_ptr_eq(td_flow_oldest(t), f[2]);
	td_flow_remove(t, f[2]);
	ck_assert_ptr_eq(td_flow_oldest(t), f[3]);
	ck_assert_ptr_null(td_flow_oldest_in(t, TD_FLOW_CLOSING));
	td_flow_remove(t, f[3]);
	ck_assert_ptr_eq(td_flow_oldest(t), f[0]);
	td_flow_remove(t, f[0]);
	ck_assert_ptr_null(td_flow_oldest(t));
	td_flow_table_free(t);
}
END_TEST

/* Accounting: an empty table costs at least its bucket array; each entry
 * adds td_flow_entry_bytes() plus what is charged to it; removal gives
 * all of it back; the peak stays. */
START_TEST(accounting)
{
	struct td_flow_table *t = td_flow_table_new(1000, test_key);
	struct td_flow *f[3];
	size_t empty = td_flow_bytes(t), e = td_flow_entry_bytes();

	/* a new table starts with 64 buckets of one pointer each */
	ck_assert_uint_ge(empty, 64 * sizeof(void *));
	ck_assert_uint_lt(empty, 2048 * sizeof(void *));
	ck_assert_uint_ge(e, sizeof(struct td_flow));
	ck_assert_uint_eq(td_flow_insert_bytes(t), e);
	for (uint8_t i = 0; i < 3; i++)
		f[i] = get(t, v4(1, 1, 1, i), 1, v4(2, 2, 2, 2), 2, true, NULL, NULL);
	ck_assert_uint_eq(td_flow_bytes(t), empty + 3 * e);
	td_flow_charge(t, f[0], 1000);
	td_flow_charge(t, f[1], 500);
	ck_assert_uint_eq(td_flow_bytes(t), empty + 3 * e + 1500);
	td_flow_charge(t, f[0], 100); /* replaces, does not add */
	ck_assert_uint_eq(td_flow_bytes(t), empty + 3 * e + 600);
	ck_assert_uint_eq(td_flow_peak_bytes(t), empty + 3 * e + 1500);
	td_flow_remove(t, f[1]);
	ck_assert_uint_eq(td_flow_bytes(t), empty + 2 * e + 100);
	td_flow_remove(t, f[0]);
	td_flow_remove(t, f[2]);
	ck_assert_uint_eq(td_flow_bytes(t), empty);
	ck_assert_uint_eq(td_flow_peak_bytes(t), empty + 3 * e + 1500);
	td_flow_table_free(t);
}
END_TEST

/* The bucket array doubles as flows come, keeping two buckets per flow:
 * every flow is still found after each doubling, td_flow_insert_bytes()
 * says beforehand what the insert that doubles it costs, and the array
 * stops at what the maximum needs (1000 flows: 2048 buckets). */
START_TEST(buckets_grow)
{
	struct td_flow_table *t = td_flow_table_new(1000, test_key);
	size_t e = td_flow_entry_bytes(), grew = 0, buckets = 64;

	ck_assert_ptr_nonnull(t);
	for (unsigned i = 0; i < 1000; i++) {
		size_t before = td_flow_bytes(t), predicted = td_flow_insert_bytes(t);
		bool created;
		struct td_flow *f = get(t, v4(10, 1, (uint8_t)(i >> 8), (uint8_t)i), 40000,
					v4(10, 2, 0, 1), 443, true, &created, NULL);

		ck_assert_ptr_nonnull(f);
		ck_assert(created);
		ck_assert_uint_eq(td_flow_bytes(t) - before, predicted);
		if (predicted != e) {
			/* doubled at the entry that would leave < 2 buckets per flow */
			ck_assert_uint_eq(predicted - e, buckets * sizeof(void *));
			ck_assert_uint_eq(i + 1, buckets / 2 + 1);
			buckets *= 2;
			grew++;
		}
	}
	/* 64 -> 128 -> ... -> 2048: five doublings, none past the maximum's need */
	ck_assert_uint_eq(grew, 5);
	ck_assert_uint_eq(buckets, 2048);
	for (unsigned i = 0; i < 1000; i++) {
		bool created = true, from_a;
		struct td_flow *f = get(t, v4(10, 2, 0, 1), 443, v4(10, 1, (uint8_t)(i >> 8), (uint8_t)i),
					40000, false, &created, &from_a);

		ck_assert_ptr_nonnull(f);
		ck_assert(!created);
		ck_assert(!from_a);
		ck_assert_uint_eq(KEY_PA(f), 40000);
		/* address a, 10.1.(i >> 8).(i & 255): bytes 2 and 3 of its word */
		ck_assert_uint_eq(f->key.w[0] >> 16 & 0xff, (uint8_t)(i >> 8));
		ck_assert_uint_eq(f->key.w[0] >> 24 & 0xff, (uint8_t)i);
	}
	ck_assert_uint_eq(td_flow_count(t), 1000);
	td_flow_table_free(t);
}
END_TEST

START_TEST(random_key_and_args)
{
	struct td_flow_table *t1 = td_flow_table_new(2, NULL), *t2 = td_flow_table_new(2, NULL);
	struct td_flow *f1, *f2;
	bool created = true;

	ck_assert_ptr_nonnull(t1);
	ck_assert_ptr_nonnull(t2);
	ck_assert_ptr_null(td_flow_table_new(0, NULL));
	ck_assert_ptr_null(get(t1, v4(1, 2, 3, 4), 5, v4(6, 7, 8, 9), 10, false, &created, NULL));
	ck_assert(!created);
	f1 = get(t1, v4(1, 2, 3, 4), 5, v4(6, 7, 8, 9), 10, true, NULL, NULL);
	f2 = get(t2, v4(1, 2, 3, 4), 5, v4(6, 7, 8, 9), 10, true, NULL, NULL);
	/* Two random keys: equal hashes would happen once in 2^64. */
	ck_assert_uint_ne(f1->hash, f2->hash);
	td_flow_table_free(t1);
	td_flow_table_free(t2);
	td_flow_table_free(NULL);
}
END_TEST

/* ---- the engine on crafted segments ------------------------------------ */

#define MAX_GOT 16
#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define ACK 0x10
#define SYN 0x02
#define FIN 0x01
#define RST 0x04
#define PSH 0x08

struct eng {
	struct td_x509_cache *cache;
	struct td_engine *e;
	uint32_t frame;
	size_t n;
	struct td_session got[MAX_GOT]; /* copies: certificates not to be read */
	/* the client's last SYN on each port: the SYN-ACK acknowledges it
	 * (seq + 1 + the data in it), as a real one does (engine.c drops a
	 * SYN-ACK that does not) */
	uint32_t syn_end[65536];
};

static void on_emit(void *user, struct td_session *s)
{
	struct eng *x = user;

	ck_assert_uint_lt(x->n, MAX_GOT);
	ck_assert(td_session_copy(&x->got[x->n++], s));
}

/* cfg NULL: the defaults, without nDPI (not what these tests are about). */
static struct eng *eng_new(const struct td_engine_config *cfg)
{
	struct eng *x = calloc(1, sizeof *x);
	struct td_engine_config def;

	ck_assert_ptr_nonnull(x);
	if (!cfg) {
		td_engine_config_default(&def);
		def.classify = false;
		cfg = &def;
	}
	x->cache = td_x509_cache_new(16);
	x->e = td_engine_new(cfg, x->cache, on_emit, x);
	ck_assert_ptr_nonnull(x->e);
	return x;
}

static void eng_free(struct eng *x)
{
	td_engine_free(x->e);
	for (size_t i = 0; i < x->n; i++)
		td_session_clear(&x->got[i], NULL);
	td_x509_cache_free(x->cache);
	free(x);
}

static struct td_engine_stats eng_stats(const struct eng *x)
{
	struct td_engine_stats st;

	td_engine_stats(x->e, &st);
	return st;
}

/* One segment of the connection CLIENT:cport <-> SERVER:443. */
static void seg_w(struct eng *x, int64_t sec, uint16_t cport, bool from_client, uint32_t seq,
		  uint8_t flags, uint16_t window, const void *p, size_t n)
{
	uint8_t frame[TD_TEST_FRAME_LEN(2048)];
	bool syn = flags & SYN, ack = flags & ACK;
	if (syn && !ack && from_client)
		x->syn_end[cport] = seq + 1 + (uint32_t)n;
	struct td_test_tcp t = {
		.src = from_client ? CLIENT : SERVER,
		.dst = from_client ? SERVER : CLIENT,
		.sport = from_client ? cport : 443,
		.dport = from_client ? 443 : cport,
		.seq = seq,
		.ack = syn && ack && !from_client ? x->syn_end[cport] : 0,
		.flags = flags,
		.window = window,
		.payload = p,
		.len = n,
	};

	ck_assert_uint_le(n, 2048);
	size_t len = td_test_tcp_frame(frame, &t);
	td_engine_packet(x->e, 1, ++x->frame, (struct td_time){ sec, 0 }, frame, len, len);
}

static void seg(struct eng *x, int64_t sec, uint16_t cport, bool from_client, uint32_t seq,
		uint8_t flags, const void *p, size_t n)
{
	seg_w(x, sec, cport, from_client, seq, flags, 65535, p, n);
}

/* A TLS 1.2 ClientHello record with no extensions, one suite
 * (RFC 5246 §7.4.1.2): 5 + 4 + 41 = 50 bytes. */
#define CH_LEN 50
static const uint8_t client_hello[CH_LEN] = {
	0x16, 0x03, 0x01, 0x00, 45,   /* handshake record */
	0x01, 0x00, 0x00, 41,         /* ClientHello */
	0x03, 0x03,                   /* client_version */
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	0,                            /* session_id */
	0x00, 0x02, 0xc0, 0x2f,       /* cipher_suites */
	0x01, 0x00,                   /* compression_methods: null */
};

/* A ServerHello choosing that suite (RFC 5246 §7.4.1.3): 5 + 4 + 38. */
#define SH_LEN 47
static const uint8_t server_hello[SH_LEN] = {
	0x16, 0x03, 0x03, 0x00, 42,
	0x02, 0x00, 0x00, 38,
	0x03, 0x03,
	32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
	16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
	0,
	0xc0, 0x2f,
	0x00,
};

/* A fatal handshake_failure alert record (RFC 5246 §7.2). */
static const uint8_t alert_hf[7] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40 };

/* TCP Fast Open (RFC 7413): the ClientHello in the SYN, the ServerHello
 * in the SYN-ACK; both reach the parser, nothing counts as resent. */
START_TEST(engine_fast_open)
{
	struct eng *x = eng_new(NULL);

	seg(x, 1, 40000, true, 1000, SYN, client_hello, CH_LEN);
	seg(x, 1, 40000, false, 7000, SYN | ACK, server_hello, SH_LEN);
	seg(x, 1, 40000, true, 1001 + CH_LEN, ACK, NULL, 0);
	td_engine_finish(x->e);
	ck_assert_uint_eq(x->n, 1);
	ck_assert(x->got[0].syn_seen);
	ck_assert(!x->got[0].midstream);
	ck_assert(x->got[0].ch->seen);
	ck_assert_uint_eq(x->got[0].ch->frame, 1);
	ck_assert(x->got[0].sh->seen);
	ck_assert_uint_eq(x->got[0].sh->frame, 2);
	ck_assert_uint_eq(x->got[0].sh->suite, 0xc02f);
	ck_assert_uint_eq(x->got[0].tcp.retransmissions[0] + x->got[0].tcp.retransmissions[1], 0);
	ck_assert_uint_eq(x->got[0].tcp.gaps[0] + x->got[0].tcp.gaps[1], 0);
	eng_free(x);
}
END_TEST

/* A connection picked up after its handshake (no SYN, no hello: whole
 * application_data records both ways) that then goes idle did not fail:
 * its handshake is not in the capture. INCOMPLETE, no aborting side (it
 * was FAILED, "silence after none", with a high finding). */
START_TEST(engine_midstream_idle_not_failed)
{
	struct eng *x = eng_new(NULL);
	/* the tail of a record whose start was missed, then 4 whole ones
	 * (5 + 100 bytes each) */
	uint8_t recs[37 + 4 * 105];

	memset(recs, 0xa5, 37);
	for (int i = 0; i < 4; i++) {
		static const uint8_t hdr[5] = {0x17, 0x03, 0x03, 0x00, 100};
		memcpy(recs + 37 + 105 * i, hdr, 5);
		memset(recs + 37 + 105 * i + 5, 0xa0 + i, 100);
	}
	seg(x, 1, 40000, false, 5000, ACK, recs, sizeof recs);
	seg(x, 1, 40000, true, 9000, ACK, NULL, 0);
	seg(x, 2, 40000, true, 9000, ACK, NULL, 0);
	/* another connection, long after the idle timeout: the first ends */
	seg(x, 100000, 40001, true, 1, SYN, NULL, 0);
	td_engine_finish(x->e);
	ck_assert_uint_ge(x->n, 1);
	const struct td_session *s = &x->got[0];
	ck_assert_uint_eq(s->client_port, 40000);
	ck_assert(s->midstream);
	ck_assert(s->is_tls);
	ck_assert_uint_eq(s->end, TD_END_IDLE);
	ck_assert_uint_eq(s->stage, TD_STAGE_NONE);
	ck_assert_uint_eq(s->outcome, TD_OUTCOME_INCOMPLETE);
	ck_assert_int_eq(s->aborted_by, -1);
	ck_assert_uint_eq(s->aborted_how, TD_ABORT_NONE);
	eng_free(x);
}
END_TEST

/* The same SYN again (a retransmission) is the same connection; a SYN
 * with a new ISN after both FINs, or after an RST, or from the client of
 * a connection still open, starts a new one on the same ports. */
START_TEST(engine_port_reuse)
{
	struct eng *x = eng_new(NULL);

	/* 1: closed with FINs */
	seg(x, 1, 40000, true, 1000, SYN, NULL, 0);
	seg(x, 1, 40000, true, 1000, SYN, NULL, 0); /* retransmitted */
	seg(x, 1, 40000, false, 9000, SYN | ACK, NULL, 0);
	seg(x, 1, 40000, true, 1001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 1, 40000, true, 1001 + CH_LEN, FIN | ACK, NULL, 0);
	seg(x, 1, 40000, false, 9001, FIN | ACK, NULL, 0);
	seg(x, 1, 40000, true, 1002 + CH_LEN, ACK, NULL, 0);
	ck_assert_uint_eq(x->n, 1);
	/* 2: new ISN; ended by an RST from the server */
	seg(x, 2, 40000, true, 5000, SYN, NULL, 0);
	seg(x, 2, 40000, false, 3000, SYN | ACK, NULL, 0);
	seg(x, 2, 40000, true, 5001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 2, 40000, false, 3001, RST | ACK, NULL, 0);
	ck_assert_uint_eq(x->n, 1); /* an RST does not end it at once */
	/* 3: after the RST (2 ends); 4: the client starts over while 3 is open */
	seg(x, 3, 40000, true, 6000, SYN, NULL, 0);
	ck_assert_uint_eq(x->n, 2);
	seg(x, 3, 40000, true, 6001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 4, 40000, true, 8000, SYN, NULL, 0);
	seg(x, 4, 40000, true, 8001, ACK | PSH, client_hello, CH_LEN);
	td_engine_finish(x->e);
	ck_assert_uint_eq(x->n, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(x->got[i].id, i + 1);
		ck_assert(x->got[i].ch->seen);
		ck_assert(x->got[i].syn_seen);
		ck_assert_uint_eq(x->got[i].payload_bytes[0], CH_LEN);
		ck_assert_uint_eq(x->got[i].tcp.retransmissions[0], 0);
	}
	ck_assert_uint_eq(x->got[0].first_frame, 1);
	ck_assert_uint_eq(x->got[0].end, TD_END_FIN);
	ck_assert_uint_eq(x->got[1].first_frame, 8);
	ck_assert_uint_eq(x->got[1].end, TD_END_RST);
	ck_assert_uint_eq(x->got[2].first_frame, 12);
	ck_assert_uint_eq(x->got[3].first_frame, 14);
	eng_free(x);
}
END_TEST

/* Every RST is counted per side (#4), the ones after the first too; the
 * first one says who ended the connection. A packet after the closing
 * timeout is not the connection's any more. */
START_TEST(engine_rst_per_side)
{
	struct eng *x = eng_new(NULL);

	seg(x, 1, 40001, true, 1000, SYN, NULL, 0);
	seg(x, 1, 40001, false, 9000, SYN | ACK, NULL, 0);
	seg(x, 1, 40001, true, 1001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 1, 40001, false, 9001, RST, NULL, 0);
	seg(x, 1, 40001, true, 1001 + CH_LEN, RST, NULL, 0);
	seg(x, 2, 40001, false, 9001, RST, NULL, 0);
	seg(x, 2, 40001, true, 1001 + CH_LEN, RST | ACK, NULL, 0);
	seg(x, 3, 40001, false, 9001, RST, NULL, 0);
	ck_assert_uint_eq(x->n, 0);
	seg(x, 40, 40001, false, 9001, RST, NULL, 0); /* after 30 s closing */
	ck_assert_uint_eq(x->n, 1);
	td_engine_finish(x->e);
	ck_assert_uint_eq(x->n, 1);
	ck_assert_uint_eq(x->got[0].tcp.rsts[0], 2);
	ck_assert_uint_eq(x->got[0].tcp.rsts[1], 3);
	ck_assert_uint_eq(x->got[0].end, TD_END_RST);
	ck_assert_int_eq(x->got[0].end_by, TD_DIR_S2C);
	ck_assert_uint_eq(x->got[0].end_frame, 4);
	ck_assert(x->got[0].ch->seen);
	eng_free(x);
}
END_TEST

/* An RST captured before the data its sender sent ahead of it (its
 * sequence number past bytes missing): the data still reaches the parser,
 * no gap; then the ClientHello's second half, captured after the client's
 * FIN and the server's, is delivered too (the FIN is reached only then). */
START_TEST(engine_reordered_fin_and_rst)
{
	struct eng *x = eng_new(NULL);

	seg(x, 1, 40003, true, 1000, SYN, NULL, 0);
	seg(x, 1, 40003, false, 9000, SYN | ACK, NULL, 0);
	seg(x, 1, 40003, true, 1001, ACK | PSH, client_hello, 20);
	seg(x, 1, 40003, true, 1001 + CH_LEN, FIN | ACK, NULL, 0);
	seg(x, 1, 40003, false, 9001, FIN | ACK, NULL, 0);
	seg(x, 1, 40003, true, 1021, ACK | PSH, client_hello + 20, CH_LEN - 20);
	ck_assert_uint_eq(x->n, 0);
	seg(x, 1, 40003, false, 9002, ACK, NULL, 0); /* the last ACK */
	ck_assert_uint_eq(x->n, 1);
	/* the server's RST before its ServerHello */
	seg(x, 5, 40004, true, 2000, SYN, NULL, 0);
	seg(x, 5, 40004, false, 8000, SYN | ACK, NULL, 0);
	seg(x, 5, 40004, true, 2001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 5, 40004, false, 8001 + SH_LEN, RST | ACK, NULL, 0);
	seg(x, 5, 40004, false, 8001, ACK | PSH, server_hello, SH_LEN);
	td_engine_finish(x->e);
	ck_assert_uint_eq(x->n, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert(x->got[i].ch->seen);
		ck_assert_uint_eq(x->got[i].tcp.gaps[0] + x->got[i].tcp.gaps[1], 0);
		ck_assert_uint_eq(x->got[i].tcp.bytes_missing[0] + x->got[i].tcp.bytes_missing[1], 0);
	}
	ck_assert_uint_eq(x->got[0].end, TD_END_FIN);
	ck_assert_int_eq(x->got[0].end_by, TD_DIR_C2S);
	ck_assert(x->got[1].sh->seen);
	ck_assert_uint_eq(x->got[1].sh->suite, 0xc02f);
	ck_assert_uint_eq(x->got[1].end, TD_END_RST);
	ck_assert_uint_eq(x->got[1].tcp.rsts[1], 1);
	eng_free(x);
}
END_TEST

/* Keep-alives (one garbage byte at next_seq - 1, or none) and a
 * zero-window probe (one byte at next_seq while the peer's window is 0,
 * here a byte that differs from the one sent later) are neither data nor
 * retransmissions nor differing overlaps; the alert after them is read. */
START_TEST(engine_keepalive_and_window_probe)
{
	struct eng *x = eng_new(NULL);
	uint32_t next = 1001 + CH_LEN;
	const uint8_t junk = 0xee;

	seg(x, 1, 40002, true, 1000, SYN, NULL, 0);
	seg(x, 1, 40002, false, 9000, SYN | ACK, NULL, 0);
	seg(x, 1, 40002, true, 1001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 2, 40002, true, next - 1, ACK, &junk, 1); /* keep-alive, 1 byte */
	seg(x, 3, 40002, true, next - 1, ACK, NULL, 0);  /* keep-alive, none */
	seg_w(x, 4, 40002, false, 9001, ACK, 0, NULL, 0); /* server: window 0 */
	seg(x, 5, 40002, true, next, ACK, &junk, 1);      /* probe */
	seg(x, 6, 40002, true, next, ACK, &junk, 1);      /* probe */
	seg(x, 7, 40002, false, 9001, ACK, NULL, 0);      /* window open */
	seg(x, 8, 40002, true, next, ACK | PSH, alert_hf, sizeof alert_hf);
	td_engine_finish(x->e);
	ck_assert_uint_eq(x->n, 1);
	const struct td_session *s = &x->got[0];
	ck_assert_uint_eq(s->tcp.keepalives[0], 2);
	ck_assert_uint_eq(s->tcp.zero_window_probes[0], 2);
	ck_assert_uint_eq(s->tcp.retransmissions[0], 0);
	ck_assert_uint_eq(s->tcp.overlaps_differ, 0);
	ck_assert_uint_eq(s->tcp.gaps[0], 0);
	ck_assert_uint_eq(s->tcp.zero_windows[1], 1);
	ck_assert_uint_eq(s->n_alerts, 1);
	ck_assert_uint_eq(s->alerts[0].desc, 40);
	ck_assert_uint_eq(s->alerts[0].level, 2);
	ck_assert_uint_eq(s->alerts[0].dir, TD_DIR_C2S);
	eng_free(x);
}
END_TEST

/* Idle timeouts per state: a half-open connection goes after 30 s, a
 * closing one (a FIN seen) after 30 s, an established one after 300 s;
 * --idle-timeout's values replace them. */
START_TEST(engine_idle_per_state)
{
	struct eng *x = eng_new(NULL);

	seg(x, 0, 41000, true, 1000, SYN, NULL, 0); /* half-open */
	seg(x, 0, 41001, true, 2000, SYN, NULL, 0); /* established */
	seg(x, 0, 41001, false, 3000, SYN | ACK, NULL, 0);
	seg(x, 0, 41001, true, 2001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 0, 41002, true, 4000, SYN, NULL, 0); /* closing */
	seg(x, 0, 41002, true, 4001, ACK | PSH | FIN, client_hello, CH_LEN);
	ck_assert_uint_eq(eng_stats(x).flows_now, 3);
	seg(x, 30, 41003, true, 5000, SYN, NULL, 0); /* 30 s: nothing yet */
	ck_assert_uint_eq(eng_stats(x).flows_expired, 0);
	seg(x, 31, 41003, true, 5000, SYN, NULL, 0);
	/* 41000 and 41002 went; 41002 carried a handshake: reported */
	ck_assert_uint_eq(eng_stats(x).flows_expired, 2);
	ck_assert_uint_eq(x->n, 1);
	ck_assert_uint_eq(x->got[0].client_port, 41002);
	ck_assert_uint_eq(x->got[0].end, TD_END_FIN);
	seg(x, 300, 41001, false, 3001, ACK, NULL, 0); /* keeps 41001 alive */
	seg(x, 600, 41004, true, 6000, SYN, NULL, 0);
	ck_assert_uint_eq(x->n, 1);
	seg(x, 601, 41004, true, 6000, SYN, NULL, 0);
	ck_assert_uint_eq(x->n, 2);
	ck_assert_uint_eq(x->got[1].client_port, 41001);
	ck_assert_uint_eq(x->got[1].end, TD_END_IDLE);
	eng_free(x);

	struct td_engine_config cfg;
	td_engine_config_default(&cfg);
	cfg.classify = false;
	cfg.idle_timeout[TD_ENGINE_HALF_OPEN] = 5;
	cfg.idle_timeout[TD_ENGINE_ESTABLISHED] = 10;
	x = eng_new(&cfg);
	seg(x, 0, 41000, true, 1000, SYN, NULL, 0);
	seg(x, 0, 41001, true, 2000, SYN, NULL, 0);
	seg(x, 0, 41001, true, 2001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 6, 41003, true, 5000, SYN, NULL, 0);
	ck_assert_uint_eq(eng_stats(x).flows_expired, 1);
	ck_assert_uint_eq(x->n, 0);
	seg(x, 11, 41003, true, 5000, SYN, NULL, 0);
	ck_assert_uint_eq(x->n, 1);
	ck_assert_uint_eq(x->got[0].end, TD_END_IDLE);
	eng_free(x);
}
END_TEST

/* An engine given nDPI's module (cfg.ndpi, as tlsdiag's main does) uses
 * it and leaves it alone when freed: a second engine classifies with the
 * same module after the first is gone (under SANITIZE=1 a freed module
 * would be a use after free), and the caller frees it at the end. The
 * verdict is nDPI's own reading of a TLS ClientHello to port 443. */
START_TEST(engine_borrowed_ndpi)
{
	struct td_classify *ndpi = td_classify_new();
	struct td_engine_config cfg;

	ck_assert_ptr_nonnull(ndpi);
	td_engine_config_default(&cfg);
	cfg.classify = true;
	cfg.ndpi = ndpi;
	for (int round = 0; round < 2; round++) {
		struct eng *x = eng_new(&cfg);

		seg(x, 1, 40000, true, 1000, SYN, NULL, 0);
		seg(x, 1, 40000, false, 7000, SYN | ACK, NULL, 0);
		seg(x, 1, 40000, true, 1001, ACK | PSH, client_hello, CH_LEN);
		seg(x, 1, 40000, false, 7001, ACK | PSH, server_hello, SH_LEN);
		td_engine_finish(x->e);
		ck_assert(eng_stats(x).classify);
		ck_assert_uint_eq(x->n, 1);
		ck_assert_msg(strncmp(x->got[0].ndpi.protocol, "TLS", 3) == 0, "round %d: %s", round,
			      x->got[0].ndpi.protocol);
		eng_free(x);
	}
	td_classify_free(ndpi);
}
END_TEST

/* A table full of finished connections' tombstones (many short
 * connections: the handshake benchmark at 500 MB) makes room by dropping
 * tombstones, never a new connection that has only sent its SYN: each
 * new connection is reported whole, from its SYN, and nothing counts as
 * evicted. */
START_TEST(engine_full_of_tombstones)
{
	struct td_engine_config cfg;
	struct eng *x;
	struct td_engine_stats st;

	td_engine_config_default(&cfg);
	cfg.classify = false;
	cfg.max_flows = 8;
	x = eng_new(&cfg);
	for (uint16_t i = 0; i < 8; i++) {
		uint16_t p = (uint16_t)(43000 + i);
		seg(x, 1, p, true, 1000, SYN, NULL, 0);
		seg(x, 1, p, false, 9000, SYN | ACK, NULL, 0);
		seg(x, 1, p, true, 1001, ACK | PSH, client_hello, CH_LEN);
		seg(x, 1, p, true, 1001 + CH_LEN, FIN | ACK, NULL, 0);
		seg(x, 1, p, false, 9001, FIN | ACK, NULL, 0);
		seg(x, 1, p, true, 1002 + CH_LEN, ACK, NULL, 0);
	}
	ck_assert_uint_eq(x->n, 8);
	ck_assert_uint_eq(eng_stats(x).flows_now, 8); /* all tombstones */
	/* two new connections open at once: the second SYN must not push
	 * out the first (half-open, but alive) while tombstones remain */
	seg(x, 2, 44000, true, 1000, SYN, NULL, 0);
	seg(x, 2, 44001, true, 2000, SYN, NULL, 0);
	seg(x, 2, 44000, false, 9000, SYN | ACK, NULL, 0);
	seg(x, 2, 44001, false, 8000, SYN | ACK, NULL, 0);
	seg(x, 2, 44000, true, 1001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 2, 44001, true, 2001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 2, 44000, false, 9001, ACK | PSH, server_hello, SH_LEN);
	seg(x, 2, 44001, false, 8001, ACK | PSH, server_hello, SH_LEN);
	td_engine_finish(x->e);
	st = eng_stats(x);
	ck_assert_uint_eq(st.flows_evicted, 0);
	ck_assert_uint_eq(st.not_tls, 0);
	ck_assert_uint_eq(x->n, 10);
	for (size_t i = 8; i < 10; i++) {
		ck_assert(x->got[i].syn_seen);
		ck_assert(!x->got[i].midstream);
		ck_assert_uint_eq(x->got[i].first_frame, i == 8 ? 49 : 50);
		ck_assert(x->got[i].ch->seen && x->got[i].sh->seen);
	}
	eng_free(x);
}
END_TEST

/* --max-memory: the table's bytes never exceed the cap; room is made by
 * evicting half-open connections first, then the least recently active;
 * the evicted connections are reported with end "evicted" and counted. */
START_TEST(engine_max_memory)
{
	struct td_engine_config cfg;
	struct eng *x = eng_new(NULL);
	size_t empty = eng_stats(x).memory_now, one, half;

	/* What one connection costs, as accounted: half-open (a SYN), and
	 * with a ClientHello (the hello and the timeline are allocated as
	 * they come: more than a SYN alone). */
	seg(x, 0, 42000, true, 1000, SYN, NULL, 0);
	half = eng_stats(x).memory_now - empty;
	seg(x, 0, 42000, true, 1001, ACK | PSH, client_hello, CH_LEN);
	one = eng_stats(x).memory_now - empty;
	ck_assert_uint_gt(one, sizeof(struct td_session));
	ck_assert_uint_gt(one, half);
	eng_free(x);

	td_engine_config_default(&cfg);
	cfg.classify = false;
	/* room for three with a handshake, not for a fourth of any kind */
	cfg.max_memory = empty + 3 * one + half / 2;
	x = eng_new(&cfg);
	/* 42000 established (a handshake), 42001 and 42002 half-open */
	seg(x, 0, 42000, true, 1000, SYN, NULL, 0);
	seg(x, 0, 42000, true, 1001, ACK | PSH, client_hello, CH_LEN);
	seg(x, 1, 42001, true, 1000, SYN, NULL, 0);
	seg(x, 2, 42002, true, 1000, SYN, NULL, 0);
	ck_assert_uint_eq(eng_stats(x).flows_now, 3);
	/* two more with handshakes: the half-open ones go first */
	for (uint16_t p = 42003; p < 42005; p++) {
		seg(x, 3, p, true, 1000, SYN, NULL, 0);
		seg(x, 3, p, true, 1001, ACK | PSH, client_hello, CH_LEN);
	}
	struct td_engine_stats st = eng_stats(x);
	ck_assert_uint_eq(st.flows_now, 3);
	ck_assert_uint_eq(st.flows_evicted_memory, 2);
	ck_assert_uint_eq(st.flows_evicted, 2);
	ck_assert_uint_eq(x->n, 0); /* SYNs alone: nothing to report */
	/* one more: now 42000, the least recently active, goes */
	seg(x, 4, 42005, true, 1000, SYN, NULL, 0);
	seg(x, 4, 42005, true, 1001, ACK | PSH, client_hello, CH_LEN);
	ck_assert_uint_eq(x->n, 1);
	ck_assert_uint_eq(x->got[0].client_port, 42000);
	ck_assert_uint_eq(x->got[0].end, TD_END_EVICTED);
	ck_assert(x->got[0].ch->seen);
	st = eng_stats(x);
	ck_assert_uint_eq(st.flows_evicted_memory, 3);
	ck_assert_uint_le(st.memory_peak, cfg.max_memory);
	ck_assert_uint_ge(st.memory_peak, empty + 3 * one);
	td_engine_finish(x->e);
	ck_assert_uint_eq(x->n, 4);
	ck_assert_uint_eq(eng_stats(x).memory_now, empty);
	eng_free(x);
}
END_TEST

Suite *td_flow_suite(void);

Suite *td_flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *sip = tcase_create("siphash");
	TCase *table = tcase_create("table");

	tcase_add_test(sip, siphash_paper_vector);
	tcase_add_loop_test(sip, siphash_reference_vectors, 0, 64);
	suite_add_tcase(s, sip);

	tcase_set_timeout(table, 120); /* 100k flows under valgrind */
	tcase_add_test(table, hash_of_serialised_key);
	tcase_add_test(table, both_directions);
	tcase_add_test(table, ipv4_ipv6_distinct);
	tcase_add_test(table, ipv4_unused_bytes_ignored);
	tcase_add_test(table, capacity);
	tcase_add_test(table, oldest_and_touch);
	tcase_add_test(table, remove_random_order);
	tcase_add_test(table, many_flows);
	tcase_add_test(table, random_key_and_args);
	tcase_add_test(table, states_and_oldest);
	tcase_add_test(table, accounting);
	tcase_add_test(table, buckets_grow);
	suite_add_tcase(s, table);

	TCase *engine = tcase_create("engine");
	tcase_add_test(engine, engine_fast_open);
	tcase_add_test(engine, engine_midstream_idle_not_failed);
	tcase_add_test(engine, engine_port_reuse);
	tcase_add_test(engine, engine_rst_per_side);
	tcase_add_test(engine, engine_reordered_fin_and_rst);
	tcase_add_test(engine, engine_keepalive_and_window_probe);
	tcase_add_test(engine, engine_idle_per_state);
	tcase_add_test(engine, engine_full_of_tombstones);
	tcase_add_test(engine, engine_borrowed_ndpi);
	tcase_add_test(engine, engine_max_memory);
	suite_add_tcase(s, engine);
	return s;
}
