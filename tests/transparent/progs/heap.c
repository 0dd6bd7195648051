/* SPDX-License-Identifier: MIT */
/* heap.c — heap growth across checkpoints: a linked list and a realloc'ed
   array grow all along (brk and malloc state must be restored). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

struct node { struct node *next; uint64_t v[6]; };

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    struct node *head = NULL;
    uint64_t *arr = NULL, sum = 0;
    size_t len = 0;
    for (long i = 0; i < n; i++) {
        for (int k = 0; k < 200; k++) {
            struct node *p = malloc(sizeof *p);
            p->next = head;
            p->v[0] = (uint64_t)i * 31 + (uint64_t)k;
            head = p;
        }
        arr = realloc(arr, (len + 64) * sizeof *arr);
        for (int k = 0; k < 64; k++)
            arr[len + k] = (uint64_t)(i ^ k);
        len += 64;
        for (int r = 0; r < 20; r++)
            for (struct node *p = head; p && p->v[0] + 2000 > (uint64_t)i * 31; p = p->next)
                sum = sum * 1099511628211u + p->v[0];
        progress("heap", i + 1, n);
    }
    finish_gate();
    for (size_t k = 0; k < len; k++)
        sum += arr[k] * k;
    printf("heap %ld: %llu (%zu words)\n", n, (unsigned long long)sum, len);
    return 0;
}
