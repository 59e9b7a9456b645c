using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Nerdbank.Streams;
using Sandbox.Lsp.Hosting;
using Sandbox.Lsp.Protocol;
using StreamJsonRpc;

namespace Sandbox.Lsp.Tests.Infrastructure;

/// <summary>A running server and a connected client, over one transport.</summary>
internal abstract class ServerConnection : IAsyncDisposable
{
    public required LspTestClient Client { get; init; }

    /// <summary>The session's exit code, where the transport exposes it (stdio); null otherwise.</summary>
    public Task<int>? ExitCode { get; init; }

    public abstract ValueTask DisposeAsync();
}

/// <summary>Starts servers over the LSP base protocol on an in-memory duplex stream (what stdio carries).</summary>
internal static class StdioServer
{
    public static ServerConnection Start(SandboxRpcFactory factory, Action<LanguageServerOptions>? configure, CancellationToken timeout, Stream? recordSending = null)
    {
        var (serverSide, clientSide) = FullDuplexStream.CreatePair();
        var options = new LanguageServerOptions { ConnectTimeout = TimeSpan.FromSeconds(5) };
        configure?.Invoke(options);
        var host = new LanguageServerHost(factory, Options.Create(options), NullLoggerFactory.Instance);
        Stream sending = recordSending is null ? serverSide : new TeeStream(serverSide, recordSending);
        var exitCode = Task.Run(() => host.RunStreamsAsync(sending, serverSide, timeout));
        var client = new LspTestClient(new HeaderDelimitedMessageHandler(clientSide, clientSide, LspJson.CreateFormatter()), timeout);
        return new Connection(clientSide, exitCode) { Client = client, ExitCode = exitCode };
    }

    /// <summary>Raw access for malformed-frame tests: the server and the client side of the byte stream.</summary>
    public static (Stream ClientSide, Task<int> ExitCode) StartRaw(SandboxRpcFactory factory, CancellationToken timeout)
    {
        var (serverSide, clientSide) = FullDuplexStream.CreatePair();
        var host = new LanguageServerHost(factory, Options.Create(new LanguageServerOptions()), NullLoggerFactory.Instance);
        return (clientSide, Task.Run(() => host.RunStreamsAsync(serverSide, serverSide, timeout)));
    }

    private sealed class Connection(Stream clientSide, Task<int> exitCode) : ServerConnection
    {
        public override async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await clientSide.DisposeAsync();
            try
            {
                await exitCode.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (OperationCanceledException)
            {
                // The test's timeout ended it.
            }
        }
    }

    /// <summary>Copies everything written to the server's sending stream, for the "only frames" assertion.</summary>
    private sealed class TeeStream(Stream inner, Stream copy) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (copy)
            {
                copy.Write(buffer, offset, count);
            }

            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (copy)
            {
                copy.Write(buffer.Span);
            }

            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

/// <summary>Starts servers behind <see cref="LanguageServerExtensions.MapSandboxLanguageServer"/> in a TestServer.</summary>
internal static class WebSocketServer
{
    public static async Task<IHost> StartHostAsync(SandboxRpcFactory factory, Action<LanguageServerOptions>? configure, CancellationToken timeout)
    {
        var host = new HostBuilder()
            .ConfigureWebHost(web => web
                .UseTestServer()
                .ConfigureServices(services => services
                    .AddRouting()
                    .AddSandboxLanguageServer(factory, o =>
                    {
                        o.ConnectTimeout = TimeSpan.FromSeconds(5);
                        configure?.Invoke(o);
                    }))
                .Configure(app => app.UseRouting().UseEndpoints(endpoints => endpoints.MapSandboxLanguageServer())))
            .ConfigureLogging(logging => logging.ClearProviders())
            .Build();
        await host.StartAsync(timeout);
        return host;
    }

    public static async Task<WebSocket> ConnectAsync(IHost host, CancellationToken timeout)
    {
        var server = host.GetTestServer();
        var client = server.CreateWebSocketClient();
        return await client.ConnectAsync(new Uri(server.BaseAddress, "lsp"), timeout);
    }

    public static async Task<ServerConnection> StartAsync(SandboxRpcFactory factory, Action<LanguageServerOptions>? configure, CancellationToken timeout)
    {
        var host = await StartHostAsync(factory, configure, timeout);
        var socket = await ConnectAsync(host, timeout);
        var client = new LspTestClient(new WebSocketMessageHandler(socket, LspJson.CreateFormatter()), timeout);
        return new Connection(host, socket) { Client = client };
    }

    private sealed class Connection(IHost host, WebSocket socket) : ServerConnection
    {
        public override async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            socket.Dispose();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(stop.Token);
            host.Dispose();
        }
    }
}
