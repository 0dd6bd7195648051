/* SPDX-License-Identifier: MIT */
/*
 * cmd_advise.c — `cairn advise`: which checkpoint interval to use, and what
 * it costs, given the checkpoint cost C and the mean time between
 * interruptions M (evictions, preemptions, node failures).
 *
 * The interval is Daly's (cairn_optimal_interval, what CAIRN_INTERVAL=auto
 * uses), shown beside Young's sqrt(2CM) and the 300 s default. The time lost
 * is computed with Daly's (2006) exact model for interruptions that arrive
 * at random (exponentially distributed, mean M), so the three intervals are
 * compared on the same footing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_events.h"
#include "cli.h"
#include "commands.h"
#include "eventlog.h"

#define DEFAULT_INTERVAL 300.0 /* cairn_options_init's default */
#define DEFAULT_MTBI 14400.0   /* cairn_options_init's default, 4 h */

static const char usage[] =
    "usage: cairn advise (--cost SECONDS | --store DIR) [--mtbi SECONDS]\n"
    "                    [--restart SECONDS] [--work SECONDS] [--json]\n"
    "\n"
    "Prints the checkpoint interval that loses the least time, Young's interval\n"
    "for comparison, and the 300 s default, each with the fraction of time it\n"
    "loses to writing checkpoints and redoing work after interruptions.\n"
    "SECONDS may carry a unit: 90, 1.5, 10m, 4h, 2d.\n"
    "\n"
    "Options:\n"
    "  --cost C      seconds one checkpoint takes (cairn's summary line and\n"
    "                'cairn inspect' show the last one measured)\n"
    "  --store DIR   take C from the newest valid image in the store DIR (the\n"
    "                cost of the checkpoint before it, measured by the job), or\n"
    "                for a cairn run store from its event log: the job's median\n"
    "                pause over its last 16 commits\n"
    "  --mtbi M      mean time between interruptions (default 4h, as\n"
    "                CAIRN_MTBI); for an opportunistic pool, the mean run time\n"
    "                before eviction\n"
    "  --restart R   seconds a restart takes (default 0)\n"
    "  --work W      the job's total compute time: adds the expected wall time\n"
    "                and number of checkpoints\n"
    "  --json        print a JSON object: cost_s, cost_source, store, mtbi_s,\n"
    "                restart_s, work_s, model, and intervals {optimal, young,\n"
    "                default}, each {interval_s, lost_fraction, wall_s,\n"
    "                checkpoints} (the last two null without --work)\n"
    "  -h, --help    show this help\n"
    "\n"
    "Intervals:\n"
    "  optimal  Daly's: sqrt(2CM)[1 + sqrt(C/2M)/3 + (C/2M)/9] - C if C < 2M,\n"
    "           else M (what CAIRN_INTERVAL=auto uses)\n"
    "  young    Young's first-order sqrt(2CM)\n"
    "  default  300 s\n"
    "\n"
    "Model: interruptions arrive at random (Poisson process, mean M). Work goes\n"
    "in segments of T seconds, each followed by a checkpoint of C seconds; an\n"
    "interruption loses the segment in progress, and a restart takes R. The\n"
    "expected wall time per segment is M e^(R/M) (e^((T+C)/M) - 1) (Daly 2006),\n"
    "so the fraction of time lost is 1 - T / (M e^(R/M) (e^((T+C)/M) - 1)).\n"
    "To first order that is C/T + T/(2M): checkpoint overhead plus, on average,\n"
    "half an interval redone per interruption.\n"
    "\n"
    "Exit status: 0 ok; 2 usage error; 3 the store has no image or no measured\n"
    "cost; 4 the store cannot be read.\n";

static const struct cli_opt opts[] = {
    {"cost", 0, 1}, {"mtbi", 0, 1},  {"work", 0, 1},  {"store", 0, 1},
    {"json", 0, 0}, {"restart", 0, 1}, {"help", 'h', 0}, {NULL, 0, 0}};
enum { O_COST, O_MTBI, O_WORK, O_STORE, O_JSON, O_RESTART, O_HELP };

struct advise {
    double cost, mtbi, restart, work; /* work 0: not given */
    const char *store;
    int json, mtbi_given;
    unsigned cost_commits;             /* C from the log's last commits (0: not) */
    const char *no_cost;               /* why the images gave no C */
};

struct row {
    const char *key, *label;
    double interval, lost, wall, checkpoints;
};

/* Fraction of wall time lost with interval t (Daly 2006, exponential). */
static double lost_fraction(const struct advise *a, double t)
{
    double per_segment = a->mtbi * exp(a->restart / a->mtbi) * expm1((t + a->cost) / a->mtbi);
    return 1 - t / per_segment;
}

