/*
 * main.c — aldproxyd: the command line, the configuration, systemd's
 * notification socket; server.c runs the rest (start, loop, reload, drain,
 * free).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "audit.h"
#include "config.h"
#include "load.h"
#include "log.h"
#include "notify.h"
#include "profile.h"
#include "server.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/aldproxy/aldproxy.yaml"

static void
usage(void)
{
	fprintf(stderr, "usage: aldproxyd [-t] [-f] [-c FILE] [-d LEVEL]\n"
	    "  -c FILE   configuration (default " DEFAULT_CONFIG ")\n"
	    "  -t        check the configuration and profiles, then exit\n"
	    "  -f        stay in the foreground (the default; for systemd)\n"
	    "  -d LEVEL  log level: error, warning, notice, info, debug; logs go to stderr\n"
	    "  -V        print the version\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	int check = 0, opt, level = -1;
	char err[1024];
	while ((opt = getopt(argc, argv, "c:tfd:Vh")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 't': check = 1; break;
		case 'f': break;
		case 'd':
			if ((level = log_level_parse(optarg)) < 0)
				usage();
			break;
		case 'V': printf("aldproxyd %s\n", ALDPROXY_VERSION); return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("stderr", level >= 0 ? level : LOG_LVL_INFO, "aldproxyd", LOG_DAEMON);

	struct loaded ld;
	if (load_all(path, &ld, err, sizeof(err)) < 0) {
		fprintf(stderr, "aldproxyd: %s\n", err);
		return 1;
	}
	if (check) {
		printf("aldproxyd: %s: configuration OK (%zu listener(s), %zu server(s), %zu profile(s))\n", path,
		    ld.cfg->nlisteners, ld.cfg->nservers, ld.profiles->n);
		load_free(&ld);
		return 0;
	}
	/* -d LEVEL: logs stay on stderr at that level, now and at every reload */
	if (level < 0)
		log_init(ld.cfg->log_target ? ld.cfg->log_target : "stderr", ld.cfg->log_level, "aldproxyd",
		    ld.cfg->log_facility);
	if (audit_open(ld.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "aldproxyd: %s\n", err);
		load_free(&ld);
		return 1;
	}
	uint64_t watchdog_us = notify_init();

	struct server srv;
	int rc = 0;
	if (server_start(&srv, &ld, level >= 0, watchdog_us, err, sizeof(err)) < 0) {
		log_err("%s", err);
		rc = 1;
	} else {
		server_run(&srv);
	}
	server_free(&srv);
	audit_free();
	notify_close();
	return rc;
}
