using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Sandbox.Runner.Execution;

namespace Sandbox.Runner.Isolation;

/// <summary>Why the host ended a process early.</summary>
internal enum KillReason
{
    None,
    WallTime,
    Output,
    Cancelled,
}

/// <summary>What the host does to the container once the main process has exited.</summary>
internal enum AfterExit
{
    /// <summary>Kill what the process left behind, keep the files (the next step needs them).</summary>
    KillLeftovers,
    /// <summary>Kill everything and wipe the writable space: the container is clean for the next run.</summary>
    Reset,
}

/// <summary>One process to start in a container.</summary>
internal sealed record ProcessSpec(
    IReadOnlyList<string> Argv,
    ReadOnlyMemory<byte> Stdin,
    ResourceLimits Limits,
    OutputStreamKind StdoutKind,
    OutputStreamKind StderrKind,
    bool MergeStderr,
    AfterExit After,
    IReadOnlyList<SandboxFile>? Files = null);

/// <summary>How a process ended, with everything it wrote (up to the output limit) and what it used.</summary>
internal sealed record ProcessOutcome(
    AgentRunReply Reply,
    CgroupUsage Usage,
    long WallTimeMs,
    ReadOnlyMemory<byte> Stdout,
    ReadOnlyMemory<byte> Stderr,
    bool OutputTruncated,
    KillReason Killed);

/// <summary>Runs one process in a container through its agent, with output streamed straight from the pipes.</summary>
internal static class SandboxProcess
{
    private static readonly string[] Environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LANG=C.UTF-8"];

    /// <summary>Runs the process on the container's worker thread; completes when it has exited and its output is read.</summary>
    public static Task<ProcessOutcome> RunAsync(Container container, ProcessSpec spec, int runUid, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return container.Worker.RunAsync(() => Run(container, spec, runUid, output, cancellationToken));
    }

