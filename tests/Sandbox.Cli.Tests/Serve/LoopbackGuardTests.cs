using System.Net;
using Microsoft.AspNetCore.Http;
using Sandbox.Cli.Serve;

namespace Sandbox.Cli.Tests.Serve;

public sealed class LoopbackGuardTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("localhost:8080", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("app.localhost:8080", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("evil.example:8080", false)]
    [InlineData("evil.example", false)]
    [InlineData("localhost.evil.example", false)]
    [InlineData("127.0.0.1.evil.example", false)]
    [InlineData("10.0.0.5:8080", false)]
    [InlineData("", false)]
    [InlineData("play.example.org", true)]
    [InlineData("PLAY.example.org:443", true)]
    public void Host_OnlyLoopbackNamesAndAllowedHosts(string host, bool allowed) =>
        Assert.Equal(allowed, LoopbackGuard.IsAllowedHost(new HostString(host), ["play.example.org"]));

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:0", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://127.0.0.1:8080;http://[::1]:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://127.0.0.1:8080;http://192.168.1.2:8080", false)]
    public void ListenAddress_OnlyLoopback(string urls, bool allowed) =>
        Assert.Equal(allowed, LoopbackGuard.RefuseNonLoopback(urls, "--urls") is null);

    [Fact]
    public void PlaygroundOptions_OffLoopback_FailValidation()
    {
        var options = new PlaygroundOptions { Urls = "http://0.0.0.0:8080" };

        var error = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.Contains("refusing to listen on http://0.0.0.0:8080", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/healthz")]
    [InlineData("/api/shares/AAAAAAAAAAAAAAAA")]
    [InlineData("/lsp")]
    public async Task Playground_RequestForAForeignHost_IsRefused(string path)
    {
        await using var playground = await PlaygroundFixture.StartAsync();
        using var rebound = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Host = "evil.example:8080" } };
        using var local = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Host = "127.0.0.1:8080" } };

        using var refused = await playground.Client.SendAsync(rebound);
        using var served = await playground.Client.SendAsync(local);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("evil.example", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.Forbidden, served.StatusCode);
    }

    [Fact]
    public async Task Playground_ShareFromAForeignHost_IsNotStored()
    {
        await using var playground = await PlaygroundFixture.StartAsync();
        using var rebound = new HttpRequestMessage(HttpMethod.Post, "/api/shares")
        {
            Headers = { Host = "evil.example:8080" },
            Content = new StringContent("""{"language":"python","source":"print(1)"}""", System.Text.Encoding.UTF8, "application/json"),
        };

        using var response = await playground.Client.SendAsync(rebound);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
