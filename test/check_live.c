/* check_live.c - live capture, -Z, signals, -w, -D and merged -r files,
 * with the tlsdiag binary and real processes.
 *
 * The live tests capture on the loopback interface while openssl s_server
 * and s_client make a real TLS 1.2 handshake over it, and compare what
 * tlsdiag reports with what the openssl CLI says about the certificate the
 * server used. Capturing needs root (or CAP_NET_RAW): without it each live
 * test prints "SKIPPED: live capture needs root" and passes. Every process
 * a test starts is stopped by its pid, whatever the outcome (a Check
 * failure ends the test's process, so the cleanup runs before asserting).
 *
 * Environment: TD_BIN (the binary, default build/tlsdiag), TD_SAMPLES (the
 * samples folder, default samples).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "td_privdrop.h"
#include "td_test_util.h"

#define SKIP_LINE "SKIPPED: live capture needs root\n"

static const char *bin(void)
{
	const char *b = getenv("TD_BIN");
	return b ? b : "build/tlsdiag";
}

static const char *samples(void)
{
	const char *s = getenv("TD_SAMPLES");
	return s ? s : "samples";
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- processes --------------------------------------------------------- */

/* Starts argv[0] (looked up in PATH) with standard input from in_fd (-1:
 * /dev/null) and standard output and error into the files out and err.
 * Returns the pid; asserts it started. */
static pid_t spawn(char *const argv[], int in_fd, const char *out, const char *err)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to ms for pid to exit. Returns its exit status, -2 when it was
 * killed by a signal, -1 when it is still running. */
static int wait_exit(pid_t pid, long ms)
{
	for (long waited = 0;; waited += 20) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
		if (w < 0 || waited >= ms)
			return -1;
		sleep_ms(20);
	}
}

/* Stops pid: SIGTERM, then SIGKILL if it does not go within 2 s. */
static void stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (wait_exit(pid, 2000) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* The whole file as a string ("" when missing), to be freed. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	if (f) {
		size_t n;
		while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
			len += n;
			if (cap - len < 1024) {
				cap *= 2;
				buf = realloc(buf, cap);
				ck_assert_ptr_nonnull(buf);
			}
		}
		fclose(f);
	}
	buf[len] = '\0';
	return buf;
}

/* Waits up to ms for text to appear in the file path. False when it did
 * not, or when pid (if > 0) exited meanwhile. */
static bool wait_for_text(const char *path, const char *text, pid_t pid, long ms)
{
	for (long waited = 0; waited <= ms; waited += 50) {
		char *s = slurp(path);
		bool found = strstr(s, text) != NULL;
		free(s);
		if (found)
			return true;
		if (pid > 0 && kill(pid, 0) != 0)
			return false;
		if (pid > 0) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid)
				return false;
		}
		sleep_ms(50);
	}
	return false;
}

/* A TCP port free on 127.0.0.1 right now: the kernel picks it for a bind
 * to port 0. */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- the scene: a temporary folder, s_server, tlsdiag -i lo ----------- */

struct scene {
	char dir[64];
	int port;
	pid_t server, tlsdiag, client;
	int server_in, client_in; /* write ends keeping their stdin open */
	char path[4][512];        /* scratch */
};

static const char *at(struct scene *sc, int slot, const char *name)
{
	snprintf(sc->path[slot], sizeof sc->path[slot], "%s/%s", sc->dir, name);
	return sc->path[slot];
}

