/*
 * pdu.h — LDAPv3 message framing and encoding (RFC 4511 section 4.1.1).
 *
 * The only module that knows BER envelope bytes.  Framing reads the
 * outer SEQUENCE, the messageID and the protocolOp tag from the first
 * bytes of a buffer so a proxied message can be re-addressed (a new
 * messageID) without decoding its body.  Encoders write complete
 * messages into a libevent evbuffer with no heap allocation of their own:
 * a message is added whole or not at all (never a truncated PDU), and the
 * buffer encoders below check their capacity before writing.
 */
#ifndef ALDPROXY_PDU_H
#define ALDPROXY_PDU_H

#include <stddef.h>
#include <lber.h>
#include <stdint.h>

#include <event2/buffer.h>       /* struct evbuffer_iovec (a macro for struct iovec where there is one) */

/* protocolOp tags, RFC 4511 section 4.2 onwards */
enum {
	PDU_BIND_REQ = 0x60, PDU_BIND_RES = 0x61, PDU_UNBIND_REQ = 0x42,
	PDU_SEARCH_REQ = 0x63, PDU_SEARCH_ENTRY = 0x64, PDU_SEARCH_DONE = 0x65,
	PDU_SEARCH_REF = 0x73, PDU_MODIFY_REQ = 0x66, PDU_MODIFY_RES = 0x67,
	PDU_ADD_REQ = 0x68, PDU_ADD_RES = 0x69, PDU_DEL_REQ = 0x4a, PDU_DEL_RES = 0x6b,
	PDU_MODDN_REQ = 0x6c, PDU_MODDN_RES = 0x6d, PDU_COMPARE_REQ = 0x6e,
	PDU_COMPARE_RES = 0x6f, PDU_ABANDON_REQ = 0x50, PDU_EXT_REQ = 0x77,
	PDU_EXT_RES = 0x78, PDU_INTERMEDIATE = 0x79,
	PDU_CONTROLS = 0xa0,
};

#define PDU_HEAD_MAX 16     /* bytes pdu_frame() needs at most */
#define PDU_MSGID_MAX 0x7fffffff

enum pdu_frame_rc { PDU_NEED_MORE = 0, PDU_OK = 1, PDU_BAD = -1, PDU_TOO_BIG = -2 };

/* The envelope of one LDAPMessage. */
struct pdu_head {
	size_t total;       /* bytes of the whole message */
	size_t prefix;      /* bytes of outer tag+length and the messageID TLV */
	int msgid;
	unsigned op_tag;    /* first octet of protocolOp */
};

/*
 * Frames the message at buf (avail bytes present).  Returns PDU_OK with
 * *h filled (the whole message may still be incomplete: compare h->total
 * with what is buffered), PDU_NEED_MORE, PDU_BAD for an envelope that is
 * not an LDAPMessage, or PDU_TOO_BIG when total exceeds max.
 */
int pdu_frame(const unsigned char *buf, size_t avail, size_t max, struct pdu_head *h);

/* Writes outer SEQUENCE header + messageID for a message whose remaining
 * bytes (protocolOp and controls) are rest_len long.  Returns bytes written. */
size_t pdu_envelope(unsigned char out[PDU_HEAD_MAX], int msgid, size_t rest_len);

/* BER primitives used by encoders elsewhere (rootDSE, rewritten requests). */
size_t enc_len_size(size_t len);
unsigned char *enc_put_len(unsigned char *p, size_t len);
size_t enc_int_size(long v);               /* contents octets of an INTEGER */
unsigned char *enc_put_int(unsigned char *p, unsigned tag, long v);
size_t enc_tlv_size(size_t len);            /* 1 tag byte + length + contents */
/* A primitive TLV: tag, length, then len bytes of v. */
unsigned char *enc_put_octets(unsigned char *p, unsigned tag, const void *v, size_t len);

/* One LDAPResult-shaped response (BindResponse, SearchResultDone, ...). */
int pdu_result(struct evbuffer *out, int msgid, unsigned tag, int code,
    const char *matched, const char *diag);
/* ExtendedResponse with optional responseName/responseValue. */
int pdu_ext_result(struct evbuffer *out, int msgid, int code, const char *diag,
    const char *oid, const void *value, size_t value_len);
