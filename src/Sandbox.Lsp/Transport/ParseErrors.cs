using System.Text.Json;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Sandbox.Lsp.Transport;

/// <summary>
/// A frame whose body is not JSON-RPC gets a <c>-32700</c> parse error (with a null id, as JSON-RPC prescribes) and the
/// connection keeps going: one bad message from an editor extension must not end the session.
/// </summary>
internal static class ParseErrors
{
    public static bool IsMalformed(Exception ex) => ex is JsonException or BadRpcHeaderException or UnrecognizedJsonRpcMessageException
        or FormatException or System.Text.DecoderFallbackException;

    public static JsonRpcError ToError(Exception ex) => new()
    {
        RequestId = RequestId.Null,
        Error = new JsonRpcError.ErrorDetail
        {
            Code = JsonRpcErrorCode.ParseError,
            Message = $"malformed message: {ex.Message}",
        },
    };
}

/// <summary>LSP base protocol framing (<c>Content-Length</c>) that answers malformed frames instead of disconnecting.</summary>
internal sealed class LspStreamMessageHandler(Stream sendingStream, Stream receivingStream, IJsonRpcMessageFormatter formatter)
    : HeaderDelimitedMessageHandler(sendingStream, receivingStream, formatter)
{
    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await base.ReadCoreAsync(cancellationToken);
            }
            catch (Exception ex) when (ParseErrors.IsMalformed(ex))
            {
                await WriteAsync(ParseErrors.ToError(ex), cancellationToken);
            }
        }
    }
}

/// <summary>One JSON-RPC message per WebSocket text message, answering malformed messages instead of disconnecting.</summary>
internal sealed class LspWebSocketMessageHandler(System.Net.WebSockets.WebSocket webSocket, IJsonRpcMessageFormatter formatter)
    : WebSocketMessageHandler(webSocket, formatter, sizeHint: 64 * 1024)
{
    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await base.ReadCoreAsync(cancellationToken);
            }
            catch (Exception ex) when (ParseErrors.IsMalformed(ex))
            {
                await WriteAsync(ParseErrors.ToError(ex), cancellationToken);
            }
        }
    }
}
