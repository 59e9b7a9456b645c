namespace Sandbox.Runner.Execution;

/// <summary>The language id is not in the catalog, or its toolchain is not installed.</summary>
public sealed class UnknownLanguageException(string language, string? detail = null)
    : Exception(detail ?? $"unknown language '{language}' (see `sandbox languages`)")
{
    /// <summary>The id that was asked for.</summary>
    public string Language { get; } = language;
}

/// <summary>A client asked for a limit above the runner's configured maximum.</summary>
public sealed class LimitsExceededException(string message) : Exception(message);

/// <summary>
/// The sandbox cannot run on this machine (no LXC, not root, no subuid range, missing toolchain...).
/// The message is one line that names the fix.
/// </summary>
public sealed class SandboxUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
