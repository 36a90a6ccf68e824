/*
 * metrics_http.h — metrics.listen: GET /metrics over HTTP on loopback,
 * answered with report_exposition().  Opened by server_start(), closed by
 * server_free(); no listener without metrics.listen.
 */
#ifndef ALDPROXY_METRICS_HTTP_H
#define ALDPROXY_METRICS_HTTP_H

#include <stddef.h>

struct server;

int  metrics_http_open(struct server *srv, char *err, size_t errlen);
void metrics_http_close(void);

#endif
