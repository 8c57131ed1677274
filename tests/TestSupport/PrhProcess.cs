using System.Diagnostics;
using System.Text.Json;

namespace Prh.TestSupport;

/// <summary>
/// The built <c>prh</c> run as its own process, as a user runs it. Every test project that uses this
/// references the Client project, so <c>prh.dll</c> is copied beside the tests.
/// </summary>
public static class PrhProcess
{
    /// <summary>
    /// The one bound on a run: a sweep on an embedded silo takes well under a minute, but the tests run
    /// beside each other on few cores; past this, prh is taken to hang and is killed with its children.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>prh with these arguments, its output redirected, not yet started.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args) => Program("dotnet", [Path.Combine(AppContext.BaseDirectory, "prh.dll"), .. args]);

    /// <summary>Any program with these arguments, its output redirected, not yet started.</summary>
    public static ProcessStartInfo Program(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>Runs prh to completion.</summary>
    public static ProcessResult Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>Runs prh to completion with extra environment variables.</summary>
    public static ProcessResult RunWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = StartInfo(args);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return RunToEnd(start);
    }

    /// <summary>Runs a process (prh, or a script that starts or stops prh processes) to completion.</summary>
    public static ProcessResult RunToEnd(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        // Both pipes are drained as the process writes, so neither fills up and blocks it, and the
        // wait below is what bounds the run.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish in {Timeout.TotalMinutes} minutes; stderr: {stderr.Result}");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>How a run ended: its exit code and everything it wrote.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout as one JSON document (the commands' <c>--json</c> output).</summary>
    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
}
