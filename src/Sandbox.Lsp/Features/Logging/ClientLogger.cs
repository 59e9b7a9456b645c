using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Protocol;
using Sandbox.Lsp.Server;

namespace Sandbox.Lsp.Features.Logging;

/// <summary>
/// Logs to the host's logger (stderr in stdio mode) and, from <see cref="ClientLevel"/> up, to the client as
/// <c>window/logMessage</c>. The level comes from <c>initializationOptions.trace</c> or the <c>sandbox.trace</c> setting.
/// </summary>
internal sealed class ClientLogger(ILogger inner, LanguageClient client, LogLevel clientLevel) : ILogger
{
    /// <summary>Lowest level sent to the client; <see cref="LogLevel.None"/> sends nothing.</summary>
    public LogLevel ClientLevel { get; set; } = clientLevel;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && (inner.IsEnabled(logLevel) || logLevel >= ClientLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        inner.Log(logLevel, eventId, state, exception, formatter);
        if (logLevel == LogLevel.None || logLevel < ClientLevel || ClientLevel == LogLevel.None)
        {
            return;
        }

        var message = formatter(state, exception);
        if (exception is not null)
        {
            message += ": " + exception.Message;
        }

        client.Notify(LspMethods.LogMessage, new MessageParams(ToMessageType(logLevel), message));
    }

    /// <summary>Parses a trace/log level name as clients send it; null when not recognised.</summary>
    public static LogLevel? ParseLevel(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "off" or "none" => LogLevel.None,
        "error" or "critical" => LogLevel.Error,
        "warn" or "warning" => LogLevel.Warning,
        "info" or "information" or "messages" => LogLevel.Information,
        "debug" or "verbose" => LogLevel.Debug,
        "trace" => LogLevel.Trace,
        _ => null,
    };

    private static MessageType ToMessageType(LogLevel level) => level switch
    {
        LogLevel.Critical or LogLevel.Error => MessageType.Error,
        LogLevel.Warning => MessageType.Warning,
        LogLevel.Information => MessageType.Info,
        _ => MessageType.Log,
    };
}
