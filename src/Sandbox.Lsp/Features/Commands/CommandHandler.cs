using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Features.Configuration;
using Sandbox.Lsp.Features.Diagnostics;
using Sandbox.Lsp.Features.Documents;
using Sandbox.Lsp.Features.Languages;
using Sandbox.Lsp.Features.Progress;
using Sandbox.Lsp.Features.Runs;
using Sandbox.Lsp.Hosting;
using Sandbox.Lsp.Protocol;
using Sandbox.Lsp.Server;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using StreamJsonRpc;

namespace Sandbox.Lsp.Features.Commands;

/// <summary><c>workspace/executeCommand</c>: the <c>sandbox.*</c> commands.</summary>
internal sealed class CommandHandler(SessionContext session)
{
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(5);

    public async Task<object?> ExecuteAsync(ExecuteCommandParams request, CancellationToken cancellationToken)
    {
        var args = ParseArguments(request);
        try
        {
            return request.Command switch
            {
                SandboxCommands.Run => RunCommandResult.From(await RunAsync(args, request.WorkDoneToken, cancellationToken)),
                SandboxCommands.Check => CheckCommandResult.From(await CheckAsync(args, request.WorkDoneToken, cancellationToken)),
                SandboxCommands.Stop => await StopAsync(args, cancellationToken),
                SandboxCommands.ListProblems => await session.Runner.CallAsync((r, ct) => r.ProblemsAsync(ct), cancellationToken),
                SandboxCommands.ListLanguages => new LanguagesResult(await session.Runner.GetLanguagesAsync(cancellationToken)),
                SandboxCommands.Problem => await ProblemAsync(args, cancellationToken),
                _ => throw Error(LspErrorCode.InvalidParams, $"unknown command '{request.Command}'; this server offers {string.Join(", ", SandboxCommands.All)}"),
            };
        }
        catch (RunnerUnavailableException ex)
        {
            session.ShowMessage(MessageType.Error, ex.Message);
            throw Error(LspErrorCode.RunnerUnavailable, ex.Message);
        }
        catch (SandboxRpcException ex)
        {
            // The runner's own codes (1001-1010, docs/runner-host.md) are not this server's (docs/editors/README.md):
            // passed through, they reached the client as codes it was never told about.
            throw FromRunner(request.Command, ex);
        }
        catch (Exception ex) when (ex is RemoteInvocationException or UnknownLanguageException or LimitsExceededException
                                       or ProblemNotFoundException or ProblemFormatException)
        {
            session.Logger.LogWarning("{Command} refused: {Reason}", request.Command, ex.Message);
            throw Error(LspErrorCode.RunnerRefused, ex.Message);
        }
    }

    private LocalRpcException FromRunner(string command, SandboxRpcException ex)
    {
        switch (ex.Code)
        {
            case SandboxErrorCode.UnknownLanguage:
                return Error(LspErrorCode.UnknownLanguage, ex.Message);
            case SandboxErrorCode.Cancelled:
                return Error(LspErrorCode.RequestCancelled, ex.Message);
            case SandboxErrorCode.HostBusy or SandboxErrorCode.Unauthorized or SandboxErrorCode.SandboxUnavailable:
                var message = $"Sandbox: the runner cannot run code now: {ex.Message}";
                session.ShowMessage(MessageType.Error, message);
                return Error(LspErrorCode.RunnerUnavailable, message);
            default:
                session.Logger.LogWarning("{Command} refused by the runner ({Code}): {Reason}", command, ex.Code, ex.Message);
                return new LocalRpcException(ex.Message) { ErrorCode = (int)LspErrorCode.RunnerRefused, ErrorData = new RunnerRefusal((int)ex.Code) };
        }
    }

    /// <summary>
    /// Limits the runner cannot even represent (a time limit past <see cref="TimeSpan.MaxValue"/> overflowed inside the
    /// embedded runner and came back as an internal error); any such value is above every runner's maximum.
    /// </summary>
    private void RequireRepresentableLimits()
    {
        if (session.Settings.Limits?.TimeLimitSeconds is { } seconds && !(seconds < TimeSpan.MaxValue.TotalSeconds / 2))
        {
            throw Error(LspErrorCode.RunnerRefused,
                $"time limit {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s (setting sandbox.limits.timeLimitSeconds) is above the runner's maximum; give a number of seconds such as 2");
        }
    }

