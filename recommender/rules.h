/*
 * rules.h - allow rules between segments, with their evidence.
 *
 * From a model and its segmentation, rules_build() derives the least set
 * of allow rules (segment -> segment per service: protocol, port or port
 * range, application; the Internet as a source or destination) that
 * admits the observed traffic, under a default deny; connections are
 * stateful (a rule allows the initiator's direction, replies implied).
 * Traffic that is not good evidence goes to a review list instead, with
 * the reason and the evidence.  rules.c opens with how it works.
 */
#ifndef SEGSCOPE_RULES_H
#define SEGSCOPE_RULES_H

#include <stdint.h>

#include "recommender/model.h"
#include "recommender/segment.h"

#define RULE_INTERNET (UINT32_MAX - 1)  /* src/dst: the Internet (external addresses) */
#define RULE_MAX_EXAMPLES 3
#define RULE_MAX_NAMES 16

/* Knobs (rules_cfg_default documents the defaults). */
typedef struct rules_cfg {
    uint64_t min_support;       /* flows a service needs between two segments unless corroborated (2) */
    uint32_t corroborate;       /* other segments that must show the same habit to corroborate (2) */
    uint32_t range_min_ports;   /* distinct high ports of one service that make a range (4) */
} rules_cfg;

void rules_cfg_default(rules_cfg *cfg);

/* What was observed behind a rule or a review entry. */
typedef struct rule_ev {
    uint64_t flows;             /* flow records */
    uint64_t pkts;              /* packets, both ways */
    uint64_t bytes;             /* wire bytes, both ways */
    uint64_t first_ns, last_ns; /* first and last seen */
    uint32_t days;              /* most distinct days of one host pair */
    uint32_t pairs;             /* distinct (client, server) host pairs */
    uint32_t n_ex;              /* example pairs in ex[] */
    uint32_t ex[RULE_MAX_EXAMPLES][2]; /* example (client, server) host indices */
} rule_ev;

/* Why a rule was made (rule.basis). */
enum rule_basis {
    RULE_SEEN = 0,              /* seen in at least min_support flows */
    RULE_LOCAL,                 /* only a host talking to itself */
    RULE_CORROBORATED,          /* seen less, but the same service is used the same way by other segments */
};

/* Why traffic went to the review list (review.reason). */
enum review_reason {
    REVIEW_RARE = 0,            /* seen fewer than min_support flows, not corroborated */
    REVIEW_SCANNER,             /* the client is a scanner */
    REVIEW_UNANSWERED,          /* the server never answered (TCP/ICMP) */
    REVIEW_DEAD,                /* the server address never sent a packet */
    REVIEW_PROTO,               /* an IP protocol the policy format cannot name (not TCP/UDP/ICMP) */
};

/* One allow rule. */
typedef struct rule {
    uint32_t src, dst;          /* segment index or RULE_INTERNET */
    uint8_t proto;              /* 6, 17, 1 (ICMP, ICMPv6 folded in) or another IP protocol */
    uint16_t lo, hi;            /* port range (lo == hi: one port; ignored for ICMP) */
    uint32_t app;               /* model string id of the main application (0 = unknown) */
    int basis;                  /* enum rule_basis */
    uint32_t n_ports_seen;      /* distinct ports observed inside [lo, hi] */
    rule_ev ev;                 /* evidence */
    uint32_t n_names;           /* destination names (Internet egress), model string ids */
    uint32_t names[RULE_MAX_NAMES]; /* the names */
    uint32_t n_addrs;           /* destination hosts when no name is known (Internet egress) */
    uint32_t addrs[RULE_MAX_NAMES]; /* host indices */
} rule;

/* One review entry: traffic not turned into a rule. */
typedef struct review {
    uint32_t src, dst;          /* segment, RULE_INTERNET, or SEG_NONE (no segment) */
    uint32_t src_host;          /* for a scanner: the scanner host; else MODEL_NONE */
    uint8_t proto;              /* 6, 17, 1 or another IP protocol */
    uint16_t port;              /* server port (0 for ICMP; for a scanner: ports probed in `ports`) */
    uint32_t ports;             /* scanner: distinct ports probed */
    uint32_t app;               /* model string id */
    int reason;                 /* enum review_reason */
    rule_ev ev;                 /* evidence */
} review;

typedef struct rules rules;

/* Build the rules of a segmented model. NULL on OOM. */
rules *rules_build(const model *m, const segmentation *s, const rules_cfg *cfg);
/* NULL is fine. */
void rules_free(rules *r);

uint32_t rules_count(const rules *r);
const rule *rules_get(const rules *r, uint32_t i);
uint32_t rules_review_count(const rules *r);
const review *rules_review_get(const rules *r, uint32_t i);

/* "seen", "local", "corroborated". */
const char *rules_basis_name(int basis);
/* "rare", "scanner", "unanswered", "dead", "protocol". */
const char *rules_reason_name(int reason);
/* "tcp", "udp", "icmp" or the number as text in buf. */
const char *rules_proto_name(int proto, char *buf, size_t len);
/* 1 if the service is one attackers move laterally with (SMB, RDP, SSH, WinRM, RPC, databases...). */
int rules_lateral(int proto, int lo, int hi);

#endif
