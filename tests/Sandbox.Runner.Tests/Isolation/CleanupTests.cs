using System.Diagnostics;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Isolation;
using Sandbox.Runner.Tests.Exploits.Infrastructure;
using Sandbox.Runner.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>
/// "After every run nothing it started survives and nothing it wrote remains": a thousand consecutive runs of a
/// program that leaves everything it can behind, each checking what the runs before it left.
/// </summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class CleanupTests(SandboxFixture sandbox, ITestOutputHelper log) : ExploitTest(sandbox)
{
    /// <summary>
    /// First reports anything it finds that it did not make (processes, files in the work dir, /tmp, /dev/shm, SysV IPC
    /// objects, named sockets), then leaves: a background child, a setsid'd child, a setsid'd double-forked grandchild,
    /// a stopped child, a child holding an abstract socket, files and directories in every writable place, a POSIX shm
    /// object, and tries to create SysV shm, semaphores and message queues. It waits until every leftover is in place
    /// before it exits, so the cleanup always has all of them to deal with.
    /// </summary>
    private const string Litterer = """
        #define _GNU_SOURCE
        #include <dirent.h>
        #include <errno.h>
        #include <fcntl.h>
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/ipc.h>
        #include <sys/mman.h>
        #include <sys/msg.h>
        #include <sys/sem.h>
        #include <sys/shm.h>
        #include <sys/socket.h>
        #include <sys/stat.h>
        #include <sys/un.h>
        #include <unistd.h>

        static int ready[2];
        static char report[4096];

        static void note(const char *what, const char *name)
        {
            size_t n = strlen(report);
            snprintf(report + n, sizeof report - n, " %s:%s", what, name);
        }

        static void check_dir(const char *dir, const char *allowed)
        {
            DIR *d = opendir(dir);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (allowed && !strcmp(e->d_name, allowed))) continue;
                note(dir, e->d_name);
            }
            if (d) closedir(d);
        }

        static void check_lines(const char *file, int header, const char *ignore)
        {
            FILE *f = fopen(file, "r");
            char line[512];
            int n = 0;
            while (f && fgets(line, sizeof line, f)) {
                if (n++ < header || (ignore && strstr(line, ignore))) continue;
                if (!strcmp(file, "/proc/net/unix") && !strchr(line, '/') && !strchr(line, '@')) continue;
                note(file, "entry");
            }
            if (f) fclose(f);
        }

        static void linger(void)
        {
            write(ready[1], "x", 1);
            for (;;) pause();
        }

        int main(void)
        {
            /* 1. What did earlier runs leave? */
            DIR *proc = opendir("/proc");
            struct dirent *e;
            while ((e = readdir(proc))) {
                int pid = atoi(e->d_name);
                if (pid > 1 && pid != getpid()) note("process", e->d_name);
            }
            closedir(proc);
            check_dir("/box/work", "main");
            check_dir("/tmp", NULL);
            check_dir("/dev/shm", NULL);
            check_lines("/proc/sysvipc/shm", 1, NULL);
            check_lines("/proc/sysvipc/sem", 1, NULL);
            check_lines("/proc/sysvipc/msg", 1, NULL);
            check_lines("/proc/net/unix", 1, "/sandbox/ctl/agent.sock");
            printf("%s\n", report[0] ? report + 1 : "clean");

            /* 2. Leave everything behind. */
            pipe(ready);
            int expected = 0;
            if (fork() == 0) linger();                                   /* background child */
            expected++;
            if (fork() == 0) { setsid(); linger(); }                     /* new session */
            expected++;
            if (fork() == 0) { setsid(); if (fork() == 0) linger(); _exit(0); } /* double fork, reparented to init */
            expected++;
            pid_t stopped = fork();
            if (stopped == 0) { write(ready[1], "x", 1); raise(SIGSTOP); for (;;) pause(); }
            expected++;
            if (fork() == 0) {                                           /* abstract socket listener */
                int s = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un a = { .sun_family = AF_UNIX };
                memcpy(a.sun_path, "\0leftover", 9);
                bind(s, (struct sockaddr *)&a, sizeof(sa_family_t) + 9);
                listen(s, 1);
                linger();
            }
            expected++;
            const char *dirs[] = { "/box/work", "/tmp", "/dev/shm" };
            for (int i = 0; i < 3; i++) {
                char path[256];
                snprintf(path, sizeof path, "%s/leftover", dirs[i]);
                FILE *f = fopen(path, "w");
                if (f) { fputs("left", f); fclose(f); }
                snprintf(path, sizeof path, "%s/dir", dirs[i]);
                mkdir(path, 0700);
                snprintf(path, sizeof path, "%s/dir/.hidden", dirs[i]);
                f = fopen(path, "w");
                if (f) fclose(f);
            }
            int fd = shm_open("/leftover-shm", O_CREAT | O_RDWR, 0600);
            if (fd >= 0) ftruncate(fd, 4096);
            int ipc = (shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) >= 0) + (semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) >= 0)
                + (msgget(IPC_PRIVATE, IPC_CREAT | 0600) >= 0);
            char c;
            for (int got = 0; got < expected && read(ready[0], &c, 1) == 1; got++) {}
            printf("left %d processes, ipc objects %d\n", expected, ipc);
            return 0;
        }
        """;

    [Fact]
    public async Task ThousandRuns_LeavingProcessesFilesAndIpc_LeaveNothingBehind()
    {
        const int Runs = 1000;
        var before = Before();
        var compiled = await Sandbox.Runner.CompileAsync("c", Litterer, Timeout());
        Assert.True(compiled.Succeeded, compiled.CompileOutput);
        Assert.Equal(Sandbox.Runner.Slots, RunCgroupProcsFiles().Count);

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Runs; i++)
        {
            var result = await Sandbox.Runner.ExecuteAsync(compiled.Program!, new ExecutionRequest(), null, Timeout());
            Assert.True(result.Verdict == RunVerdict.Ok, $"run {i}: {Describe(result)}");
            // Each run on a slot reports what the previous run on that slot left (with two slots used in turn, run i - 2).
            Assert.True(result.Stdout == "clean\nleft 5 processes, ipc objects 0\n", $"run {i}: {result.Stdout}");
            // Looked up each time: where each run gets a cgroup of its own (v2 before Linux 6.12) they change.
            var runCgroups = RunCgroupProcsFiles();
            Assert.Equal(Sandbox.Runner.Slots, runCgroups.Count);
            foreach (var procs in runCgroups)
            {
                var left = await File.ReadAllTextAsync(procs);
                Assert.True(left.Length == 0, $"run {i}: processes left in {procs}: {left}");
            }

            if (i % 250 == 249)
            {
                before.AssertUnchanged(HostSnapshot.Capture(Sandbox));
            }
        }

        log.WriteLine($"{Runs} runs in {clock.Elapsed.TotalSeconds:F1} s ({Runs / clock.Elapsed.TotalSeconds:F0} runs/s)");
        // The last runs' leftovers, on every slot; then the host: same containers (none replaced: every release found
        // an empty run cgroup), same cgroups, no mounts, marker intact.
        await AssertUntouchedAsync(before);
    }

    [Fact]
    public async Task WritableFolders_TouchedByARun_AreMadeAnew_UntouchedOnes_AreKept()
    {
        var pool = await Sandbox.Engine.PoolAsync(Timeout());
        var container = await pool.AcquireAsync(Timeout());
        try
        {
            // Inodes of /tmp, /dev/shm and the work folder, as the run finds them.
            const string Inodes = "stat -L -c %i /tmp /dev/shm /box/work | tr '\\n' ' '";
            string[] Run(string then = "true", params (string Name, string Content)[] files) =>
                RunAndReset(container, Inodes + "; " + then, AgentAfter.Reset, files).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);

            // Whatever came before (here: a file put, a step that keeps its files, then a reset) leaves nothing to it.
            RunAndReset(container, "true", AgentAfter.Kill, ("earlier", "x"));
            container.Agent.Reset(TimeSpan.FromSeconds(10));
            var first = Run();
            // Nothing touched them: the same three folders.
            var second = Run("touch /tmp/a /dev/shm/b");
            Assert.Equal(first, second);
            // A file left in /tmp and in /dev/shm: both were made anew. (A file made and removed again moves their
            // timestamps too, but within one clock tick only from Linux 6.13 on: before, the folder is as it was.)
            var third = Run("touch x");
            Assert.NotEqual(second[0], third[0]);
            Assert.NotEqual(second[1], third[1]);
            Assert.Equal(second[2], third[2]);
            // The same in the work folder (the file left there); then a run sets an extended attribute on the folder
            // (where tmpfs has them: Linux 6.6 and later): the next run finds a new folder, without the attribute.
            var fourth = Run("python3 -c \"import os; os.setxattr('/box/work', 'user.mark', b'1')\" 2>/dev/null || true");
            Assert.Equal(third[..2], fourth[..2]);
            Assert.NotEqual(third[2], fourth[2]);
            var fifth = Run("python3 -c \"import os; print(os.listxattr('/box/work'))\"");
            if (UserXattrs(container))
            {
                Assert.NotEqual(fourth[2], fifth[2]);
            }

            Assert.Equal("[]", fifth[3]);
            Assert.Equal("", RunAndReset(container, "ls -A /tmp /dev/shm /box/work | grep -v ':$' | grep -v '^$' || true"));

            // Files put for a run go with the reset even when the folder stays, written to or not.
            var put = Run("cat a b; echo changed > a", ("a", "1"), ("b", "2"));
            Assert.Equal(["12"], put[3..]);
            var afterPut = Run("ls -A");
            Assert.Equal(put[..3], afterPut[..3]);
            Assert.Equal(3, afterPut.Length);

            // A step that keeps its files (a compiler's) and a run after it: nothing of either is left after the reset.
            Assert.Equal("", RunAndReset(container, "cp src out", AgentAfter.Kill, ("src", "x")));
            Assert.Equal("out src\n", RunAndReset(container, "ls -A | tr '\\n' ' ' | sed 's/ $/\\n/'"));
            var afterSteps = Run("ls -A");
            Assert.Equal(3, afterSteps.Length);
        }
        finally
        {
            pool.Release(container, alreadyReset: true);
        }
    }

    [Fact]
    public async Task PutFiles_PutAgain_ComeBackAsNew_WhateverTheRunBeforeDidToThem()
    {
        var pool = await Sandbox.Engine.PoolAsync(Timeout());
        var container = await pool.AcquireAsync(Timeout());
        try
        {
            // The file's inode, mode, owner, size, mtime, content and extended attributes, as the run finds it.
            const string Look = "stat -c '%i %a %u %s %Y' f; cat f; echo; python3 -c \"import os; print(os.listxattr('f'))\"";
            string[] PutAndRun(string content, string then = "true")
            {
                var lines = RunAndReset(container, Look + "; " + then, AgentAfter.Reset, ("f", content)).Split('\n');
                return [.. lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), .. lines[1..3]];
            }

            void AssertNew(string[] seen, string content)
            {
                Assert.Equal("644", seen[1]);
                Assert.Equal("1000", seen[2]);
                Assert.Equal(content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), seen[3]);
                // Put just now: not a timestamp the run before could have set.
                Assert.True(long.Parse(seen[4], System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, string.Join(' ', seen));
                Assert.Equal(content, seen[5]);
                Assert.Equal("[]", seen[6]);
            }

            var xattrs = UserXattrs(container);
            var flags = FileFlags(container);
            // Each run is put its file, then does something to it; the next run is put a file of the same name and must
            // find just that: the same file (rewritten in place) only when the run before changed nothing but its
            // content, its mode or its times. A null content is a run that is not given the file: it finds none.
            var steps = new (string? Content, string Then, bool NextGetsTheSameFile)[]
            {
                ("first version", "printf XXXXXXXXXXXXX > f; chmod 600 f; touch -d 2001-01-01 f", true), // rewritten within its size
                ("second version", "echo more >> f", false), // grown past what was put
                ("3rd", "python3 -c \"import os; os.setxattr('f', 'user.mark', b'1')\" 2>/dev/null || true", !xattrs), // an extended attribute (where tmpfs has them)
                ("4th", "python3 -I -c \"import fcntl, struct; fcntl.ioctl(open('f'), 0x40086602, struct.pack('i', 0x40))\" 2>/dev/null || true", !flags), // nodump, which the owner may set on tmpfs (Linux 6.0+)
                ("5th", "ln f /tmp/link", false), // a second link (in /tmp, made anew itself)
                ("sixth version", "true", true), // untouched; the next content is shorter
                ("7", "true", true), // untouched; the next is empty
                ("", "touch -d 2001-01-01 f", true), // timestamps set back, nothing to write next
                ("", "true", false), // the next run is not given the file
                (null, "ls -A", false),
                ("last", "true", false),
            };
            RunAndReset(container, "true");
            string[]? before = null;
            var same = false;
            foreach (var (content, then, nextGetsTheSameFile) in steps)
            {
                if (content is null)
                {
                    Assert.Equal("", RunAndReset(container, then));
                    continue;
                }

                var seen = PutAndRun(content, then);
                if (before is not null)
                {
                    if (same)
                    {
                        Assert.Equal(before[0], seen[0]);
                    }
                    else
                    {
                        Assert.NotEqual(before[0], seen[0]);
                    }
                }

                AssertNew(seen, content);
                (before, same) = (seen, nextGetsTheSameFile);
            }
        }
        finally
        {
            pool.Release(container, alreadyReset: true);
        }
    }

    [Fact]
    public async Task PutFiles_RenamedOrSwappedByARun_ComeBackUnderTheirOwnNames()
    {
        var pool = await Sandbox.Engine.PoolAsync(Timeout());
        var container = await pool.AcquireAsync(Timeout());
        try
        {
            // What the run finds: the folder's entries on one line, then each file's content.
            const string Look = "ls -A | tr '\\n' ' '; echo; cat a; echo; cat b; echo";
            string Run(string a, string b, string then) =>
                RunAndReset(container, Look + "; " + then, AgentAfter.Reset, ("a", a), ("b", b));

            RunAndReset(container, "true");
            // Each run changes only the names of the files put for it (the folder keeps its number of entries, and
            // the files their one link, size and content); the next run is put files of the same names and must
            // find exactly those, each with its own new content. A rename in the same clock tick as the folder's
            // last change leaves the folder's timestamps as they were on kernels before 6.13.
            Assert.Equal("a b \nA1\nB1\n", Run("A1", "B1", "mv a t && mv b a && mv t b")); // swapped
            Assert.Equal("a b \nA2\nB2\n", Run("A2", "B2", "mv a c")); // one moved aside
            Assert.Equal("a b \nA3\nB3\n", Run("A3", "B3", "mv b a")); // one over the other (one inode gone)
            Assert.Equal("a b \nA4\nB4\n", Run("A4", "B4", "true"));
            Assert.Equal("", RunAndReset(container, "ls -A"));
        }
        finally
        {
            pool.Release(container, alreadyReset: true);
        }
    }

    /// <summary>
    /// Whether a run can set a user extended attribute in /box (tmpfs has them from Linux 6.6 on; before, the attack
    /// they stand for cannot be made). The probe changes the work folder, which the reset then makes anew.
    /// </summary>
    /// <summary>Whether the run's owner can set inode flags (FS_IOC_SETFLAGS) on tmpfs: Linux 6.0 and later.</summary>
    private static bool FileFlags(Container container) =>
        RunAndReset(container, "touch p && python3 -I -c \"import fcntl, struct; fcntl.ioctl(open('p'), 0x40086602, struct.pack('i', 0x40))\" 2>/dev/null && echo yes || echo no") == "yes\n";

    private static bool UserXattrs(Container container) =>
        RunAndReset(container, "python3 -c \"import os; os.setxattr('/box/work', 'user.probe', b'1')\" 2>/dev/null && echo yes || echo no") == "yes\n";

    /// <summary>
    /// Runs a shell command in <paramref name="container"/> through its agent with <paramref name="files"/> put ahead;
    /// the agent resets the box (or does what <paramref name="after"/> says) before it replies.
    /// </summary>
    private static string RunAndReset(Container container, string command, AgentAfter after = AgentAfter.Reset, params (string Name, string Content)[] files)
    {
        foreach (var (name, content) in files)
        {
            container.Agent.SendPut(name, System.Text.Encoding.UTF8.GetBytes(content), 0b110_100_100, 1000, 1000);
        }

        var (outRead, outWrite) = Native.Pipe();
        using (outRead)
        using (var stdin = Native.SealedMemfd("stdin", []))
        {
            using (outWrite)
            {
                var spec = new AgentRunSpec(["/bin/sh", "-c", command], ["PATH=/usr/bin:/bin"], "/box/work", 1000, 1000, 5, 1 << 20, 64, 8 << 20, 16, after);
                container.Agent.SendRun(spec, stdin, outWrite, outWrite, container.Cgroup.ProcsHandles);
            }

            var reply = container.Agent.ReceiveRunReply();
            Assert.True(reply.Started && reply.ExitCode == 0 && reply.Cleaned, reply.ToString());
            using var output = new FileStream(outRead, FileAccess.Read);
            using var reader = new StreamReader(output);
            return reader.ReadToEnd();
        }
    }

    [Fact]
    public async Task RunnerDisposed_LeavesNoContainerCgroupOrProcess()
    {
        var options = new SandboxOptions
        {
            Slots = 1,
            StateDirectory = Sandbox.Options.StateDirectory,
            RuntimeDirectory = Sandbox.Options.RuntimeDirectory,
            CgroupRoot = Sandbox.Options.CgroupRoot,
            // Its own id range, apart from the shared fixture's slots.
            IdMapBase = Sandbox.Options.IdMapBase + (8 * 65536),
        };
        var instancesBefore = HeldInstances();
        string instance;
        await using (var runner = new CodeRunner(options, SandboxFixture.CreateCatalog()))
        {
            await runner.StartAsync(null, Timeout());
            instance = Assert.Single(HeldInstances().Except(instancesBefore));
            var result = await runner.RunAsync(new RunRequest("bash", "sleep 1000 & setsid sleep 1000 & echo started"), null, Timeout());
            Assert.Equal("started\n", result.Stdout);
            Assert.NotEmpty(Leftovers(instance));
        }

        // LXC's monitor can take a moment to remove its own cgroup after the container stopped.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Leftovers(instance).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Empty(Leftovers(instance));
    }

    /// <summary>Containers, cgroups, control folders, lock files and host processes of one runner instance.</summary>
    private List<string> Leftovers(string instance)
    {
        var name = $"sbx-{instance}-";
        var found = new List<string>();
        var lxc = Path.Combine(Sandbox.Options.StateDirectory, "lxc");
        found.AddRange(Directory.EnumerateDirectories(lxc, name + "*"));
        found.AddRange(Directory.EnumerateDirectories(Path.Combine(Sandbox.Options.RuntimeDirectory, "ctl"), name + "*"));
        found.AddRange(Directory.EnumerateFiles(Path.Combine(Sandbox.Options.RuntimeDirectory, "instances"), instance + "*"));
        foreach (var hierarchy in Directory.EnumerateDirectories(Sandbox.Options.CgroupRoot).Append(Sandbox.Options.CgroupRoot))
        {
            found.AddRange(Directory.EnumerateDirectories(hierarchy, "*" + name + "*"));
        }

        foreach (var proc in Directory.EnumerateDirectories("/proc").Where(p => int.TryParse(Path.GetFileName(p), out _)))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(proc, "cgroup")).Contains(name, StringComparison.Ordinal))
                {
                    found.Add(proc);
                }
            }
            catch (IOException)
            {
            }
        }

        return found;
    }

    private HashSet<string> HeldInstances()
    {
        var instances = Path.Combine(Sandbox.Options.RuntimeDirectory, "instances") + "/";
        return [.. Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(fd =>
            {
                try
                {
                    return new FileInfo(fd).LinkTarget;
                }
                catch (IOException)
                {
                    return null;
                }
            })
            .OfType<string>()
            .Where(t => t.StartsWith(instances, StringComparison.Ordinal) && t.EndsWith(".lock", StringComparison.Ordinal))
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()];
    }

    private List<string> RunCgroupProcsFiles()
    {
        return [.. HostSnapshot.RunCgroupDirectories(Sandbox)
            .Select(r => Path.Combine(r, "cgroup.procs"))
            .Where(File.Exists)];
    }
}
