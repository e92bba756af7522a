/* decompress.c - certificate compression (td_decompress.h): each stream
 * is handed to its own library with an output buffer of exactly the
 * announced length. */
#include "td_decompress.h"

#include <limits.h>

#include <brotli/decode.h>
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

const char *td_cert_compression_name(uint16_t alg)
{
	switch (alg) {
	case TD_CERT_COMPRESSION_ZLIB:
		return "zlib";
	case TD_CERT_COMPRESSION_BROTLI:
		return "brotli";
	case TD_CERT_COMPRESSION_ZSTD:
		return "zstd";
	default:
		return NULL;
	}
}

/* RFC 1950 (a zlib header and trailer around deflate). */
static enum td_err inflate_zlib(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	z_stream z = {0};
	enum td_err e = TD_ERR_MALFORMED;
	int rc;

	if (in_len > UINT_MAX || out_len > UINT_MAX)
		return TD_ERR_MALFORMED;
	if (inflateInit(&z) != Z_OK)
		return TD_ERR_NOMEM;
	z.next_in = in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)out_len;
	/* Z_FINISH: all the output fits or the stream is refused; a stream
	 * longer than out_len stops with Z_BUF_ERROR once out is full */
	rc = inflate(&z, Z_FINISH);
	if (rc == Z_STREAM_END && z.avail_out == 0 && z.avail_in == 0)
		e = TD_OK;
	else if (rc == Z_MEM_ERROR)
		e = TD_ERR_NOMEM;
	inflateEnd(&z);
	return e;
}

static enum td_err decode_brotli(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
	size_t avail_in = in_len, avail_out = out_len;
	const uint8_t *next_in = in;
	uint8_t *next_out = out;
	BrotliDecoderResult rc;

	if (!st)
		return TD_ERR_NOMEM;
	/* one call: it stops when the stream ends (SUCCESS), the input ends
	 * first (NEEDS_MORE_INPUT), out is full first (NEEDS_MORE_OUTPUT)
	 * or the stream is invalid (ERROR) */
	rc = BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, NULL);
	BrotliDecoderDestroyInstance(st);
	return rc == BROTLI_DECODER_RESULT_SUCCESS && avail_in == 0 && avail_out == 0
		       ? TD_OK
		       : TD_ERR_MALFORMED;
}

static enum td_err decode_zstd(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	size_t n;

	if (!dc)
		return TD_ERR_NOMEM;
	/* one-shot: every frame in turn, straight into out; more output
	 * than out_len is an error (dstSize_tooSmall), so are bytes that
	 * are not a frame after the last one */
	n = ZSTD_decompressDCtx(dc, out, out_len, in, in_len);
	ZSTD_freeDCtx(dc);
	return !ZSTD_isError(n) && n == out_len ? TD_OK : TD_ERR_MALFORMED;
}

enum td_err td_decompress(uint16_t alg, const uint8_t *in, size_t in_len, uint8_t *out,
			  size_t out_len)
{
	if (!td_cert_compression_name(alg))
		return TD_ERR_UNSUPPORTED;
	if (out_len == 0 || in_len == 0)
		return TD_ERR_MALFORMED;
	switch (alg) {
	case TD_CERT_COMPRESSION_ZLIB:
		return inflate_zlib(in, in_len, out, out_len);
	case TD_CERT_COMPRESSION_BROTLI:
		return decode_brotli(in, in_len, out, out_len);
	default:
		return decode_zstd(in, in_len, out, out_len);
	}
}
