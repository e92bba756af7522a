/* engine.c - one packet through decode, flow, reasm and tls (see td_engine.h). */
#include "td_engine.h"

#include <stdlib.h>
#include <string.h>

#include "td_classify.h"
#include "td_digest.h"
#include "td_flow.h"
#include "td_reader.h"
#include "td_ovpn.h"
#include "td_starttls.h"
#include "td_tls.h"
#include "td_x509.h"

struct conn {
	struct td_session s;
	struct td_tls tls;
	struct td_reasm_dir rd[2]; /* by enum td_dir */
	bool client_is_a;          /* the flow key's side a is the client */
	bool fin[2];
	bool rst;
	bool closing; /* both FINs reached: the next packet is the last ACK */
	bool synack;  /* the server answered the SYN */
	bool client_syn; /* the client's SYN was seen: rd[TD_DIR_C2S].isn is its number */
	bool win_zero[2]; /* the last ACK from this side advertised window 0 */
	bool content_known; /* the first stream bytes were looked at */
	bool plain;         /* a plain-text protocol leads: follow it to STARTTLS */
	bool sid_offered;   /* its session ID went into the engine's resumables */
	uint8_t tickets_offered; /* as many of its NewSessionTickets */
	bool ovpn;          /* the TLS is in an OpenVPN control channel */
	/* the plain-text protocol before STARTTLS, or the OpenVPN framing:
	 * allocated when the first bytes show one (most connections start
	 * with TLS and never need it) */
	union lead_in {
		struct td_starttls st;
		struct td_ovpn ov;
	} *lead;
	struct td_classify_flow *cf; /* nDPI's state until its verdict */
	/* --save-evidence: the frames kept (ev.first, in frame order), the
	 * last one, and what they cost (TD_ENGINE_FRAME_BYTES each) */
	struct td_engine_evidence ev;
	struct td_engine_frame *ev_last;
	size_t ev_bytes;
};

/* The frame being processed, as the capture delivered it: what a
 * connection keeps as evidence. */
struct raw_frame {
	int linktype;
	uint32_t frame;
	struct td_time ts;
	const uint8_t *data;
	size_t caplen, wirelen;
	bool reassembled; /* the segment came out of IP reassembly */
};

/* --save-evidence and IP fragments: a fragment's frame cannot be tied to
 * a connection until its datagram is whole, so each is held here with its
 * datagram's key (RFC 791 §3.2: source, destination, protocol,
 * identification) until then. When the datagram completes, its frames
 * move to the connection the datagram belongs to. Bounded as the
 * reassembler's own fragments are (td_defrag_limits: bytes and timeout):
 * not in --max-memory until a connection takes them. */
struct frag_frame {
	struct frag_frame *next;
	struct td_addr src, dst;
	uint32_t id;
	uint8_t proto;
	struct td_engine_frame *f;
};

struct frag_frames {
	struct frag_frame *head, *tail; /* in frame order */
	size_t bytes;                   /* TD_ENGINE_FRAME_BYTES of each, plus the entry */
	/* the frames of the datagram just completed, for the segment it
	 * carries (NULL after each packet) */
	struct frag_frame *done;
};

/* What an earlier full handshake left for a later connection to resume
 * with: a session ID (RFC 5246 §7.4.1.3) or a ticket (RFC 5077 §3.3,
 * RFC 8446 §4.6.1), as a SHA-256 digest. */
enum { RESUME_KEY_SESSION_ID, RESUME_KEY_TICKET };
#define TD_ENGINE_RESUMABLES 1024 /* the newest are kept (a ring) */
struct resumable {
	uint8_t digest[TD_SHA256_LEN];
	uint8_t kind;
	uint32_t frame;
	uint64_t conn;
};

struct td_engine {
	struct td_engine_config cfg;
	struct td_x509_cache *cache;
	td_engine_emit_fn emit;
	void *user;
	struct td_flow_table *flows;
	struct td_defrag *defrag;
	struct td_classify *classify; /* NULL: no nDPI; made here (freed here)
				       * unless cfg.ndpi lent it */
	struct td_engine_stats st;
	uint64_t next_id;
	int64_t last_expiry_sec;
	struct td_reasm_sink sink;
	struct td_tls_cert_sink cert_sink;
	struct conn *cur; /* the connection the sinks are working for */
	uint32_t cur_frame; /* and the frame and time of the bytes at hand */
	struct td_time cur_ts;
	struct raw_frame raw;
	struct frag_frames frags;
	struct resumable resumables[TD_ENGINE_RESUMABLES];
	size_t n_resumables; /* ever added; the ring holds the last ones */
};

/* idle_timeout[] is indexed by the flow table's states; a tombstone
 * (TD_FLOW_FINISHED) waits as long as a closing connection */
_Static_assert((int)TD_ENGINE_HALF_OPEN == (int)TD_FLOW_HALF_OPEN &&
		       (int)TD_ENGINE_ESTABLISHED == (int)TD_FLOW_ESTABLISHED &&
		       (int)TD_ENGINE_CLOSING == (int)TD_FLOW_CLOSING &&
		       (int)TD_ENGINE_STATES == (int)TD_FLOW_FINISHED,
	       "engine and flow table states differ");

static uint32_t idle_timeout(const struct td_engine *e, int st)
{
	return e->cfg.idle_timeout[st == TD_FLOW_FINISHED ? TD_ENGINE_CLOSING : st];
}

void td_engine_config_default(struct td_engine_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_flows = 65536;
	cfg->max_memory = TD_ENGINE_MAX_MEMORY_DEFAULT;
	cfg->max_handshake_msg = 256 * 1024;
	cfg->reasm.max_held_bytes = 256 * 1024;
	cfg->reasm.max_held_segs = 256;
	td_defrag_limits_default(&cfg->defrag);
	/* Half-open and closing are short: a SYN flood or a stream of
	 * finished connections must not fill the table for minutes (Linux
	 * waits 60 s in FIN-WAIT-2, conntrack 120 s for SYN-SENT). Established
	 * as Zeek's tcp_inactivity_timeout. */
	cfg->idle_timeout[TD_ENGINE_HALF_OPEN] = 30;
	cfg->idle_timeout[TD_ENGINE_ESTABLISHED] = 300;
	cfg->idle_timeout[TD_ENGINE_CLOSING] = 30;
	cfg->classify = true;
	cfg->secrets = NULL;
	cfg->evidence = NULL;
	cfg->evidence_max_bytes = TD_ENGINE_EVIDENCE_MAX_DEFAULT;
}

