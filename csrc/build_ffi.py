"""cffi build script for ``rawns._native`` (out-of-line API mode).

Declarative on purpose: the C functions are declared here and defined in
``csrc/rawns.c``; constants are declared with ``...`` so that cffi takes
their values from the system headers at build time, never from this file.
"""

from cffi import FFI

CDEF = """
#define CLONE_NEWNET ...
#define CLONE_NEWNS ...
#define CLONE_NEWUSER ...
#define MS_BIND ...
#define MS_REC ...
#define MS_SHARED ...
#define MS_SLAVE ...
#define MS_PRIVATE ...
#define MNT_DETACH ...
#define UMOUNT_NOFOLLOW ...
#define NS_GET_NSTYPE ...
#define SIOCGSKNS ...
#define TUNSETIFF ...
#define TUNGETIFF ...
#define TUNSETPERSIST ...
#define TUNSETOWNER ...
#define TUNSETGROUP ...
#define IFF_TUN ...
#define IFF_TAP ...
#define IFF_NO_PI ...
#define IFF_ONE_QUEUE ...
#define IFF_VNET_HDR ...
#define IFF_MULTI_QUEUE ...
#define IFNAMSIZ ...

enum rawns_add_step {
    RAWNS_ADD_CREATE_FILE,
    RAWNS_ADD_UNSHARE,
    RAWNS_ADD_BIND,
    RAWNS_ADD_OPEN_HOME,
    RAWNS_ADD_CHECK_HOME,
    ...
};
enum rawns_delete_step {
    RAWNS_DELETE_UMOUNT,
    RAWNS_DELETE_UNLINK,
    ...
};
enum rawns_open_step {
    RAWNS_OPEN_UNSHARE,
    RAWNS_OPEN_FD,
    RAWNS_OPEN_OPEN_HOME,
    RAWNS_OPEN_CHECK_HOME,
    ...
};

int rawns_unshare(int flags);
int rawns_setns(int fd, int nstype);
int rawns_mount(const char *source, const char *target, const char *fstype,
                unsigned long flags, const char *data);
int rawns_umount2(const char *target, int flags);
struct rawns_tally {
    int done;
    int failed_step;
    int stranded;
};

struct rawns_progress {
    int done;
    int finished;
    int ticks;
    int waiting;
    int stop;
};
int rawns_progress_wait(struct rawns_progress *progress, int target);
int rawns_netns_add_many(const char *paths, int count, struct rawns_tally *tally,
                         struct rawns_progress *progress);
int rawns_netns_delete_many(const char *paths, int count, int *held, int hold_max,
                            struct rawns_tally *tally);
int rawns_netns_open_many(int *fds, int count, struct rawns_tally *tally);
enum rawns_socket_step {
    RAWNS_SOCKET_OPEN_HOME,
    RAWNS_SOCKET_ENTER,
    RAWNS_SOCKET_CREATE,
    RAWNS_SOCKET_RETURN,
    RAWNS_SOCKET_CHECK_HOME,
    RAWNS_SOCKET_OPTION,
    RAWNS_SOCKET_BIND,
    RAWNS_SOCKET_NAME,
    ...
};
int rawns_socket_in(int netns_fd, int family, int type, int protocol, int *failed_step);
enum rawns_open_in_step {
    RAWNS_OPEN_IN_OPEN_HOME,
    RAWNS_OPEN_IN_ENTER,
    RAWNS_OPEN_IN_OPEN,
    RAWNS_OPEN_IN_RETURN,
    ...
};
int rawns_open_in(int netns_fd, const char *path, int flags, int *failed_step);
int rawns_tun_set_iff(int fd, const char *name, int flags, char *name_out);
int rawns_tun_get_iff(int fd, char *name_out, int *flags_out);
int rawns_ioctl_ulong(int fd, unsigned long request, unsigned long arg);
int rawns_recv_many(int fd, char *buf, unsigned int slot_size, unsigned int slots,
                    unsigned int *lengths, int *truncated);
enum rawns_exchange_step {
    RAWNS_EXCHANGE_OPEN_HOME,
    RAWNS_EXCHANGE_OPEN,
    RAWNS_EXCHANGE_ENTER,
    RAWNS_EXCHANGE_SOCKET,
    RAWNS_EXCHANGE_SOCKOPT,
    RAWNS_EXCHANGE_SEND,
    RAWNS_EXCHANGE_RECV,
    RAWNS_EXCHANGE_RETURN,
    RAWNS_EXCHANGE_CHECK_HOME,
    ...
};
struct rawns_inbox {
    char *scratch;
    unsigned int slot_size;
    unsigned int slots;
    char *out;
    size_t size;
    size_t used;
    unsigned int *lengths;
    unsigned int max_lengths;
    unsigned int count;
};
struct rawns_sockopt {
    int level;
    int name;
    int value;
};
struct rawns_answer {
    unsigned int datagrams;
    int overflowed;
};
int rawns_exchange_many(const char *paths, int count, int open_flags, int protocol,
                        const struct rawns_sockopt *options, int option_count,
                        const char *datagrams,
                        const unsigned int *datagram_lengths,
                        const unsigned int *datagram_counts, struct rawns_inbox *inbox,
                        struct rawns_answer *answers, struct rawns_tally *tally,
                        struct rawns_progress *progress);
int rawns_netlink_socket_in(int netns_fd, int protocol, const struct rawns_sockopt *options,
                            int option_count, unsigned int *port_id, int *failed_step);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "rawns._native",
    """
    #define _GNU_SOURCE
    #include <sched.h>
    #include <sys/mount.h>
    #include <linux/nsfs.h>
    #include <linux/sockios.h>
    #include <linux/if_tun.h>
    #include <net/if.h>
    #include "rawns.h"
    """,
    # Relative to the project root, where setuptools runs this script.
    sources=["csrc/rawns.c"],
    include_dirs=["csrc"],
    extra_compile_args=["-O2", "-Wall", "-Wextra"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
