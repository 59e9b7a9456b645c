using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
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
    /// Registers the language server. Every session uses <paramref name="runner"/>: WebSocket sessions ignore a
    /// client's runner settings anyway (a web page must not make this server connect elsewhere), and the factory
    /// returns the shared runner whatever endpoint it is asked for. <paramref name="runner"/> must not
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

    /// <summary>Maps the language server's WebSocket endpoint for this server's own page only (see <see cref="RequireOrigin"/>).</summary>
    public static void MapLanguageServer(IEndpointRouteBuilder endpoints) => RequireOrigin(endpoints.MapSandboxLanguageServer(Path), []);

    /// <summary>
    /// Lets a browser open the language server's WebSocket only from this server's own pages or from
    /// <paramref name="allowedOrigins"/> (<c>*</c>: any). WebSockets are not bound by the browser's same-origin policy:
    /// without this check any site the user visits could open ws://127.0.0.1:PORT/lsp and run code through this
    /// machine's runner (cross-site WebSocket hijacking). Browsers always send <c>Origin</c> on the handshake, so a
    /// foreign one is refused (403); clients that send none (editors, tools) are not browsers and are let through.
    /// </summary>
    public static void RequireOrigin(IEndpointConventionBuilder endpoint, IReadOnlyCollection<string> allowedOrigins) =>
        endpoint.Add(builder =>
        {
            var serve = builder.RequestDelegate ?? throw new InvalidOperationException("the language server endpoint has no handler");
            builder.RequestDelegate = context =>
            {
                if (IsAllowedOrigin(context.Request, allowedOrigins))
                {
                    return serve(context);
                }

                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return context.Response.WriteAsync($"Sandbox language server: pages from {context.Request.Headers.Origin} may not connect.\n", context.RequestAborted);
            };
        });

    /// <summary>
    /// True when the request has no <c>Origin</c>, one naming this server (the host and port the request was sent to;
    /// the scheme is not compared, so a TLS-terminating proxy in front keeps working), or one of <paramref name="allowedOrigins"/>.
    /// </summary>
    internal static bool IsAllowedOrigin(HttpRequest request, IReadOnlyCollection<string> allowedOrigins)
    {
        var origin = request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(origin) || allowedOrigins.Contains("*"))
        {
            return true;
        }

        if (allowedOrigins.Any(allowed => string.Equals(allowed.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && request.Host.HasValue
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
