#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "rawns.h"

/* The bind source names the calling thread's namespace, not the process's:
 * /proc/self would name the main thread's and break callers on other threads. */
static const char THREAD_NETNS[] = "/proc/thread-self/ns/net";

int rawns_unshare(int flags) { return unshare(flags); }

int rawns_setns(int fd, int nstype) { return setns(fd, nstype); }

int rawns_mount(const char *source, const char *target, const char *fstype,
                unsigned long flags, const char *data)
{
    return mount(source, target, fstype, flags, data);
}

int rawns_umount2(const char *target, int flags) { return umount2(target, flags); }

static int fail(struct rawns_tally *tally, int step)
{
    tally->failed_step = step;
    return -1;
}

/* Opens the calling thread's own namespace and checks that the thread could
 * come back to it: setns(2) into the namespace it is already in asks the
 * kernel the very question the way back will ask (CAP_SYS_ADMIN over the
 * namespace's owner), before anything is made. (In a user namespace that does
 * not own it, leaving works and returning does not.) Returns the fd, or -1
 * with errno set and the step in `*step`. */
static int open_home(int *step, int open_step, int check_step)
{
    int home = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
    if (home < 0) {
        *step = open_step;
        return -1;
    }
    if (setns(home, CLONE_NEWNET) < 0) {
        int saved = errno;
        close(home);
        errno = saved;
        *step = check_step;
        return -1;
    }
    return home;
}

/* Moves the thread back into `home` and closes it, keeping the errno of an
 * earlier failure; on failure sets `tally->stranded` and errno. */
static void go_home(int home, struct rawns_tally *tally)
{
    int saved = errno;
    if (setns(home, CLONE_NEWNET) < 0) {
        saved = errno;
        tally->stranded = 1;
    }
    close(home);
    errno = saved;
}

/* How long rawns_progress_wait sleeps at most before it lets its caller look
 * at signals: the longest a Ctrl-C can wait for it. */
#define RAWNS_WAIT_SLICE_NS (20 * 1000 * 1000)

/* Tells a reader waiting in rawns_progress_wait that `progress` moved: the
 * tick changes before the wake, so a reader about to sleep on the old tick
 * does not (futex(2) compares it first). */
static void progress_tick(struct rawns_progress *progress)
{
    __atomic_add_fetch(&progress->ticks, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&progress->waiting, __ATOMIC_SEQ_CST))
        syscall(SYS_futex, &progress->ticks, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int rawns_progress_wait(struct rawns_progress *progress, int target)
{
    /* Waits here until satisfied, not one step at a time: each return takes
     * the interpreter lock back, which a thread that encodes meanwhile lets
     * go of only every switch interval. It returns early on a signal (the
     * futex wait ends with EINTR) and after a short while, since a signal
     * that came just before a wait began is not seen by it: the caller then
     * runs its handlers, so a Ctrl-C never waits for the loop. */
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_nsec += RAWNS_WAIT_SLICE_NS;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec += 1;
        end.tv_nsec -= 1000000000L;
    }
    /* Counted, since two threads may wait at once (a Batch's caller and its
     * sending thread), and before the tick is read: a tick after the read
     * wakes us, one before it makes the futex wait return at once. */
    __atomic_add_fetch(&progress->waiting, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        int ticks = __atomic_load_n(&progress->ticks, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&progress->done, __ATOMIC_SEQ_CST) >= target
            || __atomic_load_n(&progress->finished, __ATOMIC_SEQ_CST))
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec patience = {end.tv_sec - now.tv_sec, end.tv_nsec - now.tv_nsec};
        if (patience.tv_nsec < 0) {
            patience.tv_sec -= 1;
            patience.tv_nsec += 1000000000L;
        }
        if (patience.tv_sec < 0)
            break;
        if (syscall(SYS_futex, &progress->ticks, FUTEX_WAIT_PRIVATE, ticks, &patience, NULL,
                    0) < 0 && errno == EINTR)
            break;
    }
    __atomic_sub_fetch(&progress->waiting, 1, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&progress->done, __ATOMIC_SEQ_CST);
}