/* ---- sinks: reassembled bytes into the TLS parser ---------------------- */

/* A TLS record header (RFC 8446 §5.1: type 20..24, version 3.x) or an
 * SSLv2-compatible hello starts the stream. */
static bool starts_like_tls(const uint8_t *p, size_t n)
{
	struct td_reader r;
	uint8_t type = 0, major = 0; /* initialised for GCC -flto (-Wmaybe-uninitialized) */

	td_reader_init(&r, p, n);
	if (td_peek_u8(&r, 0, &type) != TD_OK)
		return false;
	if (type & 0x80)
		return true;
	return type >= 20 && type <= 24 && td_peek_u8(&r, 1, &major) == TD_OK && major == 3;
}

/* The first bytes of a connection decide whether TLS starts at once or a
 * plain-text protocol leads up to it (STARTTLS). */
static void look_at_content(struct conn *c, int dir, const uint8_t *p, size_t n)
{
	enum td_starttls_proto proto;

	c->content_known = true;
	if (starts_like_tls(p, n))
		return;
	if (td_ovpn_detect(dir, p, n)) {
		/* out of memory: parsed as TLS, which it is not (desync) */
		if (!(c->lead = calloc(1, sizeof *c->lead)))
			return;
		td_ovpn_init(&c->lead->ov);
		c->ovpn = true;
		c->s.encap |= TD_ENCAP_OPENVPN;
		return;
	}
	proto = td_starttls_detect(dir, p, n);
	if (proto == TD_STARTTLS_NONE || !(c->lead = calloc(1, sizeof *c->lead)))
		return;
	td_starttls_init(&c->lead->st, proto);
	c->plain = true;
	c->s.starttls = (uint8_t)proto;
}

/* The TLS bytes of an OpenVPN control channel. */
static void ovpn_tls(void *user, int dir, const uint8_t *p, size_t n)
{
	struct td_engine *e = user;
	struct conn *c = e->cur;

	td_tls_feed(&c->tls, &c->s, &e->cert_sink, dir, p, n, e->cur_frame, e->cur_ts);
}

/* ---- resumption: is the full handshake in the same capture? ------------ */

static void add_resumable(struct td_engine *e, int kind, const uint8_t digest[TD_SHA256_LEN],
			  uint64_t conn, uint32_t frame)
{
	struct resumable *r = &e->resumables[e->n_resumables++ % TD_ENGINE_RESUMABLES];
	memcpy(r->digest, digest, TD_SHA256_LEN);
	r->kind = (uint8_t)kind;
	r->conn = conn;
	r->frame = frame;
}

/* After each piece of a full handshake (the server sent its Certificate,
 * so it is no resumption; in TLS 1.3 seen only decrypted, like its
 * tickets): its session ID and every new ticket. Those of resumed
 * connections are left out, also a ticket renewed before the abbreviated
 * handshake is known as such: the full handshake behind them is the
 * earlier one. */
static void offer_resumables(struct td_engine *e, struct conn *c)
{
	const struct td_session *s = &c->s;
	uint8_t digest[TD_SHA256_LEN];

	if (s->resumed || !s->sh->seen || s->sh->hello_retry_request || !s->total_certs)
		return;
	if (!c->sid_offered && s->sh->session_id_len && !td_session_is_tls13(s)) {
		td_sha256(s->sh->session_id, s->sh->session_id_len, digest);
		add_resumable(e, RESUME_KEY_SESSION_ID, digest, s->id, s->sh->frame);
		c->sid_offered = true;
	}
	for (; c->tickets_offered < s->n_new_tickets; c->tickets_offered++)
		add_resumable(e, RESUME_KEY_TICKET, s->new_tickets[c->tickets_offered].sha256, s->id,
			      s->new_tickets[c->tickets_offered].frame);
}

static const struct resumable *find_resumable(const struct td_engine *e, int kind,
					      const uint8_t digest[TD_SHA256_LEN])
{
	size_t n = e->n_resumables < TD_ENGINE_RESUMABLES ? e->n_resumables : TD_ENGINE_RESUMABLES;
	/* newest first: the session most recently issued under this key */
	for (size_t i = 0; i < n; i++) {
		const struct resumable *r =
			&e->resumables[(e->n_resumables - 1 - i) % TD_ENGINE_RESUMABLES];
		if (r->kind == kind && memcmp(r->digest, digest, TD_SHA256_LEN) == 0)
			return r;
	}
	return NULL;
}

/* A resumed session: the earlier connection that issued what it resumed
 * with. TLS 1.3 tickets are encrypted, so without a decrypted
 * NewSessionTicket the answer is "cannot tell". */
static void find_full_handshake(const struct td_engine *e, struct td_session *s)
{
	const struct resumable *r = NULL;
	uint8_t digest[TD_SHA256_LEN];

	s->full_handshake_in_capture = -1;
	if (!s->resumed)
		return;
	if (s->resumption == TD_RESUME_PSK && s->ch->has_psk_identity)
		r = find_resumable(e, RESUME_KEY_TICKET, s->ch->psk_identity_sha256);
	if (s->resumption == TD_RESUME_TICKET)
		r = find_resumable(e, RESUME_KEY_TICKET, s->ch->ticket_sha256);
	if (!r && s->resumption != TD_RESUME_PSK && s->ch->session_id_len) {
		td_sha256(s->ch->session_id, s->ch->session_id_len, digest);
		r = find_resumable(e, RESUME_KEY_SESSION_ID, digest);
	}
	if (r) {
		s->full_handshake_in_capture = 1;
		s->full_handshake_conn = r->conn;
		s->full_handshake_frame = r->frame;
	} else {
		s->full_handshake_in_capture = s->resumption == TD_RESUME_PSK ? -1 : 0;
	}
}

