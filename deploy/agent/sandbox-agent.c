/*
 * sandbox-agent: the init (PID 1) of every warm sandbox container.
 *
 * The host (Sandbox.Runner/Isolation/AgentClient.cs) talks to it over a SOCK_SEQPACKET unix socket in a
 * folder bound into the container with mode 0700 and owned by container root, so runs (an unprivileged
 * uid) cannot reach it. One request and one reply per operation; the run's stdin/stdout/stderr and the
 * per-run cgroup files are passed in as file descriptors (SCM_RIGHTS), so output streams straight to the
 * host with no relay and the agent never opens a host path.
 *
 * Why C and not managed code: a run is started with clone(CLONE_VM) + exec from here, and no managed runtime may
 * run in a forked child; a ~600-line C init also keeps the container's attack surface tiny.
 *
 * Per run: clone(CLONE_VM) -> join the run cgroup -> drop groups, gid, uid (the capability bounding set is empty since start) -> rlimits ->
 * chdir -> stdio -> exec. The agent reaps every process (orphans included) while it waits, so zombies
 * never count against the pids limit. RESET kills every process in the container but the agent
 * (kill(-1) from PID 1), reaps them all, and wipes the writable space with *at() calls that never follow
 * a symlink. SysV IPC and POSIX message queues are refused by the seccomp profile, so no IPC object can
 * outlive a run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <stddef.h>

#include "protocol.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define BOX "/box"
#define WORK_DIR "work"
#define TMP_DIR "tmp"
#define SHM_DIR "shm"
#define MAX_LIST_FILES 512

static const char *socket_path = "/sandbox/ctl/agent.sock";
static uid_t run_uid_default = 1000;

static void logmsg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sandbox-agent: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* ---------- the run's child before exec (it shares the agent's memory): no allocation, no locks ---------- */

struct child_ctx {
    const struct sbx_run_req *req;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int cwd_fd; /* the work folder's descriptor when cwd is that folder (fchdir: no path to walk), else -1 */
    /* Copies, not pointers into the agent's arrays: the agent goes on (and closes its own descriptors) while the
     * child starts (see op_run). */
    int stdio[3];                        /* stdin, stdout, stderr */
    int cgroups[SBX_MAX_CGROUP_FDS];     /* the run cgroup's join fds (passed with the run, or kept from SBX_OP_CGROUPS) */
    int ncgroups;
    volatile int err;
    volatile int stage;
};

static void child_fail(struct child_ctx *c, int stage)
{
    c->err = errno;
    c->stage = stage;
    syscall(SYS_exit_group, 127);
}

static const char *env_lookup(char *const *envp, const char *key)
{
    size_t klen = strlen(key);
    for (; envp && *envp; envp++) {
        if (strncmp(*envp, key, klen) == 0 && (*envp)[klen] == '=') {
            return *envp + klen + 1;
        }
    }
    return NULL;
}

/* Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap), read once at start;
 * 63 (every possible bit) when it cannot be read. */
static int last_cap = 63;

/* The agent has no supplementary group (checked at start): its children inherit that, no setgroups needed. */
static int groups_empty = 0;

static int read_last_cap(void)
{
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 63;
    char b[16];
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) return 63;
    b[n] = '\0';
    int v = atoi(b);
    return v > 0 && v <= 63 ? v : 63;
}

static void child_exec(struct child_ctx *c)
{
    const struct sbx_run_req *r = c->req;

    /* 1. Join the run's cgroups while still root in the container: "0" means the writing task. */
    for (int i = 0; i < c->ncgroups; i++) {
        if (write(c->cgroups[i], "0", 1) != 1) {
            child_fail(c, SBX_STAGE_CGROUP);
        }
    }

    /* 2. Groups and gid. Raw syscalls: glibc's set*id wrappers broadcast to every thread of the
     *    parent whose memory the child shares. */
    if (!groups_empty && syscall(SYS_setgroups, 0, NULL) != 0) {
        child_fail(c, SBX_STAGE_SETGROUPS);
    }
    if (syscall(SYS_setresgid, r->gid, r->gid, r->gid) != 0) {
        child_fail(c, SBX_STAGE_SETGID);
    }

    /* 3. The uid. The capability bounding set and the ambient set are empty already and no_new_privs is set (the
     *    agent did all three to itself at start, see lock_down); dropping to a non-zero uid clears the permitted
     *    and effective sets. */
    if (syscall(SYS_setresuid, r->uid, r->uid, r->uid) != 0) {
        child_fail(c, SBX_STAGE_SETUID);
    }

    /* 4. Limits. RLIMIT_CORE, RLIMIT_MSGQUEUE and RLIMIT_MEMLOCK are 0 for every run: the agent set them on itself
     *    at start (main), and they are inherited. */
    struct rlimit rl;
    rl.rlim_cur = r->cpu_seconds;
    rl.rlim_max = r->cpu_seconds + 1;
    if (setrlimit(RLIMIT_CPU, &rl) != 0) child_fail(c, SBX_STAGE_RLIMIT);
    rl.rlim_cur = rl.rlim_max = r->fsize_bytes;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) child_fail(c, SBX_STAGE_RLIMIT);
    rl.rlim_cur = rl.rlim_max = r->nofile;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) child_fail(c, SBX_STAGE_RLIMIT);
    rl.rlim_cur = rl.rlim_max = r->stack_bytes;
    if (setrlimit(RLIMIT_STACK, &rl) != 0) child_fail(c, SBX_STAGE_RLIMIT);
    rl.rlim_cur = rl.rlim_max = r->nproc;
    if (setrlimit(RLIMIT_NPROC, &rl) != 0) child_fail(c, SBX_STAGE_RLIMIT);

    if (c->cwd_fd >= 0 ? fchdir(c->cwd_fd) != 0 : chdir(c->cwd) != 0) {
        child_fail(c, SBX_STAGE_CHDIR);
    }
    /* The agent works with umask 0 (its modes are exact); a program gets the usual one. */
    umask(022);

    /* 5. stdio; the agent keeps 0-2 occupied, so passed fds are always >= 3 and dup2 cannot clobber. A run without
     *    input reads /dev/null through an open file description of its own. */
    int in = c->stdio[0] >= 0 ? c->stdio[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(c->stdio[1], 1) < 0 || dup2(c->stdio[2], 2) < 0) {
        child_fail(c, SBX_STAGE_STDIO);
    }
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0) {
        child_fail(c, SBX_STAGE_STDIO);
    }

    /* 6. Default signal dispositions. exec resets handlers but keeps ignored signals; the agent set every
     *    disposition to default at start except SIGPIPE, which it ignores. Its signal mask is empty since start
     *    (main), so the run's is too. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);

    /* 7. exec, searching PATH from the run's own environment. */
    const char *file = c->argv[0];
    if (strchr(file, '/') != NULL) {
        execve(file, c->argv, c->envp);
        child_fail(c, SBX_STAGE_EXEC);
    }
    const char *path = env_lookup(c->envp, "PATH");
    if (path == NULL) {
        path = "/usr/bin:/bin";
    }
    char buf[PATH_MAX];
    int saved = ENOENT;
    while (*path) {
        const char *end = strchr(path, ':');
        size_t dlen = end ? (size_t)(end - path) : strlen(path);
        size_t flen = strlen(file);
        if (dlen > 0 && dlen + 1 + flen + 1 <= sizeof buf) {
            memcpy(buf, path, dlen);
            buf[dlen] = '/';
            memcpy(buf + dlen + 1, file, flen + 1);
            execve(buf, c->argv, c->envp);
            if (errno != ENOENT && errno != ENOTDIR) {
                saved = errno;
            }
        }
        if (!end) {
            break;
        }
        path = end + 1;
    }
    errno = saved;
    child_fail(c, SBX_STAGE_EXEC);
}

