using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Sandbox.Runner.Execution;

namespace Sandbox.Remote.Contract;

/// <summary>
/// A <see cref="RunResult"/> on the wire: its usual JSON, plus <c>stdoutBase64</c> / <c>stderrBase64</c> with the exact
/// bytes of a stream whose bytes are not valid UTF-8 (its text then shows U+FFFD where they differ). A stream that is
/// valid UTF-8 is its text's UTF-8, so nothing is added for it. Reading sets <see cref="RunResult.StdoutBytes"/> and
/// <see cref="RunResult.StderrBytes"/> from the base64, or else from the text, so a result from an older host has them too.
/// </summary>
internal sealed class RunResultJsonConverter(JsonSerializerOptions plain) : JsonConverter<RunResult>
{
    internal const string StdoutBase64 = "stdoutBase64";
    internal const string StderrBase64 = "stderrBase64";

    public override RunResult? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (JsonNode.Parse(ref reader) is not JsonObject json)
        {
            throw new JsonException("a run result must be a JSON object");
        }

        var stdout = TakeBase64(json, StdoutBase64);
        var stderr = TakeBase64(json, StderrBase64);
        var result = json.Deserialize<RunResult>(plain) ?? throw new JsonException("a run result must be a JSON object");
        return result with
        {
            StdoutBytes = stdout ?? Utf8Of(result.Stdout),
            StderrBytes = stderr ?? Utf8Of(result.Stderr),
        };
    }

    public override void Write(Utf8JsonWriter writer, RunResult value, JsonSerializerOptions options)
    {
        var json = JsonSerializer.SerializeToNode(value, plain)!.AsObject();
        AddBase64(json, StdoutBase64, value.StdoutBytes.Span);
        AddBase64(json, StderrBase64, value.StderrBytes.Span);
        json.WriteTo(writer, options);
    }

    private static void AddBase64(JsonObject json, string name, ReadOnlySpan<byte> bytes)
    {
        if (!Utf8.IsValid(bytes))
        {
            json[name] = Convert.ToBase64String(bytes);
        }
    }

    /// <summary>Removes the field (any letter case, as the wire reads names) and decodes it; null when absent.</summary>
    private static byte[]? TakeBase64(JsonObject json, string name)
    {
        var key = json.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        if (key is null)
        {
            return null;
        }

        var node = json[key];
        json.Remove(key);
        if (node is null)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(node.GetValue<string>());
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new JsonException($"{name} must be a base64 string", e);
        }
    }

    private static ReadOnlyMemory<byte> Utf8Of(string text) => text.Length == 0 ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(text);
}
