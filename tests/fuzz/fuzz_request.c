/*
 * fuzz_request.c — the client-facing front door: pdu_frame() on the first
 * bytes of the input (what client.c copies out of its input buffer), then
 * request_decode() on the framed message, as the daemon does for every
 * request, then filter_walk() and filter_decode() on a search's filter.
 *
 * Invariants:
 *   - framing on the first PDU_HEAD_MAX bytes and on the whole input agree
 *     (more bytes never change a verdict other than "need more");
 *   - a decoded request agrees with its frame (messageID, protocolOp tag,
 *     where the protocolOp starts) and every berval points inside the
 *     message; what is forwarded as received (the protocolOp of a simple
 *     bind, a search, a compare or an extended operation, and each
 *     control) is well-formed BER all the way down;
 *   - a filter that filter_decode() accepts, filter_walk() accepts too and
 *     visits each tested attribute once.
 */
#include <stdint.h>
#include <string.h>
#include <lber.h>

#include "arena.h"
#include "filter.h"
#include "fuzz_common.h"
#include "pdu.h"
#include "request.h"

static BerElement *ber;
static struct arena arena;
static struct request req;          /* large: REQ_MAX_ATTRS bervals */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ber = ber_alloc_t(LBER_USE_DER);
	FZ_CHECK(ber != NULL && arena_init(&arena, 1 << 20) == 0);
	return 0;
}

static int
count_attr(const struct berval *attr, void *arg)
{
	(void)attr;         /* on a malformed filter, called before the walk notices */
	(*(size_t *)arg)++;
	return 0;
}

static size_t
tree_attrs(const struct fnode *f)
{
	size_t n = 0;
	switch (f->kind) {
	case F_AND:
	case F_OR:
	case F_NOT:
		for (const struct fnode *c = f->child; c != NULL; c = c->next)
			n += tree_attrs(c);
		return n;
	case F_TRUE:
	case F_FALSE:
		return 0;
	default:
		return f->attr.bv_len > 0;
	}
}

#define IN(bv) FZ_CHECK(fz_inside((bv).bv_val, (bv).bv_len, buf, total))

/*
 * An independent strict reading of what the handlers forward as received
 * (bind.c, search.c: the protocolOp of a simple bind, a search, a compare,
 * an extended operation, and each control): RFC 4511's exact tags, every
 * element ending where its length says.  What request_decode() (and, for
 * a search, filter_decode()) accepts must pass it.
 */
struct sp {
	const unsigned char *b;
	size_t off, end;
};

/* One TLV with tag `tag` at s->off (definite length, 1 to 8 length octets): its contents in *in; 1, or 0. */
static int
sp_tlv(struct sp *s, unsigned tag, struct sp *in)
{
	if (s->off + 2 > s->end || s->b[s->off] != tag)
		return 0;
	size_t l = s->b[s->off + 1], hdr = 2;
	if (l & 0x80) {
		size_t n = l & 0x7f;
		if (n == 0 || n > 8 || s->off + 2 + n > s->end)
			return 0;
		l = 0;
		for (size_t k = 0; k < n; k++) {
			if (l >> 56)
				return 0;
			l = (l << 8) | s->b[s->off + 2 + k];
		}
		hdr += n;
	}
	if (l > s->end - s->off - hdr)
		return 0;
	size_t e = s->off + hdr + l;
	if (in != NULL) {
		in->b = s->b;
		in->off = s->off + hdr;
		in->end = e;
	}
	s->off = e;
	return 1;
}

static int
sp_peek(const struct sp *s)
{
	return s->off < s->end ? s->b[s->off] : -1;
}

static int
sp_done(const struct sp *s)
{
	return s->off == s->end;
}

/* An INTEGER / ENUMERATED / BOOLEAN: 1..4 contents octets (BOOLEAN exactly 1). */
static int
sp_small(struct sp *s, unsigned tag)
{
	struct sp in;
	return sp_tlv(s, tag, &in) && in.end > in.off && in.end - in.off <= (tag == 0x01 ? 1 : 4);
}

