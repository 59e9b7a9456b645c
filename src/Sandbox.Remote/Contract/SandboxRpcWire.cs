using System.Text.Json.Serialization;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Remote.Contract;

/// <summary>
/// What a runner host exposes at <c>/rpc</c>: <see cref="ISandboxRpc"/> without the <see cref="IProgress{T}"/>
/// parameters, which travel as <see cref="SandboxRpcMethods.Output"/> and <see cref="SandboxRpcMethods.TestResult"/>
/// notifications keyed by run id instead. Every request takes one parameter object (or none); wire names come from
/// <see cref="SandboxRpcMethods.FromClrName"/>. See docs/runner-host.md for the exact JSON.
/// </summary>
public interface ISandboxRpcWire
{
    /// <summary><c>run</c>: output chunks arrive as <c>output</c> notifications before the response.</summary>
    Task<RunResult> RunAsync(RunParams request, CancellationToken cancellationToken);

    /// <summary><c>check</c>: test results arrive as <c>testResult</c> notifications before the response.</summary>
    Task<CheckResult> CheckAsync(CheckParams request, CancellationToken cancellationToken);

    /// <summary><c>cancel</c>: cancels a run or check this connection started.</summary>
    Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken);

    /// <summary><c>languages</c>.</summary>
    Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken);

    /// <summary><c>problems</c>.</summary>
    Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken);

    /// <summary><c>problem</c>.</summary>
    Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken);
}

/// <summary>Params of the <c>output</c> notification: one chunk of a run's output, in the order written.</summary>
/// <param name="RunId">The run it belongs to (the request's <c>runId</c>, or the one the host made).</param>
/// <param name="Stream"><c>stdout</c>, <c>stderr</c> or <c>compile</c>.</param>
/// <param name="Text">The text.</param>
/// <param name="Bytes">
/// <c>base64</c>: exactly the bytes of the chunk, present only when they are not the UTF-8 of <paramref name="Text"/>
/// (see <see cref="OutputEvent.Bytes"/>); a client that only wants text ignores it.
/// </param>
public sealed record OutputNotification(string RunId, OutputStreamKind Stream, string Text, [property: JsonPropertyName("base64")] ReadOnlyMemory<byte>? Bytes = null);

/// <summary>Params of the <c>testResult</c> notification: one test of a check is done. Never carries hidden data.</summary>
public sealed record TestResultNotification(
    string RunId,
    string Name,
    bool Sample,
    TestVerdict Verdict,
    long TimeMs,
    long MemoryKb,
    string? Detail = null)
{
    /// <summary>Builds the notification for a test result.</summary>
    public static TestResultNotification From(string runId, TestResult test) =>
        new(runId, test.Name, test.Sample, test.Verdict, test.TimeMs, test.MemoryKb, test.Detail);

    /// <summary>The test result this notification carries.</summary>
    public TestResult ToTestResult() => new(Name, Sample, Verdict, TimeMs, MemoryKb, Detail);
}
