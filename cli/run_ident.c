/*
 * run_ident.c — the job's identity: which command `cairn run` ran, so that a
 * rerun with another command (another script, an edited one, a replaced
 * binary) does not silently resume the old job.
 *
 * The identity (format/process_format.h, struct cairn_proc_job) is the
 * command line as given, and the contents of the program and, for an
 * interpreter, of its script: size and a hash of the first and last MiB
 * with XXH3 (a changed file almost always changes one of them; this is for
 * mistakes, not for attackers — a keyed run's MAC covers the image). cairn
 * run sends it to the runtime, which saves it in every image; a rerun
 * compares. Paths are kept for messages only: HTCondor restarts a job in a
 * new sandbox, where the same program has another path.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "cli.h"
#include "run.h"

#define EDGE (1u << 20) /* bytes hashed at each end of a file */

int run_find_program(const char *prog, char *out, size_t len)
{
    if (strchr(prog, '/')) {
        snprintf(out, len, "%s", prog);
        return access(out, X_OK);
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *colon = strchrnul(p, ':');
        snprintf(out, len, "%.*s/%s", (int)(colon - p), p, prog);
        if (access(out, X_OK) == 0)
            return 0;
        p = *colon ? colon + 1 : colon;
    }
    return -1;
}

/* Size and hash of a regular file's first and last EDGE bytes; -1 if it
   cannot be read. */
static int file_id(const char *path, uint64_t *size, uint64_t *hash)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return -1;
    static unsigned char buf[2 * EDGE];
    ssize_t a = -1, b = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        a = pread(fd, buf, EDGE, 0);
        if (a >= 0 && (uint64_t)st.st_size > 2 * EDGE)
            b = pread(fd, buf + a, EDGE, st.st_size - EDGE);
    }
    close(fd);
    if (a < 0 || b < 0)
        return -1;
    *size = (uint64_t)st.st_size;
    *hash = XXH3_64bits_withSeed(buf, (size_t)(a + b), *size);
    return 0;
}

/* Programs whose job is a script named by their first file argument. */
static int is_interpreter(const char *argv0)
{
    static const char *const names[] = {"python", "python2", "python3", "octave",
        "octave-cli", "Rscript", "R", "bash", "sh", "dash", "perl", "ruby", "julia",
        "gawk", "awk", "mawk", "node", "tclsh", "lua", NULL};
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        /* python3.11, octave-cli-8.4: a version after the name */
        if (!strncmp(base, names[i], n) && (!base[n] || base[n] == '.' || base[n] == '-'))
            return 1;
    }
    return 0;
}

void run_ident_compute(struct run_ctx *r)
{
    struct cairn_proc_job *j = &r->ident;
    memset(j, 0, sizeof *j);
    for (char **a = r->prog_argv; *a; a++) {
        size_t n = strlen(*a) + 1;
        if (j->argv_len + n > sizeof j->argv)
            break; /* longer command lines: the first 4 KiB count */
        memcpy(j->argv + j->argv_len, *a, n);
        j->argv_len += n;
        j->argc++;
    }
    if (run_find_program(r->prog_argv[0], j->exe, sizeof j->exe) == 0)
        file_id(j->exe, &j->exe_size, &j->exe_hash);
    if (!is_interpreter(r->prog_argv[0]))
        return;
    for (char **a = r->prog_argv + 1; *a; a++) {
        struct stat st;
        if (**a != '-' && stat(*a, &st) == 0 && S_ISREG(st.st_mode)) {
            snprintf(j->script, sizeof j->script, "%s", *a);
            file_id(*a, &j->script_size, &j->script_hash);
            return;
        }
    }
}

/* The command line, arguments separated by spaces, into buf. */
void run_ident_command(const struct cairn_proc_job *j, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (uint64_t i = 0; i < j->argv_len && i < sizeof j->argv && o + 1 < len; i++)
        buf[o++] = j->argv[i] ? j->argv[i] : ' ';
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = 0;
}

int run_ident_compare(const struct cairn_proc_job *was, const struct cairn_proc_job *now,
                      char *why, size_t len)
{
    char a[512], b[512];
    run_ident_command(was, a, sizeof a);
    run_ident_command(now, b, sizeof b);
    const char *what = NULL;
    if (was->argv_len != now->argv_len || memcmp(was->argv, now->argv, now->argv_len))
        what = "another command line";
    else if (was->exe_size != now->exe_size || was->exe_hash != now->exe_hash)
        what = "the same command, but the program has changed";
    else if (was->script_size != now->script_size || was->script_hash != now->script_hash)
        what = "the same command, but the script has changed";
    if (!what)
        return 0;
    snprintf(why, len, "it is a checkpoint of `%s` (program %s%s%s), and this is %s (`%s`): "
             "not resuming another job (cairn run --fresh sets the old images aside and "
             "starts afresh)", a, was->exe, was->script[0] ? ", script " : "", was->script,
             what, b);
    return CAIRN_EMISMATCH;
}
