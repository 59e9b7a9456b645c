namespace Sandbox.Cli.Serve;

/// <summary>One piece of a shared run's output, as the page showed it.</summary>
/// <param name="Stream"><c>stdout</c>, <c>stderr</c>, <c>compile</c> or <c>note</c>.</param>
/// <param name="Text">The text.</param>
public sealed record SharedOutputChunk(string Stream, string Text);

/// <summary>What a visitor shares: the program, its input, the problem and the output they saw.</summary>
/// <param name="Language">Language id.</param>
/// <param name="Source">Program text.</param>
/// <param name="Stdin">Standard input.</param>
/// <param name="Problem">The selected problem, if any.</param>
/// <param name="Output">The output as shown, in order.</param>
/// <param name="Status">The page's one-line run status (verdict, exit code, time), if any.</param>
public sealed record SharedRunContent(
    string Language,
    string Source,
    string Stdin,
    string? Problem,
    IReadOnlyList<SharedOutputChunk> Output,
    string? Status);

/// <summary>A stored share.</summary>
/// <param name="Id">The unguessable id in <c>/s/{id}</c>.</param>
/// <param name="Content">What was shared.</param>
/// <param name="CreatedUtc">When it was stored.</param>
public sealed record SharedRun(string Id, SharedRunContent Content, DateTimeOffset CreatedUtc);
