/*
 * check_geo.c - internal address space (netclass) and GeoIP lookups (geo).
 *
 * GeoIP is checked against every row of the shared corpus's
 * mmdb/known_answers.csv (lookups done with libmaxminddb's mmdblookup:
 * country, city, registered country, ASN, AS organisation and the prefix
 * length in the database's tree), read at run time from $SEGSCOPE_SHARED
 * (default: ../shared next to the source tree); without it those tests
 * print why and pass.  Every corrupt database in mmdb/bad-data must open or
 * fail to open as mmdblookup did (bad_data_mmdblookup.csv), without a crash.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/geo.h"
#include "analyzer/netclass.h"
#include "tests/suites.h"

/* ---- netclass ----------------------------------------------------------------- */

static netclass_kind
cls(const netclass *nc, const char *addr)
{
    uint8_t a[16] = { 0 };
    int ver = strchr(addr, ':') ? 6 : 4;
    ck_assert_int_eq(inet_pton(ver == 4 ? AF_INET : AF_INET6, addr, a), 1);
    return netclass_classify(nc, a, ver);
}

START_TEST(netclass_builtin)
{
    static const struct {
        const char *addr;
        netclass_kind k;
    } t[] = {
        { "10.0.0.1", NETCLASS_PRIVATE }, { "10.255.255.255", NETCLASS_PRIVATE },
        { "11.0.0.1", NETCLASS_EXTERNAL }, { "172.16.0.1", NETCLASS_PRIVATE },
        { "172.31.255.255", NETCLASS_PRIVATE }, { "172.32.0.1", NETCLASS_EXTERNAL },
        { "172.15.255.255", NETCLASS_EXTERNAL }, { "192.168.3.4", NETCLASS_PRIVATE },
        { "192.169.0.1", NETCLASS_EXTERNAL }, { "100.64.0.1", NETCLASS_CGNAT },
        { "100.127.255.255", NETCLASS_CGNAT }, { "100.128.0.1", NETCLASS_EXTERNAL },
        { "169.254.1.1", NETCLASS_LINK_LOCAL }, { "127.0.0.1", NETCLASS_LOOPBACK },
        { "224.0.0.251", NETCLASS_MULTICAST }, { "239.255.255.250", NETCLASS_MULTICAST },
        { "240.0.0.1", NETCLASS_EXTERNAL }, { "255.255.255.255", NETCLASS_BROADCAST },
        { "0.0.0.0", NETCLASS_UNSPECIFIED }, { "8.8.8.8", NETCLASS_EXTERNAL },
        { "fd00::1", NETCLASS_PRIVATE }, { "fc00::1", NETCLASS_PRIVATE },
        { "fe00::1", NETCLASS_EXTERNAL }, { "fe80::1", NETCLASS_LINK_LOCAL },
        { "febf::1", NETCLASS_LINK_LOCAL }, { "fec0::1", NETCLASS_EXTERNAL },
        { "::1", NETCLASS_LOOPBACK }, { "::", NETCLASS_UNSPECIFIED },
        { "ff02::fb", NETCLASS_MULTICAST }, { "2001:db8::1", NETCLASS_EXTERNAL },
        { "::ffff:10.1.2.3", NETCLASS_PRIVATE }, { "::ffff:8.8.8.8", NETCLASS_EXTERNAL },
    };
    netclass *nc = netclass_create();
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(cls(nc, t[i].addr) == t[i].k, "%s: %s, want %s", t[i].addr,
                      netclass_name(cls(nc, t[i].addr)), netclass_name(t[i].k));
    uint8_t a[4] = { 10, 1, 1, 1 };
    ck_assert_int_eq(netclass_is_internal(nc, a, 4), 1);
    ck_assert_str_eq(netclass_name(NETCLASS_CGNAT), "cgnat");
    netclass_free(nc);
    netclass_free(NULL);
}
END_TEST

