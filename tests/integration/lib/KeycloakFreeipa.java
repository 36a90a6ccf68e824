/*
 * KeycloakFreeipa.java — Keycloak's LDAP user federation with the "Red Hat
 * Directory Server" vendor preset (FreeIPA settings) replayed through aldproxy
 * with Java's own LDAP client, JNDI (com.sun.jndi.ldap), as Keycloak's
 * org.keycloak.storage.ldap runs it; for test_product_keycloak-freeipa.sh.
 *
 * Usage: java KeycloakFreeipa.java SERVICE_PASSWORD LOGIN_GROUP OUT_DIR
 * Environment (tests/rig/rig.sh, lib/product.sh): PINNED_URL (an ldaps
 * listener given to the keycloak-freeipa profile alone), CA_FILE, USERS_DN,
 * GROUPS_DN, BASE_DN, DIRECTORY_KIND; HIDDEN_UUID, the ipaUniqueID of a user
 * outside the login group (read by the shell straight from the directory).
 *
 * What Keycloak does, and this replays:
 *   LDAPContextManager: the service context, an InitialLdapContext with
 *     com.sun.jndi.ldap.connect.pool=true and a simple bind as the Bind DN,
 *     taken from the pool for each operation and closed after it;
 *   LDAPStorageProvider.loadLDAPUserByUsername: (&(uid=<login>)(objectclass=inetOrgPerson)(objectclass=organizationalPerson))
 *     under Users DN, subtree, returning what the default mappers of this
 *     preset read plus the UUID attribute and objectClass;
 *   LDAPOperationManager.authenticate: a NEW InitialLdapContext with pooling
 *     off and no principal, then SECURITY_PRINCIPAL/CREDENTIALS added and
 *     reconnect(): the simple bind of the user's DN;
 *   LDAPOperationManager.lookupById: (ipaUniqueID=<uuid>) (string, not binary);
 *   searchPaginated: PagedResultsControl(batch, cookie, Control.CRITICAL), all
 *     pages on one context;
 *   GroupLDAPStorageMapper + UserRolesRetrieveStrategy.LoadRolesByMember:
 *     (&<mapper filter>(member=<user DN>)(objectclass=groupOfNames)) under
 *     Groups DN, paged; GetRolesFromUserMemberOfAttribute:
 *     (&(|(cn=g1)...)(objectclass=groupOfNames)); the group sync with
 *     "Preserve Group Inheritance": every group with its member values, and
 *     GroupTreeResolver's one-parent rule.
 * Results go to OUT_DIR/results.tsv (KEY<TAB>VALUE) and OUT_DIR/sync*.dns
 * (lower-cased DNs) for the shell test to compare with ldapsearch straight
 * against the directory.  Exit status 1 with "FAIL (KeycloakFreeipa): ..."
 * when a step Keycloak needs does not work at all.
 */
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;
import javax.naming.ldap.Control;
import javax.naming.ldap.InitialLdapContext;
import javax.naming.ldap.LdapContext;
import javax.naming.ldap.PagedResultsControl;
import javax.naming.ldap.PagedResultsResponseControl;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class KeycloakFreeipa {
	static final Map<String, String> E = System.getenv();
	static final String URL = E.get("PINNED_URL");
	static final String USERS = E.get("USERS_DN");
	static final String GROUPS = E.get("GROUPS_DN");
	static final String SUFFIX = E.get("BASE_DN");
	static final String KIND = E.getOrDefault("DIRECTORY_KIND", "slapd");
	static final String PW = "Secret123";
	static final String SVC = "uid=keycloak-freeipa,cn=sysaccounts,cn=etc," + SUFFIX;
	static final String CLASSES = "(objectclass=inetOrgPerson)(objectclass=organizationalPerson)";
	static final String UUID_ATTR = "ipaUniqueID";
	/* the preset's default mappers (username uid, first name cn — set to
	 * givenName as the profile's header says —, last name sn, email mail,
	 * creation/modify date), Kerberos principal, and what
	 * LDAPOperationManager.getReturningAttributes adds: UUID and objectClass */
	static final String[] USER_ATTRS = { "uid", "cn", "givenName", "sn", "mail", "createTimestamp",
		"modifyTimestamp", "krbPrincipalName", UUID_ATTR, "objectclass" };
	static final int BATCH = 100;    // "Batch size" of the sync, the page size
	static String svcPw, loginGroup;
	static PrintWriter results;
	static int failures = 0;

	static void fail(String msg) {
		System.err.println("FAIL (KeycloakFreeipa): " + msg);
		System.err.flush();
		if (results != null)
			results.close();
		System.exit(1);
	}

	static void check(boolean cond, String msg) {
		if (!cond)
			fail(msg);
	}

	static void ok(String msg) {
		System.out.println("ok - " + msg);
		System.out.flush();
	}

	static void result(String key, String value) {
		results.println(key + "\t" + value);
		results.flush();
	}

	static String udn(String login) {
		return "uid=" + login + "," + USERS;
	}

	/* Keycloak's "Use Truststore SPI: always" with the proxy's CA in it */
	static void trustRigCa() throws Exception {
		byte[] pem = Files.readAllBytes(Paths.get(E.get("CA_FILE")));
		CertificateFactory cf = CertificateFactory.getInstance("X.509");
		KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
		ks.load(null, null);
		int i = 0;
		for (Certificate c : cf.generateCertificates(new ByteArrayInputStream(pem)))
			ks.setCertificateEntry("rig-ca-" + i++, c);
		TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
		tmf.init(ks);
		SSLContext ctx = SSLContext.getInstance("TLS");
		ctx.init(null, tmf.getTrustManagers(), null);
		SSLContext.setDefault(ctx);
	}

	/* LDAPContextManager.getNonAuthConnectionProperties */
	static Hashtable<Object, Object> nonAuthEnv() {
		Hashtable<Object, Object> env = new Hashtable<>();
		env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
		env.put(Context.PROVIDER_URL, URL);
		env.put("com.sun.jndi.ldap.connect.pool", "true");   // "Connection pooling" on (the default)
		env.put("com.sun.jndi.ldap.connect.timeout", "10000");
		env.put("com.sun.jndi.ldap.read.timeout", "30000");
		return env;
	}

	/* the service context (LDAPContextManager.createLdapContext, not StartTLS) */
	static LdapContext service() throws NamingException {
		Hashtable<Object, Object> env = nonAuthEnv();
		env.put(Context.SECURITY_AUTHENTICATION, "simple");
		env.put(Context.SECURITY_PRINCIPAL, SVC);
		env.put(Context.SECURITY_CREDENTIALS, svcPw.toCharArray());
		return new InitialLdapContext(env, null);
	}

	static SearchControls controls(String[] attrs) {
		SearchControls sc = new SearchControls();
		sc.setSearchScope(SearchControls.SUBTREE_SCOPE);   // "Search scope: Subtree"
		sc.setReturningObjFlag(false);
		sc.setReturningAttributes(attrs);
		return sc;
	}

	/* LDAPOperationManager.search: one operation on a pooled service context */
	static List<SearchResult> search(String base, String filter, String[] attrs) throws NamingException {
		LdapContext ctx = service();
		try {
			List<SearchResult> out = new ArrayList<>();
			NamingEnumeration<SearchResult> en = ctx.search(base, filter, controls(attrs));
			while (en.hasMore())
				out.add(en.next());
			en.close();
			return out;
		} finally {
			ctx.close();
		}
	}

	/* LDAPOperationManager.searchPaginated, page after page on the same context
	 * (LDAPQuery's PaginationContext), as LDAPUtils.loadAllLDAPObjects and the
	 * sync loop call it: {entries, pages} */
	static List<SearchResult> paged(String base, String filter, String[] attrs, int size, int[] pages)
	    throws NamingException, IOException {
		LdapContext ctx = service();
		List<SearchResult> out = new ArrayList<>();
		try {
			byte[] cookie = null;
			pages[0] = 0;
			do {
				ctx.setRequestControls(new Control[] { new PagedResultsControl(size, cookie, Control.CRITICAL) });
				NamingEnumeration<SearchResult> en = ctx.search(base, filter, controls(attrs));
				int n = 0;
				while (en.hasMore()) {
					out.add(en.next());
					n++;
				}
				en.close();
				pages[0]++;
				check(n <= size, "page " + pages[0] + " of " + filter + " has " + n + " entries, page size " + size);
				Control[] rc = ctx.getResponseControls();
				cookie = null;
				boolean seen = false;
				for (Control c : rc == null ? new Control[0] : rc) {
					if (c instanceof PagedResultsResponseControl) {
						cookie = ((PagedResultsResponseControl) c).getCookie();
						seen = true;
					}
				}
				check(seen, "page " + pages[0] + " of " + filter + " came back without the paged results control "
				    + "(Keycloak warns and stops: \"Did you hit a query result size limit?\")");
				check(pages[0] < 10000, "paging never ends");
			} while (cookie != null && cookie.length > 0);
		} finally {
			ctx.close();
		}
		return out;
	}

	/* LDAPOperationManager.authenticate: "ok", or what Keycloak sees */
	static String authenticate(String dn, String password) {
		LdapContext auth = null;
		try {
			Hashtable<Object, Object> env = nonAuthEnv();
			// Never use connection pool to prevent password caching
			env.put("com.sun.jndi.ldap.connect.pool", "false");
			// the connection first, without principal and credentials (room for StartTLS)
			auth = new InitialLdapContext(env, null);
			auth.addToEnvironment(Context.SECURITY_AUTHENTICATION, "simple");
			auth.addToEnvironment(Context.SECURITY_PRINCIPAL, dn);
			auth.addToEnvironment(Context.SECURITY_CREDENTIALS, password);
			auth.reconnect(null);   // the bind
			return "ok";
		} catch (javax.naming.AuthenticationException ae) {
			// Keycloak: invalid credentials
			return "AuthenticationException " + code(ae) + " " + oneLine(ae);
		} catch (NamingException e) {
			// Keycloak: "Unexpected exception when validating password", login refused
			return e.getClass().getSimpleName() + " " + code(e) + " " + oneLine(e);
		} finally {
			if (auth != null) {
				try {
					auth.close();
				} catch (NamingException e) {
					// closing a failed context
				}
			}
		}
	}

	static String code(NamingException e) {
		Matcher m = Pattern.compile("LDAP: error code (\\d+)").matcher(String.valueOf(e.getMessage()));
		return m.find() ? m.group(1) : "-";
	}

	static String oneLine(Throwable e) {
		return String.valueOf(e.getMessage()).replaceAll("[\\t\\r\\n]+", " ");
	}

	/* EqualCondition with EscapeStrategy.DEFAULT (RFC 4515 specials) */
	static String esc(String v) {
		StringBuilder b = new StringBuilder();
		for (char ch : v.toCharArray()) {
			switch (ch) {
			case '\\': b.append("\\5c"); break;
			case '*': b.append("\\2a"); break;
			case '(': b.append("\\28"); break;
			case ')': b.append("\\29"); break;
			case '\0': b.append("\\00"); break;
			default: b.append(ch);
			}
		}
		return b.toString();
	}

	static List<String> values(SearchResult r, String name) throws NamingException {
		List<String> out = new ArrayList<>();
		Attribute a = r.getAttributes().get(name);   // JNDI: case-insensitive
		if (a == null)
			return out;
		NamingEnumeration<?> en = a.getAll();
		while (en.hasMore()) {
			Object v = en.next();
			out.add(v instanceof byte[] ? new String((byte[]) v, StandardCharsets.UTF_8) : v.toString().trim());
		}
		return out;
	}

	static String first(SearchResult r, String name) throws NamingException {
		List<String> v = values(r, name);
		return v.isEmpty() ? null : v.get(0);
	}

	static String dnOf(SearchResult r) {
		return r.getNameInNamespace().toLowerCase(Locale.ROOT);
	}

	/* the last RDN value of a DN under Groups DN: cn=NAME,... */
	static String rdnValue(String dn) {
		String s = dn.substring(dn.indexOf('=') + 1);
		return s.substring(0, s.indexOf(',')).toLowerCase(Locale.ROOT);
	}

	static boolean underGroups(String dn) {
		return dn.toLowerCase(Locale.ROOT).endsWith("," + GROUPS.toLowerCase(Locale.ROOT));
	}

	static String joined(Collection<String> c) {
		return c.isEmpty() ? "-" : String.join(",", new TreeSet<>(c));
	}

	/* ---- the group mapper ---------------------------------------------------------------- */

	static final String MAPPER_FILTER = "(!(cn=%s))";   // the mapper's LDAP Filter: the login group left out
	static Map<String, String> parentOf = new HashMap<>();   // the Keycloak group tree: child -> parent

	/* GroupLDAPStorageMapper.syncDataFromFederationProviderToKeycloak with
	 * "Preserve Group Inheritance": every group, its subgroups (member values
	 * under Groups DN), GroupTreeResolver: null when the tree resolves, else
	 * Keycloak's message */
	static String groupSync(String customFilter, Map<String, String> parents, int[] groupCount) throws Exception {
		int[] pages = { 0 };
		String filter = "(&" + (customFilter == null ? "" : customFilter) + "(objectclass=groupOfNames))";
		List<SearchResult> groups = paged(GROUPS, filter, new String[] { "cn", "member", "objectclass" }, BATCH, pages);
		Map<String, Set<String>> subgroups = new LinkedHashMap<>();
		for (SearchResult g : groups) {
			String name = first(g, "cn").toLowerCase(Locale.ROOT);
			Set<String> subs = new TreeSet<>();
			for (String m : values(g, "member"))
				if (underGroups(m))
					subs.add(rdnValue(m));
			subgroups.put(name, subs);
		}
		groupCount[0] = groups.size();
		Map<String, Set<String>> parentsTree = new HashMap<>();
		for (String g : subgroups.keySet())
			parentsTree.computeIfAbsent(g, k -> new TreeSet<>());
		for (Map.Entry<String, Set<String>> e : subgroups.entrySet()) {
			for (String child : e.getValue()) {
				if (!subgroups.containsKey(child))
					return "Group '" + child + "' referenced as member of group '" + e.getKey()
					    + "' doesn't exist in LDAP tree";   // ignoreMissingGroups off
				parentsTree.computeIfAbsent(child, k -> new TreeSet<>()).add(e.getKey());
			}
		}
		for (Map.Entry<String, Set<String>> e : new java.util.TreeMap<>(parentsTree).entrySet()) {
			if (e.getValue().size() > 1)
				return "Group '" + e.getKey() + "' detected to have multiple parents. This is not allowed in "
				    + "Keycloak. Parents are: " + e.getValue();
			if (e.getValue().size() == 1)
				parents.put(e.getKey(), e.getValue().iterator().next());
		}
		return null;
	}

	static String path(String group) {
		StringBuilder p = new StringBuilder("/" + group);
		Set<String> seen = new HashSet<>();
		for (String g = parentOf.get(group); g != null && seen.add(g); g = parentOf.get(g))
			p.insert(0, "/" + g);
		return p.toString();
	}

	/* LoadRolesByMember: the user's direct groups */
	static Set<String> groupsByMember(String userDn) throws Exception {
		int[] pages = { 0 };
		String filter = "(&" + String.format(MAPPER_FILTER, loginGroup) + "(member=" + esc(userDn)
		    + ")(objectclass=groupOfNames))";
		Set<String> out = new TreeSet<>();
		for (SearchResult g : paged(GROUPS, filter, new String[] { "cn" }, BATCH, pages))
			out.add(first(g, "cn").toLowerCase(Locale.ROOT));
		return out;
	}

	/* GetRolesFromUserMemberOfAttribute: memberOf values under Groups DN,
	 * fetched by cn, kept when the user is really memberOf that DN */
	static Set<String> groupsByMemberOf(String login) throws Exception {
		List<SearchResult> u = search(USERS, "(&(uid=" + esc(login) + ")" + CLASSES + ")",
		    new String[] { "uid", "memberOf", UUID_ATTR, "objectclass" });
		check(u.size() == 1, "memberOf lookup of " + login + ": " + u.size() + " entries");
		Set<String> memberOf = new HashSet<>();
		StringBuilder or = new StringBuilder();
		for (String v : values(u.get(0), "memberOf")) {
			if (!underGroups(v))
				continue;
			memberOf.add(v.toLowerCase(Locale.ROOT));
			or.append("(cn=").append(esc(rdnValue(v))).append(")");
		}
		Set<String> out = new TreeSet<>();
		if (or.length() == 0)
			return out;
		int[] pages = { 0 };
		for (SearchResult g : paged(GROUPS, "(&(|" + or + ")(objectclass=groupOfNames))", new String[] { "cn" }, BATCH,
		    pages))
			if (memberOf.contains(dnOf(g)))
				out.add(first(g, "cn").toLowerCase(Locale.ROOT));
		return out;
	}

	/* ---- a login, as Keycloak's username/password form runs it ------------------------------ */

	static void login(String login, String password) throws Exception {
		String k = "login." + login + ".";
		List<SearchResult> u = search(USERS, "(&(uid=" + esc(login) + ")" + CLASSES + ")", USER_ATTRS);
		check(u.size() <= 1, "uid=" + login + " found " + u.size() + " entries");
		if (u.isEmpty()) {
			// LDAPStorageProvider: no such user; the form says "Invalid username or password"
			result(k + "found", "-");
			return;
		}
		SearchResult r = u.get(0);
		String dn = dnOf(r);
		result(k + "found", dn);
		result(k + "username", String.valueOf(first(r, "uid")));
		result(k + "uuid", String.valueOf(first(r, UUID_ATTR)));
		result(k + "email", String.valueOf(first(r, "mail")));
		result(k + "firstName", String.valueOf(first(r, "givenName")));
		result(k + "lastName", String.valueOf(first(r, "sn")));
		result(k + "createTimestamp", String.valueOf(first(r, "createTimestamp")));
		result(k + "objectClass", joined(lower(values(r, "objectClass"))));
		result(k + "bind", authenticate(r.getNameInNamespace(), password));
		Set<String> direct = groupsByMember(r.getNameInNamespace());
		result(k + "groups.direct", joined(direct));
		Set<String> paths = new TreeSet<>(), inherited = new TreeSet<>();
		for (String g : direct) {
			paths.add(path(g));
			Set<String> seen = new HashSet<>();
			for (String p = g; p != null && seen.add(p); p = parentOf.get(p))
				inherited.add(p);
		}
		result(k + "groups.paths", paths.isEmpty() ? "-" : String.join(",", paths));
		result(k + "groups.inherited", joined(inherited));
		result(k + "groups.memberof", joined(groupsByMemberOf(login)));
	}

	static List<String> lower(List<String> l) {
		List<String> out = new ArrayList<>();
		for (String s : l)
			out.add(s.toLowerCase(Locale.ROOT));
		return out;
	}

	static void writeDns(Path file, List<SearchResult> rs) throws IOException {
		TreeSet<String> dns = new TreeSet<>();
		for (SearchResult r : rs)
			dns.add(dnOf(r));
		StringBuilder b = new StringBuilder();
		for (String d : dns)
			b.append(d).append('\n');
		Files.write(file, b.toString().getBytes(StandardCharsets.UTF_8));
	}

	public static void main(String[] args) throws Exception {
		check(args.length == 3, "usage: KeycloakFreeipa SERVICE_PASSWORD LOGIN_GROUP OUT_DIR");
		check(URL != null && USERS != null && GROUPS != null && SUFFIX != null, "run under the rig (PINNED_URL, ...)");
		svcPw = args[0];
		loginGroup = args[1];
		Path out = Paths.get(args[2]);
		results = new PrintWriter(Files.newBufferedWriter(out.resolve("results.tsv"), StandardCharsets.UTF_8));
		// LDAPStorageProviderFactory's JNDI pool settings: ldaps connections pooled too
		System.setProperty("com.sun.jndi.ldap.connect.pool.protocol", "plain ssl");
		System.setProperty("com.sun.jndi.ldap.connect.pool.authentication", "none simple");
		trustRigCa();

		// ---- the service bind ("Test authentication" in the console)
		try {
			service().close();
		} catch (NamingException e) {
			fail("the service bind as " + SVC + ": " + e);
		}
		ok("service bind as " + SVC + " (pooled JNDI context, " + URL + ")");

		// ---- group sync, "Preserve Group Inheritance" on: without and with the mapper's LDAP Filter
		int[] n = { 0 };
		String err = groupSync(null, new HashMap<>(), n);
		result("groupsync.nofilter", err == null ? "ok " + n[0] : err);
		err = groupSync(String.format(MAPPER_FILTER, loginGroup), parentOf, n);
		check(err == null, "group sync with the mapper filter " + String.format(MAPPER_FILTER, loginGroup) + ": " + err);
		result("groupsync.filter", "ok " + n[0]);
		ok("group sync (paged, critical, all groups with member): " + n[0] + " groups, tree resolved with "
		    + String.format(MAPPER_FILTER, loginGroup));

		// ---- logins: member, nested member, wrong password, locked, unknown, outside the group
		login("alice", PW);
		login("carol", PW);
		login("dave", PW);
		login("eve", PW);
		login("nosuchuser", PW);
		login("user0015", PW);
		login("admin", "AdminPass1");
		result("bind.alice.wrong", authenticate(udn("alice"), "wrong-password"));
		result("bind.user0015", authenticate(udn("user0015"), PW));
		result("bind.admin", authenticate(udn("admin"), "AdminPass1"));
		ok("logins replayed (lookup by uid, bind on a separate unpooled context, groups both ways)");

		// ---- re-validation by UUID (LDAPOperationManager.lookupById)
		List<SearchResult> a = search(USERS, "(&(uid=alice)" + CLASSES + ")", USER_ATTRS);
		check(a.size() == 1, "alice: " + a.size() + " entries");
		String uuid = first(a.get(0), UUID_ATTR);
		check(uuid != null, "alice has no " + UUID_ATTR + " through the proxy");
		List<SearchResult> byId = search(USERS, "(" + UUID_ATTR + "=" + esc(uuid) + ")", USER_ATTRS);
		result("uuid.alice", byId.size() == 1 ? dnOf(byId.get(0)) : byId.size() + " entries");
		byId = search(USERS, "(&(" + UUID_ATTR + "=" + esc(uuid) + ")(!(nsAccountLock=TRUE)))", USER_ATTRS);
		result("uuid.alice.customfilter", byId.size() == 1 ? dnOf(byId.get(0)) : byId.size() + " entries");
		String hidden = E.get("HIDDEN_UUID");
		if (hidden != null) {
			byId = search(USERS, "(" + UUID_ATTR + "=" + esc(hidden) + ")", USER_ATTRS);
			result("uuid.hidden", byId.isEmpty() ? "-" : dnOf(byId.get(0)));
		}
		// the preset's own UUID attribute, nsuniqueid (389-ds keeps it on every entry)
		List<SearchResult> ns = search(USERS, "(&(uid=alice)" + CLASSES + ")", new String[] { "uid", "nsuniqueid",
			"objectclass" });
		String nsu = ns.size() == 1 ? first(ns.get(0), "nsuniqueid") : null;
		if (nsu == null) {
			result("nsuniqueid.alice", "absent");
		} else {
			List<SearchResult> r = search(USERS, "(nsuniqueid=" + esc(nsu) + ")", new String[] { "uid", "nsuniqueid",
				"objectclass" });
			result("nsuniqueid.alice", nsu + " " + (r.size() == 1 ? dnOf(r.get(0)) : r.size() + " entries"));
		}
		ok("re-validation by " + UUID_ATTR + " (string) and nsuniqueid replayed");

		// ---- the sync: paged, critical, batch 100; then with the custom filter
		int[] pages = { 0 };
		List<SearchResult> all = paged(USERS, "(&" + CLASSES + ")", USER_ATTRS, BATCH, pages);
		for (SearchResult r : all) {
			check(first(r, "uid") != null, dnOf(r) + ": no username (uid) — Keycloak refuses to import it");
			check(first(r, UUID_ATTR) != null, dnOf(r) + ": no " + UUID_ATTR + " — Keycloak cannot link it");
		}
		int syncPages = pages[0];
		writeDns(out.resolve("sync.dns"), all);
		result("sync.users", String.valueOf(all.size()));
		result("sync.pages", String.valueOf(syncPages));
		List<SearchResult> enabled = paged(USERS, "(&(!(nsAccountLock=TRUE))" + CLASSES + ")", USER_ATTRS, BATCH, pages);
		writeDns(out.resolve("sync_enabled.dns"), enabled);
		result("sync_enabled.users", String.valueOf(enabled.size()));
		ok("sync: " + all.size() + " users in " + syncPages + " pages of " + BATCH + " (critical), "
		    + enabled.size() + " with the custom filter (!(nsAccountLock=TRUE))");
		results.close();
	}
}
