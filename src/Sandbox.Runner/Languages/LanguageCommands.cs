namespace Sandbox.Runner.Languages;

/// <summary>Expands the placeholders of a catalog command (<c>{source}</c>, <c>{memoryMb}</c>) into a real argv.</summary>
public static class LanguageCommands
{
    /// <summary>Replaces <c>{source}</c> with the source file name and <c>{memoryMb}</c> with the step's memory limit in MiB.</summary>
    /// <param name="argv">A command of the catalog (<see cref="LanguageDefinition.Compile"/> or <see cref="LanguageDefinition.Run"/>).</param>
    /// <param name="sourceFile">The source file name in the work directory.</param>
    /// <param name="memoryMb">The memory limit of the step (compile or run) in MiB.</param>
    public static IReadOnlyList<string> Expand(IReadOnlyList<string> argv, string sourceFile, int memoryMb)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryMb);
        var memory = memoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return argv
            .Select(argument => argument
                .Replace("{source}", sourceFile, StringComparison.Ordinal)
                .Replace("{memoryMb}", memory, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>The language's compile command for a step with <paramref name="memoryMb"/> MiB (empty for interpreted languages).</summary>
    public static IReadOnlyList<string> CompileCommand(this LanguageDefinition language, int memoryMb) =>
        Expand(language.Compile, language.SourceFile, memoryMb);

    /// <summary>The language's run command for a step with <paramref name="memoryMb"/> MiB.</summary>
    public static IReadOnlyList<string> RunCommand(this LanguageDefinition language, int memoryMb) =>
        Expand(language.Run, language.SourceFile, memoryMb);
}
