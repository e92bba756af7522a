/* check_reader.c - the bounds-checked reader: every read at every length. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "td_reader.h"

static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

START_TEST(test_integers_big_endian)
{
	struct td_reader r;
	uint8_t a;
	uint16_t b;
	uint32_t c, d;

	td_reader_init(&r, bytes, sizeof bytes);
	ck_assert_int_eq(td_read_u8(&r, &a), TD_OK);
	ck_assert_uint_eq(a, 0x01);
	ck_assert_int_eq(td_read_u16(&r, &b), TD_OK);
	ck_assert_uint_eq(b, 0x0203);
	ck_assert_int_eq(td_read_u24(&r, &c), TD_OK);
	ck_assert_uint_eq(c, 0x040506);
	ck_assert_int_eq(td_read_u32(&r, &d), TD_ERR_SHORT); /* 2 bytes left */
	ck_assert_uint_eq(r.off, 6);
	ck_assert_uint_eq(td_reader_left(&r), 2);
	td_reader_init(&r, bytes + 4, 4);
	ck_assert_int_eq(td_read_u32(&r, &d), TD_OK);
	ck_assert_uint_eq(d, 0x05060708);
	ck_assert_int_eq(td_reader_close(&r), TD_OK);
}
END_TEST

/* Every read of n bytes on a reader holding k < n bytes fails with
 * TD_ERR_SHORT and leaves the offset unchanged. */
START_TEST(test_short_reads_leave_reader_unchanged)
{
	for (size_t k = 0; k < 4; k++) {
		struct td_reader r;
		uint8_t a;
		uint16_t b;
		uint32_t c;
		uint8_t out[8];
		td_reader_init(&r, bytes, k);
		if (k < 1)
			ck_assert_int_eq(td_read_u8(&r, &a), TD_ERR_SHORT);
		if (k < 2)
			ck_assert_int_eq(td_read_u16(&r, &b), TD_ERR_SHORT);
		if (k < 3)
			ck_assert_int_eq(td_read_u24(&r, &c), TD_ERR_SHORT);
		ck_assert_int_eq(td_read_u32(&r, &c), TD_ERR_SHORT);
		ck_assert_int_eq(td_read_bytes(&r, out, k + 1), TD_ERR_SHORT);
		ck_assert_int_eq(td_read_skip(&r, k + 1), TD_ERR_SHORT);
		ck_assert_uint_eq(r.off, 0);
	}
}
END_TEST

/* A huge length must not wrap around the bounds check (n > len - off). */
START_TEST(test_no_overflow_on_huge_lengths)
{
	struct td_reader r, sub;
	const uint8_t *p;

	td_reader_init(&r, bytes, sizeof bytes);
	ck_assert_int_eq(td_read_skip(&r, 3), TD_OK);
	ck_assert_int_eq(td_read_skip(&r, SIZE_MAX), TD_ERR_SHORT);
	ck_assert_int_eq(td_read_ptr(&r, &p, SIZE_MAX - 2), TD_ERR_SHORT);
	ck_assert_int_eq(td_read_sub(&r, SIZE_MAX, &sub), TD_ERR_SHORT);
	ck_assert_uint_eq(r.off, 3);
}
END_TEST

