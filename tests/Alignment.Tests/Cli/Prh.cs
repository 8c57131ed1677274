using System.Diagnostics;
using System.Text.Json;

namespace Prh.Alignment.Tests.Cli;

/// <summary>Runs the built <c>prh</c> executable (Client, referenced by this project) as its own process.</summary>
public static class Prh
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
    }

    public static Result Run(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "prh.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"prh {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return new Result(process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>The command-line flags that carry a manifest entry's keyword arguments.</summary>
    public static IEnumerable<string> Flags(JsonElement kwargs)
    {
        foreach (var p in kwargs.EnumerateObject())
        {
            string value = p.Value.ToString();
            switch (p.Name)
            {
                case "topk": yield return "--topk"; yield return value; break;
                case "kernel_metric": yield return "--kernel"; yield return value; break;
                case "rbf_sigma": yield return "--sigma"; yield return value; break;
                case "cca_dim": yield return "--cca-dim"; yield return value; break;
                default: throw new ArgumentException($"no flag for {p.Name}");
            }
        }
    }
}
