/* SPDX-License-Identifier: MIT */
/*
 * killdriver.c — kills an example with SIGKILL again and again, restarts it
 * with the same command line until it finishes, and checks that the answer
 * is bit-for-bit the one of an uninterrupted run and that the work was
 * resumed, not redone.
 *
 *   killdriver [-k KILLS] [-m MIN] [-S STEPS] [-w SHARE] [-l LO] [-h HI] -- PROG ARGS
 *
 * 1. Reference: PROG ARGS -d 0 -s ref.ckpt -v, uninterrupted (no delay).
 * 2. Job: PROG ARGS -s job.ckpt -v, with CAIRN_STEPS=STEPS, killed KILLS
 *    times. Every kill follows an event, never a guess of the machine's
 *    speed. A share SHARE of the kills is aimed at a checkpoint write: the
 *    driver watches the store with inotify and sends SIGKILL the instant an
 *    image's temp file (.tmp-<generation>-<pid>) is created. The others land
 *    after the run has printed a random number of "step K" lines, between
 *    LO and HI (default 1 and N / (2 KILLS), N the reference's steps: all
 *    the kills together cannot take the job to its end), plus a random part
 *    of the time the last step took, so that they fall anywhere in a step.
 *    A kill counts as "mid-write" when a .tmp-* file is still in the store
 *    after the process is dead: the write it interrupted never committed.
 *    Should the job end all the same before its KILLS kills (a kill planned
 *    and not made), the whole attempt is made again, up to 3 times.
 * 3. Then the job runs to the end, and the driver checks:
 *    - its stdout equals the reference's, byte for byte;
 *    - it resumed (the last "resumed at step K" has K past the start), and
 *      resume points never went backwards;
 *    - steps executed over all runs (from the -v "step K" lines on stderr)
 *      are at most N + kills * STEPS: each kill loses at most the steps since
 *      the last committed checkpoint — and fewer than 2N;
 *    - no run reported a corrupt or skipped image;
 *    - the store holds only "finished", "lock" and the event log;
 *    - no process is left behind (the driver is a subreaper).
 *
 * Randomness comes from one seed, printed first; CAIRN_E2E_SEED=S repeats the
 * kill plan (the moments within a step still vary). CAIRN_E2E_KEEP=1 keeps the work directory
 * for a post-mortem.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HARD_TIMEOUT_MS 120000 /* a run that takes longer is a hang */
#define STORE "job.ckpt"        /* the job's store, in the work directory */

struct config {
    int kills, min_kills, min_midwrite;
    unsigned steps;    /* CAIRN_STEPS for the job */
    double write_share; /* share of kills aimed at a checkpoint write */
    int lo_steps, hi_steps; /* other kills: after LO..HI steps (hi 0: auto) */
    char **argv;       /* PROG ARGS */
    int argc;
    const char *name;  /* basename of PROG, for messages */
};

/* What one run of the job did. */
struct run {
    int status;        /* from waitpid */
    int killed;        /* we sent SIGKILL */
    int aimed;         /* ... at a checkpoint write */
    int tmp_left;      /* a .tmp-* file was in the store after death */
    int resumed;       /* stderr said "resumed at step K" */
    uint64_t resume_at, last_step;
    int have_step, bad_image;
    int planned;       /* a kill was planned (the run was not to finish) */
};

enum kill_mode { KILL_NONE, KILL_STEPS, KILL_WRITE };

static uint64_t rng_state;
static char workdir[PATH_MAX];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) < 0 ? -1 : 0;
}

static void cleanup_workdir(void)
{
    if (!workdir[0])
        return;
    const char *keep = getenv("CAIRN_E2E_KEEP");
    if (keep && *keep && strcmp(keep, "0") != 0)
        fprintf(stderr, "killdriver: keeping %s\n", workdir);
    else if (chdir("/") == 0)
        nftw(workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    workdir[0] = 0;
}

/* Sends SIGKILL to each of our children that is still alive, by pid (from
   /proc/self/task/TID/children); returns how many there were. */
static int kill_children(void)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    int n = 0;
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"), n++)
        kill((pid_t)atol(tok), SIGKILL);
    return n;
}

