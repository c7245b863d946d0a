/* The C reference for rawns' benchmarks (issue 6).
 *
 * It makes the same syscalls and the same rtnetlink messages rawns makes for
 * each workload, with no policy and no recovery beyond cleaning up what it
 * made, so that "rawns / C" says what the Python layers cost. It is compiled
 * at run time by benchmarks/bench.py with the system compiler (cc -O2) into
 * benchmarks/bin/. The rtnetlink messages are packed by hand below from the
 * kernel's UAPI headers; this is a measuring stick, not library code.
 *
 * Usage (NAME of pod i is PREFIX "p" i, of namespace i in W1 PREFIX i):
 *   ref w1 PREFIX N              create N named namespaces, then delete them
 *   ref w2 PREFIX N HOST         N pods in the namespace HOST, then teardown
 *   ref w2-setup PREFIX N HOST   the setup of w2 alone (leaves the pods)
 *   ref w2-teardown PREFIX N     the teardown of w2 alone
 *   ref w3 PREFIX N              dump addresses and neighbours of N pods
 * Writes one JSON object on stdout: for each phase, wall seconds and the
 * process's user and system CPU seconds. Before and after each phase it calls
 * access("/rnsbench-marker/PHASE-begin"/"-end") so that a strace of the run
 * can count the syscalls of the phase alone. Exit status 1 on any failure,
 * with a line on stderr naming the syscall and the object.
 *
 * A pod (W2): named namespace; in HOST a veth pair, host end vh<i> up, peer
 * eth0 made directly inside the pod by the same RTM_NEWLINK (IFLA_NET_NS_FD)
 * and given ifindex 2 there (a fresh namespace holds only lo, ifindex 1), so
 * that the pod's messages can name it without a lookup; then, through a
 * NETLINK_ROUTE socket opened while the thread is in the pod (a netlink
 * socket stays bound to the namespace it was made in): 10.x.y.z/16 on eth0,
 * eth0 up, lo up, three messages in one sendmsg. Every message asks for an
 * ack and every ack is checked; acks are read with recvmmsg, since the kernel
 * has queued them all by the time sendmsg returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR "/run/netns"
#define THREAD_NETNS "/proc/thread-self/ns/net"
#define VETH_BATCH 64      /* RTM_NEWLINK messages per sendmsg */
#define SEND_BUF (64 * 1024)
#define RECV_SLOTS 64
#define RECV_SLOT_SIZE (32 * 1024)

static const char *prog_prefix;
static int home_fd = -1;

/* ---------------------------------------------------------------- errors */

static void die(const char *fmt, ...)
{
    int err = errno;
    va_list ap;
    fprintf(stderr, "ref: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(err));
}

/* ---------------------------------------------------------------- phases */

struct phase {
    const char *name;
    double wall, user, sys;
    struct timespec t0;
    struct rusage r0;
};

static struct phase phases[8];
static long messages_read = -1; /* W3: replies read, printed as a check */
static int nphases;

static double tv_s(struct timeval tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

static void marker(const char *phase, const char *edge)
{
    char path[128];
    snprintf(path, sizeof path, "/rnsbench-marker/%s-%s", phase, edge);
    access(path, F_OK);
}

static struct phase *phase_begin(const char *name)
{
    struct phase *p = &phases[nphases++];
    p->name = name;
    marker(name, "begin");
    getrusage(RUSAGE_SELF, &p->r0);
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    return p;
}

static void phase_end(struct phase *p)
{
    struct timespec t1;
    struct rusage r1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &r1);
    marker(p->name, "end");
    p->wall = (t1.tv_sec - p->t0.tv_sec) + (t1.tv_nsec - p->t0.tv_nsec) / 1e9;
    p->user = tv_s(r1.ru_utime) - tv_s(p->r0.ru_utime);
    p->sys = tv_s(r1.ru_stime) - tv_s(p->r0.ru_stime);
}

static void print_phases(const char *workload, int n)
{
    printf("{\"peer\": \"c\", \"workload\": \"%s\", \"n\": %d, \"phases\": {", workload, n);
    for (int i = 0; i < nphases; i++)
        printf("%s\"%s\": {\"wall\": %.9f, \"user\": %.6f, \"sys\": %.6f}",
               i ? ", " : "", phases[i].name, phases[i].wall, phases[i].user,
               phases[i].sys);
    printf("}");
    if (messages_read >= 0)
        printf(", \"messages\": %ld", messages_read);
    printf("}\n");
}

/* ------------------------------------------------------------ namespaces */

static void ns_path(char *buf, size_t size, const char *kind, int i)
{
    snprintf(buf, size, RUN_DIR "/%s%s%d", prog_prefix, kind, i);
}

/* As rawns does once a process: /run/netns is a shared mount point. */
static int run_dir_shared(void)
{
    if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST)
        return die("mkdir " RUN_DIR), -1;
    if (mount("", RUN_DIR, "none", MS_SHARED, NULL) == 0)
        return 0;
    if (errno != EINVAL)
        return die("mount --make-shared " RUN_DIR), -1;
    if (mount(RUN_DIR, RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
        mount("", RUN_DIR, "none", MS_SHARED, NULL) < 0)
        return die("mount --bind " RUN_DIR), -1;
    return 0;
}

/* Creates namespaces kind0..kind(n-1); returns how many were made. The thread
 * ends in the last one; the caller moves it home. */
static int ns_create(const char *kind, int n)
{
    char path[512];
    for (int i = 0; i < n; i++) {
        ns_path(path, sizeof path, kind, i);
        int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0);
        if (fd < 0)
            return die("open %s", path), i;
        close(fd);
        if (unshare(CLONE_NEWNET) < 0) {
            die("unshare for %s", path);
            unlink(path);
            return i;
        }
        if (mount(THREAD_NETNS, path, "none", MS_BIND, NULL) < 0) {
            die("mount %s", path);
            unlink(path);
            return i;
        }
    }
    return n;
}