/* Marks the loop watched through `progress` as over, keeping errno. */
static void progress_finish(struct rawns_progress *progress)
{
    int saved = errno;
    __atomic_store_n(&progress->finished, 1, __ATOMIC_SEQ_CST);
    progress_tick(progress);
    errno = saved;
}

static int add_loop(const char *paths, int count, struct rawns_tally *tally,
                    struct rawns_progress *progress)
{
    const char *path = paths;
    int step = 0;
    tally->done = 0;
    tally->failed_step = 0;
    tally->stranded = 0;
    int home = open_home(&step, RAWNS_ADD_OPEN_HOME, RAWNS_ADD_CHECK_HOME);
    if (home < 0)
        return fail(tally, step);
    for (int i = 0; i < count; i++) {
        if (progress && __atomic_load_n(&progress->stop, __ATOMIC_SEQ_CST))
            break;
        int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0);
        if (fd < 0) {
            step = RAWNS_ADD_CREATE_FILE;
            break;
        }
        close(fd);
        if (unshare(CLONE_NEWNET) < 0) {
            step = RAWNS_ADD_UNSHARE;
            break;
        }
        if (mount(THREAD_NETNS, path, "none", MS_BIND, NULL) < 0) {
            step = RAWNS_ADD_BIND;
            break;
        }
        tally->done = i + 1;
        if (progress) {
            __atomic_store_n(&progress->done, i + 1, __ATOMIC_SEQ_CST);
            progress_tick(progress);
        }
        path += strlen(path) + 1;
    }
    go_home(home, tally);
    return step || tally->stranded ? fail(tally, step) : 0;
}

int rawns_netns_add_many(const char *paths, int count, struct rawns_tally *tally,
                         struct rawns_progress *progress)
{
    int rc = add_loop(paths, count, tally, progress);
    if (progress)
        progress_finish(progress);
    return rc;
}

/* Closes the fds of the namespaces held so far, keeping errno: their last
 * references go, and the kernel's cleanup of them all starts as one batch. */
static void release_held(int *held, int *count)
{
    int saved = errno;
    for (int i = 0; i < *count; i++)
        close(held[i]);
    *count = 0;
    errno = saved;
}

int rawns_netns_delete_many(const char *paths, int count, int *held, int hold_max,
                            struct rawns_tally *tally)
{
    const char *path = paths;
    int holding = 0;
    tally->done = 0;
    tally->failed_step = 0;
    for (int i = 0; i < count; i++) {
        if (hold_max > 0) {
            /* Hold the namespace until the loop ends: its last reference
             * would otherwise go at this umount, and the kernel's cleanup of
             * the namespaces released so far would run while the loop goes
             * on, costing it several times its own work (benchmarks/RESULTS.md,
             * "What decides the delete loop's speed"). O_PATH opens nothing
             * (a FIFO planted at the name cannot block) and holds the mount. */
            if (holding == hold_max)
                release_held(held, &holding);
            int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0)
                held[holding++] = fd; /* else: not held, the umount reports */
        }
        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
            release_held(held, &holding);
            return fail(tally, RAWNS_DELETE_UMOUNT);
        }
        if (unlink(path) < 0) {
            release_held(held, &holding);
            return fail(tally, RAWNS_DELETE_UNLINK);
        }
        tally->done = i + 1;
        path += strlen(path) + 1;
    }
    release_held(held, &holding);
    return 0;
}

