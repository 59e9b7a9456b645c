using System.Net;
using Sandbox.Runner.Execution;

namespace Sandbox.Remote.Server;

/// <summary>Settings of a runner host (<c>sandbox host</c>). Each has a default; <see cref="Validate"/> runs at start-up.</summary>
public sealed class SandboxHostOptions
{
    /// <summary>Addresses to listen on, separated by <c>;</c>. Default <c>http://127.0.0.1:7070</c> (loopback only). Port 0 picks a free port.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:7070";

    /// <summary>
    /// File holding the bearer token clients must send (<c>Authorization: Bearer TOKEN</c>). Required when any address is not
    /// loopback; when set, required on loopback too. Must not be readable by group or others. There is no default token.
    /// </summary>
    public string? TokenFile { get; set; }

    /// <summary>Runs that may wait for a slot once all are busy; past this a request fails at once with <c>host-busy</c>. Default 64.</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>Runs executing at once; null means the engine's slot count (default: cores).</summary>
    public int? Slots { get; set; }

    /// <summary>Largest WebSocket message accepted, in bytes; a bigger one closes that connection (status 1009). Default 8 MiB.</summary>
    public long MaxMessageBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// Output and test results a connection may have waiting to be sent because its client is not reading them; past
    /// this the connection is dropped (its runs are cancelled). Default 32 MiB. Not a command-line option.
    /// </summary>
    internal long MaxUnsentBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>How long one message may wait for a client that does not read before its connection is dropped. Default 30 s.</summary>
    internal TimeSpan SendStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>WebSocket connections served at once; more are refused with HTTP 503. Default 512.</summary>
    public int MaxConnections { get; set; } = 512;

    /// <summary>The most a request may ask for; requests may only lower these.</summary>
    public ResourceLimits MaxLimits { get; set; } = new();

    /// <summary>Rolling log file (a new file each day, 14 kept); null logs to the console only.</summary>
    public string? LogFile { get; set; }

    /// <summary>Minimum log level: verbose, debug, information, warning, error. Default information.</summary>
    public string LogLevel { get; set; } = "information";

    /// <summary>When set, the host also consumes the shared NATS JetStream work queue (docs/scaling-out.md).</summary>
    public Queue.QueueHostOptions? Queue { get; set; }

    /// <summary>The URLs split into single addresses.</summary>
    public IReadOnlyList<string> UrlList =>
        Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>True when every address is a loopback address (so only local users can connect).</summary>
    public bool LoopbackOnly => UrlList.All(IsLoopbackUrl);

    /// <summary>Throws <see cref="SandboxHostConfigurationException"/> with one line naming the bad setting and the fix.</summary>
    public void Validate()
    {
        if (UrlList.Count == 0)
        {
            throw new SandboxHostConfigurationException("--urls is empty; give e.g. http://127.0.0.1:7070");
        }

        foreach (var url in UrlList)
        {
            if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                throw new SandboxHostConfigurationException($"--urls: '{url}' must start with http:// or https:// (clients then connect to ws://HOST:PORT/rpc)");
            }

            if (HostOf(url) is null)
            {
                throw new SandboxHostConfigurationException($"--urls: '{url}' has no host and port; give e.g. http://127.0.0.1:7070");
            }
        }

        if (MaxQueue < 0)
        {
            throw new SandboxHostConfigurationException($"--max-queue must be 0 or more (got {MaxQueue})");
        }

        if (Slots is < 1)
        {
            throw new SandboxHostConfigurationException($"--slots must be 1 or more (got {Slots})");
        }

        if (MaxMessageBytes is < 64 * 1024 or > 1024L * 1024 * 1024)
        {
            throw new SandboxHostConfigurationException($"--max-message-size must be between 64 KiB and 1 GiB (got {MaxMessageBytes} bytes)");
        }

        if (MaxConnections < 1)
        {
            throw new SandboxHostConfigurationException($"--max-connections must be 1 or more (got {MaxConnections})");
        }

        if (!Enum.TryParse<Serilog.Events.LogEventLevel>(LogLevel, ignoreCase: true, out _))
        {
            throw new SandboxHostConfigurationException($"--log-level '{LogLevel}' is not one of verbose, debug, information, warning, error");
        }

        if (Queue is not null)
        {
            try
            {
                Queue.Validate();
            }
            catch (Client.SandboxUsageException ex)
            {
                throw new SandboxHostConfigurationException(ex.Message);
            }
        }

        if (TokenFile is null && !LoopbackOnly)
        {
            throw new SandboxHostConfigurationException(
                $"refusing to listen on {Urls} without --token-file: anyone who can reach that address could run code here " +
                "(bind http://127.0.0.1:PORT, or create a token: `openssl rand -hex 32 > F && chmod 600 F`)");
        }
    }

    /// <summary>True for <c>localhost</c>, 127.0.0.0/8 and ::1; false for wildcards (<c>*</c>, <c>+</c>, 0.0.0.0, [::]) and any other name.</summary>
    public static bool IsLoopbackUrl(string url)
    {
        var host = HostOf(url);
        if (host is null)
        {
            return false;
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    private static string? HostOf(string url)
    {
        var start = url.IndexOf("://", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var rest = url[(start + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        string host;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? "" : authority[..(close + 1)];
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
        }

        return host.Length == 0 ? null : host;
    }
}

/// <summary>The host's settings are wrong; the message is one line naming the setting and the fix.</summary>
public sealed class SandboxHostConfigurationException(string message) : Exception(message);
