namespace Sandbox.Lsp.Features.Runs;

/// <summary>Why a run ended before it finished.</summary>
internal enum RunStopReason
{
    /// <summary>Still running, or finished on its own.</summary>
    None,
    /// <summary><c>sandbox.stop</c> or <c>window/workDoneProgress/cancel</c>.</summary>
    Stopped,
    /// <summary>A newer run of the same document replaced it.</summary>
    Replaced,
    /// <summary>The session ended.</summary>
    SessionEnded,
}

/// <summary>One run or check of a document, with the means to stop it.</summary>
internal sealed class ActiveRun : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly CancellationTokenSource linked;

    public ActiveRun(string uri, string runId, CancellationToken requestToken)
    {
        Uri = uri;
        RunId = runId;
        linked = CancellationTokenSource.CreateLinkedTokenSource(requestToken, stop.Token);
    }

    public string Uri { get; }

    public string RunId { get; }

    /// <summary>Cancelled by the client's <c>$/cancelRequest</c> or by <see cref="Stop"/>.</summary>
    public CancellationToken Token => linked.Token;

    public RunStopReason StopReason { get; private set; }

    /// <summary>The work-done progress token of this run, when it has one.</summary>
    public string? ProgressToken { get; set; }

    public void Stop(RunStopReason reason)
    {
        if (StopReason == RunStopReason.None)
        {
            StopReason = reason;
        }

        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished and disposed.
        }
    }

    public void Dispose()
    {
        linked.Dispose();
        stop.Dispose();
    }
}

/// <summary>The runs going on in a session: at most one per document; a new one replaces (stops) the previous.</summary>
internal sealed class RunRegistry
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, ActiveRun> byUri = new(StringComparer.Ordinal);

    /// <summary>Registers a new run of <paramref name="uri"/>; returns it and the run it replaced (already stopped), if any.</summary>
    public (ActiveRun Run, ActiveRun? Replaced) Start(string uri, CancellationToken requestToken)
    {
        var run = new ActiveRun(uri, NewRunId(), requestToken);
        ActiveRun? previous;
        lock (gate)
        {
            byUri.TryGetValue(uri, out previous);
            byUri[uri] = run;
        }

        previous?.Stop(RunStopReason.Replaced);
        return (run, previous);
    }

    /// <summary>Forgets a finished run (if it is still the document's current one).</summary>
    public void Complete(ActiveRun run)
    {
        lock (gate)
        {
            if (byUri.TryGetValue(run.Uri, out var current) && ReferenceEquals(current, run))
            {
                byUri.Remove(run.Uri);
            }
        }
    }

    public ActiveRun? Find(string uri)
    {
        lock (gate)
        {
            return byUri.GetValueOrDefault(uri);
        }
    }

    public ActiveRun? FindByProgressToken(string token)
    {
        lock (gate)
        {
            return byUri.Values.FirstOrDefault(r => r.ProgressToken == token);
        }
    }

    public IReadOnlyList<ActiveRun> All()
    {
        lock (gate)
        {
            return [.. byUri.Values];
        }
    }

    private static string NewRunId() => Guid.NewGuid().ToString("N")[..12];
}
