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
 *   6  keycheck: the key does not belong to the certificate
 *   7  --fail-on SEV: a finding reached SEV (the full report was written)
 * A rule file that does not load (--rules), an unknown --disable id or
 * severity is a usage error (2).
 * Live capture (-i) and -w use the same statuses: a missing interface or
 * no permission to capture is 3, a -w file that exists (or is a symbolic
 * link) is 2, an interface that stops delivering is 5, and SIGINT/SIGTERM
 * end a run normally (0).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "td_capture.h"
#include "td_chain.h"
#include "td_classify.h"
#include "td_diagnose.h"
#include "td_digest.h"
#include "td_engine.h"
#include "td_file.h"
#include "td_keylog.h"
#include "td_keys.h"
#include "td_pcapng.h"
#include "td_pipeline.h"
#include "td_privdrop.h"
#include "td_redact.h"
#include "td_report.h"
#include "td_report_md.h"
#include "td_rules.h"
#include "td_x509.h"

#define TD_VERSION "0.1.0"

enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_INPUT = 3,
	EXIT_FILTER = 4,
	EXIT_TRUNCATED = 5,
	EXIT_KEY_MISMATCH = 6,
	EXIT_FINDINGS = 7,
};

#define MAX_KEYS 16
_Static_assert(MAX_KEYS <= UINT8_MAX,
	       "a certificate's matching key is kept as 1 + its index in a byte");
#define MAX_INPUTS 64 /* -r files merged into one capture */
#define MAX_CERTS 16 /* --cert */
#define CONSISTENCY_KEYS 1024
#define MAX_RULE_FILES 32 /* --rules */
#define MAX_DISABLE 256   /* --disable */
/* --save-evidence: besides failed and incomplete connections, those with
 * a finding of this severity or above (--evidence-min-severity). Medium:
 * low findings are common on healthy traffic (nDPI's flow risks, such as
 * a certificate valid for too long, flag most real servers), and a file
 * for a ticket should hold the connections that are a problem. */
#define TD_EVIDENCE_MIN_SEVERITY_DEFAULT TD_SEV_MEDIUM

struct options {
	const char *read_file; /* the first -r */
	/* Capture (the live-capture slice): every -r, or -i and its settings. */
	const char *read_files[MAX_INPUTS];
	size_t n_reads;
	const char *iface;
	bool list_ifaces;      /* -D */
	unsigned long long count; /* -c; 0: no limit */
	double duration;       /* --duration seconds; 0: no limit */
	int snaplen;           /* -s; 0: default */
	int buffer_kib;        /* -B; 0: TD_CAPTURE_BUFFER_KIB_DEFAULT */
	bool no_promisc;       /* -p */
	bool live_only_opt;    /* one of -s -B -p --duration was given */
	const char *user;      /* -Z */
	const char *write_file; /* -w */
	const char *out_file;   /* -o: the report (text or JSON Lines) */
	bool quiet;             /* -q: no progress line */
	bool redact;            /* --redact: names and addresses as pseudonyms */
	char *filter; /* trailing arguments joined, or NULL */
	bool json;
	const char *extract_dir;
	const char *key_files[MAX_KEYS];
	size_t n_keys;
	const char *key_password_file;       /* --key-password-file */
	const char *keylog_file;             /* --keylog */
	const char *ca_path;                 /* --ca */
	const char *cert_files[MAX_CERTS];   /* --cert */
	size_t n_cert_files;
	int color; /* -1 auto, 0 never, 1 always */
	int verbose;
	const char *report_file; /* --report FILE.md */
	bool only_failures;      /* --only-failures */
	/* The rules stage */
	const char *rule_files[MAX_RULE_FILES]; /* --rules */
	size_t n_rule_files;
	bool no_default_rules;
	const char *disable[MAX_DISABLE]; /* --disable */
	size_t n_disable;
	bool list_rules, list_fields;
	unsigned min_severity; /* --min-severity, TD_SEV_INFO by default */
	int fail_on;           /* --fail-on, -1 when not given */
	/* The flow table: --max-memory bytes (0: not given) and
	 * --idle-timeout per state (0: the default) */
	unsigned long long max_memory;
	uint32_t idle_timeout[TD_ENGINE_STATES];
	/* --save-evidence FILE, --evidence-min-severity (-1: not given),
	 * --evidence-max-bytes (0: not given) */
	const char *evidence_file;
	int evidence_min_severity;
	unsigned long long evidence_max_bytes;
	unsigned threads; /* -j; 0: not given (the number of cores) */
	bool no_ndpi;     /* --no-ndpi */
};

/* The progress line on standard error while files are read (-q: none). */
struct progress {
	bool on;    /* reading files, standard error a terminal, no -q */
	bool shown; /* a line is on the terminal: clear it before other output */
	double start, last;
};

struct run {
	struct options opt;
	struct progress progress;
	struct td_report_opts ropts;
	struct td_summary sum;
	struct td_key keys[MAX_KEYS];
	struct td_key_use key_use[MAX_KEYS]; /* for the summary */
	const char *key_paths[MAX_KEYS];     /* keys[i].path: what sessions point at */
	size_t n_keys;
	struct td_keylog keylog; /* --keylog or $SSLKEYLOGFILE */
	bool have_keylog;
	struct td_keylog dsb; /* pcapng Decryption Secrets Blocks of the -r files */
	bool have_dsb;
	struct td_tls_secrets secrets; /* what the parser decrypts with */
	struct td_x509_cache *cache;
	/* nDPI's module, made once and never freed: left to the process's
	 * exit. Its IP prefix trees and host-name automata are about 99,000
	 * blocks (4.5 MB); freeing them one by one took a fifth of a run
	 * over a small capture (bench/README.md). r is static, so the module
	 * stays reachable and leak checkers do not count it as lost. */
	struct td_classify *ndpi;
	FILE *index;              /* --extract-certs DIR/index.json */
	bool index_first;
	/* --ca, --cert and the cross-connection table (chain stage) */
	struct td_x509_store *ca;
	const struct td_cert *expected[MAX_CERTS];
	struct td_chain_config chain_cfg;
	struct td_consistency *consistency;
	struct td_diagnosis diag; /* of the session being reported */
	struct td_ruleset *rules;
	struct td_findings findings; /* of the session being reported */
	bool fail_on_hit;            /* a finding reached --fail-on */
	bool write_failed;
	FILE *out; /* the report: standard output, or the -o file */
	char *out_buf; /* the -o file's stdio buffer (OUT_BUFFER), freed after it is closed */
	struct td_redact *redact; /* --redact */
	bool redact_failed;       /* a connection's names could not be registered */
	unsigned extract_errors;
	bool live;                /* -i: flush the report per connection */
	const char *diag_capture; /* the capture named in suggested commands */
	/* --report: the file, opened at the start (O_EXCL), written at the end
	 * from what the collector kept of each failed connection. */
	struct td_md *md;
	FILE *report;
	char *command; /* the command line, for the report */
	/* --save-evidence: the file (opened with -w's rules, before the
	 * first packet), its link type (the first input's), and the highest
	 * severity of the reported connection's findings before
	 * --min-severity filtered them (-1: none). */
	struct td_capture_writer *evidence;
	bool evidence_failed; /* a live flush of it failed (err says so) */
	int evidence_linktype;
	int findings_max;
	/* -j 2 and more: the reporting thread runs on_session() and
	 * on_evidence() while this one reads. What both touch: the terminal
	 * (the progress line, a report to it), guarded by term; the counts
	 * SIGUSR1 and the progress line show, mirrored in reported; and a
	 * failed evidence flush, which stops the reading. */
	unsigned threads; /* -j */
	pthread_mutex_t term;
	struct {
		_Atomic uint64_t tls, by_outcome[TD_OUTCOME_COUNT];
	} reported;
	atomic_bool stop_reading;
};

/* The engine alone on this thread (-j 1), or in td_pipeline (-j 2: on
 * this thread, reporting on another; -j 3 and more: on a thread of its
 * own): one of the two is set. */
struct analysis {
	struct td_engine *eng;
	struct td_pipeline *pipe;
};

static void analysis_stats(const struct analysis *a, struct td_engine_stats *es)
{
	if (a->pipe)
		td_pipeline_stats(a->pipe, es);
	else
		td_engine_stats(a->eng, es);
}

/* ---- capture: -r files merged, -i live, -w, -Z, signals -------------- */

/* Signals received and not yet acted on, one bit each: SIG_STOP_BIT for
 * SIGINT and SIGTERM, SIG_STATUS_BIT for SIGUSR1. The one mutable global
 * of tlsdiag, the exception STYLE.md rule 11 cannot avoid: a signal
 * handler can reach nothing else. on_signal() runs with the three signals
 * blocked, so its read-modify-write is never interleaved with another;
 * take_signals() reads and clears it with them blocked too. */
static volatile sig_atomic_t pending_signals;

enum { SIG_STOP_BIT = 1, SIG_STATUS_BIT = 2 };

/* getopt_long() values of --duration and the rules options, clear of
 * parse_options()' own. */
enum { OPT_DURATION = 1024, OPT_RULES, OPT_NO_DEFAULT_RULES, OPT_DISABLE, OPT_LIST_RULES,
       OPT_LIST_FIELDS, OPT_MIN_SEVERITY, OPT_FAIL_ON, OPT_MAX_MEMORY, OPT_IDLE_TIMEOUT,
       OPT_SAVE_EVIDENCE, OPT_EVIDENCE_MIN_SEVERITY, OPT_EVIDENCE_MAX_BYTES, OPT_THREADS,
       OPT_NO_NDPI };

/* -j's ceiling (more than 3 threads buy nothing yet: the pipeline has
 * three stages). */
#define MAX_THREADS 256

