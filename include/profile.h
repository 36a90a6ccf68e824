/*
 * profile.h — per-product profiles (one YAML file each in profiles_dir).
 *
 * A profile is immutable once loaded (profile_load.c) and refcounted: the
 * set holds one reference, each client and op using it another
 * (profile_hold/profile_drop), so a reload can swap the set while old
 * profiles live on until their last user releases them.
 * A profile says who selects it (service accounts, dedicated listeners),
 * which end users may bind, the tree the product sees (a virtual suffix
 * mapped onto ALD Pro's), how attributes and object classes are renamed,
 * which AD-style attributes are computed, which groups' members the
 * product may see and log in, and which attributes it may read.
 * Profiles are data: rewrite.c applies them; no code names a product.
 */
#ifndef ALDPROXY_PROFILE_H
#define ALDPROXY_PROFILE_H

#include <lber.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

enum bind_role { ROLE_NONE = 0, ROLE_SERVICE, ROLE_USER };

/* A network of a profile's `clients:` list: an address and a prefix length. */
struct net {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];     /* network bits only (4 bytes for AF_INET) */
	unsigned bits;              /* prefix length: 0..32 or 0..128 */
};

/* The longest TLS server name (SNI) kept for a connection, with its NUL. */
#define SERVER_NAME_MAX 256

/* A keyed digest (process-random key) of the last password that matched a slow hash. */
struct password_memo {
	unsigned char digest[32];
	int valid;
};

/* A service account: verified by the directory, or locally by a salted hash. */
struct service_account {
	char *dn;                   /* as written (virtual or real) */
	char *ndn;                  /* normalized */
	char *hash;                 /* "{PBKDF2-SHA512}...", "{SSHA512}..."; NULL: the directory verifies */
	struct password_memo *memo; /* with a hash: owned, mutable under a const profile */
	int line;                   /* in the profile file, for messages */
};

/* One subtree of the virtual tree and the real subtree it stands for. */
struct dn_map {
	char *virt, *real;          /* as written */
	char *nvirt, *nreal;        /* normalized */
	size_t nvlen, nrlen;
};

/* A virtual attribute name and the real attribute it stands for. */
struct attr_map {
	char *virt, *real;
};

/* A virtual object class and the real one. */
struct oc_map {
	char *virt, *real;
};

enum vattr_kind {
	VA_GUID,        /* 16 bytes from a UUID string attribute (AD byte order) */
	VA_UAC,         /* userAccountControl from an account-lock attribute */
	VA_DN,          /* the entry's own (virtual) DN */
	VA_CATEGORY,    /* a value chosen by the entry's object class */
	VA_SID,         /* objectSid: AD's binary SID from a SID string attribute */
	VA_MEMBER_UID,  /* memberUid (RFC 2307) of a POSIX group, from its member DNs */
};

struct vattr_case {
	char *real_class;           /* entries with this objectClass ... */
	char *value;                /* ... get this value ({suffix} expanded) */
};

struct vattr {
	char *name;
	enum vattr_kind kind;
	char *source;               /* GUID, UAC, SID, MEMBER_UID: the real attribute read */
	char *when_class;           /* UAC: only entries of this class (default person); MEMBER_UID: posixGroup */
	struct vattr_case *cases;   /* CATEGORY */
	size_t ncases;
};

/* A value given to entries of a class that lack the attribute. */
struct default_attr {
	char *name;
	char *tmpl;                 /* "{uid}@example.com": {attr} is the entry's first value */
	char *when_class;           /* default person */
};

/*
 * writes.add / writes.delete / writes.modrdn: where a provisioning product
 * may create, remove or rename entries (write.c).  allowed 0: the profile
 * does not allow the operation at all.
 */
struct write_scope {
	int allowed;
	int line;                   /* of the key, for messages */
	char **subtrees;            /* as written (the product's terms) */
	char **real_subtrees;       /* the same in the directory's tree, normalized */
	size_t nsubtrees;
	char **classes;             /* add: every objectClass value of a new entry is one of these */
	size_t nclasses;
	char **attrs;               /* add: the other attributes a new entry may carry */
	size_t nattrs;
};