/* The client began TLS where the server, having greeted in plain text,
 * waited for a command: the greeting is the evidence. */
_Static_assert(TD_STARTTLS_GREETING_LEN <= TD_PLAIN_LINE_LEN,
	       "the greeting fits the session's line");

static void keep_greeting(struct td_session *s, const struct td_starttls *st)
{
	struct td_plain_text *pt;

	if (!st->greeting_frame || s->plain->greeting.frame || !(pt = td_session_plain(s)))
		return;
	pt->greeting.frame = st->greeting_frame;
	pt->greeting.len = st->greeting_len;
	pt->greeting.cut = st->greeting_cut;
	memcpy(pt->greeting.text, st->greeting, st->greeting_len);
}

/* A PROXY protocol header came first: the connection it stands for. */
static void keep_proxy(struct td_session *s, const struct td_starttls *st)
{
	struct td_proxy_facts *px;

	if (s->proxy->version || !(px = td_session_proxy(s)))
		return;
	px->version = st->proxy_version;
	px->local = st->proxy_version == 2 && st->proxy_cmd == 0;
	px->frame = st->upgrade_frame;
	if (st->proxy_family) {
		px->client.family = px->server.family = st->proxy_family;
		memcpy(px->client.bytes, st->proxy_src, st->proxy_family == 4 ? 4 : 16);
		memcpy(px->server.bytes, st->proxy_dst, st->proxy_family == 4 ? 4 : 16);
		px->client_port = st->proxy_sport;
		px->server_port = st->proxy_dport;
	}
}

static void on_stream_data(void *user, int dir, const uint8_t *p, size_t n, uint32_t frame,
			   struct td_time ts)
{
	struct td_engine *e = user;
	struct conn *c = e->cur;

	if (!c->content_known)
		look_at_content(c, dir, p, n);
	if (c->ovpn) {
		e->cur_frame = frame;
		e->cur_ts = ts;
		td_ovpn_feed(&c->lead->ov, dir, p, n, ovpn_tls, e);
		return;
	}
	if (c->plain && !c->lead->st.d[dir].tls) {
		struct td_starttls *st = &c->lead->st;
		size_t k = td_starttls_feed(st, dir, p, n, frame);
		/* the command may name another protocol than the greeting
		 * suggested (FTP's "AUTH TLS" after a 220 like SMTP's) */
		c->s.starttls = st->proto;
		if (st->state == TD_STARTTLS_UPGRADED)
			c->s.starttls_frame = st->upgrade_frame;
		if (st->state == TD_STARTTLS_UNASKED)
			keep_greeting(&c->s, st);
		if (st->state == TD_STARTTLS_UPGRADED && st->proto == TD_STARTTLS_PROXY)
			keep_proxy(&c->s, st);
		if (st->d[0].tls && st->d[1].tls) {
			/* the lead-in is over and its facts are the session's:
			 * its state goes for the rest of the connection */
			free(c->lead);
			c->lead = NULL;
			c->plain = false;
		}
		p += k;
		n -= k;
		if (n == 0)
			return;
	}
	td_tls_feed(&c->tls, &c->s, &e->cert_sink, dir, p, n, frame, ts);
	offer_resumables(e, c);
}

static void on_stream_gap(void *user, int dir, uint64_t missing, uint32_t frame,
			  struct td_time ts)
{
	struct td_engine *e = user;
	td_tls_gap(&e->cur->tls, &e->cur->s, dir, missing, frame, ts);
}

static void on_ocsp(void *user, const uint8_t *der, size_t len, struct td_ocsp_facts *out)
{
	(void)user;
	td_x509_ocsp_facts(der, len, out);
}

static const struct td_cert *on_cert(void *user, const uint8_t *der, size_t len)
{
	struct td_engine *e = user;
	return td_x509_cache_get(e->cache, der, len);
}

/* ---- connection life cycle --------------------------------------------- */

static void copy_tcp_evidence(struct conn *c)
{
	struct td_tcp_evidence *ev = &c->s.tcp;
	for (int d = 0; d < 2; d++) {
		const struct td_reasm_counters *rc = &c->rd[d].c;
		ev->retransmissions[d] = rc->retransmissions;
		ev->out_of_order[d] = rc->out_of_order;
		ev->gaps[d] = rc->gaps;
		ev->bytes_missing[d] = rc->bytes_missing;
		ev->largest_segment[d] = rc->largest_segment;
		ev->keepalives[d] = rc->keepalives;
		ev->zero_window_probes[d] = rc->zero_window_probes;
		ev->out_of_window[d] = c->rd[d].out_of_window;
	}
	ev->overlaps_differ = c->rd[0].c.overlaps_differ + c->rd[1].c.overlaps_differ;
}

/* nDPI's verdict goes into the facts; its per-flow state is freed. */
static void classify_done(struct td_engine *e, struct conn *c)
{
	if (!c->cf)
		return;
	td_classify_finish(e->classify, c->cf, &c->s.ndpi);
	td_classify_flow_free(c->cf);
	c->cf = NULL;
}

/* A copy of the frame being processed; NULL when out of memory. */
static struct td_engine_frame *frame_copy(const struct raw_frame *raw)
{
	struct td_engine_frame *f = malloc(TD_ENGINE_FRAME_BYTES(raw->caplen) - 16);

	if (!f)
		return NULL;
	f->next = NULL;
	f->frame = raw->frame;
	f->ts = raw->ts;
	f->linktype = raw->linktype;
	f->caplen = (uint32_t)raw->caplen;
	f->wirelen = (uint32_t)raw->wirelen;
	memcpy(f->data, raw->data, raw->caplen);
	return f;
}