    private async Task<RunResult> RunAsync(SandboxCommandArguments args, JsonElement? workDoneToken, CancellationToken cancellationToken)
    {
        RequireRepresentableLimits();
        var document = await RequireDocumentAsync(args, cancellationToken);
        var language = await RequireLanguageAsync(document, args.Language, cancellationToken);
        var stdin = args.Stdin ?? await ReadDefaultStdinAsync(cancellationToken);
        var (run, replaced) = session.Runs.Start(document.Uri, cancellationToken);
        KillReplaced(replaced);
        using var _ = run;
        using var scope = session.Logger.BeginScope(new Dictionary<string, object> { ["RunId"] = run.RunId });
        try
        {
            var progress = await BeginProgressAsync(run, workDoneToken, $"Sandbox: running {document.FileName}");
            session.Logger.LogInformation("run {RunId}: {File} as {Language}", run.RunId, document.FileName, language.Id);
            var output = new CallbackProgress<OutputEvent>(
                chunk =>
                {
                    // Editors show text: a chunk of bytes without text yet (half a character) has nothing to show.
                    if (chunk.Text.Length > 0)
                    {
                        session.Client.Notify(LspMethods.SandboxOutput, new SandboxOutputParams(run.RunId, document.Uri, chunk.Stream, chunk.Text));
                    }
                },
                attempt =>
                {
                    // A queue runner lost the host running this; another host runs it from the start.
                    session.Client.Notify(LspMethods.SandboxOutput, new SandboxOutputParams(run.RunId, document.Uri, OutputStreamKind.Stderr,
                        $"\n[sandbox: the runner host went away; the run started over on {attempt.Host}]\n"));
                    progress?.Report($"started over on {attempt.Host}");
                });
            RunResult result;
            try
            {
                result = await session.Runner.CallAsync(
                    Encoding.UTF8.GetByteCount(document.Text) + (stdin is null ? 0 : Encoding.UTF8.GetByteCount(stdin)),
                    (r, ct) => r.RunAsync(new RunParams(language.Id, document.Text, stdin, session.Settings.Limits, run.RunId), output, ct),
                    run.Token);
            }
            catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
            {
                progress?.End("stopped");
                throw await StoppedAsync(run, cancellationToken);
            }

            var diagnostics = DiagnosticMatcher.Match(language, document.FileName, document.Text, result.CompileOutput, result.Stderr);
            session.PublishDiagnostics(document.Uri, session.Documents.Get(document.Uri)?.Version, diagnostics);
            progress?.End($"{Kebab(result.Verdict)} in {result.WallTimeMs} ms");
            if (session.Settings.ShowResult)
            {
                var printed = (result.Stdout + result.Stderr).Trim();
                session.ShowMessage(result.Verdict == RunVerdict.Ok ? MessageType.Info : MessageType.Warning,
                    $"Sandbox: {document.FileName}: {Kebab(result.Verdict)} (exit {result.ExitCode?.ToString() ?? "-"}, {result.WallTimeMs} ms)" +
                    (printed.Length == 0 ? "" : $": {(printed.Length > 400 ? printed[..400] + "…" : printed)}"));
            }

            // Output, diagnostics and the end of progress reach the client before the result does.
            await session.Client.FlushAsync(cancellationToken);
            session.Logger.LogInformation("run {RunId}: {Verdict}, exit {ExitCode}, {WallTimeMs} ms", run.RunId, result.Verdict, result.ExitCode, result.WallTimeMs);
            return result;
        }
        finally
        {
            session.Runs.Complete(run);
        }
    }

