/*
 * fuzz_common.c — profiles and temporary files for the harnesses.  See fuzz_common.h.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "visset.h"

/* The same profiles as tests/unit/test_rewrite.c. */
static const char AD_YAML[] =
    "name: ad\n"
    "description: Generic Active Directory emulation over ALD Pro\n"
    "service_accounts:\n"
    "  - CN=svc-portal,CN=Users,DC=example,DC=com\n"
    "user_bases: [\"CN=Users,DC=example,DC=com\"]\n"
    "search_base: DC=example,DC=com\n"
    "directory_suffix: dc=ald,dc=test\n"
    "virtual_tree:\n"
    "  suffix: DC=example,DC=com\n"
    "  map:\n"
    "    - { virtual: \"DC=example,DC=com\",           real: \"dc=ald,dc=test\" }\n"
    "    - { virtual: \"CN=Users,DC=example,DC=com\",  real: \"cn=users,cn=accounts,dc=ald,dc=test\" }\n"
    "    - { virtual: \"CN=Groups,DC=example,DC=com\", real: \"cn=groups,cn=accounts,dc=ald,dc=test\" }\n"
    "attribute_map:\n"
    "  sAMAccountName: uid\n"
    "  userPrincipalName: krbPrincipalName\n"
    "  name: cn\n"
    "objectclass_map:\n"
    "  user: person\n"
    "  group: groupOfNames\n"
    "virtual_attributes:\n"
    "  objectGUID:         { type: guid, from: ipaUniqueID }\n"
    "  userAccountControl: { type: account_control, from: nsAccountLock }\n"
    "  distinguishedName:  { type: dn }\n"
    "  objectCategory:\n"
    "    type: by_class\n"
    "    values:\n"
    "      person: \"CN=Person,CN=Schema,CN=Configuration,{suffix}\"\n"
    "      groupOfNames: \"CN=Group,CN=Schema,CN=Configuration,{suffix}\"\n"
    "  sAMAccountType:\n"
    "    type: by_class\n"
    "    values: { person: \"805306368\", groupOfNames: \"268435456\" }\n"
    "defaults:\n"
    "  mail: \"{uid}@example.com\"\n"
    "  displayName: \"{cn}\"\n"
    "memberof: { groups_only: true }\n"
    "groups:\n"
    "  login: [portal-users]\n"
    "bind_names:\n"
    "  realm: EXAMPLE.COM\n"
    "  netbios: EXAMPLE\n"
    "  formats: [dn, upn, netbios, login]\n"
    "ad_diagnostics: true\n"
    "rootdse: { active_directory: true }\n"
    "attributes: [\"*\"]\n";

static const char VIS_YAML[] =
    "name: vis\n"
    "service_accounts: uid=vis,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
    "user_bases: [\"cn=users,cn=accounts,dc=ald,dc=test\"]\n"
    "search_base: dc=ald,dc=test\n"
    "directory_suffix: dc=ald,dc=test\n"
    "groups: { visible: [portal-users] }\n"
    "attributes: [\"*\"]\n";

static const char CRM_YAML[] =
    "name: crm\n"
    "service_accounts: uid=crm,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
    "user_bases: [\"cn=users,cn=accounts,dc=ald,dc=test\"]\n"
    "search_base: dc=ald,dc=test\n"
    "attribute_map: { sAMAccountName: uid }\n"
    "virtual_attributes:\n"
    "  objectGUID: { type: guid }\n"
    "bind_names:\n"
    "  realm: ALD.TEST\n"
    "  formats: [upn]\n"
    "attributes: [sAMAccountName, cn, mail, objectGUID, member, memberOf, uid]\n";

#define MAX_TMPDIRS 8
static char tmpdirs[MAX_TMPDIRS][256];
static int ntmpdirs;

static void
remove_tmpdirs(void)
{
	for (int i = 0; i < ntmpdirs; i++)
		fz_rm_rf(tmpdirs[i]);
	ntmpdirs = 0;
}

void
fz_rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		unlink(path);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		fz_rm_rf(p);
	}
	closedir(d);
	rmdir(path);
}

