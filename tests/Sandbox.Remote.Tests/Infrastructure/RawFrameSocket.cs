using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Remote.Tests.Infrastructure;

/// <summary>
/// A WebSocket client written on a bare TCP socket: it sends exactly the frames a test builds (masked, as RFC 6455
/// requires of a client, even ones a conforming client would never send) and reports exactly what the host sends back,
/// including whether a close frame came at all (a .NET client reports both a missing close frame and a reset as 1006).
/// </summary>
internal sealed class RawFrameSocket : IAsyncDisposable
{
    public const byte Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    private readonly TcpClient tcp;
    private readonly NetworkStream stream;
    private readonly SemaphoreSlim sending = new(1, 1);

    private RawFrameSocket(TcpClient tcp)
    {
        this.tcp = tcp;
        stream = tcp.GetStream();
    }

    /// <summary>Opens a TCP connection to the host of <paramref name="uri"/> and completes the WebSocket handshake.</summary>
    public static async Task<RawFrameSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(uri.Host, uri.Port, cancellationToken);
            var socket = new RawFrameSocket(tcp);
            await socket.HandshakeAsync(uri, cancellationToken);
            return socket;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends one frame with a fresh random mask.</summary>
    public async Task SendFrameAsync(byte opcode, bool fin, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var header = new byte[14];
        header[0] = (byte)((fin ? 0x80 : 0) | opcode);
        int length;
        if (payload.Length < 126)
        {
            header[1] = (byte)(0x80 | payload.Length);
            length = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)payload.Length);
            length = 4;
        }
        else
        {
            header[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), (ulong)payload.Length);
            length = 10;
        }

        var mask = RandomNumberGenerator.GetBytes(4);
        mask.CopyTo(header, length);
        length += 4;
        var frame = new byte[length + payload.Length];
        header.AsSpan(0, length).CopyTo(frame);
        var body = payload.Span;
        for (var i = 0; i < body.Length; i++)
        {
            frame[length + i] = (byte)(body[i] ^ mask[i % 4]);
        }

        await sending.WaitAsync(cancellationToken);
        try
        {
            await stream.WriteAsync(frame, cancellationToken);
        }
        finally
        {
            sending.Release();
        }
    }

    /// <summary>Sends a close frame with a status code, as a client answers the host's close.</summary>
    public Task SendCloseAsync(ushort status, CancellationToken cancellationToken)
    {
        var payload = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(payload, status);
        return SendFrameAsync(Close, fin: true, payload, cancellationToken);
    }

    /// <summary>
    /// Reads frames until the host's close frame (answering pings, skipping data) and returns its status and reason; null
    /// when the connection ended (closed or reset) without a close frame, which a WebSocket client reports as 1006.
    /// </summary>
    public async Task<(int Status, string Reason)?> ReadCloseAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            (byte Opcode, bool Fin, byte[] Payload)? frame;
            try
            {
                frame = await ReadFrameAsync(cancellationToken);
            }
            catch (IOException)
            {
                return null;
            }

            switch (frame)
            {
                case null:
                    return null;
                case { Opcode: Close, Payload: var payload }:
                    return payload.Length >= 2
                        ? (BinaryPrimitives.ReadUInt16BigEndian(payload), Encoding.UTF8.GetString(payload, 2, payload.Length - 2))
                        : (1005, "");
                case { Opcode: Ping, Payload: var payload }:
                    try
                    {
                        await SendFrameAsync(Pong, fin: true, payload, cancellationToken);
                    }
                    catch (IOException)
                    {
                        // The host may already have stopped reading; its close frame can still be on the way.
                    }

                    break;
            }
        }
    }

    /// <summary>Reads one frame from the host (unmasked, as a server sends them); null at the end of the stream.</summary>
    public async Task<(byte Opcode, bool Fin, byte[] Payload)?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var header = new byte[2];
        if (!await ReadExactlyOrEndAsync(header, cancellationToken))
        {
            return null;
        }

        long length = header[1] & 0x7F;
        if (length == 126)
        {
            var extended = new byte[2];
            await stream.ReadExactlyAsync(extended, cancellationToken);
            length = BinaryPrimitives.ReadUInt16BigEndian(extended);
        }
        else if (length == 127)
        {
            var extended = new byte[8];
            await stream.ReadExactlyAsync(extended, cancellationToken);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(extended);
        }

        if ((header[1] & 0x80) != 0)
        {
            throw new InvalidDataException("the host sent a masked frame; a server must not mask");
        }

        var payload = new byte[checked((int)length)];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return ((byte)(header[0] & 0x0F), (header[0] & 0x80) != 0, payload);
    }

    public async ValueTask DisposeAsync()
    {
        await stream.DisposeAsync();
        tcp.Dispose();
        sending.Dispose();
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var count = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (count == 0)
            {
                return read == 0 ? false : throw new EndOfStreamException("the connection ended inside a frame header");
            }

            read += count;
        }

        return true;
    }

    private async Task HandshakeAsync(Uri uri, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);

        // Byte by byte up to the blank line, so no byte of the first frame is read as part of the headers.
        var response = new StringBuilder();
        var one = new byte[1];
        while (!response.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0 || response.Length > 8192)
            {
                throw new IOException($"the host ended the handshake: {response}");
            }

            response.Append((char)one[0]);
        }

        var headers = response.ToString();
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        if (!headers.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) || !headers.Contains($"Sec-WebSocket-Accept: {accept}", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"the host refused the WebSocket handshake: {headers}");
        }
    }
}
