using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Transport;
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
            using var rpc = new SandboxServerJsonRpc(new TolerantWebSocketMessageHandler(guarded, SandboxJson.CreateFormatter(), options.MaxMessageBytes), logger)
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
                await WebSocketClosing.FinishAsync(socket, "bye", clientGoneOrStopping.Token).ConfigureAwait(false);
            }

            logger.LogInformation("Connection closed");
        }
        finally
        {
            metrics.AddConnections(-1);
            Interlocked.Decrement(ref open);
        }
    }
}
