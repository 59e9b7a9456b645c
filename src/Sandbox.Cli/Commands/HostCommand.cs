using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Sandbox.Remote.Queue;
using Sandbox.Remote.Server;
using Sandbox.Runner;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox host</c>: runs a runner host (WebSocket JSON-RPC at <c>/rpc</c>, <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>).</summary>
internal static class HostCommand
{
    public static Command Create()
    {
        var defaults = new SandboxHostOptions();
        var urls = new Option<string>("--urls")
        {
            Description = "Addresses to listen on, separated by ';'. A non-loopback address needs --token-file.",
            DefaultValueFactory = _ => defaults.Urls,
        };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = "File with the bearer token clients must send (chmod 600). Required off loopback.",
        };
        var slots = new Option<int?>("--slots") { Description = "Runs executing at once (default: the number of cores)." };
        var maxQueue = new Option<int>("--max-queue")
        {
            Description = "Runs that may wait for a slot; past this, requests fail at once with host-busy.",
            DefaultValueFactory = _ => defaults.MaxQueue,
        };
        var maxMessage = new Option<int>("--max-message-size")
        {
            Description = "Largest WebSocket message accepted, in MiB; a bigger one closes that connection.",
            DefaultValueFactory = _ => (int)(defaults.MaxMessageBytes / 1024 / 1024),
        };
        var maxConnections = new Option<int>("--max-connections")
        {
            Description = "WebSocket connections served at once.",
            DefaultValueFactory = _ => defaults.MaxConnections,
        };
        var maxTime = CliOptions.Seconds("--max-time-limit", "Largest CPU time limit a client may ask for, in seconds (default: the engine's).", text => $"--max-time-limit '{text}' is too large");
        var maxMemory = CliOptions.Megabytes("--max-memory-limit", "Largest memory limit a client may ask for, in MiB (default: the engine's).", text => $"--max-memory-limit '{text}' is above {int.MaxValue} MiB");
        var logFile = new Option<string?>("--log-file") { Description = "Rolling JSON log file (one per day, 14 kept), besides the console." };
        var logLevel = new Option<string>("--log-level")
        {
            Description = "verbose, debug, information, warning or error.",
            DefaultValueFactory = _ => defaults.LogLevel,
        };

        var queue = new Option<string?>("--queue")
        {
            Description = "Also consume the shared NATS JetStream work queue at this URL (nats://HOST:4222, tls://HOST:4222); see docs/scaling-out.md.",
        };
        var queueToken = new Option<string?>("--queue-token-file") { Description = "File with the NATS server's auth token, or --queue-user's password (chmod 600)." };
        var queueUser = new Option<string?>("--queue-user") { Description = "NATS user name (its password in --queue-token-file)." };
        var queueCreds = new Option<string?>("--queue-creds") { Description = "NATS credentials file (user JWT and seed, chmod 600)." };
        var queueCa = new Option<string?>("--queue-ca") { Description = "PEM file of the CAs to trust for the NATS server's TLS certificate." };
        var queueCert = new Option<string?>("--queue-cert") { Description = "PEM client certificate for mutual TLS with the NATS server (with --queue-key)." };
        var queueKey = new Option<string?>("--queue-key") { Description = "PEM key of --queue-cert (chmod 600)." };
        var queuePrefix = new Option<string>("--queue-prefix")
        {
            Description = "Subject prefix of the queue (several deployments can share one NATS server).",
            DefaultValueFactory = _ => "sandbox",
        };
        var ackWait = new Option<double>("--queue-ack-wait")
        {
            Description = "Seconds a job may go without a sign of life from its host before another host runs it.",
            DefaultValueFactory = _ => 15,
        };
        var maxPending = new Option<long>("--queue-max-pending")
        {
            Description = "Jobs the queue holds (waiting and running); past this, clients get host-busy at once.",
            DefaultValueFactory = _ => 1000,
        };
        var maxJobSize = new Option<int>("--queue-max-job-size")
        {
            Description = "Largest job in KiB (source, stdin and limits).",
            DefaultValueFactory = _ => 1024,
        };
        var hostId = new Option<string?>("--host-id") { Description = "This host's name in queue events, logs and metrics (default: machine name and process id)." };
        var drainTimeout = new Option<double>("--drain-timeout")
        {
            Description = "Seconds a stopping host (SIGTERM) lets its running jobs finish before they go back to the queue.",
            DefaultValueFactory = _ => 120,
        };

