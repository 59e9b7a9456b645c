using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Remote.Contract;

namespace Sandbox.Cli.Serve;

/// <summary>Mounts Sandbox.Lsp's WebSocket endpoint at <c>/lsp</c> in the playground.</summary>
internal static class LanguageServerWiring
{
    /// <summary>Registers the language server with the runner the sessions use by default.</summary>
    public static void AddLanguageServer(
        IServiceCollection services,
        string? runnerUrl,
        string? tokenFile,
        Func<string?, string?, CancellationToken, Task<ISandboxRpc>> rpcFactory)
    {
        // Wired once Sandbox.Lsp's hosting API is on main.
        _ = services;
        _ = runnerUrl;
        _ = tokenFile;
        _ = rpcFactory;
    }

    /// <summary>Maps the language server's WebSocket endpoint.</summary>
    public static void MapLanguageServer(IEndpointRouteBuilder endpoints) => _ = endpoints;
}