START_TEST(netclass_user)
{
    char err[256];
    netclass *nc = netclass_create();
    ck_assert_int_eq(netclass_add(nc, "198.51.100.0/24", err, sizeof(err)), 0);
    ck_assert_int_eq(netclass_add(nc, "2001:db8:1::/48", err, sizeof(err)), 0);
    ck_assert_int_eq(netclass_add(nc, "203.0.113.7", err, sizeof(err)), 0);
    ck_assert_uint_eq(netclass_n_user(nc), 3);
    ck_assert_int_eq(cls(nc, "198.51.100.200"), NETCLASS_USER);
    ck_assert_int_eq(cls(nc, "198.51.101.1"), NETCLASS_EXTERNAL);
    ck_assert_int_eq(cls(nc, "2001:db8:1:ffff::1"), NETCLASS_USER);
    ck_assert_int_eq(cls(nc, "2001:db8:2::1"), NETCLASS_EXTERNAL);
    ck_assert_int_eq(cls(nc, "203.0.113.7"), NETCLASS_USER);
    ck_assert_int_eq(cls(nc, "203.0.113.8"), NETCLASS_EXTERNAL);
    ck_assert_int_eq(cls(nc, "10.0.0.1"), NETCLASS_PRIVATE);     /* built-in first */
    static const char *const badv[] = { "10.0.0.0/33", "10.0.0.1/24", "nope", "", "/8", "1.2.3.4/-1",
                                        "::/129", "1.2.3.4/08x", "1.2.3.4/1234" };
    for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
        ck_assert_msg(netclass_add(nc, badv[i], err, sizeof(err)) == -1, "accepted '%s'", badv[i]);
        ck_assert_ptr_nonnull(strstr(err, "bad CIDR"));
    }
    ck_assert_uint_eq(netclass_n_user(nc), 3);
    netclass_cidr c;
    ck_assert_int_eq(netclass_parse_cidr("0.0.0.0/0", &c, err, sizeof(err)), 0);
    uint8_t any[4] = { 1, 2, 3, 4 };
    ck_assert_int_eq(netclass_cidr_match(&c, any, 4), 1);
    ck_assert_int_eq(netclass_cidr_match(&c, any, 6), 0);
    netclass_free(nc);
}
END_TEST

/* ---- GeoIP ----------------------------------------------------------------------- */

/* The shared corpus's mmdb directory, or NULL (with a message) if absent. */
static const char *
mmdb_dir(char *buf, size_t len)
{
    const char *shared = getenv("SEGSCOPE_SHARED");
    const char *src = getenv("top_srcdir");
    if (shared && *shared)
        snprintf(buf, len, "%s/data/mmdb", shared);
    else
        snprintf(buf, len, "%s/../shared/data/mmdb", src && *src ? src : ".");
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("check_geo: SKIP: %s not found (set SEGSCOPE_SHARED to the shared corpus)\n", buf);
        return NULL;
    }
    return buf;
}

/* Split one CSV line (RFC 4180 quotes) into at most max fields, in place. */
static int
csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line, *w;
    while (n < max) {
        f[n++] = w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else if (*p == '\0') {
                    break;
                } else {
                    *w++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',')
                *w++ = *p++;
        }
        if (*p != ',') {
            *w = '\0';
            break;
        }
        p++;
        *w = '\0';
    }
    return n;
}

static int
parse_ip(const char *s, uint8_t a[16])
{
    memset(a, 0, 16);
    if (inet_pton(AF_INET, s, a) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, a) == 1)
        return 6;
    return 0;
}

/* An open database per file name, opened once. */
typedef struct dbcache {
    char name[8][64];           /* database file names */
    geo *g[8];                  /* their handles */
    int n;                      /* used */
} dbcache;