START_TEST(test_vectors_are_subreaders)
{
	/* vec8 of 2 bytes, vec16 of 3 bytes, vec24 of 1 byte */
	static const uint8_t v[] = {0x02, 0xaa, 0xbb, 0x00, 0x03, 0x01, 0x02, 0x03,
				    0x00, 0x00, 0x01, 0xcc};
	struct td_reader r, s;
	uint8_t x;

	td_reader_init(&r, v, sizeof v);
	ck_assert_int_eq(td_read_vec8(&r, &s), TD_OK);
	ck_assert_uint_eq(td_reader_left(&s), 2);
	ck_assert_int_eq(td_read_u8(&s, &x), TD_OK);
	ck_assert_uint_eq(x, 0xaa);
	/* one byte left unread in the vector: an error of its own */
	ck_assert_int_eq(td_reader_close(&s), TD_ERR_TRAILING);
	ck_assert_int_eq(td_read_vec16(&r, &s), TD_OK);
	ck_assert_uint_eq(td_reader_left(&s), 3);
	ck_assert_int_eq(td_read_skip(&s, 3), TD_OK);
	ck_assert_int_eq(td_reader_close(&s), TD_OK);
	/* the sub-reader cannot read past its vector */
	ck_assert_int_eq(td_read_u8(&s, &x), TD_ERR_SHORT);
	ck_assert_int_eq(td_read_vec24(&r, &s), TD_OK);
	ck_assert_int_eq(td_read_u8(&s, &x), TD_OK);
	ck_assert_uint_eq(x, 0xcc);
	ck_assert_int_eq(td_reader_close(&r), TD_OK);
}
END_TEST

/* A vector whose body is cut: TD_ERR_SHORT at every cut, reader unchanged. */
START_TEST(test_vector_truncation_sweep)
{
	static const uint8_t v[] = {0x00, 0x04, 0x01, 0x02, 0x03, 0x04};
	for (size_t cut = 0; cut < sizeof v; cut++) {
		struct td_reader r, s;
		td_reader_init(&r, v, cut);
		ck_assert_int_eq(td_read_vec16(&r, &s), TD_ERR_SHORT);
		ck_assert_uint_eq(r.off, 0);
	}
}
END_TEST

START_TEST(test_peek_and_ptr)
{
	struct td_reader r;
	uint8_t x;
	const uint8_t *p;

	td_reader_init(&r, bytes, sizeof bytes);
	ck_assert_int_eq(td_peek_u8(&r, 7, &x), TD_OK);
	ck_assert_uint_eq(x, 0x08);
	ck_assert_int_eq(td_peek_u8(&r, 8, &x), TD_ERR_SHORT);
	ck_assert_int_eq(td_read_ptr(&r, &p, 5), TD_OK);
	ck_assert_ptr_eq(p, bytes);
	ck_assert_int_eq(td_peek_u8(&r, 0, &x), TD_OK);
	ck_assert_uint_eq(x, 0x06);
	td_reader_init(&r, NULL, 10); /* NULL data means empty */
	ck_assert_uint_eq(td_reader_left(&r), 0);
}
END_TEST

