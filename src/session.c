/* session.c - the session facts: life cycle, timeline, outcome. */
#include "td_session.h"

#include <stdlib.h>
#include <string.h>

#include "td_x509.h"

#define TLS13 0x0304

/* What a session without a hello reads: const, so a write through it
 * does not compile, and one that casts it away faults. The ClientHello's
 * lists are empty, their pointers valid (at an empty room). */
static const uint16_t zero_room[1];
#define ZERO_LIST(type) ((type)(uintptr_t)zero_room)
static const struct td_client_hello zero_ch = {
	.suites = ZERO_LIST(uint16_t *),
	.exts = ZERO_LIST(uint16_t *),
	.versions = ZERO_LIST(uint16_t *),
	.groups = ZERO_LIST(uint16_t *),
	.sigalgs = ZERO_LIST(uint16_t *),
	.point_formats = ZERO_LIST(uint8_t *),
	.key_shares = ZERO_LIST(uint16_t *),
	.sni = {.bytes = ZERO_LIST(uint8_t *)},
	.alpn = {.name = ZERO_LIST(uint8_t(*)[TD_ALPN_LEN])},
};
static const struct td_server_hello zero_sh = {
	.exts = ZERO_LIST(uint16_t *),
	.alpn = ZERO_LIST(uint8_t *),
};
static const struct td_chain_facts zero_chain;
static const struct td_hello_retry zero_retry;
static const struct td_plain_text zero_plain;
static const struct td_proxy_facts zero_proxy;
static const struct td_ocsp_facts zero_ocsp;

/* The blocks of fixed size that stay a shared zero instance until
 * written (the ClientHello, fitted to its lists, is apart). */
#define SESSION_BLOCKS(X)                                                                  \
	X(chain, zero_chain, td_chain_facts)                                               \
	X(retry, zero_retry, td_hello_retry)                                               \
	X(ocsp, zero_ocsp, td_ocsp_facts)                                                  \
	X(plain, zero_plain, td_plain_text)                                                \
	X(proxy, zero_proxy, td_proxy_facts)

static void point_at_zero(struct td_session *s)
{
	s->ch = &zero_ch;
	s->sh = &zero_sh;
#define POINT_ZERO(name, zero, type) s->name = &zero;
	SESSION_BLOCKS(POINT_ZERO)
#undef POINT_ZERO
}

void td_session_init(struct td_session *s)
{
	memset(s, 0, sizeof *s);
	point_at_zero(s);
	s->end_by = -1;
	s->aborted_by = -1;
	s->dec.key_index = -1;
	s->reneg_by = -1;
}

const char *td_resumption_name(enum td_resumption r)
{
	static const char *const names[TD_RESUME_COUNT] = {
		[TD_RESUME_NONE] = "none",
		[TD_RESUME_SESSION_ID] = "session_id",
		[TD_RESUME_TICKET] = "ticket",
		[TD_RESUME_PSK] = "psk",
	};
	return (unsigned)r < TD_RESUME_COUNT ? names[r] : "?";
}

const char *td_ocsp_response_status_name(unsigned status)
{
	static const char *const names[] = {
		[0] = "successful",	    [1] = "malformedRequest", [2] = "internalError",
		[3] = "tryLater",	    [5] = "sigRequired",      [6] = "unauthorized",
	};
	return status < sizeof names / sizeof names[0] && names[status] ? names[status] : NULL;
}

const char *td_ocsp_cert_status_name(enum td_ocsp_cert_status st)
{
	static const char *const names[] = {
		[TD_OCSP_GOOD] = "good",
		[TD_OCSP_REVOKED] = "revoked",
		[TD_OCSP_UNKNOWN] = "unknown",
		[TD_OCSP_NONE] = NULL,
	};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : NULL;
}