    private async Task<CheckResult> CheckAsync(SandboxCommandArguments args, JsonElement? workDoneToken, CancellationToken cancellationToken)
    {
        RequireRepresentableLimits();
        var document = await RequireDocumentAsync(args, cancellationToken);
        var language = await RequireLanguageAsync(document, args.Language, cancellationToken);
        var problem = args.Problem
            ?? LanguageResolver.FindProblemDeclaration(document.Text, language.LineComment)?.Problem
            ?? throw Error(LspErrorCode.NoProblem,
                $"no problem to check {document.FileName} against: pass \"problem\" or put `{language.LineComment} sandbox: problem=ID` on the first line");
        RequireLibraryProblem(problem);
        var (run, replaced) = session.Runs.Start(document.Uri, cancellationToken);
        KillReplaced(replaced);
        using var _ = run;
        using var scope = session.Logger.BeginScope(new Dictionary<string, object> { ["RunId"] = run.RunId });
        try
        {
            var progress = await BeginProgressAsync(run, workDoneToken, $"Sandbox: checking {document.FileName} against {problem}");
            session.Logger.LogInformation("check {RunId}: {File} as {Language} against {Problem}", run.RunId, document.FileName, language.Id, problem);
            var done = 0;
            var tests = new CallbackProgress<TestResult>(
                test =>
                {
                    var count = Interlocked.Increment(ref done);
                    session.Client.Notify(LspMethods.SandboxTestResult, new SandboxTestResultParams(run.RunId, document.Uri, test.Name, test.Verdict, test.TimeMs));
                    progress?.Report($"{count} done, {test.Name}: {Kebab(test.Verdict)}");
                },
                attempt =>
                {
                    Interlocked.Exchange(ref done, 0);
                    progress?.Report($"started over on {attempt.Host}");
                });
            CheckResult result;
            try
            {
                result = await session.Runner.CallAsync(
                    Encoding.UTF8.GetByteCount(document.Text),
                    (r, ct) => r.CheckAsync(new CheckParams(language.Id, document.Text, problem, Limits: session.Settings.Limits, RunId: run.RunId), tests, ct),
                    run.Token);
            }
            catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
            {
                progress?.End("stopped");
                throw await StoppedAsync(run, cancellationToken);
            }

            var diagnostics = DiagnosticMatcher.Match(language, document.FileName, document.Text, result.CompileOutput, runtimeStderr: null);
            session.PublishDiagnostics(document.Uri, session.Documents.Get(document.Uri)?.Version, diagnostics);
            progress?.End($"{Kebab(result.Verdict)}: {result.Passed}/{result.Total} passed");
            if (session.Settings.ShowResult)
            {
                session.ShowMessage(result.Verdict == TestVerdict.Accepted ? MessageType.Info : MessageType.Warning,
                    $"Sandbox: {document.FileName} against {problem}: {Kebab(result.Verdict)}, {result.Passed}/{result.Total} tests passed");
            }
            await session.Client.FlushAsync(cancellationToken);
            session.Logger.LogInformation("check {RunId}: {Verdict}, {Passed}/{Total}", run.RunId, result.Verdict, result.Passed, result.Total);
            return result;
        }
        finally
        {
            session.Runs.Complete(run);
        }
    }

    private async Task<CancelResult> StopAsync(SandboxCommandArguments args, CancellationToken cancellationToken)
    {
        var uri = args.Uri ?? session.Documents.LastTouchedUri
            ?? throw Error(LspErrorCode.InvalidParams, "sandbox.stop needs { \"uri\" } of the document whose run to stop");
        if (session.Runs.Find(uri) is not { } run)
        {
            return new CancelResult(false);
        }

        run.Stop(RunStopReason.Stopped);
        await KillOnRunnerAsync(run.RunId, cancellationToken);
        return new CancelResult(true);
    }

    /// <summary>Stops a run from <c>window/workDoneProgress/cancel</c>.</summary>
    public async Task StopByProgressTokenAsync(string token, CancellationToken cancellationToken)
    {
        if (session.Runs.FindByProgressToken(token) is { } run)
        {
            run.Stop(RunStopReason.Stopped);
            await KillOnRunnerAsync(run.RunId, cancellationToken);
        }
    }

