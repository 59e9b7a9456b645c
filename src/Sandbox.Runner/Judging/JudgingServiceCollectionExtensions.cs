using Microsoft.Extensions.DependencyInjection;

namespace Sandbox.Runner.Judging;

/// <summary>Registers judging: <see cref="IJudge"/> and <see cref="IProblemLibrary"/>.</summary>
public static class JudgingServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="Judge"/> and <see cref="ProblemLibrary"/> as singletons. They need <c>ICodeRunner</c> and
    /// <c>ILanguageCatalog</c> from the container (registered by the engine). Options are validated at start-up.
    /// </summary>
    public static IServiceCollection AddSandboxJudging(this IServiceCollection services, Action<ProblemLibraryOptions>? configure = null)
    {
        var library = services.AddOptions<ProblemLibraryOptions>();
        if (configure is not null)
        {
            library.Configure(configure);
        }

        library.Validate(o => o.Validate() is null, "invalid ProblemLibraryOptions (see ProblemLibraryOptions.Validate)").ValidateOnStart();
        services.AddOptions<JudgeOptions>()
            .Validate(o => double.IsFinite(o.TimeLimitMultiplier) && o.TimeLimitMultiplier > 0 && o.MaxDetailChars > 0, "JudgeOptions: TimeLimitMultiplier and MaxDetailChars must be greater than 0")
            .ValidateOnStart();
        services.AddSingleton<ProblemLibrary>();
        services.AddSingleton<IProblemLibrary>(sp => sp.GetRequiredService<ProblemLibrary>());
        services.AddSingleton<IJudge, Judge>();
        return services;
    }
}
