namespace Slacker.Native.Processes;

public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws <see cref="ProcessFailedException"/> naming the command, its exit code and the end of its stderr.</summary>
    public ProcessResult EnsureSuccess(string whatFailed)
    {
        if (ExitCode != 0)
        {
            throw new ProcessFailedException(whatFailed, this);
        }

        return this;
    }
}

public sealed class ProcessFailedException : Exception
{
    public ProcessFailedException(string whatFailed, ProcessResult result)
        : base($"{whatFailed}: `{result.CommandLine}` exited with {result.ExitCode}.{Tail("stderr", result.StandardError)}{Tail("stdout", result.StandardOutput)}")
    {
        Result = result;
    }

    public ProcessResult Result { get; }

    public static string Tail(string label, string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        var lines = text.TrimEnd().Split('\n');
        return $"\n--- last {Math.Min(lines.Length, 15)} lines of {label} ---\n" + string.Join('\n', lines.TakeLast(15));
    }
}