static void on_signal(int sig)
{
	pending_signals |= sig == SIGUSR1 ? SIG_STATUS_BIT : SIG_STOP_BIT;
}

static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1);
}

/* SA_RESTART: a signal never turns a read from a pipe (-r -) into a false
 * "capture stops early", nor a write of the report into a failed one. The
 * live capture's poll() returns EINTR all the same (Linux never restarts
 * poll(), signal(7)), so the read loop sees a signal at once there, and
 * after the next packet elsewhere. SA_RESETHAND on the stop signals: the
 * first asks for a clean stop, a second one (a stalled pipe, an impatient
 * user) ends the process at once. */
static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	handled_signals(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static unsigned take_signals(void)
{
	sigset_t set, old;
	unsigned v;

	if (!pending_signals) /* the common case: no system call */
		return 0;
	handled_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	v = (unsigned)pending_signals;
	pending_signals = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return v;
}

static int parse_number(const char *opt, const char *arg, unsigned long long min,
			unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "tlsdiag: %s takes a number from %llu to %llu, not '%s'\n", opt, min,
			max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* A size for opt: bytes, or with a suffix K, M or G (KiB, MiB, GiB), from
 * min to max bytes; range names them for the error. */
static int parse_size(const char *opt, const char *arg, unsigned long long min,
		      unsigned long long max, const char *range, unsigned long long *out)
{
	static const char suffixes[] = "kmg";
	unsigned long long v, mul = 1;
	const char *sfx;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	sfx = *end && !end[1] ? strchr(suffixes, tolower((unsigned char)*end)) : NULL;
	if (sfx) {
		mul = 1ULL << (10 * (sfx - suffixes + 1));
		end++;
	}
	if (errno || end == arg || *end || arg[0] == '-' || v > max / mul || v * mul < min) {
		fprintf(stderr, "tlsdiag: %s takes a size from %s (bytes, or with K, M or G), "
				"not '%s'\n", opt, range, arg);
		return -1;
	}
	*out = v * mul;
	return 0;
}

/* --max-memory SIZE: at least 4 MiB, the flow table's bucket array alone
 * takes 1 MiB. */
static int parse_max_memory(const char *arg, struct options *o)
{
	return parse_size("--max-memory", arg, 4ULL << 20, 1ULL << 50, "4M to 1048576G",
			  &o->max_memory);
}

/* --idle-timeout SECONDS (established connections) or
 * HALF_OPEN,ESTABLISHED,CLOSING. */
static int parse_idle_timeout(const char *arg, struct options *o)
{
	unsigned long long v[TD_ENGINE_STATES];
	unsigned n = 0;
	const char *p = arg;
	char *end;

	for (;;) {
		errno = 0;
		if (n == TD_ENGINE_STATES || *p < '0' || *p > '9')
			goto bad;
		v[n++] = strtoull(p, &end, 10);
		if (errno || v[n - 1] < 1 || v[n - 1] > 86400 * 7)
			goto bad;
		if (!*end)
			break;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
	if (n == 1) {
		o->idle_timeout[TD_ENGINE_ESTABLISHED] = (uint32_t)v[0];
		return 0;
	}
	if (n != TD_ENGINE_STATES)
		goto bad;
	for (unsigned i = 0; i < n; i++)
		o->idle_timeout[i] = (uint32_t)v[i];
	return 0;
bad:
	fprintf(stderr, "tlsdiag: --idle-timeout takes SECONDS or HALF_OPEN,ESTABLISHED,CLOSING "
			"(each 1 to 604800), not '%s'\n", arg);
	return -1;
}

static int parse_capture_option(int c, const char *arg, struct options *o)
{
	unsigned long long v;
	char *end;

	switch (c) {
	case 'r':
		if (o->n_reads == MAX_INPUTS) {
			fprintf(stderr, "tlsdiag: at most %d -r options\n", MAX_INPUTS);
			return -1;
		}
		if (!o->read_file)
			o->read_file = arg;
		o->read_files[o->n_reads++] = arg;
		return 0;
	case 'i':
		o->iface = arg;
		return 0;
	case 'D':
		o->list_ifaces = true;
		return 0;
	case 'c':
		if (parse_number("-c", arg, 1, UINT64_MAX, &v) != 0)
			return -1;
		o->count = v;
		return 0;
	case 's':
		if (parse_number("-s", arg, 0, TD_CAPTURE_SNAPLEN_DEFAULT, &v) != 0)
			return -1;
		o->snaplen = (int)v;
		break;
	case 'B':
		if (parse_number("-B", arg, 1, 4194304, &v) != 0) /* 4 GiB */
			return -1;
		o->buffer_kib = (int)v;
		break;
	case 'p':
		o->no_promisc = true;
		break;
	case 'Z':
		o->user = arg;
		return 0;
	case 'w': /* the packets */
	case 'o': /* the report */
		if (strcmp(arg, "-") == 0) {
			fprintf(stderr, "tlsdiag: -%c -: the report goes to standard output%s; give a "
					"file name\n", c, c == 'o' ? " without -o" : "");
			return -1;
		}
		*(c == 'w' ? &o->write_file : &o->out_file) = arg;
		return 0;
	default: /* --duration */
		errno = 0;
		o->duration = strtod(arg, &end);
		if (errno || end == arg || *end || !(o->duration > 0 && o->duration <= 31536000)) {
			fprintf(stderr, "tlsdiag: --duration takes seconds (> 0), not '%s'\n", arg);
			return -1;
		}
		break;
	}
	o->live_only_opt = true;
	return 0;
}

static int check_capture_options(const struct options *o)
{
	if (o->list_ifaces)
		return 0;
	if (!o->n_reads && !o->iface) {
		fprintf(stderr, "tlsdiag: no input: give a capture file with -r FILE or an "
				"interface with -i IFACE\n");
		return -1;
	}
	if (o->n_reads && o->iface) {
		fprintf(stderr, "tlsdiag: -r and -i: one input at a time\n");
		return -1;
	}
	if (o->n_reads && o->live_only_opt) {
		fprintf(stderr, "tlsdiag: -s, -B, -p and --duration apply to live capture (-i)\n");
		return -1;
	}
	if (o->user && !td_privdrop_user_exists(o->user)) {
		fprintf(stderr, "tlsdiag: -Z %s: no such user\n", o->user);
		return -1;
	}
	return 0;
}

/* tcpdump -D. */
static int list_ifaces(void)
{
	char err[512];

	if (td_capture_list_ifaces(stdout, err, sizeof err) != 0) {
		fprintf(stderr, "tlsdiag: %s\n", err);
		return EXIT_INPUT;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

/* The -r files (merged by time) or the -i interface. */
static struct td_capture *open_input(struct run *r, enum td_capture_status *st, char *err,
				     size_t errlen)
{
	if (r->opt.iface) {
		struct td_capture_live_opts lo = {
			.iface = r->opt.iface,
			.filter = r->opt.filter,
			.snaplen = r->opt.snaplen,
			.buffer_kib = r->opt.buffer_kib,
			.promisc = !r->opt.no_promisc,
			.timeout_ms = 250,
		};
		return td_capture_open_live(&lo, st, err, errlen);
	}
	return td_capture_open_files(r->opt.read_files, r->opt.n_reads, r->opt.filter, st, err,
				     errlen);
}

/* -Z, as tcpdump does it: only a process started as root drops, after the
 * input (and the -w file) are open and before the first packet is parsed;
 * live capture as root without -Z drops to "nobody" when it exists. */
static int drop_privileges(struct run *r)
{
	const char *user = r->opt.user;
	char err[512];

	if (getuid() != 0 && geteuid() != 0) {
		if (user && r->opt.verbose)
			fprintf(stderr, "tlsdiag: -Z %s: not running as root, nothing to drop\n",
				user);
		return EXIT_OK;
	}
	if (!user && r->live && td_privdrop_user_exists(TD_PRIVDROP_DEFAULT_USER))
		user = TD_PRIVDROP_DEFAULT_USER;
	if (!user) {
		if (r->live && r->opt.verbose)
			fprintf(stderr, "tlsdiag: running as root: no user '%s' to drop to (-Z)\n",
				TD_PRIVDROP_DEFAULT_USER);
		return EXIT_OK;
	}
	switch (td_privdrop_to(user, err, sizeof err)) {
	case TD_PRIVDROP_OK:
		break;
	case TD_PRIVDROP_NO_USER:
		fprintf(stderr, "tlsdiag: -Z %s: %s\n", user, err);
		return EXIT_USAGE;
	default:
		fprintf(stderr, "tlsdiag: cannot drop privileges to %s: %s\n", user, err);
		return EXIT_RUNTIME;
	}
	if (r->opt.verbose)
		fprintf(stderr, "tlsdiag: dropped privileges to user %s: running as uid %lu, gid %lu\n",
			user, (unsigned long)getuid(), (unsigned long)getgid());
	return EXIT_OK;
}

/* Between opening the input and the first packet: the -w file (opened
 * while still root, so it lands where the caller asked; O_EXCL|O_NOFOLLOW
 * keep that safe), the privilege drop, the signal handlers, tcpdump's
 * "listening on" line. */
static int start_capture(struct run *r, struct td_capture *cap)
{
	char err[1024];
	int rc;

	if (r->opt.write_file && td_capture_dump_open(cap, r->opt.write_file, err, sizeof err) !=
					 TD_CAP_OK) {
		fprintf(stderr, "tlsdiag: -w %s\n", err);
		return EXIT_USAGE;
	}
	if (r->opt.evidence_file) {
		r->evidence_linktype = td_capture_linktype(cap);
		r->evidence = td_capture_writer_open(r->opt.evidence_file, r->evidence_linktype,
						     td_capture_snaplen(cap), err, sizeof err);
		if (!r->evidence) {
			fprintf(stderr, "tlsdiag: --save-evidence %s\n", err);
			return EXIT_USAGE;
		}
	}
	rc = drop_privileges(r);
	if (rc != EXIT_OK)
		return rc;
	install_signals();
	if (r->live) {
		if (td_capture_warning(cap))
			fprintf(stderr, "tlsdiag: warning: %s\n", td_capture_warning(cap));
		fprintf(stderr, "tlsdiag: listening on %s, link-type %s, snapshot length %d bytes\n",
			r->opt.iface, td_capture_linktype_name(cap), td_capture_snaplen(cap));
	}
	return EXIT_OK;
}

/* SIGUSR1: one line on standard error, the run goes on. */
static void print_status(struct run *r, const struct td_capture *cap,
			 const struct analysis *an)
{
	struct td_capture_stats cs;
	struct td_engine_stats es;

	td_capture_stats(cap, &cs);
	analysis_stats(an, &es);
	fprintf(stderr,
		"tlsdiag: %llu packets, %llu TLS connections reported (%llu completed, %llu failed, "
		"%llu incomplete), %zu flows tracked",
		(unsigned long long)cs.packets, (unsigned long long)atomic_load(&r->reported.tls),
		(unsigned long long)atomic_load(&r->reported.by_outcome[TD_OUTCOME_COMPLETED]),
		(unsigned long long)atomic_load(&r->reported.by_outcome[TD_OUTCOME_FAILED]),
		(unsigned long long)atomic_load(&r->reported.by_outcome[TD_OUTCOME_INCOMPLETE]),
		es.flows_now);
	if (cs.live)
		fprintf(stderr, ", dropped by kernel %llu, by interface %llu",
			(unsigned long long)cs.dropped_kernel, (unsigned long long)cs.dropped_iface);
	fputc('\n', stderr);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The wall clock, the clock live packets are stamped with. */
static struct td_time wall_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct td_time){(int64_t)ts.tv_sec, (int32_t)(ts.tv_nsec / 1000)};
}

/* ---- the progress line: stderr a terminal, files, no -q --------------- */

#define PROGRESS_INTERVAL 0.25 /* seconds between redraws: at most 4 a second */
#define PROGRESS_EVERY 256     /* packets between looks at the clock */
#define PROGRESS_CLEAR "\r\033[K" /* to the line's start, erase to its end */

/* One line, redrawn in place: the share of the input read (when its size
 * is known), packets and packets/s, connections reported and open. */
static void progress_draw(struct run *r, const struct td_capture *cap,
			  const struct analysis *an, uint64_t packets, double now)
{
	struct td_engine_stats es;
	uint64_t done, total;
	char share[64] = "", rate[32] = "";
	double secs = now - r->progress.start;

	analysis_stats(an, &es);
	if (td_capture_progress(cap, &done, &total) && total > 0)
		snprintf(share, sizeof share, "%3.0f%% of %.1f %s, ",
			 100.0 * (double)done / (double)total,
			 (double)total / (total < 1000000 ? 1e3 : 1e6), total < 1000000 ? "kB" : "MB");
	if (secs >= PROGRESS_INTERVAL) /* a rate over less is noise */
		snprintf(rate, sizeof rate, " (%.0f/s)", (double)packets / secs);
	/* the line is redrawn over itself: erase what a longer one left */
	pthread_mutex_lock(&r->term);
	fprintf(stderr, "\rtlsdiag: %s%llu packets%s, %llu TLS connections, %zu flows open\033[K",
		share, (unsigned long long)packets, rate,
		(unsigned long long)atomic_load(&r->reported.tls), es.flows_now);
	r->progress.shown = true;
	pthread_mutex_unlock(&r->term);
	r->progress.last = now;
}

/* After each packet: draws on the first, then when PROGRESS_INTERVAL has
 * passed (the clock read every PROGRESS_EVERY packets only). */
static void progress_tick(struct run *r, const struct td_capture *cap,
			  const struct analysis *an, uint64_t packets)
{
	double now;

	if (!r->progress.on || (packets != 1 && packets % PROGRESS_EVERY != 0))
		return;
	now = now_seconds();
	if (packets == 1)
		r->progress.start = now;
	if (packets == 1 || now - r->progress.last >= PROGRESS_INTERVAL)
		progress_draw(r, cap, an, packets, now);
}

/* Erases the line, before the report reaches a terminal and at the end. */
static void progress_clear(struct run *r)
{
	if (r->progress.shown)
		fputs(PROGRESS_CLEAR, stderr);
	r->progress.shown = false;
}

/* Packets into the engine until the input ends, a stop signal (SIGINT,
 * SIGTERM), -c COUNT or --duration. Returns what ended it: TD_CAP_EOF for
 * the end of the input and for every stop asked for. */
/* Live with -j: a packet (-j 3) or an ended connection (-j 2) waits at
 * most this long in a batch before the next thread gets it (a connection's
 * report is not held back). */
#define LIVE_BATCH_SECONDS 0.05

static void analysis_packet(struct run *r, struct analysis *an, const struct td_packet *pkt)
{
	if (!an->pipe) {
		td_engine_packet(an->eng, pkt->linktype, pkt->frame, pkt->ts, pkt->data, pkt->caplen,
				 pkt->wirelen);
		return;
	}
	td_pipeline_packet(an->pipe, pkt->linktype, pkt->frame, pkt->ts, pkt->data, pkt->caplen,
			   pkt->wirelen);
	if (r->live && td_pipeline_pending_age(an->pipe, now_seconds()) >= LIVE_BATCH_SECONDS)
		td_pipeline_flush(an->pipe);
}

static enum td_capture_status read_loop(struct run *r, struct td_capture *cap,
					struct analysis *an, char *err, size_t errlen)
{
	double deadline = r->opt.duration > 0 ? now_seconds() + r->opt.duration : 0;
	unsigned long long n = 0;
	struct td_packet pkt;

	for (;;) {
		unsigned sig = take_signals();
		enum td_capture_status st;

		if (sig & SIG_STATUS_BIT) {
			pthread_mutex_lock(&r->term);
			progress_clear(r);
			print_status(r, cap, an);
			pthread_mutex_unlock(&r->term);
		}
		if (sig & SIG_STOP_BIT)
			return TD_CAP_EOF;
		if (atomic_load_explicit(&r->stop_reading, memory_order_relaxed))
			return TD_CAP_ERR_OUTPUT; /* -j: the evidence file failed */
		if ((r->opt.count && n >= r->opt.count) || (deadline > 0 && now_seconds() >= deadline))
			return TD_CAP_EOF;
		st = td_capture_next(cap, &pkt, err, errlen);
		if (st == TD_CAP_TIMEOUT) {
			/* idle: a good moment to put the -w and evidence files
			 * on disk, and to end the connections that went quiet
			 * (a stalled handshake is reported while the capture
			 * runs, not when the next packet comes) */
			if (td_capture_dump_flush(cap, err, errlen) != TD_CAP_OK)
				return TD_CAP_ERR_OUTPUT;
			if (an->pipe) { /* the evidence file: on_idle() */
				if (r->live)
					td_pipeline_advance(an->pipe, wall_time());
				continue;
			}
			if (r->evidence && td_capture_writer_flush(r->evidence, err, errlen) != TD_CAP_OK) {
				r->evidence_failed = true;
				return TD_CAP_ERR_OUTPUT;
			}
			if (r->live)
				td_engine_advance(an->eng, wall_time());
			continue;
		}
		if (st != TD_CAP_OK)
			return st;
		n++;
		progress_tick(r, cap, an, n);
		if (!r->sum.have_ts) {
			r->sum.first_ts = pkt.ts;
			r->sum.have_ts = true;
		}
		r->sum.last_ts = pkt.ts;
		analysis_packet(r, an, &pkt);
	}
}

/* The summary's inputs (every -r file, or the interface) and the capture
 * that suggested commands name (the -w file when there is one). */
static void setup_inputs(struct run *r)
{
	if (r->opt.iface) {
		r->sum.inputs = &r->opt.iface;
		r->sum.n_inputs = 1;
		r->sum.interface = r->opt.iface;
		r->live = true;
	} else {
		r->sum.inputs = r->opt.read_files;
		r->sum.n_inputs = r->opt.n_reads;
	}
	if (r->opt.write_file)
		r->diag_capture = r->opt.write_file;
	else if (r->opt.n_reads == 1)
		r->diag_capture = r->opt.read_file;
}

/* ---- end of the capture section --------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tlsdiag -r FILE [-r FILE...] [options] [filter expression]\n"
		"       tlsdiag -i IFACE [capture options] [options] [filter expression]\n"
		"       tlsdiag -D\n"
		"       tlsdiag keycheck --cert CERT --key KEY\n"
		"\n"
		"Analyze every TLS handshake in a saved capture (pcap or pcapng) or on a\n"
		"live interface.\n"
		"\n"
		"  -r FILE              read packets from FILE ('-' for standard input);\n"
		"                       several -r are merged into one capture by time\n"
		"  -i IFACE             capture live on IFACE (needs root or CAP_NET_RAW)\n"
		"  -D                   list the interfaces that can be captured on\n"
		"  -c COUNT             stop after COUNT packets\n"
		"  --duration SECONDS   live: stop after SECONDS\n"
		"  -s SNAPLEN           live: bytes kept per packet (default 262144)\n"
		"  -B KIB               live: kernel buffer size in KiB (default 16384)\n"
		"  -p                   live: not in promiscuous mode\n"
		"  -Z USER              after opening the input, run as USER (as root,\n"
		"                       live capture drops to 'nobody' by default)\n"
		"  -w FILE              also save the packets read to FILE (pcap; never\n"
		"                       overwrites an existing file)\n"
		"  -o FILE              write the report (text or JSON Lines) to FILE instead\n"
		"                       of standard output (never overwrites a file)\n"
		"  -q                   no progress line on standard error (shown while\n"
		"                       files are read, when it is a terminal)\n"
		"  --json               JSON Lines: one object per connection, a summary last\n"
		"  --key FILE           a private key (PEM or DER) to match against every\n"
		"                       certificate's public key (repeatable); an RSA key\n"
		"                       also decrypts an RSA key exchange's pre-master secret\n"
		"  --keylog FILE        NSS key log (SSLKEYLOGFILE format): decrypt handshakes,\n"
		"                       check Finished, name encrypted alerts (default:\n"
		"                       $SSLKEYLOGFILE when set)\n"
		"  --extract-certs DIR  write every certificate as DER and PEM into DIR,\n"
		"                       named by SHA-256 fingerprint\n"
		"  --ca FILE|DIR        trust anchors: verify every chain against them at the\n"
		"                       capture's time\n"
		"  --cert FILE          a certificate the server is expected to send; each\n"
		"                       connection's leaf is compared with it (repeatable)\n"
		"  --report FILE.md     also write a Markdown incident report to FILE.md\n"
		"                       (never overwrites an existing file)\n"
		"  --only-failures      report only connections that failed or have a\n"
		"                       diagnosis (text and JSON; the summary counts all)\n"
		"  --redact             host names and IP addresses as stable pseudonyms in\n"
		"                       every report (text, JSON, --report), for sharing\n"
		"  --rules FILE         add the rules in FILE (tlsdiag-rules(5); repeatable)\n"
		"  --no-default-rules   leave out the built-in rules\n"
		"  --disable ID         turn off the rule ID (repeatable)\n"
		"  --list-rules         list the rules loaded and exit\n"
		"  --list-fields        list the fields rules can use and exit\n"
		"  --min-severity SEV   show findings of severity SEV and above (info, low,\n"
		"                       medium, high, critical)\n"
		"  --fail-on SEV        exit 7 when a finding reaches SEV\n"
		"  --max-memory SIZE    bytes held for all connections together (K, M, G\n"
		"                       suffixes; default 256M); above it the least\n"
		"                       recently active connections are evicted\n"
		"  --save-evidence FILE\n"
		"                       write the frames of every connection that failed,\n"
		"                       did not complete, or has a finding at or above\n"
		"                       --evidence-min-severity SEV (default medium) to\n"
		"                       FILE (pcap; never overwrites an existing file)\n"
		"  --evidence-max-bytes SIZE\n"
		"                       frames kept per connection for --save-evidence (K,\n"
		"                       M suffixes; default 128K); later ones are counted\n"
		"  --idle-timeout SECS  seconds of capture time after which an idle\n"
		"                       established connection ends (default 300), or\n"
		"                       HALF_OPEN,ESTABLISHED,CLOSING (default 30,300,30)\n"
		"  -j N, --threads N    threads (default: the number of cores): 1 does all;\n"
		"                       2 reads and analyses on one, reports on another;\n"
		"                       3 or more read, analyse and report on three (the\n"
		"                       same report whatever N)\n"
		"  --no-ndpi            leave out nDPI's classification of each flow (its\n"
		"                       verdict is null): about a third less CPU\n"
		"  --color=WHEN         auto (default), always or never\n"
		"  -v                   more detail\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n"
		"\n"
		"A filter expression (pcap-filter(7) syntax, as tcpdump takes it) may follow\n"
		"the options, e.g.: tlsdiag -r capture.pcap 'host 10.0.0.1 and port 8443'\n"
		"\n"
		"Exit status: 0 ok (also when stopped by SIGINT/SIGTERM), 1 run-time failure,\n"
		"2 usage (or a -w, -o, --report or --save-evidence file that exists), 3 unreadable\n"
		"input or interface,\n"
		"4 bad filter, 5 capture stops early (report covers what was read),\n"
		"6 keycheck: the key does not belong to the certificate, 7 a finding reached\n"
		"--fail-on.\n");
}

/* ---- the Markdown report (--report) and --only-failures ----------------- */

/* --report FILE.md (is_report) or --only-failures. */
static int parse_report_option(bool is_report, const char *arg, struct options *o)
{
	if (!is_report) {
		o->only_failures = true;
		return 0;
	}
	if (strcmp(arg, "-") == 0) {
		fprintf(stderr, "tlsdiag: --report -: the text report goes to standard output; "
				"give a file name\n");
		return -1;
	}
	o->report_file = arg;
	return 0;
}

/* The command line as one string for the report, each argument that is
 * not plain single-quoted so it can be pasted back into a shell. */
static char *join_command(int argc, char **argv)
{
	size_t len = 1;
	char *cmd, *p;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) * 4 + 3;
	cmd = malloc(len);
	if (!cmd)
		return NULL;
	p = cmd;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789-_./=:,+@%") == strlen(a);

		if (i)
			*p++ = ' ';
		if (plain) {
			p = stpcpy(p, a);
			continue;
		}
		*p++ = '\'';
		for (; *a; a++) {
			if (*a == '\'')
				p = stpcpy(p, "'\\''");
			else
				*p++ = *a;
		}
		*p++ = '\'';
	}
	*p = '\0';
	return cmd;
}

/* An output file made with td_file_create_output(), as a stream; NULL
 * after one line on stderr naming the option and why. */
static FILE *create_file(const char *option, const char *path)
{
	char err[512];
	FILE *f;
	int fd = td_file_create_output(path, NULL, err, sizeof err);

	if (fd < 0) {
		fprintf(stderr, "tlsdiag: %s %s\n", option, err);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "tlsdiag: %s %s: %s\n", option, path, strerror(errno));
		close(fd);
	}
	return f;
}

/* Opens the --report file before any packet is read, so an existing file
 * (or a symbolic link) is refused at once, as -w does (exit 2), and, live,
 * while still root. */
static int open_report(struct run *r, int argc, char **argv)
{
	if (!r->opt.report_file)
		return EXIT_OK;
	if (!(r->report = create_file("--report", r->opt.report_file)))
		return EXIT_USAGE;
	r->md = td_md_new(TD_MD_MAX_DETAIL);
	r->command = join_command(argc, argv);
	if (!r->md || !r->command) {
		fprintf(stderr, "tlsdiag: out of memory\n");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* ---- --redact: every report through the pseudonym filter ------------- */

/* What write(f, arg) writes to out, through td_redact_write() when
 * --redact is on (the text is built in memory first). -1 on failure. */
static int emit(const struct run *r, FILE *out, void (*write)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *mem;
	int rc;

	if (!r->redact) {
		write(out, arg);
		return ferror(out) ? -1 : 0;
	}
	mem = open_memstream(&buf, &n);
	if (!mem)
		return -1;
	write(mem, arg);
	rc = fclose(mem) == 0 ? td_redact_write(r->redact, out, buf, n) : -1;
	free(buf);
	return rc;
}

struct emit_session {
	const struct td_report_opts *o;
	const struct td_session *s;
	const struct td_summary *sum;
};

static void write_session(FILE *f, const void *arg)
{
	const struct emit_session *e = arg;
	td_report_session(f, e->o, e->s);
}

static void write_summary(FILE *f, const void *arg)
{
	const struct emit_session *e = arg;
	td_report_summary(f, e->o, e->sum);
}

/* -o FILE: the report goes there instead of standard output. Opened
 * before any packet is read, like --report and -w (live: while still
 * root), and never over an existing file or through a symbolic link
 * (exit 2). */
/* The -o file's stdio buffer. */
#define OUT_BUFFER ((size_t)1 << 16)

static int open_output(struct run *r)
{
	r->out = stdout;
	if (!r->opt.out_file)
		return EXIT_OK;
	if (!(r->out = create_file("-o", r->opt.out_file))) {
		r->out = stdout;
		return EXIT_USAGE;
	}
	/* the default buffer (4 KiB) makes a write(2) per 4 KiB of report;
	 * 64 KiB: a sixteenth of them, and the copy into the page cache still
	 * reads from the caches (1 MiB doubled the kernel's time on the
	 * handshake workload's 1 GB report). Out of memory: the default. */
	if ((r->out_buf = malloc(OUT_BUFFER)) != NULL)
		setvbuf(r->out, r->out_buf, _IOFBF, OUT_BUFFER);
	return EXIT_OK;
}

/* Closes the -o file; -1 when what was buffered cannot be written. */
static int close_output(struct run *r)
{
	int bad;

	if (!r->out || r->out == stdout)
		return 0;
	bad = fclose(r->out) != 0;
	r->out = stdout;
	free(r->out_buf);
	r->out_buf = NULL;
	if (bad)
		fprintf(stderr, "tlsdiag: -o %s: cannot write the report\n", r->opt.out_file);
	return bad ? -1 : 0;
}

struct md_args {
	const struct td_md *md;
	const struct td_summary *sum;
	const struct td_md_run *run;
	int rc;
};

static void write_md(FILE *f, const void *arg)
{
	struct md_args *a = (struct md_args *)arg;
	a->rc = td_md_write(f, a->md, a->sum, a->run);
}

/* Writes and closes the --report file at the end of the run. */
static int write_report(struct run *r)
{
	struct td_md_run run = { .version = TD_VERSION, .command = r->command };
	int bad;

	if (!r->report)
		return 0;
	struct md_args a = { r->md, &r->sum, &run, 0 };

	bad = emit(r, r->report, write_md, &a) != 0 || a.rc != 0;
	bad |= fclose(r->report) != 0;
	r->report = NULL;
	if (bad)
		fprintf(stderr, "tlsdiag: --report %s: cannot write the report\n",
			r->opt.report_file);
	return bad ? -1 : 0;
}

static void free_report(struct run *r)
{
	if (r->report)
		fclose(r->report);
	r->report = NULL;
	td_md_free(r->md);
	r->md = NULL;
	free(r->command);
	r->command = NULL;
}

/* ---- the rules stage: --rules, --disable, --list-*, severities ---------- */

static int parse_severity(const char *opt, const char *arg)
{
	int sev = td_severity_parse(arg);

	if (sev < 0)
		fprintf(stderr, "tlsdiag: %s takes info, low, medium, high or critical, not '%s'\n",
			opt, arg);
	return sev;
}

static int parse_rules_option(int c, const char *arg, struct options *o)
{
	int sev;

	switch (c) {
	case OPT_RULES:
		if (o->n_rule_files == MAX_RULE_FILES) {
			fprintf(stderr, "tlsdiag: at most %d --rules options\n", MAX_RULE_FILES);
			return -1;
		}
		o->rule_files[o->n_rule_files++] = arg;
		return 0;
	case OPT_NO_DEFAULT_RULES:
		o->no_default_rules = true;
		return 0;
	case OPT_DISABLE:
		if (o->n_disable == MAX_DISABLE) {
			fprintf(stderr, "tlsdiag: at most %d --disable options\n", MAX_DISABLE);
			return -1;
		}
		o->disable[o->n_disable++] = arg;
		return 0;
	case OPT_LIST_RULES:
		o->list_rules = true;
		return 0;
	case OPT_LIST_FIELDS:
		o->list_fields = true;
		return 0;
	case OPT_MIN_SEVERITY:
		if ((sev = parse_severity("--min-severity", arg)) < 0)
			return -1;
		o->min_severity = (unsigned)sev;
		return 0;
	default: /* --fail-on */
		if ((sev = parse_severity("--fail-on", arg)) < 0)
			return -1;
		o->fail_on = sev;
		return 0;
	}
}

/* --save-evidence FILE, --evidence-min-severity SEV, --evidence-max-bytes
 * SIZE (from 1K: a frame or two; to 1G). */
static int parse_evidence_option(int c, const char *arg, struct options *o)
{
	int sev;

	switch (c) {
	case OPT_SAVE_EVIDENCE:
		if (strcmp(arg, "-") == 0) {
			fprintf(stderr, "tlsdiag: --save-evidence -: the report goes to standard "
					"output; give a file name\n");
			return -1;
		}
		o->evidence_file = arg;
		return 0;
	case OPT_EVIDENCE_MIN_SEVERITY:
		if ((sev = parse_severity("--evidence-min-severity", arg)) < 0)
			return -1;
		o->evidence_min_severity = sev;
		return 0;
	default: /* --evidence-max-bytes */
		return parse_size("--evidence-max-bytes", arg, 1ULL << 10, 1ULL << 30, "1K to 1G",
				  &o->evidence_max_bytes);
	}
}

/* The evidence options need --save-evidence, and the file holds the
 * packets as captured: --redact could not hide the addresses in it. */
static int check_evidence_options(const struct options *o)
{
	if (!o->evidence_file && (o->evidence_min_severity >= 0 || o->evidence_max_bytes)) {
		fprintf(stderr, "tlsdiag: --evidence-min-severity and --evidence-max-bytes need "
				"--save-evidence FILE\n");
		return -1;
	}
	if (o->evidence_file && o->redact) {
		fprintf(stderr, "tlsdiag: --save-evidence writes the packets as captured, addresses "
				"and names included: it cannot be combined with --redact\n");
		return -1;
	}
	return 0;
}

/* The built-in rules (unless --no-default-rules), each --rules file, then
 * --disable. Errors are one line, "FILE:LINE:COL: message". */
static int load_rules(struct run *r)
{
	char err[1024];
	enum td_err e = TD_OK;

	r->rules = td_rules_new();
	if (!r->rules) {
		fprintf(stderr, "tlsdiag: out of memory\n");
		return -1;
	}
	if (!r->opt.no_default_rules)
		e = td_rules_load_default(r->rules, err, sizeof err);
	for (size_t i = 0; e == TD_OK && i < r->opt.n_rule_files; i++)
		e = td_rules_load_file(r->rules, r->opt.rule_files[i], err, sizeof err);
	for (size_t i = 0; e == TD_OK && i < r->opt.n_disable; i++)
		e = td_rules_disable(r->rules, r->opt.disable[i], err, sizeof err);
	if (e != TD_OK) {
		fprintf(stderr, "tlsdiag: %s\n", err);
		return -1;
	}
	return 0;
}

/* The rules, then the diagnosis on one connection: every finding counts
 * for --fail-on and for the diagnosis (a completed connection with a
 * finding of high severity gets one); those at or above --min-severity
 * are shown and counted in the summary. */
static void rules_and_diagnosis(struct run *r, struct td_session *s)
{
	td_rules_eval(r->rules, s, &r->findings);
	r->findings_max = td_findings_max(&r->findings);
	if (r->opt.fail_on >= 0 && td_findings_max(&r->findings) >= r->opt.fail_on)
		r->fail_on_hit = true;
	s->findings = &r->findings;
	td_diagnose(s, r->diag_capture, &r->diag);
	s->diagnosis = r->diag.n ? &r->diag : NULL;
	td_findings_filter(&r->findings, r->opt.min_severity);
	for (unsigned i = 0; i < r->findings.n; i++)
		r->sum.findings_by_severity[r->findings.f[i].severity]++;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_JSON = 256, OPT_EXTRACT, OPT_KEY, OPT_COLOR, OPT_CA, OPT_CERT, OPT_KEY_PASSWORD,
	       OPT_REPORT, OPT_ONLY_FAILURES, OPT_KEYLOG, OPT_REDACT };
	static const struct option longs[] = {
		{"duration", required_argument, NULL, OPT_DURATION},
		{"json", no_argument, NULL, OPT_JSON},
		{"extract-certs", required_argument, NULL, OPT_EXTRACT},
		{"key-password-file", required_argument, NULL, OPT_KEY_PASSWORD},
		{"key", required_argument, NULL, OPT_KEY},
		{"keylog", required_argument, NULL, OPT_KEYLOG},
		{"ca", required_argument, NULL, OPT_CA},
		{"cert", required_argument, NULL, OPT_CERT},
		{"color", required_argument, NULL, OPT_COLOR},
		{"report", required_argument, NULL, OPT_REPORT},
		{"only-failures", no_argument, NULL, OPT_ONLY_FAILURES},
		{"redact", no_argument, NULL, OPT_REDACT},
		{"rules", required_argument, NULL, OPT_RULES},
		{"no-default-rules", no_argument, NULL, OPT_NO_DEFAULT_RULES},
		{"disable", required_argument, NULL, OPT_DISABLE},
		{"list-rules", no_argument, NULL, OPT_LIST_RULES},
		{"list-fields", no_argument, NULL, OPT_LIST_FIELDS},
		{"min-severity", required_argument, NULL, OPT_MIN_SEVERITY},
		{"fail-on", required_argument, NULL, OPT_FAIL_ON},
		{"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
		{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
		{"save-evidence", required_argument, NULL, OPT_SAVE_EVIDENCE},
		{"evidence-min-severity", required_argument, NULL, OPT_EVIDENCE_MIN_SEVERITY},
		{"evidence-max-bytes", required_argument, NULL, OPT_EVIDENCE_MAX_BYTES},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"no-ndpi", no_argument, NULL, OPT_NO_NDPI},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof *o);
	o->color = -1;
	o->fail_on = -1;
	o->evidence_min_severity = -1;
	while ((c = getopt_long(argc, argv, "r:i:Dc:s:B:pZ:w:o:qvhVj:", longs, NULL)) != -1) {
		switch (c) {
		case 'r':
		case 'i':
		case 'D':
		case 'c':
		case 's':
		case 'B':
		case 'p':
		case 'Z':
		case 'w':
		case 'o':
		case OPT_DURATION:
			if (parse_capture_option(c, optarg, o) != 0)
				return -1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = true;
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
		case OPT_REPORT:
		case OPT_ONLY_FAILURES:
			if (parse_report_option(c == OPT_REPORT, optarg, o) != 0)
				return -1;
			break;
		case OPT_RULES:
		case OPT_NO_DEFAULT_RULES:
		case OPT_DISABLE:
		case OPT_LIST_RULES:
		case OPT_LIST_FIELDS:
		case OPT_MIN_SEVERITY:
		case OPT_FAIL_ON:
			if (parse_rules_option(c, optarg, o) != 0)
				return -1;
			break;
		case OPT_KEY_PASSWORD:
			o->key_password_file = optarg;
			break;
		case 'j':
		case OPT_THREADS: {
			unsigned long long v;
			if (parse_number(c == 'j' ? "-j" : "--threads", optarg, 1, MAX_THREADS, &v) != 0)
				return -1;
			o->threads = (unsigned)v;
			break;
		}
		case OPT_MAX_MEMORY:
			if (parse_max_memory(optarg, o) != 0)
				return -1;
			break;
		case OPT_IDLE_TIMEOUT:
			if (parse_idle_timeout(optarg, o) != 0)
				return -1;
			break;
		case OPT_SAVE_EVIDENCE:
		case OPT_EVIDENCE_MIN_SEVERITY:
		case OPT_EVIDENCE_MAX_BYTES:
			if (parse_evidence_option(c, optarg, o) != 0)
				return -1;
			break;
		case OPT_EXTRACT:
			o->extract_dir = optarg;
			break;
		case OPT_KEYLOG:
			o->keylog_file = optarg;
			break;
		case OPT_REDACT:
			o->redact = true;
			break;
		case OPT_NO_NDPI:
			o->no_ndpi = true;
			break;
		case OPT_KEY:
			if (o->n_keys == MAX_KEYS) {
				fprintf(stderr, "tlsdiag: at most %d --key options\n", MAX_KEYS);
				return -1;
			}
			o->key_files[o->n_keys++] = optarg;
			break;
		case OPT_CA:
			o->ca_path = optarg;
			break;
		case OPT_CERT:
			if (o->n_cert_files == MAX_CERTS) {
				fprintf(stderr, "tlsdiag: at most %d --cert options\n", MAX_CERTS);
				return -1;
			}
			o->cert_files[o->n_cert_files++] = optarg;
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
	if (!o->list_rules && !o->list_fields &&
	    (check_capture_options(o) != 0 || check_evidence_options(o) != 0))
		return -1;
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
	s->dec.key_files = r->n_keys ? r->key_paths : NULL;
	s->dec.n_key_files = (uint8_t)r->n_keys;
	for (unsigned i = 0; i < s->n_certs && i < TD_MAX_CHAIN; i++) {
		s->cert_key_match[i] = 0;
		if (!s->certs[i]->parsed)
			continue;
		for (size_t k = 0; k < r->n_keys; k++) {
			if (td_keys_match(&r->keys[k], &s->certs[i]->key)) {
				s->cert_key_match[i] = (uint8_t)(k + 1);
				r->key_use[k].certificates_matched++;
				break;
			}
		}
	}
}

/* The chain stage: facts about this connection's chain (td_chain.h), and
 * its leaf compared with the earlier connections' of the same SNI, then
 * recorded for the later ones and the consistency summary. */
static void check_chain(struct run *r, struct td_session *s)
{
	struct td_chain_facts *f = td_session_chain(s);

	if (!f)
		return; /* out of memory: the report says the chain was not checked */
	td_chain_check(f, s, &r->chain_cfg);
	td_consistency_add(r->consistency, s, f);
}

/* --ca and --cert, loaded once the certificate cache exists. */
static int load_chain_inputs(struct run *r)
{
	char err[512];

	if (r->opt.ca_path) {
		r->ca = td_x509_store_load(r->opt.ca_path, err, sizeof err);
		if (!r->ca) {
			fprintf(stderr, "tlsdiag: --ca %s\n", err);
			return -1;
		}
	}
	for (size_t i = 0; i < r->opt.n_cert_files; i++) {
		if (td_x509_cert_load(r->cache, r->opt.cert_files[i], &r->expected[i], err,
				      sizeof err) != TD_OK) {
			fprintf(stderr, "tlsdiag: --cert %s\n", err);
			return -1;
		}
	}
	r->chain_cfg.ca = r->ca;
	r->chain_cfg.expected = r->expected;
	r->chain_cfg.expected_paths = r->opt.cert_files;
	r->chain_cfg.n_expected = r->opt.n_cert_files;
	r->chain_cfg.memo = td_chain_memo_new(); /* NULL: slower, not wrong */
	r->consistency = td_consistency_new(CONSISTENCY_KEYS);
	if (!r->consistency) {
		fprintf(stderr, "tlsdiag: out of memory\n");
		return -1;
	}
	return 0;
}

static void free_chain_inputs(struct run *r)
{
	for (size_t i = 0; i < MAX_CERTS; i++) {
		td_x509_cert_release(r->cache, r->expected[i]);
		r->expected[i] = NULL;
	}
	td_x509_store_free(r->ca);
	r->ca = NULL;
	td_consistency_free(r->consistency);
	r->consistency = NULL;
	td_chain_memo_free(r->chain_cfg.memo);
	r->chain_cfg.memo = NULL;
}

/* ---- tlsdiag keycheck --cert CERT --key KEY ---------------------------------
 * Offline: does this private key belong to this certificate? Both SPKI
 * SHA-256 hashes side by side (and the pin-sha256 and RSA modulus forms),
 * then "match" (exit 0) or "MISMATCH" (exit 6). */

static void keycheck_print(const char *what, const char *path, const char *desc,
			   const uint8_t spki[32], const char *b64, bool has_mod,
			   const uint8_t mod[32])
{
	char hex[65];

	printf("%-12s %s (%s)\n", what, path, desc);
	printf("  SPKI SHA-256     %s\n", td_hex(spki, 32, hex));
	printf("  pin-sha256       %s\n", b64);
	if (has_mod)
		printf("  modulus SHA-256  %s\n", td_hex(mod, 32, hex));
}

static int keycheck_main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cert_path = NULL, *key_path = NULL;
	const struct td_cert *cert = NULL;
	struct td_x509_cache *cache = NULL;
	struct td_key key;
	char err[512], desc[600];
	int c, rc = EXIT_USAGE;
	bool match;

	memset(&key, 0, sizeof key);
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'c':
			cert_path = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'h':
			printf("usage: tlsdiag keycheck --cert CERT --key KEY\n"
			       "Exit status: 0 the key belongs to the certificate, 6 it does not,\n"
			       "2 usage or a file that is not a certificate / private key.\n");
			return EXIT_OK;
		default:
			goto usage;
		}
	}
	if (!cert_path || !key_path || optind != argc)
		goto usage;
	cache = td_x509_cache_new(1);
	if (!cache) {
		fprintf(stderr, "tlsdiag: out of memory\n");
		return EXIT_RUNTIME;
	}
	if (td_x509_cert_load(cache, cert_path, &cert, err, sizeof err) != TD_OK) {
		fprintf(stderr, "tlsdiag: keycheck: --cert %s\n", err);
		goto out;
	}
	if (td_keys_load(key_path, &key, err, sizeof err) != TD_OK) {
		fprintf(stderr, "tlsdiag: keycheck: --key %s\n", err);
		goto out;
	}
	snprintf(desc, sizeof desc, "%s, %s %u bits", cert->subject, cert->key.algorithm,
		 cert->key.bits);
	keycheck_print("certificate", cert_path, desc, cert->key.spki_sha256,
		       cert->key.spki_sha256_b64, cert->key.has_modulus,
		       cert->key.rsa_modulus_sha256);
	snprintf(desc, sizeof desc, "%s %u bits", key.algorithm, key.bits);
	keycheck_print("key", key_path, desc, key.spki_sha256, key.spki_sha256_b64,
		       key.has_modulus, key.rsa_modulus_sha256);
	match = td_keys_match(&key, &cert->key);
	printf("%s\n", match ? "match: the key belongs to the certificate"
			     : "MISMATCH: the key does not belong to the certificate");
	rc = match ? EXIT_OK : EXIT_KEY_MISMATCH;
	if (fflush(stdout) != 0)
		rc = EXIT_RUNTIME;
out:
	td_key_clear(&key);
	td_x509_cert_release(cache, cert);
	td_x509_cache_free(cache);
	return rc;
usage:
	fprintf(stderr, "usage: tlsdiag keycheck --cert CERT --key KEY\n");
	return EXIT_USAGE;
}

/* DIR/index.json: a JSON array, one element per connection with
 * certificates, written as connections end (memory stays flat): the
 * connection's id and endpoints and its chain in order, as the report's
 * JSON has them. Created like the certificate files: never through a
 * symbolic link, never over an existing file. */
static int open_index(struct run *r)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/index.json", r->opt.extract_dir);
	if (!(r->index = create_file("--extract-certs", path)))
		return -1;
	fputs("[", r->index);
	r->index_first = true;
	return 0;
}

static void index_connection(struct run *r, const struct td_session *s)
{
	json_t *full = td_report_session_json(s);
	json_t *e = json_object();

	if (full && e) {
		static const char *const keep[] = {"id", "client", "server", "certificates",
						   "client_certificates"};
		for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
			json_object_set(e, keep[i], json_object_get(full, keep[i]));
		json_object_set(e, "sni", json_object_get(json_object_get(json_object_get(full, "tls"), "client_hello"), "sni"));
		fputs(r->index_first ? "\n" : ",\n", r->index);
		if (td_report_json_dump(r->index, e) != 0)
			r->extract_errors++;
		r->index_first = false;
	} else {
		r->extract_errors++;
	}
	json_decref(e);
	json_decref(full);
}

static int close_index(struct run *r)
{
	if (!r->index)
		return 0;
	fputs("\n]\n", r->index);
	int bad = ferror(r->index) | (fclose(r->index) != 0);
	r->index = NULL;
	return bad ? -1 : 0;
}

static void extract_certs(struct run *r, const struct td_session *s)
{
	char err[512];
	const struct td_cert *const *lists[2] = {s->certs, s->client_certs};
	unsigned counts[2] = {s->n_certs, s->n_client_certs};

	for (int l = 0; l < 2; l++) {
		for (unsigned i = 0; i < counts[l]; i++) {
			if (!lists[l][i]->parsed)
				continue;
			if (td_x509_export(lists[l][i], r->opt.extract_dir, err, sizeof err) != TD_OK) {
				fprintf(stderr, "tlsdiag: --extract-certs: %s\n", err);
				r->extract_errors++;
			}
		}
	}
	if (r->index && (s->n_certs || s->n_client_certs))
		index_connection(r, s);
}

static void account(struct run *r, const struct td_session *s)
{
	struct td_summary *sum = &r->sum;

	sum->connections_tls++;
	sum->by_outcome[s->outcome]++;
	atomic_fetch_add_explicit(&r->reported.tls, 1, memory_order_relaxed);
	if (s->outcome < TD_OUTCOME_COUNT)
		atomic_fetch_add_explicit(&r->reported.by_outcome[s->outcome], 1,
					  memory_order_relaxed);
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
		sum->finished_verified += s->dec.finished[d] == TD_FIN_VERIFIED;
		sum->finished_failed += s->dec.finished[d] == TD_FIN_MISMATCH ||
					s->dec.finished[d] == TD_FIN_UNREADABLE;
	}
	if (s->dec.status < TD_DECRYPT_STATUS_COUNT)
		sum->decrypt_by_status[s->dec.status]++;
}

