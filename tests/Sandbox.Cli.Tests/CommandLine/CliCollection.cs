namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>
/// Tests that start the real <c>sandbox</c> executable with the embedded runner (real LXC, as root). They run one at a
/// time, after the in-process tests, so that at most one CLI process (and its sandboxes) competes for the 2 cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection : ICollectionFixture<CliFixture>
{
    public const string Name = "cli-process";
}

/// <summary>
/// Makes sure the executable exists and the sandbox is provisioned (the first run on a fresh machine builds the
/// container image, which may take minutes), so each test's own timeout measures the command, not the set-up.
/// Also holds a scratch folder for the programs tests write.
/// </summary>
public sealed class CliFixture : IAsyncLifetime
{
    public string Scratch { get; } = Path.Combine(Path.GetTempPath(), "sandbox-cli-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes <paramref name="content"/> to a scratch file named <paramref name="name"/> and returns its full path.</summary>
    public string Write(string name, string content)
    {
        var path = Path.Combine(Scratch, name);
        File.WriteAllText(path, content);
        return path;
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Scratch);
        var warmUp = await Cli.RunAsync(["run", CliPaths.Repo("examples", "hello.py")], stdin: null, timeout: TimeSpan.FromMinutes(15));
        if (warmUp.ExitCode != 0)
        {
            throw new InvalidOperationException($"the sandbox does not work on this machine:\n{warmUp}");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Scratch, recursive: true);
        return Task.CompletedTask;
    }
}
