using System.Text.Json;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Remote.Queue;

/// <summary>
/// The subjects of the work queue (docs/scaling-out.md has the whole exchange):
/// <list type="bullet">
/// <item><c>P.jobs</c>: the JetStream work-queue stream's subject; clients publish <see cref="QueueJob"/>s, hosts pull them.</item>
/// <item><c>P.job.ID</c>: one job's events, host to client, in order. <c>started</c>, <c>ping</c> and the final
/// <c>result</c> or <c>error</c> are requests the client answers with <see cref="QueueSubjects.Go"/> or <see cref="QueueSubjects.Gone"/>;
/// a subject nobody listens on means the client is gone.</item>
/// <item><c>P.cancel.ID</c>: a client cancels its job; every host listens.</item>
/// <item><c>P.api.languages</c>, <c>P.api.problems</c>, <c>P.api.problem</c>: metadata requests, answered by one host.</item>
/// </list>
/// </summary>
public sealed class QueueSubjects(string prefix)
{
    /// <summary>The client's answer to a host's request: carry on.</summary>
    public const string Go = "go";

    /// <summary>The client's answer to a host's request: this attempt is not wanted (the client moved on or cancelled).</summary>
    public const string Gone = "gone";

    /// <summary>The prefix, e.g. <c>sandbox</c>.</summary>
    public string Prefix { get; } = prefix;

    /// <summary>The work-queue stream's subject.</summary>
    public string Jobs => $"{Prefix}.jobs";

    /// <summary>The JetStream stream holding pending and running jobs.</summary>
    public string Stream => $"{Prefix.ToUpperInvariant().Replace('-', '_')}_JOBS";

    /// <summary>The durable pull consumer every host shares.</summary>
    public string Consumer => "hosts";

    /// <summary>The queue group of hosts answering metadata requests.</summary>
    public string HostGroup => $"{Prefix}-hosts";

    /// <summary>One job's event subject.</summary>
    public string Job(string jobId) => $"{Prefix}.job.{jobId}";

    /// <summary>One job's cancel subject.</summary>
    public string Cancel(string jobId) => $"{Prefix}.cancel.{jobId}";

    /// <summary>Every job's cancel subject (a host subscribes).</summary>
    public string AnyCancel => $"{Prefix}.cancel.*";

    /// <summary>A metadata request subject (<c>languages</c>, <c>problems</c>, <c>problem</c>).</summary>
    public string Api(string method) => $"{Prefix}.api.{method}";
}

/// <summary>What a job asks for.</summary>
public enum QueueJobKind
{
    /// <summary>A <c>run</c>.</summary>
    Run,

    /// <summary>A <c>check</c> against a problem the hosts hold (or an ad-hoc pair the client sent).</summary>
    Check,
}

/// <summary>
/// A job on the stream. It names a problem by id and never carries its tests: hidden tests stay on the hosts.
/// Its limits are the client's wish; each host clamps them to its own maximum.
/// </summary>
/// <param name="JobId">Unique id (also the stream's de-duplication id and the subject of its events).</param>
/// <param name="Kind">Run or check.</param>
/// <param name="Run">The run, for <see cref="QueueJobKind.Run"/>.</param>
/// <param name="Check">The check, for <see cref="QueueJobKind.Check"/>.</param>
public sealed record QueueJob(string JobId, QueueJobKind Kind, RunParams? Run = null, CheckParams? Check = null);

/// <summary>What a <see cref="QueueEvent"/> says.</summary>
public enum QueueEventKind
{
    /// <summary>A host starts the job (a request: the client answers go or gone).</summary>
    Started,

    /// <summary>A chunk of output.</summary>
    Output,

    /// <summary>One test of a check is done.</summary>
    Test,

    /// <summary>The host is still running the job and asks whether the client still waits (a request).</summary>
    Ping,

    /// <summary>The final result (a request).</summary>
    Result,

    /// <summary>The job failed with an error code (a request); final.</summary>
    Error,
}

/// <summary>One message from the host running a job to its client, on <c>P.job.ID</c>.</summary>
/// <param name="Kind">What it says.</param>
/// <param name="Attempt">Which delivery of the job this host runs (1, or more after a host died); events of another attempt are ignored.</param>
/// <param name="Host">The host's id.</param>
/// <param name="Output">For <see cref="QueueEventKind.Output"/>: the chunk.</param>
/// <param name="Test">For <see cref="QueueEventKind.Test"/>: the test's result (never hidden data).</param>
/// <param name="RunResult">For a run's <see cref="QueueEventKind.Result"/>.</param>
/// <param name="CheckResult">For a check's <see cref="QueueEventKind.Result"/>.</param>
/// <param name="Code">For <see cref="QueueEventKind.Error"/>: what went wrong.</param>
/// <param name="Message">For <see cref="QueueEventKind.Error"/>: one line a user can act on.</param>
/// <param name="OutputElided">True when the run result's stdout and stderr were left out to fit one message: they are exactly what streamed.</param>
/// <param name="Deliveries">For <see cref="QueueEventKind.Started"/>: how many deliveries the queue makes of a job before it gives up on it.</param>
/// <param name="AckWaitSeconds">For <see cref="QueueEventKind.Started"/>: the queue's ack wait; a running host pings its client three times in it.</param>
public sealed record QueueEvent(
    QueueEventKind Kind,
    int Attempt,
    string Host,
    OutputEvent? Output = null,
    TestResult? Test = null,
    RunResult? RunResult = null,
    CheckResult? CheckResult = null,
    SandboxErrorCode? Code = null,
    string? Message = null,
    bool OutputElided = false,
    int? Deliveries = null,
    double? AckWaitSeconds = null);

/// <summary>The answer to a metadata request: the result, or an error code and message.</summary>
public sealed record QueueApiReply(JsonElement? Result = null, SandboxErrorCode? Code = null, string? Message = null);

/// <summary>The queue's JSON, the same conventions as the WebSocket wire (<see cref="SandboxJson"/>).</summary>
internal static class QueueJson
{
    public static readonly JsonSerializerOptions Options = SandboxJson.CreateOptions();

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T? Deserialize<T>(byte[]? data) => data is null || data.Length == 0 ? default : JsonSerializer.Deserialize<T>(data, Options);

    /// <summary>A short random id (hex).</summary>
    public static string NewId() => Guid.NewGuid().ToString("n");
}
