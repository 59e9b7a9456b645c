using System.Net;
using NATS.Client.Core;
using Sandbox.Remote.Client;
using Sandbox.Remote.Server;

namespace Sandbox.Remote.Queue;

/// <summary>
/// How to reach the NATS server that carries the work queue: its URL (<c>nats://HOST:4222</c>, or <c>tls://HOST:4222</c> to
/// require TLS) and the credentials to present. There is no default password: a server off loopback must be reached with
/// credentials (a token file or a NATS <c>.creds</c> file), or the connection is refused before it is made.
/// </summary>
public sealed class QueueConnection
{
    /// <summary>The NATS server, e.g. <c>nats://127.0.0.1:4222</c>; <c>tls://</c> requires TLS.</summary>
    public required Uri Url { get; init; }

    /// <summary>A file holding a NATS auth token, or <see cref="User"/>'s password when a user is given (chmod 600); or null.</summary>
    public string? TokenFile { get; init; }

    /// <summary>A NATS user name (its password in <see cref="TokenFile"/>), or null for token or credentials-file auth.</summary>
    public string? User { get; init; }

    /// <summary>A NATS credentials file (user JWT and NKey seed, chmod 600), or null.</summary>
    public string? CredsFile { get; init; }

    /// <summary>A PEM file of the certificate authorities to trust for the server's TLS certificate, or null for the system's.</summary>
    public string? CaFile { get; init; }

    /// <summary>A PEM client certificate and its key for mutual TLS, or null.</summary>
    public string? CertFile { get; init; }

    /// <summary>The key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>The subject prefix of every subject the queue uses (<c>sandbox</c>); lets several deployments share a server.</summary>
    public string SubjectPrefix { get; init; } = "sandbox";

    /// <summary>The address as logs and messages show it (no credentials).</summary>
    public string Display => $"{Url.Scheme}://{Url.Host}:{(Url.IsDefaultPort ? 4222 : Url.Port)}";

    /// <summary>Parses <c>nats://HOST:PORT</c> or <c>tls://HOST:PORT</c>; throws <see cref="SandboxUsageException"/> on anything else.</summary>
    public static Uri ParseUrl(string url, string optionName)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls") || string.IsNullOrEmpty(uri.Host))
        {
            throw new SandboxUsageException($"{optionName} '{url}' must be a NATS URL like nats://127.0.0.1:4222 (tls://HOST:4222 to require TLS)");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            // A password in a URL ends up in process listings and shell history.
            throw new SandboxUsageException($"{optionName}: put no user or password in the URL; use a token file or a NATS .creds file");
        }

        if (uri.AbsolutePath is not ("/" or ""))
        {
            throw new SandboxUsageException($"{optionName} '{url}' must have no path (nats://HOST:PORT)");
        }

        return uri;
    }

    /// <summary>True when the server is on this machine (loopback address or localhost).</summary>
    public bool IsLoopback =>
        Url.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(Url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Checks the settings: files exist and are private, a remote server gets credentials, the prefix is a plain token.</summary>
    public void Validate(string optionName)
    {
        if (SubjectPrefix.Length == 0 || SubjectPrefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new SandboxUsageException($"queue subject prefix '{SubjectPrefix}' may only hold letters, digits, '-' and '_'");
        }

        if (User is not null && TokenFile is null)
        {
            throw new SandboxUsageException($"{optionName}: the NATS user '{User}' needs its password in a file (--queue-token-file F, or --token-file F for a client)");
        }

        if (TokenFile is null && CredsFile is null && CertFile is null && !IsLoopback)
        {
            throw new SandboxUsageException(
                $"refusing to use the queue at {Display} without credentials: anyone who can publish to it could run code on the hosts " +
                "(give --queue-token-file F or --queue-creds F, see docs/scaling-out.md)");
        }

        foreach (var (file, name) in new[] { (TokenFile, "token file"), (CredsFile, "credentials file"), (KeyFile, "TLS key") })
        {
            if (file is not null)
            {
                CheckPrivateFile(file, name, optionName);
            }
        }

        foreach (var (file, name) in new[] { (CaFile, "CA file"), (CertFile, "certificate file") })
        {
            if (file is not null && !File.Exists(file))
            {
                throw new SandboxUsageException($"{optionName}: {name} {file} does not exist");
            }
        }

        if ((CertFile is null) != (KeyFile is null))
        {
            throw new SandboxUsageException($"{optionName}: a client certificate needs its key (give both, or neither)");
        }
    }

    /// <summary>The NATS client options for this connection; <paramref name="name"/> shows in the server's connection list.</summary>
    internal NatsOpts ToNatsOpts(string name, bool retryForever)
    {
        var auth = NatsAuthOpts.Default;
        if (TokenFile is not null)
        {
            var secret = HostToken.ReadClientToken(TokenFile);
            auth = User is null ? auth with { Token = secret } : auth with { Username = User, Password = secret };
        }

        if (CredsFile is not null)
        {
            auth = auth with { CredsFile = CredsFile };
        }

        var tls = NatsTlsOpts.Default;
        if (Url.Scheme == "tls" || CaFile is not null || CertFile is not null)
        {
            tls = tls with { Mode = TlsMode.Require, CaFile = CaFile, CertFile = CertFile, KeyFile = KeyFile };
        }

        var port = Url.IsDefaultPort ? 4222 : Url.Port;
        return NatsOpts.Default with
        {
            Url = $"nats://{Url.Host}:{port}",
            Name = name,
            AuthOpts = auth,
            TlsOpts = tls,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = TimeSpan.FromSeconds(5),
            CommandTimeout = TimeSpan.FromSeconds(5),
            ReconnectWaitMin = TimeSpan.FromMilliseconds(200),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            MaxReconnectRetry = -1,
            RetryOnInitialConnect = retryForever,
            // A client must not queue publishes for a server that is down: it says so at once instead.
            PublishTimeoutOnDisconnected = true,
        };
    }

    private static void CheckPrivateFile(string file, string name, string optionName)
    {
        if (!File.Exists(file))
        {
            throw new SandboxUsageException($"{optionName}: {name} {file} does not exist");
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(file);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                throw new SandboxUsageException($"{optionName}: {name} {file} is readable by others; run `chmod 600 {file}`");
            }
        }
    }
}
