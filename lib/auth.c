/* SPDX-License-Identifier: MIT */
/*
 * auth.c — authenticated images: a keyed BLAKE2b MAC (libsodium's
 * crypto_generichash with a key) over everything in the image.
 *
 * XXH3 checksums catch accidents, not attackers: anyone who can write to a
 * store can write an image with valid checksums, and restoring an image is
 * running its code. With a key, the writer appends a MAC section:
 *
 *   tag = BLAKE2b-256(key; file header (128 bytes)
 *                          || for each section but the MAC, in order:
 *                             section header (64 bytes) || name
 *                             || Poly1305(k_i; raw payload) || 16 zero bytes)
 *   k_i = BLAKE2b-256(key; file header || le32(i))
 *
 * Payloads are authenticated as they stream (one pass, no buffering), and
 * the outer keyed hash covers only the small fixed parts, so a section's
 * header, written after its payload, can still be folded in order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cairn.h"
#include "cairn_mac.h"
#include "internal.h"

struct cairn__mac {
    crypto_generichash_state image;     /* keyed, over the fixed parts */
    crypto_onetimeauth_state section;   /* Poly1305, over one payload */
    unsigned char key[CAIRN_KEY_BYTES]; /* to derive per-section keys */
    unsigned char header[128];          /* the image's file header */
};

static void mac_init(struct cairn__mac *m, const unsigned char key[CAIRN_KEY_BYTES])
{
    crypto_generichash_init(&m->image, key, CAIRN_KEY_BYTES, CAIRN_MAC_BYTES);
    memcpy(m->key, key, CAIRN_KEY_BYTES);
    memset(m->header, 0, sizeof m->header);
}

struct cairn__mac *cairn__mac_new(const unsigned char key[CAIRN_KEY_BYTES])
{
    if (sodium_init() < 0)
        return NULL;
    struct cairn__mac *m = NULL;
    /* crypto_generichash_state must be 64-byte aligned. */
    if (posix_memalign((void **)&m, 64, sizeof *m) != 0)
        return NULL;
    mac_init(m, key);
    return m;
}

size_t cairn__mac_size(void)
{
    return sizeof(struct cairn__mac);
}

struct cairn__mac *cairn__mac_init_at(void *mem, const unsigned char key[CAIRN_KEY_BYTES])
{
    struct cairn__mac *m = mem;
    mac_init(m, key);
    return m;
}

void cairn__mac_wipe(struct cairn__mac *m)
{
    sodium_memzero(m, sizeof *m);
}

void cairn__mac_free(struct cairn__mac *m)
{
    if (m)
        sodium_memzero(m, sizeof *m);
    free(m);
}

void cairn__mac_header(struct cairn__mac *m, const unsigned char *h, size_t len)
{
    crypto_generichash_update(&m->image, h, len);
    memcpy(m->header, h, len < sizeof m->header ? len : sizeof m->header);
}

/*
 * Each payload is authenticated with Poly1305 (about 3 GB/s here, against
 * 0.6-0.9 GB/s for BLAKE2b) under a one-time key of its own:
 * BLAKE2b-256(key; file header || le32(section index)). The header holds a
 * random nonce, so no one-time key is ever used for two messages.
 */
void cairn__mac_section_begin(struct cairn__mac *m, unsigned index)
{
    unsigned char in[128 + 4], otk[crypto_onetimeauth_KEYBYTES];
    memcpy(in, m->header, 128);
    for (int i = 0; i < 4; i++)
        in[128 + i] = (unsigned char)(index >> (8 * i));
    crypto_generichash(otk, sizeof otk, in, sizeof in, m->key, CAIRN_KEY_BYTES);
    crypto_onetimeauth_init(&m->section, otk);
    sodium_memzero(otk, sizeof otk);
}

void cairn__mac_section_data(struct cairn__mac *m, const void *p, size_t n)
{
    crypto_onetimeauth_update(&m->section, p, n);
}

void cairn__mac_section_digest(struct cairn__mac *m, unsigned char digest[CAIRN_MAC_BYTES])
{
    memset(digest, 0, CAIRN_MAC_BYTES); /* a 16-byte Poly1305 tag, zero-padded */
    crypto_onetimeauth_final(&m->section, digest);
}

void cairn__mac_section_fold(struct cairn__mac *m, const unsigned char *hdr, size_t hdr_len,
                             const unsigned char digest[CAIRN_MAC_BYTES])
{
    crypto_generichash_update(&m->image, hdr, hdr_len);
    crypto_generichash_update(&m->image, digest, CAIRN_MAC_BYTES);
}

void cairn__mac_final(struct cairn__mac *m, unsigned char tag[CAIRN_MAC_BYTES])
{
    crypto_generichash_final(&m->image, tag, CAIRN_MAC_BYTES);
}

int cairn__mac_equal(const unsigned char a[CAIRN_MAC_BYTES], const unsigned char b[CAIRN_MAC_BYTES])
{
    return sodium_memcmp(a, b, CAIRN_MAC_BYTES) == 0;
}

/* ---- keys ---------------------------------------------------------------- */

static int default_key_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(buf, len, "%s/cairn/key", xdg);
    else if (home && *home)
        n = snprintf(buf, len, "%s/.config/cairn/key", home);
    else
        return -ENOENT;
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Creates the per-user default key (mode 0600) if it does not exist. */
static int create_default_key(const char *path, int verbosity)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) /* mkdir -p, mode 0700 */
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -errno;
    unsigned char key[CAIRN_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    int rc = cairn__write_all(fd, key, sizeof key);
    sodium_memzero(key, sizeof key);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc < 0) {
        unlink(path);
        return rc;
    }
    cairn__log(verbosity, CAIRN_LOG_INFO,
               "created a new image key %s: copy it (mode 0600) to every machine where this "
               "job may restart",
               path);
    return 0;
}

int cairn__key_load(const char *spec, unsigned char key[CAIRN_KEY_BYTES], int verbosity)
{
    if (sodium_init() < 0)
        return -ENOSYS;
    char path[PATH_MAX];
    int rc = 0;
    if (strcmp(spec, "default") == 0) {
        if ((rc = default_key_path(path, sizeof path)) < 0 ||
            (rc = create_default_key(path, verbosity)) < 0) {
            cairn__log(verbosity, CAIRN_LOG_ERROR, "cannot create the default image key: %s",
                       cairn_strerror(rc));
            return rc;
        }
    } else {
        snprintf(path, sizeof path, "%s", spec);
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        cairn__log(verbosity, CAIRN_LOG_ERROR, "image key %s: %s", path, strerror(-rc));
        return rc;
    }
    struct stat st;
    unsigned char buf[4096];
    ssize_t n = -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = CAIRN_EINVAL;
        cairn__log(verbosity, CAIRN_LOG_ERROR, "image key %s: not a regular file", path);
    } else if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        rc = CAIRN_EAUTH;
        cairn__log(verbosity, CAIRN_LOG_ERROR,
                   "image key %s: must be owned by you and readable by nobody else (chmod "
                   "600); refusing it",
                   path);
    } else if ((n = read(fd, buf, sizeof buf)) < 16) {
        rc = CAIRN_EINVAL;
        cairn__log(verbosity, CAIRN_LOG_ERROR, "image key %s: needs at least 16 bytes", path);
    }
    close(fd);
    if (rc == 0) /* any length of key material becomes a 32-byte key */
        crypto_generichash(key, CAIRN_KEY_BYTES, buf, (size_t)n, NULL, 0);
    sodium_memzero(buf, sizeof buf);
    return rc;
}