static void on_session(void *user, struct td_session *s)
{
	struct run *r = user;

	match_keys(r, s);
	check_chain(r, s);
	rules_and_diagnosis(r, s);
	account(r, s);
	if (r->redact && td_redact_session(r->redact, s) != TD_OK) {
		/* a name that could not be registered would be printed as it
		 * is: leave the connection out, and fail the run */
		r->redact_failed = true;
		return;
	}
	if (r->opt.extract_dir)
		extract_certs(r, s);
	if (r->md)
		td_md_add(r->md, s); /* out of memory: the report says it is incomplete */
	if (r->opt.only_failures && !td_report_is_failure(s))
		return;
	pthread_mutex_lock(&r->term); /* -j: the progress line is drawn meanwhile */
	progress_clear(r); /* the report may go to the same terminal */
	if (emit(r, r->out, write_session, &(struct emit_session){ .o = &r->ropts, .s = s }) != 0)
		r->write_failed = true;
	pthread_mutex_unlock(&r->term);
	if (r->live)
		fflush(r->out); /* live: each connection out as soon as it ends */
	if (ferror(r->out))
		r->write_failed = true;
}

/* --save-evidence: a connection that failed or did not complete (the
 * outcome the report shows), or with a finding at or above
 * --evidence-min-severity, has its frames written in frame order; the
 * others' are dropped. Frames of another link type than the file's cannot
 * go in it: counted. */