static geo *
cache_get(dbcache *c, const char *dir, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0)
            return c->g[i];
    ck_assert_int_lt(c->n, 8);
    char path[4200], err[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char *p[1] = { path };
    geo *g = geo_open(p, 1, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
    c->g[c->n] = g;
    return c->g[c->n++];
}

START_TEST(known_answers)
{
    char dir[4096], path[4200], line[4096];
    if (!mmdb_dir(dir, sizeof(dir)))
        return;
    snprintf(path, sizeof(path), "%s/known_answers.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: cannot open", path);
    dbcache cache;
    memset(&cache, 0, sizeof(cache));
    int rows = 0, ok = 0, shown = 0, negative = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));   /* header */
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line)
            continue;
        char *c[15];
        ck_assert_int_eq(csv_split(line, c, 15), 15);
        /* database,json_network,probe_ip,mmdblookup_prefix_len,json_agrees,country_iso,
           json_country_iso,city_en,json_city_en,registered_country_iso,json_..,asn,json_asn,as_org,json_as_org */
        const char *db = c[0], *probe = c[2], *iso = c[5], *city = c[7], *reg = c[9],
                   *asn = c[11], *org = c[13];
        int want_prefix = (int)strtol(c[3], NULL, 10);
        int is_asn_db = strstr(db, "ASN") != NULL;
        int not_found = strcmp(is_asn_db ? asn : iso, "NOT_FOUND") == 0;
        uint8_t a[16];
        int ver = parse_ip(probe, a);
        ck_assert_msg(ver, "bad probe %s", probe);
        geo *g = cache_get(&cache, dir, db);
        geo_info gi;
        int r = geo_lookup(g, a, ver, &gi);
        char gotasn[16] = "";
        if (gi.asn)
            snprintf(gotasn, sizeof(gotasn), "%u", gi.asn);
        int good;
        if (not_found) {
            negative++;
            good = r == 0 && !gi.has_loc && !gi.has_asn &&
                   (is_asn_db ? gi.asn_prefix : gi.loc_prefix) == want_prefix;
        } else if (is_asn_db) {
            good = r == 1 && gi.has_asn && gi.asn_prefix == want_prefix &&
                   strcmp(gotasn, asn) == 0 && strcmp(gi.as_org, org) == 0;
        } else {
            /* the CSV records registered_country for the Country databases only */
            good = r == 1 && gi.has_loc && gi.loc_prefix == want_prefix &&
                   strcmp(gi.country_iso, iso) == 0 && strcmp(gi.city, city) == 0 &&
                   (!strstr(db, "Country") || strcmp(gi.registered_iso, reg) == 0);
        }
        rows++;
        if (good)
            ok++;
        else if (shown++ < 10)
            printf("known answer differs: %s %s: want prefix %d iso '%s' city '%s' reg '%s' asn '%s' "
                   "org '%s'%s; got r=%d prefix %u/%u iso '%s' city '%s' reg '%s' asn '%s' org '%s'\n",
                   db, probe, want_prefix, iso, city, reg, asn, org, not_found ? " (not found)" : "",
                   r, gi.loc_prefix, gi.asn_prefix, gi.country_iso, gi.city, gi.registered_iso,
                   gotasn, gi.as_org);
    }
    fclose(f);
    for (int i = 0; i < cache.n; i++)
        geo_free(cache.g[i]);
    printf("check_geo: GeoIP known answers: %d of %d agree (%d of them not-found probes)\n",
           ok, rows, negative);
    ck_assert_int_gt(rows, 3000);
    ck_assert_int_gt(negative, 30);
    ck_assert_int_eq(ok, rows);
}
END_TEST

/* Several databases in one handle: location and ASN answers combine; internal-looking
   negative probes are not found anywhere. */