    private async Task<ProblemInfo> ProblemAsync(SandboxCommandArguments args, CancellationToken cancellationToken)
    {
        var problem = args.Problem;
        var uri = args.Uri ?? session.Documents.LastTouchedUri;
        if (problem is null && uri is not null && await ReadDocumentAsync(uri, cancellationToken) is { } document)
        {
            var language = await RequireLanguageAsync(document, args.Language, cancellationToken);
            problem = LanguageResolver.FindProblemDeclaration(document.Text, language.LineComment)?.Problem;
        }

        if (problem is null)
        {
            throw Error(LspErrorCode.NoProblem, "sandbox.problem needs { \"problem\": ID }, or { \"uri\" } of a file that declares `sandbox: problem=ID` on its first line");
        }

        RequireLibraryProblem(problem);

        return await session.Runner.CallAsync((r, ct) => r.ProblemAsync(new ProblemParams(problem), ct), cancellationToken);
    }

    private async Task<WorkDoneProgress?> BeginProgressAsync(ActiveRun run, JsonElement? workDoneToken, string title)
    {
        var progress = await WorkDoneProgress.BeginAsync(
            session.Client, workDoneToken, session.ClientCreatesProgressTokens, title, session.Options.ProgressCreateTimeout, session.Logger, run.Token);
        run.ProgressToken = progress?.TokenText;
        return progress;
    }

    /// <summary>The error the stopped request answers with, after making sure the program is dead inside the container.</summary>
    private async Task<Exception> StoppedAsync(ActiveRun run, CancellationToken requestToken)
    {
        // The token already travelled to the runner; CancelAsync also kills it when an ISandboxRpc does not forward tokens.
        await KillOnRunnerAsync(run.RunId, CancellationToken.None);
        if (requestToken.IsCancellationRequested)
        {
            // $/cancelRequest: StreamJsonRpc answers -32800 RequestCancelled.
            return new OperationCanceledException(requestToken);
        }

        var why = run.StopReason == RunStopReason.Replaced ? "replaced by a newer run of this document" : "stopped";
        return Error(LspErrorCode.RequestCancelled, $"run {run.RunId} {why}");
    }

    private void KillReplaced(ActiveRun? replaced)
    {
        if (replaced is not null)
        {
            session.Logger.LogInformation("run {RunId} replaced by a newer run of {Uri}", replaced.RunId, replaced.Uri);
            _ = KillOnRunnerAsync(replaced.RunId, CancellationToken.None);
        }
    }

    private async Task KillOnRunnerAsync(string runId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(KillTimeout);
        try
        {
            var result = await session.Runner.CallAsync((r, ct) => r.CancelAsync(new CancelParams(runId), ct), timeout.Token);
            session.Logger.LogDebug("cancel {RunId}: {Cancelled}", runId, result.Cancelled);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RemoteInvocationException || RunnerConnection.IsConnectionFailure(ex))
        {
            session.Logger.LogWarning("could not cancel run {RunId} on the runner: {Reason}", runId, ex.Message);
        }
    }

    private async Task<OpenDocument> RequireDocumentAsync(SandboxCommandArguments args, CancellationToken cancellationToken)
    {
        var uri = args.Uri ?? session.Documents.LastTouchedUri
            ?? throw Error(LspErrorCode.InvalidParams, "the command needs one argument object with \"uri\" of an open document");
        return await ReadDocumentAsync(uri, cancellationToken)
               ?? throw Error(LspErrorCode.UnknownDocument, $"{uri} is not open in this session (send textDocument/didOpen first)");
    }

    private async Task<OpenDocument?> ReadDocumentAsync(string uri, CancellationToken cancellationToken)
    {
        try
        {
            return await session.Documents.GetOrReadAsync(uri, session.FileAccess, cancellationToken);
        }
        catch (ServerFileException ex)
        {
            throw Error(LspErrorCode.InvalidParams, ex.Message);
        }
    }