static void scene_open(struct scene *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->server_in = sc->client_in = -1;
	snprintf(sc->dir, sizeof sc->dir, "/tmp/td-live-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sc->dir));
	umask(022);
}

/* Stops every process the scene started, by pid, and removes the folder. */
static void scene_close(struct scene *sc)
{
	char *o;

	stop(sc->client);
	stop(sc->tlsdiag);
	stop(sc->server);
	sc->client = sc->tlsdiag = sc->server = 0;
	if (sc->client_in >= 0)
		close(sc->client_in);
	if (sc->server_in >= 0)
		close(sc->server_in);
	td_test_run(&o, NULL, "rm -rf '%s'", sc->dir);
	free(o);
}

/* openssl s_server on 127.0.0.1 with the sample certificate, TLS 1.2 so the
 * certificate is on the wire in clear. Its standard input is a pipe kept
 * open (at end of input s_server stops). Asserts it accepts. */
static void start_server(struct scene *sc)
{
	char accept[64], cert[512], key[512];
	int p[2];

	sc->port = free_port();
	snprintf(accept, sizeof accept, "127.0.0.1:%d", sc->port);
	snprintf(cert, sizeof cert, "%s/keys/server.example.pem", samples());
	snprintf(key, sizeof key, "%s/keys/server.example.key", samples());
	char *const argv[] = {"openssl", "s_server", "-accept", accept, "-cert", cert,
			      "-key", key, "-tls1_2", NULL};
	ck_assert_int_eq(pipe(p), 0);
	sc->server = spawn(argv, p[0], at(sc, 0, "server.out"), at(sc, 1, "server.err"));
	close(p[0]);
	sc->server_in = p[1];
	bool up = wait_for_text(at(sc, 0, "server.out"), "ACCEPT", sc->server, 5000);
	if (!up)
		scene_close(sc);
	ck_assert_msg(up, "openssl s_server did not start");
}

/* tlsdiag with args (NULL-terminated, after the binary), output into
 * live.out and live.err. Returns false, after printing the skip line, when
 * the interface cannot be opened for lack of privilege; asserts that it
 * started listening otherwise. */
static bool start_tlsdiag(struct scene *sc, const char *const *args)
{
	char *argv[32];
	size_t n = 0;

	argv[n++] = (char *)bin();
	for (; *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	sc->tlsdiag = spawn(argv, -1, at(sc, 0, "live.out"), at(sc, 1, "live.err"));
	if (wait_for_text(at(sc, 1, "live.err"), "listening on", sc->tlsdiag, 8000))
		return true;
	char *err = slurp(at(sc, 1, "live.err"));
	bool perm = strstr(err, "permission denied") || strstr(err, "Operation not permitted");
	if (perm) {
		printf(SKIP_LINE);
		fflush(stdout);
		free(err);
		scene_close(sc);
		return false;
	}
	scene_close(sc);
	ck_abort_msg("tlsdiag did not start listening: %s", err);
	return false;
}

/* Waits up to ms for tlsdiag to exit (after signal sig, when not 0), then
 * reads its live.out and live.err (to be freed). Returns its status, -1
 * while it still runs (scene_close stops it). */
static int tlsdiag_done(struct scene *sc, int sig, long ms, char **out, char **err)
{
	int st;

	if (sig)
		kill(sc->tlsdiag, sig);
	st = wait_exit(sc->tlsdiag, ms);
	if (st != -1)
		sc->tlsdiag = 0;
	*out = slurp(at(sc, 0, "live.out"));
	*err = slurp(at(sc, 1, "live.err"));
	return st;
}

/* A full handshake with s_client, which then closes (end of input). */
static void connect_once(struct scene *sc)
{
	char *o;
	int st = td_test_run(&o, NULL,
			     "timeout 10 openssl s_client -connect 127.0.0.1:%d -servername "
			     "server.example </dev/null >/dev/null 2>&1",
			     sc->port);
	free(o);
	if (st != 0)
		scene_close(sc);
	ck_assert_msg(st == 0, "openssl s_client failed (%d)", st);
}

/* ---- JSON -------------------------------------------------------------- */


static json_t *jpath(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	return b ? json_object_get(v, b) : v;
}

/* The connection object whose server port is port, or NULL. */
static json_t *conn_to_port(json_t *lines, int port)
{
	size_t i;
	json_t *o;

	json_array_foreach(lines, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "type")), "connection") == 0 &&
		    json_integer_value(jpath(o, "server", "port")) == port)
			return o;
	}
	return NULL;
}

static void expected_fingerprint(char hex[65])
{
	char *o = td_test_sh(NULL, "openssl x509 -in '%s/keys/server.example.pem' -noout "
				   "-fingerprint -sha256",
			     samples());
	td_test_fingerprint_hex(o, hex, 65);
	free(o);
}

static const char *leaf_sha256(json_t *conn)
{
	json_t *leaf = json_array_get(json_object_get(conn, "certificates"), 0);
	const char *s = json_string_value(json_object_get(leaf, "sha256"));
	return s ? s : "(none)";
}

/* ---- live -------------------------------------------------------------- */

/* The certificate on the wire, captured live on lo, is the one the server
 * was given; the connection's line is out (flushed) while tlsdiag still
 * runs; --duration ends the run with status 0 and the live summary. */
