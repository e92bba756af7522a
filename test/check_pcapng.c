/* check_pcapng.c - Decryption Secrets Blocks read from pcapng files
 * (td_pcapng.h): found in both byte orders, damaged blocks named with
 * their offset, every cut of a file handled. The files are built here,
 * byte by byte, from the pcapng layout (draft-ietf-opsawg-pcapng §3, §4.1,
 * §4.7), not by the code under test. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_pcapng.h"
#include "td_test_util.h"

struct buf {
	uint8_t p[4096];
	size_t n;
	bool be;
};

static void u32(struct buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->p[b->n++] = (uint8_t)(b->be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void shb(struct buf *b)
{
	u32(b, 0x0A0D0D0A);
	u32(b, 28);
	u32(b, 0x1A2B3C4D);
	u32(b, 0x00000001); /* major 1, minor 0 */
	u32(b, 0xffffffff); /* section length unknown (64 bits) */
	u32(b, 0xffffffff);
	u32(b, 28);
}

static void dsb(struct buf *b, uint32_t type, const char *text)
{
	size_t n = strlen(text), pad = (4 - n % 4) % 4;
	uint32_t len = (uint32_t)(12 + 8 + n + pad);
	u32(b, 0x0000000A);
	u32(b, len);
	u32(b, type);
	u32(b, (uint32_t)n);
	memcpy(b->p + b->n, text, n);
	b->n += n;
	memset(b->p + b->n, 0, pad);
	b->n += pad;
	u32(b, len);
}

struct seen {
	char text[1024];
	unsigned calls;
};

static void collect(void *user, const uint8_t *p, size_t n)
{
	struct seen *s = user;
	size_t have = strlen(s->text);
	if (n < sizeof s->text - have) {
		memcpy(s->text + have, p, n);
		s->text[have + n] = '\0';
	}
	s->calls++;
}