START_TEST(combined_and_negative)
{
    char dir[4096], p1[4200], p2[4200], p3[4200], err[512];
    if (!mmdb_dir(dir, sizeof(dir)))
        return;
    snprintf(p1, sizeof(p1), "%s/GeoLite2-ASN-Test.mmdb", dir);
    snprintf(p2, sizeof(p2), "%s/GeoIP2-City-Test.mmdb", dir);
    snprintf(p3, sizeof(p3), "%s/GeoIP2-Country-Test.mmdb", dir);
    const char *paths[] = { p1, p2, p3 };
    geo *g = geo_open(paths, 3, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(geo_n_databases(g), 3);
    const geo_stats *st = geo_get_stats(g);
    ck_assert_uint_eq(st->by_kind[GEO_DB_ASN], 1);
    ck_assert_uint_eq(st->by_kind[GEO_DB_CITY], 1);
    ck_assert_uint_eq(st->by_kind[GEO_DB_COUNTRY], 1);
    uint8_t a[16];
    geo_info gi;
    int ver = parse_ip("81.2.69.160", a);
    ck_assert_int_eq(geo_lookup(g, a, ver, &gi), 1);
    ck_assert_str_eq(gi.country_iso, "GB");
    ck_assert_str_eq(gi.country, "United Kingdom");
    ck_assert_str_eq(gi.city, "London");
    ver = parse_ip("1.128.0.1", a);
    ck_assert_int_eq(geo_lookup(g, a, ver, &gi), 1);
    ck_assert_uint_eq(gi.asn, 1221);
    ck_assert_str_eq(gi.as_org, "Telstra Pty Ltd");
    ver = parse_ip("2.125.160.217", a);     /* City answers; the ASN database has nothing */
    ck_assert_int_eq(geo_lookup(g, a, ver, &gi), 1);
    ck_assert_str_eq(gi.city, "Boxford");
    ck_assert_int_eq(gi.has_asn, 0);
    /* negative probes: found in no test database */
    static const char *const neg[] = { "10.0.0.1", "192.168.1.1", "127.0.0.1", "0.0.0.0",
                                       "255.255.255.255", "::1", "fe80::1", "8.8.8.8" };
    for (size_t i = 0; i < sizeof(neg) / sizeof(neg[0]); i++) {
        ver = parse_ip(neg[i], a);
        ck_assert_msg(geo_lookup(g, a, ver, &gi) == 0, "%s found", neg[i]);
        ck_assert(!gi.has_loc && !gi.has_asn && !gi.country_iso[0] && !gi.asn);
    }
    ck_assert_uint_eq(st->not_found, 8);
    ck_assert_uint_eq(st->lookup_errors, 0);
    char d[2048];
    ck_assert_ptr_nonnull(strstr(geo_describe(g, d, sizeof(d)), "3 GeoIP databases"));
    geo_free(g);
}
END_TEST

/* Every corrupt database opens or fails as mmdblookup did; lookups never crash. */
START_TEST(bad_databases)
{
    char dir[4096], path[4200], line[1024], err[512];
    if (!mmdb_dir(dir, sizeof(dir)))
        return;
    snprintf(path, sizeof(path), "%s/bad_data_mmdblookup.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: cannot open", path);
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    int n = 0, open_failed = 0, lookup_failed = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *c[7];
        if (csv_split(line, c, 7) < 7)
            continue;
        int rc1 = (int)strtol(c[2], NULL, 10);
        char db[4300];
        snprintf(db, sizeof(db), "%s/bad-data/libmaxminddb/%s", dir, c[0]);
        const char *p[1] = { db };
        err[0] = '\0';
        geo *g = geo_open(p, 1, err, sizeof(err));
        n++;
        if (rc1 == 2) {
            ck_assert_msg(g == NULL, "%s opened; mmdblookup could not", c[0]);
            ck_assert_msg(strncmp(err, db, strlen(db)) == 0 && err[strlen(db)] == ':',
                          "error does not name the file: %s", err);
            ck_assert_msg(!strchr(err, '\n'), "error is not one line: %s", err);
            open_failed++;
            continue;
        }
        ck_assert_msg(g != NULL, "%s: %s", c[0], err);
        static const char *const probes[] = { "1.1.1.1", "::1", "8.8.8.8", "81.2.69.142",
                                              "255.255.255.255", "0.0.0.0", "2001:db8::1" };
        uint8_t a[16];
        geo_info gi;
        int ver = parse_ip("1.1.1.1", a);
        int r = geo_lookup(g, a, ver, &gi);
        if (rc1 == 5) {
            ck_assert_msg(r == -1, "%s: lookup gave %d, mmdblookup found bad data", c[0], r);
            ck_assert_uint_ge(geo_get_stats(g)->lookup_errors, 1);
            lookup_failed++;
        } else {
            ck_assert_msg(r >= 0, "%s: lookup failed, mmdblookup returned a record", c[0]);
        }
        for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
            ver = parse_ip(probes[k], a);
            geo_lookup(g, a, ver, &gi);
            ck_assert_uint_lt(strlen(gi.country), sizeof(gi.country));
        }
        geo_free(g);
    }
    fclose(f);
    printf("check_geo: %d corrupt databases: %d refused at open, %d with corrupt records, none crashed\n",
           n, open_failed, lookup_failed);
    ck_assert_int_eq(n, 13);
    ck_assert_int_gt(open_failed, 0);
    ck_assert_int_gt(lookup_failed, 0);
}
END_TEST

