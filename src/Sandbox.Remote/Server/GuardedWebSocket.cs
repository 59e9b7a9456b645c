using System.Net.WebSockets;

namespace Sandbox.Remote.Server;

/// <summary>
/// Wraps the server side of a connection so that a message larger than the limit, or a binary message, closes that
/// connection (status 1009 or 1003) before it is buffered, instead of being read whole into memory.
/// </summary>
internal sealed class GuardedWebSocket(WebSocket inner, long maxMessageBytes) : WebSocket
{
    private long messageBytes;

    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

    public override string? CloseStatusDescription => inner.CloseStatusDescription;

    public override WebSocketState State => inner.State;

    public override string? SubProtocol => inner.SubProtocol;

    /// <summary>Why the guard closed the connection, or null.</summary>
    public string? Violation { get; private set; }

    public override void Abort() => inner.Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Dispose() => inner.Dispose();

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        await CheckAsync(result.MessageType, result.Count, result.EndOfMessage, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        await CheckAsync(result.MessageType, result.Count, result.EndOfMessage, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    private async Task CheckAsync(WebSocketMessageType type, int count, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (type == WebSocketMessageType.Close)
        {
            return;
        }

        if (type == WebSocketMessageType.Binary)
        {
            await RefuseAsync(WebSocketCloseStatus.InvalidMessageType, "JSON-RPC messages must be text frames", cancellationToken).ConfigureAwait(false);
        }

        messageBytes += count;
        if (messageBytes > maxMessageBytes)
        {
            await RefuseAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {maxMessageBytes} bytes", cancellationToken).ConfigureAwait(false);
        }

        if (endOfMessage)
        {
            messageBytes = 0;
        }
    }

    private async Task RefuseAsync(WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        Violation = reason;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await inner.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer may already be gone; the connection ends either way.
        }

        throw new WebSocketException(WebSocketError.InvalidState, reason);
    }
}
