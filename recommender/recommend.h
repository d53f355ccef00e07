/*
 * recommend.h - from a workload model to a segmentation policy.
 *
 * rec_run() segments the model (segment.h), derives the rules (rules.h)
 * and the blast radius (blast.h); rec_write_json() writes the result as
 * a segscope.policy/v1 document with extra keys (evidence, review list,
 * blast radius, confidence, explanations), rec_write_text() as a summary
 * for people.
 */
#ifndef SEGSCOPE_RECOMMEND_H
#define SEGSCOPE_RECOMMEND_H

#include <stdio.h>

#include "recommender/blast.h"
#include "recommender/model.h"
#include "recommender/rules.h"
#include "recommender/segment.h"

/* Knobs of the whole run. */
typedef struct rec_cfg {
    seg_cfg seg;                /* segmentation */
    rules_cfg rules;            /* rule synthesis */
    uint32_t max_paths;         /* attack paths kept (default 50) */
    uint32_t max_review;        /* review entries written (default 1000; 0 = all) */
    int host_details;           /* list each member host with its confidence (default 1) */
} rec_cfg;

void rec_cfg_default(rec_cfg *cfg);

typedef struct recommendation recommendation;

/* Run on a finished model (kept by pointer: it must outlive the result). NULL on OOM. */
recommendation *rec_run(const model *m, const rec_cfg *cfg);
/* NULL is fine. */
void rec_free(recommendation *r);

const segmentation *rec_segments(const recommendation *r);
const rules *rec_rules(const recommendation *r);
const blast *rec_blast(const recommendation *r);

/* Write the policy document (JSON) or the summary (text). 0, or -1 on a write error. */
int rec_write_json(const recommendation *r, FILE *out);
int rec_write_text(const recommendation *r, FILE *out);

#endif
