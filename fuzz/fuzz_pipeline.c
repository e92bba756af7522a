/* fuzz_pipeline.c - a whole capture file through the whole pipeline.
 *
 * The input is written to a memfd and opened through its /proc path, so it
 * takes the same road as `tlsdiag -r FILE`: the capture stage (classic pcap
 * and pcapng read in place, libpcap for the rest), the
 * engine (decode, flow, reasm, tls, x509; nDPI for one input in 32; the
 * frames kept for --save-evidence), the chain stage with a small
 * cross-connection table (4 names and endpoints, so a crafted capture
 * fills it), the diagnosis, and both reports. Invariants checked on every connection, as
 * td_report.h promises them: the text report (no colours) holds no
 * terminal control character, the JSON tree is one line that jansson
 * parses back, and the --json line (written without a tree) is that line.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "td_capture.h"
#include "td_chain.h"
#include "td_diagnose.h"
#include "td_engine.h"
#include "td_report.h"
#include "td_x509.h"

struct run {
	FILE *text; /* an in-memory stream, checked after each connection */
	char *text_buf;
	size_t text_len;
	struct td_summary sum;
	struct td_diagnosis diag;
	struct td_consistency *consistency;
};

/* Safe for a terminal: no C0 control but the newline, no DEL, no C1
 * control (U+0080..U+009F in UTF-8; the report's own text may hold other
 * UTF-8, such as the § of its RFC references). */
static void check_text(struct run *r)
{
	FUZZ_ASSERT(fflush(r->text) == 0); /* sets text_buf and text_len */
	const unsigned char *t = (const unsigned char *)r->text_buf;
	for (size_t i = 0; i < r->text_len; i++) {
		FUZZ_ASSERT(t[i] >= 0x20 || t[i] == '\n');
		FUZZ_ASSERT(t[i] != 0x7f);
		FUZZ_ASSERT(!(t[i] == 0xc2 && i + 1 < r->text_len && t[i + 1] >= 0x80 &&
			      t[i + 1] <= 0x9f));
	}
	rewind(r->text);
}

/* o (dropped here) dumps to one line that loads back; when streamed is
 * not NULL, it is that line and a newline. */
static void check_json(json_t *o, const char *streamed)
{
	char *line;
	json_t *back;

	FUZZ_ASSERT(o != NULL);
	line = json_dumps(o, TD_REPORT_JSON_FLAGS);
	FUZZ_ASSERT(line != NULL);
	FUZZ_ASSERT(strchr(line, '\n') == NULL);
	back = json_loads(line, 0, NULL);
	FUZZ_ASSERT(back != NULL);
	if (streamed) {
		size_t n = strlen(line);

		FUZZ_ASSERT(strncmp(streamed, line, n) == 0);
		FUZZ_ASSERT(strcmp(streamed + n, "\n") == 0);
	}
	json_decref(back);
	free(line);
	json_decref(o);
}

static void on_session(void *user, struct td_session *s)
{
	static const struct td_report_opts text = {.json = false, .verbose = 1};
	struct run *r = user;

	struct td_chain_facts *f = td_session_chain(s);
	FUZZ_ASSERT(f != NULL);
	td_chain_check(f, s, NULL);
	td_consistency_add(r->consistency, s, f);
	FUZZ_ASSERT(!s->chain->sni_history.known || s->chain->sni_history.earlier_connections > 0);
	td_diagnose(s, "fuzz.pcap", &r->diag);
	s->diagnosis = r->diag.n ? &r->diag : NULL;
	r->sum.connections_tls++;
	r->sum.by_outcome[s->outcome]++;
	for (int d = 0; d < 2; d++)
		r->sum.hs_too_big += s->hs_too_big[d];
	static const struct td_report_opts json = {.json = true};

	td_report_session(r->text, &text, s);
	check_text(r);
	td_report_session(r->text, &json, s);
	FUZZ_ASSERT(fputc('\0', r->text) == 0 && fflush(r->text) == 0);
	check_json(td_report_session_json(s), r->text_buf);
	rewind(r->text);
}

/* --save-evidence's hand-over: frames in frame order, as many as
 * announced, within the cap (TD_ENGINE_FRAME_BYTES each). */