START_TEST(test_live_certificate)
{
	struct scene sc;
	char filter[64], hex[65];

	expected_fingerprint(hex);
	scene_open(&sc);
	start_server(&sc);
	snprintf(filter, sizeof filter, "tcp port %d", sc.port);
	const char *args[] = {"-i", "lo", "--duration", "6", "--json", filter, NULL};
	if (!start_tlsdiag(&sc, args))
		return;
	sleep_ms(1000); /* as the brief's "give it a second" */
	connect_once(&sc);
	bool streamed = wait_for_text(at(&sc, 0, "live.out"), "\"type\":\"connection\"",
				      sc.tlsdiag, 3000);
	char *out, *err;
	int st = tlsdiag_done(&sc, 0, 15000, &out, &err);
	scene_close(&sc);

	ck_assert_msg(streamed, "the connection was not written while the capture ran");
	ck_assert_msg(st == 0, "tlsdiag -i lo --duration 6: status %d: %s", st, err);
	json_t *lines = td_test_json_lines(out);
	json_t *c = conn_to_port(lines, sc.port);
	ck_assert_msg(c != NULL, "no connection to port %d in: %s", sc.port, out);
	ck_assert_str_eq(leaf_sha256(c), hex);
	ck_assert(json_is_true(jpath(c, "tls", "handshake_completed")));
	json_t *sum = json_array_get(lines, json_array_size(lines) - 1);
	ck_assert_str_eq(json_string_value(json_object_get(sum, "type")), "summary");
	ck_assert(json_is_true(jpath(json_object_get(sum, "capture"), "live", NULL)));
	ck_assert_str_eq(json_string_value(jpath(json_object_get(sum, "capture"), "interface", NULL)),
			 "lo");
	ck_assert(json_is_integer(jpath(json_object_get(sum, "capture"), "dropped_kernel", NULL)));
	ck_assert(json_is_integer(jpath(json_object_get(sum, "capture"), "dropped_interface", NULL)));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(sum, "inputs"), 0)), "lo");
	json_decref(lines);
	free(out);
	free(err);
}
END_TEST

/* A handshake that stalls on a quiet interface is reported while the
 * capture runs: the server (a socket of this test that listens and never
 * answers) stays silent after the ClientHello, no other packet comes, and
 * the connection's line appears once --idle-timeout has passed, with the
 * end "idle", while s_client still waits and long before --duration. */
START_TEST(test_live_idle_flush)
{
	struct scene sc;
	struct sockaddr_in a;
	char filter[64], connect_to[64];
	int p[2];

	scene_open(&sc);
	sc.port = free_port();
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)sc.port);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	snprintf(filter, sizeof filter, "tcp port %d", sc.port);
	const char *args[] = {"-i", "lo", "--duration", "30", "--idle-timeout", "2", "--json",
			      filter, NULL};
	if (!start_tlsdiag(&sc, args)) {
		close(lfd);
		return;
	}
	sleep_ms(500);
	snprintf(connect_to, sizeof connect_to, "127.0.0.1:%d", sc.port);
	char *const argv[] = {"openssl", "s_client", "-connect", connect_to, "-servername",
			      "server.example", NULL};
	ck_assert_int_eq(pipe(p), 0);
	sc.client = spawn(argv, p[0], at(&sc, 2, "client.out"), at(&sc, 3, "client.err"));
	close(p[0]);
	sc.client_in = p[1];
	bool streamed = wait_for_text(at(&sc, 0, "live.out"), "\"type\":\"connection\"",
				      sc.tlsdiag, 10000);
	bool client_waiting = kill(sc.client, 0) == 0 && waitpid(sc.client, NULL, WNOHANG) == 0;
	bool tlsdiag_running = waitpid(sc.tlsdiag, NULL, WNOHANG) == 0;
	char *out = slurp(at(&sc, 0, "live.out"));
	char *err = slurp(at(&sc, 1, "live.err"));
	scene_close(&sc);
	close(lfd);

	ck_assert_msg(streamed, "the stalled connection was not reported while the capture "
				"ran: out %s err %s", out, err);
	ck_assert_msg(client_waiting, "s_client had stopped: the report may come from its FIN");
	ck_assert_msg(tlsdiag_running, "tlsdiag had stopped: %s", err);
	json_t *lines = td_test_json_lines(out);
	json_t *c = conn_to_port(lines, sc.port);
	ck_assert_msg(c != NULL, "no connection to port %d in: %s", sc.port, out);
	ck_assert_str_eq(json_string_value(json_object_get(c, "end")), "idle");
	ck_assert_str_eq(json_string_value(jpath(jpath(c, "tls", "client_hello"), "sni", NULL)),
			 "server.example");
	ck_assert(!json_is_true(jpath(c, "tls", "handshake_completed")));
	json_decref(lines);
	free(out);
	free(err);
}
END_TEST

/* The uid, gid and groups a running process has, from /proc. */
static void proc_ids(pid_t pid, char *uid, char *gid, char *groups, size_t n)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	uid[0] = gid[0] = groups[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "Uid:", 4) == 0)
			snprintf(uid, n, "%.100s", line + 4);
		else if (strncmp(line, "Gid:", 4) == 0)
			snprintf(gid, n, "%.100s", line + 4);
		else if (strncmp(line, "Groups:", 7) == 0)
			snprintf(groups, n, "%.100s", line + 7);
	}
	fclose(f);
}

/* "\t65534\t65534\t65534\t65534": real, effective, saved, filesystem. */
static bool all_ids(const char *ids, unsigned long want)
{
	int k = 0;
	char *end;

	for (const char *p = ids; *p; p = end, k++) {
		unsigned long v = strtoul(p, &end, 10);
		if (end == p)
			return false;
		if (v != want)
			return false;
	}
	return k == 4;
}

