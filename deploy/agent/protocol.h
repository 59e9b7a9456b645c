/*
 * Wire protocol between the host (Sandbox.Runner/Isolation/AgentClient.cs) and the in-container
 * agent (sandbox-agent.c). Keep both sides in sync: the C# side mirrors these layouts with
 * [StructLayout(LayoutKind.Sequential)] structs.
 *
 * Transport: one SOCK_SEQPACKET unix socket per container; every message is one packet.
 * Requests start with struct sbx_hdr; file descriptors travel as SCM_RIGHTS on the same packet.
 * All integers are little-endian native (host and container are the same machine).
 */
#ifndef SANDBOX_AGENT_PROTOCOL_H
#define SANDBOX_AGENT_PROTOCOL_H

#include <stdint.h>

#define SBX_MAGIC 0x41584253u /* "SBXA" */
#define SBX_VERSION 3u /* 2: sbx_run_req grew flags (SBX_RUN_STDIN_NULL); 3: a RUN carries its files. An agent and a host of
                        * different versions refuse each other */

#define SBX_MAX_PACKET 65536
#define SBX_MAX_ARGS 256
#define SBX_MAX_CGROUP_FDS 8
#define SBX_MAX_NAME 255

enum sbx_op {
    SBX_OP_PING = 1,  /* no payload; reply sbx_status */
    SBX_OP_RUN = 2,   /* sbx_run_req + strings + files (see sbx_run_req.files); fds: stdin (unless SBX_RUN_STDIN_NULL), stdout, stderr, then the cgroup join fds (v1 tasks, v2
                       * cgroup.procs; at least one) unless cgroup_fds is SBX_CGROUPS_STORED; reply sbx_run_reply. The agent keeps its copies of
                       * stdout and stderr until it has replied: once the reply is in, every writer is gone (when
                       * `cleaned`) and what the pipes hold is all there is. */
    SBX_OP_RESET = 3, /* kill every process but the agent, wipe the writable space; reply sbx_status */
    /* 4: retired (a PUT answered on its own); files go ahead of their run, SBX_OP_PUT_AHEAD */
    SBX_OP_MKDIR = 5, /* sbx_put_req + name; reply sbx_status */
    SBX_OP_LIST = 6,  /* no payload; replies: one sbx_file_entry + 1 fd per regular file, then an entry with name_len 0 */
    SBX_OP_KILL = 7,  /* kill every process but the agent, keep the files (between compile and run); reply sbx_status */
    SBX_OP_PUT_AHEAD = 8, /* sbx_put_req + name, then either no fd and the content inline, or fd: content; no reply:
                           * the first failure is kept and the next RUN fails with it (stage SBX_STAGE_PUT) without
                           * starting anything; RESET forgets it */
    SBX_OP_CGROUPS = 9,   /* no payload; fds: the run cgroup's join fds (1..SBX_MAX_CGROUP_FDS), kept for this
                           * connection and used by every RUN with cgroup_fds == SBX_CGROUPS_STORED; reply sbx_status */
};

/* sbx_run_req.cgroup_fds: join the cgroups the last SBX_OP_CGROUPS passed (none passed: the run is refused). */
#define SBX_CGROUPS_STORED 0xffffffffu

/* What the agent does once a run's main process has exited, before it replies (saves the host a round trip). */
enum sbx_after {
    SBX_AFTER_NOTHING = 0,
    SBX_AFTER_KILL = 1,  /* as SBX_OP_KILL */
    SBX_AFTER_RESET = 2, /* as SBX_OP_RESET; if the box cannot be cleaned the agent exits after replying */
};

/* Stage at which a run failed before exec (sbx_run_reply.stage). */
enum sbx_stage {
    SBX_STAGE_NONE = 0,
    SBX_STAGE_CGROUP = 1,
    SBX_STAGE_SETGROUPS = 2,
    SBX_STAGE_SETGID = 3,
    SBX_STAGE_SETUID = 4,
    SBX_STAGE_CAPS = 5,
    SBX_STAGE_RLIMIT = 6,
    SBX_STAGE_CHDIR = 7,
    SBX_STAGE_STDIO = 8,
    SBX_STAGE_EXEC = 9,
    SBX_STAGE_FORK = 10,
    SBX_STAGE_REQUEST = 11,
    SBX_STAGE_SECCOMP = 12,
    SBX_STAGE_PUT = 13, /* a SBX_OP_PUT_AHEAD before this run failed (err: its errno) */
};

struct sbx_hdr {
    uint32_t magic;
    uint32_t version;
    uint32_t op;
    uint32_t payload_len; /* bytes after this header */
};

struct sbx_run_req {
    uint32_t uid;
    uint32_t gid;
    uint64_t cpu_seconds;   /* RLIMIT_CPU soft; hard = soft + 1 */
    uint64_t fsize_bytes;   /* RLIMIT_FSIZE */
    uint64_t nofile;        /* RLIMIT_NOFILE */
    uint64_t stack_bytes;   /* RLIMIT_STACK */
    uint64_t nproc;         /* RLIMIT_NPROC (the pids cgroup is the real limit) */
    uint32_t argc;          /* then argc NUL-terminated strings */
    uint32_t envc;          /* then envc NUL-terminated strings */
    uint32_t cgroup_fds;    /* number of cgroup.procs/tasks fds after the three stdio fds, or SBX_CGROUPS_STORED */
    uint32_t after;         /* enum sbx_after: clean up once the main process exited, before replying */
    uint32_t flags;         /* SBX_RUN_* */
    uint32_t files;         /* files to put before the run, after the strings: each a uint32_t length and that many bytes,
                             * a SBX_OP_PUT_AHEAD payload with its content inline; put as PUT_AHEAD puts them */
    /* then cwd as a NUL-terminated string, then the files */
};

/* sbx_run_req.flags: no stdin descriptor is passed (the fds start with stdout); the run reads /dev/null, opened for
 * it alone (no open file description is shared between runs: its offset, flags and owner would carry over). */
#define SBX_RUN_STDIN_NULL 1u

struct sbx_run_reply {
    struct sbx_hdr hdr;
    int32_t ok;          /* 1 when the program was started and waited for */
    int32_t err;         /* errno of the failing step when ok == 0 */
    uint32_t stage;      /* enum sbx_stage */
    int32_t wait_status; /* raw wait status of the main process */
    int32_t pid;         /* pid of the main process inside the container */
    int32_t cleaned;     /* 1 when the cleanup asked for in `after` was done (0: not asked, or not started) */
    int64_t utime_us;    /* rusage of the main process and its waited-for children */
    int64_t stime_us;
    int64_t maxrss_kb;
};

struct sbx_status {
    struct sbx_hdr hdr;
    int32_t ok;
    int32_t err;
    int64_t count; /* RESET: processes killed; LIST: files */
};

struct sbx_put_req {
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint32_t name_len; /* then name (no NUL), a plain file name; PUT without an fd: then the content itself */
};

struct sbx_file_entry {
    struct sbx_hdr hdr;
    uint32_t mode;
    uint32_t name_len; /* then name; 0 ends the listing */
    int64_t size;
};

#endif