        var command = new Command("host", "Run a runner host: WebSocket JSON-RPC at /rpc, /healthz, /readyz and Prometheus /metrics; with --queue, also a consumer of the shared work queue.")
        {
            urls, tokenFile, slots, maxQueue, maxMessage, maxConnections, maxTime, maxMemory, logFile, logLevel,
            queue, queueToken, queueUser, queueCreds, queueCa, queueCert, queueKey, queuePrefix, ackWait, maxPending, maxJobSize, hostId, drainTimeout,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var limits = new ResourceLimits();
            if (parse.GetValue(maxTime) is { } seconds)
            {
                limits = limits with { CpuTime = TimeSpan.FromSeconds(seconds), WallTime = TimeSpan.FromSeconds(seconds * 2 + 1) };
            }

            if (parse.GetValue(maxMemory) is { } mb)
            {
                limits = limits with { MemoryBytes = mb * 1024L * 1024 };
            }

            var options = new SandboxHostOptions
            {
                Urls = parse.GetValue(urls)!,
                TokenFile = parse.GetValue(tokenFile),
                Slots = parse.GetValue(slots),
                MaxQueue = parse.GetValue(maxQueue),
                MaxMessageBytes = parse.GetValue(maxMessage) * 1024L * 1024,
                MaxConnections = parse.GetValue(maxConnections),
                MaxLimits = limits,
                LogFile = parse.GetValue(logFile),
                LogLevel = parse.GetValue(logLevel)!,
            };

            if (LocalhostWithPortZero(options.Urls) is { } named)
            {
                // Kestrel cannot pick one free port for both localhost addresses (127.0.0.1 and ::1) and throws at start.
                await Console.Error.WriteLineAsync($"sandbox host: --urls: port 0 needs an address, not a name: use {named.Replace("localhost", "127.0.0.1", StringComparison.OrdinalIgnoreCase)}");
                return CliOptions.UsageExit;
            }

            Microsoft.AspNetCore.Builder.WebApplication app;
            try
            {
                if (parse.GetValue(queue) is { } queueUrl)
                {
                    var defaultsQueue = new QueueHostOptions { Connection = new QueueConnection { Url = new Uri("nats://127.0.0.1") } };
                    options.Queue = new QueueHostOptions
                    {
                        Connection = new QueueConnection
                        {
                            Url = QueueConnection.ParseUrl(queueUrl, "--queue"),
                            TokenFile = parse.GetValue(queueToken),
                            User = parse.GetValue(queueUser),
                            CredsFile = parse.GetValue(queueCreds),
                            CaFile = parse.GetValue(queueCa),
                            CertFile = parse.GetValue(queueCert),
                            KeyFile = parse.GetValue(queueKey),
                            SubjectPrefix = parse.GetValue(queuePrefix)!,
                        },
                        HostId = parse.GetValue(hostId) ?? defaultsQueue.HostId,
                        AckWait = TimeSpan.FromSeconds(parse.GetValue(ackWait)),
                        MaxPending = parse.GetValue(maxPending),
                        MaxJobBytes = parse.GetValue(maxJobSize) * 1024,
                        DrainTimeout = TimeSpan.FromSeconds(parse.GetValue(drainTimeout)),
                    };
                }

                app = SandboxHost.Create(options, services =>
                {
                    services.AddSandboxRunner(engine =>
                    {
                        if (options.Slots is { } s)
                        {
                            engine.Slots = s;
                        }

                        // One maximum for the engine and for the host's admission checks.
                        engine.MaxLimits = options.MaxLimits;
                    });
                    services.AddSandboxJudging();
                });
            }
            catch (Exception ex) when (ex is SandboxHostConfigurationException or ArgumentException or Sandbox.Remote.Client.SandboxUsageException)
            {
                await Console.Error.WriteLineAsync($"sandbox host: {ex.Message}");
                return CliOptions.UsageExit;
            }

            await using (app)
            {
                try
                {
                    await ((IHost)app).RunAsync(cancellationToken);
                    return 0;
                }
                catch (IOException ex)
                {
                    // Kestrel reports a taken port as an IOException ("address already in use").
                    await Console.Error.WriteLineAsync($"sandbox host: cannot listen on {options.Urls}: {ex.Message}");
                    return CliOptions.InternalExit;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Never a stack trace and exit 1: one line and the contract's internal-error code (details are in the log).
                    await Console.Error.WriteLineAsync($"sandbox host: {ex.Message}");
                    return CliOptions.InternalExit;
                }
            }
        });

        return command;
    }

    /// <summary>The first of <paramref name="urls"/> that names <c>localhost</c> with port 0, if any.</summary>
    internal static string? LocalhostWithPortZero(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.IsLoopback && uri.Port == 0
                && uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase));
}