/* "\t65534 ": exactly one id, want. */
static bool only_id(const char *ids, unsigned long want)
{
	char *end;
	unsigned long v = strtoul(ids, &end, 10);

	return end != ids && v == want && end[strspn(end, " \t")] == '\0';
}

/* -Z nobody: the running tlsdiag has nobody's ids (all four) and only
 * nobody's group, as /proc says and as -v says. A connection still open
 * when SIGINT comes is finished and reported (end "open"), SIGUSR1 prints
 * a status line without stopping, the run ends with status 0 and a
 * summary, and the -w file reads back as the same connection. */
START_TEST(test_live_privdrop_signals_write)
{
	struct scene sc;
	char filter[64], hex[65], uid[128], gid[128], groups[128], want[128], wfile[512];
	struct passwd *pw = getpwnam("nobody");

	if (!pw) {
		printf("SKIPPED: no user nobody\n");
		return;
	}
	unsigned long nuid = pw->pw_uid, ngid = pw->pw_gid;
	expected_fingerprint(hex);
	scene_open(&sc);
	start_server(&sc);
	snprintf(filter, sizeof filter, "tcp port %d", sc.port);
	snprintf(wfile, sizeof wfile, "%s/live.pcap", sc.dir);
	const char *args[] = {"-i", "lo", "-Z", "nobody", "-v", "--json", "-w", wfile, filter, NULL};
	if (!start_tlsdiag(&sc, args))
		return;
	proc_ids(sc.tlsdiag, uid, gid, groups, sizeof uid);

	/* a client that stays connected: its input is a pipe kept open */
	int p[2];
	char connect[64];
	ck_assert_int_eq(pipe(p), 0);
	snprintf(connect, sizeof connect, "127.0.0.1:%d", sc.port);
	char *const cargv[] = {"openssl", "s_client", "-connect", connect, "-servername",
			       "server.example", NULL};
	sc.client = spawn(cargv, p[0], at(&sc, 2, "client.out"), at(&sc, 3, "client.err"));
	close(p[0]);
	sc.client_in = p[1];
	bool shook = wait_for_text(at(&sc, 2, "client.out"), "Verify return code", sc.client, 5000);
	sleep_ms(500); /* the last packets of the handshake reach tlsdiag */
	kill(sc.tlsdiag, SIGUSR1);
	bool status_line = wait_for_text(at(&sc, 1, "live.err"), "packets,", sc.tlsdiag, 3000);
	bool alive_after_usr1 = wait_exit(sc.tlsdiag, 300) == -1;
	char *out, *err;
	int st = tlsdiag_done(&sc, SIGINT, 10000, &out, &err);
	/* read the saved packets back (the scene's folder still exists) */
	char *back = NULL;
	int bst = td_test_run(&back, NULL, "%s -r '%s' --json", bin(), wfile);
	scene_close(&sc);

	ck_assert_msg(all_ids(uid, nuid), "uids of the running tlsdiag: '%s', want %lu", uid, nuid);
	ck_assert_msg(all_ids(gid, ngid), "gids of the running tlsdiag: '%s', want %lu", gid, ngid);
	ck_assert_msg(only_id(groups, ngid), "supplementary groups: '%s', want only %lu", groups,
		      ngid);
	snprintf(want, sizeof want, "dropped privileges to user nobody: running as uid %lu, gid %lu",
		 nuid, ngid);
	ck_assert_msg(strstr(err, want), "no '%s' in: %s", want, err);
	ck_assert_msg(shook, "s_client did not complete its handshake");
	ck_assert_msg(status_line, "no SIGUSR1 status line in: %s", err);
	ck_assert_msg(alive_after_usr1, "SIGUSR1 stopped tlsdiag");
	ck_assert_msg(st == 0, "SIGINT: status %d: %s", st, err);

	json_t *lines = td_test_json_lines(out);
	json_t *c = conn_to_port(lines, sc.port);
	ck_assert_msg(c != NULL, "the open connection was not reported at SIGINT: %s", out);
	ck_assert_str_eq(json_string_value(json_object_get(c, "end")), "open");
	ck_assert(json_is_true(jpath(c, "tls", "handshake_completed")));
	ck_assert_str_eq(leaf_sha256(c), hex);
	json_t *sum = json_array_get(lines, json_array_size(lines) - 1);
	ck_assert_str_eq(json_string_value(json_object_get(sum, "type")), "summary");
	ck_assert_int_eq(json_integer_value(jpath(sum, "connections", "tls")), 1);

	/* -w: the same connection, frame for frame */
	ck_assert_msg(bst == 0, "tlsdiag -r %s: status %d", wfile, bst);
	json_t *blines = td_test_json_lines(back);
	json_t *bc = conn_to_port(blines, sc.port);
	ck_assert_ptr_nonnull(bc);
	ck_assert_msg(json_equal(c, bc), "live and read back differ:\n%s\n%s", out, back);
	json_decref(blines);
	json_decref(lines);
	free(back);
	free(out);
	free(err);
}
END_TEST

