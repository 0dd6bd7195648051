/* SPDX-License-Identifier: MIT */
/*
 * cmd_ls.c — `cairn ls [DIR...]`: one line per checkpoint store found.
 *
 * A store is a directory holding ckpt-*.cairn files or a finished marker.
 * Each DIR may itself be a store; otherwise its subdirectories are searched
 * (not following symbolic links, not descending into stores) to --depth.
 * The newest image is verified completely (every payload read), so that
 * "ok" means a restore would use it; --no-verify checks only its structure
 * (header, section headers, trailer), which is cheap whatever its size.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
    "usage: cairn ls [--depth N] [--no-verify] [--json] [DIR...]\n"
    "\n"
    "Lists the checkpoint stores in each DIR (default: the current directory):\n"
    "DIR itself if it is a store, else the stores among its subdirectories, down\n"
    "to N levels (default 1; symbolic links are not followed). A store is a\n"
    "directory holding ckpt-*.cairn files or a 'finished' marker.\n"
    "\n"
    "Columns: PATH, GENS (generations present), NEWEST (newest generation\n"
    "number), SIZE (all generations), AGE (since the newest image was written),\n"
    "STATE: ok, finished (the job completed), corrupt-newest (the newest image\n"
    "is damaged; a restore falls back to an older one), empty (no generation).\n"
    "\n"
    "Options:\n"
    "  --depth N     how many directory levels below DIR to search (default 1)\n"
    "  --no-verify   check only the newest image's structure, not every payload\n"
    "                (fast for large images; a damaged payload then goes unseen)\n"
    "  --json        print a JSON array of {path, generations, newest_generation,\n"
    "                size, age_s, state}\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 at least one store listed; 2 usage error; 3 no store found;\n"
    "4 a DIR cannot be read.\n";

static const struct cli_opt opts[] = {{"depth", 0, 1}, {"no-verify", 0, 0}, {"json", 0, 0},
                                      {"help", 'h', 0}, {NULL, 0, 0}};

struct ls_row {
    char *path;
    size_t gens;
    uint64_t newest;
    uint64_t size;
    double age;
    const char *state;
};

struct ls_ctx {
    int verify;
    int json;
    long depth;
    struct ls_row *rows;
    size_t n;
    int error;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills a row from a store directory. */
static int add_store(struct ls_ctx *c, const char *dir)
{
    struct store_scan st;
    if (scan_store(&st, "ls", dir) < 0) {
        c->error = 1;
        return -1;
    }
    struct ls_row r = {.path = strdup(dir), .gens = st.ngens, .age = -1};
    struct image_scan s, *newest = NULL;
    for (size_t i = 0; i < st.ngens; i++) {
        char p[4200];
        struct stat sb;
        double mtime = -1;
        scan_store_gen_path(&st, i, p, sizeof p);
        if (stat(p, &sb) == 0) {
            r.size += (uint64_t)sb.st_size;
            mtime = (double)sb.st_mtime;
        }
        if (i + 1 == st.ngens) {
            scan_image(&s, p, c->verify);
            newest = &s;
            r.newest = st.gens[i];
            double t = s.open_rc == 0 ? (double)cairn_image_info(s.img)->created_ns / 1e9 : mtime;
            r.age = t >= 0 ? now_s() - t : -1;
        }
    }
    r.state = scan_store_state(&st, newest);
    if (newest)
        scan_image_release(newest);
    scan_store_release(&st);
    struct ls_row *rows = realloc(c->rows, (c->n + 1) * sizeof *rows);
    if (!rows || !r.path) {
        free(r.path);
        cli_error("ls", "out of memory");
        c->error = 1;
        return -1;
    }
    c->rows = rows;
    c->rows[c->n++] = r;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void search(struct ls_ctx *c, const char *dir, long depth);

/* Searches the subdirectories of dir, in name order. */
static void search_children(struct ls_ctx *c, const char *dir, long depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("ls", "%s: cannot read directory: %s", dir, strerror(errno));
        c->error = 1;
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn)
            break;
        names = nn;
        if (!(names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)))
            break;
        if (strcmp(dir, ".") == 0) /* "plain", not "./plain" */
            strcpy(names[n++], e->d_name);
        else
            sprintf(names[n++], "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                    e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (lstat(names[i], &sb) == 0 && S_ISDIR(sb.st_mode))
            search(c, names[i], depth);
        free(names[i]);
    }
    free(names);
}