/* Adds f (NULL: a copy that failed) to c's evidence, in frame order,
 * within the cap. Once a frame did not fit, none after it is kept: the
 * evidence is the connection's beginning without holes (out of memory
 * counts the same way: the evidence is short either way). */
static void evidence_add(struct td_engine *e, struct conn *c, struct td_engine_frame *f)
{
	struct td_engine_frame **at;

	if (!f || c->ev.over_cap ||
	    TD_ENGINE_FRAME_BYTES(f->caplen) > e->cfg.evidence_max_bytes - c->ev_bytes) {
		c->ev.over_cap++;
		free(f);
		return;
	}
	if (!c->ev_last || c->ev_last->frame < f->frame) {
		at = c->ev_last ? &c->ev_last->next : &c->ev.first;
		c->ev_last = f;
	} else {
		/* a fragment older than frames kept since (its datagram
		 * completed later): into its place */
		at = &c->ev.first;
		while (*at && (*at)->frame < f->frame)
			at = &(*at)->next;
	}
	f->next = *at;
	*at = f;
	c->ev.frames++;
	c->ev_bytes += TD_ENGINE_FRAME_BYTES(f->caplen);
}

/* Keeps the frame being processed as evidence of c: the frame itself, or
 * when its segment came out of IP reassembly, every fragment's frame. */
static void evidence_keep(struct td_engine *e, struct conn *c)
{
	struct frag_frame *ff;

	if (!e->cfg.evidence)
		return;
	if (!e->raw.reassembled) {
		evidence_add(e, c, frame_copy(&e->raw));
		return;
	}
	if (!e->frags.done) {
		/* the datagram's frames were not all held (see below) */
		c->ev.fragments++;
		return;
	}
	while ((ff = e->frags.done)) {
		e->frags.done = ff->next;
		evidence_add(e, c, ff->f);
		free(ff);
	}
}

static size_t frag_frame_bytes(const struct frag_frame *ff)
{
	return sizeof *ff + 16 + TD_ENGINE_FRAME_BYTES(ff->f->caplen);
}

static void frag_frame_free(struct frag_frame *ff)
{
	free(ff->f);
	free(ff);
}

/* Drops the oldest held fragment frame. */
static void frag_frames_pop(struct frag_frames *ff)
{
	struct frag_frame *old = ff->head;

	ff->head = old->next;
	if (!ff->head)
		ff->tail = NULL;
	ff->bytes -= frag_frame_bytes(old);
	frag_frame_free(old);
}

/* Holds the frame being processed, a fragment of the datagram fr names,
 * after dropping what is older than the reassembly timeout or beyond its
 * byte cap. */
static void frag_frames_hold(struct td_engine *e, const struct td_ip_frag *fr)
{
	struct frag_frames *ff = &e->frags;
	struct frag_frame *n;

	while (ff->head && e->raw.ts.sec - ff->head->f->ts.sec > (int64_t)e->cfg.defrag.timeout)
		frag_frames_pop(ff);
	n = malloc(sizeof *n);
	if (!n || !(n->f = frame_copy(&e->raw))) {
		free(n);
		return;
	}
	n->next = NULL;
	n->src = fr->src;
	n->dst = fr->dst;
	n->id = fr->id;
	n->proto = fr->proto;
	ff->bytes += frag_frame_bytes(n);
	if (ff->tail)
		ff->tail->next = n;
	else
		ff->head = n;
	ff->tail = n;
	while (ff->bytes > e->cfg.defrag.max_bytes && ff->head != n)
		frag_frames_pop(ff);
}

static bool same_datagram(const struct frag_frame *ff, const struct td_ip_frag *fr)
{
	return ff->id == fr->id && ff->proto == fr->proto && ff->src.family == fr->src.family &&
	       memcmp(ff->src.bytes, fr->src.bytes, sizeof ff->src.bytes) == 0 &&
	       memcmp(ff->dst.bytes, fr->dst.bytes, sizeof ff->dst.bytes) == 0;
}

/* The datagram fr belongs to is whole: its held frames become the done
 * list, in frame order. */
static void frag_frames_done(struct td_engine *e, const struct td_ip_frag *fr)
{
	struct frag_frames *ff = &e->frags;
	struct frag_frame **at = &ff->head, *prev = NULL, **done = &ff->done;

	while (*at) {
		struct frag_frame *x = *at;
		if (!same_datagram(x, fr)) {
			prev = x;
			at = &x->next;
			continue;
		}
		*at = x->next;
		if (ff->tail == x)
			ff->tail = prev;
		ff->bytes -= frag_frame_bytes(x);
		x->next = NULL;
		*done = x;
		done = &x->next;
	}
}

static void frag_frames_clear(struct frag_frame **list)
{
	while (*list) {
		struct frag_frame *x = *list;
		*list = x->next;
		frag_frame_free(x);
	}
}

void td_engine_evidence_free(struct td_engine_evidence *ev)
{
	struct td_engine_frame *f = ev->first;

	while (f) {
		struct td_engine_frame *next = f->next;
		free(f);
		f = next;
	}
	ev->first = NULL;
}

static void evidence_free(struct conn *c)
{
	td_engine_evidence_free(&c->ev);
	c->ev_last = NULL;
	c->ev_bytes = 0;
}

/* Ends a connection: flush what reassembly holds, let the parser close
 * each side, decide the outcome, emit (and offer its evidence), free. */
