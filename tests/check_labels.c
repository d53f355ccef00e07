/*
 * check_labels.c - the labels file: grammar, precedence, error messages.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/labels.h"
#include "tests/suites.h"

/* The labels reported for one address, as "k=v;k=v" in key order. */
typedef struct got {
    char s[2048];               /* "k=v;k=v" */
} got;

static void
collect(const char *key, const char *value, void *ctx)
{
    got *g = ctx;
    size_t n = strlen(g->s);
    snprintf(g->s + n, sizeof(g->s) - n, "%s%s=%s", n ? ";" : "", key, value);
}

static const char *
match(const labels *l, const char *addr, const char *const *names, int n_names, got *g)
{
    uint8_t a[16] = { 0 };
    int ver = strchr(addr, ':') ? 6 : 4;
    ck_assert_int_eq(inet_pton(ver == 4 ? AF_INET : AF_INET6, addr, a), 1);
    g->s[0] = '\0';
    ck_assert_int_ge(labels_match(l, a, ver, names, n_names, collect, g), 0);
    return g->s;
}

static const char *
srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s && *s ? s : ".";
}

START_TEST(example_file)
{
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/tests/data/labels-example.txt", srcdir());
    labels *l = labels_load(path, err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    ck_assert_uint_eq(labels_n_rules(l), 9);
    got g;
    const char *db[] = { "db1.payroll.example.com" };
    /* /32 beats the later /24 for role; /16 beats /8 for env; names fill the rest */
    ck_assert_str_eq(match(l, "10.20.5.7", db, 1, &g),
                     "app=payroll;crown_jewel=yes;env=staging;loc=dc1;owner=Platform Team;"
                     "role=db;seen_by_name=1;tier=2");
    ck_assert_str_eq(match(l, "10.20.5.8", NULL, 0, &g),
                     "env=staging;loc=dc1;owner=Platform Team;role=app;tier=2");
    const char *dc[] = { "ws7.corp.example", "DC01.Corp.Example." };
    ck_assert_str_eq(match(l, "10.99.0.1", dc, 2, &g),
                     "env=prod;loc=dc1;role=domain_controller;seen_by_name=1");
    /* an address rule beats a name rule whatever the order */
    const char *pay[] = { "x.payroll.example.com" };
    ck_assert_str_eq(match(l, "192.0.2.1", pay, 1, &g), "app=payroll;crown_jewel=yes;seen_by_name=1");
    ck_assert_str_eq(match(l, "fd00::5", NULL, 0, &g), "env=lab;note=rack #4, \"blue\" cage");
    ck_assert_str_eq(match(l, "2001:db8::10", NULL, 0, &g), "role=dns");
    ck_assert_str_eq(match(l, "2001:db8::11", NULL, 0, &g), "");
    ck_assert_str_eq(match(l, "192.168.1.1", NULL, 0, &g), "");
    /* an IPv4 rule never matches an IPv6 address */
    ck_assert_str_eq(match(l, "::a00:1", NULL, 0, &g), "");
    labels_free(l);
    labels_free(NULL);
}
END_TEST

START_TEST(precedence_ties)
{
    static const char text[] =
        "10.0.0.0/24 role=first env=a\r\n"
        "10.0.0.0/24 role=second\r\n"
        "name:*.example role=byname1 x=1 x=2\n"
        "name:web*.example role=byname2\n"
        "10.0.0.1 k=v1 k=v2\n";
    char err[256];
    labels *l = labels_parse("t.txt", text, strlen(text), err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    got g;
    const char *web[] = { "web1.example" };
    /* same prefix: the later line; within a rule: the last value */
    ck_assert_str_eq(match(l, "10.0.0.1", web, 1, &g), "env=a;k=v2;role=second;x=2");
    /* two name rules: the later line */
    ck_assert_str_eq(match(l, "192.0.2.9", web, 1, &g), "role=byname2;x=2");
    labels_free(l);
}
END_TEST

/* One bad file each, and the message it must give. */
static const struct {
    const char *text;
    const char *error;
} bad[] = {
    { "10.0.0.0/33 env=x\n", "t.txt:1: bad CIDR '10.0.0.0/33'" },
    { "# ok\n\n10.1.2.3/24 env=x\n", "t.txt:3: bad CIDR '10.1.2.3/24' (host bits set below /24)" },
    { "fd00::/129 a=b\n", "t.txt:1: bad CIDR 'fd00::/129'" },
    { "10.0.0.0/ a=b\n", "t.txt:1: bad CIDR '10.0.0.0/'" },
    { "10.0.0.0/8x a=b\n", "t.txt:1: bad CIDR '10.0.0.0/8x'" },
    { "10.0.0.300 a=b\n", "t.txt:1: bad selector '10.0.0.300'" },
    { "hostname.example role=x\n", "t.txt:1: bad selector 'hostname.example'" },
    { "name: role=x\n", "t.txt:1: empty name pattern" },
    { "10.0.0.1\n", "t.txt:1: no key=value after the selector" },
    { "10.0.0.1   # only a comment\n", "t.txt:1: no key=value after the selector" },
    { "10.0.0.1 Env=x\n", "t.txt:1: bad key 'Env'" },
    { "10.0.0.1 9x=x\n", "t.txt:1: bad key '9x'" },
    { "10.0.0.1 env\n", "t.txt:1: expected key=value, got 'env'" },
    { "10.0.0.1 env =x\n", "t.txt:1: expected key=value, got 'env'" },
    { "10.0.0.1 env=\n", "t.txt:1: missing value for key 'env'" },
    { "10.0.0.1 env=\"abc\n", "t.txt:1: unterminated quoted value for key 'env'" },
    { "10.0.0.1 env=\"a\"b\n", "t.txt:1: unexpected 'b' after the quoted value" },
    { "10.0.0.1 env=a\"b\"\n", "t.txt:1: a quote inside an unquoted value" },
    { "10.0.0.1 env=\"a\\nb\"\n", "t.txt:1: bad escape in quoted value" },
    { "10.0.0.1 a=b\n10.0.0.2 a=b\0\n", "t.txt:2: NUL byte" },
    { "10.0.0.1 a=b\n\n\n\n10.0.0.2 a=\"b\" c\n", "t.txt:5: expected key=value, got 'c'" },
};

START_TEST(bad_files)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512] = "";
        size_t len = strlen(bad[i].text);
        if (strstr(bad[i].error, "NUL"))
            len += 2;       /* the text holds a NUL: include it and the newline */
        labels *l = labels_parse("t.txt", bad[i].text, len, err, sizeof(err));
        ck_assert_msg(l == NULL, "case %zu accepted: %s", i, bad[i].text);
        ck_assert_msg(strncmp(err, bad[i].error, strlen(bad[i].error)) == 0,
                      "case %zu: got \"%s\", want \"%s...\"", i, err, bad[i].error);
        ck_assert_msg(!strchr(err, '\n'), "case %zu: message has a newline", i);
    }
}
END_TEST