static void on_evidence(void *user, const struct td_session *s,
			const struct td_engine_evidence *ev)
{
	struct run *r = user;
	bool failed = s->outcome == TD_OUTCOME_FAILED || s->outcome == TD_OUTCOME_INCOMPLETE;

	if (!failed && r->findings_max < (int)r->sum.evidence.min_severity)
		return;
	r->sum.evidence.connections++;
	r->sum.evidence.connections_capped += ev->over_cap > 0;
	r->sum.evidence.frames_over_cap += ev->over_cap;
	r->sum.evidence.segments_fragments_lost += ev->fragments;
	for (const struct td_engine_frame *f = ev->first; f; f = f->next) {
		if (f->linktype != r->evidence_linktype) {
			r->sum.evidence.frames_other_link++;
			continue;
		}
		td_capture_writer_put(r->evidence, f->ts, f->data, f->caplen, f->wirelen);
		r->sum.evidence.frames++;
	}
}

/* -j, on the reporting thread: the live input went quiet, a moment to
 * put the evidence file on disk (as read_loop() does with one thread); a
 * failure stops the reading. */
static void on_idle(void *user)
{
	struct run *r = user;
	char err[1024];

	if (!r->evidence || r->evidence_failed)
		return;
	if (td_capture_writer_flush(r->evidence, err, sizeof err) != TD_CAP_OK) {
		r->evidence_failed = true;
		atomic_store(&r->stop_reading, true);
	}
}