bool td_session_reneg_secure(const struct td_session *s)
{
	return (s->ch->ext_flags & (TD_EXT_RENEGOTIATION_INFO | TD_EXT_SCSV_RENEGOTIATION)) &&
	       (s->sh->ext_flags & TD_EXT_RENEGOTIATION_INFO);
}

/* The allocator's header per block, as the flow table counts it
 * (glibc: 8 bytes, sizes rounded up to 16): a slight over-estimate. */
#define MALLOC_OVERHEAD 16

/* The lists allocated on first use, one place for clear and copy. */
#define SESSION_LISTS(X)                                                                   \
	X(events, s->cap_events)                                                           \
	X(alerts, s->cap_alerts)                                                           \
	X(cr_sigalgs, s->cr_sigalgs_cap)                                                   \
	X(cr_ca_der, s->cr_n_ca_names)                                                     \
	X(new_tickets, s->n_new_tickets)                                                   \
	X(certs, s->certs_cap)                                                             \
	X(client_certs, s->client_certs_cap)

void td_session_clear(struct td_session *s, struct td_x509_cache *cache)
{
	for (unsigned i = 0; cache && i < s->n_certs; i++)
		td_x509_cert_release(cache, s->certs[i]);
	s->n_certs = 0;
	for (unsigned i = 0; cache && i < s->n_client_certs; i++)
		td_x509_cert_release(cache, s->client_certs[i]);
	s->n_client_certs = 0;
#define FREE_LIST(name, count)                                                             \
	free(s->name);                                                                     \
	s->name = NULL;
	SESSION_LISTS(FREE_LIST)
#undef FREE_LIST
	if (s->ch != &zero_ch)
		free((void *)(uintptr_t)s->ch);
	if (s->sh != &zero_sh)
		free((void *)(uintptr_t)s->sh);
	s->ch = &zero_ch;
	s->sh = &zero_sh;
#define FREE_BLOCK(name, zero, type)                                                       \
	if (s->name != &zero)                                                              \
		free((void *)(uintptr_t)s->name);                                          \
	s->name = &zero;
	SESSION_BLOCKS(FREE_BLOCK)
#undef FREE_BLOCK
	s->cap_events = s->cap_alerts = s->cr_sigalgs_cap = s->client_certs_cap = 0;
	s->certs_cap = 0;
	s->n_events = s->n_alerts = 0;
	s->cr_n_ca_names = s->n_new_tickets = 0;
	s->heap_bytes = 0;
}

size_t td_session_bytes(const struct td_session *s)
{
	return s->heap_bytes;
}

/* The lists of a ClientHello (the pointer, its count, its cap, its room
 * in struct td_client_hello_wide), in the order they are laid out in a
 * fitted block: 16-bit ones first (the struct's size keeps them aligned). */
#define CH_LISTS(X)                                                                        \
	X(suites, n_suites, TD_MAX_SUITES, suites)                                         \
	X(exts, n_exts, TD_MAX_EXTS, exts)                                                 \
	X(versions, n_versions, TD_MAX_VERSIONS, versions)                                 \
	X(groups, n_groups, TD_MAX_GROUPS, groups)                                         \
	X(sigalgs, n_sigalgs, TD_MAX_SIGALGS, sigalgs)                                     \
	X(key_shares, n_key_shares, TD_MAX_KEY_SHARES, key_shares)                         \
	X(point_formats, n_point_formats, TD_MAX_POINT_FORMATS, point_formats)             \
	X(sni.bytes, sni.len, TD_SNI_LEN, sni)                                             \
	X(alpn.name, alpn.n, TD_MAX_ALPN, alpn)

/* A ServerHello's, the same way. */
#define SH_LISTS(X)                                                                        \
	X(exts, n_exts, TD_MAX_SH_EXTS, exts)                                              \
	X(alpn, alpn_len, TD_ALPN_LEN, alpn)

#define CH_CAP(n, cap) ((size_t)(n) < (cap) ? (size_t)(n) : (size_t)(cap))

