/* main.c - the tlsdiag command: options, the read loop, the report.
 *
 * Exit statuses (documented in tlsdiag(1)):
 *   0  the input was read to its end and reported
 *   1  a run-time failure (out of memory, an output that cannot be written)
 *   2  usage error (unknown option, missing argument, bad --key file)
 *   3  the input cannot be read: missing, unreadable, not a capture, or an
 *      unsupported link type
 *   4  the BPF filter does not compile
 *   5  the capture stops early (cut or damaged): everything before that
 *      point was reported, with a warning saying where it stopped
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_capture.h"
#include "td_diagnose.h"
#include "td_engine.h"
#include "td_keys.h"
#include "td_report.h"
#include "td_x509.h"

#define TD_VERSION "0.1.0"

enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_INPUT = 3,
	EXIT_FILTER = 4,
	EXIT_TRUNCATED = 5,
};

#define MAX_KEYS 16

struct options {
	const char *read_file;
	char *filter; /* trailing arguments joined, or NULL */
	bool json;
	const char *extract_dir;
	const char *key_files[MAX_KEYS];
	size_t n_keys;
	int color; /* -1 auto, 0 never, 1 always */
	int verbose;
};

struct run {
	struct options opt;
	struct td_report_opts ropts;
	struct td_summary sum;
	struct td_key keys[MAX_KEYS];
	size_t n_keys;
	struct td_x509_cache *cache;
	struct td_diagnosis diag; /* of the session being reported */
	bool write_failed;
	unsigned extract_errors;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tlsdiag -r FILE [options] [filter expression]\n"
		"\n"
		"Analyze every TLS handshake in a saved capture (pcap or pcapng).\n"
		"\n"
		"  -r FILE              read packets from FILE ('-' for standard input)\n"
		"  --json               JSON Lines: one object per connection, a summary last\n"
		"  --key FILE           a private key (PEM or DER) to match against every\n"
		"                       certificate's public key (repeatable)\n"
		"  --extract-certs DIR  write every certificate as DER and PEM into DIR,\n"
		"                       named by SHA-256 fingerprint\n"
		"  --color=WHEN         auto (default), always or never\n"
		"  -v                   more detail\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n"
		"\n"
		"A filter expression (pcap-filter(7) syntax, as tcpdump takes it) may follow\n"
		"the options, e.g.: tlsdiag -r capture.pcap 'host 10.0.0.1 and port 8443'\n"
		"\n"
		"Exit status: 0 ok, 1 run-time failure, 2 usage, 3 unreadable input,\n"
		"4 bad filter, 5 capture stops early (report covers what was read).\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_JSON = 256, OPT_EXTRACT, OPT_KEY, OPT_COLOR };
	static const struct option longs[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"extract-certs", required_argument, NULL, OPT_EXTRACT},
		{"key", required_argument, NULL, OPT_KEY},
		{"color", required_argument, NULL, OPT_COLOR},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof *o);
	o->color = -1;
	while ((c = getopt_long(argc, argv, "r:vhV", longs, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->read_file = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("tlsdiag %s\n", TD_VERSION);
			exit(EXIT_OK);
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_EXTRACT:
			o->extract_dir = optarg;
			break;
		case OPT_KEY:
			if (o->n_keys == MAX_KEYS) {
				fprintf(stderr, "tlsdiag: at most %d --key options\n", MAX_KEYS);
				return -1;
			}
			o->key_files[o->n_keys++] = optarg;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "always") == 0)
				o->color = 1;
			else if (strcmp(optarg, "never") == 0)
				o->color = 0;
			else if (strcmp(optarg, "auto") == 0)
				o->color = -1;
			else {
				fprintf(stderr, "tlsdiag: --color takes auto, always or never\n");
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (!o->read_file) {
		fprintf(stderr, "tlsdiag: no input: give a capture file with -r FILE\n");
		return -1;
	}
	/* tcpdump style: the rest of the command line is the filter */
	size_t len = 0;
	for (int i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len) {
		o->filter = malloc(len);
		if (!o->filter)
			return -1;
		o->filter[0] = '\0';
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strcat(o->filter, " ");
			strcat(o->filter, argv[i]);
		}
	}
	return 0;
}