/* The first line of --key-password-file (at most 1023 bytes, without its
 * line end) into pw; the file is untrusted like any other input. */
static int read_password(const char *path, char *pw, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f) {
		fprintf(stderr, "tlsdiag: --key-password-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fgets(pw, (int)n, f))
		pw[0] = '\0';
	fclose(f);
	len = strcspn(pw, "\r\n");
	pw[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "tlsdiag: --key-password-file %s: no password on its first line\n",
			path);
		return -1;
	}
	return 0;
}

static int load_keys(struct run *r)
{
	char err[512], pw[1024];
	int rc = 0;

	if (r->opt.key_password_file && read_password(r->opt.key_password_file, pw, sizeof pw) != 0)
		return -1;
	for (size_t i = 0; i < r->opt.n_keys && rc == 0; i++) {
		if (td_keys_load_password(r->opt.key_files[i],
					  r->opt.key_password_file ? pw : NULL, &r->keys[i], err,
					  sizeof err) != TD_OK) {
			fprintf(stderr, "tlsdiag: --key %s\n", err);
			rc = -1;
			break;
		}
		r->key_use[i].path = r->keys[i].path;
		r->key_paths[i] = r->keys[i].path;
		r->n_keys++;
	}
	explicit_bzero(pw, sizeof pw);
	r->sum.keys = r->key_use;
	r->sum.n_keys = r->n_keys;
	return rc;
}

