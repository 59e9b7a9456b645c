using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Features.Logging;
using Sandbox.Lsp.Protocol;
using Sandbox.Runner.Execution;

namespace Sandbox.Lsp.Features.Configuration;

/// <summary>
/// The client's <c>sandbox</c> settings, from <c>initializationOptions</c> or <c>workspace/didChangeConfiguration</c>
/// (<c>{ "settings": { "sandbox": { ... } } }</c>, or the same object without the <c>sandbox</c> wrapper).
/// Absent or empty values fall back to the server's defaults (its command-line options). The runner settings
/// (<see cref="RunnerUrl"/>, <see cref="TokenFile"/>, <see cref="Token"/>) are used only where the client may choose
/// the runner (<see cref="Hosting.ClientRunnerChoice.Allowed"/>: stdio); a WebSocket session ignores them.
/// </summary>
/// <param name="RunnerUrl">Runner host URL; null for the server's default (embedded unless <c>--runner</c> was given).</param>
/// <param name="TokenFile">File with the runner host's bearer token.</param>
/// <param name="Token">The bearer token itself (written to a private temporary file for the connection).</param>
/// <param name="Limits">Limits for runs and checks (may only lower the runner's maximum).</param>
/// <param name="StdinFile">File whose content is the stdin of <c>sandbox.run</c> when the command gives none; relative to the workspace root.</param>
/// <param name="Trace">Lowest log level sent to the client as <c>window/logMessage</c>.</param>
/// <param name="ShowResult">Also report each run's and check's outcome with <c>window/showMessage</c> (for editors without a Sandbox extension).</param>
internal sealed record SandboxSettings(
    string? RunnerUrl = null,
    string? TokenFile = null,
    string? Token = null,
    LimitOverrides? Limits = null,
    string? StdinFile = null,
    LogLevel? Trace = null,
    bool ShowResult = false)
{
    /// <summary>Reads settings; throws <see cref="JsonException"/> when a value has the wrong type.</summary>
    public static SandboxSettings Parse(JsonElement? element)
    {
        if (element is not { ValueKind: JsonValueKind.Object } settings)
        {
            return new SandboxSettings();
        }

        if (TryGetProperty(settings, "sandbox", out var nested) && nested.ValueKind == JsonValueKind.Object)
        {
            settings = nested;
        }

        var dto = settings.Deserialize<Dto>(LspJson.Options) ?? new Dto();
        LogLevel? trace = dto.Trace switch
        {
            { ValueKind: JsonValueKind.String } s => ClientLogger.ParseLevel(s.GetString()),
            // VS Code's conventional "sandbox.trace.server": "off" | "messages" | "verbose".
            { ValueKind: JsonValueKind.Object } o when TryGetProperty(o, "server", out var server) && server.ValueKind == JsonValueKind.String
                => ClientLogger.ParseLevel(server.GetString()),
            _ => null,
        };

        return new SandboxSettings(
            Blank(dto.RunnerUrl) ?? Blank(dto.Runner?.Url),
            Blank(dto.TokenFile) ?? Blank(dto.Runner?.TokenFile),
            Blank(dto.Token),
            dto.Limits,
            Blank(dto.StdinFile),
            trace,
            dto.ShowResult ?? false);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool TryGetProperty(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private sealed record Dto(
        string? RunnerUrl = null,
        string? TokenFile = null,
        string? Token = null,
        LimitOverrides? Limits = null,
        string? StdinFile = null,
        JsonElement? Trace = null,
        bool? ShowResult = null,
        RunnerDto? Runner = null);

    // VS Code's settings shape: "sandbox.runner.url".
    private sealed record RunnerDto(string? Url = null, string? TokenFile = null);
}
