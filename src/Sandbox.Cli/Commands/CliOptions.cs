using System.CommandLine;
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

    /// <summary>Writes one line to stderr, prefixed like every message of this tool.</summary>
    public static void Error(string message) => Console.Error.WriteLine($"sandbox: {message}");
}
