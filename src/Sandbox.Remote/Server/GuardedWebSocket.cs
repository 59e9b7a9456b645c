using System.Net.WebSockets;

namespace Sandbox.Remote.Server;

/// <summary>
/// Wraps the server side of a connection so that a message larger than the limit, or a binary message, closes that
/// connection (status 1009 or 1003) before it is buffered, instead of being read whole into memory.
/// </summary>
internal sealed class GuardedWebSocket(WebSocket inner, long maxMessageBytes, TimeSpan sendStallTimeout) : WebSocket
{
    private long messageBytes;
    private int dropped;

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

    // The endpoint owns the inner socket and closes it with a status after the JSON-RPC session ends; StreamJsonRpc
    // disposing its handler must not abort it first.
    public override void Dispose()
    {
    }

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
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    /// <summary>
    /// Sends, dropping the connection when the send waits longer than the stall timeout: the client has stopped reading
    /// (its receive window is full) while its runs' output keeps coming, and every message waiting behind this one is
    /// held in the host's memory.
    /// </summary>
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        var send = inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
        if (send.IsCompleted)
        {
            await send.ConfigureAwait(false);
            return;
        }

        var pending = send.AsTask();
        if (await Task.WhenAny(pending, Task.Delay(sendStallTimeout, CancellationToken.None)).ConfigureAwait(false) != pending)
        {
            Drop($"the client read nothing for {sendStallTimeout.TotalSeconds:0} s");
        }

        await pending.ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the connection at once, without a closing handshake (a client that does not read would not get it): every
    /// pending receive and send fails, the JSON-RPC session ends and its runs are cancelled.
    /// </summary>
    public void Drop(string reason)
    {
        if (Interlocked.Exchange(ref dropped, 1) == 0)
        {
            Violation = reason;
            inner.Abort();
        }
    }

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
