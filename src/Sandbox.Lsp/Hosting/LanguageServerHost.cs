using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sandbox.Lsp.Server;
using Sandbox.Lsp.Transport;
using Sandbox.Remote.Transport;

namespace Sandbox.Lsp.Hosting;

/// <summary>Starts language server sessions on either transport; one per client, all with the same handlers.</summary>
public sealed class LanguageServerHost(SandboxRpcFactory runnerFactory, IOptions<LanguageServerOptions> options, ILoggerFactory loggerFactory)
{
    private readonly ILogger logger = loggerFactory.CreateLogger<LanguageServerHost>();

    /// <summary>
    /// Serves one client over byte streams (stdio); returns the exit code LSP prescribes (0 after shutdown + exit, else 1).
    /// The client is taken to be the user who started the server: it may name files of this machine to read and the
    /// runner host to use.
    /// </summary>
    /// <param name="sendingStream">Frames to the client (stdout).</param>
    /// <param name="receivingStream">Frames from the client (stdin).</param>
    /// <param name="cancellationToken">Ends the session.</param>
    public async Task<int> RunStreamsAsync(Stream sendingStream, Stream receivingStream, CancellationToken cancellationToken)
    {
        await using var session = new LanguageServerSession(
            LspTransport.CreateStreamHandler(sendingStream, receivingStream),
            runnerFactory,
            options.Value,
            loggerFactory,
            ServerFileAccess.Allowed,
            ClientRunnerChoice.Allowed);
        return await session.RunAsync(cancellationToken);
    }

    /// <summary>
    /// Serves one client over an accepted WebSocket until it sends exit or disconnects. The client is across a network
    /// and this server may run as root: it never reads this machine's files on the client's say-so, and its runner is the
    /// one in <see cref="LanguageServerOptions.DefaultRunner"/>, whatever runner the client's settings name.
    /// </summary>
    public async Task RunWebSocketAsync(WebSocket webSocket, CancellationToken cancellationToken)
    {
        int code;
        await using (var session = new LanguageServerSession(
                   LspTransport.CreateWebSocketHandler(webSocket),
                   runnerFactory,
                   options.Value,
                   loggerFactory,
                   ServerFileAccess.Denied,
                   ClientRunnerChoice.Denied))
        {
            code = await session.RunAsync(cancellationToken);
        }

        logger.LogInformation("WebSocket session ended (exit code {Code})", code);
        // The client gets the close frame: 1000, or the status .NET's WebSocket failed the connection with (1007 for a
        // text message that is not UTF-8), which disposing the socket at once would lose to a TCP reset (1006).
        await WebSocketClosing.FinishAsync(webSocket, code == 0 ? "exit" : "exit without shutdown", cancellationToken);
    }
}