START_TEST(limits_and_files)
{
    char err[512], line[2200], key[80];
    /* a 63-byte key is fine, 64 is not; a 1023-byte value is fine, 1024 is not */
    memset(key, 'k', 63);
    key[63] = '\0';
    snprintf(line, sizeof(line), "10.0.0.1 %s=v\n", key);
    labels *l = labels_parse("t.txt", line, strlen(line), err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    labels_free(l);
    key[63] = 'k';
    key[64] = '\0';
    snprintf(line, sizeof(line), "10.0.0.1 %s=v\n", key);
    ck_assert_ptr_null(labels_parse("t.txt", line, strlen(line), err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "bad key"));
    int n = snprintf(line, sizeof(line), "10.0.0.1 v=");
    memset(line + n, 'x', 1023);
    line[n + 1023] = '\0';
    l = labels_parse("t.txt", line, strlen(line), err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    labels_free(l);
    line[n + 1023] = 'x';
    line[n + 1024] = '\0';
    ck_assert_ptr_null(labels_parse("t.txt", line, strlen(line), err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "value too long"));
    /* an empty file and a comment-only file are valid and label nothing */
    l = labels_parse("t.txt", "", 0, err, sizeof(err));
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(labels_n_rules(l), 0);
    labels_free(l);
    /* '#' inside a value is literal; '#' starting a token is a comment */
    static const char hash[] = "10.0.0.1 a=b#c d=e #f=g\n";
    l = labels_parse("t.txt", hash, strlen(hash), err, sizeof(err));
    ck_assert_ptr_nonnull(l);
    got g;
    ck_assert_str_eq(match(l, "10.0.0.1", NULL, 0, &g), "a=b#c;d=e");
    labels_free(l);
    /* a missing file, and the bad example file */
    ck_assert_ptr_null(labels_load("/nonexistent/labels.txt", err, sizeof(err)));
    ck_assert_str_eq(err, "/nonexistent/labels.txt: No such file or directory");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/labels-bad.txt", srcdir());
    ck_assert_ptr_null(labels_load(path, err, sizeof(err)));
    char want[4200];
    snprintf(want, sizeof(want), "%s:3: bad CIDR '10.0.0.0/33'", path);
    ck_assert_str_eq(err, want);
}
END_TEST

Suite *
suite_labels(void)
{
    Suite *s = suite_create("labels");
    TCase *tc = tcase_create("labels");
    tcase_add_test(tc, example_file);
    tcase_add_test(tc, precedence_ties);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, limits_and_files);
    suite_add_tcase(s, tc);
    return s;
}
