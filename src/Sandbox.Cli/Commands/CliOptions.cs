using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace Sandbox.Cli.Commands;

/// <summary>Options shared by several commands, and the exit codes of the command-line contract (ARCHITECTURE.md).</summary>
internal static class CliOptions
{
    /// <summary>Usage error: bad arguments, unknown language or problem, limits above the maximum.</summary>
    public const int UsageExit = 2;

    /// <summary>Internal error: the sandbox or the runner failed (never the program's fault).</summary>
    public const int InternalExit = 70;

    /// <summary>How a mistyped option given where the file goes is reported.</summary>
    public const string UnknownOptionMessage = "unknown option";

    /// <summary>
    /// The source file argument. A token that looks like an option is refused here: otherwise System.CommandLine
    /// binds a mistyped option (<c>run --tme 1 a.py</c>) as the file and then blames the real file name.
    /// </summary>
    public static Argument<FileInfo> SourceFile(string description)
    {
        var file = new Argument<FileInfo>("file") { Description = description };
        file.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-')
                {
                    result.AddError($"{UnknownOptionMessage} '{token.Value}' (a file whose name starts with '-' can be given as ./{token.Value})");
                }
            }
        });
        return file;
    }

    /// <summary>
    /// A positive number of seconds; a bad value is a usage error naming the option. A number too large for a double
    /// ("1e400") is above any maximum, not malformed: <paramref name="tooLarge"/> makes that error from the text.
    /// </summary>
    public static Option<double?> Seconds(string name, string description, Func<string, string> tooLarge) => new(name)
    {
        Description = description,
        CustomParser = result => ParsePositive<double>(result, name, "seconds", tooLarge, s =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !double.IsNaN(v) ? (v, double.IsPositiveInfinity(v)) : null),
    };

    /// <summary>
    /// A positive whole number of megabytes; a bad value is a usage error naming the option. A whole number beyond
    /// <see cref="int.MaxValue"/> is above any maximum, not malformed: <paramref name="tooLarge"/> makes that error from the text.
    /// </summary>
    public static Option<int?> Megabytes(string name, string description, Func<string, string> tooLarge) => new(name)
    {
        Description = description,
        CustomParser = result => ParsePositive<int>(result, name, "megabytes", tooLarge, s =>
            BigInteger.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? ((int)BigInteger.Clamp(v, int.MinValue, int.MaxValue), v > int.MaxValue) : null),
    };

    /// <summary>
    /// Parses the option's last token. <paramref name="parse"/> gives the value (clamped when out of range) and whether it
    /// was too large; <paramref name="tooLarge"/> makes the error then, from the text as typed.
    /// </summary>
    private static T? ParsePositive<T>(ArgumentResult result, string name, string unit, Func<string, string> tooLarge, Func<string, (T Value, bool TooLarge)?> parse)
        where T : struct, INumber<T>
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
        if (parse(text) is { } parsed && parsed.Value > T.Zero)
        {
            if (!parsed.TooLarge)
            {
                return parsed.Value;
            }

            result.AddError(tooLarge(text));
            return null;
        }

        result.AddError($"{name} '{text}' must be a positive number of {unit}");
        return null;
    }

    public static Option<string?> Runner() => new("--runner")
    {
        Description = "Runner host URL (ws://HOST:7070/rpc) or shared queue (nats://HOST:4222); default: the embedded runner on this machine",
    };

    public static Option<FileInfo?> TokenFile() => new("--token-file")
    {
        Description = "File holding the runner host's bearer token (with nats://: the NATS token, or the password of $SANDBOX_QUEUE_USER)",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON object and nothing else on stdout",
    };

    public static Option<bool> Verbose() => new("--verbose", "-v")
    {
        Description = "Log what the sandbox does (to stderr)",
    };

    public static LogLevel LogLevelFor(bool verbose) => verbose ? LogLevel.Debug : LogLevel.Warning;

    /// <summary>camelCase, kebab-case enums, nulls written: the shapes of ARCHITECTURE.md.</summary>
    public static readonly JsonSerializerOptions JsonOutput = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    /// <summary>
    /// <paramref name="text"/> safe to print to a terminal: control characters (C0, DEL, C1; with <paramref name="keepLines"/>
    /// not line feeds and tabs) become '?', as <c>ls</c> shows them. Names from problem files could otherwise carry escape
    /// sequences that restyle or rewrite the terminal.
    /// </summary>
    public static string Printable(string text, bool keepLines = false)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        return string.Create(text.Length, (text, keepLines), static (chars, state) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                var c = state.text[i];
                chars[i] = char.IsControl(c) && !(state.keepLines && c is '\n' or '\t') ? '?' : c;
            }
        });
    }

    /// <summary>Writes one line to stderr, prefixed like every message of this tool.</summary>
    public static void Error(string message) => Console.Error.WriteLine($"sandbox: {message}");
}
