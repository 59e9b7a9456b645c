using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
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
internal sealed class OutgoingRequests
{
    private readonly HashSet<RequestId> pending = [];

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

    public bool Answered(RequestId id)
    {
        lock (pending)
        {
            return pending.Remove(id);
        }
    }
}

/// <summary>
/// LSP base protocol framing (<c>Content-Length</c>) that answers malformed frames instead of disconnecting. The
/// headers are parsed here rather than by <see cref="HeaderDelimitedMessageHandler"/>: its reader leaves the bytes of a
/// bad header in the pipe, so retrying after its exception failed on the same bytes forever (a -32700 flood at full
/// CPU), and some headers (a negative or zero length, an unknown charset) threw exceptions that ended the session.
/// After a bad header the bytes are skipped up to the next <c>Content-Length:</c>, so the next good frame is served.
/// </summary>
internal sealed class LspStreamMessageHandler(Stream sendingStream, Stream receivingStream, IJsonRpcMessageFormatter formatter)
    : HeaderDelimitedMessageHandler(sendingStream, receivingStream, formatter)
{
    // The same cap as the WebSocket transport: more than any document an editor sends, and a bound on what one frame may make the server buffer.
    private const int MaxMessageBytes = 64 * 1024 * 1024;

    // Real headers are two short lines; a "header" longer than this is not one (and must not be buffered without end).
    private const int MaxHeaderBytes = 8 * 1024;

    // Set after a frame was answered with -32700 until a frame is read whole: the bytes of one bad frame are reported
    // once, not once per fragment the resynchronisation stumbles over (a too-short Content-Length leaves a body tail).
    private readonly OutgoingRequests sent = new();
    private bool resynchronising;

    private static ReadOnlySpan<byte> ContentLengthHeader => "Content-Length:"u8;

    protected override void Write(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        sent.Sending(content);
        base.Write(content, cancellationToken);
    }

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        var reader = Reader ?? throw new InvalidOperationException("the handler cannot read");
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var header = ParseHeader(buffer);
            if (header.Status == HeaderStatus.Incomplete)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return null;
                }

                continue;
            }

            if (header.Status == HeaderStatus.Malformed)
            {
                // Drop the first byte of the bad header, then everything up to the next header that may be good.
                reader.AdvanceTo(buffer.GetPosition(1));
                await ReportAsync(ParseErrors.ToError($"malformed header: {header.Problem}"), cancellationToken);
                if (!await SkipToNextContentLengthAsync(reader, cancellationToken))
                {
                    return null;
                }

                continue;
            }

            reader.AdvanceTo(header.End);
            var bodyResult = await reader.ReadAtLeastAsync(header.ContentLength, cancellationToken);
            if (bodyResult.Buffer.Length < header.ContentLength)
            {
                reader.AdvanceTo(bodyResult.Buffer.End);
                return null;
            }

            var body = bodyResult.Buffer.Slice(0, header.ContentLength);
            JsonRpcError? error;
            JsonRpcMessage? message = null;
            if (header.Problem is { } problem)
            {
                error = ParseErrors.ToError(problem);
            }
            else
            {
                (message, error) = ParseErrors.Deserialize(Formatter, body, sent);
            }

            reader.AdvanceTo(body.End);
            if (message is not null)
            {
                resynchronising = false;
                return message;
            }

            // A frame read whole is always answered (unless it was a stray response): its length was as good as any.
            resynchronising = false;
            await ReportAsync(error, cancellationToken);
            resynchronising = true;
        }
    }

    private async ValueTask ReportAsync(JsonRpcError? error, CancellationToken cancellationToken)
    {
        if (error is not null && !resynchronising)
        {
            await WriteAsync(error, cancellationToken);
        }

        resynchronising = true;
    }

    /// <summary>Skips bytes up to the next <c>Content-Length:</c> (anywhere: a too-short frame's tail runs into the next header); false at the end of the stream.</summary>
    private static async ValueTask<bool> SkipToNextContentLengthAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var sequence = new SequenceReader<byte>(result.Buffer);
            if (sequence.TryReadTo(out ReadOnlySequence<byte> _, ContentLengthHeader, advancePastDelimiter: false))
            {
                reader.AdvanceTo(sequence.Position);
                return true;
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(result.Buffer.End);
                return false;
            }

            // Keep a tail that may be the start of the name, split across reads.
            var keep = Math.Min(result.Buffer.Length, ContentLengthHeader.Length - 1);
            reader.AdvanceTo(result.Buffer.GetPosition(result.Buffer.Length - keep), result.Buffer.End);
        }
    }

    private enum HeaderStatus
    {
        Incomplete,
        Malformed,
        Complete,
    }

    /// <summary>A parsed header block. <c>Problem</c> with <c>Complete</c>: the body can be skipped but not read (an unsupported charset, no body).</summary>
    private readonly record struct Header(HeaderStatus Status, SequencePosition End = default, int ContentLength = 0, string? Problem = null);

    private static Header ParseHeader(ReadOnlySequence<byte> buffer)
    {
        var sequence = new SequenceReader<byte>(buffer);
        int? contentLength = null;
        string? problem = null;
        var sawHeader = false;
        while (true)
        {
            if (!sequence.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
            {
                return sequence.Remaining > MaxHeaderBytes
                    ? new Header(HeaderStatus.Malformed, Problem: $"no end of header within {MaxHeaderBytes} bytes")
                    : new Header(HeaderStatus.Incomplete);
            }

            if (sequence.Consumed > MaxHeaderBytes)
            {
                return new Header(HeaderStatus.Malformed, Problem: $"header longer than {MaxHeaderBytes} bytes");
            }

            // CRLF is the protocol's line end; a bare LF is accepted too (a hand-written frame, a client on a pipe that translated line ends).
            var line = Encoding.Latin1.GetString(raw).TrimEnd('\r');
            if (line.Length == 0)
            {
                if (!sawHeader)
                {
                    // Blank lines between frames carry nothing; skip them.
                    continue;
                }

                if (contentLength is not { } length)
                {
                    return new Header(HeaderStatus.Malformed, Problem: "no Content-Length header");
                }

                return new Header(HeaderStatus.Complete, sequence.Position, length, problem ?? (length == 0 ? "empty message (Content-Length: 0)" : null));
            }

            sawHeader = true;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return new Header(HeaderStatus.Malformed, Problem: $"'{Shorten(line)}' is not a 'Name: value' header");
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed > MaxMessageBytes)
                {
                    return new Header(HeaderStatus.Malformed, Problem: $"Content-Length '{Shorten(value)}' is not a number of bytes from 0 to {MaxMessageBytes}");
                }

                contentLength = parsed;
            }
            else if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && Charset(value) is { } charset
                     && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                problem = $"charset '{Shorten(charset)}' is not supported (only utf-8)";
            }
        }
    }

    private static string? Charset(string contentType)
    {
        foreach (var parameter in contentType.Split(';').Skip(1))
        {
            var pair = parameter.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pair.Length == 2 && pair[0].Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                return pair[1].Trim('"');
            }
        }

        return null;
    }

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "…" : text;
}

/// <summary>
/// One JSON-RPC message per WebSocket message (what vscode-ws-jsonrpc and browser LSP clients send), answering
/// malformed messages instead of disconnecting. Each message gets its own buffer, so a bad one leaves nothing behind
/// for the next (StreamJsonRpc's own WebSocket handler keeps the bytes of a message it failed to read).
/// </summary>
internal sealed class LspWebSocketMessageHandler(WebSocket webSocket, IJsonRpcMessageFormatter formatter) : MessageHandlerBase(formatter)
{
    private const int MaxMessageBytes = 64 * 1024 * 1024;

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

            var (message, error) = ParseErrors.Deserialize(Formatter, new ReadOnlySequence<byte>(buffer.WrittenMemory), sent);
            if (message is not null)
            {
                return message;
            }

            if (error is not null)
            {
                await WriteAsync(error, cancellationToken);
            }
        }
    }

    protected override async ValueTask WriteCoreAsync(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        sent.Sending(content);
        var buffer = new ArrayBufferWriter<byte>(1024);
        Formatter.Serialize(buffer, content);
        await webSocket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    protected override ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