/* Started as root without -Z, live capture drops to nobody, and -v says
 * so; without -v it says nothing about it. */
START_TEST(test_live_default_drop)
{
	struct scene sc;
	struct passwd *pw = getpwnam("nobody");

	if (!pw || geteuid() != 0) {
		printf(pw ? SKIP_LINE : "SKIPPED: no user nobody\n");
		return;
	}
	unsigned long nuid = pw->pw_uid;
	scene_open(&sc);
	const char *args[] = {"-i", "lo", "-v", "--duration", "0.5", "tcp port 9", NULL};
	if (!start_tlsdiag(&sc, args))
		return;
	char *out, *err;
	int st = tlsdiag_done(&sc, 0, 10000, &out, &err);
	scene_close(&sc);
	char want[128];
	snprintf(want, sizeof want, "dropped privileges to user nobody: running as uid %lu", nuid);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(strstr(err, want), "no '%s' in: %s", want, err);
	/* the text summary's capture line */
	ck_assert_msg(strstr(out, "\n  capture               live on lo, ") &&
			      strstr(out, " dropped by the kernel, ") &&
			      strstr(out, " by the interface\n"),
		      "no live capture line in: %s", out);
	free(out);
	free(err);
}
END_TEST

/* A burst the capture thread cannot keep up with goes into the kernel's
 * buffer, not lost: 20,000 UDP datagrams sent on lo as fast as this test
 * can (tens of milliseconds), each seen by tlsdiag. With immediate mode
 * (before b4985ce) the ring held 8 packets of the default snapshot length
 * on lo, which offloads segmentation, and most of the burst was dropped. */
START_TEST(test_live_burst_kept)
{
	enum { N = 20000 };
	struct scene sc;
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	char filter[64], payload[64];
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(rx, 0);
	ck_assert_int_ge(tx, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(rx, (struct sockaddr *)&a, sizeof a), 0); /* no ICMP back */
	ck_assert_int_eq(getsockname(rx, (struct sockaddr *)&a, &alen), 0);
	snprintf(filter, sizeof filter, "udp dst port %d", ntohs(a.sin_port));
	scene_open(&sc);
	const char *args[] = {"-i", "lo", "--json", filter, NULL};
	if (!start_tlsdiag(&sc, args)) {
		close(rx);
		close(tx);
		return;
	}
	memset(payload, 'x', sizeof payload);
	int sent = 0;
	for (int i = 0; i < N; i++)
		if (sendto(tx, payload, sizeof payload, 0, (struct sockaddr *)&a, sizeof a) ==
		    (ssize_t)sizeof payload)
			sent++;
	sleep_ms(1000); /* the last block is handed over after 100 ms */
	char *out, *err;
	int st = tlsdiag_done(&sc, SIGINT, 15000, &out, &err);
	scene_close(&sc);
	close(rx);
	close(tx);

	ck_assert_int_eq(sent, N);
	ck_assert_msg(st == 0, "tlsdiag -i lo: status %d: %s", st, err);
	json_t *lines = td_test_json_lines(out);
	json_t *sum = json_array_get(lines, json_array_size(lines) - 1);
	ck_assert_str_eq(json_string_value(json_object_get(sum, "type")), "summary");
	ck_assert_int_eq(json_integer_value(jpath(sum, "capture", "dropped_kernel")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "packets")), N);
	json_decref(lines);
	free(out);
	free(err);
}
END_TEST

/* A missing interface: one line naming it, status 3. */
START_TEST(test_live_no_such_interface)
{
	char *out;
	int st = td_test_run(&out, NULL, "%s -i td-no-such0 2>&1 >/dev/null", bin());

	ck_assert_int_eq(st, 3);
	ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "not one line: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "tlsdiag: td-no-such0: "));
	if (geteuid() == 0)
		ck_assert_msg(strstr(out, "no such interface"), "%s", out);
	free(out);
}
END_TEST

/* -D lists lo, tcpdump style ("3.lo [Up, Running, Loopback]"). */
START_TEST(test_list_interfaces)
{
	char *out;
	int st = td_test_run(&out, NULL, "%s -D", bin());
	bool found = false;

	ck_assert_int_eq(st, 0);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char *dot = strchr(line, '.');
		ck_assert_msg(dot && dot > line && strspn(line, "0123456789") == (size_t)(dot - line),
			      "not 'N.name': %s", line);
		if (strncmp(dot + 1, "lo ", 3) == 0 || strcmp(dot + 1, "lo") == 0)
			found = strstr(line, "Loopback") != NULL;
		if (found)
			break;
	}
	ck_assert_msg(found, "lo (Loopback) not listed");
	free(out);
}
END_TEST