/* Kills and reaps every descendant left (orphans come to us: we are a
   subreaper); returns how many there were. */
static int reap_leftovers(void)
{
    int left = 0;
    for (;;) {
        int alive = kill_children();
        if (waitpid(-1, NULL, alive ? 0 : WNOHANG) <= 0)
            return left;
        left++;
    }
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("killdriver: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    reap_leftovers();
    cleanup_workdir();
    exit(1);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Is this a checkpoint image being written (".tmp-" then a digit)? */
static int is_image_temp(const char *name)
{
    return strncmp(name, ".tmp-", 5) == 0 && name[5] >= '0' && name[5] <= '9';
}

/* Counts entries of dir whose name starts with prefix (NULL: all but . ..),
   and writes their names, space-separated, into list. */
static int dir_entries(const char *dir, const char *prefix, char *list, size_t len)
{
    DIR *d = opendir(dir);
    if (!d)
        fail("cannot list %s: %s", dir, strerror(errno));
    int n = 0;
    if (list && len)
        list[0] = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (prefix && strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        n++;
        if (list && strlen(list) + strlen(e->d_name) + 2 < len) {
            strcat(list, list[0] ? " " : "");
            strcat(list, e->d_name);
        }
    }
    closedir(d);
    return n;
}

/* Forks PROG ARGS EXTRA... (in the work directory, our cwd), stdout and
   stderr to files named after `tag`. */
static pid_t spawn(const struct config *cf, const char *tag, char *const extra[])
{
    char *argv[cf->argc + 8];
    int n = 0;
    for (int i = 0; i < cf->argc; i++)
        argv[n++] = cf->argv[i];
    for (int i = 0; extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        fail("fork: %s", strerror(errno));
    if (pid > 0)
        return pid;
    char out[64], err[64];
    snprintf(out, sizeof out, "%s.out", tag);
    snprintf(err, sizeof err, "%s.err", tag);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the job dies with the driver */
    int o = -1, e = -1;
    if ((o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
        (e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 || dup2(o, 1) < 0 ||
        dup2(e, 2) < 0) {
        perror("killdriver: child setup");
        _exit(127);
    }
    close(o);
    close(e);
    execv(argv[0], argv);
    perror(argv[0]);
    _exit(127);
}

/* Reads "resumed at step K" and the last "step K" from a run's stderr. */
static void parse_stderr(const char *tag, struct run *r)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "%s.err", tag);
    FILE *f = fopen(path, "r");
    if (!f)
        fail("cannot read %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        unsigned long long k;
        const char *p = strstr(line, "resumed at step ");
        if (p && sscanf(p, "resumed at step %llu", &k) == 1) {
            r->resumed = 1;
            r->resume_at = k;
        } else if (sscanf(line, "step %llu", &k) == 1) {
            r->have_step = 1;
            r->last_step = k;
        }
        if (strstr(line, "corrupt") || strstr(line, "cairn: skipping"))
            r->bad_image = 1;
    }
    fclose(f);
}

/* What the driver watches: the store (image temp files created) and the
   work directory (a run's stderr written). */
struct watch {
    int fd, store_wd, dir_wd;
};

/* Drops inotify events left from earlier runs. */
static void drain(const struct watch *w)
{
    char buf[4096];
    while (read(w->fd, buf, sizeof buf) > 0)
        ;
}

/* Reads inotify events; returns how many image temp files were created and
   sets *err_written if the file `err` was written to. */
static int take_events(const struct watch *w, const char *err, int *err_written)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int n = 0;
    ssize_t len;
    while ((len = read(w->fd, buf, sizeof buf)) > 0)
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->wd == w->store_wd && (ev->mask & IN_CREATE) && ev->len &&
                is_image_temp(ev->name))
                n++;
            if (ev->wd == w->dir_wd && (ev->mask & IN_MODIFY) && ev->len &&
                !strcmp(ev->name, err))
                *err_written = 1;
            p += sizeof *ev + ev->len;
        }
    return n;
}

