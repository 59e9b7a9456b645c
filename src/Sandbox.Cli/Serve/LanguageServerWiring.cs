using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Lsp.Hosting;
using Sandbox.Remote.Contract;

namespace Sandbox.Cli.Serve;

/// <summary>Mounts Sandbox.Lsp's WebSocket endpoint at <c>/lsp</c> in the playground.</summary>
internal static class LanguageServerWiring
{
    /// <summary>The path the page connects to; keep in sync with editors/web/src/main.js (lspUrl).</summary>
    public const string Path = "/lsp";

    /// <summary>
    /// Registers the language server. Every session uses <paramref name="runner"/>, whatever runner a client's
    /// settings name: a web page must not make this server connect elsewhere. <paramref name="runner"/> must not
    /// be disposable (sessions dispose what the factory gives them); pass a <see cref="SharedSandboxRpc"/>.
    /// </summary>
    public static void AddLanguageServer(IServiceCollection services, ISandboxRpc runner)
    {
        if (runner is IDisposable or IAsyncDisposable)
        {
            throw new ArgumentException("the shared runner must not be disposable: each session would dispose it", nameof(runner));
        }

        services.AddSandboxLanguageServer((_, _) => Task.FromResult(runner));
    }

    /// <summary>Maps the language server's WebSocket endpoint.</summary>
    public static void MapLanguageServer(IEndpointRouteBuilder endpoints) => endpoints.MapSandboxLanguageServer(Path);
}
