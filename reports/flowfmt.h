/*
 * flowfmt.h - writers of flow records (segscope flows).
 *
 * One record per flow, end A being the client (see flowtab.h for how it
 * is chosen).  The column names of the core columns are those of the
 * tshark conversation references segscope is tested against; consumers
 * (e.g. the analyzer) may append extra named string columns.
 */
#ifndef SEGSCOPE_FLOWFMT_H
#define SEGSCOPE_FLOWFMT_H

#include <stdio.h>
#include "capture/flowtab.h"

typedef enum flowfmt_kind { FLOWFMT_CSV, FLOWFMT_JSON, FLOWFMT_ZEEK } flowfmt_kind;

typedef struct flowfmt flowfmt;

/* "csv", "json", "zeek" -> kind; -1 if unknown. */
int flowfmt_parse(const char *name);
/* A writer to out with n_extra extra columns named extra[] (copied). NULL on OOM. */
flowfmt *flowfmt_create(FILE *out, flowfmt_kind kind, const char *const *extra, int n_extra);
/* Write one flow; extra_vals has n_extra strings (NULL or "" = no value). */
void flowfmt_write(flowfmt *w, const flow *f, const char *const *extra_vals);
/* Finish (JSON/Zeek closing lines) and free. NULL is fine. */
void flowfmt_free(flowfmt *w);

/* Helpers shared with other writers. */
const char *flowfmt_proto_name(int proto, char *buf, size_t len);
/* Address of 4 or 16 bytes as text (RFC 5952 for IPv6). */
const char *flowfmt_addr(const uint8_t *a, int ip_version, char *buf, size_t len);
/* TCP flags as letters FSRPAUEC. */
const char *flowfmt_tcp_flags(uint8_t flags, char *buf, size_t len);
/* ns since the epoch as "sec.nnnnnnnnn". */
const char *flowfmt_ts(uint64_t ns, char *buf, size_t len);

#endif
