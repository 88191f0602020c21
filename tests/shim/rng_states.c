/* Many live caller-held generator states at once: 200 threads, each drawing from its own rand_r
 * state, more states than the shim's table holds.  The draws of the states it cannot hold go
 * unrecorded; that must count as lost once per thread and state, not once per draw (the values
 * themselves are checked against a native run by their sum).
 * rng_states.sh checks the count in the trace after the run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 200
#define DRAWS   20000

static pthread_barrier_t start;
static long sums[THREADS];

static void *drawer(void *arg)
{
    long i = (long)arg;
    unsigned state = (unsigned)i + 1;
    long sum = 0;
    pthread_barrier_wait(&start); /* all states alive at once */
    for (int k = 0; k < DRAWS; k++)
        sum += rand_r(&state);
    sums[i] = sum;
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, drawer, (void *)i) != 0)
            return 2;
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += sums[i];
    }
    /* The same on every run: rand_r is a pure function of its state. */
    long expect = 0;
    for (long i = 0; i < THREADS; i++) {
        unsigned state = (unsigned)i + 1;
        for (int k = 0; k < DRAWS; k++)
            expect += rand_r(&state);
    }
    int ok = total == expect;
    printf("%s - %d threads drew the values rand_r gives natively\n", ok ? "ok" : "not ok",
           THREADS);
    return !ok;
}
