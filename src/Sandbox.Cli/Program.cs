using System.CommandLine;
using Sandbox.Cli.Commands;
using Sandbox.Cli.Composition;

var root = new RootCommand("Sandbox: run untrusted code in a locked-down LXC container and bring the result into your editor")
{
    RunCommand.Create(),
    LanguagesCommand.Create(),
    CheckCommand.Create(),
    ProblemsCommand.Create(),
    LspCommand.Create(LspRunnerFactory.CreateAsync),
    HostCommand.Create(),
    ServeCommand.Create(LspRunnerFactory.CreateAsync),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // One line per mistake, the help hint on the last. A mistyped option taken for the file argument also makes the
    // real file "unrecognized", and "no command given" comes with "unknown command 'x'": name only the cause.
    var messages = parse.Errors.Select(e => e.Message.TrimEnd('.')).ToList();
    if (messages.Any(m => m.StartsWith(CliOptions.UnknownOptionMessage, StringComparison.Ordinal)))
    {
        messages.RemoveAll(m => !m.StartsWith(CliOptions.UnknownOptionMessage, StringComparison.Ordinal));
    }

    if (messages.Count > 1 && parse.CommandResult.Command == root)
    {
        messages.RemoveAll(m => m.StartsWith("Required command", StringComparison.Ordinal));
    }

    var help = parse.CommandResult.Command == root ? "sandbox --help" : $"sandbox {parse.CommandResult.Command.Name} --help";
    for (var i = 0; i < messages.Count; i++)
    {
        CliOptions.Error(i == messages.Count - 1 ? $"{messages[i]} (see `{help}`)" : messages[i]);
    }

    return CliOptions.UsageExit;
}

try
{
    // No default handler: it prints a stack trace and exits 1, where the contract wants one line and 70.
    var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
    if (parse.CommandResult.Command.Name == "host")
    {
        // A runner host handles SIGTERM itself (the generic host's lifetime): it drains, finishing its running jobs,
        // which can take longer than System.CommandLine's termination timeout would wait before ending the process.
        invocation.ProcessTerminationTimeout = null;
    }

    return await parse.InvokeAsync(invocation);
}
catch (Exception e) when (e is not OperationCanceledException)
{
    CliOptions.Error($"internal error: {e.Message}");
    return CliOptions.InternalExit;
}
finally
{
    // lsp and serve share one embedded engine across sessions; it is not owned by any session, so stop it here.
    await LspRunnerFactory.DisposeEmbeddedAsync();
}