static int ns_delete(const char *kind, int n)
{
    char path[512];
    int failed = 0;
    for (int i = 0; i < n; i++) {
        ns_path(path, sizeof path, kind, i);
        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
            die("umount2 %s", path);
            failed = 1;
        }
        if (unlink(path) < 0) {
            die("unlink %s", path);
            failed = 1;
        }
    }
    return failed ? -1 : 0;
}

static int go_home(void)
{
    if (setns(home_fd, CLONE_NEWNET) < 0)
        return die("setns home"), -1;
    return 0;
}

/* --------------------------------------------------------------- netlink */

/* A buffer of requests laid end to end, as one sendmsg sends them. */
struct nlbuf {
    char data[SEND_BUF];
    size_t len;
    uint32_t first_seq, next_seq;
};

static uint32_t seq_counter = 1;

static void nlb_reset(struct nlbuf *b)
{
    b->len = 0;
    b->first_seq = b->next_seq = seq_counter;
}

static void *nlb_reserve(struct nlbuf *b, size_t size)
{
    size_t aligned = NLMSG_ALIGN(size);
    if (b->len + aligned > sizeof b->data) {
        fprintf(stderr, "ref: request buffer full\n");
        exit(1);
    }
    void *p = b->data + b->len;
    memset(p, 0, aligned);
    b->len += aligned;
    return p;
}

/* Starts a message; its fixed header follows and is returned. */
static struct nlmsghdr *nlb_msg(struct nlbuf *b, uint16_t type, uint16_t flags,
                                size_t fixed, void **fixed_out)
{
    struct nlmsghdr *h = nlb_reserve(b, NLMSG_HDRLEN);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq_counter++;
    b->next_seq = seq_counter;
    *fixed_out = nlb_reserve(b, fixed);
    return h;
}

static void nlb_done(struct nlbuf *b, struct nlmsghdr *h)
{
    h->nlmsg_len = (uint32_t)(b->data + b->len - (char *)h);
}

static struct nlattr *nlb_attr(struct nlbuf *b, uint16_t type, const void *v, size_t len)
{
    struct nlattr *a = nlb_reserve(b, NLA_HDRLEN + len);
    a->nla_type = type;
    a->nla_len = (uint16_t)(NLA_HDRLEN + len);
    if (len)
        memcpy((char *)a + NLA_HDRLEN, v, len);
    return a;
}

static struct nlattr *nlb_nest(struct nlbuf *b, uint16_t type)
{
    return nlb_attr(b, type | NLA_F_NESTED, NULL, 0);
}

