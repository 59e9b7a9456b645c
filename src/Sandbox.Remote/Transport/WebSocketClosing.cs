using System.Net.WebSockets;

namespace Sandbox.Remote.Transport;

/// <summary>
/// Ends a server's WebSocket so that the client reads the server's close frame (1000, or the status a guard or .NET's
/// WebSocket failed the connection with) instead of seeing the connection reset (1006). Used by the runner host and
/// the language server's WebSocket endpoint.
/// </summary>
public static class WebSocketClosing
{
    /// <summary>How long the server waits to hand its close frame over before it gives up on the client.</summary>
    private static readonly TimeSpan CloseSendTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the server waits for a client to finish the closing handshake before it drops the connection.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Ends the WebSocket so that the client gets the server's close frame: the TCP connection is released only once the
    /// client has answered it (or hung up), after <see cref="CloseHandshakeTimeout"/>, or when the server stops.
    /// </summary>
    public static async Task FinishAsync(WebSocket socket, string normalReason, CancellationToken clientGoneOrStopping)
    {
        switch (socket.State)
        {
            case WebSocketState.Open or WebSocketState.CloseReceived:
                await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, normalReason).ConfigureAwait(false);
                break;
            case WebSocketState.CloseSent:
                // The server refused a message (1009, 1003) while the client was still sending it. Closing the TCP connection
                // with its bytes unread makes the kernel answer with a reset, which can destroy the close frame on its way
                // (or in the client's buffer) so the client only sees 1006. Read and discard until the client's close frame.
                await DrainUntilCloseAsync(socket, clientGoneOrStopping).ConfigureAwait(false);
                break;
            case WebSocketState.Aborted:
                // Either the server dropped the connection on purpose (its request is aborted already and this returns at once),
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
            // The client hung up after reading the close frame, or the server is stopping.
        }
    }
}
