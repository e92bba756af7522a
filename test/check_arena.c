/* check_arena.c - the start-up arena (td_arena.h) and nDPI's tables in it
 * (src/classify.c).
 *
 * The arena is checked through its contract: alignment, zeroed blocks,
 * exhaustion that leaves it unchanged, the bounds of what it owns. The
 * classifier is checked for what the arena must not change: nDPI's verdict
 * on a sample's TLS handshake to port 443, with two modules alive
 * and freed in either order, and while another thread builds a module
 * (what nDPI allocates per flow on this thread must not land in that
 * thread's arena, which is unmapped under it).
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <stdio.h>

#include "td_arena.h"
#include "td_classify.h"
#include "td_decode.h"
#include "td_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_TEST 1
#endif

START_TEST(test_arena_blocks)
{
	const size_t cap = 4001; /* not a multiple of the alignment */
	struct td_arena *a = td_arena_new(cap);
	uint8_t *first, *p;
	size_t total = 0;

	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(td_arena_used(a), 0);
	ck_assert_ptr_null(td_arena_alloc(a, 0));
	first = td_arena_alloc(a, 1);
	ck_assert_ptr_nonnull(first);
	ck_assert_uint_eq((uintptr_t)first % TD_ARENA_ALIGN, 0);
	ck_assert_uint_eq(td_arena_used(a), TD_ARENA_ALIGN);
	total = TD_ARENA_ALIGN;
	/* sizes 1..40: each aligned, zeroed, after the last one, owned */
	for (size_t n = 1; n <= 40; n++) {
		p = td_arena_alloc(a, n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % TD_ARENA_ALIGN, 0);
		ck_assert_ptr_eq(p, first + total);
		for (size_t i = 0; i < n; i++)
			ck_assert_uint_eq(p[i], 0);
		memset(p, 0xA5, n);
		ck_assert(td_arena_owns(a, p) && td_arena_owns(a, p + n - 1));
		total += (n + TD_ARENA_ALIGN - 1) / TD_ARENA_ALIGN * TD_ARENA_ALIGN;
		ck_assert_uint_eq(td_arena_used(a), total);
	}
	/* 16 + 16 x 16 (1..16) + 16 x 32 (17..32) + 8 x 48 (33..40) */
	ck_assert_uint_eq(total, 1168);
	ck_assert_ptr_null(td_arena_alloc(a, cap - total + 1));
	ck_assert_uint_eq(td_arena_used(a), total); /* refused: unchanged */
	p = td_arena_alloc(a, cap - total);         /* exactly what is left */
	ck_assert_ptr_eq(p, first + total);
	ck_assert_uint_eq(td_arena_used(a), cap);
	ck_assert_ptr_null(td_arena_alloc(a, 1));
	/* owned: [first, first + cap) and nothing else */
	ck_assert(td_arena_owns(a, first + cap - 1));
	ck_assert(!td_arena_owns(a, first + cap));
	ck_assert(!td_arena_owns(a, first - 1));
	ck_assert(!td_arena_owns(a, &total));
	ck_assert(!td_arena_owns(NULL, first));
	td_arena_free(a);
	td_arena_free(NULL);
	ck_assert_ptr_null(td_arena_new(0));
	ck_assert_ptr_null(td_arena_new(SIZE_MAX));
}
END_TEST

#ifdef LSAN_TEST
/* Under ASan: a heap block whose only pointer is in the arena is not a
 * leak (nDPI hangs the caches it makes as flows need them on its tables,
 * and tlsdiag keeps the module to the end). The pointer is put there by a
 * function of its own, and the stack it used is overwritten, so that no
 * copy is left where LeakSanitizer looks anyway. */
static __attribute__((noinline)) void hang_block(void **slot)
{
	*slot = malloc(100);
	ck_assert_ptr_nonnull(*slot);
}

static __attribute__((noinline)) void scrub_stack(void)
{
	volatile uint8_t junk[4096];

	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = 0;
}

