/*
 * identfmt.h - writers of "who is who" records (segscope idents).
 *
 * One host at a time: an address, its class (netclass), the MACs it sent
 * from, its identities (analyzer/ident.h), its labels and its GeoIP data.
 * Every string learnt from traffic is escaped for its format here
 * (reports/escape.h for text and CSV, json-c for JSON); values that are not
 * valid UTF-8 are written to JSON with each bad byte replaced by U+FFFD
 * and the exact bytes in an extra "value_hex" member.
 *
 *   text  a block per host: the address line, then one indented line per
 *         identity, label and GeoIP fact; values through esc_text()
 *   csv   one row per identity (a host without identities: one row with
 *         empty kind/value); columns: addr, ip_version, class, macs, kind,
 *         value, first_ts, last_ts, count, labels (key=value;...),
 *         country_iso, country, city, asn, as_org
 *   json  JSON Lines: one object per host
 */
#ifndef SEGSCOPE_IDENTFMT_H
#define SEGSCOPE_IDENTFMT_H

#include <stdio.h>

#include "analyzer/geo.h"
#include "analyzer/ident.h"

typedef enum identfmt_kind { IDENTFMT_TEXT, IDENTFMT_CSV, IDENTFMT_JSON } identfmt_kind;

/* One label of a host. */
typedef struct identfmt_label {
    const char *key;            /* label key */
    const char *value;          /* its value */
} identfmt_label;

/* Everything written about one host. */
typedef struct identfmt_host {
    const ident_addr *a;        /* address, MACs, identities (required) */
    const char *cls;            /* netclass_name() of the address */
    int internal;               /* 1 if internal address space */
    const identfmt_label *labels; /* labels, by key */
    int n_labels;
    const geo_info *geo;        /* NULL if not looked up or nothing found */
} identfmt_host;

typedef struct identfmt identfmt;

/* "text", "csv", "json" -> kind; -1 if unknown. */
int identfmt_parse(const char *name);
/* A writer to out (writes the CSV header now).  NULL on OOM. */
identfmt *identfmt_create(FILE *out, identfmt_kind kind);
void identfmt_write(identfmt *w, const identfmt_host *h);
/* NULL is fine. */
void identfmt_free(identfmt *w);

#endif
