/* rawns' compiled layer: thin syscall wrappers and the loops that must run at
 * kernel speed. Every function returns -1 (or a short count) and leaves errno
 * as the kernel set it; all naming, rollback and error policy lives in Python
 * (rawns/syscalls.py). */
#ifndef RAWNS_H
#define RAWNS_H

int rawns_unshare(int flags);
int rawns_setns(int fd, int nstype);
int rawns_mount(const char *source, const char *target, const char *fstype,
                unsigned long flags, const char *data);
int rawns_umount2(const char *target, int flags);

/* Each loop reports the step at which it failed as one of its enum
 * rawns_<loop>_step, named RAWNS_<LOOP>_<STEP>; 0 is no step (no failure). */

/* Steps of one named-namespace creation (rawns_netns_add_many). */
enum rawns_add_step {
    RAWNS_ADD_CREATE_FILE = 1, /* open(O_CREAT|O_EXCL) of the mount point */
    RAWNS_ADD_UNSHARE = 2,     /* unshare(CLONE_NEWNET) */
    RAWNS_ADD_BIND = 3,        /* bind mount of the thread's namespace */
    RAWNS_ADD_OPEN_HOME = 4,   /* open of the thread's own namespace */
    RAWNS_ADD_CHECK_HOME = 5,  /* setns into it: could the thread come back? */
};

/* Steps of one named-namespace deletion (rawns_netns_delete_many). */
enum rawns_delete_step {
    RAWNS_DELETE_UMOUNT = 1, /* umount2(MNT_DETACH|UMOUNT_NOFOLLOW) */
    RAWNS_DELETE_UNLINK = 2, /* unlink of the mount point */
};

/* Steps of one anonymous-namespace creation (rawns_netns_open_many). */
enum rawns_open_step {
    RAWNS_OPEN_UNSHARE = 1,    /* unshare(CLONE_NEWNET) */
    RAWNS_OPEN_FD = 2,         /* open of the thread's new namespace */
    RAWNS_OPEN_OPEN_HOME = 3,  /* open of the thread's own namespace */
    RAWNS_OPEN_CHECK_HOME = 4, /* setns into it: could the thread come back? */
};

/* Progress of a bulk loop, kept in memory the caller owns so that it stays
 * exact even if the caller is interrupted right after the call returns. */
struct rawns_tally {
    int done;        /* items fully finished */
    int failed_step; /* 0, or the step at which item `done` failed */
    int stranded;    /* 1: the thread could not return to its own namespace */
};

/* How far a loop that another thread watches has got (rawns_netns_add_many,
 * rawns_exchange_many); all zero before the call, then written only through
 * atomics. */
struct rawns_progress {
    int done;     /* items finished (namespaces made, or answered whole) */
    int finished; /* 1: the loop is over (its tally and errno are final) */
    int ticks;    /* changes whenever done or finished does: the futex word */
    int waiting;  /* how many readers sleep in rawns_progress_wait */
    int stop;     /* set by the reader: start no further item */
};

/* Waits until `progress->done` has reached `target` or the loop has
 * finished, but no longer than until a signal or for 20 ms; returns
 * `progress->done`. Meant for the thread that watches a loop running in
 * another, which calls it again until it is satisfied and meanwhile runs its
 * signal handlers: futex waits, with no lock. */
int rawns_progress_wait(struct rawns_progress *progress, int target);

/* The loops that move the calling thread (add, open, exchange) first check
 * that it could come back (a setns(2) into its own namespace: the same
 * permission check as the way back), so that a caller without that right
 * fails before anything is made; they move it home before they return. If
 * the way back fails all the same, they set `tally->stranded` and return -1. */

/* Creates one network namespace per path in `paths` (`count` NUL-terminated
 * strings laid end to end) and bind-mounts it there; the calling thread is
 * home again when it returns. Returns 0, or -1 with errno set when item
 * `tally->done` failed at `tally->failed_step` (its file exists when that step
 * is RAWNS_ADD_UNSHARE or RAWNS_ADD_BIND) or the thread is stranded. With a
 * `progress` (else NULL), each namespace made is published there as it is
 * made, the loop makes no further one once `progress->stop` is set, and it
 * sets `progress->finished` last: another thread may use each namespace as
 * soon as it exists. */
int rawns_netns_add_many(const char *paths, int count, struct rawns_tally *tally,
                         struct rawns_progress *progress);

