/*
 * geo.c - GeoIP/ASN lookups through libmaxminddb (see geo.h).
 *
 * The only file that includes maxminddb.h.  Each database is opened with
 * MMDB_open (memory-mapped); libmaxminddb bounds-checks the search tree
 * and the data section and reports corrupt data as errors, which are
 * counted here and never stop a lookup of the other databases.  A record
 * found is decoded whole (MMDB_get_entry_data_list, which also bounds the
 * nesting depth) before any field of it is used, so a record that is
 * corrupt anywhere is rejected as a whole, as mmdblookup does.  Strings
 * it returns point into the mapped file and are not NUL-terminated: they
 * are copied with their length bounded by the destination.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "analyzer/geo.h"

#define GEO_MAX_DBS 64          /* databases open at once */

/* One open database. */
typedef struct geo_db {
    MMDB_s mmdb;                /* libmaxminddb handle */
    geo_dbkind kind;            /* from metadata.database_type */
    char *path;                 /* as opened */
    char *type;                 /* metadata.database_type, copied */
} geo_db;

/* The set of databases. */
struct geo {
    geo_db dbs[GEO_MAX_DBS];    /* in the order given or found */
    int n;                      /* databases open */
    int searched;               /* 1 if opened by the default search */
    char searched_dirs[256];    /* the directories searched, for geo_describe */
    char first_skip[320];       /* default search: the first file that failed, with why */
    geo_stats *st;              /* counters (separate so lookups can count through const) */
};

static const char *const dbkind_names[] = { "city", "country", "asn", "generic" };

const char *
geo_dbkind_name(geo_dbkind k)
{
    return (unsigned)k < 4 ? dbkind_names[k] : "?";
}

static geo_dbkind
kind_of(const char *type)
{
    if (!type)
        return GEO_DB_GENERIC;
    if (strstr(type, "ASN") || strstr(type, "ISP"))
        return GEO_DB_ASN;
    if (strstr(type, "City") || strstr(type, "Enterprise"))
        return GEO_DB_CITY;
    if (strstr(type, "Country"))
        return GEO_DB_COUNTRY;
    return GEO_DB_GENERIC;
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static geo *
geo_alloc(void)
{
    geo *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->st = calloc(1, sizeof(*g->st));
    if (!g->st) {
        free(g);
        return NULL;
    }
    return g;
}

void
geo_free(geo *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n; i++) {
        MMDB_close(&g->dbs[i].mmdb);
        free(g->dbs[i].path);
        free(g->dbs[i].type);
    }
    free(g->st);
    free(g);
}

/* Open one file into the next slot.  0, or -1 with "PATH: reason" in err. */
static int
geo_add(geo *g, const char *path, char *err, size_t errlen)
{
    if (g->n == GEO_MAX_DBS) {
        seterr(err, errlen, "%s: too many GeoIP databases (at most %d)", path, GEO_MAX_DBS);
        return -1;
    }
    geo_db *d = &g->dbs[g->n];
    memset(d, 0, sizeof(*d));
    errno = 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &d->mmdb);
    if (rc != MMDB_SUCCESS) {
        int e = errno;
        if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && e)
            seterr(err, errlen, "%s: cannot open GeoIP database: %s", path, strerror(e));
        else
            seterr(err, errlen, "%s: not a usable GeoIP database: %s", path, MMDB_strerror(rc));
        return -1;
    }
    const char *type = d->mmdb.metadata.database_type;
    d->kind = kind_of(type);
    d->path = strdup(path);
    d->type = strdup(type ? type : "");
    if (!d->path || !d->type) {
        MMDB_close(&d->mmdb);
        free(d->path);
        free(d->type);
        seterr(err, errlen, "%s: out of memory", path);
        return -1;
    }
    g->n++;
    g->st->databases++;
    g->st->by_kind[d->kind]++;
    return 0;
}

geo *
geo_open(const char *const *paths, int n, char *err, size_t errlen)
{
    if (n == 0) {
        static const char *const dirs[] = GEO_DEFAULT_DIRS;
        return geo_open_dirs(dirs, (int)(sizeof(dirs) / sizeof(dirs[0])), err, errlen);
    }
    geo *g = geo_alloc();
    if (!g) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (geo_add(g, paths[i], err, errlen) < 0) {
            geo_free(g);
            return NULL;
        }
    return g;
}

