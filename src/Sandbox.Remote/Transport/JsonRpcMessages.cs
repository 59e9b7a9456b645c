using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Sandbox.Remote.Transport;

/// <summary>
/// A frame whose body is not JSON-RPC gets a <c>-32700</c> parse error (with a null id, as JSON-RPC prescribes) and the
/// connection keeps going: one bad message from a client must not end the session (and what it has running).
/// </summary>
public static class ParseErrors
{
    // Validate's answer for a message that is dropped without a reply: a bad notification or response has no one to answer.
    private static readonly JsonRpcError Dropped = new();

    public static bool IsMalformed(Exception ex) => ex is JsonException or BadRpcHeaderException or UnrecognizedJsonRpcMessageException
        or FormatException or System.Text.DecoderFallbackException;

    public static JsonRpcError ToError(string message, JsonRpcErrorCode code = JsonRpcErrorCode.ParseError, RequestId id = default) => new()
    {
        RequestId = id.IsEmpty ? RequestId.Null : id,
        Error = new JsonRpcError.ErrorDetail { Code = code, Message = message },
    };

    /// <summary>
    /// Reads one message body: the message, or the error to answer it with (null for a body that must not be answered,
    /// such as a malformed response to a request the server never sent).
    /// </summary>
    public static (JsonRpcMessage? Message, JsonRpcError? Error) Deserialize(IJsonRpcMessageFormatter formatter, ReadOnlySequence<byte> body, OutgoingRequests sent)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return (null, ToError($"malformed message: {ex.Message}"));
        }

        using (document)
        {
            if (Validate(document.RootElement, sent) is { } invalid)
            {
                return (null, ReferenceEquals(invalid, Dropped) ? null : invalid);
            }
        }

        try
        {
            return (formatter.Deserialize(body), null);
        }
        catch (Exception ex) when (IsMalformed(ex) || ex is InvalidOperationException or ArgumentException or NotSupportedException)
        {
            return (null, ToError($"malformed message: {ex.Message}"));
        }
    }

    /// <summary>
    /// Checks the JSON-RPC shape StreamJsonRpc relies on; a message it cannot dispatch ended the whole connection
    /// (a null or numeric method, params that are not an object or array, a response to an id never sent).
    /// </summary>
    private static JsonRpcError? Validate(JsonElement root, OutgoingRequests sent)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return ToError($"malformed message: a JSON-RPC message is an object, not {Describe(root.ValueKind)}");
        }

        var hasId = root.TryGetProperty("id", out var idElement);
        RequestId id = idElement.ValueKind switch
        {
            JsonValueKind.String => new RequestId(idElement.GetString()),
            JsonValueKind.Number when idElement.TryGetInt64(out var number) => new RequestId(number),
            _ => RequestId.Null,
        };
        if (!root.TryGetProperty("method", out var method))
        {
            if (root.TryGetProperty("result", out _) || root.TryGetProperty("error", out _))
            {
                // A response: never answered, and passed on only when it answers a request the server is waiting for.
                return IsWellFormedResponse(root) && sent.Answered(id) ? null : Dropped;
            }

            return ToError("invalid request: no \"method\"", JsonRpcErrorCode.InvalidRequest, id);
        }

        if (method.ValueKind != JsonValueKind.String)
        {
            return hasId ? ToError($"invalid request: \"method\" is {Describe(method.ValueKind)}, not a string", JsonRpcErrorCode.InvalidRequest, id) : Dropped;
        }

        if (hasId && idElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
        {
            return ToError($"invalid request: \"id\" is {Describe(idElement.ValueKind)}, not a string or number", JsonRpcErrorCode.InvalidRequest);
        }

        if (root.TryGetProperty("params", out var parameters) && parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
        {
            return hasId
                ? ToError($"invalid params for {method.GetString()}: params are {Describe(parameters.ValueKind)}, not an object or array", JsonRpcErrorCode.InvalidParams, id)
                : Dropped;
        }

        return null;
    }

    private static bool IsWellFormedResponse(JsonElement root) =>
        root.TryGetProperty("id", out var id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number
        && (root.TryGetProperty("result", out _) ^ root.TryGetProperty("error", out _)) &&
        (!root.TryGetProperty("error", out var error)
        || (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number
            && code.TryGetInt32(out _) && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String));

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Undefined => "missing",
        _ => "null",
    };
}

/// <summary>
/// The ids of the server's own requests still awaiting a response. StreamJsonRpc ends the connection on a response to
/// an id it never sent, so a response is passed on only when it answers one of these (once); others are dropped.
/// </summary>
public sealed class OutgoingRequests
{
    private readonly HashSet<RequestId> pending = [];

    /// <summary>Notes a message about to be sent (only requests are remembered).</summary>
    public void Sending(JsonRpcMessage message)
    {
        if (message is JsonRpcRequest { RequestId.IsEmpty: false } request)
        {
            lock (pending)
            {
                pending.Add(request.RequestId);
            }
        }
    }

    /// <summary>True, once, when <paramref name="id"/> is that of a request sent and not answered yet.</summary>
    public bool Answered(RequestId id)
    {
        lock (pending)
        {
            return pending.Remove(id);
        }
    }
}

/// <summary>
/// One JSON-RPC message per WebSocket text message (the runner host's protocol, and what vscode-ws-jsonrpc and browser
/// LSP clients send), answering
/// malformed messages instead of disconnecting. Each message gets its own buffer, so a bad one leaves nothing behind
/// for the next (StreamJsonRpc's own WebSocket handler keeps the bytes of a message it failed to read).
/// </summary>
public sealed class TolerantWebSocketMessageHandler(WebSocket webSocket, IJsonRpcMessageFormatter formatter, long maxMessageBytes) : MessageHandlerBase(formatter)
{

    private readonly OutgoingRequests sent = new();

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
                result = await webSocket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                buffer.Advance(result.Count);
                if (buffer.WrittenCount > maxMessageBytes)
                {
                    await webSocket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", cancellationToken).ConfigureAwait(false);
                    return null;
                }
            }
            while (!result.EndOfMessage);

            var (message, error) = ParseErrors.Deserialize(Formatter, new ReadOnlySequence<byte>(buffer.WrittenMemory), sent);
            if (message is not null)
            {
                return message;
            }

            if (error is not null)
            {
                await WriteAsync(error, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    protected override async ValueTask WriteCoreAsync(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        sent.Sending(content);
        var buffer = new ArrayBufferWriter<byte>(1024);
        Formatter.Serialize(buffer, content);
        await webSocket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
    }

    protected override ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