START_TEST(test_arena_leak_root)
{
	struct td_arena *a = td_arena_new(4096);
	void **slot;

	ck_assert_ptr_nonnull(a);
	slot = td_arena_alloc(a, sizeof *slot);
	ck_assert_ptr_nonnull(slot);
	hang_block(slot);
	scrub_stack();
	ck_assert_int_eq(__lsan_do_recoverable_leak_check(), 0);
	free(*slot);
	td_arena_free(a);
}
END_TEST
#endif

/* The packets of samples/tls12-ecdhe-ok.pcap (libssl's TLS 1.2 handshake
 * to port 443 with SNI "server.example" and ALPN: nDPI keeps both in
 * blocks of its own), read once. */
#define SAMPLE "tls12-ecdhe-ok.pcap"
#define SAMPLE_MAX 32
static uint8_t *frames[SAMPLE_MAX];
static size_t lens[SAMPLE_MAX], nframes;

static void sample_load(void)
{
	int linktype = 0;

	nframes = td_test_sample_frames(SAMPLE, frames, lens, SAMPLE_MAX, &linktype);
	ck_assert_int_eq(linktype, TD_LINK_ETHERNET);
	ck_assert_uint_ge(nframes, 4);
}

static void sample_free(void)
{
	for (size_t i = 0; i < nframes; i++)
		free(frames[i]);
	nframes = 0;
}

/* Frame i of the sample as the engine's decoder gives it: the IP packet
 * nDPI is given, and its TCP payload's length. */
static struct td_tcp_seg seg_of(size_t i)
{
	struct td_tcp_seg seg;

	ck_assert_int_eq(td_decode_packet(TD_LINK_ETHERNET, frames[i], lens[i], lens[i], &seg), TD_DECODE_TCP);
	ck_assert_ptr_nonnull(seg.ip);
	return seg;
}

/* Gives the packets up to frame `upto` to a new flow of c, telling
 * td_classify_packet their payload lengths, or (direct) a nonzero length
 * for all, so that none waits; returns the verdict through finish. */
static void classify_upto(struct td_classify *c, size_t upto, bool direct,
			  struct td_classify_facts *out)
{
	struct td_classify_flow *f = td_classify_flow_new(c);

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < upto && i < nframes; i++) {
		struct td_tcp_seg seg = seg_of(i);

		if (td_classify_packet(c, f, seg.ip, seg.ip_len,
				       direct ? seg.payload_len + 1 : seg.payload_len, 1000 + i))
			break;
	}
	td_classify_finish(c, f, out);
	td_classify_flow_free(f);
}

/* Gives all the sample's packets to c as one flow (until nDPI's verdict
 * is final). */
static void classify_one(struct td_classify *c, struct td_classify_facts *out)
{
	classify_upto(c, nframes, false, out);
}

static void assert_tls(const struct td_classify_facts *v)
{
	ck_assert(v->done);
	ck_assert_uint_ge(v->packets, 4); /* through the ClientHello, frame 4 */
	ck_assert_msg(strncmp(v->protocol, "TLS", 3) == 0, "verdict %s", v->protocol);
}

START_TEST(test_classify_arena)
{
	struct td_classify *a = td_classify_new(), *b;
	struct td_classify_facts v;

	sample_load();
	ck_assert_ptr_nonnull(a);
	/* nDPI 4.2's tables: megabytes, in the arena (they would be 0 if the
	 * allocator were not nDPI's) */
	ck_assert_uint_gt(td_classify_arena_bytes(a), 1u << 20);
	classify_one(a, &v);
	assert_tls(&v);
	/* a second module, then the first freed: the second's tables are its
	 * own */
	b = td_classify_new();
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(td_classify_arena_bytes(b), td_classify_arena_bytes(a));
	td_classify_free(a);
	classify_one(b, &v);
	assert_tls(&v);
	a = td_classify_new();
	ck_assert_ptr_nonnull(a);
	classify_one(a, &v);
	assert_tls(&v);
	td_classify_free(b); /* the other order */
	classify_one(a, &v);
	assert_tls(&v);
	td_classify_free(a);
	sample_free();
}
END_TEST