/* Key matching belongs to the keys stage: each certificate's public key
 * against every --key, by SPKI hash. */
static void match_keys(struct run *r, struct td_session *s)
{
	s->keys_given = r->n_keys > 0;
	for (unsigned i = 0; i < s->n_certs; i++) {
		s->cert_key_match[i] = NULL;
		if (!s->certs[i]->parsed)
			continue;
		for (size_t k = 0; k < r->n_keys; k++) {
			if (td_keys_match(&r->keys[k], &s->certs[i]->key)) {
				s->cert_key_match[i] = r->keys[k].path;
				break;
			}
		}
	}
}

static void extract_certs(struct run *r, const struct td_session *s)
{
	char err[512];
	for (unsigned i = 0; i < s->n_certs; i++) {
		if (!s->certs[i]->parsed)
			continue;
		if (td_x509_export(s->certs[i], r->opt.extract_dir, err, sizeof err) != TD_OK) {
			fprintf(stderr, "tlsdiag: --extract-certs: %s\n", err);
			r->extract_errors++;
		}
	}
}

static void account(struct td_summary *sum, const struct td_session *s)
{
	sum->connections_tls++;
	sum->by_outcome[s->outcome]++;
	sum->alerts_total += s->total_alerts;
	for (unsigned i = 0; i < s->n_alerts; i++) {
		const struct td_alert *a = &s->alerts[i];
		if (a->encrypted)
			sum->alerts_encrypted[a->dir]++;
		else
			sum->alerts_by_desc_sender[a->desc][a->dir]++;
	}
	for (int d = 0; d < 2; d++) {
		sum->hs_too_big += s->hs_too_big[d];
		sum->desyncs += s->desync[d] != 0;
	}
}

static void on_session(void *user, struct td_session *s)
{
	struct run *r = user;

	match_keys(r, s);
	td_diagnose(s, r->opt.read_file, &r->diag);
	s->diagnosis = r->diag.n ? &r->diag : NULL;
	account(&r->sum, s);
	if (r->opt.extract_dir)
		extract_certs(r, s);
	td_report_session(stdout, &r->ropts, s);
	if (ferror(stdout))
		r->write_failed = true;
}

static int load_keys(struct run *r)
{
	char err[512];
	for (size_t i = 0; i < r->opt.n_keys; i++) {
		if (td_keys_load(r->opt.key_files[i], &r->keys[i], err, sizeof err) != TD_OK) {
			fprintf(stderr, "tlsdiag: --key %s\n", err);
			return -1;
		}
		r->n_keys++;
	}
	return 0;
}

static int check_extract_dir(const char *dir)
{
	struct stat sb;
	if (stat(dir, &sb) != 0 && mkdir(dir, 0755) != 0) {
		perror(dir);
		return -1;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "tlsdiag: --extract-certs %s: not a directory\n", dir);
		return -1;
	}
	return 0;
}

static int status_exit(enum td_capture_status st)
{
	switch (st) {
	case TD_CAP_ERR_FILTER:
		return EXIT_FILTER;
	case TD_CAP_ERR_READ:
		return EXIT_TRUNCATED;
	default:
		return EXIT_INPUT;
	}
}

