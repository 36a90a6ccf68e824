/*
 * ctl.c — aldproxyctl, the administrator's command-line tool.
 *
 * In this release it checks configurations (the same checks as
 * `aldproxyd -t`, without starting anything) and lists the profiles a
 * configuration loads.  The control-socket commands (status, health,
 * stats, reload) come with the control socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "load.h"
#include "profile.h"

#define DEFAULT_CONFIG "/etc/aldproxy/aldproxy.yaml"

static void
usage(void)
{
	fprintf(stderr, "usage: aldproxyctl [-c FILE] COMMAND\n"
	    "commands:\n"
	    "  check      check the configuration and its profiles\n"
	    "  profiles   list the profiles with their service accounts and search bases\n"
	    "  version    print the version\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		path = argv[i + 1];
		i += 2;
	}
	if (i != argc - 1)
		usage();
	const char *cmd = argv[i];
	if (strcmp(cmd, "version") == 0) {
		printf("aldproxyctl 0.1.0\n");
		return 0;
	}
	if (strcmp(cmd, "check") != 0 && strcmp(cmd, "profiles") != 0) {
		fprintf(stderr, "aldproxyctl: unknown command '%s'\n", cmd);
		usage();
	}
	char err[1024];
	struct loaded ld;
	if (load_all(path, &ld, err, sizeof(err)) < 0) {
		fprintf(stderr, "aldproxyctl: %s\n", err);
		return 1;
	}
	struct profile_set *set = ld.profiles;
	if (strcmp(cmd, "check") == 0) {
		printf("%s: OK, %zu profile(s)\n", path, set->n);
	} else {
		for (size_t k = 0; k < set->n; k++) {
			const struct profile *p = set->v[k];
			printf("%s\t%s\tsearch_base=%s\tservice_accounts=%zu\tuser_bases=%zu\tattributes=%s\n", p->name,
			    p->file, p->search_base, p->nservice, p->nuser_bases, p->all_attributes ? "*" : "list");
		}
	}
	load_free(&ld);
	return 0;
}