/* ---- decryption secrets (td_tls_secrets) -------------------------------- */

/* The key log given first, then the secrets embedded in the captures. */
static size_t secret_keylog(void *user, const uint8_t client_random[32], int label, uint8_t *out)
{
	struct run *r = user;
	size_t n = r->have_keylog ? td_keylog_find(&r->keylog, client_random,
						   (enum td_keylog_label)label, out)
				  : 0;
	if (!n && r->have_dsb)
		n = td_keylog_find(&r->dsb, client_random, (enum td_keylog_label)label, out);
	return n;
}

static size_t secret_keylog_rsa(void *user, const uint8_t prefix[8], uint8_t *out)
{
	struct run *r = user;
	size_t n = r->have_keylog ? td_keylog_find_rsa(&r->keylog, prefix, out) : 0;
	if (!n && r->have_dsb)
		n = td_keylog_find_rsa(&r->dsb, prefix, out);
	return n;
}

struct dsb_text {
	uint8_t *p;
	size_t n;
	bool nomem;
};

static void dsb_append(void *user, const uint8_t *p, size_t n)
{
	struct dsb_text *t = user;
	uint8_t *np = t->nomem ? NULL : realloc(t->p, t->n + n + 1);
	if (!np) {
		t->nomem = true;
		return;
	}
	memcpy(np + t->n, p, n);
	np[t->n + n] = '\n'; /* a block need not end its last line */
	t->p = np;
	t->n += n + 1;
}