static void nlb_nest_end(struct nlbuf *b, struct nlattr *a)
{
    a->nla_len = (uint16_t)(b->data + b->len - (char *)a);
}

static int nl_socket(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        die("socket(NETLINK_ROUTE)");
    return fd;
}

static int nl_send(int fd, struct nlbuf *b)
{
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    struct iovec iov = {.iov_base = b->data, .iov_len = b->len};
    struct msghdr msg = {.msg_name = &kernel, .msg_namelen = sizeof kernel,
                         .msg_iov = &iov, .msg_iovlen = 1};
    if (sendmsg(fd, &msg, 0) < 0)
        return die("sendmsg"), -1;
    return 0;
}

static char recv_space[RECV_SLOTS][RECV_SLOT_SIZE];
static struct iovec recv_iov[RECV_SLOTS];
static struct mmsghdr recv_msgs[RECV_SLOTS];

/* Reads up to `want` datagrams (at least one) in one recvmmsg. */
static int nl_recv(int fd, int want)
{
    if (want > RECV_SLOTS)
        want = RECV_SLOTS;
    for (int i = 0; i < want; i++) {
        recv_iov[i].iov_base = recv_space[i];
        recv_iov[i].iov_len = RECV_SLOT_SIZE;
        memset(&recv_msgs[i].msg_hdr, 0, sizeof recv_msgs[i].msg_hdr);
        recv_msgs[i].msg_hdr.msg_iov = &recv_iov[i];
        recv_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(fd, recv_msgs, want, MSG_WAITFORONE, NULL);
    if (got < 0)
        return die("recvmmsg"), -1;
    for (int i = 0; i < got; i++)
        if (recv_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
            fprintf(stderr, "ref: netlink reply truncated\n");
            return -1;
        }
    return got;
}

static int report_nlerr(const struct nlmsghdr *h, const char *what)
{
    const struct nlmsgerr *e = NLMSG_DATA(h);
    errno = -e->error;
    die("%s (netlink seq %u)", what, e->msg.nlmsg_seq);
    return -1;
}

/* Waits for the acks of every request in `b`; fails on the first error. */
static int nl_acks(int fd, const struct nlbuf *b, const char *what)
{
    int pending = (int)(b->next_seq - b->first_seq);
    while (pending > 0) {
        int got = nl_recv(fd, pending);
        if (got < 0)
            return -1;
        for (int m = 0; m < got; m++) {
            int len = (int)recv_msgs[m].msg_len;
            for (struct nlmsghdr *h = (struct nlmsghdr *)recv_space[m]; NLMSG_OK(h, len);
                 h = NLMSG_NEXT(h, len)) {
                if (h->nlmsg_type != NLMSG_ERROR)
                    continue;
                const struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->msg.nlmsg_seq < b->first_seq || e->msg.nlmsg_seq >= b->next_seq)
                    continue;
                if (e->error)
                    return report_nlerr(h, what);
                pending--;
            }
        }
    }
    return 0;
}

/* Sends one dump request and reads it to NLMSG_DONE; returns the count of
 * messages of the reply (so the compiler cannot skip the reading). */
static int nl_dump(int fd, uint16_t type, size_t fixed, uint8_t family, const char *what)
{
    struct nlbuf *b = &(struct nlbuf){0};
    void *body;
    nlb_reset(b);
    struct nlmsghdr *h = nlb_msg(b, type, NLM_F_REQUEST | NLM_F_DUMP, fixed, &body);
    *(uint8_t *)body = family; /* ifa_family / ndm_family come first */
    nlb_done(b, h);
    if (nl_send(fd, b) < 0)
        return -1;
    int count = 0;
    for (;;) {
        int got = nl_recv(fd, 8);
        if (got < 0)
            return -1;
        for (int m = 0; m < got; m++) {
            int len = (int)recv_msgs[m].msg_len;
            for (struct nlmsghdr *r = (struct nlmsghdr *)recv_space[m]; NLMSG_OK(r, len);
                 r = NLMSG_NEXT(r, len)) {
                if (r->nlmsg_seq != b->first_seq)
                    continue;
                if (r->nlmsg_flags & NLM_F_DUMP_INTR) {
                    fprintf(stderr, "ref: %s: dump interrupted\n", what);
                    return -1;
                }
                if (r->nlmsg_type == NLMSG_ERROR)
                    return report_nlerr(r, what);
                if (r->nlmsg_type == NLMSG_DONE)
                    return count;
                count++;
            }
        }
    }
}