/*
 * A profile's references, apart from the profile so that holders of a
 * const (immutable) profile can count without casting: the set's, plus one
 * per client and op using it; the last release frees self.
 */
struct profile_ref {
	unsigned n;
	struct profile *self;
};

struct profile {
	struct profile_ref *ref;    /* owned */
	char *name;
	int name_line;
	char *description;
	char *file;

	struct service_account *service;
	size_t nservice;
	char **user_bases;          /* normalized virtual DNs */
	size_t nuser_bases;
	char **listeners;           /* URLs this profile owns */
	struct url *listener_urls;
	size_t nlisteners;
	int listeners_line;
	int pinned;                 /* owns a listener (its own `listeners`, or listeners[].profile) */
	struct net *clients;        /* `clients:`: the only source addresses that may use it; none: any */
	size_t nclients;
	char **server_names;        /* `server_names:`: lower-case, "*.example.com" allowed; none: any */
	size_t nserver_names;

	char *search_base;          /* as written (virtual) */
	char *search_base_norm;
	size_t search_base_len;

	/* virtual tree: longest match first */
	struct dn_map *dn_maps;
	size_t ndn_maps;
	char *virtual_suffix;       /* for {suffix} in values; NULL without a virtual tree */

	struct attr_map *attr_maps;
	size_t nattr_maps;
	struct oc_map *oc_maps;
	size_t noc_maps;
	struct vattr *vattrs;
	size_t nvattrs;
	struct default_attr *defaults;
	size_t ndefaults;
	char **dn_attributes;       /* attributes whose values are DNs (mapped both ways) */
	size_t ndn_attributes;
	char *user_class;           /* real class of people (default person) */
	int memberof_groups_only;   /* drop memberOf values outside groups_base */
	char *groups_base_norm;     /* real, normalized */
	size_t groups_base_len;

	struct visset *vis;         /* with visible groups: the users they hold (visset.c), owned */
	char **real_user_bases;     /* user_bases in the directory's tree, normalized */
	size_t nreal_user_bases;
	char **visible_groups;      /* real normalized group DNs; empty: everyone */
	size_t nvisible_groups;
	char **login_groups;        /* real normalized group DNs; empty: everyone visible */
	size_t nlogin_groups;

	/* bind-name translation */
	char **realms;              /* user@REALM: the product's realm(s) and ALD Pro's */
	size_t nrealms;
	char *netbios;              /* NETBIOS\user */
	char *login_attr;           /* RDN attribute of users (uid) */
	char *login_base;           /* real DN of the users' container */
	int bind_upn, bind_netbios, bind_login;
	int ad_diagnostics;
	int rootdse_ad;

	/* writes, performed on the directory as the bound user (proxied authorization) */
	int write_password;         /* Password Modify extended operation */
	char **write_attrs;         /* attributes Modify may change (product's names) */
	size_t nwrite_attrs;
	struct write_scope write_add, write_delete, write_moddn;

	char **attributes;          /* allowlist */
	size_t nattributes;
	int all_attributes;         /* "*" */
};

struct profile_set {
	struct profile **v;         /* sorted by name */
	size_t n;
};

/* Loads every *.yaml of dir (profile_load.c); cfg (may be NULL) is checked for listeners that clash with the profiles' own. */
int  profile_set_load(const char *dir, const struct config *cfg, struct profile_set **out, char *err, size_t errlen);
/* Drops the set's references: profiles still used by clients or ops live on until released. */
void profile_set_free(struct profile_set *set);
/* Reference counting, so a reload can replace the set under running clients. NULL is fine. */
const struct profile *profile_hold(const struct profile *p);
void profile_drop(const struct profile *p);
/* The one destructor of a profile: profile_drop() calls it on the last reference; profile_parse() on a profile it could not finish. */
void profile_free(struct profile *p);
/* Frees the lists of a write scope (profile_free() calls it; profile_load.c fills them). */
void write_scope_free(struct write_scope *w);
const struct profile *profile_find(const struct profile_set *set, const char *name);

