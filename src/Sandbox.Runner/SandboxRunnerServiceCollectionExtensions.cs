using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Languages;

namespace Sandbox.Runner;

/// <summary>Service registration of the engine.</summary>
public static class SandboxRunnerServiceCollectionExtensions
{
    /// <summary>
    /// Registers the engine: <see cref="SandboxOptions"/>, the language catalog, and <see cref="CodeRunner"/> as
    /// <see cref="ICodeRunner"/>. Containers start on first use (or <see cref="CodeRunner.StartAsync"/>).
    /// </summary>
    public static IServiceCollection AddSandboxRunner(this IServiceCollection services, Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions();
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton(options);
        services.TryAddSingleton<ILanguageCatalog>(_ => LanguageCatalog.LoadDefault());
        services.TryAddSingleton(sp => new CodeRunner(
            sp.GetRequiredService<SandboxOptions>(),
            sp.GetRequiredService<ILanguageCatalog>(),
            sp.GetService<ILogger<CodeRunner>>()));
        services.TryAddSingleton<ICodeRunner>(sp => sp.GetRequiredService<CodeRunner>());
        return services;
    }
}