/* ---- -w ---------------------------------------------------------------- */

/* -w with -r: the file is a pcap (mode 0644) that reads back as the same
 * connections. */
START_TEST(test_write_reads_back)
{
	char tmp[] = "/tmp/td-live-XXXXXX", path[256];
	char *a, *b, *o;
	struct stat sb;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	umask(022);
	snprintf(path, sizeof path, "%s/copy.pcap", tmp);
	int st = td_test_run(&a, NULL, "%s -r %s/tls12-rsa-key-mismatch.pcap -r %s/tls13-ok.pcapng "
				       "-w %s --json",
			     bin(), samples(), samples(), path);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(lstat(path, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 0777, 0644);
	st = td_test_run(&b, NULL, "%s -r %s --json", bin(), path);
	ck_assert_int_eq(st, 0);
	o = td_test_sh(NULL, "od -An -tx1 -N4 %s", path);
	ck_assert_ptr_nonnull(strstr(o, "d4 c3 b2 a1")); /* pcap, microseconds */
	free(o);
	json_t *ca = td_test_json_connections(a), *cb = td_test_json_connections(b);
	ck_assert_uint_eq(json_array_size(ca), 2);
	/* the suggested commands name the capture: the -w file in both */
	ck_assert_msg(json_equal(ca, cb), "-w copy reads back differently:\n%s\n%s", a, b);
	json_decref(ca);
	json_decref(cb);
	free(a);
	free(b);
	td_test_run(&o, NULL, "rm -rf '%s'", tmp);
	free(o);
}
END_TEST

/* -w never overwrites a file and never follows a symbolic link: one clear
 * line, status 2, the file (or the link's target) untouched. */
START_TEST(test_write_refuses)
{
	char tmp[] = "/tmp/td-live-XXXXXX", path[256], link[256], target[256];
	char *out, *o;
	size_t len;
	int st;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(path, sizeof path, "%s/exists.pcap", tmp);
	td_test_write_file(NULL, path, "keep me", 7);
	st = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap -w %s 2>&1 >/dev/null", bin(),
			 samples(), path);
	ck_assert_int_eq(st, 2);
	ck_assert_ptr_nonnull(strstr(out, path));
	ck_assert_ptr_nonnull(strstr(out, "file exists; tlsdiag does not overwrite it"));
	free(out);
	o = (char *)td_test_read_file(NULL, path, &len);
	ck_assert_str_eq(o, "keep me");
	free(o);

	/* a symbolic link to a file that does not exist yet, then to one that does */
	snprintf(link, sizeof link, "%s/link.pcap", tmp);
	snprintf(target, sizeof target, "%s/target.pcap", tmp);
	ck_assert_int_eq(symlink(target, link), 0);
	st = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap -w %s 2>&1 >/dev/null", bin(),
			 samples(), link);
	ck_assert_int_eq(st, 2);
	ck_assert_ptr_nonnull(strstr(out, "is a symbolic link"));
	free(out);
	ck_assert_int_eq(access(target, F_OK), -1);
	td_test_write_file(NULL, target, "target", 6);
	st = td_test_run(&out, NULL, "%s -r %s/tls12-ecdhe-ok.pcap -w %s 2>&1 >/dev/null", bin(),
			 samples(), link);
	ck_assert_int_eq(st, 2);
	ck_assert_ptr_nonnull(strstr(out, "is a symbolic link"));
	free(out);
	o = (char *)td_test_read_file(NULL, target, &len);
	ck_assert_str_eq(o, "target");
	free(o);
	td_test_run(&o, NULL, "rm -rf '%s'", tmp);
	free(o);
}
END_TEST

/* ---- several -r files: one capture in timestamp order ------------------ */

