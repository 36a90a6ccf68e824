/* version.h — the release, for -V, the control socket and audit records. */
#ifndef ALDPROXY_VERSION_H
#define ALDPROXY_VERSION_H
#define ALDPROXY_VERSION "0.1.0"
#endif
