using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;
using StreamJsonRpc;

namespace Sandbox.Lsp.Protocol;

/// <summary>JSON settings of the language server's wire: camelCase, case-insensitive reads, nulls omitted, Sandbox enums kebab-case, LSP enums numeric.</summary>
public static class LspJson
{
    /// <summary>The serializer options used for every message.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Makes a formatter with <see cref="Options"/>.</summary>
    public static SystemTextJsonFormatter CreateFormatter() => new() { JsonSerializerOptions = CreateOptions() };

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            PropertyNameCaseInsensitive = true,
        };
        // Only the Sandbox enums are strings; LSP's own enums (severity, message type, sync kind) are numbers on the wire.
        options.Converters.Add(new JsonStringEnumConverter<RunVerdict>(JsonNamingPolicy.KebabCaseLower));
        options.Converters.Add(new JsonStringEnumConverter<TestVerdict>(JsonNamingPolicy.KebabCaseLower));
        options.Converters.Add(new JsonStringEnumConverter<OutputStreamKind>(JsonNamingPolicy.KebabCaseLower));
        options.Converters.Add(new JsonStringEnumConverter<DiagnosticOrigin>(JsonNamingPolicy.KebabCaseLower));
        return options;
    }
}