static int
strict_filter(struct sp *s, int depth)
{
	struct sp in, seq;
	int t = sp_peek(s);
	if (depth > FILTER_MAX_DEPTH)
		return 0;
	switch (t) {
	case 0xa0:
	case 0xa1:
		if (!sp_tlv(s, (unsigned)t, &in))
			return 0;
		while (!sp_done(&in))
			if (!strict_filter(&in, depth + 1))
				return 0;
		return 1;
	case 0xa2:
		return sp_tlv(s, 0xa2, &in) && strict_filter(&in, depth + 1) && sp_done(&in);
	case 0xa3:
	case 0xa5:
	case 0xa6:
	case 0xa8:
		return sp_tlv(s, (unsigned)t, &in) && sp_tlv(&in, 0x04, NULL) && sp_tlv(&in, 0x04, NULL) && sp_done(&in);
	case 0x87:
		return sp_tlv(s, 0x87, NULL);
	case 0xa4: {
		if (!sp_tlv(s, 0xa4, &in) || !sp_tlv(&in, 0x04, NULL) || !sp_tlv(&in, 0x30, &seq) || !sp_done(&in))
			return 0;
		size_t n = 0;
		int final = 0;
		while (!sp_done(&seq)) {
			int pt = sp_peek(&seq);
			if (final || (pt == 0x80 && n > 0) || (pt != 0x80 && pt != 0x81 && pt != 0x82) ||
			    !sp_tlv(&seq, (unsigned)pt, NULL))
				return 0;
			final = pt == 0x82;
			n++;
		}
		return n > 0;
	}
	case 0xa9:
		if (!sp_tlv(s, 0xa9, &in))
			return 0;
		if (sp_peek(&in) == 0x81 && !sp_tlv(&in, 0x81, NULL))
			return 0;
		if (sp_peek(&in) == 0x82 && !sp_tlv(&in, 0x82, NULL))
			return 0;
		if (!sp_tlv(&in, 0x83, NULL))
			return 0;
		if (sp_peek(&in) == 0x84 && !sp_small(&in, 0x84))
			return 0;
		return sp_done(&in);
	default:
		return 0;
	}
}

static int
strict_op(const struct request *r)
{
	struct sp op = { (const unsigned char *)r->op.bv_val, 0, r->op.bv_len }, in, seq;
	switch (r->tag) {
	case PDU_BIND_REQ:
		return sp_tlv(&op, PDU_BIND_REQ, &in) && sp_small(&in, 0x02) && sp_tlv(&in, 0x04, NULL) &&
		    sp_tlv(&in, 0x80, NULL) && sp_done(&in) && sp_done(&op);
	case PDU_COMPARE_REQ:
		return sp_tlv(&op, PDU_COMPARE_REQ, &in) && sp_tlv(&in, 0x04, NULL) && sp_tlv(&in, 0x30, &seq) &&
		    sp_tlv(&seq, 0x04, NULL) && sp_tlv(&seq, 0x04, NULL) && sp_done(&seq) && sp_done(&in) && sp_done(&op);
	case PDU_EXT_REQ:
		if (!sp_tlv(&op, PDU_EXT_REQ, &in) || !sp_tlv(&in, 0x80, NULL))
			return 0;
		if (sp_peek(&in) == 0x81 && !sp_tlv(&in, 0x81, NULL))
			return 0;
		return sp_done(&in) && sp_done(&op);
	case PDU_SEARCH_REQ:
		if (!sp_tlv(&op, PDU_SEARCH_REQ, &in) || !sp_tlv(&in, 0x04, NULL) || !sp_small(&in, 0x0a) ||
		    !sp_small(&in, 0x0a) || !sp_small(&in, 0x02) || !sp_small(&in, 0x02) || !sp_small(&in, 0x01) ||
		    !strict_filter(&in, 0) || !sp_tlv(&in, 0x30, &seq))
			return 0;
		while (!sp_done(&seq))
			if (!sp_tlv(&seq, 0x04, NULL))
				return 0;
		return sp_done(&in) && sp_done(&op);
	default:
		return 1;
	}
}

static int
strict_control(const struct berval *raw)
{
	struct sp c = { (const unsigned char *)raw->bv_val, 0, raw->bv_len }, in;
	if (!sp_tlv(&c, 0x30, &in) || !sp_tlv(&in, 0x04, NULL))
		return 0;
	if (sp_peek(&in) == 0x01 && !sp_small(&in, 0x01))
		return 0;
	if (sp_peek(&in) == 0x04 && !sp_tlv(&in, 0x04, NULL))
		return 0;
	return sp_done(&in) && sp_done(&c);
}

/* What the handlers forward as received; searches once their filter has decoded (below). */
static void
check_forwarded_shape(const struct request *r)
{
	if ((r->tag == PDU_BIND_REQ && r->u.bind.auth_tag == 0x80) || r->tag == PDU_COMPARE_REQ || r->tag == PDU_EXT_REQ)
		FZ_CHECK(strict_op(r));
	for (size_t i = 0; i < r->ctrls.n; i++)
		FZ_CHECK(strict_control(&r->ctrls.c[i].raw));
}