/* Where a bind comes from, for the choice of its profile. */
struct bind_origin {
	const char *addr;           /* the client's IP address (inet_ntop form); NULL: unknown */
	const char *sni;            /* the TLS server name it sent (lower case); NULL or "": none */
};

/* How profile_select() chose (or refused): for logs and aldproxyctl explain. */
enum select_step {
	SEL_NONE = 0,       /* no profile takes the name */
	SEL_FIXED,          /* the listener's own profile */
	SEL_SERVICE,        /* (a) a service account's DN */
	SEL_SERVER_NAME,    /* (b) server_names holds the SNI */
	SEL_CLIENTS,        /* (c) clients holds the source address */
	SEL_CURRENT,        /* (d) the connection's current profile */
	SEL_FIRST,          /* (e) the first by name among profiles without a selector */
	SEL_PINNED,         /* (f) a profile that owns another listener, when no other takes the name */
};

struct bind_choice {
	enum bind_role role;
	const struct service_account *sa;   /* for service accounts */
	enum select_step step;
	const struct profile *refused;      /* NULL returned: the profile that takes the name but not
	                                       this source address (`clients:`), if any */
};

/* Whether p takes ndn (normalized) as a user's DN: under one of its user bases. */
int profile_takes_dn(const struct profile *p, const char *ndn, size_t len);
/* p's service account with DN ndn (normalized), or NULL. */
const struct service_account *profile_service_account(const struct profile *p, const char *ndn);
/* Whether p may be chosen for a client that sent the server name in o (p's server_names, if any). */
int profile_allows_name(const struct profile *p, const struct bind_origin *o);

/* A network ("10.1.2.0/24", "192.0.2.7", "2001:db8::/32"): 0, or -1 with why set. */
int net_parse(const char *s, struct net *out, char *why, size_t wlen);
/* The network as text ("10.1.2.0/24"). */
void net_format(const struct net *n, char *out, size_t outlen);
/* Whether the address (text; an IPv4-mapped IPv6 address counts as IPv4) is in one of the networks. */
int net_contains(const struct net *nets, size_t n, const char *addr);
/* Whether two networks share an address. */
int net_overlap(const struct net *a, const struct net *b);
/* A server_names entry: a DNS name, or "*." and one: 0, or -1 with why (static text) set. */
int server_name_valid(const char *s, const char **why);
/* Case-insensitive; "*.example.com" matches "a.example.com" only (one label). */
int server_name_match(const char *pattern, const char *name);
/* Whether a client at addr may use p (p's clients, if it has any). */
int profile_allows_address(const struct profile *p, const char *addr);
/* p's login rule: the groups whose members may bind (login, else visible; n 0: everyone). */
char *const *profile_login_rule(const struct profile *p, size_t *n);
/* Whether an end user's bind on a listener without a profile can get p at (b), (c) or (e). */
int profile_shared(const struct profile *p);
/*
 * Whether a and b (both profile_shared()) are ambiguous on a shared
 * listener: they take some of the same bind names, judge them by different
 * login rules, and no selector tells them apart (both without any, or
 * overlapping clients / server_names of the same kind).  1 with what (the
 * names they share, for the message), else 0.
 */
int profile_pair_ambiguous(const struct profile *a, const struct profile *b, char *what, size_t wlen);


/* Password hashes ({PBKDF2-SHA512}, {SSHA256}, {SSHA512}); see aldproxyctl hash-password and password.c. */
int password_hash_make(const char *scheme, const char *pw, size_t pwlen, char *out, size_t outlen);
int password_hash_check(const char *hash, const char *pw, size_t pwlen);   /* 1 match, 0 no, -1 bad hash */
int password_hash_valid(const char *hash);      /* well-formed, without computing it */
/* The last password that matched: checked with one HMAC instead of the slow hash. */
int  password_memo_match(const struct password_memo *m, const char *pw, size_t pwlen);
void password_memo_set(struct password_memo *m, const char *pw, size_t pwlen);

#endif
