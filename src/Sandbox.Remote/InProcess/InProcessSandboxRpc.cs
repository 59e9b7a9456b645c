using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;

namespace Sandbox.Remote.InProcess;

/// <summary>
/// <see cref="ISandboxRpc"/> over the engine in this process: the embedded runner of the CLI and language server,
/// and what a runner host serves to each connection. Validates requests, admits them through the slot scheduler,
/// keeps run ids so <see cref="CancelAsync"/> can cancel a run, and turns failures into <see cref="SandboxRpcException"/>.
/// Cancellation (a request's token, <see cref="CancelAsync"/>) cancels the token the engine runs under, and the
/// engine kills the program inside its container.
/// </summary>
public sealed class InProcessSandboxRpc : ISandboxRpc
{
    /// <summary>The client key of calls made through <see cref="ISandboxRpc"/> directly (one local user).</summary>
    internal const string LocalClient = "local";

    private readonly ICodeRunner runner;
    private readonly IJudge judge;
    private readonly ILanguageCatalog catalog;
    private readonly IProblemLibrary problems;
    private readonly SandboxRpcOptions options;
    private readonly SandboxMetrics metrics;
    private readonly ILogger<InProcessSandboxRpc> logger;
    private readonly ConcurrentDictionary<(string Client, string RunId), CancellationTokenSource> active = new();
    private readonly Lazy<RunScheduler> scheduler;

    /// <summary>Creates the adapter (normally through <see cref="SandboxRpcServiceCollectionExtensions.AddSandboxRpc"/>).</summary>
    public InProcessSandboxRpc(
        ICodeRunner runner,
        IJudge judge,
        ILanguageCatalog catalog,
        IProblemLibrary problems,
        IOptions<SandboxRpcOptions> options,
        SandboxMetrics metrics,
        ILogger<InProcessSandboxRpc> logger)
    {
        this.runner = runner;
        this.judge = judge;
        this.catalog = catalog;
        this.problems = problems;
        this.options = options.Value;
        this.options.Validate();
        this.metrics = metrics;
        this.logger = logger;
        // Slots are read on first use: the engine may provision its pool after it is constructed.
        scheduler = new Lazy<RunScheduler>(() => new RunScheduler(this.options.Slots ?? Math.Max(1, this.runner.Slots), this.options.MaxQueue));
        metrics.Gauges = () => scheduler.IsValueCreated ? (scheduler.Value.Slots, scheduler.Value.Busy, scheduler.Value.Queued) : (this.options.Slots ?? 0, 0, 0);
    }

    /// <summary>Runs waiting for a slot now.</summary>
    internal int Queued => scheduler.IsValueCreated ? scheduler.Value.Queued : 0;

