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
internal sealed class SandboxRpcConnection(JsonRpc rpc, InProcessSandboxRpc runner, string connectionId, ILogger logger) : ISandboxRpcWire
{
    public async Task<RunResult> RunAsync(RunParams request, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, "run needs one params object with language and source");
        }

        var runId = RunIdOf(request.RunId);
        var notifications = new NotificationPump(rpc, logger);
        var output = new SyncProgress<OutputEvent>(e => notifications.Post(SandboxRpcMethods.Output, new OutputNotification(runId, e.Stream, e.Text)));
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
        var notifications = new NotificationPump(rpc, logger);
        var tests = new SyncProgress<TestResult>(t => notifications.Post(SandboxRpcMethods.TestResult, TestResultNotification.From(runId, t)));
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

    /// <summary>Sends a request's notifications one at a time, in the order they were reported.</summary>
    private sealed class NotificationPump
    {
        private readonly Channel<(string Method, object Argument)> queue =
            Channel.CreateUnbounded<(string, object)>(new UnboundedChannelOptions { SingleReader = true });

        private readonly Task pump;

        public NotificationPump(JsonRpc rpc, ILogger logger)
        {
            pump = Task.Run(async () =>
            {
                var connected = true;
                await foreach (var (method, argument) in queue.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    if (!connected)
                    {
                        continue;
                    }

                    try
                    {
                        await rpc.NotifyWithParameterObjectAsync(method, argument).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is ConnectionLostException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
                    {
                        // The client went away; the run is being cancelled through the connection's token.
                        logger.LogDebug("Dropping notifications: {Reason}", ex.Message);
                        connected = false;
                    }
                }
            });
        }

        public void Post(string method, object argument) => queue.Writer.TryWrite((method, argument));

        public Task DrainAsync()
        {
            queue.Writer.TryComplete();
            return pump;
        }
    }
}