/* A run's stderr, read as it grows: counts its "step K" lines. */
struct steps_seen {
    int fd;
    char line[256];
    size_t len;
    int count;
};

/* Reads what was added; returns how many new "step K" lines it held. */
static int new_steps(struct steps_seen *s)
{
    char buf[4096];
    ssize_t got;
    int n = 0;
    while ((got = read(s->fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] != '\n') {
                if (s->len < sizeof s->line - 1)
                    s->line[s->len++] = buf[i];
                continue;
            }
            s->line[s->len] = 0;
            unsigned long long k;
            if (sscanf(s->line, "step %llu", &k) == 1)
                n++;
            s->len = 0;
        }
    s->count += n;
    return n;
}

/* A random delay up to the time of the last step (measured between the
   last two step lines seen), in ms; 0 before two lines. */
static int within_step_ms(uint64_t prev, uint64_t last)
{
    if (!prev || last <= prev)
        return 0;
    return (int)(rng_unit() * (double)(last - prev));
}

/*
 * Runs the job once under a kill plan: KILL_STEPS kills a random moment
 * after the run's nth "step K" line, KILL_WRITE at the creation of the nth
 * image temp file, KILL_NONE lets it finish.
 */
static void run_job(const struct config *cf, const struct watch *w, const char *tag,
                    enum kill_mode mode, int nth, struct run *r)
{
    static char *extra[] = {"-s", STORE, "-v", NULL};
    memset(r, 0, sizeof *r);
    r->planned = mode != KILL_NONE;
    drain(w);
    /* The run's stderr exists before the run, so that it is read from its
       first byte (spawn truncates it again). */
    char err[64];
    snprintf(err, sizeof err, "%s.err", tag);
    struct steps_seen seen = {.fd = -1};
    int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (efd < 0 || close(efd) < 0 || (seen.fd = open(err, O_RDONLY | O_CLOEXEC)) < 0)
        fail("%s: %s", err, strerror(errno));
    pid_t pid = spawn(cf, tag, extra);
    int pidfd = pidfd_open(pid, 0);
    if (pidfd < 0)
        fail("pidfd_open: %s", strerror(errno));
    uint64_t deadline = now_ms() + HARD_TIMEOUT_MS, prev_step = 0, last_step = 0;
    uint64_t kill_at = 0; /* KILL_STEPS: the moment chosen, once the steps are seen */
    int writes = 0;
    while (!r->killed) {
        uint64_t t = now_ms(), until = kill_at ? kill_at : deadline;
        struct pollfd fds[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = w->fd, .events = POLLIN}};
        int n = poll(fds, 2, t >= until ? 0 : (int)(until - t));
        if (n < 0 && errno != EINTR)
            fail("poll: %s", strerror(errno));
        if (n > 0 && (fds[0].revents & POLLIN))
            break; /* it ended by itself */
        if (n > 0 && (fds[1].revents & POLLIN)) {
            int err_written = 0;
            writes += take_events(w, err, &err_written);
            if (mode == KILL_WRITE && writes >= nth)
                r->aimed = r->killed = kill(pid, SIGKILL) == 0;
            if (err_written && new_steps(&seen) > 0) {
                prev_step = last_step;
                last_step = now_ms();
                if (mode == KILL_STEPS && !kill_at && seen.count >= nth)
                    kill_at = last_step + (uint64_t)within_step_ms(prev_step, last_step);
            }
        } else if (n == 0 && kill_at) {
            r->killed = kill(pid, SIGKILL) == 0;
        } else if (n == 0) {
            fprintf(stderr, "killdriver: %s: run %s still going after %d ms; killing it\n",
                    cf->name, tag, HARD_TIMEOUT_MS);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail("%s: run %s hangs", cf->name, tag);
        }
    }
    close(seen.fd);
    if (waitpid(pid, &r->status, 0) != pid)
        fail("waitpid: %s", strerror(errno));
    close(pidfd);
    r->tmp_left = r->killed && dir_entries(STORE, ".tmp-", NULL, 0) > 0;
    parse_stderr(tag, r);
}

