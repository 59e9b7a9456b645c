using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Sandbox.Remote.Server;

/// <summary>
/// The byte stream under the server's WebSocket. When .NET's ManagedWebSocket fails a connection on a protocol error it
/// sends a close frame with a status and no reason (1007 for a text message that is not UTF-8, 1002 for a malformed
/// frame); this writes the same frame with a short reason a client can show, and remembers the status for the log.
/// </summary>
/// <remarks>
/// ManagedWebSocket writes each frame with one write, and a server's frames are not masked, so that frame is exactly the
/// four bytes <c>0x88 0x02</c> and the status. The host's own close frames always carry a reason and pass unchanged.
/// </remarks>
internal sealed class CloseReasonStream(Stream inner) : Stream
{
    private int failedWith;

    /// <summary>The status of the close frame ManagedWebSocket failed the connection with, or null.</summary>
    public WebSocketCloseStatus? ProtocolFailure => failedWith == 0 ? null : (WebSocketCloseStatus)failedWith;

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>The reason sent with a close status ManagedWebSocket sends bare, or null to leave the frame as it is.</summary>
    public static string? ReasonFor(WebSocketCloseStatus status) => status switch
    {
        WebSocketCloseStatus.InvalidPayloadData => "text message is not valid UTF-8",
        WebSocketCloseStatus.ProtocolError => "malformed WebSocket frame",
        _ => null,
    };

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(WithReason(buffer.AsMemory(offset, count)).Span);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(WithReason(buffer.AsMemory(offset, count)), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(WithReason(buffer), cancellationToken);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private ReadOnlyMemory<byte> WithReason(ReadOnlyMemory<byte> frame)
    {
        var bytes = frame.Span;
        if (bytes.Length != 4 || bytes[0] != 0x88 || bytes[1] != 0x02)
        {
            return frame;
        }

        var status = (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        if (ReasonFor(status) is not { } reason)
        {
            return frame;
        }

        Interlocked.CompareExchange(ref failedWith, (int)status, 0);
        // A close frame's payload is at most 125 bytes: the status and a reason this short fit in a one-byte length.
        var reasonBytes = Encoding.UTF8.GetBytes(reason);
        var replaced = new byte[4 + reasonBytes.Length];
        replaced[0] = 0x88;
        replaced[1] = (byte)(2 + reasonBytes.Length);
        BinaryPrimitives.WriteUInt16BigEndian(replaced.AsSpan(2), (ushort)status);
        reasonBytes.CopyTo(replaced, 4);
        return replaced;
    }
}

/// <summary>Hands the WebSocket middleware a <see cref="CloseReasonStream"/> over the connection instead of the bare one.</summary>
internal sealed class CloseReasonUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    /// <summary>The stream of the upgraded connection, once upgraded.</summary>
    public CloseReasonStream? Stream { get; private set; }

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        Stream = new CloseReasonStream(await inner.UpgradeAsync().ConfigureAwait(false));
        return Stream;
    }
}
