using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using StreamJsonRpc;

namespace Sandbox.Remote.Server;

/// <summary>
/// The RPC target of one WebSocket connection. Streams progress as notifications keyed by run id and sends every
/// notification of a request before its response, so a client has all output when the result arrives.
/// </summary>
internal sealed class SandboxRpcConnection(JsonRpc rpc, InProcessSandboxRpc runner, string connectionId, UnsentBacklog backlog, ILogger logger) : ISandboxRpcWire
{
    public async Task<RunResult> RunAsync(RunParams request, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, "run needs one params object with language and source");
        }

        var runId = RunIdOf(request.RunId);
        var notifications = new NotificationPump(rpc, backlog, logger);
        var output = new SyncProgress<OutputEvent>(e => notifications.Post(SandboxRpcMethods.Output, new OutputNotification(runId, e.Stream, e.Text, e.Bytes), e.Text.Length + (e.Bytes?.Length ?? 0)));
        try
        {
            return await runner.RunAsync(request with { RunId = runId }, output, connectionId, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SandboxRpcException(SandboxErrorCode.Cancelled, $"run '{runId}' was cancelled");
        }
        finally
        {
            await notifications.DrainAsync().ConfigureAwait(false);
        }
    }

    public async Task<CheckResult> CheckAsync(CheckParams request, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, "check needs one params object with language and source");
        }

        var runId = RunIdOf(request.RunId);
        var notifications = new NotificationPump(rpc, backlog, logger);
        var tests = new SyncProgress<TestResult>(t => notifications.Post(SandboxRpcMethods.TestResult, TestResultNotification.From(runId, t), TestResultBytes));
        try
        {
            return await runner.CheckAsync(request with { RunId = runId }, tests, connectionId, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SandboxRpcException(SandboxErrorCode.Cancelled, $"run '{runId}' was cancelled");
        }
        finally
        {
            await notifications.DrainAsync().ConfigureAwait(false);
        }
    }

    public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken) =>
        Task.FromResult(runner.Cancel(request, connectionId));

    public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken) => runner.LanguagesAsync(cancellationToken);

    public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) => runner.ProblemsAsync(cancellationToken);

    public Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken) => runner.ProblemAsync(request, cancellationToken);

    private static string RunIdOf(string? requested)
    {
        // A null request is refused by the runner; the id only has to exist until then.
        if (requested is null)
        {
            return Guid.NewGuid().ToString("n")[..12];
        }

        return string.IsNullOrWhiteSpace(requested) || requested.Length > 128
            ? throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, "runId must be 1 to 128 characters")
            : requested;
    }

    /// <summary>What a test result notification is counted as in the connection's backlog (its JSON is about this long).</summary>
    private const int TestResultBytes = 256;

    /// <summary>Sends a request's notifications one at a time, in the order they were reported.</summary>
    private sealed class NotificationPump
    {
        private readonly Channel<(string Method, object Argument, int Size)> queue =
            Channel.CreateUnbounded<(string, object, int)>(new UnboundedChannelOptions { SingleReader = true });

        private readonly UnsentBacklog backlog;
        private readonly Task pump;

        public NotificationPump(JsonRpc rpc, UnsentBacklog backlog, ILogger logger)
        {
            this.backlog = backlog;
            pump = Task.Run(async () =>
            {
                var connected = true;
                await foreach (var (method, argument, size) in queue.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    if (!connected)
                    {
                        backlog.Sent(size);
                        continue;
                    }

                    try
                    {
                        await rpc.NotifyWithParameterObjectAsync(method, argument).ConfigureAwait(false);
                        backlog.Sent(size);
                    }
                    catch (Exception ex) when (ex is ConnectionLostException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
                    {
                        // The client went away; the run is being cancelled through the connection's token.
                        logger.LogDebug("Dropping notifications: {Reason}", ex.Message);
                        connected = false;
                        backlog.Sent(size);
                    }
                }
            });
        }

        public void Post(string method, object argument, int size)
        {
            backlog.Queued(size);
            queue.Writer.TryWrite((method, argument, size));
        }

        public Task DrainAsync()
        {
            queue.Writer.TryComplete();
            return pump;
        }
    }
}

/// <summary>
/// What one connection has queued to send and not yet handed to its socket. A client that stops reading while its runs
/// keep writing would otherwise grow the host's memory without bound (each run's output is capped, but a client can
/// keep starting runs); past the limit the connection is dropped.
/// </summary>
internal sealed class UnsentBacklog(long limit, Action<string> drop)
{
    private long bytes;

    public long Bytes => Interlocked.Read(ref bytes);

    public void Queued(int size)
    {
        if (Interlocked.Add(ref bytes, size) > limit)
        {
            drop($"more than {(limit >= 1024 * 1024 ? $"{limit / 1024 / 1024} MiB" : $"{limit / 1024} KiB")} of messages waiting for a client that does not read them");
        }
    }

    public void Sent(int size) => Interlocked.Add(ref bytes, -size);
}
