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
    foreach (var error in parse.Errors)
    {
        CliOptions.Error(error.Message);
    }

    Console.Error.WriteLine("Try `sandbox --help`.");
    return CliOptions.UsageExit;
}

// A runner host handles SIGTERM itself (the generic host's lifetime): it drains, finishing its running jobs, which can take
// longer than System.CommandLine's termination timeout would wait before ending the process.
var invocation = parse.CommandResult.Command.Name == "host" ? new InvocationConfiguration { ProcessTerminationTimeout = null } : null;
return await parse.InvokeAsync(invocation);