/* Notice of Disconnection, RFC 4511 section 4.4.1. */
int pdu_notice_of_disconnection(struct evbuffer *out, int code, const char *diag);
/* Abandon request (upstream) and Unbind. */
int pdu_abandon(struct evbuffer *out, int msgid, int abandon_msgid);
int pdu_unbind(struct evbuffer *out, int msgid);
/* Simple BindRequest (upstream service bind); the caller wipes its copy of pw. */
int pdu_simple_bind(struct evbuffer *out, int msgid, const char *dn, const char *pw, size_t pwlen);
/* StartTLS extended request. */
int pdu_starttls(struct evbuffer *out, int msgid);

/* A SearchResultEntry built from plain attribute lists (rootDSE). */
struct pdu_attr {
	const char *name;
	const char *const *values;
	size_t nvalues;
};
/* Added whole or not at all: 0, or -1. */
int pdu_entry(struct evbuffer *out, int msgid, const char *dn, const struct pdu_attr *attrs, size_t nattrs);

/*
 * End offset of the BER element starting at off in buf[0..len), from its
 * own length octets (definite lengths only), or 0 when malformed.  Used to
 * check that a decoded element ended exactly where its length said
 * (liblber's '}' checks nothing).
 */
size_t pdu_tlv_end(const unsigned char *buf, size_t len, size_t off);

/*
 * The protocolOp of aldproxy's own base-scope lookups: SearchRequest
 * { dn, baseObject, neverDerefAliases, sizeLimit 1, 0, FALSE, filter, [attr] }
 * with the encoded filter given (NULL: (objectClass=*)).  Returns the
 * length written to out, or 0 when it does not fit.
 */
/* The same with any scope and sizeLimit (0: none). */
size_t pdu_search(unsigned char *out, size_t cap, const char *dn, size_t dnlen, int scope, int sizelimit,
    const unsigned char *filter, size_t filterlen, const char *attr);
size_t pdu_base_search(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const unsigned char *filter,
    size_t filterlen, const char *attr);

/*
 * The protocolOp of a simple BindRequest { 3, dn, [0] password } (a
 * client's bind with its name translated).  The length written, or 0 when
 * it does not fit in cap.
 */
size_t pdu_simple_bind_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *pw, size_t pwlen);
/*
 * The protocolOp of a Password Modify ExtendedRequest (RFC 3062): the
 * fields given (NULL: left out).  The length, or 0 when it does not fit.
 */
size_t pdu_passwd_modify_op(unsigned char *out, size_t cap, const char *id, size_t idlen, const void *oldpw,
    size_t oldlen, const void *newpw, size_t newlen);

/* Human-readable name of a result code, for logs. */
const char *pdu_result_name(int code);

/*
 * The [0] Controls of a message aldproxy sends: the n Control TLVs given
 * (each a whole SEQUENCE, already checked), into out.  Returns the length,
 * 0 when n is 0, or (size_t)-1 when it does not fit in cap.
 */
size_t pdu_controls(unsigned char *out, size_t cap, const struct berval *ctls, size_t n);
/*
 * A paged-results control (RFC 2696) { size, cookie } into out; the
 * length, or (size_t)-1 if it does not fit in cap.
 */
size_t pdu_paged_control(unsigned char *out, size_t cap, int critical, long size, const void *cookie, size_t len);
/* One Control TLV { oid, criticality, value } into out; the length, or (size_t)-1 if over cap. */
size_t pdu_control(unsigned char *out, size_t cap, const char *oid, int critical, const void *val, size_t vlen);

/*
 * Bounded encoders.  The pdu_put_* primitives write one element at offset
 * off of out[0..cap) and return the offset after it, or 0 when it does not
 * fit.  The *_op encoders return the length of the protocolOp written, or
 * 0 when it does not fit in cap; those that say so take out == NULL to
 * return only the length they need (the sizing pass).
 */
#define PDU_TLV_HEAD_MAX 6      /* a tag and the longest length octets enc_put_len() writes */

