/* fuzz_keylog.c - the NSS key log parser on arbitrary bytes.
 *
 * The input is a key log file (fuzz/corpus/keylog/ holds sample key logs
 * and one full of garbage). Invariants from td_keylog.h:
 *   - the counters add up: every line is at most one of secret, malformed,
 *     unknown label; secrets - duplicates == entries kept;
 *   - warnings are min(malformed, TD_KEYLOG_MAX_WARNINGS), in line order,
 *     each a non-empty printable text;
 *   - entries are in strictly increasing (client random, label) order,
 *     each with a length its label allows, and td_keylog_find and
 *     td_keylog_has return them;
 *   - the kept entries written back as a key log parse to the same
 *     entries, with nothing malformed or replaced;
 *   - the same bytes given in pieces (td_keylog_parse_pieces, as a file
 *     is read) give the same counters, warnings and entries.
 */
#include <string.h>

#include "fuzz.h"
#include "td_keylog.h"

static void hex(char *dst, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[b[i] >> 4];
		dst[2 * i + 1] = digits[b[i] & 15];
	}
}

static void check_counters(const struct td_keylog *kl)
{
	FUZZ_ASSERT((uint64_t)kl->secrets + kl->malformed + kl->unknown_labels <= kl->lines);
	FUZZ_ASSERT(kl->duplicates <= kl->secrets);
	FUZZ_ASSERT(kl->n_entries + kl->n_rsa + kl->duplicates == kl->secrets);
	size_t want = kl->malformed < TD_KEYLOG_MAX_WARNINGS ? kl->malformed
							    : TD_KEYLOG_MAX_WARNINGS;
	FUZZ_ASSERT(kl->n_warnings == want);
	for (size_t i = 0; i < kl->n_warnings; i++) {
		const struct td_keylog_warning *w = &kl->warnings[i];
		FUZZ_ASSERT(w->line >= 1 && w->line <= kl->lines);
		FUZZ_ASSERT(i == 0 || w->line > kl->warnings[i - 1].line);
		FUZZ_ASSERT(memchr(w->text, '\0', sizeof w->text) != NULL && w->text[0] != '\0');
		for (const char *c = w->text; *c; c++)
			FUZZ_ASSERT(*c >= 0x20 && *c < 0x7f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_keylog kl, again;
	uint8_t cr[32], prev[32], sec[TD_KEYLOG_MAX_SECRET], found[TD_KEYLOG_MAX_SECRET];
	enum td_keylog_label l, prev_l = TD_KL_COUNT;
	/* one line per entry: label (31) + 64 + 96 hex digits + 2 spaces + \n */
	enum { LINE_MAX_OUT = 31 + 1 + 64 + 1 + 96 + 1 };
	char *text = NULL;
	size_t tn = 0;

	if (td_keylog_parse(&kl, "fuzz", data, size) != TD_OK)
		return 0; /* out of memory, or above the file cap */
	check_counters(&kl);
	if (kl.n_entries)
		text = malloc(kl.n_entries * LINE_MAX_OUT);
	for (size_t i = 0; i < kl.n_entries; i++) {
		size_t n = td_keylog_entry_at(&kl, i, cr, &l, sec);
		FUZZ_ASSERT((unsigned)l < TD_KL_COUNT);
		FUZZ_ASSERT(l == TD_KL_CLIENT_RANDOM ? n == 48 : n == 32 || n == 48);
		if (i) {
			int c = memcmp(prev, cr, 32);
			FUZZ_ASSERT(c < 0 || (c == 0 && prev_l < l));
		}
		memcpy(prev, cr, 32);
		prev_l = l;
		FUZZ_ASSERT(td_keylog_find(&kl, cr, l, found) == n && memcmp(found, sec, n) == 0);
		FUZZ_ASSERT(td_keylog_has(&kl, cr));
		if (text) {
			const char *name = td_keylog_label_name(l);
			size_t ln = strlen(name);
			FUZZ_ASSERT(ln <= 31);
			memcpy(text + tn, name, ln);
			tn += ln;
			text[tn++] = ' ';
			hex(text + tn, cr, 32);
			tn += 64;
			text[tn++] = ' ';
			hex(text + tn, sec, n);
			tn += 2 * n;
			text[tn++] = '\n';
		}
	}
	FUZZ_ASSERT(td_keylog_entry_at(&kl, kl.n_entries, cr, &l, sec) == 0);

	/* round trip */
	if (text) {
		FUZZ_ASSERT(td_keylog_parse(&again, "again", (const uint8_t *)text, tn) == TD_OK);
		FUZZ_ASSERT(again.malformed == 0 && again.duplicates == 0 &&
			    again.unknown_labels == 0 && again.n_entries == kl.n_entries);
		for (size_t i = 0; i < kl.n_entries; i++) {
			size_t n = td_keylog_entry_at(&kl, i, cr, &l, sec);
			enum td_keylog_label l2 = 0;
			uint8_t cr2[32];
			FUZZ_ASSERT(td_keylog_entry_at(&again, i, cr2, &l2, found) == n);
			FUZZ_ASSERT(l2 == l && memcmp(cr2, cr, 32) == 0);
			FUZZ_ASSERT(memcmp(found, sec, n) == 0);
		}
		td_keylog_free(&again);
		free(text);
	}
	/* in pieces, as td_keylog_load reads a file: the same result, each
	 * piece size from the input's length (lines cut at every place) */
	struct td_keylog pc;
	size_t piece = size % 1100 + 1;
	FUZZ_ASSERT(td_keylog_parse_pieces(&pc, "fuzz", data, size, piece) == TD_OK);
	FUZZ_ASSERT(pc.lines == kl.lines && pc.secrets == kl.secrets &&
		    pc.duplicates == kl.duplicates && pc.malformed == kl.malformed &&
		    pc.unknown_labels == kl.unknown_labels && pc.n_entries == kl.n_entries &&
		    pc.n_rsa == kl.n_rsa && pc.n_warnings == kl.n_warnings);
	for (size_t i = 0; i < kl.n_warnings; i++)
		FUZZ_ASSERT(pc.warnings[i].line == kl.warnings[i].line &&
			    strcmp(pc.warnings[i].text, kl.warnings[i].text) == 0);
	for (size_t i = 0; i < kl.n_entries; i++) {
		size_t n = td_keylog_entry_at(&kl, i, cr, &l, sec);
		enum td_keylog_label l2 = 0;
		uint8_t cr2[32];
		FUZZ_ASSERT(td_keylog_entry_at(&pc, i, cr2, &l2, found) == n);
		FUZZ_ASSERT(l2 == l && memcmp(cr2, cr, 32) == 0 && memcmp(found, sec, n) == 0);
	}
	td_keylog_free(&pc);
	td_keylog_free(&kl);
	FUZZ_ASSERT(kl.entries == NULL && kl.path == NULL && kl.n_entries == 0);
	return 0;
}