geo *
geo_open_dirs(const char *const *dirs, int n, char *err, size_t errlen)
{
    geo *g = geo_alloc();
    if (!g) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    g->searched = 1;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(g->searched_dirs + used, sizeof(g->searched_dirs) - used, "%s%s",
                         i ? ", " : "", dirs[i]);
        if (w > 0 && (size_t)w < sizeof(g->searched_dirs) - used)
            used += (size_t)w;
        char pattern[4096];
        if (snprintf(pattern, sizeof(pattern), "%s/*.mmdb", dirs[i]) >= (int)sizeof(pattern))
            continue;
        glob_t gl;
        memset(&gl, 0, sizeof(gl));
        if (glob(pattern, 0, NULL, &gl) == 0) {
            for (size_t k = 0; k < gl.gl_pathc; k++) {
                char why[320];
                if (geo_add(g, gl.gl_pathv[k], why, sizeof(why)) < 0) {
                    if (!g->st->skipped_files++)
                        snprintf(g->first_skip, sizeof(g->first_skip), "%s", why);
                }
            }
        }
        globfree(&gl);
    }
    return g;
}

const geo_stats *
geo_get_stats(const geo *g)
{
    return g->st;
}

int
geo_n_databases(const geo *g)
{
    return g ? g->n : 0;
}

const char *
geo_describe(const geo *g, char *buf, size_t len)
{
    size_t used = 0;
    int w;
#define APPEND(...) do { \
        w = snprintf(buf + used, len - used, __VA_ARGS__); \
        if (w < 0 || (size_t)w >= len - used) return buf; \
        used += (size_t)w; \
    } while (0)
    if (!len)
        return buf;
    buf[0] = '\0';
    if (!g || g->n == 0) {
        if (g && g->searched)
            APPEND("no GeoIP databases found in %s", g->searched_dirs);
        else
            APPEND("no GeoIP databases");
    } else {
        APPEND("%d GeoIP database%s:", g->n, g->n == 1 ? "" : "s");
        for (int i = 0; i < g->n; i++)
            APPEND("%s %s (%s, %s)", i ? "," : "", g->dbs[i].path, g->dbs[i].type,
                   geo_dbkind_name(g->dbs[i].kind));
    }
    if (g && g->st->skipped_files)
        APPEND("; %u file%s skipped, first: %s", g->st->skipped_files,
               g->st->skipped_files == 1 ? "" : "s", g->first_skip);
#undef APPEND
    return buf;
}

/* Copy an MMDB string of size n into dst (cap bytes), cut at a UTF-8 boundary. */
static void
copy_str(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;            /* do not leave half a character */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/*
 * A string at the path in entry into dst.  Returns 1 if copied, 0 if the
 * record has no such string, -1 on a data error.
 */
static int
get_str(MMDB_entry_s *entry, char *dst, size_t cap, const char *const *path)
{
    MMDB_entry_data_s data;
    memset(&data, 0, sizeof(data));
    int rc = MMDB_aget_value(entry, &data, path);
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
        return 0;
    if (rc != MMDB_SUCCESS)
        return -1;
    if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || !data.utf8_string)
        return 0;
    copy_str(dst, cap, data.utf8_string, data.data_size);
    return 1;
}

static int
get_asn(MMDB_entry_s *entry, uint32_t *asn)
{
    static const char *const path[] = { "autonomous_system_number", NULL };
    MMDB_entry_data_s data;
    memset(&data, 0, sizeof(data));
    int rc = MMDB_aget_value(entry, &data, path);
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
        return 0;
    if (rc != MMDB_SUCCESS)
        return -1;
    if (!data.has_data)
        return 0;
    switch (data.type) {
    case MMDB_DATA_TYPE_UINT16: *asn = data.uint16; return 1;
    case MMDB_DATA_TYPE_UINT32: *asn = data.uint32; return 1;
    case MMDB_DATA_TYPE_INT32:
        if (data.int32 < 0)
            return 0;
        *asn = (uint32_t)data.int32;
        return 1;
    case MMDB_DATA_TYPE_UINT64:
        if (data.uint64 > UINT32_MAX)
            return 0;
        *asn = (uint32_t)data.uint64;
        return 1;
    default:
        return 0;
    }
}

