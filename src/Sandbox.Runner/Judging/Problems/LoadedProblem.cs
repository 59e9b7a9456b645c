namespace Sandbox.Runner.Judging.Problems;

/// <summary>
/// A problem as the judge sees it, hidden data included. Never leaves the runner: only
/// <see cref="ProblemSummary"/> and <see cref="ProblemInfo"/> are shown to users.
/// </summary>
internal sealed record LoadedProblem
{
    /// <summary>Problem id (file or folder name, or the YAML file's <c>id</c>).</summary>
    public required string Id { get; init; }

    public required string Title { get; init; }

    public string StatementMarkdown { get; init; } = "";

    /// <summary>The file or folder it was loaded from (for messages).</summary>
    public required string Source { get; init; }

    public required double TimeLimitSeconds { get; init; }

    public required int MemoryLimitMb { get; init; }

    /// <summary>Output limit in KiB, when the problem sets one.</summary>
    public int? OutputLimitKb { get; init; }

    /// <summary>Limits for a custom validator's runs, when the problem sets them.</summary>
    public double? ValidationTimeSeconds { get; init; }

    public int? ValidationMemoryMb { get; init; }

    /// <summary>The custom output validator, or null for the default validator.</summary>
    public CustomValidatorSource? CustomValidator { get; init; }

    /// <summary>Tests in judging order: samples first, then secret tests, each group in lexicographic order.</summary>
    public required IReadOnlyList<ProblemTest> Tests { get; init; }

    public int SampleCount => Tests.Count(t => t.Sample);
}

/// <summary>One test: where its input and answer are, and how to validate it.</summary>
/// <param name="Name">e.g. <c>sample/1</c> or <c>secret/group1/03</c>.</param>
/// <param name="Sample">True for public samples.</param>
/// <param name="Input">The input (stdin of the program).</param>
/// <param name="Answer">The judge's answer.</param>
/// <param name="Validator">Default-validator options for this test's group.</param>
/// <param name="ValidatorFlags">Raw flags passed to a custom validator for this test's group.</param>
internal sealed record ProblemTest(
    string Name,
    bool Sample,
    TestData Input,
    TestData Answer,
    ValidatorOptions Validator,
    IReadOnlyList<string> ValidatorFlags);

/// <summary>A custom output validator: one source file in a language of the catalog.</summary>
/// <param name="LanguageId">Catalog id of its language.</param>
/// <param name="FileName">Its file name in the package (for messages).</param>
/// <param name="Source">Its source text.</param>
internal sealed record CustomValidatorSource(string LanguageId, string FileName, string Source);
