/* flow.c - the table of bidirectional connections (contract in td_flow.h).
 *
 * Separate chaining over a power-of-two bucket array that doubles as flows
 * come, keeping at least two buckets per flow (the average chain stays
 * under one entry), up to what the table's maximum needs: a capture with
 * 2,000 connections open walks a 32 KB array that stays in the cache, not
 * the 1 MB one that 65,536 flows need (the flow lookup was 5% of a
 * handshake-heavy run's time, most of it that array's cache misses). The
 * array never shrinks. The hash is
 * SipHash-2-4 under a per-table random key over the canonical key, serialised
 * field by field so struct padding and the unused bytes of an IPv4 address
 * never reach it.
 *
 * Each flow is its own malloc'd block: memory follows the number of live
 * flows rather than the maximum, and a flow used after td_flow_remove() is a
 * use-after-free that AddressSanitizer and valgrind point at, which a pool
 * would hide. The activity list is intrusive and doubly linked, most recent
 * first, one per idle-timeout state, so touch, oldest and remove are O(1)
 * (the oldest of all is the oldest of the lists' tails).
 *
 * Accounting: bytes is the table's own allocations (struct, bucket array),
 * one TD_FLOW_ENTRY_BYTES per entry and what callers charged, kept exact
 * on every change so td_flow_bytes() is O(1). Each allocation is counted
 * with TD_FLOW_MALLOC_OVERHEAD for the allocator's header (glibc: 8 bytes,
 * sizes rounded up to 16), a slight over-estimate rather than an under one.
 */
#include "td_flow.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* A new table's buckets: small, so that a small capture's table is small. */
#define TD_FLOW_START_BUCKETS ((size_t)64)
/* Bucket arrays stop growing here (2^22 pointers, 32 MiB on 64-bit hosts):
 * beyond it chains grow past two entries on average, which is still cheap,
 * while the array would cost memory even for an empty table. */
#define TD_FLOW_MAX_BUCKETS ((size_t)1 << 22)
#define TD_FLOW_MIN_BUCKETS ((size_t)16)
#define TD_FLOW_MALLOC_OVERHEAD 16
#define TD_FLOW_ENTRY_BYTES (sizeof(struct td_flow) + TD_FLOW_MALLOC_OVERHEAD)

struct lru {
	struct td_flow *head, *tail; /* most, least recently active */
};

struct td_flow_table {
	struct td_flow **buckets;
	size_t mask;	 /* bucket count - 1 */
	size_t max_mask; /* the most buckets the maximum needs, - 1 */
	size_t count, max_flows;
	struct lru lru[TD_FLOW_STATES];
	size_t bytes, peak_bytes;
	struct td_flow *last; /* the flow the last lookup found or made */
	uint8_t key[16];
};

/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012), declared in td_flow.h so the unit test can check it against the
 * paper's vectors. */

static uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* One unaligned load (memcpy), not eight byte loads and shifts. */
static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return le64toh(v);
}

/* inline: in registers, a packet's hash costs half the instructions */
static inline void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

static inline void sip_compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

static inline void sip_init(uint64_t v[4], const uint8_t key[16])
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);

	/* Initialisation constants: "somepseudorandomlygeneratedbytes". */
	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;
}

/* The final block (the last 0..7 bytes, little-endian, with the message
 * length mod 256 in the top byte), then the finalisation. */
