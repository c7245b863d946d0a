/* What decides the speed of a named-namespace delete loop (issue 18).
 *
 * Creates N named namespaces as benchmarks/c/ref.c does, then deletes them as
 * ref.c does (umount2(MNT_DETACH|UMOUNT_NOFOLLOW), unlink), varying one factor
 * at a time, and times every syscall of the delete loop:
 *
 *   delete_probe PREFIX N [hold] [threads=K] [phases]
 *
 *   hold       open each namespace (O_PATH) before its umount and close them
 *              all after the loop: the kernel's cleanup cannot start during it
 *   threads=K  K extra threads, idle in pause(), during the delete loop
 *   phases     every umount first, then every unlink (ref.c interleaves them)
 *
 * Prints one JSON object: create and delete us per namespace, the held fds'
 * open and close costs, the delete loop's own run time and runqueue wait per
 * namespace (/proc/thread-self/schedstat), its voluntary and involuntary
 * context switches, the median, 90th percentile and maximum of one umount2,
 * how many umount2 calls took over 100 us, and the mean cost per namespace
 * in each tenth of the loop. Built by benchmarks/teardown_probe.py.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

/* run time and runqueue wait of this thread, in us */
static void schedstat(double *run, double *wait)
{
    unsigned long long r = 0, w = 0;
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &r, &w) != 2)
            r = w = 0;
        fclose(f);
    }
    *run = r / 1e3;
    *wait = w / 1e3;
}

static void switches(long *vol, long *invol)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    *vol = *invol = 0;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "voluntary_ctxt_switches:", 24))
            *vol = atol(line + 24);
        else if (!strncmp(line, "nonvoluntary_ctxt_switches:", 27))
            *invol = atol(line + 27);
    }
    fclose(f);
}

static void path_of(char *buf, size_t size, const char *prefix, int i)
{
    snprintf(buf, size, "/run/netns/%s%d", prefix, i);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: delete_probe PREFIX N [hold] [threads=K] [phases]\n");
        return 2;
    }
    const char *prefix = argv[1];
    int n = atoi(argv[2]), hold = 0, threads = 0, phases = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "hold"))
            hold = 1;
        else if (!strncmp(argv[i], "threads=", 8))
            threads = atoi(argv[i] + 8);
        else if (!strcmp(argv[i], "phases"))
            phases = 1;
        else {
            fprintf(stderr, "delete_probe: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (n < 1)
        return 2;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char path[512];
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    mkdir("/run/netns", 0755);
    if (mount("", "/run/netns", "none", MS_SHARED, NULL) < 0) {
        mount("/run/netns", "/run/netns", "none", MS_BIND | MS_REC, NULL);
        mount("", "/run/netns", "none", MS_SHARED, NULL);
    }
    double t0 = now();
    for (int i = 0; i < n; i++) {
        path_of(path, sizeof path, prefix, i);
        int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0);
        if (fd < 0 || close(fd) < 0 || unshare(CLONE_NEWNET) < 0 ||
            mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) {
            perror(path);
            return 1;
        }
    }
    if (setns(home, CLONE_NEWNET) < 0)
        return perror("setns home"), 1;
    double create = now() - t0;

    pthread_t thread;
    for (int i = 0; i < threads; i++)
        pthread_create(&thread, NULL, idle, NULL);
    double *um = malloc(n * sizeof *um), *ul = malloc(n * sizeof *ul);
    int *held = malloc(n * sizeof *held);
    double hold_cost = 0, release = 0, run0, wait0, run1, wait1;
    long vol0, invol0, vol1, invol1;
    if (hold) {
        t0 = now();
        for (int i = 0; i < n; i++) {
            path_of(path, sizeof path, prefix, i);
            held[i] = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        hold_cost = now() - t0;
    }
    schedstat(&run0, &wait0);
    switches(&vol0, &invol0);
    t0 = now();
    for (int i = 0; i < n; i++) {
        path_of(path, sizeof path, prefix, i);
        double a = now();
        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
            perror("umount2");
        double b = now();
        um[i] = b - a;
        ul[i] = 0;
        if (!phases) {
            if (unlink(path) < 0)
                perror("unlink");
            ul[i] = now() - b;
        }
    }
    for (int i = 0; phases && i < n; i++) {
        path_of(path, sizeof path, prefix, i);
        double a = now();
        if (unlink(path) < 0)
            perror("unlink");
        ul[i] = now() - a;
    }
    double delete = now() - t0;
    schedstat(&run1, &wait1);
    switches(&vol1, &invol1);
    if (hold) {
        t0 = now();
        for (int i = 0; i < n; i++)
            if (held[i] >= 0)
                close(held[i]);
        release = now() - t0;
    }
    printf("{\"create_us\": %.1f, \"delete_us\": %.1f, \"hold_us\": %.1f, \"release_us\": %.1f, "
           "\"run_us\": %.1f, \"runq_wait_us\": %.1f, \"voluntary\": %ld, \"involuntary\": %ld, "
           "\"tenths_us\": [",
           create * 1e6 / n, delete * 1e6 / n, hold_cost * 1e6 / n, release * 1e6 / n,
           (run1 - run0) / n, (wait1 - wait0) / n, vol1 - vol0, invol1 - invol0);
    int k = n >= 10 ? n / 10 : 1;
    for (int s = 0; s + k <= n; s += k) {
        double sum = 0;
        for (int i = s; i < s + k; i++)
            sum += um[i] + ul[i];
        printf("%s%.0f", s ? ", " : "", sum * 1e6 / k);
    }
    int slow = 0;
    for (int i = 0; i < n; i++)
        slow += um[i] > 100e-6;
    qsort(um, n, sizeof *um, by_value);
    printf("], \"umount_p50_us\": %.1f, \"umount_p90_us\": %.1f, \"umount_max_us\": %.0f, "
           "\"umounts_over_100us\": %d}\n",
           um[n / 2] * 1e6, um[n * 9 / 10] * 1e6, um[n - 1] * 1e6, slow);
    return 0;
}
