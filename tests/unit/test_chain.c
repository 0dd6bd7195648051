/* SPDX-License-Identifier: MIT */
/*
 * test_chain.c — the retention rule for chains of delta images
 * (lib/chain.c, lib/store.c prune):
 *
 *  - cairn__retain keeps the newest `keep` generations and every one they
 *    need, transitively (a delta's parent, the parent's parent...), and
 *    nothing else; a generation whose parent cannot be known keeps every
 *    older one;
 *  - the store applies it at each commit: with images written as a real
 *    chain (parent records naming generation, header checksum and chain),
 *    committing never removes a generation a kept one needs, and removes
 *    the rest once a newer full image makes them unneeded;
 *  - a tree generation whose own image is full keeps the generation its
 *    delta member image needs (lib/store_members.c);
 *  - cairn__link_read reads an image's identity and parent record, and
 *    cairn__link_is tells the right parent from another image of the same
 *    generation.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn_chain.h"
#include "cairn_image.h"
#include "cairn_store.h"
#include "cairn_writer.h"
#include "fixture.h"

/* ---- the pure rule ------------------------------------------------------ */

struct table {
    const uint64_t *gen, *parent; /* parent 0: full; UINT64_MAX: unreadable */
    size_t n;
};

static int table_parent(void *ctx, uint64_t gen, uint64_t *pgen)
{
    const struct table *t = ctx;
    for (size_t i = 0; i < t->n; i++)
        if (t->gen[i] == gen) {
            if (t->parent[i] == UINT64_MAX)
                return -1;
            *pgen = t->parent[i];
            return t->parent[i] != 0;
        }
    return -1;
}

static void check_retain(const uint64_t *gen, const uint64_t *parent, size_t n, unsigned keep,
                         const char *want)
{
    struct table t = {gen, parent, n};
    unsigned char kept[32];
    char got[33] = "";
    cairn__retain(gen, n, keep, table_parent, &t, kept);
    for (size_t i = 0; i < n; i++)
        got[i] = kept[i] ? 'k' : '-';
    assert_string_equal(got, want);
}

static void test_retain_rule(void **state)
{
    (void)state;
    const uint64_t g[] = {1, 2, 3, 4, 5, 6, 7};
    /* F1 D2 D3 F4 D5 D6 F7 */
    const uint64_t chain[] = {0, 1, 2, 0, 4, 5, 0};
    check_retain(g, chain, 3, 2, "kkk");     /* D3, D2 kept; D2 needs F1 */
    check_retain(g, chain, 4, 2, "kkkk");    /* F4, D3 kept; D3 needs D2, F1 */
    check_retain(g, chain, 5, 2, "---kk");   /* D5, F4: the old chain goes */
    check_retain(g, chain, 6, 1, "---kkk");  /* D6 alone needs D5 and F4 */
    check_retain(g, chain, 7, 1, "------k"); /* a full image needs nothing */
    check_retain(g, chain, 7, 3, "---kkkk");
    check_retain(g, chain, 2, 5, "kk");      /* fewer than keep: all */
    /* Generations with gaps (quarantined ones): a missing parent is not
       invented, the rest of the rule holds. */
    const uint64_t g2[] = {3, 5, 8, 9};
    const uint64_t p2[] = {0, 4, 5, 8};
    check_retain(g2, p2, 4, 1, "-kkk"); /* D9 -> D8 -> D5 -> (4 gone) */
    /* An unreadable kept image keeps everything older. */
    const uint64_t p3[] = {0, 1, UINT64_MAX, 0, 4, 5, 0};
    check_retain(g, p3, 5, 3, "kkkkk");
    /* Only older generations can be parents (a record naming itself or a
       newer one marks nothing). */
    const uint64_t p4[] = {0, 2, 5, 0, 4, 5, 0};
    check_retain(g, p4, 3, 1, "--k");
}

/* ---- through the store -------------------------------------------------- */

/* A minimal process image of generation gen into fd, a delta on parent
   (a link read back from the store) or full (parent NULL). */
static void write_image(int fd, uint64_t gen, const struct cairn__link *parent)
{
    struct cairn__writer w = {0};
    assert_int_equal(cairn__writer_begin(&w, fd, CAIRN_IMG_PROCESS, gen), 0);
    char core[64] = "a process image of the test";
    struct cairn__section sec = {.type = CAIRN_SEC_PROC_CORE};
    assert_int_equal(cairn__writer_section(&w, &sec, core, sizeof core), 0);
    if (parent) {
        struct cairn_proc_parent r = {.magic = CAIRN_PROC_PARENT_MAGIC, .version = 1,
                                      .generation = parent->generation,
                                      .header_checksum = parent->header_checksum,
                                      .chain = parent->chain, .depth = 1};
        sec = (struct cairn__section){.type = CAIRN_SEC_PROC_PARENT};
        assert_int_equal(cairn__writer_section(&w, &sec, &r, sizeof r), 0);
    }
    assert_int_equal(cairn__writer_finish(&w), 0);
    cairn__writer_release(&w);
    assert_int_equal(fsync(fd), 0);
}

/* Commits the next generation: its own image, a delta on parent or full,
   and if member, a member image of process 3 too, a delta on
   member_parent or full. */
