using System.Buffers.Binary;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Isolation;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>
/// The agent fails closed: a request it must not carry out is refused, traffic it does not understand ends the
/// connection, and a container whose agent is gone or in doubt is replaced; the engine keeps serving throughout.
/// </summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class AgentFailClosedTests(SandboxFixture sandbox)
{
    [Fact]
    public async Task RunRequest_AsRoot_IsRefusedBeforeAnythingStarts() =>
        await OnAContainerThenAllServeAsync((container, _) =>
        {
            var (outRead, outWrite) = Native.Pipe();
            using (outRead)
            using (outWrite)
            using (var stdin = Native.SealedMemfd("stdin", []))
            {
                var spec = new AgentRunSpec(["/bin/sh", "-c", "id -u"], ["PATH=/usr/bin:/bin"], "/box/work", Uid: 0, Gid: 0, 1, 1 << 20, 64, 8 << 20, 16);
                container.Agent.SendRun(spec, stdin, outWrite, outWrite, container.Cgroup.ProcsHandles);
                var reply = container.Agent.ReceiveRunReply();
                Assert.False(reply.Started);
                Assert.Equal(AgentStage.Request, reply.Stage);
                Assert.Equal(22, reply.Errno);
                Assert.Equal(0, reply.Pid);
            }

            Assert.True(container.Cgroup.IsEmpty());
            return Task.CompletedTask;
        });

    [Fact]
    public async Task RunRequest_WithoutARunCgroup_IsRefusedBeforeAnythingStarts() =>
        await OnAContainerThenAllServeAsync((container, _) =>
        {
            // No cgroup descriptor with the run: it would escape the run's limits and accounting.
            var reply = Refused(spec => container.Agent.SendRun(spec.Spec, spec.Stdin, spec.Stdout, spec.Stdout, []), container.Agent);
            Assert.Equal(AgentStage.Request, reply.Stage);
            Assert.Equal(22, reply.Errno);
            return Task.CompletedTask;
        });

    [Fact]
    public async Task RunRequest_UsingStoredCgroups_OnAConnectionThatNeverPassedThem_IsRefused() =>
        await AssertReplacedAfterAsync(container =>
        {
            // A new connection starts with nothing stored: the agent forgets the last host's descriptors.
            container.Agent.Dispose();
            using var fresh = AgentConnection.Connect(container.SocketPath);
            var reply = Refused(spec => fresh.SendRunWithStoredCgroups(spec.Spec, spec.Stdin, spec.Stdout, spec.Stdout), fresh);
            Assert.Equal(AgentStage.Request, reply.Stage);
            Assert.Equal(22, reply.Errno);
            Assert.Equal(1, fresh.Ping(TimeSpan.FromSeconds(10)));
        });

    [Fact]
    public async Task FileSentAhead_ThatCannotBeCreated_FailsTheNextRunBeforeItStarts_AndOnlyThatRun() =>
        await OnAContainerThenAllServeAsync(async (container, cancellationToken) =>
        {
            // The second file of the same name cannot be created (O_EXCL): the run that follows is not started.
            container.Agent.SendPut("twice", "first"u8, 0b110_100_100, 1000, 1000);
            container.Agent.SendPut("twice", "second"u8, 0b110_100_100, 1000, 1000);
            var reply = Refused(spec => container.Agent.SendRun(spec.Spec, spec.Stdin, spec.Stdout, spec.Stdout, container.Cgroup.ProcsHandles), container.Agent);
            Assert.Equal(AgentStage.Put, reply.Stage);
            Assert.Equal(17, reply.Errno);

            // A reset forgets it: the next files and run go through, and the first file is gone with the reset.
            container.Agent.Reset(TimeSpan.FromSeconds(10));
            container.Agent.SendPut("once", "fine"u8, 0b110_100_100, 1000, 1000);
            var (outRead, outWrite) = Native.Pipe();
            using (outRead)
            using (outWrite)
            using (var stdin = Native.SealedMemfd("stdin", []))
            {
                var spec = new AgentRunSpec(["/bin/sh", "-c", "cat once; ls"], ["PATH=/usr/bin:/bin"], "/box/work", 1000, 1000, 1, 1 << 20, 64, 8 << 20, 16, AgentAfter.Kill);
                container.Agent.SendRun(spec, stdin, outWrite, outWrite, container.Cgroup.ProcsHandles);
                outWrite.Dispose();
                var reply2 = container.Agent.ReceiveRunReply();
                Assert.True(reply2.Started);
                Assert.Equal(0, reply2.ExitCode);
                Assert.True(reply2.Cleaned);
                using var output = new FileStream(outRead, FileAccess.Read);
                using var reader = new StreamReader(output);
                Assert.Equal("fineonce\n", await reader.ReadToEndAsync(cancellationToken));
            }
        });

    [Theory]
    [InlineData("a file's length runs past the end", 1)]
    [InlineData("fewer files than said", 2)]
    [InlineData("bytes after the last file", 1)]
    [InlineData("bytes but no file said", 0)]
    public async Task RunRequest_WhoseFilesDoNotAddUp_IsRefused_AndNoneOfItsFilesIsPut(string malformation, uint count) =>
        await OnAContainerThenAllServeAsync(async (container, cancellationToken) =>
        {
            var file = FileRecord("planted", "x");
            byte[] files = malformation switch
            {
                "a file's length runs past the end" => [.. LengthPlus(file, 5)],
                "bytes after the last file" => [.. file, 1, 2, 3],
                _ => file,
            };
            var reply = Refused(spec => container.Agent.SendRunWithRawFiles(spec.Spec, spec.Stdout, container.Cgroup.ProcsHandles, count, files), container.Agent);
            Assert.Equal(AgentStage.Request, reply.Stage);
            Assert.Equal(22, reply.Errno);
            // The request was checked whole before any of it was acted on: its well-formed file is not there.
            Assert.Equal("", await ListWorkFolderAsync(container, cancellationToken));
        });

    [Fact]
    public async Task FileCarriedByARun_ThatCannotBePut_FailsThatRunBeforeItStarts()
    {
        await OnAContainerThenAllServeAsync(async (container, cancellationToken) =>
        {
            // Well-formed request, but the file's name leads out of the work folder: refused as a put, nothing runs.
            var reply = Refused(spec => container.Agent.SendRunWithRawFiles(spec.Spec, spec.Stdout, container.Cgroup.ProcsHandles, 1, FileRecord("../escaped", "x")), container.Agent);
            Assert.Equal(AgentStage.Put, reply.Stage);
            Assert.Equal(22, reply.Errno);
            Assert.Equal("", await ListWorkFolderAsync(container, cancellationToken));
        });

        // The same, well-formed and with a plain name: put, and the run reads it.
        await OnAContainerThenAllServeAsync(async (container, cancellationToken) =>
        {
            var (outRead, outWrite) = Native.Pipe();
            using (outRead)
            {
                using (outWrite)
                {
                    var spec = new AgentRunSpec(["/bin/sh", "-c", "cat carried"], ["PATH=/usr/bin:/bin"], "/box/work", 1000, 1000, 1, 1 << 20, 64, 8 << 20, 16, AgentAfter.Kill);
                    container.Agent.SendRunWithRawFiles(spec, outWrite, container.Cgroup.ProcsHandles, 1, FileRecord("carried", "content"));
                }

                var reply = container.Agent.ReceiveRunReply();
                Assert.True(reply.Started);
                Assert.Equal(0, reply.ExitCode);
                using var output = new FileStream(outRead, FileAccess.Read);
                using var reader = new StreamReader(output);
                Assert.Equal("content", await reader.ReadToEndAsync(cancellationToken));
            }
        });
    }

    /// <summary>One file of a RUN request's files part: its length, then a PUT_AHEAD payload with the content inline.</summary>
    private static byte[] FileRecord(string name, string content)
    {
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        var contentBytes = System.Text.Encoding.UTF8.GetBytes(content);
        var record = new byte[4 + 16 + nameBytes.Length + contentBytes.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(record.Length - 4));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), 0b110_100_100);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(16), (uint)nameBytes.Length);
        nameBytes.CopyTo(record.AsSpan(20));
        contentBytes.CopyTo(record.AsSpan(20 + nameBytes.Length));
        return record;
    }

    private static byte[] LengthPlus(byte[] record, uint extra)
    {
        var copy = (byte[])record.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy, BinaryPrimitives.ReadUInt32LittleEndian(copy) + extra);
        return copy;
    }

    /// <summary>What the work folder holds (`ls -A`), through a run on the container's agent that keeps the files.</summary>
    private static async Task<string> ListWorkFolderAsync(Container container, CancellationToken cancellationToken)
    {
        var (outRead, outWrite) = Native.Pipe();
        using (outRead)
        {
            using (outWrite)
            using (var stdin = Native.SealedMemfd("stdin", []))
            {
                var spec = new AgentRunSpec(["/bin/ls", "-A"], ["PATH=/usr/bin:/bin"], "/box/work", 1000, 1000, 1, 1 << 20, 64, 8 << 20, 16, AgentAfter.Kill);
                container.Agent.SendRun(spec, stdin, outWrite, outWrite, container.Cgroup.ProcsHandles);
            }

            var reply = container.Agent.ReceiveRunReply();
            Assert.True(reply.Started);
            Assert.Equal(0, reply.ExitCode);
            using var output = new FileStream(outRead, FileAccess.Read);
            using var reader = new StreamReader(output);
            return await reader.ReadToEndAsync(cancellationToken);
        }
    }

    /// <summary>Takes a container, does <paramref name="body"/> with it, gives it back; then every slot must serve.</summary>
    private async Task OnAContainerThenAllServeAsync(Func<Container, CancellationToken, Task> body)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var pool = await sandbox.Engine.PoolAsync(timeout.Token);
        var container = await pool.AcquireAsync(timeout.Token);
        try
        {
            await body(container, timeout.Token);
        }
        finally
        {
            pool.Release(container);
        }

        await AssertServesAsync(timeout.Token);
    }

    private sealed record RunPipes(AgentRunSpec Spec, Microsoft.Win32.SafeHandles.SafeFileHandle Stdin, Microsoft.Win32.SafeHandles.SafeFileHandle Stdout);

    /// <summary>Sends a run that must not start (through <paramref name="send"/>) and checks that nothing did.</summary>
    private static AgentRunReply Refused(Action<RunPipes> send, AgentConnection agent)
    {
        var (outRead, outWrite) = Native.Pipe();
        using (outRead)
        using (var stdin = Native.SealedMemfd("stdin", []))
        {
            using (outWrite)
            {
                var spec = new AgentRunSpec(["/bin/sh", "-c", "echo started"], ["PATH=/usr/bin:/bin"], "/box/work", 1000, 1000, 1, 1 << 20, 64, 8 << 20, 16, AgentAfter.Kill);
                send(new RunPipes(spec, stdin, outWrite));
            }

            var reply = agent.ReceiveRunReply();
            Assert.False(reply.Started);
            Assert.Equal(0, reply.Pid);
            Assert.False(reply.Cleaned);
            // Nothing ran, so nothing wrote; the agent let go of the pipe with its reply.
            using var output = new FileStream(outRead, FileAccess.Read);
            using var reader = new StreamReader(output);
            Assert.Equal("", reader.ReadToEnd());
            return reply;
        }
    }

    [Fact]
    public async Task Packet_WithAWrongMagic_EndsTheConnection_AndTheContainerIsReplaced() =>
        await AssertReplacedAfterAsync(container => AssertPingRefused(container, magic: 0xDEADBEEF, version: 1));

    [Fact]
    public async Task Packet_OfAnotherProtocolVersion_EndsTheConnection_AndTheContainerIsReplaced() =>
        // A PING as version 1 spoke it (before the RUN request grew its flags): a host and an agent of different
        // builds refuse each other instead of reading each other's requests wrongly.
        await AssertReplacedAfterAsync(container => AssertPingRefused(container, magic: 0x41584253, version: 1));

    /// <summary>
    /// Sends a PING header with <paramref name="magic"/> and <paramref name="version"/>: the agent answers nothing and
    /// drops the connection, so the next request fails instead of being guessed at.
    /// </summary>
    private static void AssertPingRefused(Container container, uint magic, uint version)
    {
        var packet = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(packet, magic);
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(4), version);
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(8), 1);
        container.Agent.SendRaw(packet);
        Assert.Throws<AgentException>(() => container.Agent.Ping(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Agent_KilledWhileIdle_ItsContainerIsReplaced() =>
        await AssertReplacedAfterAsync(container => Assert.Equal(0, Native.kill(container.InitPid, 9)));

    /// <summary>Takes a container, does <paramref name="spoil"/> to it, gives it back: the pool replaces it and serves on.</summary>
    private async Task AssertReplacedAfterAsync(Action<Container> spoil)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var pool = await sandbox.Engine.PoolAsync(timeout.Token);
        var container = await pool.AcquireAsync(timeout.Token);
        var name = container.Name;
        try
        {
            spoil(container);
        }
        finally
        {
            pool.Release(container);
        }

        Assert.DoesNotContain(name, pool.ContainerNames);
        Assert.Equal(pool.Slots, pool.ContainerNames.Count);
        await AssertServesAsync(timeout.Token);
    }

    [Fact]
    public async Task Agent_KilledDuringARun_TheRunIsAnInternalError_AndItsContainerIsReplaced()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var pool = await sandbox.Engine.PoolAsync(timeout.Token);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new SyncProgress(chunk =>
        {
            if (chunk.Text.Contains("started", StringComparison.Ordinal))
            {
                started.TrySetResult();
            }
        });
        var run = sandbox.Runner.RunAsync(new RunRequest("bash", "echo started; sleep 60"), progress, timeout.Token);
        await started.Task.WaitAsync(timeout.Token);
        var busy = pool.Containers.Single(c => !c.Cgroup.IsEmpty());
        Assert.Equal(0, Native.kill(busy.InitPid, 9));

        var result = await run.WaitAsync(TimeSpan.FromSeconds(30), timeout.Token);
        // Never disguised as a result of the program: the engine says it failed.
        Assert.Equal(RunVerdict.InternalError, result.Verdict);
        Assert.DoesNotContain(busy.Name, pool.ContainerNames);
        Assert.Equal(pool.Slots, pool.ContainerNames.Count);
        await AssertServesAsync(timeout.Token);
    }

    private sealed class SyncProgress(Action<OutputChunk> report) : IProgress<OutputChunk>
    {
        public void Report(OutputChunk value) => report(value);
    }

    /// <summary>Every slot serves: as many runs at once as there are slots, twice over, all ok.</summary>
    private async Task AssertServesAsync(CancellationToken cancellationToken)
    {
        var runs = Enumerable.Range(0, sandbox.Options.Slots * 2)
            .Select(i => sandbox.Runner.RunAsync(new RunRequest("bash", $"echo run {i}"), null, cancellationToken));
        var results = await Task.WhenAll(runs);
        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].Verdict == RunVerdict.Ok, results[i].ToString());
            Assert.Equal($"run {i}\n", results[i].Stdout);
        }
    }
}
