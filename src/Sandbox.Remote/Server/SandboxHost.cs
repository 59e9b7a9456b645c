using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Sandbox.Remote.InProcess;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Sandbox.Remote.Server;

/// <summary>
/// Builds a runner host: Kestrel serving WebSocket JSON-RPC at <c>/rpc</c>, <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.
/// <code>
/// var app = SandboxHost.Create(options, services => services.AddSandboxRunner());
/// await app.RunAsync(cancellationToken);
/// </code>
/// </summary>
public static class SandboxHost
{
    /// <summary>
    /// Validates <paramref name="options"/> (throwing <see cref="SandboxHostConfigurationException"/>), reads the token and
    /// builds the host. <paramref name="configureServices"/> registers the engine: ICodeRunner, IJudge, ILanguageCatalog,
    /// IProblemLibrary and optionally an <see cref="IRunnerReadiness"/>.
    /// </summary>
    public static WebApplication Create(SandboxHostOptions options, Action<IServiceCollection> configureServices, bool logToConsole = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configureServices);
        options.Validate();
        var token = options.TokenFile is null ? null : HostToken.FromFile(options.TokenFile);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SandboxHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls([.. options.UrlList]);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(CreateLogger(options, logToConsole), dispose: true);

        configureServices(builder.Services);
        builder.Services.AddSandboxRpc(rpc =>
        {
            rpc.MaxLimits = options.MaxLimits;
            rpc.MaxQueue = options.MaxQueue;
            rpc.Slots = options.Slots;
            // Clients name problems by id; a path would make the host read its own files for them.
            rpc.AllowProblemPaths = false;
        });
        // And the library itself: an id that is not in the library must not fall back to a file or folder of that
        // name in the host's working directory (a client could probe for, and make it parse, the host's own files).
        builder.Services.PostConfigure<Sandbox.Runner.Judging.ProblemLibraryOptions>(library => library.AllowPaths = false);
        builder.Services.AddSingleton<EngineLifecycle>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EngineLifecycle>());
        builder.Services.TryAddSingleton<IRunnerReadiness>(sp => sp.GetRequiredService<EngineLifecycle>());
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new RpcEndpoint(
            options,
            token,
            sp.GetRequiredService<InProcessSandboxRpc>(),
            sp.GetRequiredService<SandboxMetrics>(),
            sp.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>(),
            sp.GetRequiredService<ILogger<RpcEndpoint>>()));

        if (options.Queue is { } queue)
        {
            builder.Services.AddSingleton(queue);
            builder.Services.AddSingleton<Queue.QueueWorker>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<Queue.QueueWorker>());
            builder.Services.AddSingleton<Queue.IMetricsContributor>(sp => sp.GetRequiredService<Queue.QueueWorker>());
            // SIGTERM drains: running jobs get this long to finish before they go back to the queue.
            builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = queue.DrainTimeout);
        }

        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (IRunnerReadiness readiness, CancellationToken cancellationToken) =>
        {
            var report = await readiness.CheckAsync(cancellationToken).ConfigureAwait(false);
            return report.Ready
                ? Results.Text($"ready: {report.Detail}\n")
                : Results.Text($"not ready: {report.Detail}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        app.MapGet("/metrics", async (IServiceProvider services, CancellationToken cancellationToken) =>
        {
            // Constructing the runner wires the scheduler's gauges into the metrics.
            _ = services.GetRequiredService<InProcessSandboxRpc>();
            var text = new System.Text.StringBuilder(services.GetRequiredService<SandboxMetrics>().ToPrometheusText());
            foreach (var contributor in services.GetServices<Queue.IMetricsContributor>())
            {
                await contributor.WriteMetricsAsync(text, cancellationToken).ConfigureAwait(false);
            }

            return Results.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
        });
        app.Map("/rpc", (HttpContext context, RpcEndpoint endpoint) => endpoint.HandleAsync(context));
        return app;
    }

    /// <summary>The addresses a started host listens on (with the real port when the options asked for port 0).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var feature = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>();
        return feature?.Addresses.ToList() ?? [];
    }

    private static Serilog.ILogger CreateLogger(SandboxHostOptions options, bool logToConsole)
    {
        const string template = "[{Timestamp:HH:mm:ss} {Level:u3}] {RunId} {SourceContext}: {Message:lj}{NewLine}{Exception}";
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(Enum.Parse<LogEventLevel>(options.LogLevel, ignoreCase: true))
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting", LogEventLevel.Information)
            .Enrich.FromLogContext()
            .Enrich.With<RunIdPlaceholder>();
        if (logToConsole)
        {
            configuration = configuration.WriteTo.Console(outputTemplate: template);
        }

        if (options.LogFile is { } file)
        {
            configuration = configuration.WriteTo.File(
                new CompactJsonFormatter(),
                file,
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 14,
                fileSizeLimitBytes: 100L * 1024 * 1024,
                rollOnFileSizeLimit: true);
        }

        return configuration.CreateLogger();
    }

    /// <summary>Puts <c>-</c> in the RunId column of lines written outside a run.</summary>
    private sealed class RunIdPlaceholder : ILogEventEnricher
    {
        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory) =>
            logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("RunId", "-"));
    }
}
