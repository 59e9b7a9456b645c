using System.Net;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Server;
using Sandbox.Remote.Tests.Fakes;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Host;

/// <summary>Who may connect, and when the host refuses to start at all.</summary>
public sealed class AuthAndStartupTests : IDisposable
{
    private const string Token = "0123456789abcdef0123456789abcdef";
    private readonly CancellationTokenSource timeout = TestTimeouts.Create();

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task Connect_RightToken_Works()
    {
        await using var host = await HostHarness.StartAsync(token: Token, cancellationToken: Timeout);
        await using var client = host.CreateClient(Token);

        var languages = await client.LanguagesAsync(Timeout).Within(Timeout);

        Assert.NotEmpty(languages.Languages);
    }

    [Fact]
    public async Task Connect_WrongToken_IsRefusedUnauthorized()
    {
        await using var host = await HostHarness.StartAsync(token: Token, cancellationToken: Timeout);
        await using var client = host.CreateClient("0123456789abcdef0123456789abcdeX");

        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => client.LanguagesAsync(Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.Unauthorized, error.Code);
        Assert.Contains("wrong token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_MissingToken_IsRefusedUnauthorized()
    {
        await using var host = await HostHarness.StartAsync(token: Token, cancellationToken: Timeout);
        await using var client = new RemoteSandboxClient(new RemoteSandboxClientOptions { Endpoint = host.RpcUri, ConnectAttempts = 1 });

        var error = await Assert.ThrowsAsync<SandboxRpcException>(() => client.ConnectAsync(Timeout).Within(Timeout));

        Assert.Equal(SandboxErrorCode.Unauthorized, error.Code);
        Assert.Contains("--token-file", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(Token)]
    public async Task Connect_FromAWebPage_IsForbidden_EvenOnLoopbackWithoutToken(string? token)
    {
        await using var host = await HostHarness.StartAsync(token: token, cancellationToken: Timeout);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", "https://evil.example");
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => socket.ConnectAsync(host.RpcUri, Timeout));
        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);

        // The same host still serves programs, which send no Origin.
        await using var client = host.CreateClient(token);
        Assert.NotEmpty((await client.LanguagesAsync(Timeout).Within(Timeout)).Languages);
    }

    [Fact]
    public async Task HttpWithoutToken_Gets401WithBearerChallenge()
    {
        await using var host = await HostHarness.StartAsync(token: Token, cancellationToken: Timeout);
        using var http = new HttpClient { BaseAddress = host.HttpBase };

        using var response = await http.GetAsync(new Uri("/rpc", UriKind.Relative), Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task HealthAndMetrics_NeedNoToken()
    {
        await using var host = await HostHarness.StartAsync(token: Token, cancellationToken: Timeout);
        using var http = new HttpClient { BaseAddress = host.HttpBase };

        Assert.Equal("ok\n", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative), Timeout));
        Assert.StartsWith("ready", await http.GetStringAsync(new Uri("/readyz", UriKind.Relative), Timeout), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:7070")]
    [InlineData("http://+:7070")]
    [InlineData("http://[::]:7070")]
    [InlineData("http://example.com:7070")]
    [InlineData("http://127.0.0.1:7070;http://10.0.0.5:7070")]
    public void Create_NonLoopbackWithoutToken_RefusesToStart(string urls)
    {
        var error = Assert.Throws<SandboxHostConfigurationException>(() =>
            SandboxHost.Create(new SandboxHostOptions { Urls = urls }, new FakeEngine().Register, logToConsole: false));

        Assert.Contains("--token-file", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7070", true)]
    [InlineData("http://localhost:7070", true)]
    [InlineData("http://[::1]:7070", true)]
    [InlineData("http://127.0.0.2:7070/", true)]
    [InlineData("http://0.0.0.0:7070", false)]
    [InlineData("http://192.168.1.2:7070", false)]
    public void IsLoopbackUrl_ClassifiesAddresses(string url, bool loopback) =>
        Assert.Equal(loopback, SandboxHostOptions.IsLoopbackUrl(url));

    [Fact]
    public async Task Create_NonLoopbackWithToken_Starts()
    {
        // Binding every interface is what an operator does; the test still only connects through loopback.
        await using var host = await HostHarness.StartAsync(token: Token, urls: "http://0.0.0.0:0", cancellationToken: Timeout);

        Assert.NotEmpty(SandboxHost.Addresses(host.App));
    }

    [Fact]
    public void Create_TokenFileReadableByOthers_RefusesToStart()
    {
        var file = HostHarness.WriteTokenFile(Token, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        try
        {
            var error = Assert.Throws<SandboxHostConfigurationException>(() =>
                SandboxHost.Create(new SandboxHostOptions { TokenFile = file }, new FakeEngine().Register, logToConsole: false));

            Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Create_ShortToken_RefusesToStart()
    {
        var file = HostHarness.WriteTokenFile("short");
        try
        {
            var error = Assert.Throws<SandboxHostConfigurationException>(() =>
                SandboxHost.Create(new SandboxHostOptions { TokenFile = file }, new FakeEngine().Register, logToConsole: false));

            Assert.Contains("at least 16", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Create_MissingTokenFile_RefusesToStart()
    {
        var error = Assert.Throws<SandboxHostConfigurationException>(() =>
            SandboxHost.Create(new SandboxHostOptions { TokenFile = "/nonexistent/token" }, new FakeEngine().Register, logToConsole: false));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:1")]
    [InlineData("")]
    public void Create_BadUrls_RefusesToStart(string urls) =>
        Assert.Throws<SandboxHostConfigurationException>(() =>
            SandboxHost.Create(new SandboxHostOptions { Urls = urls }, new FakeEngine().Register, logToConsole: false));

    [Fact]
    public void Create_BadNumbers_RefusesToStart()
    {
        Assert.Throws<SandboxHostConfigurationException>(() => new SandboxHostOptions { MaxQueue = -1 }.Validate());
        Assert.Throws<SandboxHostConfigurationException>(() => new SandboxHostOptions { Slots = 0 }.Validate());
        Assert.Throws<SandboxHostConfigurationException>(() => new SandboxHostOptions { MaxMessageBytes = 10 }.Validate());
        Assert.Throws<SandboxHostConfigurationException>(() => new SandboxHostOptions { LogLevel = "loud" }.Validate());
    }

    [Fact]
    public void Token_ComparesTheWholeValue()
    {
        var file = HostHarness.WriteTokenFile(Token + "\n");
        try
        {
            var token = HostToken.FromFile(file);

            Assert.True(token.Matches($"Bearer {Token}"));
            Assert.True(token.Matches($"bearer {Token}"));
            Assert.False(token.Matches(Token));
            Assert.False(token.Matches($"Bearer {Token}x"));
            Assert.False(token.Matches($"Bearer {Token[..^1]}"));
            Assert.False(token.Matches(null));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