/* The stack of the run's child until it execs (one run at a time). */
static char child_stack[64 * 1024] __attribute__((aligned(16)));

static int child_start(void *arg)
{
    child_exec((struct child_ctx *)arg);
    syscall(SYS_exit_group, 127);
    return 127;
}

/* ---------- messaging ---------- */

static void fill_hdr(struct sbx_hdr *h, uint32_t op, uint32_t total)
{
    h->magic = SBX_MAGIC;
    h->version = SBX_VERSION;
    h->op = op;
    h->payload_len = total - (uint32_t)sizeof(struct sbx_hdr);
}

static int send_packet(int sock, const void *buf, size_t len, int fd)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&ctl, 0, sizeof ctl);
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : -1;
}

static int send_status(int sock, uint32_t op, int ok, int err, int64_t count)
{
    struct sbx_status st;
    memset(&st, 0, sizeof st);
    fill_hdr(&st.hdr, op, sizeof st);
    st.ok = ok;
    st.err = err;
    st.count = count;
    return send_packet(sock, &st, sizeof st, -1);
}

static void close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

/* ---------- operations ---------- */

static int reap_all(pid_t until, int *status, struct rusage *ru)
{
    /* Reaps every child (orphans are reparented to us, PID 1) until `until` exits, or until none are
     * left when until <= 0. Returns the number reaped. */
    int reaped = 0;
    for (;;) {
        int st;
        struct rusage r;
        pid_t p = wait4(-1, &st, __WALL, &r);
        if (p < 0) {
            if (errno == EINTR) continue;
            break; /* ECHILD */
        }
        reaped++;
        if (until > 0 && p == until) {
            if (status) *status = st;
            if (ru) *ru = r;
            break;
        }
    }
    return reaped;
}

static int64_t kill_everything(void)
{
    /* Every process in a PID namespace descends from its init (an orphan is reparented to init, or to a
     * subreaper that is itself a descendant), so when init has no child at all, nothing else is left. That one
     * wait4 is the common case after a run, and spares kill(-1) its walk over every task of the machine. */
    int st;
    pid_t first = waitpid(-1, &st, WNOHANG | __WALL);
    if (first < 0 && errno == ECHILD) {
        return 0;
    }
    /* kill(-1) from a PID namespace's init signals every process in it but init. Repeat until nothing is
     * left to wait for: a process may fork between the signal and its death. */
    int64_t total = first > 0 ? 1 : 0;
    for (int round = 0; round < 1000; round++) {
        int none_left = kill(-1, SIGKILL) < 0 && errno == ESRCH;
        int reaped = reap_all(-1, NULL, NULL);
        total += reaped;
        if (none_left && reaped == 0) {
            return total;
        }
        if (reaped == 0) {
            /* Signalled processes that are not our children yet cannot exist in a PID namespace
             * whose init is us; ESRCH on the next round ends the loop. */
            continue;
        }
    }
    return -1;
}

/* Empties the directory open at `dfd` (consumed) and everything below it, however deep: a run can nest
 * directories far past any recursion or descriptor budget, and a wipe that gives up would stop the container
 * (and fail the run) on the program's say-so. The walk is iterative and holds one directory open at a time:
 * it descends into the first directory that is not empty, and climbs back through ".." once a directory is.
 * Every process of the run is dead by now, so nothing can move a directory under the walk, and the depth count
 * keeps it from climbing above `dfd`. Names are unlinked with *at() calls and directories opened with
 * O_NOFOLLOW: a planted symlink is removed, never followed. Entries are read with getdents64 straight into a
 * buffer on the stack; a pass that removed everything it saw and reached the end leaves the directory empty
 * (nothing else can add to it), and the caller's rmdir checks that. */
#define LARGEST_DIRENT ((offsetof(struct dirent64, d_name) + NAME_MAX + 1 + 7) & ~(size_t)7)