/* The text scans, against answers worked out by hand. */
START_TEST(test_text_scans)
{
	static const uint8_t text[] = "ab \t\tCD09x\n\0zz\n";
	struct td_reader r;
	size_t at = 99;
	uint8_t out[4] = {0};

	td_reader_init(&r, text, sizeof text - 1); /* 15 bytes, a NUL at 11 */
	ck_assert_int_eq(td_reader_find_u8(&r, '\n', &at), TD_OK);
	ck_assert_uint_eq(at, 10);
	ck_assert_int_eq(td_reader_find_u8(&r, 'q', &at), TD_ERR_SHORT);
	ck_assert_uint_eq(at, 10); /* unchanged */
	ck_assert_int_eq(td_reader_find_u8(&r, 0, &at), TD_OK);
	ck_assert_uint_eq(at, 11);
	ck_assert_uint_eq(td_reader_span(&r, " \t", false), 2); /* "ab" */
	ck_assert_uint_eq(td_reader_span(&r, "ba", true), 2);
	ck_assert_uint_eq(td_reader_span(&r, "x", true), 0);
	ck_assert_uint_eq(td_reader_span(&r, "\n", false), 10);
	ck_assert_uint_eq(td_reader_hex_span(&r), 2); /* "ab", then a blank */
	ck_assert_uint_eq(td_reader_left(&r), 15);    /* scans consume nothing */

	ck_assert_int_eq(td_read_skip(&r, 2), TD_OK);
	ck_assert_int_eq(td_reader_find_u8(&r, '\n', &at), TD_OK);
	ck_assert_uint_eq(at, 8); /* from the reader's offset */
	ck_assert_uint_eq(td_reader_span(&r, " \t", true), 3);
	ck_assert_int_eq(td_read_skip(&r, 3), TD_OK);
	ck_assert_uint_eq(td_reader_hex_span(&r), 4); /* "CD09", then 'x' */
	ck_assert_int_eq(td_read_hex(&r, out, 2), TD_OK);
	ck_assert_uint_eq(out[0], 0xCD);
	ck_assert_uint_eq(out[1], 0x09);
	ck_assert_uint_eq(td_reader_left(&r), 6); /* "x\n\0zz\n" */
	/* 'x' is no digit: malformed, nothing consumed */
	ck_assert_int_eq(td_read_hex(&r, out, 1), TD_ERR_MALFORMED);
	ck_assert_uint_eq(td_reader_left(&r), 6);
	ck_assert_int_eq(td_read_skip(&r, 2), TD_OK);
	/* a NUL is in no set and no digit */
	ck_assert_uint_eq(td_reader_span(&r, "z", false), 1);
	ck_assert_uint_eq(td_reader_span(&r, "z", true), 0);
	ck_assert_uint_eq(td_reader_hex_span(&r), 0);
	ck_assert_int_eq(td_read_skip(&r, 1), TD_OK);
	/* "zz\n": 3 bytes hold one digit pair at most */
	ck_assert_int_eq(td_read_hex(&r, out, 2), TD_ERR_SHORT);
	ck_assert_uint_eq(td_reader_left(&r), 3);
	ck_assert_int_eq(td_read_hex(&r, out, 0), TD_OK);
	ck_assert_uint_eq(td_reader_span(&r, "z", true), 2);
	ck_assert_uint_eq(td_reader_span(&r, "\n", false), 2);
	/* both cases, every digit */
	static const uint8_t all[] = "0123456789abcdefABCDEF";
	uint8_t v[11];
	td_reader_init(&r, all, sizeof all - 1);
	ck_assert_uint_eq(td_reader_hex_span(&r), 22);
	ck_assert_int_eq(td_read_hex(&r, v, 11), TD_OK);
	static const uint8_t want[11] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
					 0xcd, 0xef, 0xAB, 0xCD, 0xEF};
	ck_assert_mem_eq(v, want, 11);
	ck_assert_uint_eq(td_reader_left(&r), 0);
	/* an empty reader */
	td_reader_init(&r, NULL, 0);
	ck_assert_int_eq(td_reader_find_u8(&r, 'a', &at), TD_ERR_SHORT);
	ck_assert_uint_eq(td_reader_span(&r, "a", false), 0);
	ck_assert_uint_eq(td_reader_span(&r, "a", true), 0);
	ck_assert_uint_eq(td_reader_hex_span(&r), 0);
	ck_assert_int_eq(td_read_hex(&r, out, 1), TD_ERR_SHORT);
}
END_TEST

START_TEST(test_error_names)
{
	ck_assert_str_eq(td_err_name(TD_ERR_SHORT), "TD_ERR_SHORT");
	ck_assert_str_eq(td_err_name(TD_OK), "TD_OK");
	ck_assert_str_eq(td_err_name((enum td_err)999), "TD_ERR_UNKNOWN");
	ck_assert_ptr_nonnull(strstr(td_err_msg(TD_ERR_TRAILING), "left over"));
}
END_TEST

Suite *td_reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_integers_big_endian);
	tcase_add_test(tc, test_short_reads_leave_reader_unchanged);
	tcase_add_test(tc, test_no_overflow_on_huge_lengths);
	tcase_add_test(tc, test_vectors_are_subreaders);
	tcase_add_test(tc, test_vector_truncation_sweep);
	tcase_add_test(tc, test_peek_and_ptr);
	tcase_add_test(tc, test_text_scans);
	tcase_add_test(tc, test_error_names);
	suite_add_tcase(s, tc);
	return s;
}
