/*
 * visible.h — an entry's visibility checked with the directory before an
 * operation on it is forwarded (profiles with groups.visible).
 *
 * policy_visibility() places the DN; a user entry is then looked up once
 * (a base search for membership of a visible group, on a shared
 * connection, as aldproxy's own internal op) and the held request is sent
 * only when it is found.  An invisible entry answers noSuchObject exactly
 * like a missing one (visible_not_found()), and the refusal is audited.
 */
#ifndef ALDPROXY_VISIBLE_H
#define ALDPROXY_VISIBLE_H

#include <stddef.h>
#include <event2/buffer.h>

#include "pdu.h"

struct client;
struct op;
struct upstream;

/*
 * Sends op's request (parts) to dest (NULL: any shared connection) once
 * the entry real (the directory's DN) is known to be visible to the
 * client's profile; answers it otherwise.  Always returns 0 (the handler's
 * result): the op is answered or in flight.
 */
int visible_then_send(struct client *c, struct op *op, const char *real, size_t rl, struct upstream *dest,
    const struct evbuffer_iovec *parts, int nparts);

/* The answer to an op on an entry the profile does not see: noSuchObject as for a missing entry. */
void visible_not_found(struct op *op);

/* Whether op's noSuchObject answer must be made like visible_not_found()'s (profiles with visible groups). */
int visible_hides_missing(const struct op *op, int code);

/* Compare, Modify, Password Modify: the one answer forwarded as it is, a missing entry hidden like an invisible one. */
extern const struct op_handler visible_forward_handler;

#endif
