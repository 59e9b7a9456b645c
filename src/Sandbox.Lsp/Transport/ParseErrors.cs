using System.Buffers;
using System.Net.WebSockets;
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

/// <summary>
/// One JSON-RPC message per WebSocket message (what vscode-ws-jsonrpc and browser LSP clients send), answering
/// malformed messages instead of disconnecting. Each message gets its own buffer, so a bad one leaves nothing behind
/// for the next (StreamJsonRpc's own WebSocket handler keeps the bytes of a message it failed to read).
/// </summary>
internal sealed class LspWebSocketMessageHandler(WebSocket webSocket, IJsonRpcMessageFormatter formatter) : MessageHandlerBase(formatter)
{
    private const int MaxMessageBytes = 64 * 1024 * 1024;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var buffer = new ArrayBufferWriter<byte>(4096);
            ValueWebSocketReceiveResult result;
            do
            {
                result = await webSocket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                buffer.Advance(result.Count);
                if (buffer.WrittenCount > MaxMessageBytes)
                {
                    await webSocket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", cancellationToken);
                    return null;
                }
            }
            while (!result.EndOfMessage);

            try
            {
                return Formatter.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));
            }
            catch (Exception ex) when (ParseErrors.IsMalformed(ex))
            {
                await WriteAsync(ParseErrors.ToError(ex), cancellationToken);
            }
        }
    }

    protected override async ValueTask WriteCoreAsync(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        Formatter.Serialize(buffer, content);
        await webSocket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    protected override ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
