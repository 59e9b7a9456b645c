using Microsoft.AspNetCore.Builder;
using Sandbox.Remote.Client;
using Sandbox.Remote.Server;
using Sandbox.Remote.Tests.Fakes;

namespace Sandbox.Remote.Tests.Infrastructure;

/// <summary>A real Kestrel runner host on 127.0.0.1 with a random port, serving a <see cref="FakeEngine"/>.</summary>
internal sealed class HostHarness : IAsyncDisposable
{
    private HostHarness(WebApplication app, FakeEngine engine, SandboxHostOptions options, string? token)
    {
        App = app;
        Engine = engine;
        Options = options;
        Token = token;
        var address = SandboxHost.Addresses(app).First();
        HttpBase = new Uri(address);
        RpcUri = new Uri($"ws://{HttpBase.Authority}/rpc");
    }

    public WebApplication App { get; }

    public FakeEngine Engine { get; }

    public SandboxHostOptions Options { get; }

    public string? Token { get; }

    public Uri HttpBase { get; }

    public Uri RpcUri { get; }

    public static async Task<HostHarness> StartAsync(
        FakeEngine? engine = null,
        Action<SandboxHostOptions>? configure = null,
        string? token = null,
        string urls = "http://127.0.0.1:0",
        CancellationToken cancellationToken = default)
    {
        engine ??= new FakeEngine();
        var options = new SandboxHostOptions { Urls = urls, LogLevel = "warning" };
        if (token is not null)
        {
            options.TokenFile = WriteTokenFile(token);
        }

        configure?.Invoke(options);
        var app = SandboxHost.Create(options, engine.Register, logToConsole: false);
        await app.StartAsync(cancellationToken);
        return new HostHarness(app, engine, options, token);
    }

    /// <summary>Writes a token to a new owner-only file and returns its path.</summary>
    public static string WriteTokenFile(string token, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(Path.GetTempPath(), $"sandbox-token-{Guid.NewGuid():n}");
        File.WriteAllText(path, token);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
        return path;
    }

    public RemoteSandboxClient CreateClient(string? token = null, int connectAttempts = 1) =>
        new(new RemoteSandboxClientOptions
        {
            Endpoint = RpcUri,
            Token = token ?? Token,
            ConnectAttempts = connectAttempts,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        });

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await App.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Already stopped or stopped abruptly by the test.
        }

        await App.DisposeAsync();
        if (Options.TokenFile is { } file)
        {
            File.Delete(file);
        }
    }
}