struct rec {
	uint32_t sec, usec;
	size_t off, len; /* the whole record (header and data) in the file */
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The records of a little-endian microsecond pcap (what the samples are). */
static size_t pcap_records(const uint8_t *b, size_t len, struct rec *r, size_t max)
{
	size_t n = 0, off = 24;

	ck_assert_uint_ge(len, 24);
	ck_assert_uint_eq(le32(b), 0xa1b2c3d4);
	while (off + 16 <= len && n < max) {
		uint32_t incl = le32(b + off + 8);
		ck_assert_uint_le(off + 16 + incl, len);
		r[n].sec = le32(b + off);
		r[n].usec = le32(b + off + 4);
		r[n].off = off;
		r[n].len = 16 + incl;
		off += 16 + incl;
		n++;
	}
	ck_assert_uint_eq(off, len);
	return n;
}

static int64_t usec_of(const struct rec *r)
{
	return (int64_t)r->sec * 1000000 + r->usec;
}

/* Frame numbers of the merged stream: file 0's packets and file 1's, in
 * timestamp order, ties to file 0 (the one named first). merged[f][i] is
 * the frame number of file f's packet i. */
static void merge_frames(const struct rec *r0, size_t n0, const struct rec *r1, size_t n1,
			 uint32_t *m0, uint32_t *m1)
{
	size_t i = 0, j = 0;
	uint32_t frame = 0;

	while (i < n0 || j < n1) {
		if (j == n1 || (i < n0 && usec_of(&r0[i]) <= usec_of(&r1[j])))
			m0[i++] = ++frame;
		else
			m1[j++] = ++frame;
	}
}

/* first_frame, last_frame and the first alert's frame of the one
 * connection of a single-file run. */
static void frames_alone(const char *path, long *first, long *last, long *alert)
{
	char *out = td_test_sh(NULL, "%s -r %s --json", bin(), path);
	json_t *c = td_test_json_connections(out);
	json_t *o = json_array_get(c, 0);

	ck_assert_uint_eq(json_array_size(c), 1);
	*first = (long)json_integer_value(json_object_get(o, "first_frame"));
	*last = (long)json_integer_value(json_object_get(o, "last_frame"));
	*alert = (long)json_integer_value(
		json_object_get(json_array_get(json_object_get(o, "alerts"), 0), "frame"));
	json_decref(c);
	free(out);
}

/* Two files read as one: tls12-unknown-ca shifted in time (its timestamps
 * rewritten here) so that it starts between the 3rd and 4th packets of
 * tls12-ecdhe-ok, named first on the command line. Frames must follow
 * the merged timestamp order, as computed here from the bytes. */
START_TEST(test_merge_by_time)
{
	char tmp[] = "/tmp/td-live-XXXXXX", a_path[512], b_path[256];
	struct rec ra[64], rb[64];
	uint32_t ma[64], mb[64];
	size_t alen, blen;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(a_path, sizeof a_path, "%s/tls12-ecdhe-ok.pcap", samples());
	uint8_t *a = td_test_read_file(NULL, a_path, &alen);
	char bsrc[512];
	snprintf(bsrc, sizeof bsrc, "%s/tls12-unknown-ca.pcap", samples());
	uint8_t *b = td_test_read_file(NULL, bsrc, &blen);
	size_t na = pcap_records(a, alen, ra, 64), nb = pcap_records(b, blen, rb, 64);
	ck_assert_uint_ge(na, 4);

	/* shift b: its first packet 1 us after a's third, the gaps kept */
	int64_t delta = usec_of(&ra[2]) + 1 - usec_of(&rb[0]);
	ck_assert_msg(usec_of(&ra[3]) - usec_of(&ra[2]) > 1, "sample packets too close");
	for (size_t i = 0; i < nb; i++) {
		int64_t t = usec_of(&rb[i]) + delta;
		rb[i].sec = (uint32_t)(t / 1000000);
		rb[i].usec = (uint32_t)(t % 1000000);
		put_le32(b + rb[i].off, rb[i].sec);
		put_le32(b + rb[i].off + 4, rb[i].usec);
	}
	snprintf(b_path, sizeof b_path, "%s/shifted.pcap", tmp);
	td_test_write_file(NULL, b_path, b, blen);
	/* file 0 on the command line is the shifted one */
	merge_frames(rb, nb, ra, na, mb, ma);
	ck_assert_uint_eq(mb[0], 4); /* the interleaving is real */

	long a_first, a_last, a_alert, b_first, b_last, b_alert;
	frames_alone(a_path, &a_first, &a_last, &a_alert);
	frames_alone(b_path, &b_first, &b_last, &b_alert);
	char *out = td_test_sh(NULL, "%s -r %s -r %s --json", bin(), b_path, a_path);
	json_t *lines = td_test_json_lines(out), *ca = NULL, *cb = NULL;
	size_t i;
	json_t *o;
	json_array_foreach(lines, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "type")), "connection") != 0)
			continue;
		/* the two samples' clients use different ports */
		if (json_integer_value(jpath(o, "client", "port")) == 40001)
			ca = o;
		else if (json_integer_value(jpath(o, "client", "port")) == 40003)
			cb = o;
	}
	ck_assert_msg(ca && cb, "both connections expected: %s", out);
	ck_assert_int_eq(json_integer_value(json_object_get(ca, "first_frame")), ma[a_first - 1]);
	ck_assert_int_eq(json_integer_value(json_object_get(ca, "last_frame")), ma[a_last - 1]);
	ck_assert_int_eq(json_integer_value(json_object_get(cb, "first_frame")), mb[b_first - 1]);
	ck_assert_int_eq(json_integer_value(json_object_get(cb, "last_frame")), mb[b_last - 1]);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(json_object_get(cb, "alerts"), 0), "frame")),
			 mb[b_alert - 1]);
	json_t *sum = json_array_get(lines, json_array_size(lines) - 1);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "packets")), (long)(na + nb));
	json_t *in = json_object_get(sum, "inputs");
	ck_assert_uint_eq(json_array_size(in), 2);
	ck_assert_str_eq(json_string_value(json_array_get(in, 0)), b_path);
	ck_assert_str_eq(json_string_value(json_array_get(in, 1)), a_path);
	ck_assert(json_is_false(jpath(json_object_get(sum, "capture"), "live", NULL)));
	json_decref(lines);
	free(out);

	/* -c counts packets delivered: the first 5 of the merged stream */
	out = td_test_sh(NULL, "%s -r %s -r %s -c 5 --json", bin(), b_path, a_path);
	lines = td_test_json_lines(out);
	sum = json_array_get(lines, json_array_size(lines) - 1);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "packets")), 5);
	json_decref(lines);
	free(out);

	free(a);
	free(b);
	td_test_run(&out, NULL, "rm -rf '%s'", tmp);
	free(out);
}
END_TEST