/* Detaches the mount at each path and unlinks it, never following a symlink.
 * With `hold_max` > 0 it first opens each path (O_PATH, into `held`, which
 * has room for `hold_max` fds) and closes them all only when the loop ends
 * (or `held` is full): the namespaces die together after the loop rather
 * than one by one during it. Every fd it opens is closed before it returns.
 * Returns 0, or -1 with errno set when item `tally->done` failed at
 * `tally->failed_step` (an enum rawns_delete_step). */
int rawns_netns_delete_many(const char *paths, int count, int *held, int hold_max,
                            struct rawns_tally *tally);

/* Creates `count` anonymous network namespaces, storing an O_CLOEXEC fd to
 * each in `fds`; the calling thread is home again when it returns. Returns 0,
 * or -1 with errno set when item `tally->done` failed at `tally->failed_step`
 * (an enum rawns_open_step) or the thread is stranded; `tally->done` fds
 * were stored either way. */
int rawns_netns_open_many(int *fds, int count, struct rawns_tally *tally);

/* recvmmsg(2) with MSG_WAITFORONE: waits for one datagram, then takes every
 * one already queued, up to `slots`, into `buf` (slots of `slot_size` bytes
 * laid end to end). Stores each length in `lengths` and sets `*truncated` if
 * any datagram did not fit its slot. Returns the count, or -1 with errno. */
int rawns_recv_many(int fd, char *buf, unsigned int slot_size, unsigned int slots,
                    unsigned int *lengths, int *truncated);

/* Steps of rawns_socket_in, reported on failure. */
enum rawns_socket_step {
    RAWNS_SOCKET_OPEN_HOME = 1,  /* open of the thread's own namespace */
    RAWNS_SOCKET_ENTER = 2,      /* setns into the target */
    RAWNS_SOCKET_CREATE = 3,     /* socket() */
    RAWNS_SOCKET_RETURN = 4,     /* setns back home: the thread is left inside */
    RAWNS_SOCKET_CHECK_HOME = 5, /* setns into its own: could the thread come back? */
    RAWNS_SOCKET_OPTION = 6,     /* setsockopt (rawns_netlink_socket_in) */
    RAWNS_SOCKET_BIND = 7,       /* bind */
    RAWNS_SOCKET_NAME = 8,       /* getsockname */
};

/* socket(2) inside the network namespace behind `netns_fd`: the calling
 * thread steps in for the socket() call and back out. `type` should carry
 * SOCK_CLOEXEC. Returns the socket's fd, or -1 with errno set and the step
 * that failed in `*failed_step`. */
int rawns_socket_in(int netns_fd, int family, int type, int protocol, int *failed_step);

/* Steps of rawns_open_in, reported on failure. */
enum rawns_open_in_step {
    RAWNS_OPEN_IN_OPEN_HOME = 1, /* open of the thread's own namespace */
    RAWNS_OPEN_IN_ENTER = 2,     /* setns into the target */
    RAWNS_OPEN_IN_OPEN = 3,      /* open() of the path */
    RAWNS_OPEN_IN_RETURN = 4,    /* setns back home: the thread is left inside */
};

/* open(2) of `path` inside the network namespace behind `netns_fd`, as
 * rawns_socket_in does socket(): what the opened file belongs to is the
 * thread's namespace at open time (/dev/net/tun makes its devices there).
 * `flags` should carry O_CLOEXEC. Returns the fd, or -1 with errno set and the
 * step that failed in `*failed_step`. */
int rawns_open_in(int netns_fd, const char *path, int flags, int *failed_step);

/* ioctl(fd, TUNSETIFF) with an ifreq of `name` (up to IFNAMSIZ - 1 bytes; ""
 * lets the kernel choose) and `flags` (IFF_TUN, IFF_TAP, IFF_NO_PI, ...);
 * the name the device got is copied to `name_out` (IFNAMSIZ bytes). Returns 0,
 * or -1 with errno set. */
int rawns_tun_set_iff(int fd, const char *name, int flags, char *name_out);

/* ioctl(fd, TUNGETIFF): the name and flags of the device `fd` is attached to.
 * Returns 0, or -1 with errno set. */
int rawns_tun_get_iff(int fd, char *name_out, int *flags_out);

/* ioctl(fd, request, arg) for requests that take an integer argument
 * (TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP). Returns what ioctl returns. */
int rawns_ioctl_ulong(int fd, unsigned long request, unsigned long arg);