static char *read_file(const char *tag, const char *ext, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "%s.%s", tag, ext);
    FILE *f = fopen(path, "r");
    if (!f)
        fail("cannot read %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 4096)))
            fail("out of memory");
        size_t got = fread(buf + *len, 1, cap - *len, f);
        if (!got)
            break;
        *len += got;
    }
    fclose(f);
    return buf;
}

/* Prints a run's stderr to ours, to explain a failure. */
static void show_stderr(const char *tag)
{
    size_t len;
    char *s = read_file(tag, "err", &len);
    fprintf(stderr, "--- stderr of run %s (last 2000 bytes) ---\n", tag);
    size_t from = len > 2000 ? len - 2000 : 0;
    fwrite(s + from, 1, len - from, stderr);
    fprintf(stderr, "--- end ---\n");
    free(s);
}

/* The uninterrupted reference run: its output, first step, and length. */
static char *reference(const struct config *cf, size_t *len, uint64_t *base, uint64_t *steps)
{
    static char *extra[] = {"-d", "0", "-s", "ref.ckpt", "-v", NULL};
    pid_t pid = spawn(cf, "ref", extra);
    int status;
    if (waitpid(pid, &status, 0) != pid)
        fail("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        show_stderr("ref");
        fail("%s: the uninterrupted run failed (status 0x%x)", cf->name, status);
    }
    struct run r = {0};
    parse_stderr("ref", &r);
    size_t elen;
    char *e = read_file("ref", "err", &elen);
    unsigned long long first = 0;
    const char *p = strstr(e, "step ");
    if (!r.have_step || r.resumed || !p || sscanf(p, "step %llu", &first) != 1 || first == 0)
        fail("%s: the reference run printed no \"step K\" lines (is -v supported?)", cf->name);
    free(e);
    *base = first - 1;
    *steps = r.last_step - *base;
    return read_file("ref", "out", len);
}

/* Running totals over the job's runs. */
struct tally {
    int runs, kills, aimed, midwrite;
    uint64_t executed, last_resume;
};

/* Checks one finished run and adds it to the tally; returns 1 if it was
   the final (successful) run. */
static int account(const struct config *cf, const char *tag, const struct run *r, uint64_t base,
                   struct tally *t)
{
    uint64_t start = r->resumed ? r->resume_at : base;
    if (r->bad_image) {
        show_stderr(tag);
        fail("%s: run %s met a corrupt or unusable image", cf->name, tag);
    }
    /* A run killed while starting said nothing: where it would have started
       is unknown. Otherwise it must start no earlier than the last one. */
    if (r->resumed || r->have_step) {
        if (start < t->last_resume)
            fail("%s: run %s started at step %" PRIu64 ", before an earlier resume at %" PRIu64
                 ": checkpointed work was lost",
                 cf->name, tag, start, t->last_resume);
        t->last_resume = start;
    }
    t->runs++;
    if (r->have_step && r->last_step > start)
        t->executed += r->last_step - start;
    if (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGKILL && r->killed) {
        t->kills++;
        t->aimed += r->aimed;
        t->midwrite += r->tmp_left;
        return 0;
    }
    if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
        return 1;
    show_stderr(tag);
    fail("%s: run %s ended with status 0x%x, not by our SIGKILL", cf->name, tag, r->status);
}

/* Kills the job cf->kills times, then lets it finish; runs are numbered
   on from *run_no. Returns 1 if the job finished although a kill was still
   planned and fewer than cf->min_kills were made: the attempt is void. */
