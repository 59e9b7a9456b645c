namespace Sandbox.Cli.Serve;

/// <summary>Settings of <c>sandbox serve</c>, each with its default; checked by <see cref="Validate"/> at start-up.</summary>
public sealed record PlaygroundOptions
{
    /// <summary>Where the playground listens. Default: loopback only.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Folder for the share database (<c>shares.db</c>). Default: <c>~/.local/share/sandbox/playground</c>.</summary>
    public string DataDirectory { get; init; } = DefaultDataDirectory();

    /// <summary>Folder with the built page (index.html, app.js, style.css). Default: <c>wwwroot</c> beside the executable.</summary>
    public string WebRoot { get; init; } = Path.Combine(AppContext.BaseDirectory, "wwwroot");

    /// <summary>
    /// Host names besides loopback ones that requests may be addressed to: a reverse proxy's public name, when the proxy
    /// keeps the <c>Host</c> header. Default: none.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Limits on what a share may hold and how often a client may share.</summary>
    public ShareLimits Shares { get; init; } = new();

    /// <summary>The share database file.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "shares.db");

    /// <summary>Throws <see cref="InvalidOperationException"/> with what to fix when a setting cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Urls))
        {
            throw new InvalidOperationException("--urls is empty: give at least one URL such as http://127.0.0.1:8080");
        }

        if (LoopbackGuard.RefuseNonLoopback(Urls, "--urls") is { } refusal)
        {
            throw new InvalidOperationException(refusal);
        }

        if (AllowedHosts.Select(LoopbackGuard.CheckAllowedHost).FirstOrDefault(problem => problem is not null) is { } badHost)
        {
            throw new InvalidOperationException(badHost);
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new InvalidOperationException("--data is empty: give a folder for the share database");
        }

        if (!File.Exists(Path.Combine(WebRoot, "index.html")))
        {
            throw new InvalidOperationException(
                $"the playground page is missing from {WebRoot}: build it with `npm ci && npm run build` in editors/web, then rebuild src/Sandbox.Cli");
        }

        Shares.Validate();
    }

    private static string DefaultDataDirectory()
    {
        var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(root))
        {
            root = Path.Combine(Path.GetTempPath(), "sandbox");
        }

        return Path.Combine(root, "sandbox", "playground");
    }
}

/// <summary>Size and rate limits of the share API.</summary>
public sealed record ShareLimits
{
    /// <summary>Longest program, in characters.</summary>
    public int MaxSourceChars { get; init; } = 128 * 1024;

    /// <summary>Longest stdin, in characters.</summary>
    public int MaxStdinChars { get; init; } = 64 * 1024;

    /// <summary>Most output characters kept with a share (the page cuts to this before sending; keep in sync with main.js).</summary>
    public int MaxOutputChars { get; init; } = 64 * 1024;

    /// <summary>Most output pieces (the page merges consecutive pieces of one stream).</summary>
    public int MaxOutputChunks { get; init; } = 2000;

    /// <summary>Largest request body, in bytes (JSON escaping can double the text).</summary>
    public long MaxRequestBytes { get; init; } = 1024 * 1024;

    /// <summary>Shares one client (remote address) may make at once before being slowed down.</summary>
    public int BurstPerClient { get; init; } = 10;

    /// <summary>Shares a client regains per <see cref="ReplenishPeriod"/>.</summary>
    public int PerClientPerPeriod { get; init; } = 5;

    /// <summary>How often a client's allowance is topped up.</summary>
    public TimeSpan ReplenishPeriod { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Throws <see cref="InvalidOperationException"/> when a limit is not positive.</summary>
    public void Validate()
    {
        if (MaxSourceChars <= 0 || MaxStdinChars < 0 || MaxOutputChars < 0 || MaxOutputChunks < 0 || MaxRequestBytes <= 0)
        {
            throw new InvalidOperationException("share size limits must be positive");
        }

        if (BurstPerClient <= 0 || PerClientPerPeriod <= 0 || ReplenishPeriod <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("share rate limits must be positive");
        }
    }
}