static int wipe_dir(int dfd)
{
    int cur = dfd;
    unsigned long depth = 0;
    char buf[8192] __attribute__((aligned(8)));
    for (;;) {
        /* `cur` is always freshly opened here (dfd, a subdirectory, or a parent through ".."): it reads from the start. */
        char next[NAME_MAX + 1];
        next[0] = '\0';
        ssize_t n = 0;
        while (next[0] == '\0' && (n = getdents64(cur, buf, sizeof buf)) > 0) {
            for (ssize_t off = 0; off < n;) {
                struct dirent64 *e = (struct dirent64 *)(buf + off);
                off += e->d_reclen;
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
                int flags = e->d_type == DT_DIR ? AT_REMOVEDIR : 0;
                if (unlinkat(cur, e->d_name, flags) == 0) continue;
                if (flags == 0 && (errno == EISDIR || errno == EPERM) && unlinkat(cur, e->d_name, AT_REMOVEDIR) == 0) continue;
                if (errno != ENOTEMPTY && errno != EEXIST) {
                    close(cur);
                    return -1;
                }
                strncpy(next, e->d_name, NAME_MAX);
                next[NAME_MAX] = '\0';
                break;
            }
            /* getdents64 fills the buffer while the next entry fits: with room left for the largest entry, it
             * reached the end (this saves the read that returns 0; the caller's rmdir checks emptiness anyway). */
            if (next[0] == '\0' && n <= (ssize_t)(sizeof buf - LARGEST_DIRENT)) {
                n = 0;
                break;
            }
        }
        if (n < 0) {
            close(cur);
            return -1;
        }
        if (next[0] != '\0') {
            int sub = openat(cur, next, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            close(cur);
            if (sub < 0) return -1;
            /* The run may have left a directory without permissions; we are root in the container. */
            fchmod(sub, 0700);
            cur = sub;
            depth++;
            continue;
        }
        if (depth == 0) {
            close(cur);
            return 0;
        }
        /* Emptied: back to the parent, whose next pass removes this directory. */
        int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(cur);
        if (parent < 0) return -1;
        cur = parent;
        depth--;
    }
}

/* /box, open for the agent's lifetime: a tmpfs mounted by LXC, owned by container root with mode 0755, so no run
 * can add, remove or rename anything directly in it (runs hold no capability). Only its three folders change. */
static int box_fd = -1;
/* /box/work of the current run (recreated by every reset), where puts create files. */
static int work_fd = -1;

/* Removes /box/NAME and everything in it. */
static int remove_box_dir(const char *name)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        if (unlinkat(box_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
        if (errno != ENOTEMPTY && errno != EEXIST) return -1;
        int d = openat(box_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0) return -1;
        /* Root in the container reads and empties a folder whatever its mode (CAP_DAC_OVERRIDE); the mode is
         * set as well only if that was not enough. */
        if (attempt > 0) fchmod(d, 0700);
        if (wipe_dir(d) != 0 && attempt == 2) return -1;
    }
    errno = ENOTEMPTY;
    return -1;
}

/* What /box/work holds since it was made: the files the agent put there, while that is all it holds (work_tracked),
 * and how the folder looked when the run started (work_at_run, valid when work_stat_known). A run that changed
 * nothing in the folder itself leaves only those files. Each is held open by the agent from its creation on: after
 * a run that changed neither the folder nor anything about the file but its content, the file stays "parked" under
 * its name, and a put of the same name for the next run rewrites it in place instead of creating a new one (a
 * create and an unlink cost more than the rest of the agent's work on a run). What is not put again is removed
 * before the next run starts. */
#define MAX_TRACKED_FILES 16
struct tracked_file {
    char name[SBX_MAX_NAME + 1];
    int fd;        /* read-only (a descriptor open for writing would make exec fail: ETXTBSY), held since the agent
                    * made the file: for the checks, the owner, mode and times; content goes through a write-only
                    * descriptor opened for the write and closed again */
    ino_t ino;     /* 0 until known */
    int parked;    /* left by the last run, not (yet) put again */
    off_t size;    /* as the agent left it: a change means the run wrote past the content, or punched holes */
    blkcnt_t blocks;
    mode_t mode;   /* as the last check found them (may_park) */
    uid_t uid;
    gid_t gid;
};
static struct tracked_file tracked[MAX_TRACKED_FILES];
static int tracked_count = 0;
static int work_tracked = 0;
static struct stat work_at_run;
static int work_stat_known = 0;

/* Forgets tracked file i (its name, if still in the folder, is the caller's business); the last entry takes its place. */
static void untrack(int i)
{
    if (tracked[i].fd >= 0) close(tracked[i].fd);
    tracked[i] = tracked[--tracked_count];
}

/* Removes every parked file that no put claimed: a run sees only the files put for it. */
static int drop_parked(void)
{
    for (int i = tracked_count - 1; i >= 0; i--) {
        if (!tracked[i].parked) continue;
        if (work_fd >= 0 && unlinkat(work_fd, tracked[i].name, 0) != 0) return -1;
        untrack(i);
    }
    return 0;
}

/* Whether a put file may stay for the next run once its run has ended (the folder holding as many entries as
 * before): its name still leads to this inode, which has one link, no extended attribute (an ACL is one), no inode
 * flag (chattr), and the size and blocks the agent left. Its content, mode, owner and timestamps are set anew when
 * it is put again. The name is looked up rather than trusted from the folder's timestamps: before 6.13 (no
 * multigrain timestamps) a rename in the same clock tick as the folder's last change leaves its mtime and ctime as
 * they were, and a run could swap two files' names or move one aside for the next run to stumble on. */
static int may_park(struct tracked_file *t)
{
    struct stat st;
    if (t->ino == 0) {
        /* An empty file put empty was never written: its inode number is learnt here. */
        if (fstat(t->fd, &st) != 0) return 0;
        t->ino = st.st_ino;
    }
    if (fstatat(work_fd, t->name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_ino != t->ino || !S_ISREG(st.st_mode) ||
        st.st_nlink != 1 || st.st_size != t->size || st.st_blocks != t->blocks || flistxattr(t->fd, NULL, 0) != 0) {
        return 0;
    }
    t->mode = st.st_mode & 07777;
    t->uid = st.st_uid;
    t->gid = st.st_gid;
    int flags = 0;
    if (ioctl(t->fd, FS_IOC_GETFLAGS, &flags) != 0) return errno == ENOTTY || errno == EOPNOTSUPP;
    return flags == 0;
}

/* How /box/tmp and /box/shm looked right after the agent made them (valid when known). */
static struct stat made[3];
static int made_known[3];

/* True when a folder is still exactly as the agent made it: the same inode, empty (tmpfs counts every entry in a
 * folder's size; no subfolder in its link count), the same mode and owner, and not one timestamp moved (an entry
 * made or removed moves mtime and ctime, a listing moves atime). Runs cannot chmod, chown or set attributes on
 * these folders (they belong to container root), so such a folder is as fresh as a new one. */
static int as_made(const struct stat *now, const struct stat *then)
{
    return now->st_ino == then->st_ino && now->st_dev == then->st_dev && now->st_mode == then->st_mode &&
           now->st_uid == then->st_uid && now->st_gid == then->st_gid && now->st_nlink == 2 &&
           now->st_size == then->st_size && now->st_atim.tv_sec == then->st_atim.tv_sec &&
           now->st_atim.tv_nsec == then->st_atim.tv_nsec && now->st_mtim.tv_sec == then->st_mtim.tv_sec &&
           now->st_mtim.tv_nsec == then->st_mtim.tv_nsec && now->st_ctim.tv_sec == then->st_ctim.tv_sec &&
           now->st_ctim.tv_nsec == then->st_ctim.tv_nsec;
}

/* Resets the writable space: /box/work (the run's, mode 0755) is removed and made anew after every run unless the run
 * changed nothing in it (then the files put for it are removed and the folder, as it was, stays), and so are
 * /box/tmp and /box/shm (1777, container root's) unless they are untouched since they were made (as_made); so not
 * even a folder's own timestamps or extended attributes carry over to the next run. At start the whole of /box is
 * wiped first (a restarted agent finds whatever was there). */
static int prepare_box(uid_t uid, gid_t gid)
{
    if (box_fd < 0) {
        box_fd = open(BOX, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (box_fd < 0) return -1;
        int all = openat(box_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (all < 0 || wipe_dir(all) != 0) return -1;
    }
    if (work_fd >= 0 && work_stat_known) {
        /* The run's work folder as it was when the run started (same inode, size, link count, mode, owner and all
         * three timestamps): it holds as many entries as files were put before the run. What coarse timestamps may
         * not show (a rename, or a file replaced by another of its name) is left to may_park: each file stays
         * parked for the next run's put of the same name if its name still leads to it and the run changed nothing
         * about it but its content, or goes. */
        struct stat now;
        /* No extended attribute either (an ACL is one): the run owns this folder and could have set one. */
        int kept = fstat(work_fd, &now) == 0 && as_made(&now, &work_at_run) && flistxattr(work_fd, NULL, 0) == 0;
        for (int i = tracked_count - 1; kept && i >= 0; i--) {
            if (may_park(&tracked[i])) {
                tracked[i].parked = 1;
            } else if (unlinkat(work_fd, tracked[i].name, 0) == 0) {
                untrack(i);
            } else {
                kept = 0;
            }
        }
        work_stat_known = 0;
        if (!kept) work_tracked = 0;
    } else {
        work_tracked = 0;
    }
    if (!work_tracked) {
        /* The folder goes, and every name in it. */
        while (tracked_count > 0) untrack(tracked_count - 1);
    }
    if (!work_tracked && work_fd >= 0) {
        close(work_fd);
        work_fd = -1;
    }
    const struct {
        const char *name;
        mode_t mode;
    } dirs[] = { { WORK_DIR, 0755 }, { TMP_DIR, 01777 }, { SHM_DIR, 01777 } };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        struct stat now;
        if (i == 0 ? work_tracked
                   : made_known[i] && fstatat(box_fd, dirs[i].name, &now, AT_SYMLINK_NOFOLLOW) == 0 && as_made(&now, &made[i])) {
            continue;
        }
        made_known[i] = 0;
        /* The agent's umask is 0 (see main), so the mode is exact. */
        if (remove_box_dir(dirs[i].name) != 0 || mkdirat(box_fd, dirs[i].name, dirs[i].mode) != 0) return -1;
        /* The work folder is checked against how it was when the run started instead (see above). */
        if (i > 0 && fstatat(box_fd, dirs[i].name, &made[i], AT_SYMLINK_NOFOLLOW) == 0) made_known[i] = 1;
    }
    if (work_tracked) {
        return 0;
    }
    work_fd = openat(box_fd, WORK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (work_fd < 0 || fchown(work_fd, uid, gid) != 0) return -1;
    /* A new, empty folder: nothing in it yet to remove by name. */
    work_tracked = 1;
    return 0;
}

static int valid_name(const char *name, size_t len)
{
    if (len == 0 || len > SBX_MAX_NAME) return 0;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) return 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '/' || name[i] == '\0') return 0;
    }
    return 1;
}

/* A descriptor of /box/work for one operation (the caller closes it). */
static int open_work(void)
{
    if (work_fd < 0) {
        errno = ENOENT;
        return -1;
    }
    return openat(work_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The first failure of a SBX_OP_PUT_AHEAD since the last run or reset (0: none); the next RUN reports it. */
static int put_ahead_err = 0;

/* Writes all of p[0..n) to fd at offset off; 0 or an errno. */
static int write_all(int fd, const char *p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, off);
        if (k < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

/* Writes a put's content (inline, or read from the descriptor `src` when it is >= 0) to `out` from its start and
 * stores its length in *size. Returns 0 or an errno. */
static int write_content(int out, const char *inline_data, size_t inline_len, int src, off_t *size)
{
    if (src < 0) {
        *size = (off_t)inline_len;
        return write_all(out, inline_data, inline_len, 0);
    }
    char buf[65536];
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(src, buf, sizeof buf, off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        int err;
        if (n == 0) break;
        if ((err = write_all(out, buf, (size_t)n, off)) != 0) return err;
        off += n;
    }
    *size = off;
    return 0;
}

/* Writes a put's content to the file tracked as `t` (its name, in the work folder the run before did not change,
 * so the same inode, which is checked) through a descriptor opened for the write alone, cuts what is left of longer
 * content, and notes the size and blocks the file is left with. Empty content into an empty file needs no call.
 * Returns 0 or an errno. */
static int put_content(struct tracked_file *t, const char *data, size_t len, int src)
{
    if (src < 0 && len == 0 && t->size == 0) {
        t->blocks = 0;
        return 0;
    }
    int out = openat(work_fd, t->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (out < 0) return errno;
    off_t size = 0;
    struct stat st;
    int err = write_content(out, data, len, src, &size);
    if (!err && t->size > size && ftruncate(out, size) != 0) err = errno;
    if (!err && fstat(out, &st) != 0) err = errno;
    if (!err && t->ino != 0 && st.st_ino != t->ino) err = ESTALE;
    close(out);
    if (!err) {
        t->ino = st.st_ino;
        t->size = size;
        t->blocks = st.st_blocks;
    }
    return err;
}

/* Puts a file again under the name it was parked with: the same inode, its content, size, mode, owner and
 * timestamps set as a new file's would be (only its inode number and birth time tell it apart). Returns 0 or an
 * errno. */
static int reuse_parked(struct tracked_file *t, const struct sbx_put_req *req, const char *data, size_t len, int src)
{
    t->parked = 0;
    int err = put_content(t, data, len, src);
    if (!err && (t->uid != req->uid || t->gid != req->gid) && fchown(t->fd, req->uid, req->gid) != 0) err = errno;
    if (!err && t->mode != (req->mode & 0777) && fchmod(t->fd, req->mode & 0777) != 0) err = errno;
    if (!err && futimens(t->fd, NULL) != 0) err = errno;
    return err;
}

/* Creates the file (content inline or from the one descriptor passed) or the folder a PUT_AHEAD or MKDIR asks
 * for in the work folder, or puts a parked file of the same name again. Returns 0 or an errno. */
static int put_file(const char *payload, size_t len, const int *fds, int nfds, int is_dir)
{
    struct sbx_put_req req;
    if (len < sizeof req) return EINVAL;
    memcpy(&req, payload, sizeof req);
    const char *name = payload + sizeof req;
    /* A file's content comes inline after its name (small files: no descriptor to make, pass and read) or
     * through the one descriptor passed; a directory has neither. */
    size_t rest = len - sizeof req;
    int inline_content = !is_dir && nfds == 0;
    if (req.name_len > rest || (!inline_content && req.name_len != rest) || !valid_name(name, req.name_len) ||
        (!is_dir && nfds > 1) || (is_dir && nfds != 0)) {
        return EINVAL;
    }
    char cname[SBX_MAX_NAME + 1];
    memcpy(cname, name, req.name_len);
    cname[req.name_len] = '\0';

    /* The current run's folder, open since the last reset. */
    int work = work_fd;
    if (work < 0) return ENOENT;
    if (is_dir) {
        int err = 0;
        if (drop_parked() != 0 || mkdirat(work, cname, 0700) != 0) return errno;
        /* A run could fill a folder without touching the work folder itself. */
        work_tracked = 0;
        int d = openat(work, cname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0 || fchown(d, req.uid, req.gid) != 0 || fchmod(d, req.mode & 07777) != 0) err = errno ? errno : EIO;
        if (d >= 0) close(d);
        return err;
    }

    const char *data = name + req.name_len;
    size_t data_len = inline_content ? rest - req.name_len : 0;
    int src = inline_content ? -1 : fds[0];
    for (int i = 0; i < tracked_count; i++) {
        if (tracked[i].parked && strcmp(tracked[i].name, cname) == 0) {
            int err = reuse_parked(&tracked[i], &req, data, data_len, src);
            /* The file is in the folder either way; one that could not be rewritten is not reused again. */
            if (err) work_tracked = 0;
            return err;
        }
    }

    /* O_EXCL|O_NOFOLLOW: the work dir was wiped (or holds only files the agent put), so nothing can be planted;
     * refuse if it was. Created with its final mode (the agent's umask is 0): no process of a run exists while
     * files are put. */
    int fd = openat(work, cname, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, req.mode & 0777);
    if (fd < 0) return errno;
    struct tracked_file scratch;
    int keep = work_tracked && tracked_count < MAX_TRACKED_FILES;
    struct tracked_file *t = keep ? &tracked[tracked_count] : &scratch;
    memcpy(t->name, cname, req.name_len + 1);
    t->fd = fd;
    t->parked = 0;
    t->size = 0;
    t->mode = req.mode & 0777;
    t->uid = req.uid;
    t->gid = req.gid;
    t->ino = 0; /* not known yet: put_content or may_park notes it */
    int err = put_content(t, data, data_len, src);
    if (!err && fchown(fd, req.uid, req.gid) != 0) err = errno;
    if (!err && keep) {
        tracked_count++;
        return 0;
    }
    work_tracked = 0;
    close(fd);
    return err;
}

static int op_put(int sock, uint32_t op, const char *payload, size_t len, const int *fds, int nfds)
{
    int err = put_file(payload, len, fds, nfds, op == SBX_OP_MKDIR);
    if (op == SBX_OP_PUT_AHEAD) {
        if (err != 0 && put_ahead_err == 0) put_ahead_err = err;
        return 0;
    }
    return send_status(sock, op, err == 0, err, 0);
}

static int op_list(int sock)
{
    /* Files parked for a next run are not part of what the last one left. */
    if (work_fd >= 0 && drop_parked() != 0) return send_status(sock, SBX_OP_LIST, 0, errno, 0);
    int work = open_work();
    if (work < 0) return send_status(sock, SBX_OP_LIST, 0, errno, 0);
    DIR *d = fdopendir(work);
    if (!d) {
        close(work);
        return send_status(sock, SBX_OP_LIST, 0, errno, 0);
    }
    char packet[sizeof(struct sbx_file_entry) + SBX_MAX_NAME];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < MAX_LIST_FILES) {
        size_t nlen = strlen(e->d_name);
        if (!valid_name(e->d_name, nlen)) continue;
        /* O_NOFOLLOW + fstat: only regular files, never a link or a FIFO the program planted. */
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) continue;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            continue;
        }
        struct sbx_file_entry ent;
        memset(&ent, 0, sizeof ent);
        fill_hdr(&ent.hdr, SBX_OP_LIST, (uint32_t)(sizeof ent + nlen));
        ent.mode = st.st_mode & 07777;
        ent.name_len = (uint32_t)nlen;
        ent.size = st.st_size;
        memcpy(packet, &ent, sizeof ent);
        memcpy(packet + sizeof ent, e->d_name, nlen);
        int rc = send_packet(sock, packet, sizeof ent + nlen, fd);
        close(fd);
        if (rc != 0) {
            closedir(d);
            return -1;
        }
        count++;
    }
    closedir(d);
    struct sbx_file_entry end;
    memset(&end, 0, sizeof end);
    fill_hdr(&end.hdr, SBX_OP_LIST, sizeof end);
    return send_packet(sock, &end, sizeof end, -1);
}

/* The run cgroup's join descriptors SBX_OP_CGROUPS passed on this connection. */
static int stored_cgroups[SBX_MAX_CGROUP_FDS];
static int stored_ncgroups = 0;

/* Sends a run's reply, then closes what is left of its descriptors: the agent holds the run's stdout and stderr
 * until it has replied, so the host never sees them end before the reply and wakes once, for the reply. */
static int reply_run(int sock, struct sbx_run_reply *rep, int *fds, int nfds)
{
    int rc = send_packet(sock, rep, sizeof *rep, -1);
    close_fds(fds, nfds);
    return rc;
}

static int op_run(int sock, const char *payload, size_t len, int *fds, int nfds)
{
    struct sbx_run_reply rep;
    memset(&rep, 0, sizeof rep);
    fill_hdr(&rep.hdr, SBX_OP_RUN, sizeof rep);

    struct sbx_run_req req;
    if (len < sizeof req) goto bad;
    memcpy(&req, payload, sizeof req);
    const int stored = req.cgroup_fds == SBX_CGROUPS_STORED;
    /* stdout and stderr, after stdin unless the run reads /dev/null. */
    const int nstdio = (req.flags & SBX_RUN_STDIN_NULL) ? 2 : 3;
    if (req.argc == 0 || req.argc > SBX_MAX_ARGS || req.envc > SBX_MAX_ARGS ||
        /* Fail closed: never a run outside a run cgroup (its limits and accounting). */
        (stored ? (nfds != nstdio || stored_ncgroups == 0)
                : (req.cgroup_fds == 0 || req.cgroup_fds > SBX_MAX_CGROUP_FDS || (int)(nstdio + req.cgroup_fds) != nfds)) ||
        req.uid == 0 || req.gid == 0 || req.after > SBX_AFTER_RESET || (req.flags & ~SBX_RUN_STDIN_NULL) != 0) {
        goto bad;
    }

    /* Split the NUL-terminated strings: argv, env, cwd; then the files, each a length and a PUT_AHEAD payload. The
     * whole request is checked before any of it is acted on. */
    char *strings = (char *)payload + sizeof req;
    size_t slen = len - sizeof req;
    char *argv[SBX_MAX_ARGS + 1];
    char *envp[SBX_MAX_ARGS + 1];
    char *cwd = NULL;
    size_t pos = 0;
    uint32_t total = req.argc + req.envc + 1;
    for (uint32_t i = 0; i < total; i++) {
        if (pos >= slen) goto bad;
        char *s = strings + pos;
        size_t l = strnlen(s, slen - pos);
        if (pos + l >= slen) goto bad; /* no NUL before the end */
        if (i < req.argc) argv[i] = s;
        else if (i < req.argc + req.envc) envp[i - req.argc] = s;
        else cwd = s;
        pos += l + 1;
    }
    if (cwd == NULL || argv[0][0] == '\0') goto bad;
    argv[req.argc] = NULL;
    envp[req.envc] = NULL;
    const char *files = strings + pos;
    const size_t files_len = slen - pos;
    size_t fpos = 0;
    for (uint32_t i = 0; i < req.files; i++) {
        uint32_t flen;
        if (files_len - fpos < sizeof flen) goto bad;
        memcpy(&flen, files + fpos, sizeof flen);
        fpos += sizeof flen;
        if (flen > files_len - fpos) goto bad;
        fpos += flen;
    }
    if (fpos != files_len) goto bad;

    /* The run's files, as PUT_AHEAD would put them: the first failure is kept and stops the run below. */
    fpos = 0;
    for (uint32_t i = 0; i < req.files; i++) {
        uint32_t flen;
        memcpy(&flen, files + fpos, sizeof flen);
        fpos += sizeof flen;
        int err = put_file(files + fpos, flen, NULL, 0, 0);
        if (err != 0 && put_ahead_err == 0) put_ahead_err = err;
        fpos += flen;
    }
    /* What the last run left parked and this one was not given goes before anything starts. */
    if (put_ahead_err == 0 && drop_parked() != 0) put_ahead_err = errno ? errno : EIO;
    if (put_ahead_err != 0) {
        /* A file the run needs is missing (or one it must not see could not be removed): nothing is started. */
        rep.ok = 0;
        rep.err = put_ahead_err;
        rep.stage = SBX_STAGE_PUT;
        put_ahead_err = 0;
        close_fds(fds, nfds);
        return send_packet(sock, &rep, sizeof rep, -1);
    }

    struct child_ctx ctx = {
        .req = &req, .argv = argv, .envp = envp, .cwd = cwd, .cwd_fd = strcmp(cwd, BOX "/" WORK_DIR) == 0 ? work_fd : -1,
        .stdio = { nstdio == 3 ? fds[0] : -1, fds[nstdio - 2], fds[nstdio - 1] },
        .ncgroups = stored ? stored_ncgroups : (int)req.cgroup_fds, .err = 0, .stage = 0
    };
    memcpy(ctx.cgroups, stored ? stored_cgroups : fds + nstdio, sizeof(int) * (size_t)ctx.ncgroups);
    /* The work folder as the run finds it (prepare_box compares it afterwards). Stat-ing it also makes the kernel
     * (6.13+, multigrain timestamps) give the next change to it a fine-grained, so different, timestamp. */
    work_stat_known = work_tracked && work_fd >= 0 && fstat(work_fd, &work_at_run) == 0;
    /* The child shares our memory until it execs (no copy of the address space, as vfork) but, unlike vfork, we do
     * not sleep until then: we close what the child no longer needs from us and wait for its end, which saves two
     * context switches per run. Until it execs or exits, the agent changes nothing the child reads (ctx, argv, envp,
     * the request buffer) and makes no call that could fail (errno is shared): close on a descriptor it holds, and
     * wait4. The child has its own stack. */
    pid_t pid = clone(child_start, child_stack + sizeof child_stack, CLONE_VM | SIGCHLD, &ctx);
    /* stdin and the cgroup descriptors passed with the run go now; stdout and stderr after the reply. */
    close_fds(fds, nstdio - 2);
    close_fds(fds + nstdio, nfds - nstdio);
    if (pid < 0) {
        rep.ok = 0;
        rep.err = errno;
        rep.stage = SBX_STAGE_FORK;
        return reply_run(sock, &rep, fds, nfds);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    reap_all(pid, &status, &ru);
    rep.pid = pid;
    if (ctx.stage != 0) {
        rep.ok = 0;
        rep.err = ctx.err;
        rep.stage = (uint32_t)ctx.stage;
    } else {
        rep.ok = 1;
    }
    if (req.after != SBX_AFTER_RESET) {
        /* The box is not reset after this run: whatever it made stays, so the work folder is not known any more. */
        work_tracked = 0;
        work_stat_known = 0;
    }
    rep.wait_status = status;
    rep.utime_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
    rep.stime_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
    rep.maxrss_kb = ru.ru_maxrss;
    if (req.after == SBX_AFTER_NOTHING) {
        return reply_run(sock, &rep, fds, nfds);
    }
    int64_t killed = kill_everything();
    int clean = killed >= 0 && (req.after != SBX_AFTER_RESET || prepare_box(run_uid_default, run_uid_default) == 0);
    int err = errno;
    rep.cleaned = clean;
    int rc = reply_run(sock, &rep, fds, nfds);
    if (!clean && req.after == SBX_AFTER_RESET) {
        /* Fail closed, as SBX_OP_RESET: a box we cannot clean must not serve again. */
        logmsg("reset after a run failed (errno %d): exiting so the container is replaced", err);
        exit(3);
    }
    return rc;

bad:
    close_fds(fds, nfds);
    rep.ok = 0;
    rep.err = EINVAL;
    rep.stage = SBX_STAGE_REQUEST;
    return send_packet(sock, &rep, sizeof rep, -1);
}

/* Returns 0 to keep the connection, -1 to drop it (malformed traffic is never guessed at). */
static int serve_one(int sock)
{
    static char buf[SBX_MAX_PACKET];
    union {
        char buf[CMSG_SPACE(sizeof(int) * (3 + SBX_MAX_CGROUP_FDS))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof ctl.buf;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;

    int fds[3 + SBX_MAX_CGROUP_FDS];
    int nfds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                if (nfds < (int)(sizeof fds / sizeof fds[0])) fds[nfds++] = fd;
                else close(fd);
            }
        }
    }
    struct sbx_hdr hdr;
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof hdr) {
        close_fds(fds, nfds);
        logmsg("malformed packet (%zd bytes, flags %x): dropping connection", n, msg.msg_flags);
        return -1;
    }
    memcpy(&hdr, buf, sizeof hdr);
    if (hdr.magic != SBX_MAGIC || hdr.version != SBX_VERSION || hdr.payload_len != (size_t)n - sizeof hdr) {
        close_fds(fds, nfds);
        logmsg("bad header: dropping connection");
        return -1;
    }
    const char *payload = buf + sizeof hdr;
    size_t plen = hdr.payload_len;
    int rc;
    switch (hdr.op) {
    case SBX_OP_PING:
        close_fds(fds, nfds);
        rc = send_status(sock, SBX_OP_PING, 1, 0, getpid());
        break;
    case SBX_OP_RUN:
        rc = op_run(sock, payload, plen, fds, nfds);
        break;
    case SBX_OP_RESET: {
        close_fds(fds, nfds);
        int64_t killed = kill_everything();
        int ok = killed >= 0 && prepare_box(run_uid_default, run_uid_default) == 0;
        int err = ok ? 0 : errno;
        put_ahead_err = 0;
        rc = send_status(sock, SBX_OP_RESET, ok, err, killed);
        if (!ok) {
            /* Fail closed: a box we cannot clean must not serve again. Exiting stops the container. */
            logmsg("reset failed (errno %d): exiting so the container is replaced", err);
            exit(3);
        }
        break;
    }
    case SBX_OP_KILL: {
        close_fds(fds, nfds);
        int64_t killed = kill_everything();
        rc = send_status(sock, SBX_OP_KILL, killed >= 0, killed >= 0 ? 0 : EAGAIN, killed);
        break;
    }
    case SBX_OP_PUT_AHEAD:
    case SBX_OP_MKDIR:
        rc = op_put(sock, hdr.op, payload, plen, fds, nfds);
        close_fds(fds, nfds);
        break;
    case SBX_OP_CGROUPS:
        if (plen != 0 || nfds < 1 || nfds > SBX_MAX_CGROUP_FDS) {
            close_fds(fds, nfds);
            rc = send_status(sock, SBX_OP_CGROUPS, 0, EINVAL, 0);
            break;
        }
        close_fds(stored_cgroups, stored_ncgroups);
        memcpy(stored_cgroups, fds, sizeof(int) * (size_t)nfds);
        stored_ncgroups = nfds;
        rc = send_status(sock, SBX_OP_CGROUPS, 1, 0, nfds);
        break;
    case SBX_OP_LIST:
        close_fds(fds, nfds);
        rc = op_list(sock);
        break;
    default:
        close_fds(fds, nfds);
        logmsg("unknown op %u: dropping connection", hdr.op);
        return -1;
    }
    return rc;
}

/* Once, at start, for the agent and so for every run it forks (all of it is inherited and none of it can be
 * undone without privileges the runs never have): an empty capability bounding set and ambient set (runs exec
 * with no capability to gain), no_new_privs, and a seccomp filter that pins the architecture. LXC's profile
 * (deploy/seccomp/sandbox.seccomp) is the allowlist, but LXC also loads its rules for the compat
 * architectures (i386, x32); this second filter kills the process on any syscall that is not native x86_64, so
 * `int 0x80` and x32 calls never reach the allowlist. The agent makes only native calls itself. Done per run
 * before, these cost a BPF compile and ~40 prctl calls every run. Returns 0, or -1 (errno set). */
static int lock_down(void)
{
    for (int cap = 0; cap <= last_cap; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    for (int cap = 0; cap <= last_cap; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0) {
            errno = EPERM;
            return -1;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    struct sock_filter pin[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* __X32_SYSCALL_BIT */, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = (unsigned short)(sizeof pin / sizeof pin[0]), .filter = pin };
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1) socket_path = argv[1];

    /* Keep 0-2 occupied so that descriptors received later are always >= 3. */
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && devnull >= 0) dup2(devnull, fd);
    }
    /* Whatever dispositions we inherited, runs start from the defaults (see child_exec, step 6). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP) {
            sigaction(s, &dfl, NULL);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    /* Runs inherit an empty signal mask and these limits from the agent (child_exec sets only the per-run ones). */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct rlimit zero = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &zero) != 0 || setrlimit(RLIMIT_MSGQUEUE, &zero) != 0 || setrlimit(RLIMIT_MEMLOCK, &zero) != 0) {
        logmsg("cannot set the fixed run limits: %s", strerror(errno));
        return 2;
    }
    /* Modes given to mkdirat and openat are meant exactly. */
    umask(0);
    last_cap = read_last_cap();
    groups_empty = getgroups(0, NULL) == 0;
    if (lock_down() != 0) {
        logmsg("cannot drop capabilities or pin the architecture: %s", strerror(errno));
        return 2;
    }

    if (prepare_box(run_uid_default, run_uid_default) != 0) {
        logmsg("cannot prepare %s: %s", BOX, strerror(errno));
        return 2;
    }
    /* /dev is LXC's autodev tmpfs (not writable by runs); POSIX shared memory must live in the box that
     * is wiped after every run, so /dev/shm points there. */
    rmdir("/dev/shm");
    if (symlink(BOX "/" SHM_DIR, "/dev/shm") != 0 && errno != EEXIST) {
        logmsg("symlink /dev/shm: %s", strerror(errno));
        return 2;
    }

    int srv = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (srv < 0) {
        logmsg("socket: %s", strerror(errno));
        return 2;
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof addr.sun_path) return 2;
    strcpy(addr.sun_path, socket_path);
    unlink(socket_path);
    mode_t old = umask(0077);
    if (bind(srv, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(srv, 4) != 0) {
        logmsg("bind/listen %s: %s", socket_path, strerror(errno));
        return 2;
    }
    umask(old);
    logmsg("ready on %s", socket_path);

    for (;;) {
        int c = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR) continue;
            logmsg("accept: %s", strerror(errno));
            return 2;
        }
        /* Only the host can connect: the socket folder is 0700 and owned by container root. Still, check
         * the peer: host root is not mapped into our user namespace, so it shows as the overflow uid. */
        struct ucred cred;
        socklen_t cl = sizeof cred;
        if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || (cred.uid != 0 && cred.uid != 65534)) {
            close(c);
            continue;
        }
        /* What a connection set up is its own: a new host starts from nothing. */
        close_fds(stored_cgroups, stored_ncgroups);
        stored_ncgroups = 0;
        put_ahead_err = 0;
        while (serve_one(c) == 0) {
        }
        close(c);
        /* A host that goes away mid-run leaves nothing behind for the next one. */
        kill_everything();
    }
}