static void on_evidence(void *user, const struct td_session *s,
			const struct td_engine_evidence *ev)
{
	struct run *r = user;
	uint32_t n = 0, last = 0;
	size_t bytes = 0;

	(void)s;
	for (const struct td_engine_frame *f = ev->first; f; f = f->next, n++) {
		FUZZ_ASSERT(n == 0 || f->frame > last);
		last = f->frame;
		bytes += TD_ENGINE_FRAME_BYTES(f->caplen);
	}
	FUZZ_ASSERT(n == ev->frames);
	FUZZ_ASSERT(bytes <= r->sum.evidence.max_bytes);
	r->sum.evidence.connections++;
	r->sum.evidence.frames += n;
	r->sum.evidence.connections_capped += ev->over_cap > 0;
	r->sum.evidence.frames_over_cap += ev->over_cap;
	r->sum.evidence.segments_fragments_lost += ev->fragments;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct td_report_opts text = {.json = false, .verbose = 1};
	const char *inputs[1] = {"fuzz.pcap"};
	enum td_capture_status st;
	struct td_engine_config cfg;
	struct td_engine_stats es;
	struct td_packet pkt;
	struct run r;
	char path[64], err[1024];
	int fd = fuzz_input_path(data, size, path, sizeof path);

	if (fd < 0)
		return 0;
	memset(&r, 0, sizeof r);
	r.text = open_memstream(&r.text_buf, &r.text_len);
	FUZZ_ASSERT(r.text != NULL);
	r.sum.inputs = inputs;
	r.sum.n_inputs = 1;
	r.consistency = td_consistency_new(4);
	FUZZ_ASSERT(r.consistency != NULL);
	r.sum.consistency = r.consistency;

	struct td_capture *cap = td_capture_open_file(path, NULL, &st, err, sizeof err);
	if (!cap) {
		FUZZ_ASSERT(st != TD_CAP_OK && err[0] != '\0');
		goto out;
	}
	struct td_x509_cache *cache = td_x509_cache_new(64);
	td_engine_config_default(&cfg);
	/* nDPI's module init takes most of a second per engine: only one
	 * input in 32 (by size) goes through classification, so the rest of
	 * the pipeline is fuzzed a hundred times faster. */
	cfg.classify = size % 32 == 0;
	/* every frame kept for evidence; a small cap for half the inputs */
	cfg.evidence = on_evidence;
	cfg.evidence_max_bytes = size % 2 ? 4096 : TD_ENGINE_EVIDENCE_MAX_DEFAULT;
	r.sum.evidence.file = "evidence.pcap";
	r.sum.evidence.max_bytes = cfg.evidence_max_bytes;
	struct td_engine *eng = td_engine_new(&cfg, cache, on_session, &r);
	FUZZ_ASSERT(cache != NULL && eng != NULL);
	while ((st = td_capture_next(cap, &pkt, err, sizeof err)) == TD_CAP_OK) {
		FUZZ_ASSERT(pkt.caplen == 0 || pkt.data != NULL);
		if (!r.sum.have_ts) {
			r.sum.first_ts = pkt.ts;
			r.sum.have_ts = true;
		}
		r.sum.last_ts = pkt.ts;
		td_engine_packet(eng, pkt.linktype, pkt.frame, pkt.ts, pkt.data, pkt.caplen,
				 pkt.wirelen);
	}
	td_engine_finish(eng);
	if (st == TD_CAP_ERR_READ)
		r.sum.stopped = err;
	td_engine_stats(eng, &es);
	r.sum.packets = es.packets;
	r.sum.tcp_packets = es.by_decode[TD_DECODE_TCP];
	r.sum.truncated = es.by_decode[TD_DECODE_TRUNCATED];
	r.sum.malformed = es.by_decode[TD_DECODE_MALFORMED];
	td_report_summary(r.text, &text, &r.sum);
	check_text(&r);
	check_json(td_report_summary_json(&r.sum), NULL);
	td_engine_free(eng);
	td_x509_cache_free(cache);
	td_capture_close(cap);
out:
	FUZZ_ASSERT(td_consistency_bytes(r.consistency) < 4 * sizeof(struct td_consist_entry) + 1024);
	td_consistency_free(r.consistency);
	fclose(r.text);
	free(r.text_buf);
	close(fd);
	return 0;
}
