/* SPDX-License-Identifier: MIT */
/*
 * run_shared.c — files the job opened itself and was appending to, that
 * another process is writing too. A restore cuts such a file back to its
 * size at the checkpoint (restore/state.c), so that what the killed run
 * wrote after it is not there twice; but bytes another process appended
 * since would go with it, and cairn cannot tell the two apart afterwards.
 * So before a restore cairn run looks for another process that has the
 * file open for writing now (/proc/PID/fd and fdinfo, the processes it may
 * see): such a file is not cut back, and the restorer warns (docs/
 * TRANSPARENT.md, "Files the job opens itself").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn_image.h"
#include "run.h"

/* 1 if /proc/PID/fdinfo/FD says it is open for writing. */
static int open_for_writing(const char *pid, const char *fd)
{
    char path[640], buf[256];
    snprintf(path, sizeof path, "/proc/%s/fdinfo/%s", pid, fd);
    FILE *f = fopen(path, "re");
    int w = 0;
    while (f && fgets(buf, sizeof buf, f))
        if (!strncmp(buf, "flags:", 6))
            w = (strtoul(buf + 6, NULL, 8) & O_ACCMODE) != O_RDONLY;
    if (f)
        fclose(f);
    return w;
}

/* 1 if a process other than cairn run has dev:ino open for writing. */
static int written_elsewhere(dev_t dev, ino_t ino)
{
    DIR *proc = opendir("/proc");
    struct dirent *p;
    int found = 0;
    char self[24];
    snprintf(self, sizeof self, "%ld", (long)getpid());
    while (!found && proc && (p = readdir(proc))) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9' || !strcmp(p->d_name, self))
            continue;
        char dir[320];
        snprintf(dir, sizeof dir, "/proc/%s/fd", p->d_name);
        DIR *fds = opendir(dir); /* unreadable: another user's, not seen */
        struct dirent *e;
        while (!found && fds && (e = readdir(fds))) {
            char link[640];
            struct stat sb;
            snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
            found = e->d_name[0] != '.' && stat(link, &sb) == 0 && sb.st_dev == dev &&
                    sb.st_ino == ino && open_for_writing(p->d_name, e->d_name);
        }
        if (fds)
            closedir(fds);
    }
    if (proc)
        closedir(proc);
    return found;
}

/* The image's file records (n of them), malloc'ed; NULL if none. */
static struct cairn_proc_file *read_files(int image_fd, size_t *n)
{
    cairn_image_t *img = NULL;
    struct cairn_proc_file *files = NULL;
    *n = 0;
    if (cairn_image_open_fd(&img, image_fd, NULL, 0) < 0)
        return NULL;
    int i = cairn_image_find(img, CAIRN_SEC_PROC_FILES, NULL);
    const cairn_section_info_t *si = i < 0 ? NULL : cairn_image_section(img, (unsigned)i);
    if (si && si->raw_size % sizeof *files == 0 && si->raw_size > 0 &&
        (files = malloc(si->raw_size)) &&
        cairn_image_read(img, (unsigned)i, files, si->raw_size) == 0)
        *n = si->raw_size / sizeof *files;
    if (*n == 0) {
        free(files);
        files = NULL;
    }
    cairn_image_close(img);
    return files;
}

void run_shared_files(struct run_ctx *r, char *keep, size_t len)
{
    size_t n, used = 0;
    keep[0] = 0;
    struct cairn_proc_file *files = read_files(r->image_fd, &n);
    for (size_t i = 0; i < n; i++) {
        const struct cairn_proc_file *f = &files[i];
        struct stat sb;
        /* fds 0-2 as files: --output direct, rolled back as before */
        if (f->kind != CAIRN_FD_FILE || !(f->flags & CAIRN_FILEF_APPENDING) || f->fd < 3 ||
            memchr(f->path, 0, sizeof f->path) == NULL || stat(f->path, &sb) < 0 ||
            !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size <= f->size ||
            !written_elsewhere(sb.st_dev, sb.st_ino))
            continue;
        int w = snprintf(keep + used, len - used, "%s%d", used ? "," : "", f->fd);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    free(files);
}
