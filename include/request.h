/*
 * request.h — decoding client requests with liblber, zero-copy.
 *
 * request_decode() parses one complete LDAPMessage held in a contiguous
 * buffer the caller owns.  Every berval in struct request points into that
 * buffer, so the request is valid only while the buffer is.  The caller
 * supplies a BerElement (one per connection, reused) so decoding costs no
 * heap allocation.
 */
#ifndef ALDPROXY_REQUEST_H
#define ALDPROXY_REQUEST_H

#include <lber.h>
#include <stddef.h>

#define REQ_MAX_ATTRS 256
#define REQ_MAX_CONTROLS 16
#define FILTER_MAX_DEPTH 64

struct req_control {
	struct berval oid;
	int critical;
	struct berval raw;          /* the whole Control TLV */
	struct berval value;        /* controlValue contents; bv_val NULL if absent */
};

struct req_controls {
	size_t n;
	struct req_control c[REQ_MAX_CONTROLS];
	unsigned char verdict[REQ_MAX_CONTROLS];    /* enum policy_ctl, set by policy_controls() */
	struct berval raw;          /* the whole [0] Controls TLV; bv_len 0 if absent */
};

struct req_bind {
	int version;
	struct berval dn;
	unsigned auth_tag;          /* 0x80 simple, 0xa3 SASL */
	struct berval cred;         /* simple password (points into the buffer: wipe it) */
	struct berval mech;         /* SASL mechanism */
};

struct req_search {
	struct berval base;
	int scope, deref, sizelimit, timelimit, typesonly;
	struct berval filter;       /* the whole Filter TLV */
	struct berval attrs_raw;    /* the whole AttributeSelection TLV */
	size_t nattrs;
	struct berval attrs[REQ_MAX_ATTRS];
};

struct req_compare {
	struct berval dn, attr, value;
};

struct req_ext {
	struct berval oid;
	struct berval value;        /* bv_val NULL if absent */
};

/* AddRequest: the entry and its AttributeList (checked: each { type, SET OF value }), RFC 4511 4.7. */
struct req_add {
	struct berval dn;
	struct berval attrs;        /* the whole AttributeList TLV */
	size_t nattrs;
};

/* ModifyDNRequest, RFC 4511 4.9. */
struct req_moddn {
	struct berval dn, newrdn;
	int deleteoldrdn;
	int has_newsup;
	struct berval newsup;       /* newSuperior, when has_newsup */
};

struct request {
	int msgid;
	unsigned tag;               /* protocolOp tag, see pdu.h */
	struct berval op;           /* the whole protocolOp TLV */
	union {
		struct req_bind bind;
		struct req_search search;
		struct req_compare compare;
		struct req_ext ext;
		struct req_add add;
		struct berval del;      /* DelRequest: the entry's DN */
		struct req_moddn moddn;
		int abandon_msgid;
	} u;
	struct req_controls ctrls;
};

/*
 * Every request aldproxy accepts, in one list: its protocolOp tag, its
 * decoder (request.c) and its handler (client.c's dispatch table).  A tag
 * not listed is a protocol error.
 */
#define REQUEST_OPS(X)                                          \
	X(PDU_BIND_REQ, decode_bind, bind_handle)               \
	X(PDU_SEARCH_REQ, decode_search_op, search_handle)      \
	X(PDU_COMPARE_REQ, decode_compare, compare_handle)      \
	X(PDU_EXT_REQ, decode_ext, extop_handle)                \
	X(PDU_ABANDON_REQ, decode_abandon, abandon_handle)      \
	X(PDU_UNBIND_REQ, decode_unbind, unbind_handle)         \
	X(PDU_ADD_REQ, decode_add, add_handle)                  \
	X(PDU_DEL_REQ, decode_del, delete_handle)               \
	X(PDU_MODIFY_REQ, decode_update, modify_handle)         \
	X(PDU_MODDN_REQ, decode_moddn, moddn_handle)


/*
 * Returns 0, or -1 with *why set to a static description when the message
 * is malformed (the caller answers with a Notice of Disconnection,
 * RFC 4511 section 4.1.1).  Modify decodes its envelope only (its
 * handler reads the rest); Add, Delete and ModifyDN are checked whole.
 */
int request_decode(BerElement *ber, const unsigned char *buf, size_t len, struct request *r, const char **why);

/*
 * Calls cb for every attribute description the filter tests (RFC 4511
 * section 4.5.1.7), stopping at the first non-zero return, which it
 * returns.  Returns -1 for a malformed or too deeply nested filter.
 */
typedef int (*filter_attr_cb)(const struct berval *attr, void *arg);
int filter_walk(BerElement *ber, const struct berval *filter, filter_attr_cb cb, void *arg);

/*
 * ber_scanf() for the formats aldproxy uses ('{' '}' 'i' 'e' 'b' 'm' 'x'
 * 'n'), except that 'm' leaves the buffer untouched: liblber's own 'm'
 * writes a NUL after each string, which would corrupt a message that is
 * forwarded as received.  Strings are therefore not NUL-terminated.
 * Returns 0 or -1.
 */
int bscan(BerElement *ber, const char *fmt, ...);

/* The offset of the decoder's cursor in a buffer of `total` bytes given to ber_init2(). */
size_t ber_cursor(BerElement *ber, size_t total);

/*
 * The controls policy_controls() let through as received (PCTL_FORWARD),
 * up to max of them, into out; returns how many.
 */
size_t request_forwarded_controls(const struct request *r, struct berval *out, size_t max);

/* Finds a control by OID, or NULL. */
const struct req_control *request_control(const struct request *r, const char *oid);

#endif