static void commit_tree(struct cairn__store *s, const struct cairn__link *parent, int member,
                        const struct cairn__link *member_parent, unsigned keep)
{
    struct cairn__pending p, m;
    assert_int_equal(cairn__store_begin(s, &p), 0);
    write_image(p.fd, p.generation, parent);
    if (member) {
        uint64_t pid = 3;
        assert_int_equal(cairn__store_begin_member(s, p.generation, pid, &m), 0);
        write_image(m.fd, p.generation, member_parent);
        assert_int_equal(cairn__store_commit_members(s, &m, &pid, 1), 0);
    }
    assert_int_equal(cairn__store_commit(s, &p, keep), 0);
}

static void commit_image(struct cairn__store *s, const struct cairn__link *parent, unsigned keep)
{
    commit_tree(s, parent, 0, NULL, keep);
}

static struct cairn__link link_of(struct cairn__store *s, uint64_t gen)
{
    struct cairn__link l;
    char why[256];
    int fd;
    assert_int_equal(cairn__store_open_image(s, gen, &fd, why, sizeof why), 0);
    assert_int_equal(cairn__link_read(fd, &l, why, sizeof why), 0);
    close(fd);
    return l;
}

/* Which generations the store holds, as a string of their numbers. */
static void assert_gens(struct cairn__store *s, const char *want)
{
    uint64_t *gens;
    size_t n;
    char got[128] = "";
    assert_int_equal(cairn__store_generations(s, &gens, &n), 0);
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? " " : "",
                 (unsigned long long)gens[i]);
    free(gens);
    assert_string_equal(got, want);
}

static void test_store_keeps_parents(void **state)
{
    struct th_dir *d = *state;
    struct cairn__store s;
    assert_int_equal(cairn__store_open(&s, d->store, -1), 0);
    commit_image(&s, NULL, 2); /* F1 */
    struct cairn__link l = link_of(&s, 1);
    commit_image(&s, &l, 2); /* D2 on 1 */
    l = link_of(&s, 2);
    commit_image(&s, &l, 2); /* D3 on 2: keeps 3, 2 and 1 */
    assert_gens(&s, "1 2 3");
    l = link_of(&s, 3);
    assert_true(l.has_parent);
    assert_int_equal(l.parent.generation, 2);
    struct cairn__link l2 = link_of(&s, 2), l1 = link_of(&s, 1);
    assert_true(cairn__link_is(&l2, &l.parent));
    assert_false(cairn__link_is(&l1, &l.parent));
    commit_image(&s, NULL, 2); /* F4: keeps 4, 3 and what 3 needs */
    assert_gens(&s, "1 2 3 4");
    l = link_of(&s, 4);
    commit_image(&s, &l, 2); /* D5 on 4: 1..3 no longer needed */
    assert_gens(&s, "4 5");
    commit_image(&s, NULL, 1); /* F6, keep 1 */
    assert_gens(&s, "6");
    cairn__store_close(&s);
}

static struct cairn__link member_link_of(struct cairn__store *s, uint64_t gen)
{
    struct cairn__link l;
    char why[256];
    int fd;
    assert_int_equal(cairn__store_open_member(s, gen, 3, &fd, why, sizeof why), 0);
    assert_int_equal(cairn__link_read(fd, &l, why, sizeof why), 0);
    close(fd);
    return l;
}

/* A process tree whose first image is full while a member's is a delta on
   its image of the generation before: that generation stays (and its
   member with it) until nothing needs it. */
static void test_store_keeps_member_parents(void **state)
{
    struct th_dir *d = *state;
    struct cairn__store s;
    assert_int_equal(cairn__store_open(&s, d->store, -1), 0);
    commit_tree(&s, NULL, 1, NULL, 1); /* F1, member F1 */
    struct cairn__link m1 = member_link_of(&s, 1);
    commit_tree(&s, NULL, 1, &m1, 1); /* F2, member D2 on 1: keeps 1 */
    assert_gens(&s, "1 2");
    struct cairn__link m2 = member_link_of(&s, 2);
    assert_true(m2.has_parent);
    assert_true(cairn__link_is(&m1, &m2.parent));
    commit_tree(&s, NULL, 1, NULL, 1); /* F3, member F3: 1 and 2 go, members too */
    assert_gens(&s, "3");
    char why[256];
    int fd;
    assert_true(cairn__store_open_member(&s, 1, 3, &fd, why, sizeof why) < 0);
    assert_true(cairn__store_open_member(&s, 2, 3, &fd, why, sizeof why) < 0);
    cairn__store_close(&s);
}

/* A generation replaced by another image of the same number is not the
   parent its child names. */
static void test_replaced_parent(void **state)
{
    struct th_dir *d = *state;
    struct cairn__store s;
    assert_int_equal(cairn__store_open(&s, d->store, -1), 0);
    commit_image(&s, NULL, 5);
    struct cairn__link was = link_of(&s, 1);
    char name[64], path[4096];
    cairn__store_name(1, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", d->store, name);
    assert_int_equal(unlink(path), 0);
    commit_image(&s, NULL, 5); /* generation 1 again, another image */
    struct cairn__link now = link_of(&s, 1);
    struct cairn_proc_parent named = {.generation = 1, .header_checksum = was.header_checksum,
                                      .chain = was.chain};
    assert_int_equal(now.generation, 1);
    assert_false(cairn__link_is(&now, &named));
    assert_true(cairn__link_is(&was, &named));
    cairn__store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retain_rule),
        th_unit_test(test_store_keeps_parents),
        th_unit_test(test_store_keeps_member_parents),
        th_unit_test(test_replaced_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
