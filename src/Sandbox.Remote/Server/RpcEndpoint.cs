using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using StreamJsonRpc;

namespace Sandbox.Remote.Server;

/// <summary>Serves <c>/rpc</c>: checks the token, upgrades to a WebSocket and runs one JSON-RPC connection until it closes.</summary>
internal sealed class RpcEndpoint(
    SandboxHostOptions options,
    HostToken? token,
    InProcessSandboxRpc runner,
    SandboxMetrics metrics,
    IHostApplicationLifetime lifetime,
    ILogger<RpcEndpoint> logger)
{
    private int open;
    private long nextId;

    public async Task HandleAsync(HttpContext context)
    {
        // Browsers send Origin on every WebSocket handshake and do not hold WebSockets to the same-origin policy: without
        // this, any page the user visits could run code through a loopback host that needs no token (cross-site
        // WebSocket hijacking). Programs (the CLI, the language server, other hosts) send no Origin. A web IDE reaches
        // a runner through `sandbox serve` or `sandbox lsp --ws`, which connect from the server side.
        if (context.Request.Headers.Origin.Count > 0)
        {
            metrics.RecordError(SandboxErrorCode.Unauthorized);
            logger.LogWarning("Refused a connection from a web page (Origin {Origin})", context.Request.Headers.Origin.ToString());
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("forbidden: web pages may not connect to a runner host; use `sandbox serve` or `sandbox lsp --ws` in front of it\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (token is not null && !token.Matches(context.Request.Headers.Authorization))
        {
            metrics.RecordError(SandboxErrorCode.Unauthorized);
            logger.LogWarning("Refused a connection from {Remote}: missing or wrong bearer token", context.Connection.RemoteIpAddress);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsync("unauthorized: send Authorization: Bearer TOKEN (the runner's --token-file)\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("this endpoint speaks JSON-RPC 2.0 over WebSocket (ws://HOST:PORT/rpc)\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (Interlocked.Increment(ref open) > options.MaxConnections)
        {
            Interlocked.Decrement(ref open);
            metrics.RecordError(SandboxErrorCode.HostBusy);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"busy: {options.MaxConnections} connections are open\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var connectionId = $"c{Interlocked.Increment(ref nextId)}";
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["ConnectionId"] = connectionId });
        metrics.AddConnections(1);
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            var guarded = new GuardedWebSocket(socket, options.MaxMessageBytes, options.SendStallTimeout);
            using var rpc = new SandboxServerJsonRpc(new Transport.TolerantWebSocketMessageHandler(guarded, SandboxJson.CreateFormatter(), options.MaxMessageBytes), logger)
            {
                // A closed editor or a dropped connection cancels its runs, which kills them in their containers.
                CancelLocallyInvokedMethodsWhenConnectionIsClosed = true,
            };
            rpc.AddLocalRpcTarget<ISandboxRpcWire>(
                new SandboxRpcConnection(rpc, runner, connectionId, new UnsentBacklog(options.MaxUnsentBytes, guarded.Drop), logger),
                new JsonRpcTargetOptions
                {
                    MethodNameTransform = SandboxRpcMethods.FromClrName,
                    UseSingleObjectParameterDeserialization = true,
                });
            logger.LogInformation("Connection opened from {Remote}", context.Connection.RemoteIpAddress);
            rpc.StartListening();
            using var aborted = context.RequestAborted.Register(rpc.Dispose);
            using var stopping = lifetime.ApplicationStopping.Register(rpc.Dispose);
            try
            {
                await rpc.Completion.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                logger.LogInformation("Connection ended: {Reason}", ex.Message);
            }

            if (guarded.Violation is { } violation)
            {
                logger.LogWarning("Connection closed by the host: {Violation}", violation);
            }

            using (var clientGoneOrStopping = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping))
            {
                await FinishClosingAsync(socket, clientGoneOrStopping.Token).ConfigureAwait(false);
            }

            logger.LogInformation("Connection closed");
        }
        finally
        {
            metrics.AddConnections(-1);
            Interlocked.Decrement(ref open);
        }
    }

    /// <summary>How long the host waits to hand its close frame over before it gives up on the client.</summary>
    private static readonly TimeSpan CloseSendTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the host waits for a client to finish the closing handshake before it drops the connection.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Ends the WebSocket so that the client gets the host's close frame: the TCP connection is released only once the
    /// client has answered it (or hung up), after <see cref="CloseHandshakeTimeout"/>, or when the host stops.
    /// </summary>
    private static async Task FinishClosingAsync(WebSocket socket, CancellationToken clientGoneOrStopping)
    {
        switch (socket.State)
        {
            case WebSocketState.Open or WebSocketState.CloseReceived:
                await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, "bye").ConfigureAwait(false);
                break;
            case WebSocketState.CloseSent:
                // The host refused a message (1009, 1003) while the client was still sending it. Closing the TCP connection
                // with its bytes unread makes the kernel answer with a reset, which can destroy the close frame on its way
                // (or in the client's buffer) so the client only sees 1006. Read and discard until the client's close frame.
                await DrainUntilCloseAsync(socket, clientGoneOrStopping).ConfigureAwait(false);
                break;
            case WebSocketState.Aborted:
                // Either the host dropped the connection on purpose (its request is aborted already and this returns at once),
                // or ManagedWebSocket failed it on a protocol error: on a text frame that is not UTF-8 it queues a 1007 close
                // frame (1002 for a malformed frame) and marks itself Aborted. Disposing an Aborted socket makes ASP.NET
                // Core abort the request (its AbortStream), and Kestrel resets an aborted connection (SO_LINGER 0),
                // discarding that close frame before it is sent. Disposing only once the client hangs up lets it out.
                await WaitAsync(clientGoneOrStopping).ConfigureAwait(false);
                break;
        }
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string description)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CloseSendTimeout);
            await socket.CloseOutputAsync(status, description, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone already.
        }
    }

    private static async Task DrainUntilCloseAsync(WebSocket socket, CancellationToken clientGoneOrStopping)
    {
        var buffer = new byte[16 * 1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(clientGoneOrStopping);
        timeout.CancelAfter(CloseHandshakeTimeout);
        try
        {
            while ((await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token).ConfigureAwait(false)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client hung up, broke the protocol or did not answer in time: the connection ends either way.
        }
    }

    private static async Task WaitAsync(CancellationToken clientGoneOrStopping)
    {
        try
        {
            await Task.Delay(CloseHandshakeTimeout, clientGoneOrStopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client hung up after reading the close frame, or the host is stopping.
        }
    }
}
