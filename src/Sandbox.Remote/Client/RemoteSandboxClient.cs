using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using NonConcurrentSynchronizationContext = Microsoft.VisualStudio.Threading.NonConcurrentSynchronizationContext;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using StreamJsonRpc;

namespace Sandbox.Remote.Client;

/// <summary>
/// <see cref="ISandboxRpc"/> over a WebSocket to a runner host. Connects on first use (or <see cref="ConnectAsync"/>),
/// reconnects with backoff before a request when the last connection dropped, and turns a host that goes away
/// mid-request into a <see cref="SandboxConnectionException"/> at once. Error responses come back as
/// <see cref="SandboxRpcException"/>; a cancelled run as <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class RemoteSandboxClient : ISandboxRpc, IAsyncDisposable
{
    private readonly RemoteSandboxClientOptions options;
    private readonly SemaphoreSlim connectLock = new(1, 1);
    private Connection? current;
    private bool disposed;

    /// <summary>Creates a client; nothing is sent until the first call.</summary>
    public RemoteSandboxClient(RemoteSandboxClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoint.Scheme is not ("ws" or "wss"))
        {
            throw new SandboxUsageException($"runner URL '{options.Endpoint}' must start with ws:// or wss://");
        }

        this.options = options;
    }

    /// <summary>The runner's endpoint.</summary>
    public Uri Endpoint => options.Endpoint;

    /// <summary>Opens the connection now, so a wrong URL or token fails before any work.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken) => await GetConnectionAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request = request.RunId is null ? request with { RunId = NewRunId() } : request;
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (output is not null && !connection.Outputs.TryAdd(request.RunId!, output))
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, $"a run with id '{request.RunId}' is already going on this client");
        }

        try
        {
            return await connection.InvokeAsync<RunResult>(SandboxRpcMethods.Run, request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (output is not null)
            {
                connection.Outputs.TryRemove(request.RunId!, out _);
            }
        }
    }

    /// <inheritdoc />
    public async Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request = request.RunId is null ? request with { RunId = NewRunId() } : request;
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (tests is not null && !connection.Tests.TryAdd(request.RunId!, tests))
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, $"a run with id '{request.RunId}' is already going on this client");
        }

        try
        {
            return await connection.InvokeAsync<CheckResult>(SandboxRpcMethods.Check, request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (tests is not null)
            {
                connection.Tests.TryRemove(request.RunId!, out _);
            }
        }
    }

    /// <inheritdoc />
    public async Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.InvokeAsync<CancelResult>(SandboxRpcMethods.Cancel, request, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.InvokeAsync<LanguagesResult>(SandboxRpcMethods.Languages, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.InvokeAsync<ProblemsResult>(SandboxRpcMethods.Problems, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.InvokeAsync<ProblemInfo>(SandboxRpcMethods.Problem, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection; runs still going on it are cancelled by the host.</summary>
    public async ValueTask DisposeAsync()
    {
        await connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            disposed = true;
            if (current is not null)
            {
                await current.DisposeAsync().ConfigureAwait(false);
                current = null;
            }
        }
        finally
        {
            connectLock.Release();
        }
    }

    private static string NewRunId() => Guid.NewGuid().ToString("n")[..12];

    private async Task<Connection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        var existing = Volatile.Read(ref current);
        if (existing is { IsAlive: true })
        {
            return existing;
        }

        await connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (current is { IsAlive: true })
            {
                return current;
            }

            if (current is not null)
            {
                await current.DisposeAsync().ConfigureAwait(false);
                current = null;
            }

            var backoff = options.InitialBackoff;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    current = await Connection.OpenAsync(options, cancellationToken).ConfigureAwait(false);
                    return current;
                }
                catch (SandboxConnectionException) when (attempt < options.ConnectAttempts)
                {
                    await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                    backoff *= 2;
                }
            }
        }
        finally
        {
            connectLock.Release();
        }
    }

    /// <summary>One WebSocket and its JSON-RPC session.</summary>
    private sealed class Connection : IAsyncDisposable
    {
        private readonly ClientWebSocket socket;
        private readonly JsonRpc rpc;
        private readonly NonConcurrentSynchronizationContext notifications = new(sticky: false);
        private readonly Uri endpoint;

        private Connection(ClientWebSocket socket, Uri endpoint)
        {
            this.socket = socket;
            this.endpoint = endpoint;
            rpc = new JsonRpc(new WebSocketMessageHandler(socket, SandboxJson.CreateFormatter()))
            {
                // Notifications run one at a time in arrival order on this context; a barrier posted to it after a
                // response (see InvokeAsync) therefore runs after every notification the host sent before that response.
                SynchronizationContext = notifications,
            };
            rpc.AddLocalRpcTarget(
                new Callbacks(this),
                new JsonRpcTargetOptions { MethodNameTransform = SandboxRpcMethods.FromClrName, UseSingleObjectParameterDeserialization = true });
            rpc.StartListening();
        }

        public ConcurrentDictionary<string, IProgress<OutputEvent>> Outputs { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, IProgress<TestResult>> Tests { get; } = new(StringComparer.Ordinal);

        public bool IsAlive => !rpc.IsDisposed && !rpc.Completion.IsCompleted && socket.State == WebSocketState.Open;

        public static async Task<Connection> OpenAsync(RemoteSandboxClientOptions options, CancellationToken cancellationToken)
        {
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.KeepAliveInterval = options.KeepAlive;
            socket.Options.KeepAliveTimeout = options.KeepAlive;
            if (options.Token is not null)
            {
                socket.Options.SetRequestHeader("Authorization", $"Bearer {options.Token}");
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(options.Endpoint, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                var status = socket.HttpStatusCode;
                socket.Dispose();
                throw status switch
                {
                    HttpStatusCode.Unauthorized => new SandboxRpcException(
                        SandboxErrorCode.Unauthorized,
                        $"the runner at {options.Endpoint} refused the connection: {(options.Token is null ? "it needs a token (--token-file)" : "wrong token")}"),
                    HttpStatusCode.ServiceUnavailable => new SandboxConnectionException($"the runner at {options.Endpoint} is busy (too many connections)", ex),
                    0 when ex is OperationCanceledException => new SandboxConnectionException($"no answer from the runner at {options.Endpoint} within {options.ConnectTimeout.TotalSeconds:0.#} s", ex),
                    0 => new SandboxConnectionException($"cannot connect to the runner at {options.Endpoint}: {ex.GetBaseException().Message}", ex),
                    _ => new SandboxConnectionException($"the runner at {options.Endpoint} answered HTTP {(int)status} instead of opening a WebSocket (is the path /rpc?)", ex),
                };
            }

            return new Connection(socket, options.Endpoint);
        }

        public async Task<T> InvokeAsync<T>(string method, object? argument, CancellationToken cancellationToken)
        {
            T result;
            try
            {
                result = argument is null
                    ? await rpc.InvokeWithCancellationAsync<T>(method, [], cancellationToken).ConfigureAwait(false)
                    : await rpc.InvokeWithParameterObjectAsync<T>(method, argument, cancellationToken).ConfigureAwait(false);
            }
            catch (RemoteInvocationException ex) when (SandboxRpcException.TryParseCode(ex.ErrorCode) is { } code)
            {
                if (code == SandboxErrorCode.Cancelled)
                {
                    throw new OperationCanceledException(ex.Message);
                }

                throw new SandboxRpcException(code, ex.Message);
            }
            catch (Exception ex) when (ex is ConnectionLostException or ObjectDisposedException or WebSocketException && !cancellationToken.IsCancellationRequested)
            {
                throw new SandboxConnectionException($"lost the connection to the runner at {endpoint} during '{method}'; the host stopped or the network dropped", ex);
            }

            await BarrierAsync().ConfigureAwait(false);
            return result;
        }

        public async ValueTask DisposeAsync()
        {
            if (socket.State == WebSocketState.Open)
            {
                // A close handshake lets the host log a clean goodbye; it cancels this connection's runs either way.
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The host is gone already.
                }
            }

            rpc.Dispose();
            try
            {
                await rpc.Completion.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Disposing ends the session; how it ended no longer matters.
            }

            socket.Dispose();
        }

        private Task BarrierAsync()
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            notifications.Post(static state => ((TaskCompletionSource)state!).SetResult(), done);
            return done.Task;
        }

        /// <summary>The notifications a host sends; named by <see cref="SandboxRpcMethods.FromClrName"/>.</summary>
        private sealed class Callbacks(Connection connection)
        {
            public void Output(OutputNotification notification)
            {
                if (connection.Outputs.TryGetValue(notification.RunId, out var progress))
                {
                    progress.Report(new OutputEvent(notification.Stream, notification.Text, notification.Bytes));
                }
            }

            public void TestResult(TestResultNotification notification)
            {
                if (connection.Tests.TryGetValue(notification.RunId, out var progress))
                {
                    progress.Report(notification.ToTestResult());
                }
            }
        }
    }
}
