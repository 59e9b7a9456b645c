using System.Collections.Concurrent;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Tests.Fakes;
using Sandbox.Remote.Tests.Infrastructure;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Remote.Tests.Behaviour;

/// <summary>
/// What every <see cref="ISandboxRpc"/> must do, whether in-process or over a WebSocket to a runner host.
/// One subclass per implementation; both run every test here.
/// </summary>
public abstract class SandboxRpcBehaviourTests : IAsyncLifetime
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create();

    /// <summary>Slots 2, queue 2, default maximum limits.</summary>
    internal static readonly RpcSettings DefaultSettings = new(Slots: 2, MaxQueue: 2, MaxLimits: new ResourceLimits());

    internal FakeEngine Engine { get; } = new(slots: 2);

    internal ISandboxRpc Rpc { get; private set; } = null!;

    /// <summary>The in-process runner behind <see cref="Rpc"/> (directly, or inside the host), to observe its queue.</summary>
    internal InProcessSandboxRpc Runner { get; private set; } = null!;

    protected CancellationToken Timeout => timeout.Token;

    internal abstract Task<(ISandboxRpc Rpc, InProcessSandboxRpc Runner)> StartAsync(FakeEngine engine, RpcSettings settings, CancellationToken cancellationToken);

    protected abstract ValueTask StopAsync();

    public async Task InitializeAsync() => (Rpc, Runner) = await StartAsync(Engine, DefaultSettings, Timeout);

    public async Task DisposeAsync()
    {
        Engine.ReleaseGate();
        await StopAsync();
        timeout.Dispose();
    }

    [Fact]
    public async Task Run_Echo_ReturnsTheEnginesResult()
    {
        var result = await Rpc.RunAsync(new RunParams("python", "echo:hi"), null, Timeout).Within(Timeout);

        Assert.Equal(RunVerdict.Ok, result.Verdict);
        Assert.Equal("hi", result.Stdout);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Run_ManyChunks_StreamsEveryChunkInOrderBeforeTheResult()
    {
        var received = new ConcurrentQueue<OutputEvent>();

        var result = await Rpc.RunAsync(new RunParams("python", "chunks:500"), new Recorder<OutputEvent>(received.Enqueue), Timeout).Within(Timeout);

        var events = received.ToList();
        Assert.Equal(500, events.Count);
        Assert.Equal(result.Stdout, string.Concat(events.Select(e => e.Text)));
        Assert.Equal(OutputStreamKind.Stderr, events[9].Stream);
        Assert.Equal(OutputStreamKind.Stdout, events[10].Stream);
    }

    [Fact]
    public async Task Run_AliasLanguage_PassesTheCatalogIdToTheEngine()
    {
        await Rpc.RunAsync(new RunParams("PY", "echo:x"), null, Timeout).Within(Timeout);

        Assert.Equal("python", Assert.Single(Engine.Requests).Language);
    }

    [Fact]
    public async Task Run_Stdin_ReachesTheEngine()
    {
        var result = await Rpc.RunAsync(new RunParams("python", "cat", Stdin: "1 2\n"), null, Timeout).Within(Timeout);

        Assert.Equal("1 2\n", result.Stdout);
    }

    [Fact]
    public async Task Run_NonOkVerdict_RoundTrips()
    {
        var result = await Rpc.RunAsync(new RunParams("python", "verdict:time-limit"), null, Timeout).Within(Timeout);

        Assert.Equal(RunVerdict.TimeLimit, result.Verdict);
        Assert.Equal(9, result.Signal);
        Assert.Null(result.ExitCode);
    }

    [Fact]
    public async Task Run_UnknownLanguage_ThrowsUnknownLanguageNamingTheOffer()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.RunAsync(new RunParams("cobol", "x"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.UnknownLanguage, error.Code);
        Assert.Contains("cobol", error.Message, StringComparison.Ordinal);
        Assert.Contains("python", error.Message, StringComparison.Ordinal);
        Assert.Empty(Engine.Requests);
    }

    [Fact]
    public async Task Run_LimitAboveMaximum_IsRefusedBeforeTheEngineRuns()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() =>
            Rpc.RunAsync(new RunParams("python", "echo:x", Limits: new LimitOverrides(TimeLimitSeconds: 60)), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.LimitsAboveMaximum, error.Code);
        Assert.Contains("time limit", error.Message, StringComparison.Ordinal);
        Assert.Empty(Engine.Requests);
    }

    [Theory]
    [InlineData(1e12, SandboxErrorCode.LimitsAboveMaximum)]
    [InlineData(1e20, SandboxErrorCode.LimitsAboveMaximum)]
    [InlineData(double.MaxValue, SandboxErrorCode.LimitsAboveMaximum)]
    [InlineData(-1e20, SandboxErrorCode.InvalidRequest)]
    public async Task Run_TimeLimitBeyondWhatATimeSpanHolds_IsRefusedNotAnInternalError(double seconds, SandboxErrorCode expected)
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() =>
            Rpc.RunAsync(new RunParams("python", "echo:x", Limits: new LimitOverrides(TimeLimitSeconds: seconds)), null, Timeout).Within(Timeout));

        Assert.Equal(expected, error.Code);
        Assert.Empty(Engine.Requests);
    }

    [Fact]
    public async Task Run_MemoryAboveMaximum_IsRefused()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() =>
            Rpc.RunAsync(new RunParams("python", "echo:x", Limits: new LimitOverrides(MemoryLimitMb: 100_000)), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.LimitsAboveMaximum, error.Code);
    }

    [Fact]
    public async Task Run_LowerLimits_ReachTheEngine()
    {
        await Rpc.RunAsync(new RunParams("python", "echo:x", Limits: new LimitOverrides(TimeLimitSeconds: 1, MemoryLimitMb: 64)), null, Timeout).Within(Timeout);

        var limits = Assert.Single(Engine.Requests).Limits;
        Assert.Equal(1, limits?.TimeLimitSeconds);
        Assert.Equal(64, limits?.MemoryLimitMb);
    }

    [Fact]
    public async Task Run_NegativeLimit_IsAnInvalidRequest()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() =>
            Rpc.RunAsync(new RunParams("python", "echo:x", Limits: new LimitOverrides(MemoryLimitMb: -1)), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.InvalidRequest, error.Code);
    }

    [Fact]
    public async Task Run_EngineFails_ThrowsInternalWithoutDetailsOrStackTrace()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.RunAsync(new RunParams("python", "fail"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.Internal, error.Code);
        Assert.DoesNotContain("/var/lib", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error.Message, StringComparison.Ordinal);
        Assert.Contains("log", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SandboxUnavailable_PassesTheFixOn()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.RunAsync(new RunParams("python", "unavailable"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.SandboxUnavailable, error.Code);
        Assert.Contains("apt-get install lxc", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_RunningRun_CancelsTheEnginesTokenAndTheRunEndsCancelled()
    {
        var run = Rpc.RunAsync(new RunParams("python", "block", RunId: "r1"), null, Timeout);
        var started = await Engine.Started.Reader.ReadAsync(Timeout);

        var cancel = await Rpc.CancelAsync(new CancelParams("r1"), Timeout).Within(Timeout);

        Assert.True(cancel.Cancelled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Within(Timeout));
        Assert.True(started.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Cancel_QueuedRun_RemovesItFromTheQueue()
    {
        var first = Rpc.RunAsync(new RunParams("python", "block", RunId: "a"), null, Timeout);
        var second = Rpc.RunAsync(new RunParams("python", "block", RunId: "b"), null, Timeout);
        await Engine.Started.Reader.ReadAsync(Timeout);
        await Engine.Started.Reader.ReadAsync(Timeout);
        var queued = Rpc.RunAsync(new RunParams("python", "echo:never", RunId: "c"), null, Timeout);
        await WaitUntilAsync(() => Runner.Queued == 1);

        Assert.True((await Rpc.CancelAsync(new CancelParams("c"), Timeout).Within(Timeout)).Cancelled);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.Within(Timeout));
        Assert.Equal(0, Runner.Queued);
        Assert.DoesNotContain(Engine.Requests, r => r.Source == "echo:never");
        await Rpc.CancelAsync(new CancelParams("a"), Timeout).Within(Timeout);
        await Rpc.CancelAsync(new CancelParams("b"), Timeout).Within(Timeout);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Within(Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.Within(Timeout));
    }

    [Fact]
    public async Task Cancel_UnknownRunId_ReturnsFalse()
    {
        var cancel = await Rpc.CancelAsync(new CancelParams("nope"), Timeout).Within(Timeout);

        Assert.False(cancel.Cancelled);
    }

    [Fact]
    public async Task Run_CallerCancelsItsToken_TheEnginesTokenIsCancelled()
    {
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var run = Rpc.RunAsync(new RunParams("python", "block"), null, caller.Token);
        var started = await Engine.Started.Reader.ReadAsync(Timeout);

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
        await WaitUntilAsync(() => started.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Run_DuplicateRunIdWhileRunning_IsAnInvalidRequest()
    {
        var first = Rpc.RunAsync(new RunParams("python", "block", RunId: "same"), null, Timeout);
        await Engine.Started.Reader.ReadAsync(Timeout);

        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.RunAsync(new RunParams("python", "echo:x", RunId: "same"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.InvalidRequest, error.Code);
        await Rpc.CancelAsync(new CancelParams("same"), Timeout).Within(Timeout);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Within(Timeout));
    }

    [Fact]
    public async Task Run_QueueFull_ThrowsHostBusyAtOnce()
    {
        var running = new[]
        {
            Rpc.RunAsync(new RunParams("python", "gate"), null, Timeout),
            Rpc.RunAsync(new RunParams("python", "gate"), null, Timeout),
        };
        await Engine.Started.Reader.ReadAsync(Timeout);
        await Engine.Started.Reader.ReadAsync(Timeout);
        var waiting = new[]
        {
            Rpc.RunAsync(new RunParams("python", "gate"), null, Timeout),
            Rpc.RunAsync(new RunParams("python", "gate"), null, Timeout),
        };
        await WaitUntilAsync(() => Runner.Queued == 2);

        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.RunAsync(new RunParams("python", "echo:x"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.HostBusy, error.Code);
        Engine.ReleaseGate();
        foreach (var run in running.Concat(waiting))
        {
            Assert.Equal("gate", (await run.Within(Timeout)).Stdout);
        }
    }

    [Fact]
    public async Task Check_Problem_StreamsEachTestAndReturnsTheVerdict()
    {
        var received = new ConcurrentQueue<TestResult>();

        var result = await Rpc.CheckAsync(new CheckParams("python", "wrong", Problem: "sum"), new Recorder<TestResult>(received.Enqueue), Timeout).Within(Timeout);

        Assert.Equal(TestVerdict.WrongAnswer, result.Verdict);
        Assert.Equal(2, result.Passed);
        Assert.Equal(3, result.Total);
        Assert.Equal(["sample/1", "secret/2", "secret/3"], received.Select(t => t.Name));
        Assert.True(received.First().Sample);
        Assert.Equal(TestVerdict.WrongAnswer, received.Last().Verdict);
    }

    [Fact]
    public async Task Check_AdHoc_UsesTheGivenStdinAndExpectedOutput()
    {
        var result = await Rpc.CheckAsync(new CheckParams("python", "x", Stdin: "3\n", ExpectedStdout: "3\n"), null, Timeout).Within(Timeout);

        Assert.Equal(TestVerdict.Accepted, result.Verdict);
        Assert.Equal("ad-hoc", Assert.Single(result.Tests).Name);
    }

    [Fact]
    public async Task Check_NeitherProblemNorExpectedOutput_IsAnInvalidRequest()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.CheckAsync(new CheckParams("python", "x"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.InvalidRequest, error.Code);
    }

    [Fact]
    public async Task Check_UnknownProblem_ThrowsUnknownProblem()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.CheckAsync(new CheckParams("python", "x", Problem: "nope"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.UnknownProblem, error.Code);
        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_MalformedProblem_ThrowsBadProblemNamingTheFile()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.CheckAsync(new CheckParams("python", "x", Problem: "broken"), null, Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.BadProblem, error.Code);
        Assert.Contains("problems/broken.yaml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Cancel_CancelsTheJudge()
    {
        var check = Rpc.CheckAsync(new CheckParams("python", "block", Problem: "sum", RunId: "k"), null, Timeout);
        var started = await Engine.Started.Reader.ReadAsync(Timeout);

        Assert.True((await Rpc.CancelAsync(new CancelParams("k"), Timeout).Within(Timeout)).Cancelled);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check.Within(Timeout));
        Assert.True(started.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Languages_ListsTheAvailableLanguages()
    {
        var languages = await Rpc.LanguagesAsync(Timeout).Within(Timeout);

        Assert.Equal(["python", "cpp"], languages.Languages.Select(l => l.Id));
        Assert.Equal(["py", "python3"], languages.Languages[0].Aliases);
        Assert.Equal("#", languages.Languages[0].LineComment);
    }

    [Fact]
    public async Task Problems_ListsMetadataOnly()
    {
        var problems = await Rpc.ProblemsAsync(Timeout).Within(Timeout);

        var sum = Assert.Single(problems.Problems);
        Assert.Equal(new ProblemSummary("sum", "Sum of two numbers", 1, 2), sum);
    }

    [Fact]
    public async Task Problem_Known_ReturnsStatementAndSamples()
    {
        var problem = await Rpc.ProblemAsync(new ProblemParams("sum"), Timeout).Within(Timeout);

        Assert.Equal("Add *a* and *b*.", problem.StatementMarkdown);
        Assert.Equal("1 2\n", Assert.Single(problem.Samples).Input);
        Assert.Equal(2, problem.HiddenTests);
    }

    [Fact]
    public async Task Problem_Unknown_ThrowsUnknownProblem()
    {
        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => Rpc.ProblemAsync(new ProblemParams("nope"), Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.UnknownProblem, error.Code);
    }

    protected async Task WaitUntilAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(5, Timeout);
        }
    }

    /// <summary>Slot and queue settings for one test class.</summary>
    internal sealed record RpcSettings(int Slots, int MaxQueue, ResourceLimits MaxLimits);

    /// <summary>Records progress on the reporting thread (Progress&lt;T&gt; would post and reorder).</summary>
    internal sealed class Recorder<T>(Action<T> record) : IProgress<T>
    {
        public void Report(T value) => record(value);
    }
}