    /// <inheritdoc />
    public Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken) =>
        RunAsync(request, output, LocalClient, cancellationToken);

    /// <inheritdoc />
    public Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, CancellationToken cancellationToken) =>
        CheckAsync(request, tests, LocalClient, cancellationToken);

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken) =>
        Task.FromResult(Cancel(request, LocalClient));

    /// <inheritdoc />
    public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken)
    {
        var languages = catalog.Available
            .Select(l => new LanguageInfo(l.Id, l.Name, l.Aliases, l.Extensions, l.LspLanguageIds, l.LineComment, l.Starter, l.SourceFile, l.Diagnostics))
            .ToList();
        return Task.FromResult(new LanguagesResult(languages));
    }

    /// <inheritdoc />
    public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Guard(() => new ProblemsResult(problems.List())));

    /// <inheritdoc />
    public Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Id))
        {
            throw Fail(SandboxErrorCode.InvalidRequest, "problem needs an id (see `sandbox problems`)");
        }

        CheckProblemReference(request.Id);
        return Task.FromResult(WithinMaximum(Guard(() => problems.Describe(request.Id))));
    }

    /// <summary>
    /// A problem's limits as its tests are judged: the judge lowers a problem's own limits (a package's <c>memory: 2048</c>)
    /// to the runner's maximum, which this layer enforces too, so users see what applies rather than what was declared.
    /// </summary>
    private ProblemInfo WithinMaximum(ProblemInfo info)
    {
        var maximum = options.MaxLimits;
        return info with
        {
            TimeLimitSeconds = Math.Min(info.TimeLimitSeconds, maximum.CpuTime.TotalSeconds),
            MemoryLimitMb = (int)Math.Min(info.MemoryLimitMb, maximum.MemoryBytes / 1024 / 1024),
        };
    }

    /// <summary>Cancels a run that <paramref name="client"/> started.</summary>
    internal CancelResult Cancel(CancelParams request, string client)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.RunId))
        {
            throw Fail(SandboxErrorCode.InvalidRequest, "cancel needs the runId of a run this client started");
        }

        if (!active.TryGetValue((client, request.RunId), out var run))
        {
            return new CancelResult(false);
        }

        try
        {
            run.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run finished while we were cancelling it.
            return new CancelResult(false);
        }

        using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = request.RunId }))
        {
            logger.LogInformation("Run cancelled by the client");
        }

        return new CancelResult(true);
    }

    /// <summary>A run on behalf of <paramref name="client"/> (a connection), which the scheduler treats fairly against other clients.</summary>
    internal async Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, string client, CancellationToken cancellationToken)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Language) || request.Source is null)
        {
            throw Fail(SandboxErrorCode.InvalidRequest, "run needs a language and a source");
        }

        if (request.Stdin is not null && request.StdinBytes is not null)
        {
            throw Fail(SandboxErrorCode.InvalidRequest, "run takes stdin as text (stdin) or as bytes (stdinBase64), not both");
        }

        var language = FindLanguage(request.Language);
        CheckLimits(request.Limits);
        var runId = string.IsNullOrWhiteSpace(request.RunId) ? NewRunId() : request.RunId;
        var chunks = output is null ? null : new SyncProgress<OutputChunk>(c => output.Report(OutputEvent.From(c)));
        return await ExecuteAsync(
            RunKind.Run,
            client,
            runId,
            language.Id,
            async token =>
            {
                logger.LogInformation("Run started: {Language}, {SourceBytes} bytes of source, {StdinBytes} bytes of stdin", language.Id, request.Source.Length, request.StdinBytes?.Length ?? request.Stdin?.Length ?? 0);
                var result = await runner.RunAsync(new RunRequest(language.Id, request.Source, request.Stdin, request.Limits, request.StdinBytes), chunks, token).ConfigureAwait(false);
                if (result.Verdict == RunVerdict.InternalError)
                {
                    logger.LogError("Run ended in an internal error: {Message}", result.InternalMessage);
                }

                return (result, Verdict(result.Verdict));
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A check on behalf of <paramref name="client"/>.</summary>
    internal async Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, string client, CancellationToken cancellationToken)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Language) || request.Source is null)
        {
            throw Fail(SandboxErrorCode.InvalidRequest, "check needs a language and a source");
        }

        var adHoc = request.Problem is null;
        if (adHoc && (request.Stdin is null || request.ExpectedStdout is null))
        {
            throw Fail(SandboxErrorCode.InvalidRequest, "check needs a problem id, or stdin and expectedStdout for an ad-hoc check");
        }

        if (request.Problem is not null)
        {
            CheckProblemReference(request.Problem);
        }

        var language = FindLanguage(request.Language);
        CheckLimits(request.Limits);
        var runId = string.IsNullOrWhiteSpace(request.RunId) ? NewRunId() : request.RunId;
        return await ExecuteAsync(
            RunKind.Check,
            client,
            runId,
            language.Id,
            async token =>
            {
                // The problem id is public; its tests are not, and are never logged.
                logger.LogInformation("Check started: {Language} against {Problem}", language.Id, adHoc ? "an ad-hoc test" : request.Problem);
                var result = adHoc
                    ? await judge.CheckAdHocAsync(new AdHocCheckRequest(language.Id, request.Source, request.Stdin!, request.ExpectedStdout!, request.Validator, request.Limits), tests, token).ConfigureAwait(false)
                    : await judge.CheckAsync(new CheckRequest(language.Id, request.Source, request.Problem!, request.StopOnFirstFailure, request.Limits), tests, token).ConfigureAwait(false);
                return (result, Verdict(result.Verdict));
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> ExecuteAsync<T>(
        RunKind kind,
        string client,
        string runId,
        string language,
        Func<CancellationToken, Task<(T Result, string Verdict)>> work,
        CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RunId"] = runId });
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (!active.TryAdd((client, runId), run))
        {
            throw Fail(SandboxErrorCode.InvalidRequest, $"a run with id '{runId}' is already going on this connection; use a new runId");
        }

        var clock = Stopwatch.StartNew();
        try
        {
            using var lease = await scheduler.Value.AcquireAsync(client, run.Token).ConfigureAwait(false);
            var (result, verdict) = await work(run.Token).ConfigureAwait(false);
            metrics.RecordFinished(kind, language, verdict, clock.Elapsed);
            logger.LogInformation("{Kind} finished: {Verdict} in {ElapsedMs} ms", kind, verdict, clock.ElapsedMilliseconds);
            return result;
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            metrics.RecordFinished(kind, language, "cancelled", clock.Elapsed);
            logger.LogInformation("{Kind} cancelled after {ElapsedMs} ms", kind, clock.ElapsedMilliseconds);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new OperationCanceledException($"run '{runId}' was cancelled", run.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Translate(ex, runId);
        }
        finally
        {
            active.TryRemove(new KeyValuePair<(string, string), CancellationTokenSource>((client, runId), run));
        }
    }

    private SandboxRpcException Translate(Exception ex, string runId)
    {
        switch (ex)
        {
            case SandboxRpcException rpc:
                metrics.RecordError(rpc.Code);
                logger.LogInformation("Refused: {Code}: {Message}", rpc.Code, rpc.Message);
                return rpc;
            case UnknownLanguageException:
                return Fail(SandboxErrorCode.UnknownLanguage, ex.Message);
            case LimitsExceededException:
                return Fail(SandboxErrorCode.LimitsAboveMaximum, ex.Message);
            case ProblemNotFoundException:
                return Fail(SandboxErrorCode.UnknownProblem, ex.Message);
            case ProblemFormatException:
                return Fail(SandboxErrorCode.BadProblem, ex.Message);
            case SandboxUnavailableException:
                logger.LogError(ex, "The sandbox is unavailable");
                return Fail(SandboxErrorCode.SandboxUnavailable, ex.Message);
            default:
                logger.LogError(ex, "Internal error");
                return Fail(SandboxErrorCode.Internal, $"the runner failed (run id {runId}); the runner's log has the details");
        }
    }

    private T Guard<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Translate(ex, "none");
        }
    }

    private LanguageDefinition FindLanguage(string id) =>
        catalog.Find(id) ?? throw Fail(
            SandboxErrorCode.UnknownLanguage,
            $"unknown language '{id}'; this runner offers: {string.Join(", ", catalog.Available.Select(l => l.Id))}");

    private void CheckLimits(LimitOverrides? limits)
    {
        if (options.MaxLimits.Exceeds(limits) is { } reason)
        {
            throw Fail(SandboxErrorCode.LimitsAboveMaximum, reason);
        }

        if (limits is { TimeLimitSeconds: <= 0 } or { MemoryLimitMb: <= 0 } or { OutputLimitKb: <= 0 } or { Processes: <= 0 })
        {
            throw Fail(SandboxErrorCode.InvalidRequest, "limits must be positive numbers");
        }
    }

    private void CheckProblemReference(string problem)
    {
        if (!options.AllowProblemPaths && LooksLikePath(problem))
        {
            throw Fail(
                SandboxErrorCode.InvalidRequest,
                $"'{problem}' looks like a path; this runner takes problem ids only (see `sandbox problems`)");
        }
    }

    private static bool LooksLikePath(string problem) =>
        problem.IndexOfAny(['/', '\\', ':']) >= 0 || problem.StartsWith('.') || problem.StartsWith('~');

    private SandboxRpcException Fail(SandboxErrorCode code, string message)
    {
        metrics.RecordError(code);
        return new SandboxRpcException(code, message);
    }

    private static string Verdict<T>(T verdict)
        where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(verdict.ToString());

    private static string NewRunId() => Guid.NewGuid().ToString("n")[..12];
}
