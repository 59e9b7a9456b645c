using System.Text.Json;
using System.Text.Json.Serialization;
using StreamJsonRpc;

namespace Sandbox.Remote.Contract;

/// <summary>The JSON conventions of the wire: camelCase names, case-insensitive reads, no nulls written, kebab-case enums.</summary>
public static class SandboxJson
{
    /// <summary>New serializer options with the wire's conventions.</summary>
    public static JsonSerializerOptions CreateOptions()
    {
        var options = CreatePlainOptions();
        // A run result carries its output's bytes in base64 when they are not UTF-8 (RunResultJsonConverter).
        options.Converters.Add(new RunResultJsonConverter(CreatePlainOptions()));
        return options;
    }

    private static JsonSerializerOptions CreatePlainOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            PropertyNameCaseInsensitive = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        return options;
    }

    /// <summary>A StreamJsonRpc formatter with the wire's conventions (one per connection).</summary>
    public static SystemTextJsonFormatter CreateFormatter() => new() { JsonSerializerOptions = CreateOptions() };
}