static void search(struct ls_ctx *c, const char *dir, long depth)
{
    if (scan_is_store(dir))
        add_store(c, dir);
    else if (depth > 0)
        search_children(c, dir, depth - 1);
}

static void print_text(const struct ls_ctx *c)
{
    int w = 4;
    for (size_t i = 0; i < c->n; i++)
        if ((int)strlen(c->rows[i].path) > w)
            w = (int)strlen(c->rows[i].path);
    printf("%-*s  %4s  %6s  %9s  %7s  %s\n", w, "PATH", "GENS", "NEWEST", "SIZE", "AGE", "STATE");
    for (size_t i = 0; i < c->n; i++) {
        const struct ls_row *r = &c->rows[i];
        char newest[32] = "-", size[32], age[32];
        if (r->gens)
            snprintf(newest, sizeof newest, "%" PRIu64, r->newest);
        fmt_size(size, sizeof size, r->size);
        fmt_age(age, sizeof age, r->age);
        printf("%-*s  %4zu  %6s  %9s  %7s  %s\n", w, r->path, r->gens, newest, size, age,
               r->state);
    }
}

static void print_json(const struct ls_ctx *c)
{
    struct json j;
    json_init(&j, stdout);
    json_array(&j, NULL);
    for (size_t i = 0; i < c->n; i++) {
        const struct ls_row *r = &c->rows[i];
        json_object(&j, NULL);
        json_str(&j, "path", r->path);
        json_u64(&j, "generations", r->gens);
        if (r->gens)
            json_u64(&j, "newest_generation", r->newest);
        else
            json_null(&j, "newest_generation");
        json_u64(&j, "size", r->size);
        json_num(&j, "age_s", r->age >= 0 ? r->age : 0.0 / 0.0);
        json_str(&j, "state", r->state);
        json_end_object(&j);
    }
    json_end_array(&j);
}

/* Parses the command line into c and the list of DIRs. */
static int parse(struct ls_ctx *c, int argc, char **argv, const char ***dirs, size_t *ndirs)
{
    const char *v;
    struct cli_args a;
    cli_args_init(&a, argc, argv);
    for (int k; (k = cli_args_next(&a, opts, &v)) != CLI_ARG_END;) {
        char *end;
        if (k == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (k == CLI_ARG_POSITIONAL) {
            (*dirs)[(*ndirs)++] = v;
        } else if (k == 0) {
            c->depth = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || c->depth < 0 || c->depth > 64)
                return cli_usage_error("ls", "--depth '%s': expected a number from 0 to 64", v);
        } else if (k == 1) {
            c->verify = 0;
        } else if (k == 2) {
            c->json = 1;
        } else {
            fputs(usage, stdout);
            return -1;
        }
    }
    return 0;
}

int cmd_ls(int argc, char **argv)
{
    struct ls_ctx c = {.depth = 1, .verify = 1};
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    size_t ndirs = 0;
    if (!dirs)
        return CLI_EXIT_ERROR;
    int rc = parse(&c, argc, argv, &dirs, &ndirs);
    if (rc != 0) {
        free(dirs);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    if (ndirs == 0)
        dirs[ndirs++] = ".";
    for (size_t i = 0; i < ndirs; i++)
        search(&c, dirs[i], c.depth);
    if (c.json)
        print_json(&c);
    else if (c.n)
        print_text(&c);
    if (c.n == 0 && !c.error)
        cli_error("ls", "no checkpoint store found (searched %ld level%s below the given "
                        "directories)", c.depth, c.depth == 1 ? "" : "s");
    rc = c.error ? CLI_EXIT_ERROR : c.n ? CLI_EXIT_OK : CLI_EXIT_NOIMAGE;
    for (size_t i = 0; i < c.n; i++)
        free(c.rows[i].path);
    free(c.rows);
    free(dirs);
    return rc;
}