#define ADD_SIZE(list, n, cap, room) size += CH_CAP(hello->n, cap) * sizeof *hello->list;
#define PLACE(list, n, cap, room)                                                          \
	c->list = (void *)at;                                                              \
	memcpy(at, hello->list, CH_CAP(hello->n, cap) * sizeof *hello->list);              \
	at += CH_CAP(hello->n, cap) * sizeof *hello->list;
#define POINT(list, n, cap, room) hw->list = w->room;
#define WIDEN(list, n, cap, room)                                                          \
	memcpy(w->room, hello->list, CH_CAP(hello->n, cap) * sizeof *hello->list);

/* Grows the block p of have elements of elem bytes to want (more than
 * have), counting the difference in s->heap_bytes. Returns the block, or
 * NULL when out of memory (p unchanged). New elements are zeroed. */
static void *grow(struct td_session *s, void *p, size_t elem, size_t have, size_t want)
{
	unsigned char *q = realloc(p, want * elem);

	if (!q)
		return NULL;
	memset(q + have * elem, 0, (want - have) * elem);
	s->heap_bytes += (uint32_t)((want - have) * elem + (have ? 0 : MALLOC_OVERHEAD));
	return q;
}

/* A block to write: the shared zero instance gives way to a block of
 * the session's own (zeroed); NULL when out of memory. */
static void *writable(struct td_session *s, const void *cur, const void *zero, size_t size)
{
	return cur != zero ? (void *)(uintptr_t)cur : grow(s, NULL, size, 0, 1);
}

/* For a hello type (its name in the session, h: ch or sh) and its lists:
 *   h_fitted(): a copy of a hello in one block, its lists as long as they
 *     hold (at most their caps), counting its bytes into *heap_bytes
 *     unless NULL; NULL when out of memory;
 *   TYPE_wide(), TYPE_widen(), td_session_h(), td_session_set_h(): as
 *     td_session.h says. */
