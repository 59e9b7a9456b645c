using System.Reflection;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>Where the built <c>sandbox</c> executable and the repository's examples and problems are.</summary>
internal static class CliPaths
{
    /// <summary>The checkout this test assembly was built from (the folder holding Sandbox.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// The executable under test: <c>$SANDBOX_BIN</c>, else <c>src/Sandbox.Cli/bin/CONFIG/TFM/sandbox</c> of this checkout,
    /// built with the same configuration and target framework as this test assembly.
    /// </summary>
    public static string Executable { get; } = FindExecutable();

    /// <summary>A file of the checkout, by its path relative to the root.</summary>
    public static string Repo(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sandbox.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Sandbox.sln above {AppContext.BaseDirectory}");
    }

    private static string FindExecutable()
    {
        if (Environment.GetEnvironmentVariable("SANDBOX_BIN") is { Length: > 0 } fromEnvironment)
        {
            return File.Exists(fromEnvironment)
                ? Path.GetFullPath(fromEnvironment)
                : throw new InvalidOperationException($"SANDBOX_BIN={fromEnvironment}: no such file");
        }

        var configuration = typeof(CliPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var path = Path.Combine(RepoRoot, "src", "Sandbox.Cli", "bin", configuration, framework, "sandbox");
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing: run `dotnet build Sandbox.sln -c {configuration}` (or set SANDBOX_BIN)");
    }
}
