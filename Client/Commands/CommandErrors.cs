using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Contracts;

namespace Prh.Client.Commands;

/// <summary>Runs a command body; a refused request prints one line on stderr and exits 1.</summary>
internal static class CommandErrors
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"prh: error: {message}");
            return 1;
        }
    }

    /// <summary>The async form, for commands that talk to a cluster.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"prh: error: {message}");
            return 1;
        }
    }

    /// <summary>The kind (the reference's exception class where it has one) and message of an expected failure.</summary>
    public static (string Kind, string Message)? Classify(Exception e) => e switch
    {
        AlignmentException a => (a.Kind.ToString(), a.Message),
        TensorFileException f => (ErrorKind.FileError.ToString(), f.Message),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException =>
            (ErrorKind.FileError.ToString(), e.Message),
        Sweeps.SweepSpecException => ("SpecError", e.Message),
        Prh.Extraction.ExtractionException => ("ExtractionError", e.Message),
        // What the cluster, or this console, refuses: a bad sweep definition or option, an unfinished or failed sweep.
        RefusalException => ("SweepError", e.Message),
        // The cluster itself failed the request: no gateway answered, a call timed out.
        OrleansException or TimeoutException => ("ClusterError", e.Message),
        _ => null,
    };

    private static string? Describe(Exception e) => Classify(e) is { } c ? $"{c.Kind}: {c.Message}" : null;
}
