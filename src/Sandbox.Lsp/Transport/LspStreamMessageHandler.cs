using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Sandbox.Remote.Transport;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Sandbox.Lsp.Transport;

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
    internal const int MaxMessageBytes = 64 * 1024 * 1024;

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
