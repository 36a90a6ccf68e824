/*
 * test_pdu.c — unit tests for LDAPMessage framing and the BER encoders.
 *
 * Encoders are checked by decoding their output with liblber's own
 * ber_scanf(), so a mistake in a length or a tag shows up as a decoding
 * failure or a wrong value rather than as a byte pattern we copied from
 * the implementation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <lber.h>

#include "pdu.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

struct decoder {
	struct evbuffer *eb;
	struct berval bv;
	BerElement *ber;
	size_t len;
};

/* Makes the evbuffer contiguous and points a BerElement at it. */
static void
dec_open(struct decoder *d, struct evbuffer *eb)
{
	d->eb = eb;
	d->len = evbuffer_get_length(eb);
	assert_true(d->len > 0);
	d->bv.bv_val = (char *)evbuffer_pullup(eb, -1);
	d->bv.bv_len = d->len;
	assert_non_null(d->bv.bv_val);
	d->ber = ber_alloc_t(LBER_USE_DER);
	assert_non_null(d->ber);
	ber_init2(d->ber, &d->bv, LBER_USE_DER);
}

static ber_len_t
dec_remaining(struct decoder *d)
{
	ber_len_t rem = 99999;
	assert_int_equal(ber_get_option(d->ber, LBER_OPT_REMAINING_BYTES, &rem), LBER_OPT_SUCCESS);
	return rem;
}

static void
dec_close(struct decoder *d)
{
	ber_free(d->ber, 0);
	evbuffer_free(d->eb);
}

/* pdu_frame() on an encoder's output must agree with the buffer length. */
static void
assert_frames_whole(struct decoder *d, int msgid, unsigned op_tag)
{
	struct pdu_head h;
	memset(&h, 0xa5, sizeof(h));
	assert_int_equal(pdu_frame((const unsigned char *)d->bv.bv_val, d->len, 1 << 24, &h), PDU_OK);
	assert_int_equal(h.total, d->len);
	assert_int_equal(h.msgid, msgid);
	assert_int_equal(h.op_tag, op_tag);
}

/* ------------------------------------------------------------------ */
/* pdu_frame: valid messages                                           */

static void
test_frame_short_form(void **state)
{
	(void)state;
	/* UnbindRequest, msgid 5 */
	const unsigned char m[] = { 0x30, 0x05, 0x02, 0x01, 0x05, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_OK);
	assert_int_equal(h.total, 7);
	assert_int_equal(h.prefix, 5);
	assert_int_equal(h.msgid, 5);
	assert_int_equal(h.op_tag, PDU_UNBIND_REQ);
}

static void
test_frame_long_form_1(void **state)
{
	(void)state;
	/* 0x81 length-of-length, body 0x85 = 133 bytes; only the head present */
	const unsigned char m[] = { 0x30, 0x81, 0x85, 0x02, 0x01, 0x07, 0x63, 0x80 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1 << 20, &h), PDU_OK);
	assert_int_equal(h.total, 3 + 0x85);
	assert_int_equal(h.prefix, 6);
	assert_int_equal(h.msgid, 7);
	assert_int_equal(h.op_tag, PDU_SEARCH_REQ);
}

static void
test_frame_long_form_2(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x82, 0x01, 0x00, 0x02, 0x02, 0x01, 0x00, 0x60 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1 << 20, &h), PDU_OK);
	assert_int_equal(h.total, 4 + 256);
	assert_int_equal(h.prefix, 8);
	assert_int_equal(h.msgid, 256);
	assert_int_equal(h.op_tag, PDU_BIND_REQ);
}

static void
test_frame_long_form_4(void **state)
{
	(void)state;
	/* a 4-byte length that happens to be small (non-minimal BER is legal) */
	const unsigned char m[] = { 0x30, 0x84, 0x00, 0x00, 0x00, 0x07, 0x02, 0x02, 0x7f, 0xff, 0x50, 0x01, 0x01 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_OK);
	assert_int_equal(h.total, 13);
	assert_int_equal(h.prefix, 10);
	assert_int_equal(h.msgid, 32767);
	assert_int_equal(h.op_tag, PDU_ABANDON_REQ);
}

static void
test_frame_long_form_4_large(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x84, 0x01, 0x02, 0x03, 0x04, 0x02, 0x01, 0x01, 0x68 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 0x7fffffff, &h), PDU_OK);
	assert_int_equal(h.total, 6 + 0x01020304);
	assert_int_equal(h.prefix, 9);
	assert_int_equal(h.op_tag, PDU_ADD_REQ);
}

