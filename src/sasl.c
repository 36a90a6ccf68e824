/*
 * sasl.c — GSSAPI bind of aldproxy's pooled directory connections.
 * See sasl.h.
 */
#include "sasl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <sasl/sasl.h>

#include "config.h"
#include "log.h"
#include "pdu.h"

struct sasl_bind {
	sasl_conn_t *conn;
};

/*
 * One GSSAPI credential for the process, over aldproxy's ccache and
 * keytab, handed to every bind (SASL_GSS_CREDS) so the mechanism does not
 * acquire (and leak) one per connection.  It reads the ccache as tickets
 * are renewed into it, so it lives as long as the process.
 */
static gss_cred_id_t process_cred = GSS_C_NO_CREDENTIAL;

static void
acquire_cred(const struct config *cfg)
{
	OM_uint32 major, minor;
	gss_buffer_desc nb = { strlen(cfg->principal), cfg->principal };
	gss_name_t name = GSS_C_NO_NAME;
	gss_key_value_element_desc elems[2] = { { "ccache", cfg->ccache }, { "client_keytab", cfg->keytab } };
	gss_key_value_set_desc store = { 2, elems };
	if (process_cred != GSS_C_NO_CREDENTIAL)
		return;
	major = gss_import_name(&minor, &nb, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
	if (GSS_ERROR(major))
		return;
	major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_INITIATE, &store,
	    &process_cred, NULL, NULL);
	if (GSS_ERROR(major))
		process_cred = GSS_C_NO_CREDENTIAL;
	gss_release_name(&minor, &name);
}

int
sasl_backend_init(const struct config *cfg, char *err, size_t errlen)
{
	/* the GSSAPI mechanism finds the credentials through these */
	setenv("KRB5CCNAME", cfg->ccache, 1);
	setenv("KRB5_CLIENT_KTNAME", cfg->keytab, 1);
	int rc = sasl_client_init(NULL);
	if (rc != SASL_OK) {
		snprintf(err, errlen, "Cyrus SASL: cannot initialise the client library: %s", sasl_errstring(rc, NULL, NULL));
		return -1;
	}
	return 0;
}

void
sasl_backend_done(void)
{
	OM_uint32 minor;
	if (process_cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &process_cred);
	/* sasl_client_done() would unload the mechanism plugins; they stay
	 * until exit so leak reports about them (MIT's profile cache) name
	 * their library and can be told apart from aldproxy's own */
}

long
sasl_backend_kinit(const struct config *cfg, char *err, size_t errlen)
{
	krb5_context ctx = NULL;
	krb5_keytab kt = NULL;
	krb5_principal me = NULL;
	krb5_ccache cc = NULL;
	krb5_creds creds;
	krb5_get_init_creds_opt *opt = NULL;
	long left = -1;
	int have_creds = 0;
	memset(&creds, 0, sizeof(creds));
	krb5_error_code kr = krb5_init_context(&ctx);
	if (kr != 0) {
		snprintf(err, errlen, "Kerberos: cannot initialise: error %d", (int)kr);
		return -1;
	}
	const char *step = "parse the principal";
	if ((kr = krb5_parse_name(ctx, cfg->principal, &me)) != 0)
		goto out;
	step = "open the keytab";
	if ((kr = krb5_kt_resolve(ctx, cfg->keytab, &kt)) != 0)
		goto out;
	step = "get a ticket with the keytab";
	if ((kr = krb5_get_init_creds_opt_alloc(ctx, &opt)) != 0)
		goto out;
	if ((kr = krb5_get_init_creds_keytab(ctx, &creds, me, kt, 0, NULL, opt)) != 0)
		goto out;
	have_creds = 1;
	step = "store the ticket";
	if ((kr = krb5_cc_resolve(ctx, cfg->ccache, &cc)) != 0 || (kr = krb5_cc_initialize(ctx, cc, me)) != 0 ||
	    (kr = krb5_cc_store_cred(ctx, cc, &creds)) != 0)
		goto out;
	krb5_timestamp now;
	krb5_timeofday(ctx, &now);
	left = (long)creds.times.endtime - (long)now;
	acquire_cred(cfg);
out:
	if (kr != 0) {
		const char *msg = krb5_get_error_message(ctx, kr);
		snprintf(err, errlen, "Kerberos: cannot %s for %s from %s: %s", step, cfg->principal, cfg->keytab, msg);
		krb5_free_error_message(ctx, msg);
		left = -1;
	}
	if (have_creds)
		krb5_free_cred_contents(ctx, &creds);
	if (opt)
		krb5_get_init_creds_opt_free(ctx, opt);
	if (cc)
		krb5_cc_close(ctx, cc);
	if (kt)
		krb5_kt_close(ctx, kt);
	if (me)
		krb5_free_principal(ctx, me);
	krb5_free_context(ctx);
	return left;
}

