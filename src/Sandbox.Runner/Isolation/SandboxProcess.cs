using System.Diagnostics;
using System.IO.Pipes;
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
    AfterExit After);

/// <summary>How a process ended, with everything it wrote (up to the output limit) and what it used.</summary>
internal sealed record ProcessOutcome(
    AgentRunReply Reply,
    CgroupUsage Usage,
    long WallTimeMs,
    string Stdout,
    string Stderr,
    bool OutputTruncated,
    KillReason Killed);

/// <summary>Runs one process in a container through its agent, with output streamed straight from the pipes.</summary>
internal static class SandboxProcess
{
    private static readonly Lazy<SafeFileHandle> EmptyStdin = new(() => Native.SealedMemfd("stdin", []));

    private static readonly string[] Environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LANG=C.UTF-8"];

    public static async Task<ProcessOutcome> RunAsync(Container container, ProcessSpec spec, int runUid, IProgress<OutputChunk>? output, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var limits = spec.Limits;
        container.Cgroup.Apply(limits);
        var start = container.Cgroup.Begin();

        var (stdoutRead, stdoutWrite) = Native.Pipe();
        var (stderrRead, stderrWrite) = spec.MergeStderr ? (null, null) : Native.Pipe();
        // Most runs read no input: they share one sealed empty file (nothing can be written to it or read from it).
        using var ownStdin = spec.Stdin.IsEmpty ? null : Native.SealedMemfd("stdin", spec.Stdin.Span);
        var stdin = ownStdin ?? EmptyStdin.Value;
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
        var pumpOut = capture.PumpAsync(stdoutRead, spec.StdoutKind);
        var pumpErr = stderrRead is null ? Task.CompletedTask : capture.PumpAsync(stderrRead, spec.StderrKind);

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
            Processes: (ulong)limits.Processes);

        AgentRunReply reply;
        var clock = Stopwatch.StartNew();
        using (var wall = new CancellationTokenSource(limits.WallTime))
        using (wall.Token.Register(() => Kill(KillReason.WallTime)))
        using (cancellationToken.Register(() => Kill(KillReason.Cancelled)))
        {
            try
            {
                reply = await container.Agent.RunAsync(spec2, stdin, stdoutWrite, stderrWrite ?? stdoutWrite, container.Cgroup.ProcsHandles);
            }
            finally
            {
                stdoutWrite.Dispose();
                stderrWrite?.Dispose();
            }
        }

        clock.Stop();

        // Whatever the program left running still holds its stdout: kill it first, then read the output to its end.
        if (spec.After == AfterExit.Reset)
        {
            container.Agent.Reset(TimeSpan.FromSeconds(10));
        }
        else
        {
            container.Agent.KillAll(TimeSpan.FromSeconds(10));
        }

        var drained = Task.WhenAll(pumpOut, pumpErr);
        if (await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)) != drained)
        {
            throw new AgentException("output pipes stayed open after every process was killed");
        }

        await drained;
        stdoutRead.Dispose();
        stderrRead?.Dispose();
        var usage = container.Cgroup.End(start);
        return new ProcessOutcome(reply, usage, clock.ElapsedMilliseconds, capture.Text(spec.StdoutKind), spec.MergeStderr ? "" : capture.Text(spec.StderrKind), capture.Truncated, (KillReason)killed);
    }

    /// <summary>Reads both pipes as they fill, reports chunks in order per stream, caps the total bytes kept.</summary>
    private sealed class OutputCapture(long limit, IProgress<OutputChunk>? output, Action onExceeded)
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<OutputStreamKind, StringBuilder> _text = [];
        private long _total;

        public bool Truncated { get; private set; }

        public string Text(OutputStreamKind kind)
        {
            lock (_gate)
            {
                return _text.TryGetValue(kind, out var sb) ? sb.ToString() : "";
            }
        }

        /// <summary>Reads a pipe to its end asynchronously (epoll through PipeStream's socket; no thread waits).</summary>
        public async Task PumpAsync(SafeFileHandle pipe, OutputStreamKind kind)
        {
            var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
            var buffer = new byte[65536];
            var chars = new char[65536 + 4];
            // The pipe stream must own its descriptor: disposing one over a borrowed handle never returns (.NET 10).
            var handle = new SafePipeHandle(pipe.DangerousGetHandle(), ownsHandle: true);
            pipe.SetHandleAsInvalid();
            await using var stream = new AnonymousPipeClientStream(PipeDirection.In, handle);
            while (true)
            {
                var n = await stream.ReadAsync(buffer, CancellationToken.None);
                var keep = n;
                var exceeded = false;
                lock (_gate)
                {
                    if (Truncated)
                    {
                        keep = 0;
                    }
                    else if (_total + n > limit)
                    {
                        keep = (int)(limit - _total);
                        Truncated = true;
                        exceeded = true;
                    }

                    _total += keep;
                }

                var flush = n == 0 || exceeded;
                if (keep > 0 || flush)
                {
                    var count = decoder.GetChars(buffer, 0, keep, chars, 0, flush);
                    if (count > 0)
                    {
                        var text = new string(chars, 0, count);
                        lock (_gate)
                        {
                            if (!_text.TryGetValue(kind, out var sb))
                            {
                                _text[kind] = sb = new StringBuilder();
                            }

                            sb.Append(text);
                        }

                        output?.Report(new OutputChunk(kind, text));
                    }
                }

                if (exceeded)
                {
                    onExceeded();
                }

                if (n == 0)
                {
                    return;
                }
            }
        }
    }
}