static int kill_loop(const struct config *cf, uint64_t base, struct tally *t, char *final_tag,
                     int *run_no)
{
    if (mkdir(STORE, 0700) < 0)
        fail("mkdir %s/%s: %s", workdir, STORE, strerror(errno));
    struct watch w = {.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)};
    if (w.fd < 0 || (w.store_wd = inotify_add_watch(w.fd, STORE, IN_CREATE)) < 0 ||
        (w.dir_wd = inotify_add_watch(w.fd, ".", IN_MODIFY)) < 0)
        fail("inotify on %s/%s: %s", workdir, STORE, strerror(errno));
    int raced = 0;
    for (;;) {
        enum kill_mode mode = KILL_NONE;
        int nth = 0;
        if (t->kills < cf->kills) {
            if (rng_unit() < cf->write_share) {
                mode = KILL_WRITE;
                nth = 1 + (int)(rng_next() % 3);
            } else {
                mode = KILL_STEPS;
                nth = cf->lo_steps + (int)(rng_next() % (uint64_t)(cf->hi_steps - cf->lo_steps + 1));
            }
        }
        snprintf(final_tag, 32, "run%03d", (*run_no)++);
        struct run r;
        run_job(cf, &w, final_tag, mode, nth, &r);
        if (account(cf, final_tag, &r, base, t)) {
            raced = r.planned && t->kills < cf->min_kills;
            break;
        }
    }
    close(w.fd);
    return raced;
}

/* Compares the job's result and store with what they must be. */
static void verify(const struct config *cf, const struct tally *t, const char *final_tag,
                   uint64_t base, uint64_t n)
{
    size_t rlen, jlen;
    char *ref = read_file("ref", "out", &rlen), *out = read_file(final_tag, "out", &jlen);
    if (rlen != jlen || memcmp(ref, out, rlen) != 0) {
        fprintf(stderr, "--- reference ---\n%.*s--- job ---\n%.*s", (int)rlen, ref, (int)jlen, out);
        fail("%s: the output differs from the uninterrupted run's", cf->name);
    }
    free(ref);
    free(out);
    if (t->kills < cf->min_kills)
        fail("%s: only %d kills before the job finished (want >= %d): make the job longer",
             cf->name, t->kills, cf->min_kills);
    if (t->midwrite < cf->min_midwrite)
        fail("%s: only %d kills landed during a checkpoint write (want >= %d)", cf->name,
             t->midwrite, cf->min_midwrite);
    if (t->kills > 0 && t->last_resume <= base)
        fail("%s: the final run did not resume (started from step %" PRIu64 ")", cf->name,
             t->last_resume);
    uint64_t bound = n + (uint64_t)t->kills * cf->steps;
    if (t->executed > bound || t->executed >= 2 * n)
        fail("%s: %" PRIu64 " steps executed for a job of %" PRIu64 " (bound %" PRIu64
             "): work was redone",
             cf->name, t->executed, n, bound);
    char list[512];
    int entries = dir_entries(STORE, NULL, list, sizeof list);
    if (entries != 3 || dir_entries(STORE, "finished", NULL, 0) != 1 ||
        dir_entries(STORE, "lock", NULL, 0) != 1 || dir_entries(STORE, "events.jsonl", NULL, 0) != 1)
        fail("%s: the store should hold only \"finished\", \"lock\" and \"events.jsonl\", it "
             "holds: %s", cf->name, list);
}

static void usage(void)
{
    fprintf(stderr, "usage: killdriver [-k KILLS] [-m MIN_KILLS] [-M MIN_MIDWRITE] [-S STEPS]\n"
                    "                  [-w WRITE_SHARE] [-l LO_STEPS] [-h HI_STEPS] -- PROG ARGS...\n");
    exit(2);
}

static void parse_args(struct config *cf, int argc, char **argv)
{
    *cf = (struct config){.kills = 24, .min_kills = 20, .min_midwrite = 1, .steps = 10,
                          .write_share = 0.5, .lo_steps = 1, .hi_steps = 0};
    int opt;
    while ((opt = getopt(argc, argv, "+k:m:M:S:w:l:h:")) != -1) {
        switch (opt) {
        case 'k': cf->kills = atoi(optarg); break;
        case 'm': cf->min_kills = atoi(optarg); break;
        case 'M': cf->min_midwrite = atoi(optarg); break;
        case 'S': cf->steps = (unsigned)atoi(optarg); break;
        case 'w': cf->write_share = atof(optarg); break;
        case 'l': cf->lo_steps = atoi(optarg); break;
        case 'h': cf->hi_steps = atoi(optarg); break;
        default: usage();
        }
    }
    if (optind >= argc || cf->steps == 0 || cf->lo_steps < 1 || cf->kills < 1 ||
        (cf->hi_steps && cf->hi_steps < cf->lo_steps))
        usage();
    cf->argv = argv + optind;
    cf->argc = argc - optind;
    static char prog[PATH_MAX];
    if (!realpath(cf->argv[0], prog))
        fail("%s: %s", cf->argv[0], strerror(errno));
    cf->argv[0] = prog;
    const char *slash = strrchr(prog, '/');
    cf->name = slash ? slash + 1 : prog;
}