    private static ProcessOutcome Run(Container container, ProcessSpec spec, int runUid, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        // Files first, unanswered: the agent writes them while the host prepares the run; if one cannot be created,
        // the run's reply says so and nothing is started.
        foreach (var file in spec.Files ?? [])
        {
            container.Agent.SendPut(file.Name, file.Content.Span, file.Executable ? 0b111_101_101 : 0b110_100_100, (uint)runUid, (uint)runUid);
        }

        var limits = spec.Limits;
        container.Cgroup.Apply(limits);
        var start = container.Cgroup.Begin();

        var (stdoutRead, stdoutWrite) = Native.Pipe();
        var (stderrRead, stderrWrite) = spec.MergeStderr ? (null, null) : Native.Pipe();
        // A run without input reads /dev/null, which the agent opens for it: no descriptor is made or passed, and no
        // open file description (its offset, flags, owner) is shared with another run.
        using var stdin = spec.Stdin.IsEmpty ? null : Native.SealedMemfd("stdin", spec.Stdin.Span);
        var killed = (int)KillReason.None;
        void Kill(KillReason reason)
        {
            if (Interlocked.CompareExchange(ref killed, (int)reason, (int)KillReason.None) == (int)KillReason.None)
            {
                // Through the cgroup: killing a front end would not reach the program, a setsid'd child escapes a group kill.
                container.Cgroup.KillAll();
            }
        }

        var capture = new OutputCapture(limits.OutputBytes, output, () => Kill(KillReason.Output));
        var pipes = new List<OutputPipe> { new(stdoutRead, spec.StdoutKind) };
        if (stderrRead is not null)
        {
            pipes.Add(new(stderrRead, spec.StderrKind));
        }

        var spec2 = new AgentRunSpec(
            spec.Argv,
            Environment,
            "/box/work",
            (uint)runUid,
            (uint)runUid,
            CpuSeconds: (ulong)Math.Max(1, Math.Ceiling(limits.CpuTime.TotalSeconds)),
            FileSizeBytes: (ulong)limits.FileSizeBytes,
            OpenFiles: (ulong)limits.OpenFiles,
            StackBytes: (ulong)limits.StackBytes,
            Processes: (ulong)limits.Processes,
            After: spec.After == AfterExit.Reset ? AgentAfter.Reset : AgentAfter.Kill);

        try
        {
            AgentRunReply? reply = null;
            var started = Stopwatch.GetTimestamp();
            using (cancellationToken.Register(() => Kill(KillReason.Cancelled)))
            {
                try
                {
                    container.Agent.SendRun(spec2, stdin, stdoutWrite, stderrWrite ?? stdoutWrite, container.Cgroup.ProcsHandles);
                }
                finally
                {
                    stdoutWrite.Dispose();
                    stderrWrite?.Dispose();
                }

                // The wall-time limit is this loop's own poll() deadline (no timer per run): it ends the program through
                // its cgroup, which makes the agent reply, as cancellation does; past the second deadline the agent
                // itself is in doubt.
                var agentDeadline = limits.WallTime + TimeSpan.FromSeconds(30);
                while (reply is null)
                {
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    var wallLeft = limits.WallTime - elapsed;
                    if (wallLeft <= TimeSpan.Zero && killed == (int)KillReason.None)
                    {
                        Kill(KillReason.WallTime);
                    }

                    var deadline = killed == (int)KillReason.None ? wallLeft : agentDeadline - elapsed;
                    var ready = Poll(container.Agent.Descriptor, pipes, capture, deadline);
                    if (ready == Readiness.TimedOut && killed != (int)KillReason.None)
                    {
                        throw new AgentException("the agent did not report the end of the run in time");
                    }

                    if (ready == Readiness.Agent)
                    {
                        reply = container.Agent.ReceiveRunReply();
                    }
                }
            }

            var wallTime = Stopwatch.GetElapsedTime(started);
            if (reply.Stage == AgentStage.Put)
            {
                throw new AgentException($"agent could not create a file in the work directory (errno {reply.Errno})");
            }

            if (reply.Cleaned)
            {
                // No process of the run is left and the agent let go of the pipes as it replied: what they hold is
                // all there is, read without waiting for anything.
                foreach (var pipe in pipes)
                {
                    pipe.ReadRemaining(capture);
                }
            }
            else
            {
                // Whatever the program left running still holds its stdout: kill it first, then read the output to its end.
                if (spec.After == AfterExit.Reset)
                {
                    container.Agent.Reset(TimeSpan.FromSeconds(10));
                }
                else
                {
                    container.Agent.KillAll(TimeSpan.FromSeconds(10));
                }

                var drain = Stopwatch.StartNew();
                while (pipes.Exists(p => p.Open))
                {
                    if (Poll(-1, pipes, capture, TimeSpan.FromSeconds(5) - drain.Elapsed) == Readiness.TimedOut)
                    {
                        throw new AgentException("output pipes stayed open after every process was killed");
                    }
                }
            }

            var usage = container.Cgroup.End(start);
            if (usage.PeakMemoryBytes < 0)
            {
                // A kernel without a cgroup memory peak (v2 before Linux 5.19): the program's largest resident set and
                // that of the children it waited for (wait4's figure), which leaves out processes it did not wait for,
                // files in tmpfs and memory the kernel used for the run. A resident set also counts the pages of shared
                // libraries and the interpreter that the run's cgroup was never charged for, so it can pass the limit
                // the run could not (measured: 67,448 KB for a run stopped at 64 MiB): it is capped at the limit.
                usage = usage with { PeakMemoryBytes = Math.Min(Math.Max(0, reply.MaxRssKb) * 1024, limits.MemoryBytes) };
            }

            return new ProcessOutcome(reply, usage, (long)wallTime.TotalMilliseconds, capture.Bytes(spec.StdoutKind), spec.MergeStderr ? ReadOnlyMemory<byte>.Empty : capture.Bytes(spec.StderrKind), capture.Truncated, (KillReason)killed);
        }
        finally
        {
            stdoutRead.Dispose();
            stderrRead?.Dispose();
        }
    }

    private enum Readiness
    {
        TimedOut,
        Pipes,
        Agent,
    }