#define HELLO_BLOCKS(h, TYPE, LISTS)                                                       \
	static struct TYPE *h##_fitted(const struct TYPE *hello, uint32_t *heap_bytes)     \
	{                                                                                  \
		size_t size = sizeof *hello + MALLOC_OVERHEAD;                             \
		struct TYPE *c;                                                            \
		unsigned char *at;                                                         \
                                                                                           \
		LISTS(ADD_SIZE)                                                            \
		if (!(c = malloc(size - MALLOC_OVERHEAD)))                                 \
			return NULL;                                                       \
		*c = *hello;                                                               \
		c->block_bytes = (uint16_t)size;                                           \
		at = (unsigned char *)(c + 1);                                             \
		LISTS(PLACE)                                                               \
		if (heap_bytes)                                                            \
			*heap_bytes += (uint32_t)size;                                     \
		return c;                                                                  \
	}                                                                                  \
                                                                                           \
	struct TYPE *TYPE##_wide(struct TYPE##_wide *w)                                    \
	{                                                                                  \
		struct TYPE *hw = &w->h;                                                   \
                                                                                           \
		LISTS(POINT)                                                               \
		return hw;                                                                 \
	}                                                                                  \
                                                                                           \
	struct TYPE *td_session_##h(struct td_session *s)                                  \
	{                                                                                  \
		struct TYPE##_wide *w;                                                     \
                                                                                           \
		if (s->h != &zero_##h)                                                     \
			return (struct TYPE *)(uintptr_t)s->h;                             \
		if (!(w = grow(s, NULL, sizeof *w, 0, 1)))                                 \
			return NULL;                                                       \
		w->h.block_bytes = (uint16_t)(sizeof *w + MALLOC_OVERHEAD);                \
		s->h = TYPE##_wide(w);                                                     \
		return &w->h;                                                              \
	}                                                                                  \
                                                                                           \
	bool td_session_set_##h(struct td_session *s, const struct TYPE *hello)            \
	{                                                                                  \
		struct TYPE *c = h##_fitted(hello, &s->heap_bytes);                        \
                                                                                           \
		if (!c)                                                                    \
			return false;                                                      \
		if (s->h != &zero_##h) {                                                   \
			s->heap_bytes -= s->h->block_bytes;                                \
			free((void *)(uintptr_t)s->h);                                     \
		}                                                                          \
		s->h = c;                                                                  \
		return true;                                                               \
	}

HELLO_BLOCKS(ch, td_client_hello, CH_LISTS)
HELLO_BLOCKS(sh, td_server_hello, SH_LISTS)

struct td_server_hello *td_server_hello_widen(struct td_server_hello_wide *w,
					      const struct td_server_hello *hello)
{
	w->sh = *hello;
	SH_LISTS(WIDEN)
	return td_server_hello_wide(w);
}

/* A copy of a block of fixed size: the zero instance stays shared.
 * NULL when out of memory. */
static const void *dup_block(const void *p, const void *zero, size_t size)
{
	void *q;

	if (p == zero)
		return p;
	if (!(q = malloc(size)))
		return NULL;
	return memcpy(q, p, size);
}

bool td_session_copy(struct td_session *dst, const struct td_session *src)
{
	const struct td_session *s = src;

	*dst = *src;
#define NULL_LIST(name, count) dst->name = NULL;
	SESSION_LISTS(NULL_LIST)
#undef NULL_LIST
	point_at_zero(dst);
#define DUP_LIST(name, count)                                                              \
	if (src->name && (count)) {                                                        \
		size_t n = (size_t)(count) * sizeof *src->name;                            \
		if (!(dst->name = malloc(n)))                                              \
			goto fail;                                                         \
		memcpy(dst->name, src->name, n);                                           \
	}
	SESSION_LISTS(DUP_LIST)
#undef DUP_LIST
#define DUP_HELLO(h)                                                                       \
	if (src->h != &zero_##h && !(dst->h = h##_fitted(src->h, NULL)))                   \
		goto fail;
	DUP_HELLO(ch)
	DUP_HELLO(sh)
#undef DUP_HELLO
#define DUP_BLOCK(name, zero, type)                                                       \
	if (!(dst->name = dup_block(src->name, &zero, sizeof zero)))                       \
		goto fail;
	SESSION_BLOCKS(DUP_BLOCK)
#undef DUP_BLOCK
	return true;
fail:
	td_session_clear(dst, NULL); /* borrowed certificates: nothing released */
	td_session_init(dst);
	return false;
}

void td_session_move(struct td_session *dst, struct td_session *src)
{
	*dst = *src;
	td_session_init(src);
}


/* td_session_chain(), td_session_retry(), ...: the block to write, the
 * session's own from the first call (td_session.h). */
#define WRITABLE_BLOCK(name, zero, type)                                                   \
	struct type *td_session_##name(struct td_session *s)                               \
	{                                                                                  \
		struct type *b = writable(s, s->name, &zero, sizeof *b);                  \
                                                                                           \
		if (b)                                                                     \
			s->name = b;                                                       \
		return b;                                                                  \
	}
SESSION_BLOCKS(WRITABLE_BLOCK)
#undef WRITABLE_BLOCK

/* The timeline, the alerts and the chains start small and grow up to
 * their caps: a full TLS 1.2 handshake has about 15 events, a failed one
 * one alert, a chain 2 or 3 certificates. The timeline starts at the two
 * hellos (a connection waiting for the rest of the server's flight, the
 * most that are open at once in a handshake, holds no more), then takes
 * the server's flight at once (8), then doubles: no more reallocations
 * than when it started at 8. */
#define EVENTS_FIRST 2
#define EVENTS_SECOND 8
#define ALERTS_FIRST 2
#define CERTS_FIRST 2

/* The next size of a list of cap entries: first, then second, then
 * doubling; at most max. */
static unsigned next_cap(unsigned cap, unsigned first, unsigned second, unsigned max)
{
	unsigned n = cap == 0 ? first : cap == first ? second : cap * 2;

	return n < max ? n : max;
}

struct td_alert *td_session_add_alert(struct td_session *s, const struct td_alert *a)
{
	if (s->total_alerts < UINT8_MAX)
		s->total_alerts++;
	if (s->n_alerts >= TD_MAX_ALERTS)
		return NULL;
	if (s->n_alerts >= s->cap_alerts) {
		unsigned cap =
			next_cap(s->cap_alerts, ALERTS_FIRST, 2 * ALERTS_FIRST, TD_MAX_ALERTS);
		struct td_alert *q = grow(s, s->alerts, sizeof *q, s->cap_alerts, cap);
		if (!q)
			return NULL;
		s->alerts = q;
		s->cap_alerts = (uint8_t)cap;
	}
	s->alerts[s->n_alerts] = *a;
	return &s->alerts[s->n_alerts++];
}

bool td_session_reserve_cr_sigalgs(struct td_session *s, uint16_t n)
{
	uint16_t *q;

	if (n > TD_MAX_CR_SIGALGS)
		n = TD_MAX_CR_SIGALGS;
	if (n <= s->cr_sigalgs_cap)
		return true;
	q = grow(s, s->cr_sigalgs, sizeof *q, s->cr_sigalgs_cap, n);
	if (!q)
		return false;
	s->cr_sigalgs = q;
	s->cr_sigalgs_cap = (uint8_t)n;
	return true;
}

uint8_t *td_session_add_ca_name(struct td_session *s)
{
	uint8_t(*q)[TD_CA_NAME_LEN];

	if (s->cr_n_ca_names >= TD_MAX_CA_NAMES)
		return NULL;
	q = grow(s, s->cr_ca_der, sizeof *q, s->cr_n_ca_names, s->cr_n_ca_names + 1u);
	if (!q)
		return NULL;
	s->cr_ca_der = q;
	return q[s->cr_n_ca_names++];
}

bool td_session_add_ticket(struct td_session *s, const uint8_t sha256[32], uint32_t frame)
{
	struct td_new_ticket *q;

	if (s->n_new_tickets >= TD_MAX_TICKETS)
		return false;
	q = grow(s, s->new_tickets, sizeof *q, s->n_new_tickets, s->n_new_tickets + 1u);
	if (!q)
		return false;
	s->new_tickets = q;
	memcpy(q[s->n_new_tickets].sha256, sha256, sizeof q->sha256);
	q[s->n_new_tickets++].frame = frame;
	return true;
}

/* A chain grows as the certificates come (a slot reserved for a
 * certificate the cache did not take waits for the next one). */
bool td_session_reserve_cert(struct td_session *s, bool client)
{
	const struct td_cert ***list = client ? &s->client_certs : &s->certs;
	uint8_t n = client ? s->n_client_certs : s->n_certs;
	uint8_t *cap = client ? &s->client_certs_cap : &s->certs_cap;
	unsigned want = next_cap(*cap, CERTS_FIRST, 2 * CERTS_FIRST, TD_MAX_CHAIN);
	const struct td_cert **q;

	if (n >= TD_MAX_CHAIN)
		return false;
	if (*cap > n)
		return true;
	q = grow(s, *list, sizeof *q, *cap, want);
	if (!q)
		return false;
	*list = q;
	*cap = (uint8_t)want;
	return true;
}

uint16_t td_session_version(const struct td_session *s)
{
	if (!s->sh->seen)
		return 0;
	if (s->sh->selected_version)
		return s->sh->selected_version;
	return s->sh->legacy_version;
}

/* Events arrive nearly in frame order; a segment that filled a hole may
 * deliver bytes of an earlier frame late, so the event is put in its place.
 * Consecutive application data records of one direction become one run. */
void td_session_add_event(struct td_session *s, const struct td_event *ev)
{
	if (s->n_events > 0) {
		struct td_event *last = &s->events[s->n_events - 1];
		if (ev->kind == TD_EV_APPDATA && last->kind == TD_EV_APPDATA &&
		    last->dir == ev->dir && last->frame <= ev->frame) {
			if (last->count < UINT16_MAX)
				last->count++;
			last->len = last->len + ev->len < last->len ? UINT32_MAX : last->len + ev->len;
			return;
		}
	}
	if (s->total_events < UINT16_MAX)
		s->total_events++;
	if (s->n_events >= TD_MAX_EVENTS)
		return;
	if (s->n_events >= s->cap_events) {
		unsigned cap = next_cap(s->cap_events, EVENTS_FIRST, EVENTS_SECOND, TD_MAX_EVENTS);
		struct td_event *q = grow(s, s->events, sizeof *q, s->cap_events, cap);
		if (!q)
			return;
		s->events = q;
		s->cap_events = (uint16_t)cap;
	}
	unsigned i = s->n_events;
	while (i > 0 && s->events[i - 1].frame > ev->frame) {
		s->events[i] = s->events[i - 1];
		i--;
	}
	s->events[i] = *ev;
	s->n_events++;
}

bool td_session_is_tls13(const struct td_session *s)
{
	uint16_t v = td_session_version(s);
	return v == TLS13 || (v >> 8) == 0x7f; /* draft-ietf-tls-tls13-NN */
}

bool td_session_handshake_complete(const struct td_session *s)
{
	if (td_session_is_tls13(s))
		return s->finished_seen[TD_DIR_C2S];
	return s->finished_seen[TD_DIR_C2S] && s->finished_seen[TD_DIR_S2C];
}

/* The sender had already sent application data before frame: whatever it
 * says now, its handshake was over. */
static bool sent_data_before(const struct td_session *s, int dir, uint32_t frame)
{
	for (unsigned i = 0; i < s->n_events && i < TD_MAX_EVENTS; i++) {
		const struct td_event *ev = &s->events[i];
		if (ev->kind == TD_EV_APPDATA && ev->dir == dir && ev->frame < frame)
			return true;
	}
	return false;
}

const struct td_alert *td_session_aborting_alert(const struct td_session *s)
{
	for (unsigned i = 0; i < s->n_alerts; i++) {
		const struct td_alert *a = &s->alerts[i];
		if (a->phase == TD_PHASE_APPLICATION)
			continue;
		if (a->level == 2)
			return a;
		/* an encrypted alert after the sender's own application data
		 * closes a session, it does not abort a handshake (seen when
		 * the capture misses the other direction) */
		if (a->encrypted && !sent_data_before(s, a->dir, a->frame))
			return a;
	}
	return NULL;
}

bool td_session_one_sided(const struct td_session *s)
{
	return s->packets[TD_DIR_C2S] == 0 || s->packets[TD_DIR_S2C] == 0;
}

void td_session_finish(struct td_session *s)
{
	const struct td_alert *a;

	s->version = td_session_version(s);
	s->aborted_by = -1;
	s->aborted_how = TD_ABORT_NONE;
	/* A client that offers a ticket and a session ID gets the session ID
	 * echoed either way (RFC 5077 §3.4): the ticket is what resumed. */
	s->resumption = !s->resumed		 ? TD_RESUME_NONE
			: td_session_is_tls13(s) ? TD_RESUME_PSK
			: s->ch->has_ticket	 ? TD_RESUME_TICKET
						 : TD_RESUME_SESSION_ID;
	if (!s->is_tls) {
		s->outcome = TD_OUTCOME_NOT_TLS;
		return;
	}
	if (td_session_handshake_complete(s)) {
		s->outcome = TD_OUTCOME_COMPLETED;
		return;
	}
	a = td_session_aborting_alert(s);
	if (a) {
		s->outcome = TD_OUTCOME_FAILED;
		s->aborted_by = (int8_t)a->dir;
		s->aborted_how = TD_ABORT_ALERT;
		return;
	}
	if (td_session_one_sided(s)) {
		/* half the conversation is missing: how it ended says nothing
		 * about whether the handshake failed */
		s->outcome = TD_OUTCOME_INCOMPLETE;
		return;
	}
	if (s->midstream && s->stage == TD_STAGE_NONE) {
		/* picked up after the handshake (records found again in the
		 * middle of the stream, no handshake message): it happened
		 * before the capture, and how the connection ends says
		 * nothing about it */
		s->outcome = TD_OUTCOME_INCOMPLETE;
		return;
	}
	switch (s->end) {
	case TD_END_RST:
	case TD_END_FIN:
		s->outcome = TD_OUTCOME_FAILED;
		s->aborted_by = s->end_by;
		s->aborted_how = s->end == TD_END_RST ? TD_ABORT_RST : TD_ABORT_FIN;
		break;
	case TD_END_IDLE:
		s->outcome = TD_OUTCOME_FAILED;
		s->aborted_how = TD_ABORT_SILENCE;
		break;
	default:
		s->outcome = TD_OUTCOME_INCOMPLETE;
		break;
	}
}

static const char *const phase_names[TD_PHASE_COUNT] = {
	[TD_PHASE_BEFORE_SERVER_HELLO] = "before ServerHello",
	[TD_PHASE_SERVER_FLIGHT] = "during the server's flight",
	[TD_PHASE_AFTER_SERVER_FLIGHT] = "after the server's flight",
	[TD_PHASE_AFTER_CLIENT_FINISHED] = "after client Finished",
	[TD_PHASE_APPLICATION] = "application data",
};

static const char *const outcome_names[TD_OUTCOME_COUNT] = {
	[TD_OUTCOME_NOT_TLS] = "not-tls",
	[TD_OUTCOME_INCOMPLETE] = "incomplete",
	[TD_OUTCOME_FAILED] = "failed",
	[TD_OUTCOME_COMPLETED] = "completed",
};

static const char *const end_names[TD_END_COUNT] = {
	[TD_END_OPEN] = "open",
	[TD_END_FIN] = "fin",
	[TD_END_RST] = "rst",
	[TD_END_IDLE] = "idle",
	[TD_END_EVICTED] = "evicted",
};

static const char *const stage_names[TD_STAGE_COUNT] = {
	[TD_STAGE_NONE] = "none",
	[TD_STAGE_CLIENT_HELLO] = "ClientHello",
	[TD_STAGE_SERVER_HELLO] = "ServerHello",
	[TD_STAGE_CERTIFICATE] = "Certificate",
	[TD_STAGE_SERVER_HELLO_DONE] = "ServerHelloDone",
	[TD_STAGE_CLIENT_KEY_EXCHANGE] = "ClientKeyExchange",
	[TD_STAGE_CLIENT_FINISHED] = "client Finished",
	[TD_STAGE_SERVER_FINISHED] = "server Finished",
	[TD_STAGE_APPLICATION_DATA] = "application data",
};

static const char *const abort_names[TD_ABORT_COUNT] = {
	[TD_ABORT_NONE] = "none",
	[TD_ABORT_ALERT] = "alert",
	[TD_ABORT_RST] = "rst",
	[TD_ABORT_FIN] = "fin",
	[TD_ABORT_SILENCE] = "silence",
};

/* The JSON schema's values (man/tlsdiag.1): keep them stable. */
static const char *const decrypt_status_names[TD_DECRYPT_STATUS_COUNT] = {
	[TD_DECRYPT_OFF] = "off",
	[TD_DECRYPT_DONE] = "decrypted",
	[TD_DECRYPT_NO_HELLOS] = "no_hellos",
	[TD_DECRYPT_NO_SECRETS] = "no_secrets",
	[TD_DECRYPT_DHE_NO_KEYLOG] = "dhe_needs_keylog",
	[TD_DECRYPT_PMS_FAILED] = "pms_not_decrypted",
	[TD_DECRYPT_TLS13_MISSING] = "tls13_secrets_missing",
	[TD_DECRYPT_RESUMED] = "resumed_no_secret",
	[TD_DECRYPT_SUITE] = "suite_unsupported",
	[TD_DECRYPT_VERSION] = "version_unsupported",
	[TD_DECRYPT_NOT_REACHED] = "not_reached",
};

static const char *const decrypt_source_names[] = {
	[TD_SRC_NONE] = "none",
	[TD_SRC_KEYLOG] = "keylog",
	[TD_SRC_KEYLOG_RSA] = "keylog_rsa",
	[TD_SRC_RSA_KEY] = "rsa_key",
};

static const char *const pms_names[TD_PMS_RESULT_COUNT] = {
	[TD_PMS_NOT_TRIED] = "not_tried",
	[TD_PMS_DECRYPTED] = "decrypted",
	[TD_PMS_WRONG_KEY] = "wrong_key",
	[TD_PMS_WRONG_VERSION] = "wrong_version",
	[TD_PMS_WRONG_LENGTH] = "wrong_length",
	[TD_PMS_NOT_RSA] = "not_rsa",
};

static const char *const finished_names[TD_FIN_CHECK_COUNT] = {
	[TD_FIN_NOT_SEEN] = "not_seen",
	[TD_FIN_VERIFIED] = "verified",
	[TD_FIN_MISMATCH] = "mismatch",
	[TD_FIN_UNREADABLE] = "unreadable",
	[TD_FIN_NO_KEYS] = "no_keys",
	[TD_FIN_NO_TRANSCRIPT] = "no_transcript",
};

static const char *const event_names[TD_EV_KIND_COUNT] = {
	[TD_EV_HANDSHAKE] = "handshake",
	[TD_EV_ENCRYPTED_HANDSHAKE] = "encrypted handshake",
	[TD_EV_CCS] = "ChangeCipherSpec",
	[TD_EV_ALERT] = "alert",
	[TD_EV_APPDATA] = "application data",
	[TD_EV_TCP_FIN] = "FIN",
	[TD_EV_TCP_RST] = "RST",
	[TD_EV_GAP] = "gap",
	[TD_EV_PLAIN_TEXT] = "plain text",
};

#define NAME_OR(table, i, count) ((unsigned)(i) < (count) && (table)[i] ? (table)[i] : "?")

const char *td_phase_name(enum td_phase p)
{
	return NAME_OR(phase_names, p, TD_PHASE_COUNT);
}

const char *td_outcome_name(enum td_outcome o)
{
	return NAME_OR(outcome_names, o, TD_OUTCOME_COUNT);
}

const char *td_end_name(enum td_end e)
{
	return NAME_OR(end_names, e, TD_END_COUNT);
}

const char *td_stage_name(enum td_stage st)
{
	return NAME_OR(stage_names, st, TD_STAGE_COUNT);
}

const char *td_abort_name(enum td_abort_how h)
{
	return NAME_OR(abort_names, h, TD_ABORT_COUNT);
}

const char *td_event_kind_name(enum td_event_kind k)
{
	return NAME_OR(event_names, k, TD_EV_KIND_COUNT);
}

const char *td_decrypt_status_name(enum td_decrypt_status st)
{
	return NAME_OR(decrypt_status_names, st, TD_DECRYPT_STATUS_COUNT);
}

const char *td_decrypt_source_name(enum td_decrypt_source src)
{
	return NAME_OR(decrypt_source_names, src,
		       sizeof decrypt_source_names / sizeof decrypt_source_names[0]);
}

const char *td_pms_result_name(enum td_pms_result r)
{
	return NAME_OR(pms_names, r, TD_PMS_RESULT_COUNT);
}

const char *td_finished_check_name(enum td_finished_check c)
{
	return NAME_OR(finished_names, c, TD_FIN_CHECK_COUNT);
}