static void conn_end(struct td_engine *e, struct conn *c, enum td_end how_if_open)
{
	e->cur = c;
	for (int d = 0; d < 2; d++) {
		td_reasm_flush(&c->rd[d], &e->sink, d);
		td_tls_end(&c->tls, &c->s, d);
	}
	td_tls_close(&c->tls, &c->s);
	if (c->s.end == TD_END_OPEN)
		c->s.end = (uint8_t)how_if_open;
	classify_done(e, c);
	copy_tcp_evidence(c);
	td_session_finish(&c->s);
	offer_resumables(e, c);
	find_full_handshake(e, &c->s);
	if (c->s.is_tls) {
		e->st.tls++;
		if (e->cfg.handoff) {
			e->cfg.handoff(e->user, &c->s, &c->ev);
		} else {
			e->emit(e->user, &c->s);
			if (e->cfg.evidence)
				e->cfg.evidence(e->user, &c->s, &c->ev);
		}
	} else {
		e->st.not_tls++;
	}
	td_session_clear(&c->s, e->cache);
	td_tls_free(&c->tls);
	td_reasm_free(&c->rd[0]);
	td_reasm_free(&c->rd[1]);
	evidence_free(c);
	free(c->lead);
	free(c);
	e->cur = NULL;
}

/* What a connection holds: its struct (session facts, parser and
 * reassembly state inline), the session's lists (td_session_bytes), the
 * STARTTLS or OpenVPN lead-in state, the
 * reassembler's held segments, the TLS parser's buffers, nDPI's flow
 * state, the frames kept as evidence; each
 * block with an allocator header. Charged to its flow after every packet
 * (td_flow_charge). */
static size_t conn_bytes(const struct conn *c)
{
	size_t n = sizeof *c + 16 + c->ev_bytes;

	n += td_reasm_bytes(&c->rd[0]) + td_reasm_bytes(&c->rd[1]);
	n += td_session_bytes(&c->s);
	if (c->lead)
		n += sizeof *c->lead + 16;
	n += td_tls_bytes(&c->tls);
	if (c->cf)
		n += td_classify_flow_bytes(c->cf);
	return n;
}

/* What a new connection costs before its first packet is processed. */
static size_t conn_new_bytes(const struct td_engine *e)
{
	return sizeof(struct conn) + 16 + (e->classify ? td_classify_flow_bytes(NULL) : 0) +
	       td_flow_insert_bytes(e->flows);
}

/* Removes a flow, ending its connection if it still has one. */
static void flow_end(struct td_engine *e, struct td_flow *f, enum td_end how)
{
	if (f->conn)
		conn_end(e, f->conn, how);
	f->conn = NULL;
	td_flow_remove(e->flows, f);
}

/* The flow to evict: the least recently active tombstone (a finished
 * connection's: nothing is lost with it), else the least recently active
 * half-open one, else the least recently active of all. Under a SYN flood
 * the flood's entries make room for each other, and a connection that
 * carries a handshake is the last to go (a SYN alone has nothing to
 * report); with many short connections the tombstones go first, never a
 * new connection's SYN. keep (the flow of the packet being processed) is
 * never chosen: NULL when it would be. */
static struct td_flow *victim(const struct td_engine *e, const struct td_flow *keep)
{
	static const enum td_flow_state order[] = {TD_FLOW_FINISHED, TD_FLOW_HALF_OPEN};
	struct td_flow *f;

	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		f = td_flow_oldest_in(e->flows, order[i]);
		if (f && f != keep)
			return f;
	}
	f = td_flow_oldest(e->flows);
	return f == keep ? NULL : f;
}

/* Ends and removes f; an eviction when it still had a connection (not a
 * finished one's tombstone). */
static void evict(struct td_engine *e, struct td_flow *f, bool for_memory)
{
	if (f->conn) {
		e->st.flows_evicted++;
		if (for_memory)
			e->st.flows_evicted_memory++;
	}
	flow_end(e, f, TD_END_EVICTED);
}

/* --max-memory: evicts connections (victim()) until what the table holds
 * plus extra bytes about to be charged fits under the cap. Called before
 * a new connection is made and before a packet's growth is charged, so
 * the table's bytes, peak included, stay within the cap (only a single
 * connection larger than the cap could pass it: the cap is at least 4 MiB,
 * a connection's buffers are capped far below). */
static void enforce_memory(struct td_engine *e, size_t extra, const struct td_flow *keep)
{
	size_t cap = e->cfg.max_memory;
	struct td_flow *f;

	if (!cap)
		return;
	while ((td_flow_bytes(e->flows) > cap || extra > cap - td_flow_bytes(e->flows)) &&
	       (f = victim(e, keep)))
		evict(e, f, true);
}

/* Each state's list is in order of activity: its expired flows are at
 * its tail. */
static void expire_idle(struct td_engine *e, struct td_time now)
{
	struct td_flow *f;

	if (now.sec == e->last_expiry_sec)
		return;
	e->last_expiry_sec = now.sec;
	for (int st = 0; st < TD_FLOW_STATES; st++) {
		while ((f = td_flow_oldest_in(e->flows, (enum td_flow_state)st)) &&
		       now.sec - f->last.sec > (int64_t)idle_timeout(e, st)) {
			e->st.flows_expired++;
			flow_end(e, f, TD_END_IDLE);
		}
	}
}

void td_engine_advance(struct td_engine *e, struct td_time now)
{
	expire_idle(e, now);
	if (e->defrag)
		td_defrag_expire(e->defrag, now);
}

/* The idle-timeout state of a flow whose connection is c (NULL: finished,
 * a tombstone). */
static enum td_flow_state conn_state(const struct conn *c)
{
	if (!c)
		return TD_FLOW_FINISHED;
	if (c->rst || c->fin[0] || c->fin[1])
		return TD_FLOW_CLOSING;
	if (!c->synack && !c->s.payload_bytes[0] && !c->s.payload_bytes[1])
		return TD_FLOW_HALF_OPEN;
	return TD_FLOW_ESTABLISHED;
}

/* Ports on which a server is expected, for connections whose SYN and
 * hellos were both missed (IANA service names registry). */
static bool well_known_tls_port(uint16_t p)
{
	static const uint16_t ports[] = {443, 465, 563, 636, 853, 989, 990, 992, 993, 994,
					 995, 5061, 8443};
	for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
		if (ports[i] == p)
			return true;
	return false;
}

/* Who is the client of a connection whose first packet is seg, seen from
 * side a (from_a)? The SYN says; else the hello in the payload; else the
 * port. Returns true when the packet's sender is the client. */
