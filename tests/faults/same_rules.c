/* SPDX-License-Identifier: MIT */
/*
 * same_rules.c — libcairn's reader and the restorer reject the same
 * malformed containers (format/container.h holds the rules; both use it).
 *
 *   faults_same_rules RESTORER IMAGE
 *
 * IMAGE is a real process image (written by cairn run). Each case breaks
 * exactly one container rule of docs/FORMAT.md and reseals everything else
 * (tests/common/image_edit.c), then feeds the result to cairn_image_open()
 * and to the real cairn-restore. Both must refuse it: the reader with an
 * error, the restorer by exiting 124 (corrupt) or 125 (unusable) without
 * ever saying RESTORED on its control channel. The unchanged image is the
 * control: the reader opens it and the restorer restores it (the test then
 * kills the restored job).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn_image.h"
#include "image_edit.h"

static const char *restorer;
static char work[] = "/tmp/cairn-same-rules-XXXXXX";

/* ---- the cases: each breaks one rule --------------------------------- */

static unsigned char *hdr(struct ie_image *im) { return ie_header(im); }
static unsigned char *trl(struct ie_image *im) { return ie_trailer(im); }
static unsigned char *sec1(struct ie_image *im) { return ie_section(im, 1); }

static void magic(struct ie_image *im) { hdr(im)[1] ^= 0x20; }
static void newer(struct ie_image *im) { cairn_put16(hdr(im) + CAIRN_HDR_MAJOR, CAIRN_FORMAT_MAJOR + 1); }
static void older(struct ie_image *im) { cairn_put16(hdr(im) + CAIRN_HDR_MAJOR, 0); }
static void hdr_size(struct ie_image *im) { cairn_put32(hdr(im) + CAIRN_HDR_SIZE, 256); }
static void flags(struct ie_image *im) { hdr(im)[CAIRN_HDR_FLAGS] |= 0x80; }
static void no_trailer(struct ie_image *im) { trl(im)[0] = 'X'; }
static void tr_offset(struct ie_image *im) { cairn_put64(trl(im) + CAIRN_TR_OFFSET, 4096); }
static void tr_count_huge(struct ie_image *im) { cairn_put32(trl(im) + CAIRN_TR_COUNT, 0xffffffffu); }
static void tr_count_less(struct ie_image *im) { cairn_put32(trl(im) + CAIRN_TR_COUNT, im->nsec - 1); }
static void tr_count_more(struct ie_image *im) { cairn_put32(trl(im) + CAIRN_TR_COUNT, im->nsec + 1); }
static void sec_magic(struct ie_image *im) { sec1(im)[0] = 'X'; }
static void name_len(struct ie_image *im) { cairn_put16(sec1(im) + CAIRN_SH_NAME_LEN, 300); }
static void codec(struct ie_image *im) { cairn_put16(sec1(im) + CAIRN_SH_CODEC, 7); }
static void sizes(struct ie_image *im)
{
    unsigned char *h = sec1(im);
    cairn_put64(h + CAIRN_SH_RAW, cairn_get64(h + CAIRN_SH_STORED) + 8);
}
static void misaligned(struct ie_image *im)
{
    unsigned char *h = sec1(im);
    cairn_put64(h + CAIRN_SH_DATA_OFFSET, cairn_get64(h + CAIRN_SH_DATA_OFFSET) + 1);
}
static void before_name(struct ie_image *im)
{
    unsigned char *h = sec1(im);
    cairn_put64(h + CAIRN_SH_DATA_OFFSET, im->sec[1] + 8);
}
static void past_trailer(struct ie_image *im)
{
    cairn_put64(sec1(im) + CAIRN_SH_STORED, im->len);
    cairn_put64(sec1(im) + CAIRN_SH_RAW, im->len);
}
/* Breaks after sealing: the checksums themselves. */
static void hdr_sum(struct ie_image *im) { hdr(im)[CAIRN_HDR_CHECKSUM] ^= 1; }
static void sec_sum(struct ie_image *im) { sec1(im)[CAIRN_SH_CHECKSUM] ^= 1; }
static void tr_sum(struct ie_image *im) { trl(im)[CAIRN_TR_CHECKSUM] ^= 1; }
static void chain(struct ie_image *im)
{
    trl(im)[CAIRN_TR_CHAIN] ^= 1;
    ie_seal_trailer(im);
}
/* Two sections retyped and their headers resealed, the chain not redone:
   every header checks, only the chain sees it. */
static void retyped(struct ie_image *im)
{
    unsigned char *a = ie_section(im, 1), *b = ie_section(im, 2);
    unsigned char ta[2], tb[2];
    memcpy(ta, a + CAIRN_SH_TYPE, 2), memcpy(tb, b + CAIRN_SH_TYPE, 2);
    memcpy(a + CAIRN_SH_TYPE, tb, 2), memcpy(b + CAIRN_SH_TYPE, ta, 2);
    ie_seal_section(im, 1, 0); /* these two headers only */
    ie_seal_section(im, 2, 0);
}