/* Key logs embedded in pcapng files (editcap --inject-secrets), read as
 * Wireshark does; a damaged block only warns (the packets are still
 * read). */
static void load_embedded_secrets(struct run *r)
{
	struct dsb_text t = {0};
	unsigned total = 0;
	char err[512];

	for (size_t i = 0; i < r->opt.n_reads; i++) {
		unsigned n = 0;
		if (td_pcapng_secrets(r->opt.read_files[i], dsb_append, &t, &n, err, sizeof err) !=
		    TD_OK)
			fprintf(stderr, "tlsdiag: %s (decryption secrets after it ignored)\n", err);
		total += n;
	}
	if (t.nomem)
		fprintf(stderr, "tlsdiag: out of memory reading decryption secrets blocks\n");
	if (total && !t.nomem && td_keylog_parse(&r->dsb, "pcapng secrets", t.p, t.n) == TD_OK) {
		r->have_dsb = true;
		if (r->opt.verbose)
			fprintf(stderr,
				"tlsdiag: %u secrets from %u pcapng Decryption Secrets Block%s\n",
				r->dsb.secrets, total, total == 1 ? "" : "s");
	}
	if (t.p)
		explicit_bzero(t.p, t.n);
	free(t.p);
}

static enum td_err secret_rsa(void *user, size_t i, const uint8_t *in, size_t n, uint8_t *out,
			      size_t cap, size_t *out_len)
{
	struct run *r = user;
	if (i >= r->n_keys)
		return TD_ERR_UNSUPPORTED;
	return td_keys_rsa_decrypt(&r->keys[i], in, n, out, cap, out_len);
}

/* --keylog FILE, else $SSLKEYLOGFILE as Wireshark reads it. A file named
 * on the command line must load; one from the environment only warns. */
static int load_keylog(struct run *r)
{
	const char *path = r->opt.keylog_file;
	const char *what = "--keylog";
	char err[512];

	if (!path) {
		path = getenv("SSLKEYLOGFILE");
		what = "SSLKEYLOGFILE";
		if (!path || !*path)
			path = NULL;
	}
	if (path) {
		if (td_keylog_load(&r->keylog, path, err, sizeof err) != TD_OK) {
			fprintf(stderr, "tlsdiag: %s %s%s\n", what, err,
				r->opt.keylog_file ? "" : " (ignored)");
			if (r->opt.keylog_file)
				return -1;
		} else {
			r->have_keylog = true;
			for (unsigned i = 0; i < r->keylog.n_warnings; i++)
				fprintf(stderr, "tlsdiag: %s %s:%u: %s (line skipped)\n", what, path,
					r->keylog.warnings[i].line, r->keylog.warnings[i].text);
			if (r->keylog.malformed > r->keylog.n_warnings)
				fprintf(stderr, "tlsdiag: %s %s: %u more malformed lines skipped\n",
					what, path, r->keylog.malformed - r->keylog.n_warnings);
			if (r->opt.verbose)
				fprintf(stderr, "tlsdiag: %s %s: %u secrets\n", what, path,
					r->keylog.secrets);
		}
	}
	load_embedded_secrets(r);
	if (r->have_keylog || r->have_dsb) {
		r->secrets.keylog = secret_keylog;
		r->secrets.keylog_rsa = secret_keylog_rsa;
	}
	if (r->n_keys) {
		r->secrets.n_keys = r->n_keys;
		r->secrets.rsa_decrypt = secret_rsa;
	}
	r->secrets.user = r;
	return 0;
}

/* The --extract-certs directory: made (0755) when missing; a symbolic
 * link at its name is refused like one at any output file's name
 * (td_file_create), so the files never land where a link points. */