static bool sender_is_client(const struct td_tcp_seg *seg, struct td_session *s)
{
	if (seg->flags & TD_TCP_SYN) {
		s->syn_seen = true;
		return !(seg->flags & TD_TCP_ACK);
	}
	switch (td_tls_sniff_hello(seg->payload, seg->payload_len)) {
	case 1:
		return true;
	case 2:
		return false;
	default:
		break;
	}
	s->roles_guessed = true;
	if (well_known_tls_port(seg->dport) != well_known_tls_port(seg->sport))
		return well_known_tls_port(seg->dport);
	return seg->sport > seg->dport;
}

static struct conn *conn_new(struct td_engine *e, struct td_flow *f, bool from_a,
			     const struct td_tcp_seg *seg, uint32_t frame, struct td_time ts)
{
	struct conn *c = calloc(1, sizeof *c);
	struct td_tls_limits lim = {.max_handshake_msg = e->cfg.max_handshake_msg};

	if (!c)
		return NULL;
	td_session_init(&c->s);
	td_tls_init(&c->tls, &lim);
	td_reasm_init(&c->rd[0]);
	td_reasm_init(&c->rd[1]);
	c->s.id = ++e->next_id;
	/* no SYN: the stream may start inside a record (td_tls resyncs) */
	c->s.midstream = !(seg->flags & TD_TCP_SYN);
	c->tls.midstream = c->s.midstream;
	c->tls.secrets = e->cfg.secrets;
	bool client = sender_is_client(seg, &c->s);
	c->client_is_a = client == from_a;
	c->s.client = client ? seg->src : seg->dst;
	c->s.server = client ? seg->dst : seg->src;
	c->s.client_port = client ? seg->sport : seg->dport;
	c->s.server_port = client ? seg->dport : seg->sport;
	c->s.encap = seg->encap;
	c->s.vlan_id = seg->vlan_id;
	c->s.first_frame = frame;
	c->s.first_ts = ts;
	if (e->classify)
		c->cf = td_classify_flow_new(e->classify);
	f->conn = c;
	e->st.flows_created++;
	return c;
}

static struct td_flow *flow_for(struct td_engine *e, const struct td_tcp_seg *seg, bool create,
				bool *from_a)
{
	bool created = false;
	struct td_flow *f;

	if (create)
		/* room for the new connection within --max-memory, before it
		 * exists: the table never holds more than the cap allows */
		enforce_memory(e, conn_new_bytes(e), NULL);
	f = td_flow_lookup(e->flows, &seg->src, seg->sport, &seg->dst, seg->dport, create,
			   &created, from_a);
	if (!f && create) {
		/* table full: the least recently active connection goes */
		struct td_flow *old = victim(e, NULL);
		if (old)
			evict(e, old, false);
		f = td_flow_lookup(e->flows, &seg->src, seg->sport, &seg->dst, seg->dport, true,
				   &created, from_a);
	}
	if (f && created) {
		size_t n = td_flow_count(e->flows);
		if (n > e->st.flows_peak)
			e->st.flows_peak = n;
	}
	return f;
}

static void note_tcp_end(struct conn *c, int dir, enum td_end how, uint32_t frame,
			 struct td_time ts)
{
	struct td_event ev = {.kind = how == TD_END_RST ? TD_EV_TCP_RST : TD_EV_TCP_FIN,
			      .dir = (uint8_t)dir,
			      .count = 1,
			      .frame = frame,
			      .ts_sec = ts.sec,
			      .ts_usec = ts.usec};
	if (c->s.end_by < 0) {
		c->s.end_by = (int8_t)dir;
		c->s.end_frame = frame;
	}
	if (how == TD_END_RST || c->s.end != TD_END_RST)
		c->s.end = (uint8_t)how;
	td_session_add_event(&c->s, &ev);
}

/* Is the segment another stream's on the same ports (a port reused, a
 * mirror mixing two connections)? Two tests of its acknowledgment; the
 * reassembler drops, by sequence number, a segment in no window
 * (td_reasm_segment).
 * - A SYN-ACK that does not acknowledge the client's SYN (RFC 9293
 *   §3.10.7.3: its client would reset it): it acknowledges the SYN, or
 *   with TCP Fast Open (RFC 7413) also the data in it, at most 64 KiB.
 *   Taken, its number would restart the server's stream.
 * - Any other segment acknowledging bytes more than a window behind
 *   those the peer has already sent (td_reasm_ack_stale). */
static bool other_stream(const struct conn *c, int dir, const struct td_tcp_seg *seg)
{
	const struct td_reasm_dir *peer = &c->rd[!dir];

	if (!(seg->flags & TD_TCP_ACK))
		return false;
	if (seg->flags & TD_TCP_SYN)
		return dir == TD_DIR_S2C && c->client_syn &&
		       seg->ack - (peer->isn + 1) > UINT16_MAX;
	return td_reasm_ack_stale(peer, seg->ack);
}

/* A pure SYN (no ACK) on a 5-tuple that has a connection: is it a new
 * connection reusing the ports (RFC 9293 §3.4: after a close, the client
 * picks a new initial sequence number)? It is when the sender's side
 * already started with another ISN and the old connection is closing or
 * the SYN comes from its client (a client that starts over). A SYN
 * retransmitted, or one from the old server's side while the old
 * connection is open, belongs to the old connection. */
static bool syn_starts_new(const struct conn *c, int dir, uint32_t seq)
{
	const struct td_reasm_dir *d = &c->rd[dir];
	bool closing = c->fin[0] || c->fin[1] || c->rst;

	if (!d->started || d->isn == seq)
		return false;
	return closing || dir == TD_DIR_C2S;
}

/* Is this segment to be kept from the reassembler: a zero-window probe
 * (the receiver's last ACK advertised window 0)? */
static bool window_probe(struct conn *c, int dir, const struct td_tcp_seg *seg, uint32_t seq)
{
	return c->win_zero[!dir] && !(seg->flags & (TD_TCP_SYN | TD_TCP_RST)) &&
	       td_reasm_window_probe(&c->rd[dir], seq, seg->payload_len,
				     (seg->flags & TD_TCP_FIN) != 0);
}