/* ---- td_privdrop_to(), in a child process of its own ------------------- */

/* Drops to nobody in a fresh child (never in the test runner itself) and
 * reports by exit status what held afterwards. */
START_TEST(test_privdrop_unit)
{
	char err[256];
	struct passwd *pw;

	ck_assert_int_eq(td_privdrop_to("td-no-such-user", err, sizeof err), TD_PRIVDROP_NO_USER);
	ck_assert_str_eq(err, "no such user 'td-no-such-user'");
	ck_assert(!td_privdrop_user_exists("td-no-such-user"));
	pw = getpwnam("nobody"); /* after: getpwnam() reuses one buffer */
	if (!pw || geteuid() != 0) {
		printf("SKIPPED: dropping privileges needs root and a user nobody\n");
		return;
	}
	uid_t nuid = pw->pw_uid;
	gid_t ngid = pw->pw_gid;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		gid_t groups[8];
		if (td_privdrop_to("nobody", err, sizeof err) != TD_PRIVDROP_OK)
			_exit(10);
		if (getuid() != nuid || geteuid() != nuid || getgid() != ngid || getegid() != ngid)
			_exit(11);
		if (setuid(0) != -1 || setgid(0) != -1)
			_exit(12);
		if (getgroups(8, groups) != 1 || groups[0] != ngid)
			_exit(13);
		/* a second drop, now unprivileged, fails and says where */
		if (td_privdrop_to("root", err, sizeof err) != TD_PRIVDROP_FAILED ||
		    strncmp(err, "setgroups", 9) != 0)
			_exit(14);
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child check %d failed",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
END_TEST

/* Options that do not go together, and bad values: usage, status 2. */
START_TEST(test_capture_usage)
{
	static const char *bad[] = {
		"-r x.pcap -i lo",       "-r x.pcap --duration 5", "-r x.pcap -s 100",
		"-r x.pcap -p",          "-i lo -c 0",             "-i lo --duration -1",
		"-i lo -s 999999",       "-i lo -B 0",             "-i lo -Z td-no-such-user",
		"-r x.pcap -w -",        "-c 10",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *out;
		int st = td_test_run(&out, NULL, "%s %s 2>&1", bin(), bad[i]);
		ck_assert_msg(st == 2, "tlsdiag %s: status %d: %s", bad[i], st, out);
		ck_assert_msg(strncmp(out, "tlsdiag: ", 9) == 0, "tlsdiag %s: %s", bad[i], out);
		free(out);
	}
}
END_TEST

Suite *td_live_suite(void)
{
	Suite *s = suite_create("live");
	TCase *live = tcase_create("live");
	TCase *files = tcase_create("files");

	/* the live runs take seconds each (--duration 6 for one) */
	tcase_set_timeout(live, 60);
	tcase_add_test(live, test_live_certificate);
	tcase_add_test(live, test_live_idle_flush);
	tcase_add_test(live, test_live_privdrop_signals_write);
	tcase_add_test(live, test_live_default_drop);
	tcase_add_test(live, test_live_burst_kept);
	tcase_add_test(live, test_live_no_such_interface);
	tcase_add_test(live, test_list_interfaces);
	tcase_add_test(live, test_privdrop_unit);
	tcase_set_timeout(files, 60);
	tcase_add_test(files, test_write_reads_back);
	tcase_add_test(files, test_write_refuses);
	tcase_add_test(files, test_merge_by_time);
	tcase_add_test(files, test_capture_usage);
	suite_add_tcase(s, files);
	suite_add_tcase(s, live);
	return s;
}