    /// <summary>
    /// Waits until the agent (when <paramref name="agentFd"/> is not -1) or an open pipe is ready and reads every ready
    /// pipe until it would block. Says whether the agent has something to read, or that <paramref name="timeout"/> passed.
    /// </summary>
    private static unsafe Readiness Poll(int agentFd, List<OutputPipe> pipes, OutputCapture capture, TimeSpan timeout)
    {
        var fds = stackalloc Native.PollFd[3];
        // Which pipe each polled descriptor is (-1: the agent); no allocation in the run loop.
        var which = stackalloc int[3];
        var count = 0;
        if (agentFd >= 0)
        {
            which[count] = -1;
            fds[count++] = new Native.PollFd { Fd = agentFd, Events = Native.POLLIN };
        }

        for (var p = 0; p < pipes.Count; p++)
        {
            if (pipes[p].Open)
            {
                which[count] = p;
                fds[count++] = new Native.PollFd { Fd = (int)pipes[p].Handle.DangerousGetHandle(), Events = Native.POLLIN };
            }
        }

        var ms = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);
        int n;
        do
        {
            n = Native.poll(fds, (nuint)count, ms);
        }
        while (n < 0 && Marshal.GetLastPInvokeError() == Native.EINTR);

        if (n < 0)
        {
            throw new AgentException($"poll failed: {Native.LastError()}");
        }

        if (n == 0)
        {
            return Readiness.TimedOut;
        }

        var result = Readiness.Pipes;
        for (var i = 0; i < count; i++)
        {
            if (fds[i].Revents == 0)
            {
                continue;
            }

            if (which[i] >= 0)
            {
                pipes[which[i]].ReadAvailable(capture);
            }
            else
            {
                result = Readiness.Agent;
            }
        }