int rawns_netns_open_many(int *fds, int count, struct rawns_tally *tally)
{
    int step = 0;
    tally->done = 0;
    tally->failed_step = 0;
    tally->stranded = 0;
    int home = open_home(&step, RAWNS_OPEN_OPEN_HOME, RAWNS_OPEN_CHECK_HOME);
    if (home < 0)
        return fail(tally, step);
    for (int i = 0; i < count; i++) {
        if (unshare(CLONE_NEWNET) < 0) {
            step = RAWNS_OPEN_UNSHARE;
            break;
        }
        fds[i] = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            step = RAWNS_OPEN_FD;
            break;
        }
        tally->done = i + 1;
    }
    go_home(home, tally);
    return step || tally->stranded ? fail(tally, step) : 0;
}

int rawns_socket_in(int netns_fd, int family, int type, int protocol, int *failed_step)
{
    int home = open_home(failed_step, RAWNS_SOCKET_OPEN_HOME, RAWNS_SOCKET_CHECK_HOME);
    if (home < 0)
        return -1;
    int sock = -1;
    int saved = 0;
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        *failed_step = RAWNS_SOCKET_ENTER;
        saved = errno;
        close(home);
        errno = saved;
        return -1;
    }
    sock = socket(family, type, protocol);
    if (sock < 0) {
        *failed_step = RAWNS_SOCKET_CREATE;
        saved = errno;
    }
    if (setns(home, CLONE_NEWNET) < 0) {
        *failed_step = RAWNS_SOCKET_RETURN;
        saved = errno;
        if (sock >= 0)
            close(sock);
        sock = -1;
    }
    close(home);
    if (sock < 0)
        errno = saved;
    return sock;
}

int rawns_netlink_socket_in(int netns_fd, int protocol, const struct rawns_sockopt *options,
                            int option_count, unsigned int *port_id, int *failed_step)
{
    int sock;
    if (netns_fd >= 0) {
        sock = rawns_socket_in(netns_fd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol,
                               failed_step);
    } else {
        sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        if (sock < 0)
            *failed_step = RAWNS_SOCKET_CREATE;
    }
    if (sock < 0)
        return -1;
    int step = 0;
    struct sockaddr_nl address = {.nl_family = AF_NETLINK};
    socklen_t size = sizeof address;
    for (int o = 0; o < option_count && !step; o++) {
        const struct rawns_sockopt *option = &options[o];
        if (setsockopt(sock, option->level, option->name, &option->value,
                       sizeof option->value) < 0)
            step = RAWNS_SOCKET_OPTION;
    }
    if (!step && bind(sock, (struct sockaddr *)&address, sizeof address) < 0)
        step = RAWNS_SOCKET_BIND;
    if (!step && getsockname(sock, (struct sockaddr *)&address, &size) < 0)
        step = RAWNS_SOCKET_NAME;
    if (step) {
        int saved = errno;
        close(sock);
        errno = saved;
        *failed_step = step;
        return -1;
    }
    *port_id = address.nl_pid;
    return sock;
}

int rawns_open_in(int netns_fd, const char *path, int flags, int *failed_step)
{
    int home = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
    if (home < 0) {
        *failed_step = RAWNS_OPEN_IN_OPEN_HOME;
        return -1;
    }
    int fd = -1;
    int saved = 0;
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        *failed_step = RAWNS_OPEN_IN_ENTER;
        saved = errno;
        close(home);
        errno = saved;
        return -1;
    }
    fd = open(path, flags);
    if (fd < 0) {
        *failed_step = RAWNS_OPEN_IN_OPEN;
        saved = errno;
    }
    if (setns(home, CLONE_NEWNET) < 0) {
        *failed_step = RAWNS_OPEN_IN_RETURN;
        saved = errno;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    close(home);
    if (fd < 0)
        errno = saved;
    return fd;
}

int rawns_tun_set_iff(int fd, const char *name, int flags, char *name_out)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = (short)flags;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        return -1;
    memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    name_out[IFNAMSIZ - 1] = '\0';
    return 0;
}

int rawns_tun_get_iff(int fd, char *name_out, int *flags_out)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(fd, TUNGETIFF, &ifr) < 0)
        return -1;
    memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    name_out[IFNAMSIZ - 1] = '\0';
    *flags_out = (unsigned short)ifr.ifr_flags;
    return 0;
}