static int check_extract_dir(const char *dir)
{
	struct stat sb;
	if (lstat(dir, &sb) != 0 && mkdir(dir, 0755) != 0) {
		fprintf(stderr, "tlsdiag: --extract-certs %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		fprintf(stderr, "tlsdiag: --extract-certs %s: is a symbolic link; not followed\n",
			dir);
		return -1;
	}
	if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
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
	memcpy(sum->not_decoded, es->not_decoded, sizeof sum->not_decoded);
	sum->n_not_decoded = es->n_not_decoded;
	sum->not_decoded_other = es->not_decoded_other;
	sum->defrag = es->defrag;
	sum->connections_not_tls = es->not_tls;
	sum->flows_evicted = es->flows_evicted;
	sum->flows_evicted_memory = es->flows_evicted_memory;
	sum->memory_peak = es->memory_peak;
	sum->ndpi = es->classify;
	td_x509_cache_stats(r->cache, &xs);
	sum->certs_distinct = xs.parses;
	sum->x509_parses = xs.parses;
	sum->x509_hits = xs.hits;
	sum->live = cs->live;
	sum->dropped_kernel = cs->dropped_kernel;
	sum->dropped_iface = cs->dropped_iface;
	sum->consistency = r->consistency;
}

static int run_file(struct run *r)
{
	enum td_capture_status st;
	char err[1024];
	struct td_engine_config cfg;
	struct td_capture_stats cs;
	struct td_engine_stats es;
	int rc = EXIT_OK;

	struct td_capture *cap = open_input(r, &st, err, sizeof err);
	if (!cap) {
		fprintf(stderr, "tlsdiag: %s\n", err);
		return status_exit(st);
	}
	td_engine_config_default(&cfg);
	cfg.classify = !r->opt.no_ndpi;
	if (cfg.classify && !r->ndpi)
		r->ndpi = td_classify_new(); /* NULL: the engine tries, then runs without */
	cfg.ndpi = r->ndpi;
	if (r->opt.max_memory)
		cfg.max_memory = (size_t)r->opt.max_memory;
	for (int i = 0; i < TD_ENGINE_STATES; i++)
		if (r->opt.idle_timeout[i])
			cfg.idle_timeout[i] = r->opt.idle_timeout[i];
	r->sum.memory_cap = cfg.max_memory;
	if (r->opt.evidence_file) {
		cfg.evidence = on_evidence;
		cfg.evidence_max_bytes = r->opt.evidence_max_bytes ? (size_t)r->opt.evidence_max_bytes
								   : TD_ENGINE_EVIDENCE_MAX_DEFAULT;
		r->sum.evidence.file = r->opt.evidence_file;
		r->sum.evidence.min_severity = r->opt.evidence_min_severity >= 0
						       ? (unsigned)r->opt.evidence_min_severity
						       : TD_EVIDENCE_MIN_SEVERITY_DEFAULT;
		r->sum.evidence.max_bytes = cfg.evidence_max_bytes;
	}
	if (r->have_keylog || r->have_dsb || r->n_keys) {
		cfg.secrets = &r->secrets;
		r->sum.decrypt_on = true;
	}
	struct analysis an = {0};
	if (r->threads > 1)
		an.pipe = td_pipeline_new(&cfg,
					  &(struct td_pipeline_config){
						  .idle = on_idle,
						  /* a file with -j 2: analysis on one
						   * thread, reading and reporting on
						   * the other; live: reading never
						   * waits for the report */
						  .analysis_thread = r->threads > 2 || !r->live,
						  .report_on_caller = r->threads == 2 && !r->live,
					  },
					  r->cache, on_session, r);
	else
		an.eng = td_engine_new(&cfg, r->cache, on_session, r);
	if (!an.eng && !an.pipe) {
		td_capture_close(cap);
		fprintf(stderr, "tlsdiag: out of memory%s\n",
			r->threads > 1 ? " or no threads (try -j 1)" : "");
		return EXIT_RUNTIME;
	}
	rc = start_capture(r, cap);
	if (rc != EXIT_OK) {
		td_pipeline_free(an.pipe);
		td_engine_free(an.eng);
		(void)td_capture_writer_close(r->evidence, err, sizeof err);
		r->evidence = NULL;
		td_capture_close(cap);
		return rc;
	}
	st = read_loop(r, cap, &an, err, sizeof err);
	if (an.pipe)
		td_pipeline_finish(an.pipe); /* every connection reported */
	else
		td_engine_finish(an.eng);
	progress_clear(r);
	if ((st == TD_CAP_ERR_OUTPUT && !r->evidence_failed) ||
	    td_capture_dump_flush(cap, err, sizeof err) != TD_CAP_OK) {
		fprintf(stderr, "tlsdiag: -w %s\n", err);
		rc = EXIT_RUNTIME;
	}
	/* every connection has ended: the evidence file is complete (its
	 * own message buffer: err may hold why the input stopped) */
	char werr[1024];
	if (td_capture_writer_close(r->evidence, werr, sizeof werr) != TD_CAP_OK) {
		fprintf(stderr, "tlsdiag: --save-evidence %s\n", werr);
		rc = EXIT_RUNTIME;
	}
	r->evidence = NULL;
	if (st == TD_CAP_ERR_READ) {
		r->sum.stopped = err;
		rc = EXIT_TRUNCATED;
	}
	td_capture_stats(cap, &cs);
	analysis_stats(&an, &es);
	fill_summary(r, &cs, &es);
	if (emit(r, r->out, write_summary, &(struct emit_session){ .o = &r->ropts, .sum = &r->sum }) != 0)
		r->write_failed = true;
	if (st == TD_CAP_ERR_READ)
		fprintf(stderr, "tlsdiag: warning: %s; the report covers the packets before it\n",
			err);
	if (cs.late_secrets)
		fprintf(stderr,
			"tlsdiag: warning: %s: %llu Decryption Secrets Block%s after the first packet "
			"(the first at byte offset %llu) not read: tlsdiag reads those before it, "
			"where editcap --inject-secrets writes them\n",
			cs.late_secrets_file, (unsigned long long)cs.late_secrets,
			cs.late_secrets == 1 ? "" : "s", (unsigned long long)cs.late_secrets_at);
	td_pipeline_free(an.pipe);
	td_engine_free(an.eng);
	td_capture_close(cap);
	if (fflush(r->out) != 0 || ferror(r->out) || r->write_failed) {
		fprintf(stderr, "tlsdiag: cannot write the report%s%s\n", r->opt.out_file ? " to " : "",
			r->opt.out_file ? r->opt.out_file : "");
		return EXIT_RUNTIME;
	}
	if (r->extract_errors && rc == EXIT_OK)
		rc = EXIT_RUNTIME;
	if (r->redact_failed) {
		fprintf(stderr, "tlsdiag: --redact: too many names to track (%d at most) or out of "
				"memory: connections past that were left out of the report\n",
			TD_REDACT_MAX_VALUES);
		rc = EXIT_RUNTIME;
	}
	return rc;
}

/* -j N, or the number of cores. */
static unsigned threads(const struct options *o)
{
	long n = o->threads ? (long)o->threads : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

int main(int argc, char **argv)
{
	static struct run r; /* large (the summary's alert table); one per process */
	int rc;

	if (argc > 1 && strcmp(argv[1], "keycheck") == 0)
		return keycheck_main(argc - 1, argv + 1);
	if (parse_options(argc, argv, &r.opt) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (r.opt.list_ifaces) {
		rc = list_ifaces();
		goto out;
	}
	if (r.opt.list_fields) {
		td_rules_list_fields(stdout);
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
		goto out;
	}
	if (load_rules(&r) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (r.opt.list_rules) {
		td_rules_list(stdout, r.rules);
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
		goto out;
	}
	r.ropts.json = r.opt.json;
	r.ropts.verbose = r.opt.verbose;
	setup_inputs(&r);
	if (load_keys(&r) != 0 || load_keylog(&r) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (r.opt.extract_dir &&
	    (check_extract_dir(r.opt.extract_dir) != 0 || open_index(&r) != 0)) {
		rc = EXIT_USAGE;
		goto out;
	}
	r.cache = td_x509_cache_new(4096);
	if (!r.cache) {
		fprintf(stderr, "tlsdiag: out of memory\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (load_chain_inputs(&r) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	rc = open_output(&r);
	if (rc == EXIT_OK)
		rc = open_report(&r, argc, argv);
	if (rc != EXIT_OK)
		goto out;
	/* --redact: no colour, whose escape sequences would hide a name's
	 * edges from the filter */
	r.ropts.color = !r.opt.redact &&
			(r.opt.color == 1 || (r.opt.color == -1 && !r.opt.json &&
					      isatty(fileno(r.out)) && getenv("NO_COLOR") == NULL));
	if (r.opt.redact && !(r.redact = td_redact_new())) {
		fprintf(stderr, "tlsdiag: --redact: out of memory, or no random key\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	r.progress.on = !r.opt.quiet && !r.live && isatty(STDERR_FILENO);
	r.threads = threads(&r.opt);
	pthread_mutex_init(&r.term, NULL);
	rc = run_file(&r);
	pthread_mutex_destroy(&r.term);
	if (close_output(&r) != 0 && rc == EXIT_OK)
		rc = EXIT_RUNTIME;
	if (write_report(&r) != 0 && rc == EXIT_OK)
		rc = EXIT_RUNTIME;
	if (rc == EXIT_OK && r.fail_on_hit)
		rc = EXIT_FINDINGS;
	if (close_index(&r) != 0) {
		fprintf(stderr, "tlsdiag: --extract-certs: cannot write index.json\n");
		if (rc == EXIT_OK)
			rc = EXIT_RUNTIME;
	}
out:
	close_output(&r);
	td_redact_free(r.redact);
	if (r.index)
		fclose(r.index);
	free_report(&r);
	free_chain_inputs(&r);
	td_rules_free(r.rules);
	td_x509_cache_free(r.cache);
	for (size_t i = 0; i < r.n_keys; i++)
		td_key_clear(&r.keys[i]);
	td_keylog_free(&r.keylog);
	td_keylog_free(&r.dsb);
	free(r.opt.filter);
	return rc;
}