/* Steps of rawns_exchange_many, reported on failure. */
enum rawns_exchange_step {
    RAWNS_EXCHANGE_OPEN_HOME = 1, /* open of the thread's own namespace */
    RAWNS_EXCHANGE_OPEN = 2,      /* open of a namespace's path */
    RAWNS_EXCHANGE_ENTER = 3,     /* setns into it */
    RAWNS_EXCHANGE_SOCKET = 4,    /* socket() inside it */
    RAWNS_EXCHANGE_SOCKOPT = 5,   /* setsockopt() of one of the options */
    RAWNS_EXCHANGE_SEND = 6,      /* send() of a datagram */
    RAWNS_EXCHANGE_RECV = 7,      /* recvmmsg() of the answers */
    RAWNS_EXCHANGE_RETURN = 8,    /* setns back home: the thread is left outside */
    RAWNS_EXCHANGE_CHECK_HOME = 9, /* setns into its own: could the thread come back? */
};

/* Where rawns_exchange_many puts the datagrams it reads: each one is received
 * into a slot of `scratch` (`slots` slots of `slot_size` bytes), then copied
 * to `out` right after the previous one, its length stored in `lengths`. */
struct rawns_inbox {
    char *scratch;
    unsigned int slot_size;
    unsigned int slots;
    char *out;
    size_t size;              /* bytes of `out` */
    size_t used;              /* bytes of `out` filled */
    unsigned int *lengths;
    unsigned int max_lengths; /* entries of `lengths` */
    unsigned int count;       /* entries of `lengths` filled */
};

/* A socket option rawns_exchange_many sets on each socket it opens:
 * setsockopt(sock, level, name, &value, sizeof value). */
struct rawns_sockopt {
    int level;
    int name;
    int value;
};

/* What rawns_exchange_many read from one namespace. */
struct rawns_answer {
    unsigned int datagrams; /* how many of the inbox's datagrams are its own */
    int overflowed;         /* one did not fit (its slot or the inbox): some are missing */
};


/* For each of `count` namespace paths (NUL-terminated strings laid end to end,
 * each opened with O_RDONLY|O_CLOEXEC|`open_flags`): enter the namespace, open
 * socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, protocol) there, set its
 * `option_count` `options` in order, and send it its `datagram_counts[i]`
 * datagrams (all laid end to end in `datagrams`, their lengths in
 * `datagram_lengths`), each followed by receiving what the kernel has queued in
 * answer: recvmmsg waits for one datagram and takes those queued behind it,
 * again while it fills every slot. The kernel answers a request (an ack, or a
 * dump's next part as the previous one is read) before the call that carries
 * it returns, so this is the whole answer; nothing here looks inside a
 * datagram, and the caller checks that every answer is complete. The thread
 * goes home at the end, or on failure (RAWNS_EXCHANGE_RETURN, with
 * `tally->stranded`, if it could not).
 *
 * A namespace whose answers do not fit what is left of the inbox is not
 * counted and the call stops before it, unless it came first: then its answer
 * is marked `overflowed`. (Its datagrams were sent: a caller whose requests
 * change things sizes the inbox for the largest answers instead.) Returns 0
 * with `tally->done` namespaces exchanged with (all of them, or fewer if the
 * inbox filled up, or `progress->stop` was set), or -1 with errno set when
 * namespace `tally->done` failed at `tally->failed_step`.
 *
 * `progress`, if not NULL, publishes each namespace as soon as its answer is
 * whole in the inbox and `answers`, then that the loop is over (errno kept):
 * another thread may read those answers while the loop goes on (waiting in
 * rawns_progress_wait), and stop it between two namespaces. */
int rawns_exchange_many(const char *paths, int count, int open_flags, int protocol,
                        const struct rawns_sockopt *options, int option_count,
                        const char *datagrams,
                        const unsigned int *datagram_lengths,
                        const unsigned int *datagram_counts, struct rawns_inbox *inbox,
                        struct rawns_answer *answers, struct rawns_tally *tally,
                        struct rawns_progress *progress);


/* A netlink socket of `protocol` (SOCK_RAW, SOCK_CLOEXEC) as every rawns
 * socket is opened: inside the namespace behind `netns_fd` as
 * rawns_socket_in does (or where the thread is, if `netns_fd` < 0), its
 * `option_count` `options` set in order, bound (the kernel picks the port
 * id) and the port id stored in `*port_id`: one call instead of one per
 * syscall. Returns the fd, or -1 with errno set and the step (an enum
 * rawns_socket_step) in `*failed_step`; nothing is left open on failure. */
int rawns_netlink_socket_in(int netns_fd, int protocol, const struct rawns_sockopt *options,
                            int option_count, unsigned int *port_id, int *failed_step);
#endif