void
fz_tmpdir(char *out, size_t len, const char *tag)
{
	const char *base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	int n = snprintf(out, len, "%s/aldfuzz-%s.XXXXXX", base, tag);
	if (n < 0 || (size_t)n >= len || mkdtemp(out) == NULL) {
		fprintf(stderr, "fuzz: cannot create a temporary directory under %s\n", base);
		abort();
	}
	if (ntmpdirs == 0)
		atexit(remove_tmpdirs);
	if (ntmpdirs < MAX_TMPDIRS)
		snprintf(tmpdirs[ntmpdirs++], sizeof(tmpdirs[0]), "%s", out);
}

int
fz_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	int ok = len == 0 || fwrite(data, 1, len, fp) == len;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

#define MAX_GUARDED 16
static struct {
	unsigned char *p, *map;
	size_t span;
} guarded[MAX_GUARDED];

static int
guard_mode(void)
{
	static int mode = -1;
	if (mode < 0) {
		const char *g = getenv("ALDPROXY_FUZZ_GUARD");
		mode = g != NULL && strcmp(g, "1") == 0;
	}
	return mode;
}

unsigned char *
fz_dup(const uint8_t *data, size_t len)
{
	if (guard_mode()) {
		size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = (len + pg - 1) / pg * pg + pg;
		unsigned char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || mprotect(m + span - pg, pg, PROT_NONE) != 0)
			abort();
		unsigned char *p = m + span - pg - len;
		if (len)
			memcpy(p, data, len);
		for (int i = 0; i < MAX_GUARDED; i++)
			if (guarded[i].p == NULL) {
				guarded[i].p = p;
				guarded[i].map = m;
				guarded[i].span = span;
				return p;
			}
		abort();
	}
	unsigned char *p = malloc(len + 1);
	if (p == NULL)
		abort();
	if (len)
		memcpy(p, data, len);
	p[len] = 0xff;      /* the spare byte liblber reads */
	return p;
}

void
fz_free(unsigned char *p)
{
	if (p == NULL)
		return;
	if (guard_mode()) {
		for (int i = 0; i < MAX_GUARDED; i++)
			if (guarded[i].p == p) {
				munmap(guarded[i].map, guarded[i].span);
				guarded[i].p = NULL;
				return;
			}
		abort();
	}
	free(p);
}

int
fz_inside(const void *p, size_t n, const void *base, size_t len)
{
	const unsigned char *a = p, *b = base;
	if (n == 0)
		return 1;
	return a != NULL && a >= b && n <= len && (size_t)(a - b) <= len - n;
}

static struct fz_profiles profiles;

static void
free_profiles(void)
{
	profile_set_free(profiles.set);
	profiles.set = NULL;
}

const struct fz_profiles *
fz_profiles(void)
{
	if (profiles.set != NULL)
		return &profiles;
	char dir[256], err[1024];
	fz_tmpdir(dir, sizeof(dir), "profiles");
	if (fz_write(dir, "active-directory.yaml", AD_YAML, strlen(AD_YAML)) < 0 ||
	    fz_write(dir, "vis.yaml", VIS_YAML, strlen(VIS_YAML)) < 0 || fz_write(dir, "crm.yml", CRM_YAML, strlen(CRM_YAML)) < 0) {
		fprintf(stderr, "fuzz: cannot write the profiles to %s\n", dir);
		abort();
	}
	if (profile_set_load(dir, NULL, &profiles.set, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: profile_set_load: %s\n", err);
		abort();
	}
	fz_rm_rf(dir);
	profiles.ad = profile_find(profiles.set, "ad");
	profiles.vis = profile_find(profiles.set, "vis");
	profiles.crm = profile_find(profiles.set, "crm");
	FZ_CHECK(profiles.ad != NULL && profiles.vis != NULL && profiles.crm != NULL);
	/* the users the directory would list as members of portal-users */
	static const char *const visible_dns[] = { "uid=alice,cn=users,cn=accounts,dc=ald,dc=test" };
	static const char *const visible_uids[] = { "alice" };
	FZ_CHECK(visset_replace(profiles.vis->vis, visible_dns, 1, visible_uids, 1) == 0);
	atexit(free_profiles);
	return &profiles;
}
