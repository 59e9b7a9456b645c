using System.Net;
using System.Net.Sockets;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>The servers (<c>host</c>, <c>serve</c>, <c>lsp --ws</c>) on a port that is taken: one line and exit 70, no stack trace.</summary>
[Collection(CliCollection.Name)]
public sealed class ListenFailureProcessTests(CliFixture fixture)
{
    [Theory]
    [InlineData("host", "sandbox host: cannot listen on")]
    [InlineData("serve", "sandbox: serve: cannot listen on")]
    [InlineData("lsp", "sandbox: lsp: cannot listen on")]
    public async Task Server_PortTaken_ExitsInternalErrorWithOneLine(string command, string message)
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
        string[] args = command switch
        {
            "host" => ["host", "--urls", url],
            "serve" => ["serve", "--urls", url, "--data", Path.Combine(fixture.Scratch, "serve-taken")],
            _ => ["lsp", "--ws", url],
        };

        var result = await Cli.RunAsync(args);

        Assert.True(result.ExitCode == 70, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith(message, line, StringComparison.Ordinal);
        Assert.Contains("address already in use", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve", "http://0.0.0.0:0")]
    [InlineData("serve", "http://127.0.0.1:0;http://[::]:0")]
    [InlineData("lsp", "http://0.0.0.0:0")]
    [InlineData("lsp", "http://example.org:7071")]
    public async Task Server_NonLoopbackAddress_IsRefusedWithOneLine(string command, string url)
    {
        // Neither has authentication: on all interfaces anyone on the network could run code here as root.
        string[] args = command == "serve"
            ? ["serve", "--urls", url, "--data", Path.Combine(fixture.Scratch, "serve-open")]
            : ["lsp", "--ws", url];

        var result = await Cli.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith($"sandbox: {command}: refusing to listen on", line, StringComparison.Ordinal);
        Assert.Contains("reverse proxy", line, StringComparison.Ordinal);
    }
}