        return result;
    }

    /// <summary>The host's read end of one output pipe, read only when poll() says it is ready (or nothing can write any more).</summary>
    private sealed class OutputPipe(SafeFileHandle handle, OutputStreamKind kind)
    {
        public SafeFileHandle Handle { get; } = handle;

        public OutputStreamKind Kind { get; } = kind;

        public bool Open { get; private set; } = true;

        /// <summary>
        /// One read: poll() reported the pipe readable or closed, so it returns at once (the descriptor stays blocking,
        /// which saves the fcntl calls and the extra read that would end in EAGAIN). The end flushes the stream's decoder.
        /// </summary>
        public unsafe void ReadAvailable(OutputCapture capture)
        {
            var buffer = capture.Buffer;
            var fd = (int)Handle.DangerousGetHandle();
            while (true)
            {
                nint n;
                fixed (byte* p = buffer)
                {
                    n = Native.read(fd, p, (nuint)buffer.Length);
                }

                if (n > 0)
                {
                    capture.Add(Kind, buffer.AsSpan(0, (int)n), end: false);
                    return;
                }

                if (n == 0)
                {
                    capture.Add(Kind, [], end: true);
                    Open = false;
                    return;
                }

                if (Marshal.GetLastPInvokeError() != Native.EINTR)
                {
                    throw new AgentException($"reading the program's output failed: {Native.LastError()}");
                }
            }
        }

        /// <summary>
        /// Reads what the pipe still holds and ends the stream, without waiting: only once no process can write to it
        /// any more (a writer still there would make this miss its later output).
        /// </summary>
        public unsafe void ReadRemaining(OutputCapture capture)
        {
            if (!Open)
            {
                return;
            }

            var fd = (int)Handle.DangerousGetHandle();
            int left;
            if (Native.ioctl(fd, Native.FIONREAD, &left) != 0)
            {
                throw new AgentException($"FIONREAD on the program's output failed: {Native.LastError()}");
            }

            var buffer = capture.Buffer;
            while (left > 0)
            {
                nint n;
                fixed (byte* p = buffer)
                {
                    n = Native.read(fd, p, (nuint)Math.Min(left, buffer.Length));
                }

                if (n <= 0)
                {
                    if (n < 0 && Marshal.GetLastPInvokeError() == Native.EINTR)
                    {
                        continue;
                    }

                    break;
                }

                capture.Add(Kind, buffer.AsSpan(0, (int)n), end: false);
                left -= (int)n;
            }

            capture.Add(Kind, [], end: true);
            Open = false;
        }
    }

    /// <summary>
    /// Keeps the bytes of each stream as they arrive, caps the total bytes kept, and (for a caller that streams) reports
    /// each read as a chunk with its exact bytes and its text, decoded as UTF-8 in order per stream.
    /// </summary>
    private sealed class OutputCapture(long limit, IProgress<OutputChunk>? output, Action onExceeded)
    {
        // Made with the first byte of output (most runs of a judge's loop print little, many nothing at all).
        private CapturedStream?[]? _streams;
        // Per worker thread, reused run after run: 64 KiB buffers would otherwise be large-object-heap allocations per run.
        [ThreadStatic]
        private static byte[]? t_buffer;
        [ThreadStatic]
        private static char[]? t_chars;

        private long _total;

        public byte[] Buffer { get; } = t_buffer ??= new byte[65536];

        public bool Truncated { get; private set; }

        /// <summary>The bytes kept of one stream (they stay valid and unchanged: later output is never written over them).</summary>
        public ReadOnlyMemory<byte> Bytes(OutputStreamKind kind) => _streams?[(int)kind] is { } stream ? stream.Kept : ReadOnlyMemory<byte>.Empty;

        public void Add(OutputStreamKind kind, ReadOnlySpan<byte> bytes, bool end)
        {
            var keep = bytes.Length;
            var exceeded = false;
            if (Truncated)
            {
                keep = 0;
            }
            else if (_total + bytes.Length > limit)
            {
                keep = (int)(limit - _total);
                Truncated = true;
                exceeded = true;
            }

            _total += keep;
            var stream = _streams?[(int)kind];
            if (keep > 0)
            {
                _streams ??= new CapturedStream?[3];
                stream = _streams[(int)kind] ??= new CapturedStream(limit);
            }

            // A stream that ends without a byte kept has nothing to report (and nothing for its decoder to flush).
            if (stream is not null && (keep > 0 || end || exceeded))
            {
                var added = stream.Append(bytes[..keep]);
                if (output is not null)
                {
                    // The decoder only serves a caller that streams: the result's text is decoded once, from the bytes.
                    stream.Decoder ??= new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
                    var chars = t_chars ??= new char[65536 + 4];
                    var count = stream.Decoder.GetChars(bytes[..keep], chars, flush: end || exceeded);
                    // Reported whenever bytes arrived, even before they make a whole character: a consumer of bytes loses nothing.
                    if (count > 0 || keep > 0)
                    {
                        output.Report(new OutputChunk(kind, count > 0 ? new string(chars, 0, count) : "", added));
                    }
                }
            }

            if (exceeded)
            {
                onExceeded();
            }
        }
    }

    /// <summary>One stream's bytes, in an array that grows by doubling up to the output limit.</summary>
    private sealed class CapturedStream(long limit)
    {
        private byte[] _bytes = [];
        private int _length;

        public Decoder? Decoder { get; set; }

        public ReadOnlyMemory<byte> Kept => _bytes.AsMemory(0, _length);

        /// <summary>Appends <paramref name="bytes"/> and returns where they now are.</summary>
        public ReadOnlyMemory<byte> Append(ReadOnlySpan<byte> bytes)
        {
            if (bytes.IsEmpty)
            {
                return ReadOnlyMemory<byte>.Empty;
            }

            var needed = _length + bytes.Length;
            if (needed > _bytes.Length)
            {
                // A new array rather than a resize in place: chunks already reported point into the old one.
                var capacity = (int)Math.Min(Math.Min(Math.Max(Math.Max(64, needed), (long)_bytes.Length * 2), Math.Max(limit, needed)), Array.MaxLength);
                var grown = new byte[capacity];
                _bytes.AsSpan(0, _length).CopyTo(grown);
                _bytes = grown;
            }

            bytes.CopyTo(_bytes.AsSpan(_length));
            var added = _bytes.AsMemory(_length, bytes.Length);
            _length = needed;
            return added;
        }
    }
}
