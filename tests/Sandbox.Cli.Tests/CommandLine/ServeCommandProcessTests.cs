using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary><c>sandbox serve</c> as a user starts it: the real executable with the embedded runner.</summary>
[Collection(CliCollection.Name)]
public sealed class ServeCommandProcessTests(CliFixture fixture)
{
    [Fact]
    public async Task Serve_PortZero_PrintsTheAddressServesThePageAndStopsOnSigterm()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var serve = CliServer.Start("serve", "--urls", "http://127.0.0.1:0", "--data", Path.Combine(fixture.Scratch, "serve-data"));
        var address = (await serve.WaitForLineAsync(@"^Sandbox playground listening on (?<url>http://127\.0\.0\.1:\d+)", timeout.Token)).Groups["url"].Value;

        using (var http = new HttpClient())
        {
            using var page = await http.GetAsync(new Uri(address + "/"), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Sandbox playground", await page.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
        }

        await serve.AssertStopsCleanlyOnTermAsync(timeout.Token);
    }

    [Fact]
    public async Task Serve_LanguageServerSocket_RefusesPagesOfOtherOrigins()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var serve = CliServer.Start("serve", "--urls", "http://127.0.0.1:0", "--data", Path.Combine(fixture.Scratch, "serve-origin"));
        var address = new Uri((await serve.WaitForLineAsync(@"^Sandbox playground listening on (?<url>http://127\.0\.0\.1:\d+)", timeout.Token)).Groups["url"].Value);

        // What a browser sends when some other site's script opens ws://127.0.0.1:PORT/lsp, and what the page itself sends.
        var foreign = await HandshakeStatusAsync(address, "http://evil.example", timeout.Token);
        var samePage = await HandshakeStatusAsync(address, $"http://{address.Authority}", timeout.Token);
        var noBrowser = await HandshakeStatusAsync(address, origin: null, timeout.Token);

        Assert.Equal("403", foreign);
        Assert.Equal("101", samePage);
        Assert.Equal("101", noBrowser);
    }

    [Fact]
    public async Task Serve_RequestsForAnotherHostName_AreRefused_DnsRebinding()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var serve = CliServer.Start("serve", "--urls", "http://127.0.0.1:0", "--data", Path.Combine(fixture.Scratch, "serve-rebinding"));
        var address = new Uri((await serve.WaitForLineAsync(@"^Sandbox playground listening on (?<url>http://127\.0\.0\.1:\d+)", timeout.Token)).Groups["url"].Value);

        // A page of evil.example whose name now resolves to 127.0.0.1: Host and Origin both name evil.example.
        var rebound = await HandshakeStatusAsync(address, $"http://evil.example:{address.Port}", timeout.Token, host: $"evil.example:{address.Port}");
        var local = await HandshakeStatusAsync(address, $"http://localhost:{address.Port}", timeout.Token, host: $"localhost:{address.Port}");
        using var http = new HttpClient();
        using var page = new HttpRequestMessage(HttpMethod.Get, address) { Headers = { Host = $"evil.example:{address.Port}" } };
        using var refused = await http.SendAsync(page, timeout.Token);

        Assert.Equal("403", rebound);
        Assert.Equal("101", local);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("DNS rebinding", await refused.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
    }

    /// <summary>Sends a WebSocket upgrade for /lsp by hand (to control Origin) and returns the response's status code.</summary>
    internal static async Task<string> HandshakeStatusAsync(Uri server, string? origin, CancellationToken cancellationToken, string? host = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, cancellationToken);
        var stream = tcp.GetStream();
        var request = $"GET /lsp HTTP/1.1\r\nHost: {host ?? server.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + (origin is null ? "" : $"Origin: {origin}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, cancellationToken);
        var statusLine = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
        return statusLine.Split(' ')[1];
    }
}
