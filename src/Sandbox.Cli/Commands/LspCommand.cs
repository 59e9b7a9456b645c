using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Sandbox.Cli.Serve;
using Sandbox.Lsp.Hosting;
using Sandbox.Remote.Contract;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox lsp [--stdio | --ws URL [--allow-origin O] [--allow-host NAME]] [--runner URL] [--token-file F]</c>: the language server. In stdio mode stdout
/// carries LSP frames only (logs go to stderr; anything else that writes Console.Out is sent to stderr too).
/// </summary>
internal static class LspCommand
{
    /// <summary>Builds the command.</summary>
    /// <param name="runnerFactory">Makes the runner for a session: (runner URL or null for embedded, token file or null).</param>
    public static Command Create(Func<string?, string?, CancellationToken, Task<ISandboxRpc>> runnerFactory)
    {
        var stdio = new Option<bool>("--stdio") { Description = "Speak LSP over stdin/stdout (the default)" };
        var ws = new Option<string?>("--ws")
        {
            Description = "Serve LSP over WebSocket at URL, path /lsp unless the URL names one (e.g. http://127.0.0.1:7071); each client gets its own session",
        };
        var allowOrigin = new Option<string[]>("--allow-origin")
        {
            Description = "With --ws: a web page origin (e.g. http://localhost:3000) whose scripts may connect; repeat for more, * for any. "
                + "Browsers from other origins are refused (403); clients that send no Origin (editors, tools) are not browsers.",
            AllowMultipleArgumentsPerToken = false,
        };
        var allowHost = new Option<string[]>("--allow-host")
        {
            Description = "With --ws: a host name requests may be addressed to besides localhost, 127.0.0.1 and [::1] (a reverse proxy's public name); "
                + "repeat for more. Other names are refused (403), which stops DNS rebinding.",
            AllowMultipleArgumentsPerToken = false,
        };
        var runner = new Option<string?>("--runner")
        {
            Description = "Runner host URL (ws://HOST:7070/rpc); default: the embedded runner on this machine. "
                + "Over stdio a client's runnerUrl setting may name another; with --ws this is the only runner (clients' runner settings are ignored)",
        };
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding the runner host's bearer token" };
        var logLevel = new Option<LogLevel>("--log-level")
        {
            Description = "Lowest level logged to stderr (the client's window/logMessage level is set by its sandbox.trace setting)",
            DefaultValueFactory = _ => LogLevel.Information,
        };
        var command = new Command("lsp", "Run the language server (LSP over stdio, or over WebSocket with --ws)")
        {
            stdio, ws, allowOrigin, allowHost, runner, tokenFile, logLevel,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(stdio) && result.GetValue(ws) is not null)
            {
                result.AddError("--stdio and --ws exclude each other");
            }

            if (result.GetValue(allowOrigin) is { Length: > 0 } origins)
            {
                if (result.GetValue(ws) is null)
                {
                    result.AddError("--allow-origin only applies to --ws");
                }

                foreach (var origin in origins.Where(o => o != "*" && !(Uri.TryCreate(o, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && u.AbsolutePath == "/")))
                {
                    result.AddError($"--allow-origin '{origin}' must be an origin like http://localhost:3000 (scheme, host and port only), or *");
                }
            }
        });

        command.Validators.Add(result =>
        {
            if (result.GetValue(allowHost) is { Length: > 0 } hosts)
            {
                if (result.GetValue(ws) is null)
                {
                    result.AddError("--allow-host only applies to --ws");
                }

                foreach (var problem in hosts.Select(LoopbackGuard.CheckAllowedHost).OfType<string>())
                {
                    result.AddError(problem);
                }
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            SandboxRpcFactory factory = (endpoint, ct) => runnerFactory(endpoint.Url, endpoint.TokenFile, ct);
            var defaultRunner = new RunnerEndpoint(parse.GetValue(runner), parse.GetValue(tokenFile) is { } file ? Path.GetFullPath(file) : null);
            var level = parse.GetValue(logLevel);
            return parse.GetValue(ws) is { } url
                ? await ServeWebSocketAsync(url, parse.GetValue(allowOrigin) ?? [], parse.GetValue(allowHost) ?? [], factory, defaultRunner, level, cancellationToken)
                : await ServeStdioAsync(factory, defaultRunner, level, cancellationToken);
        });
        return command;
    }

    private static async Task<int> ServeStdioAsync(SandboxRpcFactory factory, RunnerEndpoint defaultRunner, LogLevel level, CancellationToken cancellationToken)
    {
        var sendingStream = Console.OpenStandardOutput();
        var receivingStream = Console.OpenStandardInput();
        // From here on stdout is the protocol channel: whatever writes Console.Out (a library, a stray debug line) lands on stderr.
        Console.SetOut(Console.Error);
        using var loggerFactory = LoggerFactory.Create(builder => ConfigureStderrLogging(builder, level));
        var host = new LanguageServerHost(factory, Options.Create(new LanguageServerOptions { DefaultRunner = defaultRunner }), loggerFactory);
        return await host.RunStreamsAsync(sendingStream, receivingStream, cancellationToken);
    }

    private static async Task<int> ServeWebSocketAsync(string url, string[] allowedOrigins, string[] allowedHosts, SandboxRpcFactory factory, RunnerEndpoint defaultRunner, LogLevel level, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "ws"))
        {
            await Console.Error.WriteLineAsync($"sandbox: --ws '{url}' must be a URL like http://127.0.0.1:7071 (ws:// works too)");
            return 2;
        }

        if (LoopbackGuard.RefuseNonLoopback(url, "--ws") is { } refusal)
        {
            CliOptions.Error($"lsp: {refusal}");
            return CliOptions.UsageExit;
        }

        var path = uri.AbsolutePath is "" or "/" ? "/lsp" : uri.AbsolutePath.TrimEnd('/');
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        ConfigureStderrLogging(builder.Logging, level);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // A failed start is reported below in one line; the host's own error log would repeat it with a stack trace.
        builder.Logging.AddFilter(ServeCommand.HostStartLogCategory, LogLevel.None);
        builder.WebHost.UseUrls($"http://{uri.Authority}");
        builder.Services.AddSandboxLanguageServer(factory, o => o.DefaultRunner = defaultRunner);
        await using var app = builder.Build();
        // Before the endpoint: a request for a foreign host name (DNS rebinding) never reaches the language server.
        app.UseLoopbackHostCheck(allowedHosts);
        LanguageServerWiring.RequireOrigin(app.MapSandboxLanguageServer(path), [.. allowedOrigins.Select(o => o.TrimEnd('/'))]);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            // Kestrel reports a taken port as an IOException ("address already in use").
            CliOptions.Error($"lsp: cannot listen on {url}: {e.Message}");
            return CliOptions.InternalExit;
        }

        foreach (var address in app.Urls)
        {
            // One line per address on stderr, for people and for scripts that start the server on port 0.
            await Console.Error.WriteLineAsync($"sandbox lsp: listening on {address.Replace("http://", "ws://", StringComparison.Ordinal)}{path}");
        }

        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM.
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stop.Token);
        return 0;
    }

    private static void ConfigureStderrLogging(ILoggingBuilder builder, LogLevel level)
    {
        builder.SetMinimumLevel(level);
        builder.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
