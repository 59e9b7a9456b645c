using Sandbox.Runner.Execution;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Infrastructure;

/// <summary>
/// One real sandbox (LXC pool on this machine, as root) shared by every test in the "sandbox" collection.
/// Tests that need real isolation take this fixture; pure unit tests must not.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    private CodeRunner? _runner;

    /// <summary>
    /// Where the engine's log goes during a test run (containers replaced, runs that failed inside the engine):
    /// beside the test assembly, to read when a test fails.
    /// </summary>
    public static string LogPath { get; } = Path.Combine(AppContext.BaseDirectory, "sandbox-fixture.log");

    private sealed class FileLog : Microsoft.Extensions.Logging.ILogger<CodeRunner>
    {
        private readonly Lock _gate = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Information;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            lock (_gate)
            {
                File.AppendAllText(LogPath, $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} [{Thread.CurrentThread.Name}] {formatter(state, exception)}\n");
            }
        }
    }

    /// <summary>The real engine.</summary>
    public ICodeRunner Runner => _runner ?? throw new InvalidOperationException("fixture not initialized");

    /// <summary>The engine as its concrete type (pool state, cgroup version).</summary>
    public CodeRunner Engine => _runner ?? throw new InvalidOperationException("fixture not initialized");

    /// <summary>The options the engine runs with: two slots, the default limits (their times scaled by <see cref="TestMachine.Slowdown"/>).</summary>
    public SandboxOptions Options { get; } = ScaledOptions(new SandboxOptions { Slots = 2 });

    private static SandboxOptions ScaledOptions(SandboxOptions options)
    {
        var slowdown = TestMachine.Slowdown;
        options.MaxLimits = options.MaxLimits with { CpuTime = options.MaxLimits.CpuTime * slowdown, WallTime = options.MaxLimits.WallTime * slowdown };
        options.CompileLimits = options.CompileLimits with { CpuTime = options.CompileLimits.CpuTime * slowdown, WallTime = options.CompileLimits.WallTime * slowdown };
        return options;
    }

    /// <summary>The language catalog the engine uses.</summary>
    public ILanguageCatalog Languages { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Languages = CreateCatalog();
        _runner = new CodeRunner(Options, Languages, new FileLog());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await _runner.StartAsync(null, timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }
    }

    /// <summary>The real catalog, plus any test-only languages whose ids it does not have.</summary>
    internal static ILanguageCatalog CreateCatalog() => new CompositeCatalog(LanguageCatalog.LoadDefault(), new TestCatalog());

    private sealed class CompositeCatalog(ILanguageCatalog primary, ILanguageCatalog extra) : ILanguageCatalog
    {
        public IReadOnlyList<LanguageDefinition> All { get; } =
            [.. primary.All, .. extra.All.Where(e => primary.Find(e.Id) is null)];

        public IReadOnlyList<LanguageDefinition> Available =>
            [.. primary.Available, .. extra.Available.Where(e => primary.Find(e.Id) is null)];

        public LanguageDefinition? Find(string idOrAlias) => primary.Find(idOrAlias) ?? extra.Find(idOrAlias);

        public LanguageDefinition? FindByFileName(string fileName) => primary.FindByFileName(fileName) ?? extra.FindByFileName(fileName);
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "sandbox";
}
