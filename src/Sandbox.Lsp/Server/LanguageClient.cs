using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;

namespace Sandbox.Lsp.Server;

/// <summary>
/// The session's way to talk to the client. Notifications go through one queue so they reach the wire in the order
/// they were made (output chunks, test results, progress), and <see cref="FlushAsync"/> lets a handler put them all
/// on the wire before its response.
/// </summary>
internal sealed class LanguageClient : IAsyncDisposable
{
    private readonly JsonRpc rpc;
    private readonly ILogger logger;
    private readonly Channel<Outgoing> queue = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task pump;

    public LanguageClient(JsonRpc rpc, ILogger logger)
    {
        this.rpc = rpc;
        this.logger = logger;
        pump = Task.Run(PumpAsync);
    }

    /// <summary>Queues a notification; never blocks and never throws.</summary>
    public void Notify(string method, object parameters) => queue.Writer.TryWrite(new Outgoing(method, parameters, null));

    /// <summary>Completes once every notification queued before it has been written (or dropped because the connection is gone).</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!queue.Writer.TryWrite(new Outgoing(null, null, done)))
        {
            return Task.CompletedTask;
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Sends a request to the client after every queued notification.</summary>
    public async Task<T> RequestAsync<T>(string method, object parameters, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        return await rpc.InvokeWithParameterObjectAsync<T>(method, parameters, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await pump;
    }

    private async Task PumpAsync()
    {
        await foreach (var item in queue.Reader.ReadAllAsync())
        {
            if (item.Flushed is { } flushed)
            {
                flushed.TrySetResult();
                continue;
            }

            try
            {
                await rpc.NotifyWithParameterObjectAsync(item.Method!, item.Parameters);
            }
            catch (Exception ex) when (ex is ConnectionLostException or ObjectDisposedException or IOException or OperationCanceledException)
            {
                // The client is gone; the session ends through JsonRpc.Completion. Drop what is left quietly.
                logger.LogDebug("dropped {Method}: {Reason}", item.Method, ex.Message);
            }
        }
    }

    private sealed record Outgoing(string? Method, object? Parameters, TaskCompletionSource? Flushed);
}
