using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Cli.Serve;
using Sandbox.Remote.Contract;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox serve [--urls URL] [--runner URL] [--token-file F] [--data DIR] [--allow-host NAME]</c>: the web playground.</summary>
internal static class ServeCommand
{
    /// <summary>The first line printed once the playground listens; tests and scripts read the address from it.</summary>
    public const string ListeningPrefix = "Sandbox playground listening on ";

    /// <summary>The logger category under which the generic host logs a failed start (with its stack trace).</summary>
    internal const string HostStartLogCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>
    /// Creates the command. <paramref name="rpcFactory"/> makes the runner connection (embedded when the URL is null)
    /// for each language server session of the page.
    /// </summary>
    public static Command Create(Func<string?, string?, CancellationToken, Task<ISandboxRpc>> rpcFactory)
    {
        var defaults = new PlaygroundOptions();
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen (semicolon-separated URLs). Port 0 picks a free port.",
            DefaultValueFactory = _ => defaults.Urls,
        };
        var runner = CliOptions.Runner();
        var tokenFile = CliOptions.TokenFile();
        var allowHost = new Option<string[]>("--allow-host")
        {
            Description = "A host name requests may be addressed to besides localhost, 127.0.0.1 and [::1]: a reverse proxy's public name "
                + "(when it keeps the Host header); repeat for more. Other names are refused (403), which stops DNS rebinding.",
            AllowMultipleArgumentsPerToken = false,
        };
        var data = new Option<string?>("--data")
        {
            Description = $"Folder for the share database. Default: {defaults.DataDirectory}",
        };

        var command = new Command("serve", "Serve the web playground: the page at /, the language server over WebSocket at /lsp, shared runs at /s/{id}.")
        {
            urls,
            runner,
            tokenFile,
            data,
            allowHost,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = defaults with
            {
                Urls = parseResult.GetValue(urls) ?? defaults.Urls,
                DataDirectory = parseResult.GetValue(data) ?? defaults.DataDirectory,
                AllowedHosts = parseResult.GetValue(allowHost) ?? [],
            };
            try
            {
                options.Validate();
            }
            catch (InvalidOperationException e)
            {
                CliOptions.Error($"serve: {e.Message}");
                return CliOptions.UsageExit;
            }

            return await RunAsync(
                options,
                parseResult.GetValue(runner),
                parseResult.GetValue(tokenFile)?.FullName,
                rpcFactory,
                parseResult.InvocationConfiguration.Output,
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        PlaygroundOptions options,
        string? runnerUrl,
        string? tokenFile,
        Func<string?, string?, CancellationToken, Task<ISandboxRpc>> rpcFactory,
        TextWriter output,
        CancellationToken cancellationToken)
    {
        // One runner for every tab, made (and for the embedded runner, provisioned) before the page is served,
        // so the first Run does not pay for it.
        ISandboxRpc runner;
        try
        {
            runner = await rpcFactory(runnerUrl, tokenFile, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var (code, message) = ErrorMapping.Classify(e);
            CliOptions.Error($"serve: cannot start the runner: {message}");
            return code;
        }

        try
        {
            await using var app = PlaygroundApp.Build(
                options,
                services => LanguageServerWiring.AddLanguageServer(services, new SharedSandboxRpc(runner)),
                LanguageServerWiring.MapLanguageServer,
                // A failed start is reported below in one line; the host's own error log would repeat it with a stack trace.
                builder => builder.Logging.AddFilter(HostStartLogCategory, LogLevel.None));
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                // Kestrel reports a taken port as an IOException ("address already in use").
                CliOptions.Error($"serve: cannot listen on {options.Urls}: {e.Message}");
                return CliOptions.InternalExit;
            }

            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            await output.WriteLineAsync(ListeningPrefix + string.Join(' ', addresses));
            await output.FlushAsync(cancellationToken);
            try
            {
                await app.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C or SIGTERM: a normal stop.
            }

            return 0;
        }
        finally
        {
            await runner.DisposeIfDisposableAsync();
        }
    }
}
