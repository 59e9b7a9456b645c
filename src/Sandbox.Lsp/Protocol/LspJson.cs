using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Sandbox.Lsp.Protocol;

/// <summary>JSON settings of the language server's wire: camelCase, case-insensitive reads, nulls omitted, Sandbox enums kebab-case, LSP enums numeric.</summary>
public static class LspJson
{
    /// <summary>The serializer options used for every message.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>
    /// Options for reading request params: like <see cref="Options"/>, but a missing required field or a null where the
    /// record does not allow one is an error, so wrong params are answered with InvalidParams instead of failing later.
    /// </summary>
    public static JsonSerializerOptions StrictOptions { get; } = new(CreateOptions())
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads request params; throws a JSON-RPC InvalidParams error naming what is wrong.</summary>
    public static T ReadParams<T>(JsonElement parameters, string method)
    {
        try
        {
            return parameters.Deserialize<T>(StrictOptions) ?? throw new JsonException("params are null");
        }
        catch (JsonException ex)
        {
            throw new LocalRpcException($"invalid params for {method}: {ex.Message}") { ErrorCode = (int)JsonRpcErrorCode.InvalidParams };
        }
    }

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
