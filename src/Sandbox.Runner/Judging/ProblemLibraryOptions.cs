namespace Sandbox.Runner.Judging;

/// <summary>Where problems come from and the bounds put on them. Validated at start-up.</summary>
public sealed class ProblemLibraryOptions
{
    /// <summary>
    /// Folders searched for problems, in order (the first problem with a given id wins). Each entry of a folder
    /// is a problem: a <c>*.yaml</c>/<c>*.yml</c> single-file problem, a package folder (with <c>problem.yaml</c>)
    /// or a zipped package (<c>*.zip</c>, <c>*.kpp</c>). Default: the built-in library, <c>problems/</c> beside the assemblies.
    /// </summary>
    public IList<string> Folders { get; } = [Path.Combine(AppContext.BaseDirectory, "problems")];

    /// <summary>
    /// Whether a check may name a problem by a file-system path instead of a library id. True for the local CLI;
    /// a runner host serving remote clients should turn it off so that clients cannot probe the host's files.
    /// </summary>
    public bool AllowPaths { get; set; } = true;

    /// <summary>Largest test input, answer or single-file problem accepted, in bytes; checked before reading. Default 64 MiB.</summary>
    public long MaxTestFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Time limit of a problem that sets none (a package without <c>.timelimit</c>), in seconds. Default 2.</summary>
    public double DefaultTimeLimitSeconds { get; set; } = 2;

    /// <summary>Memory limit of a problem that sets none, in MiB. Default 256.</summary>
    public int DefaultMemoryLimitMb { get; set; } = 256;

    /// <summary>Returns the first fault of these options, or null when they are valid.</summary>
    public string? Validate()
    {
        if (Folders.Any(string.IsNullOrWhiteSpace))
        {
            return "ProblemLibraryOptions.Folders has an empty entry";
        }

        if (MaxTestFileBytes <= 0)
        {
            return "ProblemLibraryOptions.MaxTestFileBytes must be greater than 0";
        }

        if (!double.IsFinite(DefaultTimeLimitSeconds) || DefaultTimeLimitSeconds <= 0)
        {
            return "ProblemLibraryOptions.DefaultTimeLimitSeconds must be greater than 0";
        }

        return DefaultMemoryLimitMb <= 0 ? "ProblemLibraryOptions.DefaultMemoryLimitMb must be greater than 0" : null;
    }
}