static void fill_row(const struct advise *a, struct row *r, double t)
{
    r->interval = t;
    r->lost = lost_fraction(a, t);
    r->wall = a->work > 0 ? a->work / (1 - r->lost) : NAN;
    r->checkpoints = a->work > 0 ? floor(a->work / t) : NAN;
}

static int cost_from_images(struct advise *a);

/* The pauses of the log's last commits (a cairn run store: its images have
   no job section, the log has what each checkpoint cost the job). */
#define LOG_COMMITS 16
struct log_costs {
    double ns[LOG_COMMITS];
    unsigned n, next;
};

static void note_commit(void *ctx, const char *line)
{
    struct log_costs *c = ctx;
    static struct ev_line e;
    if (ev_parse(&e, line) < 0 || !ev_get(&e, "event") || strcmp(ev_get(&e, "event"), CAIRN_EV_COMMIT))
        return;
    double ns = ev_num(&e, "pause_ns", -1);
    if (ns < 0)
        return;
    c->ns[c->next] = ns;
    c->next = (c->next + 1) % LOG_COMMITS;
    c->n += c->n < LOG_COMMITS;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* C: the median pause of the last commits in the store's log; 0 or -1. */
static int cost_from_log(struct advise *a)
{
    struct log_costs c = {{0}, 0, 0};
    if (ev_read_store(a->store, 0, note_commit, &c) < 0 || c.n == 0)
        return -1;
    qsort(c.ns, c.n, sizeof c.ns[0], by_value);
    a->cost = c.ns[c.n / 2] / 1e9;
    a->cost_commits = c.n;
    return a->cost > 0 ? 0 : -1;
}

/* Reads C from the newest valid image's job section (libcairn), else from
   the event log's commits (cairn run: the job's pause). */
static int cost_from_store(struct advise *a)
{
    int from_images = cost_from_images(a);
    if (from_images == CLI_EXIT_NOIMAGE && cost_from_log(a) == 0)
        return CLI_EXIT_OK;
    if (from_images == CLI_EXIT_NOIMAGE)
        cli_error("advise", "%s: %s; give --cost", a->store, a->no_cost);
    return from_images;
}

static int cost_from_images(struct advise *a)
{
    struct store_scan st;
    if (scan_store(&st, "advise", a->store) < 0)
        return CLI_EXIT_ERROR;
    int rc = CLI_EXIT_NOIMAGE;
    for (size_t i = st.ngens; i-- > 0 && rc == CLI_EXIT_NOIMAGE;) {
        char p[4200];
        struct image_scan s;
        scan_store_gen_path(&st, i, p, sizeof p);
        scan_image(&s, p, 0);
        if (scan_image_ok(&s) && s.has_job) {
            if (s.job.last_cost_ns > 0) {
                a->cost = (double)s.job.last_cost_ns / 1e9;
                rc = CLI_EXIT_OK;
            } else {
                cli_error("advise", "%s: the image records no measured cost yet (only images "
                          "after a job's first checkpoint do); give --cost", p);
                rc = CLI_EXIT_ERROR; /* ends the loop; mapped below */
            }
        }
        scan_image_release(&s);
    }
    a->no_cost = st.ngens ? "no valid image with a job section"
                 : st.finished ? "no image: the job finished"
                               : "no image in the store";
    scan_store_release(&st);
    return rc == CLI_EXIT_ERROR ? CLI_EXIT_NOIMAGE : rc;
}

static void print_text(const struct advise *a, const struct row *rows, size_t n)
{
    char buf[64];
    fmt_seconds(buf, sizeof buf, a->cost);
    printf("checkpoint cost C                  %s%s%s%s\n", buf, a->store ? ", from " : "",
           a->store ? a->store : "",
           a->cost_commits ? " (the job's median pause over its last commits, event log)" : "");
    fmt_seconds(buf, sizeof buf, a->mtbi);
    printf("mean time between interruptions M  %s%s\n", buf,
           a->mtbi_given ? "" : " (default; give --mtbi)");
    if (a->restart > 0) {
        fmt_seconds(buf, sizeof buf, a->restart);
        printf("restart cost R                     %s\n", buf);
    }
    if (a->work > 0) {
        fmt_seconds(buf, sizeof buf, a->work);
        printf("work W                             %s\n", buf);
    }
    printf("\n%-17s  %-21s  %9s", "", "interval", "time lost");
    printf(a->work > 0 ? "  %-21s  %11s\n" : "\n", "expected wall time", "checkpoints");
    for (size_t i = 0; i < n; i++) {
        fmt_seconds(buf, sizeof buf, rows[i].interval);
        printf("%-17s  %-21s  %8.2f%%", rows[i].label, buf, 100 * rows[i].lost);
        if (a->work > 0) {
            fmt_seconds(buf, sizeof buf, rows[i].wall);
            printf("  %-21s  %11.0f", buf, rows[i].checkpoints);
        }
        printf("\n");
    }
    double t = rows[0].interval;
    printf("\nSet CAIRN_INTERVAL=%.*f, or CAIRN_INTERVAL=auto CAIRN_MTBI=%.0f to let the job\n"
           "measure its own cost. Time lost: Daly's model for random interruptions\n"
           "(see 'cairn advise --help').\n",
           t < 10 ? 2 : 0, t, a->mtbi);
    if (t < 1)
        printf("Note: CAIRN_INTERVAL=auto never checkpoints more often than once a second.\n");
    if (rows[0].lost > 0.5)
        printf("Warning: checkpoints cost too much for this interruption rate: most of the\n"
               "time goes to checkpoints and rework. Make checkpoints cheaper (less state,\n"
               "faster storage) or run where interruptions are rarer.\n");
}

static void print_json(const struct advise *a, const struct row *rows, size_t n)
{
    struct json j;
    json_init(&j, stdout);
    json_object(&j, NULL);
    json_num(&j, "cost_s", a->cost);
    json_str(&j, "cost_source", a->cost_commits ? "log" : a->store ? "store" : "given");
    json_str(&j, "store", a->store);
    json_num(&j, "mtbi_s", a->mtbi);
    json_num(&j, "restart_s", a->restart);
    if (a->work > 0)
        json_num(&j, "work_s", a->work);
    else
        json_null(&j, "work_s");
    json_str(&j, "model", "lost = 1 - T / (M e^(R/M) (e^((T+C)/M) - 1)), Daly 2006");
    json_object(&j, "intervals");
    for (size_t i = 0; i < n; i++) {
        json_object(&j, rows[i].key);
        json_num(&j, "interval_s", rows[i].interval);
        json_num(&j, "lost_fraction", rows[i].lost);
        json_num(&j, "wall_s", rows[i].wall);
        json_num(&j, "checkpoints", rows[i].checkpoints);
        json_end_object(&j);
    }
    json_end_object(&j);
    json_end_object(&j);
}

/* Parses one SECONDS value into *out, or reports it. */
static int seconds_opt(const char *opt, const char *v, double *out)
{
    if (cairn__parse_duration(v, out) < 0)
        return cli_usage_error("advise", "--%s '%s': expected seconds > 0 (e.g. 90, 1.5, 10m, "
                               "4h, 2d)", opt, v);
    return 0;
}

static int parse(struct advise *a, int argc, char **argv)
{
    const char *v;
    struct cli_args args;
    cli_args_init(&args, argc, argv);
    for (int k; (k = cli_args_next(&args, opts, &v)) != CLI_ARG_END;) {
        int rc = 0;
        if (k == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (k == CLI_ARG_POSITIONAL)
            return cli_usage_error("advise", "unexpected argument '%s'", v);
        switch (k) {
        case O_COST: rc = seconds_opt("cost", v, &a->cost); break;
        case O_MTBI: rc = seconds_opt("mtbi", v, &a->mtbi); a->mtbi_given = 1; break;
        case O_WORK: rc = seconds_opt("work", v, &a->work); break;
        case O_RESTART:
            a->restart = 0;
            if (strcmp(v, "0") != 0)
                rc = seconds_opt("restart", v, &a->restart);
            break;
        case O_STORE: a->store = v; break;
        case O_JSON: a->json = 1; break;
        default: fputs(usage, stdout); return -1;
        }
        if (rc)
            return rc;
    }
    if (a->cost > 0 && a->store)
        return cli_usage_error("advise", "give --cost or --store, not both");
    if (!(a->cost > 0) && !a->store)
        return cli_usage_error("advise", "missing --cost SECONDS (or --store DIR)");
    return 0;
}

int cmd_advise(int argc, char **argv)
{
    struct advise a = {.mtbi = DEFAULT_MTBI};
    int rc = parse(&a, argc, argv);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (a.store && (rc = cost_from_store(&a)) != 0)
        return rc;
    struct row rows[3] = {{"optimal", "optimal (Daly)", 0, 0, 0, 0},
                          {"young", "Young sqrt(2CM)", 0, 0, 0, 0},
                          {"default", "default", 0, 0, 0, 0}};
    fill_row(&a, &rows[0], cairn_optimal_interval(a.cost, a.mtbi));
    fill_row(&a, &rows[1], sqrt(2 * a.cost * a.mtbi));
    fill_row(&a, &rows[2], DEFAULT_INTERVAL);
    if (a.json)
        print_json(&a, rows, 3);
    else
        print_text(&a, rows, 3);
    return CLI_EXIT_OK;
}
