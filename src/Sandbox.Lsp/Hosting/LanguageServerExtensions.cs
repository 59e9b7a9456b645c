using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Sandbox.Lsp.Hosting;

/// <summary>Registration of the language server in a host (the <c>sandbox lsp</c> command, the web playground).</summary>
public static class LanguageServerExtensions
{
    /// <summary>Registers <see cref="LanguageServerHost"/>, its options and the factory that makes each session's runner.</summary>
    public static IServiceCollection AddSandboxLanguageServer(
        this IServiceCollection services, SandboxRpcFactory runnerFactory, Action<LanguageServerOptions>? configure = null)
    {
        services.AddLogging();
        services.AddOptions<LanguageServerOptions>()
            .Configure(o => configure?.Invoke(o))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton(runnerFactory);
        services.AddSingleton<LanguageServerHost>();
        return services;
    }

    /// <summary>
    /// Serves LSP over WebSocket at <paramref name="path"/>: each connection is its own session, one JSON-RPC message
    /// per text message. Brings its own WebSocket middleware, so the host needs only routing and
    /// <see cref="AddSandboxLanguageServer"/>.
    /// </summary>
    public static IEndpointConventionBuilder MapSandboxLanguageServer(this IEndpointRouteBuilder endpoints, string path = "/lsp")
    {
        var pipeline = endpoints.CreateApplicationBuilder();
        pipeline.UseWebSockets();
        pipeline.Run(ServeAsync);
        return endpoints.Map(path, pipeline.Build()).WithDisplayName("Sandbox language server (WebSocket)");
    }

    private static async Task ServeAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("Sandbox language server: connect with a WebSocket (LSP, one JSON-RPC message per text message).\n", context.RequestAborted);
            return;
        }

        var host = context.RequestServices.GetRequiredService<LanguageServerHost>();
        using var webSocket = await context.WebSockets.AcceptWebSocketAsync();
        await host.RunWebSocketAsync(webSocket, context.RequestAborted);
    }
}