static void
test_frame_msgid_sizes(void **state)
{
	(void)state;
	static const struct {
		unsigned char id[4];
		size_t n;
		int expect;
	} cases[] = {
		{ { 0x00 }, 1, 0 },
		{ { 0x7f }, 1, 127 },
		{ { 0x00, 0x80 }, 2, 128 },
		{ { 0x7f, 0xff }, 2, 32767 },
		{ { 0x00, 0x80, 0x00 }, 3, 32768 },
		{ { 0x12, 0x34, 0x56 }, 3, 0x123456 },
		{ { 0x00, 0x80, 0x00, 0x00 }, 4, 0x800000 },
		{ { 0x7f, 0xff, 0xff, 0xff }, 4, 0x7fffffff },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned char m[16];
		size_t k = 0;
		m[k++] = 0x30;
		m[k++] = (unsigned char)(2 + cases[c].n + 2);
		m[k++] = 0x02;
		m[k++] = (unsigned char)cases[c].n;
		memcpy(m + k, cases[c].id, cases[c].n);
		k += cases[c].n;
		m[k++] = 0x42;
		m[k++] = 0x00;
		struct pdu_head h;
		assert_int_equal(pdu_frame(m, k, 1024, &h), PDU_OK);
		assert_int_equal(h.msgid, cases[c].expect);
		assert_int_equal(h.prefix, 4 + cases[c].n);
		assert_int_equal(h.total, k);
		assert_int_equal(h.op_tag, 0x42);
	}
}

static void
test_frame_partial_body_ok(void **state)
{
	(void)state;
	/* only the head is buffered: still PDU_OK, the caller compares total */
	const unsigned char m[] = { 0x30, 0x0c, 0x02, 0x01, 0x03, 0x4a, 0x07, 'd', 'c' };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_OK);
	assert_int_equal(h.total, 14);
	assert_int_equal(h.op_tag, PDU_DEL_REQ);
}

/* Every proper prefix of a valid header that does not yet reach the
 * protocolOp tag must ask for more bytes. */
static void
check_truncations(const unsigned char *m, size_t head_len, size_t full_len)
{
	struct pdu_head h;
	for (size_t k = 0; k < head_len; k++)
		assert_int_equal(pdu_frame(m, k, 1 << 20, &h), PDU_NEED_MORE);
	for (size_t k = head_len; k <= full_len; k++)
		assert_int_equal(pdu_frame(m, k, 1 << 20, &h), PDU_OK);
}

static void
test_frame_need_more_short_form(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x05, 0x02, 0x01, 0x05, 0x42, 0x00 };
	check_truncations(m, 6, sizeof(m));
}

static void
test_frame_need_more_long_form(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x84, 0x00, 0x00, 0x00, 0x07, 0x02, 0x03, 0x01, 0x00, 0x00, 0x42, 0x00 };
	check_truncations(m, 12, sizeof(m));
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, 12, 1 << 20, &h), PDU_OK);
	assert_int_equal(h.msgid, 0x10000);
	assert_int_equal(h.prefix, 11);
	assert_int_equal(h.total, 13);
}

static void
test_frame_need_more_msgid4(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x81, 0x08, 0x02, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x42, 0x00 };
	check_truncations(m, 10, sizeof(m));
}

/* ------------------------------------------------------------------ */
/* pdu_frame: malformed envelopes                                      */

