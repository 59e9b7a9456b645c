namespace Sandbox.Cli.Serve;

/// <summary>Body of <c>POST /api/shares</c>; every field is checked against <see cref="ShareLimits"/>.</summary>
public sealed record ShareRequest(
    string? Language,
    string? Source,
    string? Stdin,
    string? Problem,
    IReadOnlyList<SharedOutputChunk>? Output,
    string? Status)
{
    private static readonly HashSet<string> Streams = ["stdout", "stderr", "compile", "note"];

    /// <summary>The share to store, or the errors (field → messages) that make the request unacceptable.</summary>
    public (SharedRunContent? Content, Dictionary<string, string[]> Errors) Validate(ShareLimits limits)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];

        if (string.IsNullOrWhiteSpace(Language) || Language.Length > 64)
        {
            Fail("language", "a language id of 1 to 64 characters is required");
        }

        if (Source is null)
        {
            Fail("source", "the program is required");
        }
        else if (Source.Length > limits.MaxSourceChars)
        {
            Fail("source", $"the program is longer than {limits.MaxSourceChars} characters");
        }

        if (Stdin is { Length: var stdinLength } && stdinLength > limits.MaxStdinChars)
        {
            Fail("stdin", $"the input is longer than {limits.MaxStdinChars} characters");
        }

        if (Problem is { Length: > 200 })
        {
            Fail("problem", "the problem id is longer than 200 characters");
        }

        if (Status is { Length: > 500 })
        {
            Fail("status", "the status line is longer than 500 characters");
        }

        var output = Output ?? [];
        if (output.Count > limits.MaxOutputChunks)
        {
            Fail("output", $"more than {limits.MaxOutputChunks} output pieces");
        }
        else if (output.Any(c => c is null || c.Text is null || c.Stream is null || !Streams.Contains(c.Stream)))
        {
            Fail("output", "each output piece needs a stream (stdout, stderr, compile or note) and a text");
        }
        else if (output.Sum(c => (long)c.Text.Length) > limits.MaxOutputChars)
        {
            Fail("output", $"the output is longer than {limits.MaxOutputChars} characters");
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var content = new SharedRunContent(
            Language!.Trim(),
            Source!,
            Stdin ?? string.Empty,
            string.IsNullOrWhiteSpace(Problem) ? null : Problem,
            output,
            string.IsNullOrWhiteSpace(Status) ? null : Status);
        return (content, errors);
    }
}

/// <summary>Response of <c>POST /api/shares</c>.</summary>
/// <param name="Id">The share's id.</param>
/// <param name="Url">Its page, relative to the host (<c>/s/{id}</c>).</param>
public sealed record ShareCreated(string Id, string Url);

/// <summary>Response of <c>GET /api/shares/{id}</c>: the content flattened for the page.</summary>
public sealed record ShareResponse(
    string Id,
    string Language,
    string Source,
    string Stdin,
    string? Problem,
    IReadOnlyList<SharedOutputChunk> Output,
    string? Status,
    DateTimeOffset CreatedUtc)
{
    /// <summary>The response for a stored share.</summary>
    public static ShareResponse From(SharedRun run) => new(
        run.Id, run.Content.Language, run.Content.Source, run.Content.Stdin, run.Content.Problem, run.Content.Output, run.Content.Status, run.CreatedUtc);
}
