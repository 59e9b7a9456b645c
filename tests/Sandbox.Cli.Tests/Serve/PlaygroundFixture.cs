using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Sandbox.Cli.Serve;

namespace Sandbox.Cli.Tests.Serve;

/// <summary>A playground app on a TestServer with a throw-away web root and data folder.</summary>
internal sealed class PlaygroundFixture : IAsyncDisposable
{
    public const string IndexMarker = "<!-- playground index for tests -->";

    private PlaygroundFixture(string root, WebApplication app, PlaygroundOptions options)
    {
        Root = root;
        App = app;
        Options = options;
        Client = app.GetTestClient();
    }

    public string Root { get; }

    public WebApplication App { get; }

    public PlaygroundOptions Options { get; }

    public HttpClient Client { get; }

    public static async Task<PlaygroundFixture> StartAsync(ShareLimits? limits = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "sandbox-serve-tests-" + Guid.NewGuid().ToString("N"));
        var webRoot = Path.Combine(root, "wwwroot");
        Directory.CreateDirectory(webRoot);
        await File.WriteAllTextAsync(Path.Combine(webRoot, "index.html"), $"<!doctype html><title>t</title>{IndexMarker}");
        await File.WriteAllTextAsync(Path.Combine(webRoot, "app.js"), "console.log('app');");
        var options = new PlaygroundOptions
        {
            WebRoot = webRoot,
            DataDirectory = Path.Combine(root, "data"),
            Shares = limits ?? new ShareLimits(),
        };
        var app = PlaygroundApp.Build(options, _ => { }, _ => { }, builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        return new PlaygroundFixture(root, app, options);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Root, recursive: true);
    }
}