static inline uint64_t sip_finish(uint64_t v[4], uint64_t last)
{
	sip_compress(v, last);
	v[2] ^= 0xff;
	for (unsigned i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64_t sip24(const uint8_t key[16], const uint8_t *m, size_t n)
{
	uint64_t v[4];
	size_t off = 0;
	uint8_t tail[8] = {0};

	sip_init(v, key);
	for (; n - off >= 8; off += 8)
		sip_compress(v, load_le64(m + off));
	memcpy(tail, m + off, n - off);
	return sip_finish(v, load_le64(tail) | (uint64_t)(n & 0xff) << 56);
}

uint64_t td_flow_siphash24(const uint8_t key[16], const uint8_t *m, size_t n)
{
	return sip24(key, m, n);
}

/* Address bytes that matter: 4 for IPv4, 16 otherwise. */
static size_t addr_len(const struct td_addr *a)
{
	return a->family == 4 ? 4 : 16;
}

/* The address as a number: IPv4's 4 bytes big-endian, for ordering. */
static uint32_t addr_be32(const struct td_addr *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	       (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

/* Orders (address, port) pairs: family, then address bytes, then port.
 * IPv4 addresses compared as numbers (the order of their bytes), without
 * a call to memcmp(): every packet orders its two endpoints. */
static int endpoint_cmp(const struct td_addr *x, uint16_t px, const struct td_addr *y, uint16_t py)
{
	int r;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->family == 4) {
		uint32_t ax = addr_be32(x), ay = addr_be32(y);

		r = ax == ay ? 0 : ax < ay ? -1 : 1;
	} else {
		r = memcmp(x->bytes, y->bytes, addr_len(x));
	}
	if (r)
		return r < 0 ? -1 : 1;
	if (px != py)
		return px < py ? -1 : 1;
	return 0;
}

/* An address's 16 bytes as two little-endian words; IPv4's last 12 bytes
 * zero whatever the struct holds there. */
static void addr_words(const struct td_addr *a, uint64_t *w0, uint64_t *w1)
{
	*w0 = load_le64(a->bytes);
	if (a->family == 4) {
		*w0 &= 0xffffffffu;
		*w1 = 0;
	} else {
		*w1 = load_le64(a->bytes + 8);
	}
}

/* The canonical key (see td_flow.h), word by word: no byte stores that a
 * word load of the same key would have to wait for. */
static void key_make(struct td_flow_key *k, const struct td_addr *a, uint16_t pa,
		     const struct td_addr *b, uint16_t pb)
{
	addr_words(a, &k->w[0], &k->w[1]);
	addr_words(b, &k->w[2], &k->w[3]);
	k->w[4] = (uint64_t)a->family | (uint64_t)b->family << 8 | (uint64_t)pa << 16 |
		  (uint64_t)pb << 32;
}

static bool key_equal(const struct td_flow_key *x, const struct td_flow_key *y)
{
	return ((x->w[0] ^ y->w[0]) | (x->w[1] ^ y->w[1]) | (x->w[2] ^ y->w[2]) |
		(x->w[3] ^ y->w[3]) | (x->w[4] ^ y->w[4])) == 0;
}

static uint16_t key_port(const struct td_flow_key *k, int which)
{
	return (uint16_t)(k->w[4] >> (16 + 16 * which));
}

/* A port as its two bytes big-endian, read as a little-endian number. */
static uint64_t port_be(uint16_t p)
{
	return (uint64_t)(uint16_t)(p << 8 | p >> 8);
}

/* SipHash-2-4 of the key serialised as: family a, family b, address a,
 * address b, port a, port b (big-endian); the addresses 4 bytes each when
 * both are IPv4, else 16 (an IPv4 one zero-padded, as the key holds it).
 * The message's words are made from the key's with shifts, with no buffer
 * between (the unit test checks them against the bytes). */
static uint64_t key_hash(const struct td_flow_table *t, const struct td_flow_key *k)
{
	uint64_t fam = k->w[4] & 0xffff;
	uint64_t ports = port_be(key_port(k, 0)) | port_be(key_port(k, 1)) << 16;
	uint64_t v[4];

	sip_init(v, t->key);
	if (fam == (4 | 4 << 8)) {
		/* 14 bytes: fa fb a0..a3 b0 b1 | b2 b3 pa pb */
		sip_compress(v, fam | k->w[0] << 16 | k->w[2] << 48);
		return sip_finish(v, (k->w[2] >> 16 & 0xffff) | ports << 16 | (uint64_t)14 << 56);
	}
	/* 38 bytes: fa fb a0..a5 | a6..a13 | a14 a15 b0..b5 | b6..b13 |
	 * b14 b15 pa pb */
	sip_compress(v, fam | k->w[0] << 16);
	sip_compress(v, k->w[0] >> 48 | k->w[1] << 16);
	sip_compress(v, k->w[1] >> 48 | k->w[2] << 16);
	sip_compress(v, k->w[2] >> 48 | k->w[3] << 16);
	return sip_finish(v, k->w[3] >> 48 | ports << 16 | (uint64_t)38 << 56);
}

/* getrandom(2), or /dev/urandom where the syscall is missing (old kernels,
 * some sandboxes). */
static bool random_key(uint8_t key[16])
{
	ssize_t r;
	FILE *f;
	bool ok;

	do
		r = getrandom(key, 16, 0);
	while (r < 0 && errno == EINTR);
	if (r == 16)
		return true;
	f = fopen("/dev/urandom", "rb");
	if (!f)
		return false;
	ok = fread(key, 1, 16, f) == 16;
	fclose(f);
	return ok;
}

static size_t bucket_count(size_t max_flows)
{
	size_t n = TD_FLOW_MIN_BUCKETS;

	while (n < TD_FLOW_MAX_BUCKETS && n / 2 < max_flows)
		n *= 2;
	return n;
}

struct td_flow_table *td_flow_table_new(size_t max_flows, const uint8_t *key16)
{
	struct td_flow_table *t;
	size_t nb, max_nb;

	if (!max_flows)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (key16)
		memcpy(t->key, key16, sizeof(t->key));
	else if (!random_key(t->key))
		goto fail;
	max_nb = bucket_count(max_flows);
	nb = max_nb < TD_FLOW_START_BUCKETS ? max_nb : TD_FLOW_START_BUCKETS;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets)
		goto fail;
	t->mask = nb - 1;
	t->max_mask = max_nb - 1;
	t->max_flows = max_flows;
	t->bytes = sizeof(*t) + nb * sizeof(*t->buckets) + 2 * TD_FLOW_MALLOC_OVERHEAD;
	t->peak_bytes = t->bytes;
	return t;

fail:
	free(t);
	return NULL;
}

void td_flow_table_free(struct td_flow_table *t)
{
	struct td_flow *f, *next;

	if (!t)
		return;
	for (int st = 0; st < TD_FLOW_STATES; st++)
		for (f = t->lru[st].head; f; f = next) {
			next = f->lru_next;
			free(f);
		}
	free(t->buckets);
	free(t);
}

static void lru_unlink(struct td_flow_table *t, struct td_flow *f)
{
	struct lru *l = &t->lru[f->state];

	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_push_head(struct td_flow_table *t, struct td_flow *f)
{
	struct lru *l = &t->lru[f->state];

	f->lru_prev = NULL;
	f->lru_next = l->head;
	if (l->head)
		l->head->lru_prev = f;
	else
		l->tail = f;
	l->head = f;
}

static void bytes_add(struct td_flow_table *t, size_t n)
{
	t->bytes += n;
	if (t->bytes > t->peak_bytes)
		t->peak_bytes = t->bytes;
}

/* Buckets the next entry adds: the array doubles when that entry would
 * leave fewer than two buckets per flow (and the maximum needs more). */
static size_t growth_buckets(const struct td_flow_table *t)
{
	size_t nb = t->mask + 1;

	return t->count + 1 > nb / 2 && t->mask < t->max_mask ? nb : 0;
}

/* Doubles the bucket array, each entry to its bucket under the new mask
 * (its hash is kept: nothing is hashed again). Without memory for the new
 * array the old one stays: chains grow longer, nothing is lost. */
static void grow(struct td_flow_table *t)
{
	size_t nb = t->mask + 1, mask = 2 * nb - 1;
	struct td_flow **b = calloc(2 * nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < nb; i++) {
		struct td_flow *f = t->buckets[i], *next;

		for (; f; f = next) {
			next = f->bucket_next;
			f->bucket_next = b[f->hash & mask];
			b[f->hash & mask] = f;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = mask;
	bytes_add(t, nb * sizeof(*b));
}

struct td_flow *td_flow_lookup(struct td_flow_table *t, const struct td_addr *src,
			       uint16_t sport, const struct td_addr *dst, uint16_t dport,
			       bool create, bool *created, bool *from_a)
{
	struct td_flow_key k;
	struct td_flow *f, **bucket;
	bool src_is_a = endpoint_cmp(src, sport, dst, dport) <= 0;
	uint64_t h;

	if (created)
		*created = false;
	if (from_a)
		*from_a = src_is_a;
	if (src_is_a)
		key_make(&k, src, sport, dst, dport);
	else
		key_make(&k, dst, dport, src, sport);
	/* A packet is often of the previous packet's connection (the
	 * segments of a burst, the ACKs between them): found without the
	 * hash. */
	if (t->last && key_equal(&t->last->key, &k))
		return t->last;
	h = key_hash(t, &k);
	bucket = &t->buckets[h & t->mask];

	for (f = *bucket; f; f = f->bucket_next)
		if (f->hash == h && key_equal(&f->key, &k))
			return t->last = f;
	if (!create || t->count >= t->max_flows)
		return NULL;

	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (growth_buckets(t)) {
		grow(t);
		bucket = &t->buckets[h & t->mask];
	}
	f->key = k;
	f->hash = h;
	f->state = TD_FLOW_HALF_OPEN;
	f->bucket_next = *bucket;
	*bucket = f;
	/* New is active: at the head, until the caller touches it with the
	 * packet's time. */
	lru_push_head(t, f);
	t->count++;
	bytes_add(t, TD_FLOW_ENTRY_BYTES);
	if (created)
		*created = true;
	return t->last = f;
}

void td_flow_touch(struct td_flow_table *t, struct td_flow *f, struct td_time now)
{
	f->last = now;
	if (t->lru[f->state].head == f)
		return;
	lru_unlink(t, f);
	lru_push_head(t, f);
}

void td_flow_set_state(struct td_flow_table *t, struct td_flow *f, enum td_flow_state st)
{
	if (f->state == st || (unsigned)st >= TD_FLOW_STATES)
		return;
	lru_unlink(t, f);
	f->state = (uint8_t)st;
	lru_push_head(t, f);
}

static bool time_before(struct td_time a, struct td_time b)
{
	return a.sec != b.sec ? a.sec < b.sec : a.usec < b.usec;
}

struct td_flow *td_flow_oldest(const struct td_flow_table *t)
{
	struct td_flow *best = NULL;

	for (int st = 0; st < TD_FLOW_STATES; st++) {
		struct td_flow *f = t->lru[st].tail;

		if (f && (!best || time_before(f->last, best->last)))
			best = f;
	}
	return best;
}

struct td_flow *td_flow_oldest_in(const struct td_flow_table *t, enum td_flow_state st)
{
	return (unsigned)st < TD_FLOW_STATES ? t->lru[st].tail : NULL;
}

void td_flow_remove(struct td_flow_table *t, struct td_flow *f)
{
	struct td_flow **pp = &t->buckets[f->hash & t->mask];

	while (*pp && *pp != f)
		pp = &(*pp)->bucket_next;
	if (!*pp)
		return; /* not in this table: leave it alone */
	*pp = f->bucket_next;
	lru_unlink(t, f);
	if (t->last == f)
		t->last = NULL;
	t->count--;
	t->bytes -= TD_FLOW_ENTRY_BYTES + f->charged;
	free(f);
}

void td_flow_charge(struct td_flow_table *t, struct td_flow *f, size_t bytes)
{
	t->bytes -= f->charged;
	f->charged = bytes;
	bytes_add(t, bytes);
}

size_t td_flow_bytes(const struct td_flow_table *t)
{
	return t->bytes;
}

size_t td_flow_peak_bytes(const struct td_flow_table *t)
{
	return t->peak_bytes;
}

size_t td_flow_insert_bytes(const struct td_flow_table *t)
{
	return TD_FLOW_ENTRY_BYTES + growth_buckets(t) * sizeof(*t->buckets);
}

size_t td_flow_entry_bytes(void)
{
	return TD_FLOW_ENTRY_BYTES;
}

size_t td_flow_count(const struct td_flow_table *t)
{
	return t->count;
}

size_t td_flow_capacity(const struct td_flow_table *t)
{
	return t->max_flows;
}