static void
copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    ck_assert(a && b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/* The default search: every *.mmdb of the directories, bad files skipped and counted. */
START_TEST(default_search)
{
    char dir[4096], err[512], d[2048];
    char tmpl[] = "/tmp/segscope-geo.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    /* an empty directory and a missing one: a geo with no databases, said so */
    const char *dirs[] = { tmpl, "/nonexistent/GeoIP" };
    geo *g = geo_open_dirs(dirs, 2, err, sizeof(err));
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(geo_n_databases(g), 0);
    geo_describe(g, d, sizeof(d));
    ck_assert_msg(strstr(d, "no GeoIP databases found in ") && strstr(d, tmpl), "%s", d);
    uint8_t a[16] = { 81, 2, 69, 142 };
    geo_info gi;
    ck_assert_int_eq(geo_lookup(g, a, 4, &gi), 0);
    geo_free(g);
    if (mmdb_dir(dir, sizeof(dir))) {
        char from[4200], to[4200];
        snprintf(from, sizeof(from), "%s/GeoLite2-City-Test.mmdb", dir);
        snprintf(to, sizeof(to), "%s/a-city.mmdb", tmpl);
        copy_file(from, to);
        snprintf(from, sizeof(from), "%s/bad-data/libmaxminddb/libmaxminddb-metadata-marker-only.mmdb", dir);
        snprintf(to, sizeof(to), "%s/b-broken.mmdb", tmpl);
        copy_file(from, to);
        snprintf(to, sizeof(to), "%s/not-a-db.txt", tmpl);
        copy_file(from, to);
        g = geo_open_dirs(dirs, 2, err, sizeof(err));
        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(geo_n_databases(g), 1);
        ck_assert_uint_eq(geo_get_stats(g)->skipped_files, 1);
        geo_describe(g, d, sizeof(d));
        ck_assert_msg(strstr(d, "a-city.mmdb") && strstr(d, "b-broken.mmdb"), "%s", d);
        ck_assert_int_eq(geo_lookup(g, a, 4, &gi), 1);
        ck_assert_str_eq(gi.city, "London");
        geo_free(g);
        unlink(to);
        snprintf(to, sizeof(to), "%s/b-broken.mmdb", tmpl);
        unlink(to);
        snprintf(to, sizeof(to), "%s/a-city.mmdb", tmpl);
        unlink(to);
    }
    rmdir(tmpl);
    /* explicit paths must all open */
    const char *missing[] = { "/nonexistent/x.mmdb" };
    ck_assert_ptr_null(geo_open(missing, 1, err, sizeof(err)));
    ck_assert_str_eq(err, "/nonexistent/x.mmdb: cannot open GeoIP database: No such file or directory");
    geo_free(NULL);
}
END_TEST

Suite *
suite_geo(void)
{
    Suite *s = suite_create("geo");
    TCase *tn = tcase_create("netclass");
    tcase_add_test(tn, netclass_builtin);
    tcase_add_test(tn, netclass_user);
    suite_add_tcase(s, tn);
    TCase *tg = tcase_create("geoip");
    tcase_set_timeout(tg, 60);
    tcase_add_test(tg, known_answers);
    tcase_add_test(tg, combined_and_negative);
    tcase_add_test(tg, bad_databases);
    tcase_add_test(tg, default_search);
    suite_add_tcase(s, tg);
    return s;
}