static void
test_frame_bad_outer_tag(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x31, 0x05, 0x02, 0x01, 0x05, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_bad_outer_tag_app(void **state)
{
	(void)state;
	/* a bare protocolOp without the LDAPMessage SEQUENCE */
	const unsigned char m[] = { 0x60, 0x05, 0x02, 0x01, 0x03, 0x04, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_indefinite_length(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x80, 0x02, 0x01, 0x05, 0x42, 0x00, 0x00, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_length_of_length_5(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x01, 0x05, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_length_of_length_127(void **state)
{
	(void)state;
	/* rejected from the first two bytes, before the length octets arrive */
	const unsigned char m[] = { 0x30, 0xff };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_negative_msgid(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x05, 0x02, 0x01, 0xff, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_negative_msgid4(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x08, 0x02, 0x04, 0x80, 0x00, 0x00, 0x01, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_msgid_not_integer(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x05, 0x04, 0x01, 0x05, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_msgid_enumerated(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x05, 0x0a, 0x01, 0x05, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_msgid_len0(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x04, 0x02, 0x00, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_msgid_len5(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x09, 0x02, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_msgid_longer_than_message(void **state)
{
	(void)state;
	/* messageID claims 4 bytes but the message is only 3 long */
	const unsigned char m[] = { 0x30, 0x03, 0x02, 0x04, 0x00, 0x00, 0x00, 0x01, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_no_protocol_op(void **state)
{
	(void)state;
	/* the messageID fills the message */
	const unsigned char m[] = { 0x30, 0x03, 0x02, 0x01, 0x05, 0x42, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_empty_sequence(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x00 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1024, &h), PDU_BAD);
}

static void
test_frame_too_big(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x82, 0x10, 0x00, 0x02, 0x01, 0x01, 0x63 };
	struct pdu_head h;
	/* total is 4 + 4096 = 4100 */
	assert_int_equal(pdu_frame(m, sizeof(m), 4100, &h), PDU_OK);
	assert_int_equal(h.total, 4100);
	assert_int_equal(pdu_frame(m, sizeof(m), 4099, &h), PDU_TOO_BIG);
	assert_int_equal(pdu_frame(m, sizeof(m), 4096, &h), PDU_TOO_BIG);
	assert_int_equal(pdu_frame(m, sizeof(m), 100, &h), PDU_TOO_BIG);
}

static void
test_frame_too_big_before_body(void **state)
{
	(void)state;
	/* decided from the length octets alone: the rest has not arrived */
	const unsigned char m[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 1 << 20, &h), PDU_TOO_BIG);
}

static void
test_frame_too_big_short_form(void **state)
{
	(void)state;
	const unsigned char m[] = { 0x30, 0x7f, 0x02, 0x01, 0x01, 0x63 };
	struct pdu_head h;
	assert_int_equal(pdu_frame(m, sizeof(m), 129, &h), PDU_OK);
	assert_int_equal(pdu_frame(m, sizeof(m), 128, &h), PDU_TOO_BIG);
}

/* ------------------------------------------------------------------ */
/* pdu_envelope                                                        */

static void
test_envelope_roundtrip(void **state)
{
	(void)state;
	static const int ids[] = { 0, 1, 127, 128, 255, 256, 32767, 32768, 65535, 65536, 0x7fffff,
		0x800000, 0x7fffffff };
	static const size_t rests[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 70000, 0xffffff, 0x1000000 };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (size_t r = 0; r < sizeof(rests) / sizeof(rests[0]); r++) {
			unsigned char out[PDU_HEAD_MAX + 1];
			memset(out, 0xee, sizeof(out));
			size_t n = pdu_envelope(out, ids[i], rests[r]);
			assert_true(n <= PDU_HEAD_MAX);
			assert_int_equal(out[PDU_HEAD_MAX], 0xee);
			/* append a fake protocolOp tag so pdu_frame has one to report
			 * (for rest 0 it is the first byte of the next message) */
			out[n] = 0x63;
			struct pdu_head h;
			int rc = pdu_frame(out, n + 1, (size_t)1 << 30, &h);
			size_t idlen = 2 + enc_int_size(ids[i]);
			if (rests[r] == 0 || idlen + rests[r] < 5) {
				/* no protocolOp, or shorter than the smallest message */
				assert_int_equal(rc, PDU_BAD);
				continue;
			}
			assert_int_equal(rc, PDU_OK);
			assert_int_equal(h.msgid, ids[i]);
			assert_int_equal(h.prefix, n);
			assert_int_equal(h.total, n + rests[r]);
			assert_int_equal(h.op_tag, 0x63);
		}
}

static void
test_envelope_minimal_bytes(void **state)
{
	(void)state;
	unsigned char out[PDU_HEAD_MAX];
	/* DER: shortest length and shortest INTEGER */
	assert_int_equal(pdu_envelope(out, 1, 0), 5);
	const unsigned char e1[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	assert_memory_equal(out, e1, sizeof(e1));

	assert_int_equal(pdu_envelope(out, 128, 127), 7);
	const unsigned char e2[] = { 0x30, 0x81, 0x83, 0x02, 0x02, 0x00, 0x80 };
	assert_memory_equal(out, e2, sizeof(e2));

	assert_int_equal(pdu_envelope(out, 65535, 70000), 10);
	const unsigned char e3[] = { 0x30, 0x83, 0x01, 0x11, 0x75, 0x02, 0x03, 0x00, 0xff, 0xff };
	assert_memory_equal(out, e3, sizeof(e3));

	assert_int_equal(pdu_envelope(out, 0x7fffffff, 128), 9);
	const unsigned char e4[] = { 0x30, 0x81, 0x86, 0x02, 0x04, 0x7f, 0xff, 0xff, 0xff };
	assert_memory_equal(out, e4, sizeof(e4));
}

/* ------------------------------------------------------------------ */
/* BER primitives                                                      */

static void
test_enc_int_size_boundaries(void **state)
{
	(void)state;
	assert_int_equal(enc_int_size(0), 1);
	assert_int_equal(enc_int_size(1), 1);
	assert_int_equal(enc_int_size(127), 1);
	assert_int_equal(enc_int_size(128), 2);
	assert_int_equal(enc_int_size(255), 2);
	assert_int_equal(enc_int_size(256), 2);
	assert_int_equal(enc_int_size(32767), 2);
	assert_int_equal(enc_int_size(32768), 3);
	assert_int_equal(enc_int_size(8388607), 3);
	assert_int_equal(enc_int_size(8388608), 4);
	assert_int_equal(enc_int_size(2147483647L), 4);
	assert_int_equal(enc_int_size(2147483648L), 5);
	assert_int_equal(enc_int_size(LONG_MAX), sizeof(long));
}

static void
test_enc_int_size_negative(void **state)
{
	(void)state;
	assert_int_equal(enc_int_size(-1), 1);
	assert_int_equal(enc_int_size(-128), 1);
	assert_int_equal(enc_int_size(-129), 2);
	assert_int_equal(enc_int_size(-32768), 2);
	assert_int_equal(enc_int_size(-32769), 3);
	assert_int_equal(enc_int_size(-2147483648L), 4);
	assert_int_equal(enc_int_size(-2147483649L), 5);
	assert_int_equal(enc_int_size(LONG_MIN), sizeof(long));
}

/* Decodes the INTEGER that enc_put_int wrote with liblber. */
static long
decode_int(const unsigned char *p, size_t n)
{
	struct berval bv = { n, (char *)p };
	BerElement *ber = ber_init(&bv);
	assert_non_null(ber);
	ber_int_t v = 0;
	assert_int_not_equal(ber_scanf(ber, "i", &v), LBER_ERROR);
	ber_len_t rem = 1;
	ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &rem);
	assert_int_equal(rem, 0);
	ber_free(ber, 1);
	return v;
}

static void
test_enc_put_int_roundtrip(void **state)
{
	(void)state;
	static const long vals[] = { 0, 1, 127, 128, 255, 256, 32767, 32768, 65535, 65536, 8388607,
		8388608, 2147483647L, -1, -127, -128, -129, -255, -256, -32768, -32769, -2147483647L - 1 };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		unsigned char buf[16];
		memset(buf, 0xee, sizeof(buf));
		unsigned char *end = enc_put_int(buf, 0x02, vals[i]);
		assert_int_equal((size_t)(end - buf), 2 + enc_int_size(vals[i]));
		assert_int_equal(buf[0], 0x02);
		assert_int_equal(buf[1], enc_int_size(vals[i]));
		assert_int_equal(*end, 0xee);
		assert_int_equal(decode_int(buf, (size_t)(end - buf)), vals[i]);
	}
}

static void
test_enc_put_int_bytes(void **state)
{
	(void)state;
	unsigned char buf[16];
	enc_put_int(buf, 0x0a, 128);
	const unsigned char e1[] = { 0x0a, 0x02, 0x00, 0x80 };
	assert_memory_equal(buf, e1, sizeof(e1));
	enc_put_int(buf, 0x02, -129);
	const unsigned char e2[] = { 0x02, 0x02, 0xff, 0x7f };
	assert_memory_equal(buf, e2, sizeof(e2));
	enc_put_int(buf, 0x02, 4096);
	const unsigned char e3[] = { 0x02, 0x02, 0x10, 0x00 };
	assert_memory_equal(buf, e3, sizeof(e3));
}

static void
test_enc_len(void **state)
{
	(void)state;
	static const struct {
		size_t len;
		size_t n;
		unsigned char b[5];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 127, 1, { 0x7f } },
		{ 128, 2, { 0x81, 0x80 } },
		{ 255, 2, { 0x81, 0xff } },
		{ 256, 3, { 0x82, 0x01, 0x00 } },
		{ 65535, 3, { 0x82, 0xff, 0xff } },
		{ 65536, 4, { 0x83, 0x01, 0x00, 0x00 } },
		{ 70000, 4, { 0x83, 0x01, 0x11, 0x70 } },
		{ 0xffffff, 4, { 0x83, 0xff, 0xff, 0xff } },
		{ 0x1000000, 5, { 0x84, 0x01, 0x00, 0x00, 0x00 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char buf[8];
		assert_int_equal(enc_len_size(cases[i].len), cases[i].n);
		assert_int_equal(enc_tlv_size(cases[i].len), 1 + cases[i].n + cases[i].len);
		unsigned char *end = enc_put_len(buf, cases[i].len);
		assert_int_equal((size_t)(end - buf), cases[i].n);
		assert_memory_equal(buf, cases[i].b, cases[i].n);
	}
}

/* ------------------------------------------------------------------ */
/* encoders decoded by liblber                                         */

static void
check_result(int msgid, unsigned tag, int code, const char *matched, const char *diag)
{
	struct evbuffer *eb = evbuffer_new();
	assert_non_null(eb);
	assert_int_equal(pdu_result(eb, msgid, tag, code, matched, diag), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, msgid, tag);

	ber_int_t id = -1, rc = -1;
	ber_len_t len;
	char *m = NULL, *g = NULL;
	assert_int_not_equal(ber_scanf(d.ber, "{i", &id), LBER_ERROR);
	assert_int_equal(id, msgid);
	assert_int_equal(ber_peek_tag(d.ber, &len), tag);
	assert_int_not_equal(ber_scanf(d.ber, "{eaa}}", &rc, &m, &g), LBER_ERROR);
	assert_int_equal(rc, code);
	assert_string_equal(m, matched ? matched : "");
	assert_string_equal(g, diag ? diag : "");
	assert_int_equal(dec_remaining(&d), 0);
	ber_memfree(m);
	ber_memfree(g);
	dec_close(&d);
}

static void
test_result_bind(void **state)
{
	(void)state;
	check_result(1, PDU_BIND_RES, 0, "", "");
	check_result(2, PDU_BIND_RES, 49, "", "invalid credentials");
}

static void
test_result_search_done(void **state)
{
	(void)state;
	check_result(128, PDU_SEARCH_DONE, 32, "dc=example,dc=com", "no such object");
	check_result(0x7fffffff, PDU_SEARCH_DONE, 0, NULL, NULL);
}

static void
test_result_code_above_127(void **state)
{
	(void)state;
	check_result(3, PDU_SEARCH_DONE, 128, "", "x");
	check_result(3, PDU_SEARCH_DONE, 255, "", "x");
	check_result(3, PDU_EXT_RES, 4096, "", "sync refresh required");
	check_result(3, PDU_SEARCH_DONE, 0x10000, "", "");
}

static void
test_result_long_strings(void **state)
{
	(void)state;
	/* long enough to need a 2-byte length inside and outside */
	char diag[300];
	memset(diag, 'd', sizeof(diag) - 1);
	diag[sizeof(diag) - 1] = '\0';
	char matched[200];
	memset(matched, 'm', sizeof(matched) - 1);
	matched[sizeof(matched) - 1] = '\0';
	check_result(70000, PDU_COMPARE_RES, 6, matched, diag);
}

static void
check_ext(int msgid, int code, const char *diag, const char *oid, const void *value, size_t vlen)
{
	struct evbuffer *eb = evbuffer_new();
	assert_non_null(eb);
	assert_int_equal(pdu_ext_result(eb, msgid, code, diag, oid, value, vlen), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, msgid, PDU_EXT_RES);

	ber_int_t id = -1, rc = -1;
	ber_len_t len;
	char *m = NULL, *g = NULL;
	assert_int_not_equal(ber_scanf(d.ber, "{i", &id), LBER_ERROR);
	assert_int_equal(id, msgid);
	assert_int_equal(ber_peek_tag(d.ber, &len), PDU_EXT_RES);
	assert_int_not_equal(ber_scanf(d.ber, "{eaa", &rc, &m, &g), LBER_ERROR);
	assert_int_equal(rc, code);
	assert_string_equal(m, "");
	assert_string_equal(g, diag ? diag : "");
	ber_memfree(m);
	ber_memfree(g);
	if (oid != NULL) {
		char *o = NULL;
		assert_int_equal(ber_peek_tag(d.ber, &len), 0x8a);
		assert_int_not_equal(ber_scanf(d.ber, "a", &o), LBER_ERROR);
		assert_string_equal(o, oid);
		ber_memfree(o);
	}
	if (value != NULL) {
		struct berval v = { 0, NULL };
		assert_int_equal(ber_peek_tag(d.ber, &len), 0x8b);
		assert_int_not_equal(ber_scanf(d.ber, "o", &v), LBER_ERROR);
		assert_int_equal(v.bv_len, vlen);
		if (vlen)
			assert_memory_equal(v.bv_val, value, vlen);
		ber_memfree(v.bv_val);
	}
	assert_int_equal(dec_remaining(&d), 0);
	dec_close(&d);
}

static void
test_ext_result_plain(void **state)
{
	(void)state;
	check_ext(9, 2, "unsupported extended operation", NULL, NULL, 0);
}

static void
test_ext_result_oid_value(void **state)
{
	(void)state;
	check_ext(10, 0, "", OID_WHOAMI, "dn:uid=alice,dc=example,dc=com", 30);
}

static void
test_ext_result_binary_value(void **state)
{
	(void)state;
	unsigned char v[200];
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (unsigned char)i;    /* NULs and high bytes */
	check_ext(300, 0, NULL, OID_PASSWD_MODIFY, v, sizeof(v));
}

static void
test_ext_result_empty_value(void **state)
{
	(void)state;
	check_ext(11, 0, "", NULL, "", 0);
}

static void
test_ext_result_value_too_big(void **state)
{
	(void)state;
	struct evbuffer *eb = evbuffer_new();
	static char big[4096];
	assert_int_equal(pdu_ext_result(eb, 1, 0, "", OID_WHOAMI, big, sizeof(big)), -1);
	evbuffer_free(eb);
}

static void
test_notice_of_disconnection(void **state)
{
	(void)state;
	check_ext(0, 2, "malformed LDAPMessage", OID_NOTICE_OF_DISCONNECTION, NULL, 0);
	/* and the wrapper itself */
	struct evbuffer *eb = evbuffer_new();
	assert_int_equal(pdu_notice_of_disconnection(eb, 52, "shutting down"), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, 0, PDU_EXT_RES);
	ber_int_t id = -1, rc = -1;
	char *m = NULL, *g = NULL, *o = NULL;
	ber_len_t len;
	assert_int_not_equal(ber_scanf(d.ber, "{i{eaa", &id, &rc, &m, &g), LBER_ERROR);
	assert_int_equal(id, 0);
	assert_int_equal(rc, 52);
	assert_string_equal(g, "shutting down");
	assert_int_equal(ber_peek_tag(d.ber, &len), 0x8a);
	assert_int_not_equal(ber_scanf(d.ber, "a", &o), LBER_ERROR);
	assert_string_equal(o, OID_NOTICE_OF_DISCONNECTION);
	/* no responseValue */
	assert_int_equal(dec_remaining(&d), 0);
	ber_memfree(m);
	ber_memfree(g);
	ber_memfree(o);
	dec_close(&d);
}

static void
check_abandon(int msgid, int target)
{
	struct evbuffer *eb = evbuffer_new();
	assert_int_equal(pdu_abandon(eb, msgid, target), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, msgid, PDU_ABANDON_REQ);
	ber_int_t id = -1, t = -1;
	ber_len_t len;
	assert_int_not_equal(ber_scanf(d.ber, "{i", &id), LBER_ERROR);
	assert_int_equal(id, msgid);
	assert_int_equal(ber_peek_tag(d.ber, &len), PDU_ABANDON_REQ);
	assert_int_not_equal(ber_scanf(d.ber, "i}", &t), LBER_ERROR);
	assert_int_equal(t, target);
	assert_int_equal(dec_remaining(&d), 0);
	dec_close(&d);
}

static void
test_abandon(void **state)
{
	(void)state;
	check_abandon(2, 1);
	check_abandon(1000, 128);
	check_abandon(0x7fffffff, 0x7fffffff);
	check_abandon(128, 0);
}

static void
test_unbind(void **state)
{
	(void)state;
	struct evbuffer *eb = evbuffer_new();
	assert_int_equal(pdu_unbind(eb, 77), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, 77, PDU_UNBIND_REQ);
	ber_int_t id = -1;
	ber_len_t len;
	assert_int_not_equal(ber_scanf(d.ber, "{i", &id), LBER_ERROR);
	assert_int_equal(id, 77);
	assert_int_equal(ber_peek_tag(d.ber, &len), PDU_UNBIND_REQ);
	assert_int_not_equal(ber_scanf(d.ber, "n}"), LBER_ERROR);
	assert_int_equal(dec_remaining(&d), 0);
	dec_close(&d);
}

static void
check_simple_bind(int msgid, const char *dn, const char *pw, size_t pwlen)
{
	struct evbuffer *eb = evbuffer_new();
	assert_int_equal(pdu_simple_bind(eb, msgid, dn, pw, pwlen), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, msgid, PDU_BIND_REQ);
	ber_int_t id = -1, ver = -1;
	ber_len_t len;
	char *gotdn = NULL;
	struct berval cred = { 0, NULL };
	assert_int_not_equal(ber_scanf(d.ber, "{i", &id), LBER_ERROR);
	assert_int_equal(id, msgid);
	assert_int_equal(ber_peek_tag(d.ber, &len), PDU_BIND_REQ);
	assert_int_not_equal(ber_scanf(d.ber, "{ia", &ver, &gotdn), LBER_ERROR);
	assert_int_equal(ver, 3);
	assert_string_equal(gotdn, dn);
	assert_int_equal(ber_peek_tag(d.ber, &len), 0x80);
	assert_int_not_equal(ber_scanf(d.ber, "o}}", &cred), LBER_ERROR);
	assert_int_equal(cred.bv_len, pwlen);
	if (pwlen)
		assert_memory_equal(cred.bv_val, pw, pwlen);
	assert_int_equal(dec_remaining(&d), 0);
	ber_memfree(gotdn);
	ber_memfree(cred.bv_val);
	dec_close(&d);
}

static void
test_simple_bind(void **state)
{
	(void)state;
	check_simple_bind(1, "uid=aldproxy,cn=sysaccounts,cn=etc,dc=ald,dc=test", "s3cret", 6);
	check_simple_bind(200, "", "", 0);
	/* password with a NUL inside: length-delimited, not a C string */
	check_simple_bind(5, "cn=x", "ab\0cd", 5);
	char dn[600], pw[300];
	memset(dn, 'a', sizeof(dn) - 1);
	dn[sizeof(dn) - 1] = '\0';
	memset(pw, 'p', sizeof(pw));
	check_simple_bind(65535, dn, pw, sizeof(pw));
}

static void
test_simple_bind_too_long(void **state)
{
	(void)state;
	struct evbuffer *eb = evbuffer_new();
	char dn[1500], pw[500];
	memset(dn, 'a', sizeof(dn) - 1);
	dn[sizeof(dn) - 1] = '\0';
	memset(pw, 'p', sizeof(pw));
	assert_int_equal(pdu_simple_bind(eb, 1, dn, pw, sizeof(pw)), -1);
	assert_int_equal(evbuffer_get_length(eb), 0);
	evbuffer_free(eb);
}

static void
test_starttls(void **state)
{
	(void)state;
	struct evbuffer *eb = evbuffer_new();
	assert_int_equal(pdu_starttls(eb, 1), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, 1, PDU_EXT_REQ);
	ber_int_t id = -1;
	ber_len_t len;
	char *oid = NULL;
	assert_int_not_equal(ber_scanf(d.ber, "{i", &id), LBER_ERROR);
	assert_int_equal(ber_peek_tag(d.ber, &len), PDU_EXT_REQ);
	assert_int_not_equal(ber_scanf(d.ber, "{"), LBER_ERROR);
	assert_int_equal(ber_peek_tag(d.ber, &len), 0x80);
	assert_int_not_equal(ber_scanf(d.ber, "a}}", &oid), LBER_ERROR);
	assert_string_equal(oid, OID_STARTTLS);
	assert_int_equal(dec_remaining(&d), 0);
	ber_memfree(oid);
	dec_close(&d);
}

/* Decodes a SearchResultEntry and compares it with the attribute list. */
static void
check_entry(int msgid, const char *dn, const struct pdu_attr *attrs, size_t nattrs)
{
	struct evbuffer *eb = evbuffer_new();
	assert_int_equal(pdu_entry(eb, msgid, dn, attrs, nattrs), 0);
	struct decoder d;
	dec_open(&d, eb);
	assert_frames_whole(&d, msgid, PDU_SEARCH_ENTRY);
	ber_int_t id = -1;
	ber_len_t len;
	char *gotdn = NULL, *last;
	assert_int_not_equal(ber_scanf(d.ber, "{i", &id), LBER_ERROR);
	assert_int_equal(id, msgid);
	assert_int_equal(ber_peek_tag(d.ber, &len), PDU_SEARCH_ENTRY);
	assert_int_not_equal(ber_scanf(d.ber, "{a", &gotdn), LBER_ERROR);
	assert_string_equal(gotdn, dn);
	ber_memfree(gotdn);
	assert_int_equal(ber_peek_tag(d.ber, &len), LBER_SEQUENCE);
	size_t i = 0;
	for (ber_tag_t t = ber_first_element(d.ber, &len, &last); t != LBER_DEFAULT;
	     t = ber_next_element(d.ber, &len, last), i++) {
		assert_true(i < nattrs);
		char *name = NULL;
		char **vals = NULL;
		assert_int_equal(t, LBER_SEQUENCE);
		assert_int_not_equal(ber_scanf(d.ber, "{a", &name), LBER_ERROR);
		assert_string_equal(name, attrs[i].name);
		assert_int_equal(ber_peek_tag(d.ber, &len), LBER_SET);
		assert_int_not_equal(ber_scanf(d.ber, "v}", &vals), LBER_ERROR);
		size_t nv = 0;
		while (vals != NULL && vals[nv] != NULL) {
			assert_true(nv < attrs[i].nvalues);
			assert_string_equal(vals[nv], attrs[i].values[nv]);
			nv++;
		}
		assert_int_equal(nv, attrs[i].nvalues);
		ber_memfree(name);
		ber_memvfree((void **)vals);
	}
	assert_int_equal(i, nattrs);
	assert_int_equal(dec_remaining(&d), 0);
	dec_close(&d);
}

static void
test_entry_rootdse(void **state)
{
	(void)state;
	static const char *const oc[] = { "top", "extensibleObject" };
	static const char *const nc[] = { "dc=ald,dc=test" };
	static const char *const ext[] = { OID_STARTTLS, OID_WHOAMI, OID_PASSWD_MODIFY };
	static const char *const ver[] = { "3" };
	const struct pdu_attr attrs[] = {
		{ "objectClass", oc, 2 },
		{ "namingContexts", nc, 1 },
		{ "supportedExtension", ext, 3 },
		{ "supportedLDAPVersion", ver, 1 },
	};
	check_entry(4, "", attrs, 4);
}

static void
test_entry_no_attrs(void **state)
{
	(void)state;
	check_entry(4, "cn=x", NULL, 0);
}

static void
test_entry_empty_values(void **state)
{
	(void)state;
	const struct pdu_attr attrs[] = { { "cn", NULL, 0 } };
	check_entry(129, "cn=x,dc=y", attrs, 1);
}

static void
test_entry_long_values(void **state)
{
	(void)state;
	/* values big enough for 2- and 3-byte lengths at every level */
	char *v1 = malloc(300), *v2 = malloc(70000);
	assert_non_null(v1);
	assert_non_null(v2);
	memset(v1, 'x', 299);
	v1[299] = '\0';
	memset(v2, 'y', 69999);
	v2[69999] = '\0';
	const char *vals[] = { v1, v2, "" };
	const struct pdu_attr attrs[] = { { "description", vals, 3 }, { "cn", vals, 1 } };
	check_entry(70000, "cn=big", attrs, 2);
	free(v1);
	free(v2);
}

static void
test_result_name(void **state)
{
	(void)state;
	assert_non_null(pdu_result_name(0));
	assert_non_null(pdu_result_name(49));
	assert_string_not_equal(pdu_result_name(0), pdu_result_name(49));
}

/* pdu_simple_bind_op(): liblber reads back { 3, dn, [0] password }; a small buffer gets 0. */
static void
test_simple_bind_op(void **state)
{
	(void)state;
	unsigned char out[256];
	size_t n = pdu_simple_bind_op(out, sizeof(out), "uid=alice,dc=x", 14, "pw\0x", 4);
	assert_true(n > 0);
	struct berval bv = { n, (char *)out }, dn, pw;
	BerElement *ber = ber_init(&bv);
	ber_int_t version;
	ber_len_t len;
	assert_int_equal(ber_peek_tag(ber, &len), PDU_BIND_REQ);
	assert_int_equal(ber_scanf(ber, "{imm}", &version, &dn, &pw), 0x80);   /* the password's [0] */
	assert_int_equal(version, 3);
	assert_int_equal(dn.bv_len, 14);
	assert_memory_equal(dn.bv_val, "uid=alice,dc=x", 14);
	assert_int_equal(pw.bv_len, 4);
	assert_memory_equal(pw.bv_val, "pw\0x", 4);
	ber_free(ber, 1);
	assert_int_equal(pdu_simple_bind_op(out, n - 1, "uid=alice,dc=x", 14, "pw\0x", 4), 0);
}

/* pdu_passwd_modify_op(): RFC 3062's fields, absent ones left out. */
static void
test_passwd_modify_op(void **state)
{
	(void)state;
	unsigned char out[256];
	size_t n = pdu_passwd_modify_op(out, sizeof(out), "uid=bob", 7, NULL, 0, "new", 3);
	assert_true(n > 0);
	struct berval bv = { n, (char *)out }, oid, val;
	BerElement *ber = ber_init(&bv);
	ber_len_t len;
	assert_int_equal(ber_peek_tag(ber, &len), PDU_EXT_REQ);
	assert_int_equal(ber_scanf(ber, "{mm}", &oid, &val), 0x81);            /* requestValue [1] */
	assert_int_equal(oid.bv_len, strlen(OID_PASSWD_MODIFY));
	assert_memory_equal(oid.bv_val, OID_PASSWD_MODIFY, oid.bv_len);
	BerElement *inner = ber_init(&val);
	struct berval id, np;
	assert_int_not_equal(ber_scanf(inner, "{"), LBER_ERROR);
	assert_int_equal(ber_peek_tag(inner, &len), 0x80);
	assert_int_not_equal(ber_scanf(inner, "m", &id), LBER_ERROR);
	assert_int_equal(ber_peek_tag(inner, &len), 0x82);       /* no oldPasswd [1] */
	assert_int_not_equal(ber_scanf(inner, "m}", &np), LBER_ERROR);
	assert_memory_equal(id.bv_val, "uid=bob", 7);
	assert_memory_equal(np.bv_val, "new", 3);
	ber_free(inner, 1);
	ber_free(ber, 1);
	assert_int_equal(pdu_passwd_modify_op(out, n - 1, "uid=bob", 7, NULL, 0, "new", 3), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_short_form),
		cmocka_unit_test(test_frame_long_form_1),
		cmocka_unit_test(test_frame_long_form_2),
		cmocka_unit_test(test_frame_long_form_4),
		cmocka_unit_test(test_frame_long_form_4_large),
		cmocka_unit_test(test_frame_msgid_sizes),
		cmocka_unit_test(test_frame_partial_body_ok),
		cmocka_unit_test(test_frame_need_more_short_form),
		cmocka_unit_test(test_frame_need_more_long_form),
		cmocka_unit_test(test_frame_need_more_msgid4),
		cmocka_unit_test(test_frame_bad_outer_tag),
		cmocka_unit_test(test_frame_bad_outer_tag_app),
		cmocka_unit_test(test_frame_indefinite_length),
		cmocka_unit_test(test_frame_length_of_length_5),
		cmocka_unit_test(test_frame_length_of_length_127),
		cmocka_unit_test(test_frame_negative_msgid),
		cmocka_unit_test(test_frame_negative_msgid4),
		cmocka_unit_test(test_frame_msgid_not_integer),
		cmocka_unit_test(test_frame_msgid_enumerated),
		cmocka_unit_test(test_frame_msgid_len0),
		cmocka_unit_test(test_frame_msgid_len5),
		cmocka_unit_test(test_frame_msgid_longer_than_message),
		cmocka_unit_test(test_frame_no_protocol_op),
		cmocka_unit_test(test_frame_empty_sequence),
		cmocka_unit_test(test_frame_too_big),
		cmocka_unit_test(test_frame_too_big_before_body),
		cmocka_unit_test(test_frame_too_big_short_form),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_minimal_bytes),
		cmocka_unit_test(test_enc_int_size_boundaries),
		cmocka_unit_test(test_enc_int_size_negative),
		cmocka_unit_test(test_enc_put_int_roundtrip),
		cmocka_unit_test(test_enc_put_int_bytes),
		cmocka_unit_test(test_enc_len),
		cmocka_unit_test(test_result_bind),
		cmocka_unit_test(test_result_search_done),
		cmocka_unit_test(test_result_code_above_127),
		cmocka_unit_test(test_result_long_strings),
		cmocka_unit_test(test_ext_result_plain),
		cmocka_unit_test(test_ext_result_oid_value),
		cmocka_unit_test(test_ext_result_binary_value),
		cmocka_unit_test(test_ext_result_empty_value),
		cmocka_unit_test(test_ext_result_value_too_big),
		cmocka_unit_test(test_notice_of_disconnection),
		cmocka_unit_test(test_abandon),
		cmocka_unit_test(test_unbind),
		cmocka_unit_test(test_simple_bind),
		cmocka_unit_test(test_simple_bind_too_long),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_entry_rootdse),
		cmocka_unit_test(test_entry_no_attrs),
		cmocka_unit_test(test_entry_empty_values),
		cmocka_unit_test(test_entry_long_values),
		cmocka_unit_test(test_result_name),
		cmocka_unit_test(test_simple_bind_op),
		cmocka_unit_test(test_passwd_modify_op),
	};
	return cmocka_run_group_tests_name("pdu", tests, NULL, NULL);
}