static char *write_tmp(const struct buf *b)
{
	static char path[64];
	strcpy(path, "/tmp/td-pcapng-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b->p, b->n), (ssize_t)b->n);
	close(fd);
	return path;
}

static const char *const line1 = "CLIENT_RANDOM 00 11\n";
static const char *const line2 = "SERVER_HANDSHAKE_TRAFFIC_SECRET aa bb\n";

/* A section in byte order be holding one TLS secrets block (line1). */
static void begin(struct buf *b, bool be)
{
	b->n = 0;
	b->be = be;
	shb(b);
	dsb(b, TD_PCAPNG_SECRETS_TLS, line1);
}


START_TEST(test_dsb_both_orders)
{
	for (int be = 0; be < 2; be++) {
		struct buf b;
		struct seen s = {{0}, 0};
		unsigned blocks;
		char err[256];
		begin(&b, be);
		dsb(&b, 0x57474b4c, "wireguard keys, not ours"); /* "WGKL" */
		dsb(&b, TD_PCAPNG_SECRETS_TLS, line2);
		char *path = write_tmp(&b);
		ck_assert_int_eq(td_pcapng_secrets(path, collect, &s, &blocks, err, sizeof err), TD_OK);
		unlink(path);
		ck_assert_uint_eq(blocks, 2);
		ck_assert_uint_eq(s.calls, 2);
		char want[256];
		snprintf(want, sizeof want, "%s%s", line1, line2);
		ck_assert_str_eq(s.text, want);
	}
}
END_TEST

START_TEST(test_dsb_damaged)
{
	struct buf b = {.be = false};
	struct seen s = {{0}, 0};
	unsigned blocks;
	char err[256];

	shb(&b);
	dsb(&b, TD_PCAPNG_SECRETS_TLS, line1);
	size_t second = b.n;
	dsb(&b, TD_PCAPNG_SECRETS_TLS, line2);
	b.p[second + 4] = 13; /* block length not a multiple of 4 */
	char *path = write_tmp(&b);
	ck_assert_int_eq(td_pcapng_secrets(path, collect, &s, &blocks, err, sizeof err),
			 TD_ERR_MALFORMED);
	char want[128];
	snprintf(want, sizeof want, "damaged pcapng block at byte %zu", second);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_uint_eq(blocks, 1); /* the first one was handed over */
	unlink(path);

	/* secrets length beyond its block */
	b.n = 0;
	shb(&b);
	dsb(&b, TD_PCAPNG_SECRETS_TLS, line1);
	b.p[28 + 12] = 0xff;
	path = write_tmp(&b);
	ck_assert_int_eq(td_pcapng_secrets(path, collect, &s, &blocks, err, sizeof err),
			 TD_ERR_MALFORMED);
	unlink(path);
}
END_TEST

/* Every cut of a file with secrets: never a crash, never more blocks
 * than were whole; a classic pcap, stdin and a FIFO are not read. */
START_TEST(test_dsb_truncation_and_others)
{
	struct buf b = {.be = false};
	unsigned blocks;
	char err[256];

	shb(&b);
	dsb(&b, TD_PCAPNG_SECRETS_TLS, line1);
	dsb(&b, TD_PCAPNG_SECRETS_TLS, line2);
	size_t full = b.n;
	for (size_t cut = 0; cut <= full; cut++) {
		struct seen s = {{0}, 0};
		b.n = cut;
		char *path = write_tmp(&b);
		enum td_err e = td_pcapng_secrets(path, collect, &s, &blocks, err, sizeof err);
		unlink(path);
		ck_assert(e == TD_OK || e == TD_ERR_MALFORMED);
		ck_assert_uint_le(blocks, 2);
		ck_assert_uint_eq(blocks, s.calls);
	}
	struct seen s = {{0}, 0};
	ck_assert_int_eq(td_pcapng_secrets("samples/tls12-ecdhe-ok.pcap", collect, &s, &blocks, err,
					   sizeof err),
			 TD_OK);
	ck_assert_uint_eq(blocks, 0);
	ck_assert_int_eq(td_pcapng_secrets("-", collect, &s, &blocks, err, sizeof err), TD_OK);
	/* a FIFO is left alone: opening it would wait for a writer (the
	 * test's timeout), reading it would take the capture's bytes */
	char fifo[] = "/tmp/td-dsb-fifo-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(fifo));
	char fpath[64];
	snprintf(fpath, sizeof fpath, "%s/p", fifo);
	ck_assert_int_eq(mkfifo(fpath, 0600), 0);
	ck_assert_int_eq(td_pcapng_secrets(fpath, collect, &s, &blocks, err, sizeof err), TD_OK);
	ck_assert_uint_eq(blocks, 0);
	unlink(fpath);
	rmdir(fifo);
	ck_assert_int_eq(td_pcapng_secrets("/nonexistent.pcapng", collect, &s, &blocks, err,
					   sizeof err),
			 TD_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent.pcapng"));
}
END_TEST

/* A file far longer than any window the scan reads through: blocks of
 * many sizes (so that block headers fall across every kind of boundary),
 * one longer than 256 KiB, secrets blocks at the start and after 700 KB,
 * then a damaged block whose offset the test knows. */
static void put_block(FILE *f, bool be, uint32_t type, uint32_t len)
{
	struct buf b = {.be = be};
	u32(&b, type);
	u32(&b, len);
	ck_assert_int_eq(fwrite(b.p, 1, 8, f), 8);
	for (uint32_t i = 8; i < len - 4; i++)
		ck_assert_int_ne(fputc((int)(i * 7 % 251), f), EOF);
	b.n = 0;
	u32(&b, len);
	ck_assert_int_eq(fwrite(b.p, 1, 4, f), 4);
}

START_TEST(test_dsb_long_file)
{
	for (int be = 0; be < 2; be++) {
		struct buf b;
		struct seen s = {{0}, 0};
		unsigned blocks;
		char err[256], path[] = "/tmp/td-pcapng-long-XXXXXX";
		int fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		FILE *f = fdopen(fd, "wb");
		ck_assert_ptr_nonnull(f);

		begin(&b, be);
		ck_assert_int_eq(fwrite(b.p, 1, b.n, f), b.n);
		uint32_t seed = 12345;
		for (int i = 0; i < 1500; i++) {
			seed = seed * 1103515245u + 12345u;
			/* 12 to 1,208 bytes, a multiple of 4; a custom block,
			 * not read by the scan */
			put_block(f, be, 0x00000BAD, 12 + 4 * ((seed >> 16) % 300));
			if (i == 700)
				put_block(f, be, 0x00000BAD, 300000);
		}
		b.n = 0;
		dsb(&b, TD_PCAPNG_SECRETS_TLS, line2);
		ck_assert_int_eq(fwrite(b.p, 1, b.n, f), b.n);
		long damaged = ftell(f);
		ck_assert_int_gt(damaged, 700000);
		b.n = 0;
		u32(&b, 0x00000BAD);
		u32(&b, 30); /* not a multiple of 4 */
		u32(&b, 30);
		ck_assert_int_eq(fwrite(b.p, 1, b.n, f), b.n);
		ck_assert_int_eq(fclose(f), 0);

		ck_assert_int_eq(td_pcapng_secrets(path, collect, &s, &blocks, err, sizeof err),
				 TD_ERR_MALFORMED);
		unlink(path);
		ck_assert_uint_eq(blocks, 2);
		char want[256];
		snprintf(want, sizeof want, "%s%s", line1, line2);
		ck_assert_str_eq(s.text, want);
		snprintf(want, sizeof want, "damaged pcapng block at byte %ld", damaged);
		ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	}
}
END_TEST

/* The scan ends at the first packet block (enhanced, simple or the
 * obsolete kind): secrets after it, and damage after it, are not read. */
START_TEST(test_dsb_stops_at_first_packet)
{
	static const uint32_t packet_types[] = {6, 3, 2};
	for (int be = 0; be < 2; be++) {
		for (size_t k = 0; k < 3; k++) {
			struct buf b;
			struct seen s = {{0}, 0};
			unsigned blocks;
			char err[256];
			begin(&b, be);
			u32(&b, packet_types[k]);
			u32(&b, 16);
			u32(&b, 0);
			u32(&b, 16);
			dsb(&b, TD_PCAPNG_SECRETS_TLS, line2);
			u32(&b, 0x00000BAD);
			u32(&b, 30); /* damaged, not reached */
			char *path = write_tmp(&b);
			ck_assert_int_eq(
				td_pcapng_secrets(path, collect, &s, &blocks, err, sizeof err), TD_OK);
			unlink(path);
			ck_assert_uint_eq(blocks, 1);
			ck_assert_str_eq(s.text, line1);
		}
	}
}
END_TEST

Suite *td_pcapng_suite(void)
{
	Suite *s = suite_create("pcapng");
	TCase *tc = tcase_create("secrets");
	tcase_add_test(tc, test_dsb_both_orders);
	tcase_add_test(tc, test_dsb_damaged);
	tcase_add_test(tc, test_dsb_truncation_and_others);
	tcase_add_test(tc, test_dsb_long_file);
	tcase_add_test(tc, test_dsb_stops_at_first_packet);
	suite_add_tcase(s, tc);
	return s;
}
