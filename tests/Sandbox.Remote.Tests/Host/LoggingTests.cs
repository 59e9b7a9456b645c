using Sandbox.Remote.Contract;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Host;

/// <summary>What the host writes to its log file, and what it must never write.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task LogFile_HasRunIds_AndNeverSourcesInputsOrOutputs()
    {
        using var timeout = TestTimeouts.Create();
        var folder = Directory.CreateTempSubdirectory("sandbox-log-");
        try
        {
            await using (var host = await HostHarness.StartAsync(
                configure: o =>
                {
                    o.LogFile = Path.Combine(folder.FullName, "host.log");
                    o.LogLevel = "verbose";
                },
                cancellationToken: timeout.Token))
            {
                await using var client = host.CreateClient();
                await client.RunAsync(new RunParams("python", "echo:SECRET-OUTPUT", Stdin: "SECRET-STDIN", RunId: "run-for-log"), null, timeout.Token).Within(timeout.Token);
                await client.CheckAsync(new CheckParams("python", "SECRET-SOURCE", Stdin: "SECRET-TEST-INPUT", ExpectedStdout: "SECRET-ANSWER"), null, timeout.Token).Within(timeout.Token);
            }

            var log = string.Concat(folder.EnumerateFiles("host*.log").Select(f => File.ReadAllText(f.FullName)));

            Assert.Contains("\"RunId\":\"run-for-log\"", log, StringComparison.Ordinal);
            Assert.Contains("\"Verdict\":\"ok\"", log, StringComparison.Ordinal);
            Assert.DoesNotContain("SECRET", log, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
