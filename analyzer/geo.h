/*
 * geo.h - GeoIP country/city and ASN of external addresses (MaxMind DB).
 *
 * A geo handle holds any number of MaxMind DB files.  Each file's kind is
 * read from its metadata (database_type): a type containing "ASN" or "ISP"
 * is an ASN database, "City" or "Enterprise" a city database, "Country" a
 * country database; any other type is opened as "generic" and every field
 * is tried.  A lookup asks the location databases (city and country, then
 * generic, in the order given) until one has a record, and the ASN
 * databases likewise; the fields filled are:
 *
 *   country_iso, country   country.iso_code, country.names.en
 *   registered_iso         registered_country.iso_code
 *   city                   city.names.en
 *   asn, as_org            autonomous_system_number, autonomous_system_organization
 *
 * Corrupt databases: a file libmaxminddb refuses to open is an error
 * naming the file; a record whose data cannot be decoded (any part of
 * it) is counted in geo_stats.lookup_errors, not used, and the lookup
 * goes on with the other databases; nothing here trusts a length from the file (strings are
 * copied with their size bounded and cut to the field size at a UTF-8
 * character boundary).  This is the only file that includes maxminddb.h.
 */
#ifndef SEGSCOPE_GEO_H
#define SEGSCOPE_GEO_H

#include <stddef.h>
#include <stdint.h>

/* Where geo_open() looks when given no paths. */
#define GEO_DEFAULT_DIRS { "/usr/share/GeoIP", "/var/lib/GeoIP" }

/* What the databases say about one address; strings are "" when unknown. */
typedef struct geo_info {
    char country_iso[4];        /* ISO 3166-1 alpha-2, e.g. "GB" */
    char country[96];           /* English country name */
    char registered_iso[4];     /* country where the network is registered */
    char city[128];             /* English city name */
    uint32_t asn;               /* autonomous system number, 0 if unknown */
    char as_org[160];           /* autonomous system organisation */
    uint8_t has_loc;            /* a location (city/country/generic) database had a record */
    uint8_t has_asn;            /* an ASN database had a record */
    uint8_t loc_prefix;         /* prefix length of the location record found or, if none,
                                   of the tree node where the search ended; in the
                                   database's tree (an IPv4 /24 in an IPv6 tree is 120) */
    uint8_t asn_prefix;         /* the same for the ASN database */
} geo_info;

/* Kinds of database. */
typedef enum geo_dbkind { GEO_DB_CITY, GEO_DB_COUNTRY, GEO_DB_ASN, GEO_DB_GENERIC } geo_dbkind;

/* Counters; lookups change them even through a const handle (atomically:
   geo_lookup may run in several threads at once). */
typedef struct geo_stats {
    uint32_t databases;         /* files open */
    uint32_t by_kind[4];        /* of which, per geo_dbkind */
    uint32_t skipped_files;     /* default search: files that failed to open (see geo_describe) */
    uint64_t lookups;           /* geo_lookup() calls */
    uint64_t found;             /* ... that filled at least one field */
    uint64_t not_found;         /* ... with no record in any database */
    uint64_t lookup_errors;     /* corrupt records or tree errors (counted, skipped) */
    uint64_t v6_in_v4_db;       /* IPv6 addresses asked of an IPv4-only database */
} geo_stats;

typedef struct geo geo;

/*
 * Open the databases at paths[0..n).  With n == 0, open every *.mmdb in
 * GEO_DEFAULT_DIRS instead: none there is fine (a geo with no database),
 * and a file there that fails to open is skipped and counted.  NULL on
 * failure with one line "PATH: reason" in err.
 */
geo *geo_open(const char *const *paths, int n, char *err, size_t errlen);
/* The default search over other directories (tests, packagers). */
geo *geo_open_dirs(const char *const *dirs, int n, char *err, size_t errlen);
/* NULL is fine. */
void geo_free(geo *g);

/*
 * Look up addr (4 or 16 bytes per ver).  Fills *out (zeroed first).
 * Returns 1 if some database had a record (has_loc or has_asn; the record
 * may lack some fields), 0 if none had, -1 if none had and a database
 * returned an error for this address (counted in lookup_errors).
 * Safe from several threads at once (libmaxminddb's lookups only read the
 * mapped file; the counters are atomic).
 */
int geo_lookup(const geo *g, const uint8_t *addr, int ver, geo_info *out);

const geo_stats *geo_get_stats(const geo *g);
/* Number of open databases. */
int geo_n_databases(const geo *g);
/*
 * One line describing what is open, e.g. "2 databases: GeoLite2-City
 * (/usr/share/GeoIP/GeoLite2-City.mmdb), ..." or "no GeoIP databases found
 * in /usr/share/GeoIP, /var/lib/GeoIP", plus the first skipped file's error.
 */
const char *geo_describe(const geo *g, char *buf, size_t len);
/* "city", "country", "asn", "generic". */
const char *geo_dbkind_name(geo_dbkind k);

#endif