    /// <summary>
    /// Over WebSocket a problem must be a library id: the embedded runner also loads problems by path, which would let
    /// a web client make this server (root, for LXC) read any folder or file of its machine.
    /// </summary>
    private void RequireLibraryProblem(string problem)
    {
        if (session.FileAccess != ServerFileAccess.Allowed && !IsLibraryId(problem))
        {
            throw Error(LspErrorCode.InvalidParams,
                $"problem '{problem}' is not a library id (lower-case letters, digits, - and _); over WebSocket problems are named by id, not by path (see sandbox.listProblems)");
        }
    }

    /// <summary>The runner's rule for problem ids (Sandbox.Runner's ProblemIds.IsValid, internal there): never a path.</summary>
    internal static bool IsLibraryId(string problem) =>
        problem.Length is > 0 and <= 64 && problem.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    private async Task<LanguageInfo> RequireLanguageAsync(OpenDocument document, string? explicitLanguage, CancellationToken cancellationToken)
    {
        var languages = await session.Runner.GetLanguagesAsync(cancellationToken);
        return LanguageResolver.Resolve(languages, document, explicitLanguage)
               ?? throw Error(LspErrorCode.UnknownLanguage, explicitLanguage is not null
                   ? $"this runner has no language '{explicitLanguage}'; it offers {string.Join(", ", languages.Select(l => l.Id))}"
                   : $"cannot tell the language of {document.FileName} (languageId '{document.LanguageId}'): pass \"language\", one of {string.Join(", ", languages.Select(l => l.Id))}");
    }

    private async Task<string?> ReadDefaultStdinAsync(CancellationToken cancellationToken)
    {
        if (session.Settings.StdinFile is not { } file)
        {
            return null;
        }

        if (session.FileAccess != ServerFileAccess.Allowed)
        {
            // The file would be read on the server's machine, not the client's: a web page could read the server's secrets.
            throw Error(LspErrorCode.InvalidParams,
                "the sandbox.stdinFile setting is not available over WebSocket (this server does not read its own files for web clients); send \"stdin\" with the command");
        }

        var path = Path.IsPathRooted(file) || session.WorkspaceRoot is null ? file : Path.Combine(session.WorkspaceRoot, file);
        if (!File.Exists(path))
        {
            throw Error(LspErrorCode.InvalidParams, Directory.Exists(path)
                ? $"the stdin file {path} (setting sandbox.stdinFile) is a folder; give a file"
                : $"the stdin file {path} (setting sandbox.stdinFile) does not exist");
        }

        try
        {
            return await ServerFiles.ReadTextAsync(path, "the stdin file (setting sandbox.stdinFile)", ServerFiles.MaxStdinBytes, cancellationToken);
        }
        catch (ServerFileException ex)
        {
            throw Error(LspErrorCode.InvalidParams, ex.Message);
        }
    }

    private static SandboxCommandArguments ParseArguments(ExecuteCommandParams request)
    {
        if (request.Arguments is not { Count: > 0 } arguments || arguments[0].ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return new SandboxCommandArguments();
        }

        if (arguments[0].ValueKind != JsonValueKind.Object)
        {
            throw Error(LspErrorCode.InvalidParams, "arguments must be one object { \"uri\", \"language\"?, \"stdin\"?, \"problem\"? }");
        }

        try
        {
            return arguments[0].Deserialize<SandboxCommandArguments>(LspJson.StrictOptions) ?? new SandboxCommandArguments();
        }
        catch (JsonException ex)
        {
            throw Error(LspErrorCode.InvalidParams, $"arguments must be one object {{ \"uri\", \"language\"?, \"stdin\"?, \"problem\"? }} of strings: {ex.Message}");
        }
    }

    private static string Kebab<T>(T value) where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    internal static LocalRpcException Error(LspErrorCode code, string message) => new(message) { ErrorCode = (int)code };
}

/// <summary>The <c>data</c> of a RunnerRefused error: the runner's own error code (docs/runner-host.md), for clients that tell refusals apart.</summary>
/// <param name="RunnerCode">The runner's code, e.g. 1002 for an unknown problem.</param>
internal sealed record RunnerRefusal(int RunnerCode);