int rawns_ioctl_ulong(int fd, unsigned long request, unsigned long arg)
{
    return ioctl(fd, request, arg);
}

#define RAWNS_MAX_SLOTS 64

int rawns_recv_many(int fd, char *buf, unsigned int slot_size, unsigned int slots,
                    unsigned int *lengths, int *truncated)
{
    struct mmsghdr msgs[RAWNS_MAX_SLOTS];
    struct iovec iov[RAWNS_MAX_SLOTS];
    if (slots > RAWNS_MAX_SLOTS)
        slots = RAWNS_MAX_SLOTS;
    memset(msgs, 0, sizeof(msgs[0]) * slots);
    for (unsigned int i = 0; i < slots; i++) {
        iov[i].iov_base = buf + (size_t)i * slot_size;
        iov[i].iov_len = slot_size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int count = recvmmsg(fd, msgs, slots, MSG_WAITFORONE, NULL);
    if (count < 0)
        return -1;
    *truncated = 0;
    for (int i = 0; i < count; i++) {
        lengths[i] = msgs[i].msg_len;
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
            *truncated = 1;
    }
    return count;
}

/* Receives what is queued on `sock` into the inbox (see rawns_exchange_many).
 * Returns 1 when all of it fit, 0 when a datagram did not (the rest is left
 * unread), or -1 with errno set. */
static int receive_queued(int sock, struct rawns_inbox *in)
{
    struct mmsghdr msgs[RAWNS_MAX_SLOTS];
    struct iovec iov[RAWNS_MAX_SLOTS];
    unsigned int slots = in->slots < RAWNS_MAX_SLOTS ? in->slots : RAWNS_MAX_SLOTS;
    int flags = MSG_WAITFORONE;
    for (;;) {
        memset(msgs, 0, sizeof(msgs[0]) * slots);
        for (unsigned int i = 0; i < slots; i++) {
            iov[i].iov_base = in->scratch + (size_t)i * in->slot_size;
            iov[i].iov_len = in->slot_size;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = recvmmsg(sock, msgs, slots, flags, NULL);
        if (got < 0)
            /* Only a read that may not wait can find the queue empty. */
            return flags == MSG_DONTWAIT && (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
        for (int i = 0; i < got; i++) {
            unsigned int len = msgs[i].msg_len;
            if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || in->count >= in->max_lengths
                || len > in->size - in->used)
                return 0;
            memcpy(in->out + in->used, in->scratch + (size_t)i * in->slot_size, len);
            in->used += len;
            in->lengths[in->count++] = len;
        }
        if ((unsigned int)got < slots)
            return 1; /* it stopped at an empty queue */
        flags = MSG_DONTWAIT;
    }
}

/* Sends each of `count` datagrams and receives its answer on `sock`: 1, 0 or
 * -1 as receive_queued, with the failing step in `*step`. */
static int exchange(int sock, const char *datagrams, const unsigned int *lengths,
                    unsigned int count, struct rawns_inbox *inbox, int *step)
{
    const char *datagram = datagrams;
    for (unsigned int d = 0; d < count; d++) {
        ssize_t sent = send(sock, datagram, lengths[d], 0);
        if (sent < 0 || (size_t)sent != lengths[d]) {
            if (sent >= 0)
                errno = EMSGSIZE; /* netlink datagrams are all or nothing */
            *step = RAWNS_EXCHANGE_SEND;
            return -1;
        }
        int fit = receive_queued(sock, inbox);
        if (fit < 0)
            *step = RAWNS_EXCHANGE_RECV;
        if (fit <= 0)
            return fit;
        datagram += lengths[d];
    }
    return 1;
}

/* A netlink socket inside the current namespace with `options` set, or -1
 * with the step. */
static int open_socket(int protocol, const struct rawns_sockopt *options, int option_count,
                       int *step)
{
    int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (sock < 0) {
        *step = RAWNS_EXCHANGE_SOCKET;
        return -1;
    }
    for (int o = 0; o < option_count; o++) {
        const struct rawns_sockopt *option = &options[o];
        if (setsockopt(sock, option->level, option->name, &option->value,
                       sizeof option->value) < 0) {
            int saved = errno;
            close(sock);
            errno = saved;
            *step = RAWNS_EXCHANGE_SOCKOPT;
            return -1;
        }
    }
    return sock;
}

static int exchange_loop(const char *paths, int count, int open_flags, int protocol,
                         const struct rawns_sockopt *options, int option_count,
                         const char *datagrams,
                         const unsigned int *datagram_lengths,
                         const unsigned int *datagram_counts, struct rawns_inbox *inbox,
                         struct rawns_answer *answers, struct rawns_tally *tally,
                         struct rawns_progress *progress)
{
    const char *path = paths;
    const char *datagram = datagrams;
    const unsigned int *lengths = datagram_lengths;
    int step = 0;
    tally->done = 0;
    tally->failed_step = 0;
    tally->stranded = 0;
    int home = open_home(&step, RAWNS_EXCHANGE_OPEN_HOME, RAWNS_EXCHANGE_CHECK_HOME);
    if (home < 0)
        return fail(tally, step);
    for (int i = 0; i < count; i++) {
        if (progress && __atomic_load_n(&progress->stop, __ATOMIC_SEQ_CST))
            break; /* the reader has gone: start no further namespace */
        size_t used = inbox->used;
        unsigned int first = inbox->count;
        unsigned int own = datagram_counts[i];
        int fd = open(path, O_RDONLY | O_CLOEXEC | open_flags);
        if (fd < 0) {
            step = RAWNS_EXCHANGE_OPEN;
            break;
        }
        int entered = setns(fd, CLONE_NEWNET);
        int saved = errno;
        close(fd);
        if (entered < 0) {
            errno = saved;
            step = RAWNS_EXCHANGE_ENTER;
            break;
        }
        int sock = open_socket(protocol, options, option_count, &step);
        if (sock < 0)
            break;
        int fit = exchange(sock, datagram, lengths, own, inbox, &step);
        saved = errno;
        close(sock);
        errno = saved;
        if (fit < 0)
            break;
        if (!fit) {
            /* Its answers go: it is exchanged with again by the next call, or,
             * when they do not fit an empty inbox either, by the caller some
             * other way. */
            inbox->used = used;
            inbox->count = first;
            if (i > 0)
                break;
        }
        answers[i].datagrams = inbox->count - first;
        answers[i].overflowed = !fit;
        tally->done = i + 1;
        if (progress) {
            /* Its answer (inbox, answers[i]) is written before it is
             * published: the reader may take it from now on. */
            __atomic_store_n(&progress->done, i + 1, __ATOMIC_SEQ_CST);
            progress_tick(progress);
        }
        path += strlen(path) + 1;
        for (unsigned int d = 0; d < own; d++)
            datagram += lengths[d];
        lengths += own;
    }
    go_home(home, tally);
    if (tally->stranded)
        return fail(tally, RAWNS_EXCHANGE_RETURN);
    return step ? fail(tally, step) : 0;
}

int rawns_exchange_many(const char *paths, int count, int open_flags, int protocol,
                        const struct rawns_sockopt *options, int option_count,
                        const char *datagrams,
                        const unsigned int *datagram_lengths,
                        const unsigned int *datagram_counts, struct rawns_inbox *inbox,
                        struct rawns_answer *answers, struct rawns_tally *tally,
                        struct rawns_progress *progress)
{
    int rc = exchange_loop(paths, count, open_flags, protocol, options, option_count,
                           datagrams, datagram_lengths, datagram_counts, inbox, answers,
                           tally, progress);
    if (progress)
        progress_finish(progress);
    return rc;
}