static void tcp_segment(struct td_engine *e, const struct td_tcp_seg *seg, uint32_t frame,
			struct td_time ts)
{
	bool from_a;
	bool has_data = seg->payload_len > 0;
	bool syn = seg->flags & TD_TCP_SYN;
	struct td_flow *f = flow_for(e, seg, false, &from_a);
	struct conn *c;

	if (!f && !has_data && !syn) {
		/* a bare ACK/FIN/RST of a connection not being followed */
		e->st.ignored_no_flow++;
		return;
	}
	if (!f)
		f = flow_for(e, seg, true, &from_a);
	if (!f)
		return;
	c = f->conn;
	if (c && syn && !(seg->flags & TD_TCP_ACK)) {
		int cdir = from_a == c->client_is_a ? TD_DIR_C2S : TD_DIR_S2C;
		if (syn_starts_new(c, cdir, seg->seq)) {
			conn_end(e, c, TD_END_OPEN);
			f->conn = c = NULL;
		}
	}
	if (!c) {
		if (!has_data && !syn) {
			td_flow_touch(e->flows, f, ts);
			td_flow_charge(e->flows, f, 0);
			return; /* stragglers of a finished connection */
		}
		c = conn_new(e, f, from_a, seg, frame, ts);
		if (!c)
			return;
	}
	td_flow_touch(e->flows, f, ts);
	evidence_keep(e, c);

	int dir = from_a == c->client_is_a ? TD_DIR_C2S : TD_DIR_S2C;
	struct td_session *s = &c->s;
	s->packets[dir]++;
	s->payload_bytes[dir] += seg->payload_len;
	s->last_frame = frame;
	s->last_ts = ts;
	if (seg->window == 0 && (seg->flags & TD_TCP_ACK) && !(seg->flags & (TD_TCP_RST | TD_TCP_SYN)))
		s->tcp.zero_windows[dir]++;

	if (c->cf && td_classify_packet(e->classify, c->cf, seg->ip, seg->ip_len, seg->payload_len,
					(uint64_t)ts.sec * 1000 + (uint64_t)ts.usec / 1000))
		classify_done(e, c);

	if (other_stream(c, dir, seg)) {
		/* counted as a packet of these ports, kept out of the
		 * stream, as the reassembler does with one in no window */
		td_reasm_note_out_of_window(&c->rd[dir]);
		return;
	}
	e->cur = c;
	uint32_t seq = seg->seq;
	if (syn) {
		if (!(seg->flags & TD_TCP_ACK) && dir == TD_DIR_C2S)
			c->client_syn = true;
		s->syn_seen = true;
		if (seg->flags & TD_TCP_ACK)
			c->synack = true;
		td_reasm_syn(&c->rd[dir], seg->seq);
		seq++;
	}
	bool fin = seg->flags & TD_TCP_FIN;
	if (window_probe(c, dir, seg, seq))
		; /* counted by the reassembler, not data */
	else if (has_data || fin || (c->rd[dir].started && !syn))
		/* payload-less segments too: a keep-alive is counted there */
		td_reasm_segment(&c->rd[dir], &e->cfg.reasm, &e->sink, dir, seq, fin, seg->payload,
				 seg->payload_len, frame, ts);
	if (seg->flags & TD_TCP_ACK)
		c->win_zero[dir] = seg->window == 0;
	if (seg->payload_missing)
		c->s.anomalies[dir]++;
	e->cur = NULL;
	/* nDPI has the flow's packets through its ClientHello: with the SNI
	 * it has named the application, and the rest of the handshake
	 * (version, suite, certificates) tlsdiag reads itself. Its state
	 * goes now, before the server's flight (which nDPI would copy to
	 * reassemble the certificates). Without an SNI nDPI names the
	 * application from the certificate, and keeps reading. */
	if (c->cf && s->ch->seen && s->ch->has_sni)
		classify_done(e, c);

	if (fin && !c->fin[dir]) {
		c->fin[dir] = true;
		note_tcp_end(c, dir, TD_END_FIN, frame, ts);
	}
	if (seg->flags & TD_TCP_RST) {
		c->rst = true;
		s->tcp.rsts[dir]++;
		note_tcp_end(c, dir, TD_END_RST, frame, ts);
	}
	/* A FIN takes effect at its place in the stream (reached: every
	 * byte before it delivered), not where it was captured: a FIN
	 * captured ahead of its direction's last data (reordering) leaves
	 * the connection open for that data. After both FINs are reached
	 * the last ACK follows, and it belongs to the connection (Wireshark
	 * counts it in); then it ends. The flow stays as a tombstone so that
	 * late retransmissions are not taken for a new connection.
	 *
	 * An RST does not end the connection at once (policy, after RFC
	 * 5961 §3.2 and Zeek's tcp_reset_delay): a passive observer cannot
	 * tell an RST captured before data sent ahead of it (reordering,
	 * or still in flight from the peer) from one that ends everything,
	 * nor see which RST the receiver accepted (only one at exactly
	 * RCV.NXT; one elsewhere in the window draws a challenge ACK). So
	 * every RST is counted and put on the timeline, the data before it
	 * is still delivered when it comes, and the connection, closing,
	 * ends at the closing idle timeout, a new SYN on its ports, eviction
	 * or the end of the capture (a gap reported for what never came). */
	if (c->closing) {
		conn_end(e, c, TD_END_OPEN);
		f->conn = c = NULL;
	} else if (td_reasm_fin_reached(&c->rd[0]) && td_reasm_fin_reached(&c->rd[1])) {
		c->closing = true;
	}
	td_flow_set_state(e->flows, f, conn_state(c));
	size_t held = c ? conn_bytes(c) : 0;
	/* what this packet added may put the table over the cap: room is
	 * made before it is charged */
	if (held > f->charged)
		enforce_memory(e, held - f->charged, f);
	td_flow_charge(e->flows, f, held);
}

