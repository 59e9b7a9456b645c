using System.Net.WebSockets;
using Sandbox.Lsp.Protocol;
using Sandbox.Remote.Transport;
using StreamJsonRpc;

namespace Sandbox.Lsp.Transport;

/// <summary>
/// The one transport seam: stdio and WebSocket both become an <see cref="IJsonRpcMessageHandler"/> with the same
/// formatter, so the same session and handlers run behind both.
/// </summary>
public static class LspTransport
{
    /// <summary>
    /// LSP base protocol over byte streams: <c>Content-Length</c> headers, then a JSON body (stdio, pipes, sockets).
    /// </summary>
    /// <param name="sendingStream">Where frames to the client are written (stdout in stdio mode).</param>
    /// <param name="receivingStream">Where frames from the client are read (stdin in stdio mode).</param>
    public static IJsonRpcMessageHandler CreateStreamHandler(Stream sendingStream, Stream receivingStream)
        => new LspStreamMessageHandler(sendingStream, receivingStream, LspJson.CreateFormatter());

    /// <summary>LSP over a WebSocket: one JSON-RPC message per text message, no headers (what vscode-ws-jsonrpc and web IDEs send).</summary>
    public static IJsonRpcMessageHandler CreateWebSocketHandler(WebSocket webSocket)
        => new TolerantWebSocketMessageHandler(webSocket, LspJson.CreateFormatter(), LspStreamMessageHandler.MaxMessageBytes);
}
