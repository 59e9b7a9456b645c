using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Sandbox.Cli.Serve;

/// <summary>
/// The <c>sandbox serve</c> web app: the page at <c>/</c>, the language server at <c>/lsp</c> (mapped by the caller),
/// shares at <c>/s/{id}</c> and <c>/api/shares</c>.
/// </summary>
public static class PlaygroundApp
{
    /// <summary>
    /// Builds the app. <paramref name="configureServices"/> registers what the language server needs (the
    /// <c>ISandboxRpc</c>); <paramref name="mapLanguageServer"/> mounts it; <paramref name="configureBuilder"/> lets
    /// tests swap the server for a TestServer.
    /// </summary>
    public static WebApplication Build(
        PlaygroundOptions options,
        Action<IServiceCollection> configureServices,
        Action<IEndpointRouteBuilder> mapLanguageServer,
        Action<WebApplicationBuilder>? configureBuilder = null)
    {
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = options.WebRoot,
        });
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // ServeCommand prints the one line that matters (where it listens); the host's start-up chatter is noise.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Services.AddPlayground(options);
        configureServices(builder.Services);
        configureBuilder?.Invoke(builder);

        var app = builder.Build();
        app.UsePlayground(options, mapLanguageServer);
        return app;
    }

    /// <summary>Registers the share store (SQLite unless another <see cref="ISharedRunStore"/> is registered first), limits and compression.</summary>
    public static IServiceCollection AddPlayground(this IServiceCollection services, PlaygroundOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton<ISharedRunStore>(sp =>
            new SqliteSharedRunStore(options.DatabasePath, sp.GetRequiredService<ILogger<SqliteSharedRunStore>>()));
        services.AddResponseCompression(compression =>
        {
            compression.EnableForHttps = true;
            compression.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(["image/svg+xml"]);
        });
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                }

                await Results.Problem(
                        statusCode: StatusCodes.Status429TooManyRequests,
                        title: "Too many shares from this address; try again in a minute.")
                    .ExecuteAsync(context.HttpContext);
            };
            limiter.AddPolicy(ShareEndpoints.CreatePolicy, http => RateLimitPartition.GetTokenBucketLimiter(
                ClientKey(http),
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Shares.BurstPerClient,
                    TokensPerPeriod = options.Shares.PerClientPerPeriod,
                    ReplenishmentPeriod = options.Shares.ReplenishPeriod,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        });
        return services;
    }

    /// <summary>The middleware and endpoints, in the order they must run.</summary>
    public static WebApplication UsePlayground(this WebApplication app, PlaygroundOptions options, Action<IEndpointRouteBuilder> mapLanguageServer)
    {
        // First: a request for a foreign host name (DNS rebinding) gets neither the page, the shares nor the language server.
        app.UseLoopbackHostCheck(options.AllowedHosts);
        app.UseResponseCompression();
        app.Use(AddSecurityHeaders);
        var files = new PhysicalFileProvider(Path.GetFullPath(options.WebRoot));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            // File names carry no hash: make browsers revalidate (ETag) so a new build is picked up at once.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.UseRouting();
        app.UseRateLimiter();
        app.MapShareEndpoints();
        app.MapGet("/healthz", () => Results.Text("ok"));
        mapLanguageServer(app);
        return app;
    }

    /// <summary>The rate-limit partition of a request: its remote address (the proxy's, behind one).</summary>
    internal static string ClientKey(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static Task AddSecurityHeaders(HttpContext http, RequestDelegate next)
    {
        var headers = http.Response.Headers;
        // Scripts only from this origin; CodeMirror injects its own styles, hence 'unsafe-inline' for styles only.
        headers.ContentSecurityPolicy =
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
            "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return next(http);
    }
}
