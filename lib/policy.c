/* SPDX-License-Identifier: MIT */
/* policy.c — when to checkpoint: fixed interval, steps, or Young/Daly. */
#include <math.h>
#include <stdio.h>

#include "cairn.h"
#include "handle.h"

double cairn_optimal_interval(double cost, double mtbi)
{
    if (!(cost > 0) || !(mtbi > 0))
        return 0;
    if (cost >= 2 * mtbi)
        return mtbi;
    double r = cost / (2 * mtbi);
    return sqrt(2 * cost * mtbi) * (1 + sqrt(r) / 3 + r / 9) - cost;
}

/* Before the first checkpoint is measured, guess its cost from the bytes
   to write at a conservative 200 MB/s plus 10 ms for the fsyncs. */
static double estimated_cost(const cairn_t *c)
{
    return (double)cairn__protected_bytes(c) / 200e6 + 0.010;
}

void cairn__policy_update(cairn_t *c)
{
    const cairn_options_t *o = &c->o;
    switch (o->policy) {
    case CAIRN_POLICY_STEPS:
        c->interval = 0;
        snprintf(c->policy_text, sizeof c->policy_text, "every %llu steps",
                 (unsigned long long)o->every_steps);
        return;
    case CAIRN_POLICY_AUTO: {
        int measured = c->last_cost > 0;
        double cost = measured ? c->last_cost : estimated_cost(c);
        double t = cairn_optimal_interval(cost, o->mtbi);
        if (t < 1.0)
            t = 1.0; /* below a second the fsyncs dominate whatever the model says */
        c->interval = t;
        snprintf(c->policy_text, sizeof c->policy_text,
                 "auto: Daly with cost %.3fs (%s), MTBI %.0fs -> %.1fs", cost,
                 measured ? "measured" : "estimated", o->mtbi, t);
        return;
    }
    default:
        c->interval = o->interval;
        snprintf(c->policy_text, sizeof c->policy_text, "every %gs", o->interval);
        return;
    }
}