/* Location fields of one record.  -1 if any read failed. */
static int
fill_loc(MMDB_entry_s *e, geo_info *out)
{
    static const char *const p_iso[] = { "country", "iso_code", NULL };
    static const char *const p_country[] = { "country", "names", "en", NULL };
    static const char *const p_reg[] = { "registered_country", "iso_code", NULL };
    static const char *const p_city[] = { "city", "names", "en", NULL };
    int bad = 0;
    bad |= get_str(e, out->country_iso, sizeof(out->country_iso), p_iso) < 0;
    bad |= get_str(e, out->country, sizeof(out->country), p_country) < 0;
    bad |= get_str(e, out->registered_iso, sizeof(out->registered_iso), p_reg) < 0;
    bad |= get_str(e, out->city, sizeof(out->city), p_city) < 0;
    return bad ? -1 : 0;
}

static int
fill_asn(MMDB_entry_s *e, geo_info *out)
{
    static const char *const p_org[] = { "autonomous_system_organization", NULL };
    int bad = get_asn(e, &out->asn) < 0;
    bad |= get_str(e, out->as_org, sizeof(out->as_org), p_org) < 0;
    return bad ? -1 : 0;
}

/* Count a lookup's outcome: lookups may run in several threads at once
   (graphagg's flush parts call the capture's annotate hook). */
static void
count(uint64_t *c)
{
    __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

int
geo_lookup(const geo *g, const uint8_t *addr, int ver, geo_info *out)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    int errors = 0, loc_asked = 0, asn_asked = 0;

    memset(out, 0, sizeof(*out));
    if (!g || (ver != 4 && ver != 6))
        return 0;
    count(&g->st->lookups);
    if (ver == 4) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, addr, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, addr, 16);
        sa = (const struct sockaddr *)&sin6;
    }
    for (int i = 0; i < g->n; i++) {
        const geo_db *d = &g->dbs[i];
        int want_loc = d->kind != GEO_DB_ASN && !out->has_loc;
        int want_asn = (d->kind == GEO_DB_ASN || d->kind == GEO_DB_GENERIC) && !out->has_asn;
        if (!want_loc && !want_asn)
            continue;
        int mmdb_error = MMDB_SUCCESS;
        MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&d->mmdb, sa, &mmdb_error);
        if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
            count(&g->st->v6_in_v4_db);
            continue;
        }
        if (mmdb_error != MMDB_SUCCESS) {
            count(&g->st->lookup_errors);
            errors++;
            continue;
        }
        if (want_loc && !loc_asked++)
            out->loc_prefix = (uint8_t)res.netmask;
        if (want_asn && !asn_asked++)
            out->asn_prefix = (uint8_t)res.netmask;
        if (!res.found_entry)
            continue;
        /* Decode the whole record first, as mmdblookup does: a record with
           corrupt data anywhere in it is not trusted for any field. */
        MMDB_entry_data_list_s *list = NULL;
        int lrc = MMDB_get_entry_data_list(&res.entry, &list);
        MMDB_free_entry_data_list(list);
        if (lrc != MMDB_SUCCESS) {
            count(&g->st->lookup_errors);
            errors++;
            continue;
        }
        /* A record whose data is corrupt leaves its fields empty and lets
           the next database of the same kind answer. */
        int bad = 0;
        if (want_loc) {
            if (fill_loc(&res.entry, out) < 0) {
                bad = 1;
                out->country_iso[0] = out->country[0] = out->registered_iso[0] = out->city[0] = '\0';
            } else {
                out->has_loc = 1;
                out->loc_prefix = (uint8_t)res.netmask;
            }
        }
        if (want_asn) {
            if (fill_asn(&res.entry, out) < 0) {
                bad = 1;
                out->asn = 0;
                out->as_org[0] = '\0';
            } else {
                out->has_asn = 1;
                out->asn_prefix = (uint8_t)res.netmask;
            }
        }
        if (bad) {
            count(&g->st->lookup_errors);
            errors++;
        }
    }
    if (out->has_loc || out->has_asn) {
        count(&g->st->found);
        return 1;
    }
    count(&g->st->not_found);
    return errors ? -1 : 0;
}
