using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sandbox.Runner.Judging.Problems;

/// <summary>
/// A YAML mapping read with the representation model, so that every fault message is ours:
/// it names the file, the key and the line, and never quotes a value (a value may be hidden test data).
/// </summary>
internal sealed class YamlMap
{
    private readonly YamlMappingNode _node;
    private readonly string _file;
    private readonly string _path;

    private YamlMap(YamlMappingNode node, string file, string path)
    {
        _node = node;
        _file = file;
        _path = path;
    }

    /// <summary>Parses a document whose root is a mapping; an empty document is an empty mapping.</summary>
    public static YamlMap Parse(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StringReader(text);
            stream.Load(reader);
        }
        catch (YamlException ex)
        {
            // The parser's own sentence names the construct, not the content; the position is what helps.
            throw new ProblemFormatException(file, $"invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {FirstSentence(ex)}");
        }

        if (stream.Documents.Count == 0)
        {
            return new YamlMap(new YamlMappingNode(), file, "");
        }

        if (stream.Documents.Count > 1)
        {
            throw new ProblemFormatException(file, "more than one YAML document");
        }

        return stream.Documents[0].RootNode switch
        {
            YamlMappingNode map => new YamlMap(map, file, ""),
            YamlScalarNode { Value: null or "" or "~" or "null" } => new YamlMap(new YamlMappingNode(), file, ""),
            var other => throw new ProblemFormatException(file, $"line {other.Start.Line}: the document must be a mapping of keys to values"),
        };
    }

    /// <summary>Refuses keys not in <paramref name="allowed"/> (the package format treats unknown keys as errors).</summary>
    public void CheckKeys(params string[] allowed)
    {
        foreach (var (key, _) in _node.Children)
        {
            string name = (key as YamlScalarNode)?.Value ?? "";
            if (!allowed.Contains(name))
            {
                throw Fault(key, $"unknown key '{Describe(name)}' (allowed: {string.Join(", ", allowed)})");
            }
        }
    }

    public bool Has(string key) => Get(key) is not null;

    /// <summary>True when the key holds a mapping or a list rather than text.</summary>
    public bool IsStructured(string key) => Get(key) is YamlMappingNode or YamlSequenceNode;

    public string? String(string key) => Get(key) switch
    {
        null => null,
        YamlScalarNode scalar => scalar.Value ?? "",
        var node => throw Fault(node, $"'{Qualified(key)}' must be text"),
    };

    public string RequiredString(string key) =>
        String(key) ?? throw new ProblemFormatException(_file, $"'{Qualified(key)}' is required");

    public double? Number(string key)
    {
        var node = Get(key);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Value: { } text }
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            && double.IsFinite(value))
        {
            return value;
        }

        throw Fault(node, $"'{Qualified(key)}' must be a number");
    }

    public double? PositiveNumber(string key)
    {
        double? value = Number(key);
        return value is null or > 0 ? value : throw Fault(Get(key)!, $"'{Qualified(key)}' must be greater than 0");
    }

    public int? PositiveInt(string key)
    {
        var node = Get(key);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Value: { } text }
            && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            && value > 0)
        {
            return value;
        }

        throw Fault(node, $"'{Qualified(key)}' must be a whole number greater than 0");
    }

    public bool? Bool(string key)
    {
        var node = Get(key);
        return node switch
        {
            null => null,
            YamlScalarNode { Value: "true" or "True" or "TRUE" or "yes" } => true,
            YamlScalarNode { Value: "false" or "False" or "FALSE" or "no" } => false,
            _ => throw Fault(node, $"'{Qualified(key)}' must be true or false"),
        };
    }

    public YamlMap? Map(string key) => Get(key) switch
    {
        null => null,
        YamlMappingNode map => new YamlMap(map, _file, Qualified(key)),
        YamlScalarNode { Value: null or "" or "~" or "null" } => new YamlMap(new YamlMappingNode(), _file, Qualified(key)),
        var node => throw Fault(node, $"'{Qualified(key)}' must be a mapping"),
    };

    /// <summary>A sequence of mappings (e.g. a list of tests).</summary>
    public IReadOnlyList<YamlMap> MapList(string key)
    {
        var node = Get(key);
        switch (node)
        {
            case null:
            case YamlScalarNode { Value: null or "" or "~" or "null" }:
                return [];
            case YamlSequenceNode sequence:
                var result = new List<YamlMap>();
                for (int i = 0; i < sequence.Children.Count; i++)
                {
                    string path = $"{Qualified(key)}[{i + 1}]";
                    result.Add(sequence.Children[i] is YamlMappingNode map
                        ? new YamlMap(map, _file, path)
                        : throw Fault(sequence.Children[i], $"'{path}' must be a mapping"));
                }

                return result;
            default:
                throw Fault(node, $"'{Qualified(key)}' must be a list");
        }
    }

    /// <summary>The value as a name or a mapping of language code to name (picks <c>en</c>, else the first).</summary>
    public string? LocalizedString(string key)
    {
        if (Get(key) is YamlMappingNode map)
        {
            var names = new YamlMap(map, _file, Qualified(key));
            return names.String("en") ?? map.Children.Values.OfType<YamlScalarNode>().FirstOrDefault()?.Value;
        }

        return String(key);
    }

    /// <summary>A fault at the line of <paramref name="key"/>'s value.</summary>
    public ProblemFormatException FaultAt(string key, string message) =>
        Get(key) is { } node ? Fault(node, message) : new ProblemFormatException(_file, message);

    /// <summary>Line of a key's value, 0 when absent.</summary>
    public long LineOf(string key) => Get(key)?.Start.Line ?? 0;

    private YamlNode? Get(string key) =>
        _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private string Qualified(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

    private ProblemFormatException Fault(YamlNode node, string message) =>
        new(_file, $"line {node.Start.Line}: {message}");

    private static string Describe(string key) => key.Length > 40 ? key[..40] + "..." : key;

    private static string FirstSentence(YamlException ex)
    {
        string message = ex.InnerException?.Message ?? ex.Message;
        int close = message.IndexOf("): ", StringComparison.Ordinal);
        return close >= 0 ? message[(close + 3)..] : message;
    }
}