static void
check_request(const unsigned char *buf, size_t total, const struct pdu_head *h)
{
	const struct request *r = &req;
	FZ_CHECK(r->msgid == h->msgid);
	FZ_CHECK(r->tag == h->op_tag);
	FZ_CHECK(r->op.bv_val == (const char *)buf + h->prefix);
	IN(r->op);
	check_forwarded_shape(r);
	FZ_CHECK(r->ctrls.n <= REQ_MAX_CONTROLS);
	IN(r->ctrls.raw);
	for (size_t i = 0; i < r->ctrls.n; i++) {
		const struct req_control *c = &r->ctrls.c[i];
		FZ_CHECK(c->oid.bv_len > 0);
		IN(c->oid);
		IN(c->raw);
		IN(c->value);
		FZ_CHECK(fz_inside(c->raw.bv_val, c->raw.bv_len, r->ctrls.raw.bv_val, r->ctrls.raw.bv_len));
	}
	switch (r->tag) {
	case PDU_BIND_REQ:
		IN(r->u.bind.dn);
		IN(r->u.bind.cred);
		IN(r->u.bind.mech);
		break;
	case PDU_COMPARE_REQ:
		IN(r->u.compare.dn);
		IN(r->u.compare.attr);
		IN(r->u.compare.value);
		break;
	case PDU_EXT_REQ:
		IN(r->u.ext.oid);
		IN(r->u.ext.value);
		break;
	case PDU_SEARCH_REQ: {
		const struct req_search *s = &r->u.search;
		FZ_CHECK(s->scope >= 0 && s->scope <= 3 && s->deref >= 0 && s->deref <= 3);
		FZ_CHECK(s->sizelimit >= 0 && s->timelimit >= 0);
		FZ_CHECK(s->nattrs <= REQ_MAX_ATTRS);
		IN(s->base);
		IN(s->filter);
		IN(s->attrs_raw);
		for (size_t i = 0; i < s->nattrs; i++)
			FZ_CHECK(fz_inside(s->attrs[i].bv_val, s->attrs[i].bv_len, s->attrs_raw.bv_val, s->attrs_raw.bv_len));
		/* what search.c does with the filter */
		arena_reset(&arena);
		struct fnode *f = NULL;
		int dec = filter_decode(&arena, &s->filter, &f);
		BerElement *fb = ber_alloc_t(LBER_USE_DER);
		FZ_CHECK(fb != NULL);
		size_t walked = 0;
		int walk = filter_walk(fb, &s->filter, count_attr, &walked);
		ber_free(fb, 0);
		if (dec == 0) {
			FZ_CHECK(walk == 0);
			FZ_CHECK(walked == tree_attrs(f));
			/* a search whose filter decodes may go to the directory as received */
			FZ_CHECK(strict_op(r));
		}
		break;
	}
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char head[PDU_HEAD_MAX];
	size_t n = size < sizeof(head) ? size : sizeof(head);
	memcpy(head, data, n);
	const size_t max = 1 << 20;
	struct pdu_head h, hall;
	memset(&h, 0, sizeof(h));
	memset(&hall, 0, sizeof(hall));
	int rc = pdu_frame(head, n, max, &h);
	int rcall = pdu_frame(data, size, max, &hall);
	FZ_CHECK(rc == PDU_NEED_MORE || rc == PDU_OK || rc == PDU_BAD || rc == PDU_TOO_BIG);
	if (rc != PDU_NEED_MORE) {
		FZ_CHECK(rcall == rc);
		if (rc == PDU_OK)
			FZ_CHECK(h.total == hall.total && h.prefix == hall.prefix && h.msgid == hall.msgid &&
			    h.op_tag == hall.op_tag);
	}
	/* a smaller limit only turns OK into TOO_BIG */
	struct pdu_head hs;
	int rcs = pdu_frame(head, n, 64, &hs);
	if (rc == PDU_OK && h.total > 64)
		FZ_CHECK(rcs == PDU_TOO_BIG);
	if (rc != PDU_OK)
		return 0;
	FZ_CHECK(h.msgid >= 0 && h.prefix < h.total && h.total <= max);
	FZ_CHECK(h.prefix >= 5 && h.total >= 7);
	if (h.total > size)
		return 0;           /* the daemon waits for the rest */
	FZ_CHECK(h.op_tag == data[h.prefix]);

	/* the message alone, in a buffer of its exact size (as evbuffer_pullup gives it) */
	unsigned char *buf = fz_dup(data, h.total);
	const char *why = NULL;
	memset(&req, 0, sizeof(req));
	if (request_decode(ber, buf, h.total, &req, &why) == 0)
		check_request(buf, h.total, &h);
	else
		FZ_CHECK(why != NULL && *why != '\0');
	fz_free(buf);
	return 0;
}