/* The job's environment: checkpoints every cf->steps steps, nothing else. */
static void set_environment(const struct config *cf)
{
    char steps[32];
    snprintf(steps, sizeof steps, "%u", cf->steps);
    setenv("CAIRN_STEPS", steps, 1);
    unsetenv("CAIRN_INTERVAL");
    unsetenv("CAIRN_EXIT_CODE");
    unsetenv("POSIXLY_CORRECT"); /* the driver appends options after ARGS */
}

static void seed_rng(void)
{
    const char *s = getenv("CAIRN_E2E_SEED");
    if (s && *s)
        rng_state = strtoull(s, NULL, 0);
    else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rng_state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
    }
}

int main(int argc, char **argv)
{
    struct config cf;
    parse_args(&cf, argc, argv);
    seed_rng();
    fprintf(stderr, "killdriver: %s: seed %" PRIu64 " (CAIRN_E2E_SEED=%" PRIu64
                    " repeats this kill plan)\n", cf.name, rng_state, rng_state);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
    set_environment(&cf);
    const char *tmp = getenv("TMPDIR");
    int len = snprintf(workdir, sizeof workdir, "%s/cairn-e2e-%s-XXXXXX",
                       tmp && *tmp ? tmp : "/tmp", cf.name);
    if (len < 0 || (size_t)len >= sizeof workdir || !mkdtemp(workdir) || chdir(workdir) < 0) {
        int e = errno;
        workdir[0] = 0;
        fail("cannot make a work directory under %s: %s", tmp && *tmp ? tmp : "/tmp",
             strerror(e));
    }

    size_t rlen;
    uint64_t base, n;
    free(reference(&cf, &rlen, &base, &n));
    if (!cf.hi_steps) /* all the step kills together: at most half the job */
        cf.hi_steps = (int)(n / (2 * (uint64_t)cf.kills)) > cf.lo_steps
                          ? (int)(n / (2 * (uint64_t)cf.kills)) : cf.lo_steps;
    struct tally t;
    char final_tag[32];
    int run_no = 0;
    for (int attempt = 1;; attempt++) {
        t = (struct tally){.last_resume = base};
        if (!kill_loop(&cf, base, &t, final_tag, &run_no))
            break;
        if (attempt == 3)
            fail("%s: the job ended before its kills in 3 attempts: make it longer", cf.name);
        fprintf(stderr, "killdriver: %s: attempt %d: the job ended after only %d kills; "
                        "again from the start\n", cf.name, attempt, t.kills);
        if (nftw(STORE, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
            fail("cannot remove %s/%s: %s", workdir, STORE, strerror(errno));
    }
    verify(&cf, &t, final_tag, base, n);
    if (reap_leftovers() != 0)
        fail("%s: processes were left behind", cf.name);
    printf("killdriver: %s: PASS: %d kills (%d aimed at a checkpoint write, %d landed mid-write "
           "with a .tmp-* left; the others after %d to %d steps), %d restarts; last resumed at "
           "step %" PRIu64 " of %" PRIu64
           "; %" PRIu64 " steps executed for a job of %" PRIu64 " (%.2fx, bound %" PRIu64
           "); output identical to the uninterrupted run (%zu bytes)\n",
           cf.name, t.kills, t.aimed, t.midwrite, cf.lo_steps, cf.hi_steps, t.runs - 1,
           t.last_resume, base + n,
           t.executed, n, (double)t.executed / (double)n, n + (uint64_t)t.kills * cf.steps, rlen);
    cleanup_workdir();
    return 0;
}