/* One module more than have arenas: its tables come from malloc, are
 * freed block by block, and it classifies as the others do; once one
 * with an arena is freed, the next module gets one again. */
START_TEST(test_classify_arenas_full)
{
	struct td_classify *c[TD_CLASSIFY_ARENAS + 1], *again;
	struct td_classify_facts v;

	sample_load();
	for (int i = 0; i <= TD_CLASSIFY_ARENAS; i++) {
		c[i] = td_classify_new();
		ck_assert_ptr_nonnull(c[i]);
		if (i < TD_CLASSIFY_ARENAS)
			ck_assert_uint_gt(td_classify_arena_bytes(c[i]), 1u << 20);
	}
	ck_assert_uint_eq(td_classify_arena_bytes(c[TD_CLASSIFY_ARENAS]), 0);
	classify_one(c[TD_CLASSIFY_ARENAS], &v);
	assert_tls(&v);
	td_classify_free(c[TD_CLASSIFY_ARENAS]);
	td_classify_free(c[3]);
	again = td_classify_new();
	ck_assert_ptr_nonnull(again);
	ck_assert_uint_gt(td_classify_arena_bytes(again), 1u << 20);
	classify_one(again, &v);
	assert_tls(&v);
	td_classify_free(again);
	for (int i = 0; i < TD_CLASSIFY_ARENAS; i++)
		if (i != 3)
			td_classify_free(c[i]);
	sample_free();
}
END_TEST

/* The sample's ClientHello frame, from the facts make-samples.py wrote
 * with libssl (not from tlsdiag). */
static unsigned sample_client_hello_frame(void)
{
	char path[4096];
	json_error_t err;
	json_t *facts, *conns;
	unsigned frame;

	snprintf(path, sizeof path, "%s/tls12-ecdhe-ok.facts.json", td_test_samples());
	facts = json_load_file(path, 0, &err);
	ck_assert_msg(facts != NULL, "%s: %s", path, err.text);
	conns = json_object_get(facts, "connections");
	ck_assert_uint_eq(json_array_size(conns), 1);
	frame = (unsigned)json_integer_value(
		json_object_get(json_array_get(conns, 0), "client_hello_frame"));
	json_decref(facts);
	return frame;
}

static void assert_same_facts(const struct td_classify_facts *a, const struct td_classify_facts *b)
{
	ck_assert(a->done == b->done);
	ck_assert_str_eq(a->protocol, b->protocol);
	ck_assert_str_eq(a->category, b->category);
	ck_assert_uint_eq(a->risks, b->risks);
	ck_assert_uint_eq(a->packets, b->packets);
}

/* The packets without payload wait, copied, and nDPI's state is made at
 * the first payload: a flow in its TCP handshake holds their bytes, not
 * nDPI's state, and nDPI's verdict is the one it gives when it sees every
 * packet at once. */
