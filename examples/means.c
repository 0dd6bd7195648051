/* SPDX-License-Identifier: MIT */
/*
 * means.c — means of pairs of random integers, then the mean of the means.
 *
 * The Python/numpy tutorial's job: draw two integers in 1..300, store their
 * mean, 500 times, and print the mean of the 500 means. The point it makes
 * about checkpointing: the state of the random number generator is part of
 * the state of the job. Restore the samples but not the generator and the
 * resumed run draws different numbers than an uninterrupted one would have.
 * So the generator here keeps its state in four plain integers (xoshiro256**,
 * seeded from -r with splitmix64) that are protected like any other data, and
 * a resumed run gives exactly the same answer, bit for bit.
 *
 *     means -n 500 -r 42 -d 0.01
 */
#include <getopt.h>
#include <inttypes.h>

#include "cairn.h"
#include "example.h"

/* splitmix64: expands one seed into the generator's initial state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna): all of its state is in s[4]. */
static uint64_t next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform integer in lo..hi, without modulo bias (rejection). */
static uint64_t uniform(uint64_t s[4], uint64_t lo, uint64_t hi)
{
    uint64_t range = hi - lo + 1, limit = UINT64_MAX - UINT64_MAX % range, x;
    do
        x = next(s);
    while (x >= limit);
    return lo + x % range;
}

static void usage(void)
{
    fprintf(stderr, "usage: means [-n SAMPLES] [-r SEED] [-d SECONDS] [-s STORE] [-v]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct ex_args a = {.prog = "means", .store = "means.ckpt", .n = 500};
    uint64_t seed = 1;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:d:s:v")) != -1) {
        if (opt == 'r')
            seed = (uint64_t)ex_number(&a, opt, optarg);
        else if (!ex_common_option(&a, opt, optarg))
            usage();
    }
    if (a.n == 0)
        usage();

    /* The state of the job: samples done, the generator, the means so far. */
    uint64_t k = 0, rng[4];
    for (int j = 0; j < 4; j++)
        rng[j] = splitmix64(&seed);
    double *means = calloc(a.n, sizeof *means);
    if (!means) {
        fprintf(stderr, "means: out of memory for %" PRIu64 " samples\n", a.n);
        return 1;
    }

    cairn_t *c;
    int rc = cairn_open(&c, a.store, NULL);
    if (rc < 0) {
        fprintf(stderr, "means: cannot open checkpoint store %s: %s\n", a.store,
                cairn_strerror(rc));
        free(means);
        return 1;
    }
    if ((rc = cairn_protect(c, "k", &k, sizeof k)) < 0 ||
        (rc = cairn_protect(c, "rng", rng, sizeof rng)) < 0 ||
        (rc = cairn_protect(c, "means", means, a.n * sizeof *means)) < 0 ||
        (rc = cairn_restore(c)) < 0) {
        fprintf(stderr, "means: cannot restore from %s: %s\n", a.store, cairn_strerror(rc));
        cairn_close(c);
        free(means);
        return 1;
    }
    if (rc == CAIRN_RESTORED)
        fprintf(stderr, "means: resumed at step %" PRIu64 "\n", k);

    while (k < a.n) {
        uint64_t x = uniform(rng, 1, 300), y = uniform(rng, 1, 300);
        means[k] = (double)(x + y) / 2;
        k++;
        ex_step_done(&a, k);
        rc = cairn_step(c);
        if (rc < 0)
            fprintf(stderr, "means: checkpoint failed (%s); going on\n", cairn_strerror(rc));
    }

    double sum = 0;
    for (uint64_t j = 0; j < a.n; j++)
        sum += means[j];
    printf("mean of %" PRIu64 " sample means = %.17g (%a)\n", a.n, sum / (double)a.n,
           sum / (double)a.n);
    rc = ex_flush_result(&a);
    if (rc == 0)
        rc = cairn_complete(c);
    cairn_close(c);
    free(means);
    return rc < 0;
}
