namespace Sandbox.Runner.Execution;

/// <summary>The outcome of one run, as reported by <c>sandbox run --json</c> (kebab-case on the wire).</summary>
public enum RunVerdict
{
    /// <summary>The program exited with status 0.</summary>
    Ok,
    /// <summary>Non-zero exit status or killed by a signal the sandbox did not send.</summary>
    RuntimeError,
    /// <summary>The compile step failed; the program never ran.</summary>
    CompileError,
    /// <summary>CPU or wall time limit exceeded.</summary>
    TimeLimit,
    /// <summary>Memory limit (including swap) exceeded.</summary>
    MemoryLimit,
    /// <summary>stdout + stderr exceeded the output cap.</summary>
    OutputLimit,
    /// <summary>The program made a forbidden system call.</summary>
    SecurityViolation,
    /// <summary>The sandbox itself failed; never the program's fault.</summary>
    InternalError,
}