START_TEST(test_classify_deferred)
{
	struct td_classify *c = td_classify_new();
	struct td_classify_flow *f;
	struct td_classify_facts waited, direct;
	unsigned ch;
	size_t want;

	ck_assert_ptr_nonnull(c);
	sample_load();
	ch = sample_client_hello_frame();
	ck_assert_uint_ge(ch, 2);
	/* the frames before the ClientHello carry no payload (the TCP
	 * handshake): they wait, 10 bytes of time and length each */
	f = td_classify_flow_new(c);
	ck_assert_ptr_nonnull(f);
	want = td_classify_flow_bytes(NULL) + 16;
	for (unsigned i = 0; i + 1 < ch; i++) {
		struct td_tcp_seg seg = seg_of(i);

		ck_assert_uint_eq(seg.payload_len, 0);
		ck_assert(!td_classify_packet(c, f, seg.ip, seg.ip_len, 0, 1000 + i));
		want += 10 + seg.ip_len;
		ck_assert_uint_eq(td_classify_flow_bytes(f), want);
	}
	ck_assert_uint_lt(td_classify_flow_bytes(f), 1024);
	/* the ClientHello: nDPI's state is made, the packets that waited go
	 * to it and are freed */
	struct td_tcp_seg hello = seg_of(ch - 1);

	td_classify_packet(c, f, hello.ip, hello.ip_len, hello.payload_len, 1000 + ch - 1);
	ck_assert_uint_gt(td_classify_flow_bytes(f), td_classify_flow_bytes(NULL) + 600);
	/* (with the copies still held it would be the state and them) */
	ck_assert_uint_lt(td_classify_flow_bytes(f), want + 600);
	td_classify_finish(c, f, &waited);
	td_classify_flow_free(f);
	ck_assert_uint_ge(waited.packets, ch);
	ck_assert_msg(strncmp(waited.protocol, "TLS", 3) == 0, "%s", waited.protocol);
	/* the same as without waiting: the whole sample, and the TCP
	 * handshake alone (nDPI's state made at finish), and the SYN alone */
	for (size_t upto = 1; upto <= nframes; upto++) {
		classify_upto(c, upto, false, &waited);
		classify_upto(c, upto, true, &direct);
		assert_same_facts(&waited, &direct);
		if (upto < ch) /* all of them reach nDPI, at finish */
			ck_assert_uint_eq(waited.packets, upto);
	}
	/* five packets without payload: the fifth does not wait */
	f = td_classify_flow_new(c);
	ck_assert_ptr_nonnull(f);
	struct td_tcp_seg ack = seg_of(2);

	for (int i = 0; i < 5; i++)
		ck_assert(!td_classify_packet(c, f, ack.ip, ack.ip_len, 0, 2000 + i));
	ck_assert_uint_gt(td_classify_flow_bytes(f), td_classify_flow_bytes(NULL) + 600);
	td_classify_finish(c, f, &waited);
	ck_assert_uint_eq(waited.packets, 5);
	td_classify_flow_free(f);
	sample_free();
	td_classify_free(c);
}
END_TEST

static atomic_bool building;

static void *build_modules(void *arg)
{
	(void)arg;
	for (int i = 0; i < 8; i++) {
		struct td_classify *c = td_classify_new();

		ck_assert_ptr_nonnull(c);
		td_classify_free(c); /* its arena is unmapped here */
	}
	atomic_store(&building, false);
	return NULL;
}

/* nDPI's allocator is the process's: while another thread fills its arena,
 * this thread's flows (nDPI keeps the ClientHello and the host name in
 * blocks of its own) must get theirs from malloc. Were they put in the
 * other arena, they would be unmapped under this thread. */
START_TEST(test_classify_arena_threads)
{
	struct td_classify *a = td_classify_new();
	struct td_classify_facts v;
	pthread_t t;
	unsigned rounds = 0;

	ck_assert_ptr_nonnull(a);
	sample_load();
	atomic_store(&building, true);
	ck_assert_int_eq(pthread_create(&t, NULL, build_modules, NULL), 0);
	while (atomic_load(&building) || rounds < 100) {
		classify_one(a, &v);
		assert_tls(&v);
		rounds++;
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	td_classify_free(a);
	sample_free();
}
END_TEST

Suite *td_arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_arena_blocks);
#ifdef LSAN_TEST
	tcase_add_test(tc, test_arena_leak_root);
#endif
	tcase_add_test(tc, test_classify_arena);
	tcase_add_test(tc, test_classify_arenas_full);
	tcase_add_test(tc, test_classify_deferred);
	tcase_add_test(tc, test_classify_arena_threads);
	suite_add_tcase(s, tc);
	return s;
}
