/* static_sleeper.c — a static binary (no runtime can be preloaded into
   it) that a job execs; sleeps 1.5 s. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    for (int i = 0; i < 30; i++)
        usleep(50000);
    puts("static done");
    return 0;
}
