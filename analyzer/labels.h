/*
 * labels.h - the user's labels file: role, app, env, ... per address.
 *
 * Format: plain text, one rule a line; blank lines and comments ('#' to
 * the end of the line, where the '#' begins a token) are ignored:
 *
 *   line     = [ws] [rule] [ws] ["#" any*]
 *   rule     = selector 1*(ws pair)
 *   selector = ADDRESS | ADDRESS "/" PREFIXLEN | "name:" GLOB
 *   pair     = key "=" value
 *   key      = [a-z][a-z0-9_]*                  (at most 63 bytes)
 *   value    = 1*(any byte but space, tab, '"')  (unquoted)
 *            | '"' *(any byte but '"' and '\' | '\"' | '\\') '"'
 *   ws       = 1*(space | tab)
 *
 * ADDRESS is IPv4 dotted quad or IPv6 text; a bare address is a /32 or
 * /128; a CIDR must have its host bits zero.  GLOB is an fnmatch(3)
 * pattern matched case-insensitively against each name the caller knows
 * for the address (a trailing dot of a name is ignored).  Well-known
 * keys: role, app, env, loc, owner, crown_jewel; any other key of the
 * grammar is kept as well.  Values are at most 1023 bytes.
 *
 * Precedence, per key, when several rules match an address:
 *   1. address rules beat name rules (names come from traffic and can be
 *      spoofed; addresses are what a firewall rule enforces);
 *   2. among address rules, the longer prefix wins (a /32 beats a /24
 *      beats a /16);
 *   3. otherwise (same prefix length, or both name rules) the rule later
 *      in the file wins; within one rule a repeated key's last value wins.
 *
 * Errors name the file and line: "labels.txt:12: bad CIDR '10.0.0.0/33'".
 */
#ifndef SEGSCOPE_LABELS_H
#define SEGSCOPE_LABELS_H

#include <stddef.h>
#include <stdint.h>

#define LABELS_MAX_FILE (16u << 20)  /* bytes accepted in a labels file */
#define LABELS_MAX_RULES 1000000     /* rules accepted in a labels file */
#define LABELS_MAX_VALUE 1023        /* bytes of one value */
#define LABELS_MAX_KEY 63            /* bytes of one key */

typedef struct labels labels;

/* Called once per key that applies, keys in byte order. */
typedef void (*labels_fn)(const char *key, const char *value, void *ctx);

/*
 * Load and check a labels file.  NULL on failure with one line in err:
 * "PATH:LINE: reason" for a bad rule, "PATH: reason" for an unreadable file.
 */
labels *labels_load(const char *path, char *err, size_t errlen);
/* The same from a buffer (name is used in messages). */
labels *labels_parse(const char *name, const void *buf, size_t len, char *err, size_t errlen);
/* NULL is fine. */
void labels_free(labels *l);

/*
 * The labels of addr (4 or 16 bytes per ver) that has the given names
 * (NULL/0 if none): calls fn once per key with the winning value (see the
 * precedence above).  Returns the number of keys reported, or -1 on
 * allocation failure (nothing reported).
 */
int labels_match(const labels *l, const uint8_t *addr, int ver,
                 const char *const *names, int n_names, labels_fn fn, void *ctx);

/* Rules loaded. */
size_t labels_n_rules(const labels *l);

#endif