/* A field decode does not know: counted by kind and value. */
static void note_not_decoded(struct td_engine *e, const struct td_decode_info *info)
{
	struct td_engine_stats *st = &e->st;

	if (info->unknown == TD_UNKNOWN_NONE)
		return;
	for (size_t i = 0; i < st->n_not_decoded; i++) {
		if (st->not_decoded[i].kind == info->unknown &&
		    st->not_decoded[i].value == info->unknown_value) {
			st->not_decoded[i].packets++;
			return;
		}
	}
	if (st->n_not_decoded == TD_ENGINE_MAX_NOT_DECODED) {
		st->not_decoded_other++;
		return;
	}
	st->not_decoded[st->n_not_decoded++] =
		(struct td_not_decoded){info->unknown, info->unknown_value, 1};
}

/* Reassembled datagrams are decoded again, and may hold fragments of an
 * inner datagram (a fragmented packet inside a fragmented tunnel): each
 * round shrinks the datagram, and this many rounds are enough for any
 * real network. */
#define DEFRAG_ROUNDS 4

void td_engine_packet(struct td_engine *e, int linktype, uint32_t frame, struct td_time ts,
		      const uint8_t *data, size_t caplen, size_t wirelen)
{
	struct td_tcp_seg seg;
	struct td_decode_info info;
	enum td_decode_result r =
		td_decode_packet_info(linktype, data, caplen, wirelen, &seg, &info);

	e->raw = (struct raw_frame){linktype, frame, ts, data, caplen, wirelen, false};
	e->st.packets++;
	e->st.by_decode[r]++;
	expire_idle(e, ts);
	for (int round = 0; r == TD_DECODE_FRAGMENT && e->defrag && round < DEFRAG_ROUNDS;
	     round++) {
		const uint8_t *dgram;
		size_t len;
		uint16_t outer = info.encap, vlan = info.vlan_id;
		/* evidence: the outer datagram's fragments are held by
		 * frame; an inner one's (a fragment inside a fragmented
		 * tunnel) are not frames of their own */
		bool outer_frag = e->cfg.evidence && round == 0;
		if (outer_frag)
			frag_frames_hold(e, &info.frag);
		if (round > 0)
			frag_frames_clear(&e->frags.done);
		if (td_defrag_add(e->defrag, &info.frag, ts, &dgram, &len) != TD_DEFRAG_DONE)
			return;
		if (outer_frag)
			frag_frames_done(e, &info.frag);
		/* The datagram is decoded as raw IP; what was around its
		 * fragments (VLAN, a tunnel) still surrounds it. */
		r = td_decode_packet_info(TD_LINK_RAW, dgram, len, len, &seg, &info);
		e->raw.reassembled = true;
		seg.encap |= outer;
		info.encap |= outer;
		if (outer & TD_ENCAP_VLAN)
			seg.vlan_id = info.vlan_id = vlan;
	}
	if (r == TD_DECODE_NOT_TCP)
		note_not_decoded(e, &info);
	if (r == TD_DECODE_TCP)
		tcp_segment(e, &seg, frame, ts);
	/* not taken by a connection (not TCP, no connection): dropped */
	frag_frames_clear(&e->frags.done);
}

static int by_id(const void *a, const void *b)
{
	const struct conn *x = *(const struct conn *const *)a;
	const struct conn *y = *(const struct conn *const *)b;
	return x->s.id < y->s.id ? -1 : x->s.id > y->s.id;
}

void td_engine_finish(struct td_engine *e)
{
	size_t n = td_flow_count(e->flows), k = 0;
	struct conn **open = calloc(n ? n : 1, sizeof *open);
	struct td_flow *f;

	while ((f = td_flow_oldest(e->flows))) {
		if (f->conn && open)
			open[k++] = f->conn;
		else if (f->conn)
			conn_end(e, f->conn, TD_END_OPEN);
		f->conn = NULL;
		td_flow_remove(e->flows, f);
	}
	if (!open)
		return;
	qsort(open, k, sizeof *open, by_id);
	for (size_t i = 0; i < k; i++)
		conn_end(e, open[i], TD_END_OPEN);
	free(open);
}

void td_engine_stats(const struct td_engine *e, struct td_engine_stats *out)
{
	*out = e->st;
	out->flows_now = td_flow_count(e->flows);
	out->memory_now = td_flow_bytes(e->flows);
	out->memory_peak = td_flow_peak_bytes(e->flows);
	out->classify = e->classify != NULL;
	if (e->defrag)
		td_defrag_stats(e->defrag, &out->defrag);
}

struct td_engine *td_engine_new(const struct td_engine_config *cfg, struct td_x509_cache *cache,
				td_engine_emit_fn emit, void *user)
{
	struct td_engine *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->cfg = *cfg;
	e->cache = cache;
	e->emit = emit;
	e->user = user;
	e->last_expiry_sec = INT64_MIN;
	e->flows = td_flow_table_new(cfg->max_flows, NULL);
	if (!e->flows) {
		free(e);
		return NULL;
	}
	/* NULL (out of memory): fragments are counted and dropped */
	e->defrag = td_defrag_new(&cfg->defrag);
	if (cfg->classify) /* td_classify_new: NULL, run without nDPI */
		e->classify = cfg->ndpi ? cfg->ndpi : td_classify_new();
	e->sink.data = on_stream_data;
	e->sink.gap = on_stream_gap;
	e->sink.user = e;
	e->cert_sink.cert = on_cert;
	e->cert_sink.ocsp = on_ocsp;
	e->cert_sink.user = e;
	return e;
}

void td_engine_free(struct td_engine *e)
{
	if (!e)
		return;
	td_engine_finish(e);
	td_flow_table_free(e->flows);
	td_defrag_free(e->defrag);
	if (!e->cfg.ndpi)
		td_classify_free(e->classify);
	frag_frames_clear(&e->frags.head);
	free(e);
}