static const struct {
    const char *name;
    void (*before_seal)(struct ie_image *);
    void (*after_seal)(struct ie_image *);
} cases[] = {
    {"header magic", magic, NULL},
    {"format_major newer", newer, NULL},
    {"format_major older", older, NULL},
    {"header checksum", NULL, hdr_sum},
    {"header_size", hdr_size, NULL},
    {"unknown header flag", flags, NULL},
    {"no trailer magic", no_trailer, NULL},
    {"trailer checksum", NULL, tr_sum},
    {"trailer offset", tr_offset, NULL},
    {"section count too large to fit", tr_count_huge, NULL},
    {"section count one short", tr_count_less, NULL},
    {"section count one more", tr_count_more, NULL},
    {"section magic", sec_magic, NULL},
    {"section name length", name_len, NULL},
    {"section header checksum", NULL, sec_sum},
    {"payload offset misaligned", misaligned, NULL},
    {"payload inside the header", before_name, NULL},
    {"payload past the trailer", past_trailer, NULL},
    {"unknown codec", codec, NULL},
    {"codec none, stored != raw", sizes, NULL},
    {"chain", NULL, chain},
    {"sections retyped, chain kept", NULL, retyped},
};

/* ---- the two readers ----------------------------------------------------- */

static int reader_accepts(const char *path, char *why, size_t len)
{
    cairn_image_t *img;
    if (cairn_image_open(&img, path, why, len) < 0)
        return 0;
    cairn_image_close(img);
    return 1;
}

/* Reads the restorer's control lines until RESTORED [n] (1) or EOF, when
   it exits (0); PROGRESS lines come before (format/control.h). */
static int said_restored(int fd)
{
    char buf[256];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)n;
        buf[len] = 0;
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            if (strncmp(buf, "RESTORED", 8) == 0 && (buf[8] == '\n' || buf[8] == ' '))
                return 1; /* "RESTORED <n>" (n bytes of messages first), or older */
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len + 1);
        }
        if (len == sizeof buf - 1)
            len = 0; /* an overlong line: not RESTORED */
    }
    return 0;
}

/* Runs cairn-restore on path: 1 restored (the job is then killed), 0
   refused with 124 or 125, -1 anything else (said what). */
static int restorer_accepts(const char *path)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        char fd[16], img[16];
        int ifd = open(path, O_RDONLY); /* the restorer reads a descriptor */
        snprintf(fd, sizeof fd, "%d", p[1]);
        snprintf(img, sizeof img, "%d", ifd);
        close(p[0]);
        execl(restorer, "cairn-restore", img, fd, path, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    int restored = said_restored(p[0]);
    close(p[0]);
    if (restored)
        kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    if (restored)
        return 1;
    if (WIFEXITED(st) && (WEXITSTATUS(st) == 124 || WEXITSTATUS(st) == 125))
        return 0;
    fprintf(stderr, "  restorer ended with status 0x%x, neither restored nor refused\n", st);
    return -1;
}

int main(int argc, char **argv)
{
    static struct ie_image orig, im;
    if (argc != 3 || ie_load(&orig, argv[2]) < 0 || orig.nsec < 3) {
        fprintf(stderr, "usage: faults_same_rules RESTORER PROCESS-IMAGE\n");
        return 2;
    }
    restorer = argv[1];
    if (!mkdtemp(work))
        return 2;
    char path[256], why[320];
    snprintf(path, sizeof path, "%s/case.cairn", work);
    int failed = 0;
    if (ie_save(&orig, path) < 0 || !reader_accepts(path, why, sizeof why) ||
        restorer_accepts(path) != 1) {
        fprintf(stderr, "FAIL control: the unchanged image is not accepted by both (%s)\n", why);
        failed++;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (ie_copy(&im, &orig) < 0)
            return 2;
        if (cases[i].before_seal)
            cases[i].before_seal(&im);
        ie_seal(&im, 0);
        if (cases[i].after_seal)
            cases[i].after_seal(&im);
        why[0] = 0;
        int r = ie_save(&im, path) < 0 ? -1 : reader_accepts(path, why, sizeof why);
        int x = restorer_accepts(path);
        printf("%-32s reader: %-8s restorer: %s%s%s\n", cases[i].name, r ? "ACCEPTS" : "refuses",
               x == 0 ? "refuses" : x > 0 ? "ACCEPTS" : "?", why[0] ? "  -- " : "", why);
        if (r != 0 || x != 0)
            failed++;
        ie_free(&im);
    }
    unlink(path);
    rmdir(work);
    if (failed)
        fprintf(stderr, "FAIL: %d case(s) not refused by both\n", failed);
    return failed ? 1 : 0;
}