/* BindRequest { 3, "", sasl [3] { mechanism, credentials } }, added whole or not at all */
static int
write_bind(struct evbuffer *out, int msgid, const char *cred, unsigned len, int has_cred)
{
	return pdu_sasl_bind(out, msgid, "GSSAPI", cred, has_cred ? len : 0, has_cred);
}

struct sasl_bind *
sasl_bind_start(const char *host, int msgid, struct evbuffer *out, char *err, size_t errlen)
{
	struct sasl_bind *sb = calloc(1, sizeof(*sb));
	const char *cred = NULL, *mech = NULL;
	unsigned len = 0;
	if (sb == NULL)
		return NULL;
	int rc = sasl_client_new("ldap", host, NULL, NULL, NULL, 0, &sb->conn);
	if (rc == SASL_OK) {
		/* TLS protects the connection: no SASL security layer */
		sasl_security_properties_t props;
		memset(&props, 0, sizeof(props));
		props.min_ssf = 0;
		props.max_ssf = 0;
		props.maxbufsize = 0;
		sasl_setprop(sb->conn, SASL_SEC_PROPS, &props);
		if (process_cred != GSS_C_NO_CREDENTIAL)
			sasl_setprop(sb->conn, SASL_GSS_CREDS, process_cred);
		rc = sasl_client_start(sb->conn, "GSSAPI", NULL, &cred, &len, &mech);
	}
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		snprintf(err, errlen, "GSSAPI: %s", sb->conn ? sasl_errdetail(sb->conn) : sasl_errstring(rc, NULL, NULL));
		sasl_bind_free(sb);
		return NULL;
	}
	if (write_bind(out, msgid, cred, len, cred != NULL) < 0) {
		snprintf(err, errlen, "GSSAPI: cannot write the bind request");
		sasl_bind_free(sb);
		return NULL;
	}
	return sb;
}

int
sasl_bind_step(struct sasl_bind *sb, int code, const struct berval *creds, int msgid, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char *cred = NULL;
	unsigned len = 0;
	if (code != 0 && code != 14 /* saslBindInProgress */) {
		snprintf(err, errlen, "the directory refused the GSSAPI bind (result %d)", code);
		return -1;
	}
	if (code == 0 && (creds == NULL || creds->bv_len == 0))
		return 1;
	int rc = sasl_client_step(sb->conn, creds ? creds->bv_val : NULL, creds ? (unsigned)creds->bv_len : 0, NULL,
	    &cred, &len);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		snprintf(err, errlen, "GSSAPI: %s", sasl_errdetail(sb->conn));
		return -1;
	}
	if (code == 0)
		return 1;       /* the server's last token was checked */
	if (write_bind(out, msgid, cred, len, 1) < 0) {
		snprintf(err, errlen, "GSSAPI: cannot write the bind request");
		return -1;
	}
	return 0;
}

void
sasl_bind_free(struct sasl_bind *sb)
{
	if (sb == NULL)
		return;
	if (sb->conn)
		sasl_dispose(&sb->conn);
	free(sb);
}
