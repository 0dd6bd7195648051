/* SPDX-License-Identifier: MIT */
/* mainexit.c — the main thread ends with pthread_exit while a worker runs
   on for 1.5 s: cairn checkpoints through the main thread, so every
   checkpoint is refused naming this, and the job ends as without cairn. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *worker(void *arg)
{
    for (int i = 0; i < 30; i++)
        usleep(50000);
    puts("worker done");
    return arg;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    pthread_exit(NULL);
}
