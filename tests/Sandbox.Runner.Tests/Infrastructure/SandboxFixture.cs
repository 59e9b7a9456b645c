using Sandbox.Runner.Execution;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Infrastructure;

/// <summary>
/// One real sandbox (LXC pool) shared by every test in the "sandbox" collection.
/// Tests that need real isolation take this fixture; pure unit tests must not.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    /// <summary>The real engine.</summary>
    public ICodeRunner Runner { get; private set; } = null!;

    /// <summary>The language catalog the engine uses.</summary>
    public ILanguageCatalog Languages { get; private set; } = null!;

    public Task InitializeAsync() => throw new NotImplementedException("the engine lands with issue 2");

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "sandbox";
}