/* Bytes of a whole LDAPMessage (envelope included) whose protocolOp and controls are oplen long. */
size_t pdu_message_size(int msgid, size_t oplen);
/* Room for len bytes at the end of out, contiguous, in *v: NULL when out of memory; nothing is added until pdu_commit(). */
unsigned char *pdu_reserve(struct evbuffer *out, size_t len, struct evbuffer_iovec *v);
/* Adds the first len bytes of the room pdu_reserve() gave: 0, or -1. */
int pdu_commit(struct evbuffer *out, struct evbuffer_iovec *v, size_t len);
/* A tag and the length octets of a TLV whose len contents bytes follow: the new offset, or 0. */
size_t pdu_put_tl(unsigned char *out, size_t cap, size_t off, unsigned tag, size_t len);
/* A whole primitive TLV (tag, length, len bytes of v): the new offset, or 0. */
size_t pdu_put_octets(unsigned char *out, size_t cap, size_t off, unsigned tag, const void *v, size_t len);
/* len bytes already encoded (a TLV as received), copied: the new offset, or 0 (0 also for off 0 with len 0). */
size_t pdu_put_raw(unsigned char *out, size_t cap, size_t off, const void *v, size_t len);
/* AttributeSelection ::= SEQUENCE OF LDAPString, from n names: the length, or 0 when it does not fit. */
size_t pdu_attr_selection(unsigned char *out, size_t cap, const struct berval *names, size_t n);
/* SearchRequest protocolOp: base, then the encoded scope..typesOnly fields (params), filter and attribute selection as given; out NULL sizes. */
size_t pdu_search_op(unsigned char *out, size_t cap, const char *base, size_t baselen, const void *params, size_t paramslen,
    const void *filter, size_t filterlen, const void *attrs, size_t attrslen);
/* CompareRequest protocolOp { entry, ava { attributeDesc, assertionValue } }; out NULL sizes. */
size_t pdu_compare_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *attr, size_t attrlen,
    const void *value, size_t valuelen);
/* One change of a ModifyRequest { operation, { type, vals } }, vals the whole SET TLV as received: the length, or 0. */
size_t pdu_modify_change(unsigned char *out, size_t cap, int operation, const void *type, size_t typelen, const void *vals,
    size_t valslen);
/* ModifyRequest protocolOp { object, changes } from the encoded changes (pdu_modify_change()): the length, or 0. */
size_t pdu_modify_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *changes, size_t changeslen);
/* SASL BindRequest protocolOp { 3, dn, sasl [3] { mech, credentials if has_cred } }; out NULL sizes. */
size_t pdu_sasl_bind_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const char *mech, const void *cred,
    size_t credlen, int has_cred);
/* A whole SASL BindRequest with an empty name, added to out whole or not at all: 0, or -1. */
int pdu_sasl_bind(struct evbuffer *out, int msgid, const char *mech, const void *cred, size_t credlen, int has_cred);
/* Envelope and [APPLICATION 4] header of a SearchResultEntry whose DN TLV and attribute contents follow: bytes written, or 0. */
size_t pdu_entry_head(unsigned char *out, size_t cap, int msgid, size_t dn_tlv_len, size_t attrs_len);
/* One attribute of pdu_entry_bv(): its name and n values. */
struct pdu_battr {
	struct berval name;
	struct berval *vals;
	size_t n;
};
/* A SearchResultEntry from berval attributes (typesonly: no values), added whole or not at all: 0, or -1. */
int pdu_entry_bv(struct evbuffer *out, int msgid, const char *dn, size_t dnlen, const struct pdu_battr *attrs, size_t n,
    int typesonly);
/* A SearchResultDone (op: its protocolOp TLV as received) with aldproxy's paged-results control: 0, or -1 (nothing added). */
int pdu_paged_done(struct evbuffer *out, int msgid, const void *op, size_t oplen, long size, const void *cookie,
    size_t cookielen);
/*
 * Add, Delete and ModifyDN (a provisioning product's writes, re-addressed
 * to the directory's tree): the length written, or 0 when it does not fit
 * in cap (out NULL: 0).
 */
/* One attribute of an AddRequest { type, vals }, vals the whole SET OF value TLV. */
size_t pdu_add_attr(unsigned char *out, size_t cap, const void *type, size_t typelen, const void *vals, size_t valslen);
/* AddRequest protocolOp { entry, attributes } from the encoded attributes (pdu_add_attr()). */
size_t pdu_add_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *attrs, size_t attrslen);
/* DelRequest protocolOp: [APPLICATION 10] LDAPDN. */
size_t pdu_del_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen);
/* ModifyDNRequest protocolOp { entry, newrdn, deleteoldrdn, newSuperior [0] unless newsup is NULL }. */
size_t pdu_moddn_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *newrdn, size_t rdnlen,
    int deleteoldrdn, const char *newsup, size_t suplen);

#define OID_STARTTLS "1.3.6.1.4.1.1466.20037"
#define OID_WHOAMI "1.3.6.1.4.1.4203.1.11.3"
#define OID_PASSWD_MODIFY "1.3.6.1.4.1.4203.1.11.1"
#define OID_NOTICE_OF_DISCONNECTION "1.3.6.1.4.1.1466.20036"
#define OID_PAGED_RESULTS "1.2.840.113556.1.4.319"

#endif