static void fill_summary(struct run *r, const struct td_capture_stats *cs,
			 const struct td_engine_stats *es)
{
	struct td_x509_stats xs;
	struct td_summary *sum = &r->sum;

	sum->packets = cs->packets;
	sum->bytes = cs->bytes;
	sum->filtered_out = cs->filtered_out;
	sum->tcp_packets = es->by_decode[TD_DECODE_TCP];
	sum->not_tcp = es->by_decode[TD_DECODE_NOT_TCP];
	sum->truncated = es->by_decode[TD_DECODE_TRUNCATED];
	sum->malformed = es->by_decode[TD_DECODE_MALFORMED];
	sum->fragments = es->by_decode[TD_DECODE_FRAGMENT];
	sum->unsupported_link = es->by_decode[TD_DECODE_UNSUPPORTED_LINK];
	sum->connections_not_tls = es->not_tls;
	sum->flows_evicted = es->flows_evicted;
	td_x509_cache_stats(r->cache, &xs);
	sum->certs_distinct = xs.parses;
	sum->x509_parses = xs.parses;
	sum->x509_hits = xs.hits;
}

static int run_file(struct run *r)
{
	enum td_capture_status st;
	char err[1024];
	struct td_engine_config cfg;
	struct td_packet pkt;
	struct td_capture_stats cs;
	struct td_engine_stats es;
	int rc = EXIT_OK;

	struct td_capture *cap = td_capture_open_file(r->opt.read_file, r->opt.filter, &st, err,
						      sizeof err);
	if (!cap) {
		fprintf(stderr, "tlsdiag: %s\n", err);
		return status_exit(st);
	}
	td_engine_config_default(&cfg);
	struct td_engine *eng = td_engine_new(&cfg, r->cache, on_session, r);
	if (!eng) {
		td_capture_close(cap);
		fprintf(stderr, "tlsdiag: out of memory\n");
		return EXIT_RUNTIME;
	}
	while ((st = td_capture_next(cap, &pkt, err, sizeof err)) == TD_CAP_OK) {
		if (!r->sum.have_ts) {
			r->sum.first_ts = pkt.ts;
			r->sum.have_ts = true;
		}
		r->sum.last_ts = pkt.ts;
		td_engine_packet(eng, pkt.linktype, pkt.frame, pkt.ts, pkt.data, pkt.caplen,
				 pkt.wirelen);
	}
	td_engine_finish(eng);
	if (st == TD_CAP_ERR_READ) {
		r->sum.stopped = err;
		rc = EXIT_TRUNCATED;
	}
	td_capture_stats(cap, &cs);
	td_engine_stats(eng, &es);
	fill_summary(r, &cs, &es);
	td_report_summary(stdout, &r->ropts, &r->sum);
	if (st == TD_CAP_ERR_READ)
		fprintf(stderr, "tlsdiag: warning: %s; the report covers the packets before it\n",
			err);
	td_engine_free(eng);
	td_capture_close(cap);
	if (fflush(stdout) != 0 || ferror(stdout) || r->write_failed) {
		fprintf(stderr, "tlsdiag: cannot write the report\n");
		return EXIT_RUNTIME;
	}
	if (r->extract_errors && rc == EXIT_OK)
		rc = EXIT_RUNTIME;
	return rc;
}

int main(int argc, char **argv)
{
	static struct run r; /* large (the summary's alert table); one per process */
	int rc;

	if (parse_options(argc, argv, &r.opt) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	r.ropts.json = r.opt.json;
	r.ropts.verbose = r.opt.verbose;
	r.ropts.color = r.opt.color == 1 ||
			(r.opt.color == -1 && !r.opt.json && isatty(STDOUT_FILENO) &&
			 getenv("NO_COLOR") == NULL);
	const char *inputs[1] = {r.opt.read_file};
	r.sum.inputs = inputs;
	r.sum.n_inputs = 1;
	if (load_keys(&r) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (r.opt.extract_dir && check_extract_dir(r.opt.extract_dir) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	r.cache = td_x509_cache_new(4096);
	if (!r.cache) {
		fprintf(stderr, "tlsdiag: out of memory\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = run_file(&r);
out:
	td_x509_cache_free(r.cache);
	for (size_t i = 0; i < r.n_keys; i++)
		td_key_clear(&r.keys[i]);
	free(r.opt.filter);
	return rc;
}