/* ------------------------------------------------------------------ pods */

static void add_veth(struct nlbuf *b, int i, int pod_fd)
{
    struct ifinfomsg *ifi;
    char name[IFNAMSIZ];
    struct nlmsghdr *h = nlb_msg(b, RTM_NEWLINK,
                                 NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                                 sizeof *ifi, (void **)&ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_flags = IFF_UP; /* the host end comes up as it is made */
    ifi->ifi_change = IFF_UP;
    snprintf(name, sizeof name, "vh%d", i);
    nlb_attr(b, IFLA_IFNAME, name, strlen(name) + 1);
    struct nlattr *linkinfo = nlb_nest(b, IFLA_LINKINFO);
    nlb_attr(b, IFLA_INFO_KIND, "veth", 5);
    struct nlattr *data = nlb_nest(b, IFLA_INFO_DATA);
    struct nlattr *peer = nlb_nest(b, VETH_INFO_PEER);
    struct ifinfomsg *peer_ifi = nlb_reserve(b, sizeof *peer_ifi);
    peer_ifi->ifi_family = AF_UNSPEC;
    peer_ifi->ifi_index = 2;
    nlb_attr(b, IFLA_IFNAME, "eth0", 5);
    uint32_t fd = (uint32_t)pod_fd;
    nlb_attr(b, IFLA_NET_NS_FD, &fd, sizeof fd);
    nlb_nest_end(b, peer);
    nlb_nest_end(b, data);
    nlb_nest_end(b, linkinfo);
    nlb_done(b, h);
}

static void link_up(struct nlbuf *b, int ifindex)
{
    struct ifinfomsg *ifi;
    struct nlmsghdr *h = nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK,
                                 sizeof *ifi, (void **)&ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    nlb_done(b, h);
}

static void add_addr(struct nlbuf *b, int ifindex, uint32_t addr_be, int prefixlen)
{
    struct ifaddrmsg *ifa;
    struct nlmsghdr *h = nlb_msg(b, RTM_NEWADDR,
                                 NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                                 sizeof *ifa, (void **)&ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (uint8_t)prefixlen;
    ifa->ifa_index = (uint32_t)ifindex;
    nlb_attr(b, IFA_LOCAL, &addr_be, 4);
    nlb_attr(b, IFA_ADDRESS, &addr_be, 4);
    nlb_done(b, h);
}

/* 10.0.0.2, 10.0.0.3, ...: unique per pod, in 10.0.0.0/8 with a /16 mask. */
static uint32_t pod_addr(int i)
{
    uint32_t host = 0x0a000000u + 2u + (uint32_t)i;
    return htonl(host);
}

static int open_ns(const char *kind, int i)
{
    char path[512];
    ns_path(path, sizeof path, kind, i);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("open %s", path);
    return fd;
}

static int pods_setup(int n, const char *host)
{
    static struct nlbuf b;
    int *pod_fds = malloc(((size_t)n + 1) * sizeof *pod_fds);
    int made, rc = -1, host_sock = -1;
    for (int i = 0; i < n; i++)
        pod_fds[i] = -1;
    char host_path[512];

    struct phase *p = phase_begin("setup_ns");
    made = ns_create("p", n);
    if (go_home() < 0 || made < n) {
        phase_end(p);
        ns_delete("p", made);
        free(pod_fds);
        return -1;
    }
    phase_end(p);

    p = phase_begin("setup_veth");
    snprintf(host_path, sizeof host_path, RUN_DIR "/%s", host);
    int host_fd = open(host_path, O_RDONLY | O_CLOEXEC);
    if (host_fd < 0) {
        die("open %s", host_path);
        goto out;
    }
    if (setns(host_fd, CLONE_NEWNET) < 0) {
        die("setns %s", host_path);
        close(host_fd);
        goto out;
    }
    host_sock = nl_socket();
    close(host_fd);
    if (go_home() < 0 || host_sock < 0)
        goto out;
    for (int start = 0; start < n; start += VETH_BATCH) {
        int end = start + VETH_BATCH < n ? start + VETH_BATCH : n;
        nlb_reset(&b);
        for (int i = start; i < end; i++) {
            if ((pod_fds[i] = open_ns("p", i)) < 0)
                goto out;
            add_veth(&b, i, pod_fds[i]);
        }
        if (nl_send(host_sock, &b) < 0 || nl_acks(host_sock, &b, "veth pair") < 0)
            goto out;
    }
    close(host_sock);
    host_sock = -1;
    phase_end(p);

    p = phase_begin("setup_inside");
    for (int i = 0; i < n; i++) {
        if (setns(pod_fds[i], CLONE_NEWNET) < 0) {
            die("setns pod %d", i);
            goto out;
        }
        close(pod_fds[i]);
        pod_fds[i] = -1;
        int sock = nl_socket();
        if (sock < 0)
            goto out;
        nlb_reset(&b);
        add_addr(&b, 2, pod_addr(i), 16);
        link_up(&b, 2);
        link_up(&b, 1);
        int bad = nl_send(sock, &b) < 0 || nl_acks(sock, &b, "pod address and links") < 0;
        close(sock);
        if (bad)
            goto out;
    }
    if (go_home() < 0)
        goto out;
    phase_end(p);
    rc = 0;
out:
    if (rc < 0) {
        go_home();
        ns_delete("p", n);
    }
    if (host_sock >= 0)
        close(host_sock);
    for (int i = 0; i < n; i++)
        if (pod_fds[i] >= 0)
            close(pod_fds[i]);
    free(pod_fds);
    return rc;
}

static int pods_read(int n)
{
    int total = 0;
    struct phase *p = phase_begin("read");
    for (int i = 0; i < n; i++) {
        int fd = open_ns("p", i);
        if (fd < 0)
            return go_home(), -1;
        if (setns(fd, CLONE_NEWNET) < 0) {
            die("setns pod %d", i);
            close(fd);
            return go_home(), -1;
        }
        close(fd);
        int sock = nl_socket();
        if (sock < 0)
            return go_home(), -1;
        int a = nl_dump(sock, RTM_GETADDR, sizeof(struct ifaddrmsg), AF_UNSPEC, "address dump");
        int r = a < 0 ? -1 : nl_dump(sock, RTM_GETNEIGH, sizeof(struct ndmsg), AF_UNSPEC, "neighbour dump");
        close(sock);
        if (r < 0)
            return go_home(), -1;
        total += a + r;
    }
    if (go_home() < 0)
        return -1;
    phase_end(p);
    messages_read = total;
    return 0;
}

/* ------------------------------------------------------------------ main */

static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ref w1|w2|w2-setup|w2-teardown|w3 PREFIX N [HOST]\n");
        return 2;
    }
    const char *workload = argv[1];
    prog_prefix = argv[2];
    int n = atoi(argv[3]);
    const char *host = argc > 4 ? argv[4] : NULL;
    if (n < 0 || (strncmp(workload, "w2", 2) == 0 && strcmp(workload, "w2-teardown") && !host)) {
        fprintf(stderr, "ref: bad arguments\n");
        return 2;
    }
    raise_fd_limit();
    home_fd = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
    if (home_fd < 0 || run_dir_shared() < 0)
        return die("open " THREAD_NETNS), 1;

    int rc = 0;
    if (!strcmp(workload, "w1")) {
        struct phase *p = phase_begin("create");
        int made = ns_create("", n);
        rc = go_home() < 0 || made < n ? -1 : 0;
        phase_end(p);
        p = phase_begin("delete");
        if (ns_delete("", made) < 0)
            rc = -1;
        phase_end(p);
    } else if (!strcmp(workload, "w2")) {
        rc = pods_setup(n, host);
        if (rc == 0) {
            struct phase *p = phase_begin("teardown");
            rc = ns_delete("p", n);
            phase_end(p);
        }
    } else if (!strcmp(workload, "w2-setup")) {
        rc = pods_setup(n, host);
    } else if (!strcmp(workload, "w2-teardown")) {
        struct phase *p = phase_begin("teardown");
        rc = ns_delete("p", n);
        phase_end(p);
    } else if (!strcmp(workload, "w3")) {
        rc = pods_read(n);
    } else {
        fprintf(stderr, "ref: unknown workload %s\n", workload);
        return 2;
    }
    if (rc < 0)
        return 1;
    print_phases(workload, n);
    return 0;
}
